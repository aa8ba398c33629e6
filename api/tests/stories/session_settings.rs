//! PostgreSQL only, the settings the store gives its sessions: a statement past the
//! store's statement timeout is cancelled (a request that timed out does not leave its
//! statement running on), migrations are not limited, and a limit the operator set (in
//! the URL, on the database) wins; JIT compilation is off unless the operator turned it
//! on. SQLite has no such settings.

use std::time::{Duration, Instant};

use trickle::store::{PostgresStore, STATEMENT_TIMEOUT, Store};
use trickle_testkit::PostgresDatabase;

async fn statement_timeout(store: &PostgresStore) -> String {
    show(store, "statement_timeout").await
}

async fn show(store: &PostgresStore, setting: &str) -> String {
    sqlx::query_scalar("SELECT current_setting($1)")
        .bind(setting)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// `url` with `-c setting=value` added to its `options`.
fn with_option(url: &str, setting: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20{setting}%3D{value}")
}

#[tokio::test]
async fn jit_is_off_unless_the_operator_turned_it_on() {
    let database = PostgresDatabase::create().await;
    let store = PostgresStore::connect(database.url()).await.unwrap();
    let (jit, source): (String, String) =
        sqlx::query_as("SELECT setting, source FROM pg_settings WHERE name = 'jit'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((jit.as_str(), source.as_str()), ("off", "session"));
    assert_eq!(
        statement_timeout(&store).await,
        format!("{}min", STATEMENT_TIMEOUT.as_secs() / 60),
        "set beside it"
    );

    let url = with_option(database.url(), "jit", "on");
    let store = PostgresStore::connect(&url).await.unwrap();
    assert_eq!(show(&store, "jit").await, "on", "the URL's choice wins");
}

#[tokio::test]
async fn postgres_cancels_statements_past_the_timeout_but_not_migrations() {
    let database = PostgresDatabase::create().await;
    // So short that creating the schema would not fit in it: migrations run without it.
    let hurried =
        PostgresStore::connect_with_statement_timeout(database.url(), Duration::from_millis(1))
            .await
            .unwrap();
    hurried
        .migrate()
        .await
        .expect("migrations run without a statement timeout");
    assert_eq!(
        statement_timeout(&hurried).await,
        "1ms",
        "the pool keeps its limit"
    );

    let store =
        PostgresStore::connect_with_statement_timeout(database.url(), Duration::from_millis(300))
            .await
            .unwrap();
    let started = Instant::now();
    let slow = sqlx::query("SELECT pg_sleep(5)")
        .execute(store.pool())
        .await;
    let error = slow.expect_err("cancelled");
    let code = error.as_database_error().and_then(|e| e.code());
    assert_eq!(code.as_deref(), Some("57014"), "query_canceled: {error}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    store
        .ping()
        .await
        .expect("the connection serves the next statement");

    let default = PostgresStore::connect(database.url()).await.unwrap();
    assert_eq!(
        statement_timeout(&default).await,
        format!("{}min", STATEMENT_TIMEOUT.as_secs() / 60)
    );
}

#[tokio::test]
async fn a_statement_timeout_in_the_url_wins() {
    let database = PostgresDatabase::create().await;
    let url = with_option(database.url(), "statement_timeout", "7s");
    let store = PostgresStore::connect_with_statement_timeout(&url, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(statement_timeout(&store).await, "7s");
}

#[tokio::test]
async fn a_statement_timeout_set_on_the_database_wins_and_zero_is_none() {
    let database = PostgresDatabase::create().await;
    let name = database
        .url()
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let store = PostgresStore::connect_with_statement_timeout(database.url(), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(statement_timeout(&store).await, "0", "zero: no limit");
    let alter = format!("ALTER DATABASE {name} SET statement_timeout = '9s'");
    sqlx::query(sqlx::AssertSqlSafe(alter))
        .execute(store.pool())
        .await
        .unwrap();
    let store = PostgresStore::connect(database.url()).await.unwrap();
    assert_eq!(statement_timeout(&store).await, "9s");
    // Migrations run without it all the same.
    store.migrate().await.unwrap();
}
