//! Test support shared by Trickle's test crates and its benchmark: a PostgreSQL database
//! of its own for each test, created empty and dropped when the test is done with it.
//!
//! The server comes from `TRICKLE_TEST_POSTGRES_URL` (default [`DEFAULT_ADMIN_URL`]).
//! When it cannot be reached, [`PostgresDatabase::create`] panics: a test that needs
//! PostgreSQL fails, it is never skipped.

use sqlx::Connection;
use std::time::Duration;
use tokio::sync::Mutex;

/// Where test databases are created when `TRICKLE_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The database that test databases are created from (and dropped through):
/// `TRICKLE_TEST_POSTGRES_URL`, or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var("TRICKLE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into())
}

/// `CREATE DATABASE` copies template1 and fails while another copy is running: one at a
/// time in this process (other processes are waited out by retrying).
static CREATE_DATABASE: Mutex<()> = Mutex::const_new(());

/// An empty PostgreSQL database named `trickle_test_<uuid>` on the server of
/// [`admin_url`]. Dropping this value drops the database, `WITH (FORCE)`: connections
/// still open to it (a pool, a server under test) do not keep it alive.
#[derive(Debug)]
pub struct PostgresDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PostgresDatabase {
    /// Creates a fresh database. Panics when PostgreSQL is not reachable.
    pub async fn create() -> PostgresDatabase {
        let admin_url = admin_url();
        let name = format!("trickle_test_{}", uuid::Uuid::new_v4().simple());
        {
            let _one_at_a_time = CREATE_DATABASE.lock().await;
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is required for these tests: {e}")
                });
            let create = format!("CREATE DATABASE {name}");
            let mut busy = 0;
            loop {
                match sqlx::query(sqlx::AssertSqlSafe(&*create))
                    .execute(&mut admin)
                    .await
                {
                    Ok(_) => break,
                    // Another process is copying template1 right now.
                    Err(e) if is_object_in_use(&e) && busy < 100 => {
                        busy += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("creating test database {name}: {e}"),
                }
            }
            admin.close().await.ok();
        }
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("TRICKLE_TEST_POSTGRES_URL {admin_url:?}: {e}"));
        url.set_path(&name);
        PostgresDatabase {
            name,
            url: url.to_string(),
            admin_url,
        }
    }

    /// The connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name, `trickle_test_<uuid>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This database's URL through the transaction-pooling pgbouncer in front of the
    /// same server, at `TRICKLE_TEST_PGBOUNCER_URL` (which `cargo xtask test` starts and
    /// sets). Panics when it is not set: a test that needs the pooler fails, it is
    /// never skipped.
    pub fn pooled_url(&self) -> String {
        let pooler = std::env::var("TRICKLE_TEST_PGBOUNCER_URL").unwrap_or_else(|_| {
            panic!(
                "TRICKLE_TEST_PGBOUNCER_URL (a pgbouncer >= 1.21 in transaction pooling mode \
                 in front of {}) is required for this test; `cargo xtask test` starts one",
                self.admin_url
            )
        });
        let mut url = url::Url::parse(&pooler)
            .unwrap_or_else(|e| panic!("TRICKLE_TEST_PGBOUNCER_URL {pooler:?}: {e}"));
        url.set_path(&self.name);
        url.to_string()
    }
}

impl Drop for PostgresDatabase {
    /// Drops the database on a thread and runtime of its own, so that this works both
    /// inside a Tokio runtime (even a single-threaded one) and outside any. A failure
    /// panics, unless the thread is already panicking (then it is printed).
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
                admin.close().await.ok();
                Ok(())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the thread dropping it panicked".into()));
        if let Err(error) = dropped {
            let message = format!("dropping test database {}: {error}", self.name);
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}

/// SQLSTATE 55006, e.g. "source database "template1" is being accessed by other users".
fn is_object_in_use(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "55006")
}
