//! The widget reader against a real PostgreSQL (`TRICKLE_TEST_POSTGRES_URL`): reads in
//! batches answer as the pool's one statement per read does.

use super::*;
use crate::store::{PromptStore, SqlStore, UserStore};
use futures::FutureExt as _;
use trickle_testkit::PostgresDatabase;

/// A database with the sites `site` and `other`, the users `a`, `b` of `site` and `a` of
/// `other`, and prompt events of `site`'s `a`: the role question shown, then answered;
/// the phone question shown and skipped; the city question shown.
async fn database() -> (PostgresDatabase, PgPool) {
    let database = PostgresDatabase::create().await;
    let pool = PgPool::connect(database.url()).await.unwrap();
    Postgres::migrate(&pool).await.unwrap();
    for statement in [
        "INSERT INTO sites (site_id, name, publishable_key, secret_key_hash, \
         identity_secret, created_at, updated_at) \
         SELECT s, s, 'pk-' || s, 'sk-' || s, 'id', now(), now() \
         FROM unnest(ARRAY['site', 'other']) s",
        "INSERT INTO users (site_id, user_id, login_count, first_login_at, \
         last_login_at, created_at, updated_at) \
         SELECT s, u, n, now(), now(), now(), now() \
         FROM (VALUES ('site', 'a', 3), ('site', 'b', 1), ('other', 'a', 7)) AS v(s, u, n)",
        "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
         login_count, created_at) \
         SELECT 'site', 'a', 'onboarding', 1, k, kind, n, now() FROM (VALUES \
         ('role', 'impression', 1), ('role', 'answered', 1), ('phone', 'impression', 2), \
         ('phone', 'skipped', 2), ('city', 'impression', 3)) AS v(k, kind, n)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    (database, pool)
}

/// Many reads at once (more than two full batches, so that batches run side by side and
/// hold several reads, repeats and misses among them) answer each as the pool's own
/// statement does.
#[tokio::test]
async fn batched_reads_answer_as_one_read_each() {
    let (_database, pool) = database().await;
    let reader = &WidgetReader::new(pool.clone());
    let alone = &SqlStore::<Postgres>::new(pool.clone());
    let people = [
        ("site", "a"),
        ("site", "b"),
        ("other", "a"),
        ("site", "nobody"),
        ("other", "b"),
    ];
    let questions = [
        ("onboarding", 1, "city"),
        ("onboarding", 1, "role"),
        ("onboarding", 2, "city"),
        ("onboarding", 1, "phone"),
    ];
    let mut reads = Vec::new();
    for round in 0..30 {
        for (site, user) in people {
            reads.push(
                async move {
                    let read = reader.user_with_history(site, user).await;
                    let expected = alone.user_with_history(site, user).await.unwrap();
                    assert_eq!(read.unwrap().unwrap(), expected, "{site} {user}");
                }
                .boxed(),
            );
            let (set, version, key) = questions[round % questions.len()];
            reads.push(
                async move {
                    let read = reader.user_being_asked(site, user, set, version, key).await;
                    let read = read.unwrap().unwrap();
                    let expected = alone
                        .user_being_asked(site, user, set, version, key)
                        .await
                        .unwrap();
                    let parts = |asked: Option<AskedUser>| {
                        asked.map(|a| (a.user, a.history, a.shown_unanswered))
                    };
                    assert_eq!(
                        parts(read),
                        parts(expected),
                        "{site} {user} {key} v{version}"
                    );
                }
                .boxed(),
            );
        }
    }
    futures::future::join_all(reads).await;

    // The reads the answers above rest on, spelled out.
    let (user, history) = reader
        .user_with_history("site", "a")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.user_id.as_str(), user.login_count, history.len()),
        ("a", 3, 2)
    );
    let other = reader
        .user_with_history("other", "a")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((other.0.login_count, other.1.len()), (7, 0));
    let shown = |key: &'static str, version: i64| {
        let reader = &reader;
        async move {
            let asked = reader
                .user_being_asked("site", "a", "onboarding", version, key)
                .await;
            asked.unwrap().unwrap().unwrap().shown_unanswered
        }
    };
    assert!(shown("city", 1).await, "shown and not answered");
    assert!(!shown("role", 1).await, "answered since it was shown");
    assert!(shown("phone", 1).await, "a skip is not an answer");
    assert!(!shown("city", 2).await, "shown at another version");
    assert!(
        reader
            .user_with_history("site", "nobody")
            .await
            .unwrap()
            .unwrap()
            .is_none()
    );
}

/// A batch that cannot read (its pool closed) leaves every read to the caller's pool.
#[tokio::test]
async fn a_failed_batch_leaves_its_reads_to_the_pool() {
    let (database, pool) = database().await;
    let reader = WidgetReader::new(pool.clone());
    assert!(reader.user_with_history("site", "a").await.is_some());
    pool.close().await;
    let (history, asked) = tokio::join!(
        reader.user_with_history("site", "a"),
        reader.user_being_asked("site", "a", "onboarding", 1, "city"),
    );
    assert!(history.is_none());
    assert!(asked.is_none());
    drop(database);
}

/// A batch whose statements fail (here: no table `users` where its connections look)
/// answers `None` to each read, and the store then reads on its own pool.
#[tokio::test]
async fn a_failed_statement_leaves_its_reads_to_the_store_pool() {
    let (database, pool) = database().await;
    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query("SET search_path = nowhere")
                    .execute(connection)
                    .await
                    .map(drop)
            })
        })
        .connect(database.url())
        .await
        .unwrap();
    let reader = WidgetReader::new(nowhere);
    let (history, asked) = tokio::join!(
        reader.user_with_history("site", "a"),
        reader.user_being_asked("site", "a", "onboarding", 1, "city"),
    );
    assert!(history.is_none(), "the statement failed: read it yourself");
    assert!(asked.is_none(), "the statement failed: read it yourself");

    let store = SqlStore::<Postgres>::new(pool).reading_apart(Arc::new(reader));
    let (user, history) = store.user_with_history("site", "a").await.unwrap().unwrap();
    assert_eq!((user.login_count, history.len()), (3, 2));
    let asked = store
        .user_being_asked("site", "a", "onboarding", 1, "city")
        .await
        .unwrap()
        .unwrap();
    assert!(asked.shown_unanswered);
}

/// A batch that waited the pool's whole time for a connection fails its reads with that
/// error, as a read on the pool would, rather than leave them to wait as long again.
#[tokio::test]
async fn a_batch_without_a_connection_fails_its_reads() {
    let (database, _pool) = database().await;
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_millis(200))
        .connect(database.url())
        .await
        .unwrap();
    let held = one.acquire().await.unwrap();
    let reader = WidgetReader::new(one.clone());
    let (history, asked) = tokio::join!(
        reader.user_with_history("site", "a"),
        reader.user_being_asked("site", "a", "onboarding", 1, "city"),
    );
    assert!(matches!(history, Some(Err(_))), "the pool's timeout");
    assert!(matches!(asked, Some(Err(_))), "the pool's timeout");
    drop(held);
    assert!(matches!(
        reader.user_with_history("site", "a").await,
        Some(Ok(Some(_)))
    ));
}
