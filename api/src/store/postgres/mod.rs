//! PostgreSQL, for many API replicas behind a load balancer: what is its own.
//! `FOR UPDATE SKIP LOCKED` lets workers on every replica claim jobs side by side;
//! `LISTEN/NOTIFY` tells other replicas to drop cached question sets and settings.
//! User ids sort with `COLLATE "C"` (byte order, as on SQLite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Pool, Postgres as PgDb};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

use super::dialect::{Flavour, INVALIDATION_CHANNEL};
use widget_reads::WidgetReader;
use widget_writes::WidgetWriter;

mod prompt_events;
mod widget_reads;
mod widget_writes;
use super::{Dialect, SqlStore, StoreError};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<Postgres>;

/// How long one statement may run before PostgreSQL cancels it, unless the operator
/// chose a limit (in the URL's `options`, `PGOPTIONS`, `ALTER ROLE`/`DATABASE … SET`, or
/// `postgresql.conf`). A request that times out (30 s, `http::router`) drops its future,
/// but PostgreSQL runs its statement on to the end, holding a connection that the pool's
/// next user waits for; this bounds that. Background work runs in bounded batches, and
/// migrations run without a limit. Through a transaction pooler
/// ([`PostgresStore::connect_through_pooler`]) the role's or database's limit applies
/// instead.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL, with [`STATEMENT_TIMEOUT`]
    /// and without JIT compilation (`jit = off`), unless the operator set either.
    ///
    /// PostgreSQL compiles a statement whose estimated cost passes `jit_above_cost`; the
    /// results pages' counts over a million rows pass it, and compiling took up to 55 ms a
    /// statement there, more than it saved (`docs/performance.md`, "JIT off, a key's text
    /// in one step, and two full runs").
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_statement_timeout(url, STATEMENT_TIMEOUT).await
    }

    /// Connects with another limit on a statement's time than [`STATEMENT_TIMEOUT`]
    /// (zero: none), JIT off as in [`connect`](Self::connect).
    pub async fn connect_with_statement_timeout(
        url: &str,
        statement_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let millis = statement_timeout
            .as_millis()
            .min(i32::MAX as u128)
            .to_string();
        let pool = pool_options()
            .after_connect(move |connection, _| {
                let millis = millis.clone();
                Box::pin(async move {
                    // Only where nothing set them: an operator's choice wins.
                    sqlx::query(
                        "SELECT set_config(name, CASE name WHEN 'statement_timeout' THEN $1 \
                         ELSE 'off' END, false) FROM pg_settings \
                         WHERE name IN ('statement_timeout', 'jit') AND source = 'default'",
                    )
                    .bind(millis)
                    .execute(connection)
                    .await
                    .map(drop)
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self::over(pool))
    }

    /// Connects through a transaction-pooling proxy (pgbouncer ≥ 1.21 with
    /// `max_prepared_statements` set, which keeps sqlx's prepared statements) at `url`,
    /// and to the database itself at `direct_url` for what a pooled connection cannot
    /// hold: migrations' session lock and `LISTEN` for other replicas' invalidations.
    ///
    /// The statement timeout and JIT are then the role's or database's (`ALTER ROLE … SET
    /// statement_timeout = '60s'`, `… SET jit = off`): a session setting made through the
    /// pooler would stay on a server connection that other clients share.
    pub async fn connect_through_pooler(url: &str, direct_url: &str) -> Result<Self, StoreError> {
        let pool = pool_options()
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        let (timeout,): (String,) = sqlx::query_as("SHOW statement_timeout")
            .fetch_one(&pool)
            .await?;
        if timeout == "0" {
            tracing::warn!(
                "no statement_timeout through the pooler: a request that times out leaves \
                 its statement running; set one with ALTER ROLE … SET statement_timeout"
            );
        }
        // The listener's connection (migrations open one of their own from its
        // options); lazy, so a command that neither migrates nor listens opens none.
        let sessions = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(PgConnectOptions::from_str(direct_url)?);
        Ok(Self::over(pool).with_sessions(sessions))
    }

    /// The store over `pool`, with the widget's writer and reader on it.
    fn over(pool: Pool<PgDb>) -> Self {
        SqlStore::new(pool.clone())
            .writing_apart(Arc::new(WidgetWriter::new(pool.clone())))
            .reading_apart(Arc::new(WidgetReader::new(pool)))
    }
}

/// The pool's size and patience, with or without a pooler in front.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
}

#[async_trait]
impl Dialect for Postgres {
    type Db = PgDb;
    type Timestamp = DateTime<Utc>;

    fn timestamp(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    const LEAST: &'static str = "LEAST";
    const GREATEST: &'static str = "GREATEST";
    const USER_ID_IN_BYTE_ORDER: &'static str = "user_id COLLATE \"C\"";
    const FLAVOUR: Flavour = Flavour::Postgres;
    const CLAIM_LOCK: &'static str = "FOR UPDATE OF jobs SKIP LOCKED";
    const ROW_LOCK: &'static str = "FOR UPDATE";
    // Measured (docs/performance.md, "Two login writers on PostgreSQL"): two side by
    // side against four, in adjacent pairs: the same rate, a shorter tail.
    const WRITERS: usize = 2;
    // Measured (docs/performance.md, "Answers in a lane of their own"): answers with one
    // writer of their own against sharing four.
    const APART_WRITERS: Option<usize> = Some(1);
    // Delivered to listeners only if the transaction commits.
    const NOTIFY_INVALIDATION: Option<&'static str> = Some("SELECT pg_notify($1, $2)");

    async fn migrate(pool: &Pool<PgDb>) -> Result<(), StoreError> {
        // A migration may rewrite a large table (a backfill): its own connection, the
        // pool's options (without its `after_connect`) and no statement timeout, whatever
        // the role or database sets (the last `-c` of a name wins over those too).
        let options = (*pool.connect_options())
            .clone()
            .options([("statement_timeout", "0")]);
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let migrated = sqlx::migrate!("../migrations/postgres")
            .run(&migrating)
            .await;
        migrating.close().await;
        migrated?;
        Ok(())
    }

    async fn subscribe_invalidations(
        pool: &Pool<PgDb>,
    ) -> Result<Option<UnboundedReceiver<String>>, StoreError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(INVALIDATION_CHANNEL).await?;
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                // `recv` reconnects by itself; notifications sent meanwhile are lost, which
                // the cache's time-to-live covers.
                match listener.recv().await {
                    Ok(note) => {
                        if sender.send(note.payload().to_owned()).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cache invalidation listener failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(receiver))
    }
}
