//! PostgreSQL through a transaction pooler: two replicas whose every statement goes
//! through pgbouncer (transaction pooling, `max_prepared_statements` set; started by
//! `cargo xtask test` at `TRICKLE_TEST_PGBOUNCER_URL`), with only migrations and `LISTEN`
//! on a direct connection (`database_direct_url`).

use serde_json::json;
use std::sync::Arc;

use trickle::app::prompts::AnswerRequest;
use trickle::store::{ConnectOptions, Store, StoreError};
use trickle_testkit::PostgresDatabase;

/// A replica's store: the pool through the pooler, sessions direct.
async fn replica(database: &PostgresDatabase) -> Arc<dyn Store> {
    let options = ConnectOptions {
        direct_url: Some(database.url()),
        ..ConnectOptions::default()
    };
    trickle::store::connect_with(&database.pooled_url(), options)
        .await
        .expect("connect through the pooler")
}

/// Both replicas migrate at once (the migrations' session lock is taken on the direct
/// connection), serve a login, a prompt and an answer through the pooler, hear each
/// other's publish despite an hour-long cache, and claim every job once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_share_one_database_through_pgbouncer() {
    let database = PostgresDatabase::create().await;
    assert_a_pooler_is_in_between(&database).await;
    let (store_a, store_b) = (replica(&database).await, replica(&database).await);
    let (a, b) = tokio::join!(store_a.migrate(), store_b.migrate());
    a.expect("replica a migrates");
    b.expect("replica b migrates");

    let (replica_a, replica_b, site, prompt) =
        super::publish_reaches_the_other_replica(store_a.clone(), store_b.clone()).await;
    assert_eq!(prompt.question.key, "role");
    replica_b
        .prompts()
        .answer(
            &site,
            "u1",
            AnswerRequest {
                question_set: prompt.question_set.clone(),
                version: prompt.version,
                key: "role".into(),
                value: json!("dev"),
            },
            None,
        )
        .await
        .unwrap();
    let profile = replica_a.profiles().get(&site, "u1").await.unwrap();
    assert_eq!(
        profile.user.user_metadata["role"],
        json!("dev"),
        "a reads b's answer"
    );

    super::queue::two_pools_share_the_queue(store_a, store_b).await;
}

/// The story means something only if its URL multiplexes: sixteen sessions at once run
/// on fewer server backends (`cargo xtask test` gives its pgbouncer three).
async fn assert_a_pooler_is_in_between(database: &PostgresDatabase) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect(&database.pooled_url())
        .await
        .expect("connect through the pooler");
    let sessions = (0..16).map(|_| {
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid() FROM pg_sleep(0.05)").fetch_one(&pool)
    });
    let backends: std::collections::HashSet<i32> = futures::future::join_all(sessions)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        backends.len() < 16,
        "16 sessions ran on {} backends: TRICKLE_TEST_PGBOUNCER_URL is not a pooler",
        backends.len()
    );
    pool.close().await;
}

/// A direct URL is for PostgreSQL behind a pooler; beside SQLite it is refused, not
/// ignored.
#[tokio::test]
async fn sqlite_refuses_a_direct_url() {
    let options = ConnectOptions {
        direct_url: Some("postgres://postgres@127.0.0.1/test"),
        ..ConnectOptions::default()
    };
    let refused = trickle::store::connect_with("sqlite::memory:", options).await;
    assert!(matches!(
        refused,
        Err(StoreError::DirectUrlWithoutPostgres(_))
    ));
}
