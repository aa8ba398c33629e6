//! The widget writer against a real PostgreSQL (`TRICKLE_TEST_POSTGRES_URL`).

use super::*;
use crate::model::{MetadataLimits, NewAnswer, NewJob, PromptEventKind};
use crate::store::RecordedEvent;
use crate::store::{Dialect, SqlStore};
use serde_json::json;
use trickle_testkit::PostgresDatabase;

fn answer(user_id: &str, key: &str, value: Value, dedupe_key: Option<&str>) -> Write {
    let job = NewJob::now("test.answered", json!({}), 1);
    let job = match dedupe_key {
        Some(key) => job.deduplicated(key.into()),
        None => job,
    };
    Write::Answer(AnswerWrite {
        site_id: "site".into(),
        user_id: user_id.into(),
        answer: NewAnswer {
            question_set: "onboarding".into(),
            version: 1,
            key: key.into(),
            value,
        },
        limits: MetadataLimits {
            user_metadata_bytes: 1000,
            app_metadata_bytes: 1000,
        },
        follow_ups: vec![job],
    })
}

/// A database with a site and the users `a`, `b` and `c`, at login 1.
async fn database_with_users() -> (PostgresDatabase, PgPool) {
    let database = PostgresDatabase::create().await;
    let pool = PgPool::connect(database.url()).await.unwrap();
    crate::store::Postgres::migrate(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO sites (site_id, name, publishable_key, secret_key_hash, \
         identity_secret, created_at, updated_at) \
         VALUES ('site', 'shop', 'pk', 'sk', 'id', now(), now())",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO users (site_id, user_id, login_count, first_login_at, \
         last_login_at, created_at, updated_at) \
         SELECT 'site', u, 1, now(), now(), now(), now() FROM unnest(ARRAY['a', 'b', 'c']) u",
    )
    .execute(&pool)
    .await
    .unwrap();
    (database, pool)
}

/// The writer itself, without the group commit (whose fallback of one answer per
/// transaction would hide a statement that fails on, say, one key answered twice or
/// one dedupe key queued twice), writes a batch with repeats in one go: each event
/// at its user's login, every answer at the batch's one time.
#[tokio::test]
async fn one_statement_writes_a_batch_with_repeats() {
    let (_database, pool) = database_with_users().await;
    let writer = WidgetWriter::new(pool.clone());
    let outcomes = writer
        .write_apart(vec![
            answer("a", "role", json!("dev"), Some("d")),
            answer("a", "role", json!("pm"), Some("d")),
            answer("a", "team.size", json!(3), None),
            answer("b", "bio", json!("x".repeat(2000)), None),
            answer("nobody", "role", json!("dev"), None),
            answer("b", "role", json!("cto"), None),
        ])
        .await
        .expect("the batch in one statement");
    let shape: Vec<_> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(Written::Answer(Some(user))) => user.user_metadata.to_string(),
            Ok(Written::Answer(None)) => "none".into(),
            Err(StoreError::TooLarge { .. }) => "too large".into(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            r#"{"role":"dev"}"#,
            r#"{"role":"pm"}"#,
            r#"{"role":"pm","team":{"size":3}}"#,
            "too large",
            "none",
            r#"{"role":"cto"}"#,
        ]
    );
    let kept: Vec<(String, String, Value)> =
        sqlx::query_as("SELECT user_id, key, value FROM answers ORDER BY user_id, key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        kept,
        [
            ("a".into(), "role".into(), json!("pm")),
            ("a".into(), "team.size".into(), json!(3)),
            ("b".into(), "role".into(), json!("cto")),
        ]
    );
    let (times, events, at_login, jobs): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(DISTINCT answered_at) FROM answers), \
         (SELECT count(*) FROM prompt_events WHERE kind = 'answered'), \
         (SELECT count(*) FROM prompt_events e JOIN users u USING (site_id, user_id) \
          WHERE e.login_at = u.last_login_at AND e.login_count = u.login_count), \
         (SELECT count(*) FROM jobs)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (times, events, at_login, jobs),
        (1, 4, 4, 3),
        "one time, four events at their logins, d once"
    );
    pool.close().await;
}

fn event(user_id: &str, key: &str, kind: PromptEventKind) -> Write {
    Write::PromptEvent(PromptEventWrite {
        site_id: "site".into(),
        user_id: user_id.into(),
        question_set: "onboarding".into(),
        version: 1,
        key: key.into(),
        kind,
    })
}

/// Prompt events in one batch with an answer: a repeated impression is written once
/// and only its first is new; an unknown user's is `None`; one already recorded at
/// this login (from an earlier batch) is not new; each event is at its user's login;
/// `last_prompted_at` is the time of a user's new impression and stays unset for a
/// user with only a skip; the impression of a question comes before the answer to it
/// (ids), and the user the answer returns has the impression's time.
#[tokio::test]
async fn prompt_events_are_once_per_login_within_a_batch() {
    use PromptEventKind::{Impression, Skipped};
    let (_database, pool) = database_with_users().await;
    let writer = WidgetWriter::new(pool.clone());
    let earlier = writer
        .write_apart(vec![event("b", "role", Skipped)])
        .await
        .unwrap();
    assert!(matches!(
        earlier[0],
        Ok(Written::PromptEvent(Some(RecordedEvent { new: true, .. })))
    ));
    let outcomes = writer
        .write_apart(vec![
            event("a", "role", Impression),
            answer("a", "role", json!("dev"), None),
            event("a", "role", Impression),
            event("nobody", "role", Impression),
            event("b", "role", Skipped),
            event("b", "team", Impression),
            event("c", "role", Skipped),
        ])
        .await
        .expect("the batch in one go");
    let shape: Vec<String> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(Written::PromptEvent(Some(recorded))) => {
                format!("new {} at {}", recorded.new, recorded.login_count)
            }
            Ok(Written::PromptEvent(None)) => "none".into(),
            Ok(Written::Answer(Some(_))) => "answered".into(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "new true at 1",
            "answered",
            "new false at 1",
            "none",
            "new false at 1",
            "new true at 1",
            "new true at 1",
        ]
    );
    let events: Vec<(String, String, String)> =
        sqlx::query_as("SELECT user_id, key, kind FROM prompt_events ORDER BY user_id, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let expected = [
        ("a", "role", "impression"),
        ("a", "role", "answered"),
        ("b", "role", "skipped"),
        ("b", "team", "impression"),
        ("c", "role", "skipped"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(u, k, c)| (u.to_string(), k.to_string(), c.to_string()))
        .collect();
    assert_eq!(events, expected, "by user, in the order of their ids");
    let (at_login, prompted_at_impression, unprompted): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM prompt_events e JOIN users u USING (site_id, user_id) \
          WHERE e.login_at = u.last_login_at AND e.login_count = u.login_count), \
         (SELECT count(*) FROM prompt_events e JOIN users u USING (site_id, user_id) \
          WHERE e.kind = 'impression' AND u.last_prompted_at = e.created_at), \
         (SELECT count(*) FROM users WHERE last_prompted_at IS NULL)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (at_login, prompted_at_impression, unprompted),
        (5, 2, 1),
        "every event at its login; a and b prompted at their impressions; c not"
    );
    let Ok(Written::Answer(Some(answered))) = &outcomes[1] else {
        panic!("{:?}", outcomes[1]);
    };
    let (stored,): (Option<DateTime<Utc>>,) =
        sqlx::query_as("SELECT last_prompted_at FROM users WHERE user_id = 'a'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        answered.last_prompted_at, stored,
        "the answer's user as stored"
    );
    pool.close().await;
}

/// A batch whose statement fails (PostgreSQL's `jsonb` has no `\u0000`) is written
/// again one answer per transaction through the same writer: only that answer fails.
#[tokio::test]
async fn a_failed_batch_fails_only_the_answer_at_fault() {
    let (_database, pool) = database_with_users().await;
    let store = SqlStore::<crate::store::Postgres>::new(pool.clone())
        .writing_apart(std::sync::Arc::new(WidgetWriter::new(pool.clone())));
    let batch: Vec<AnswerWrite> = [
        answer("a", "role", json!("dev"), None),
        answer("b", "role", json!("nul \u{0}"), None),
        answer("b", "team", json!("core"), None),
    ]
    .into_iter()
    .map(|write| match write {
        Write::Answer(answer) => answer,
        _ => unreachable!(),
    })
    .collect();
    let outcomes = crate::store::PromptStore::record_answer_batch(&store, &batch).await;
    assert!(matches!(outcomes[0], Ok(Some(_))), "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Err(StoreError::Database(_))),
        "{outcomes:?}"
    );
    assert!(matches!(outcomes[2], Ok(Some(_))), "{outcomes:?}");
    let kept: Vec<(String, String)> =
        sqlx::query_as("SELECT user_id, key FROM answers ORDER BY user_id, key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        kept,
        [("a".into(), "role".into()), ("b".into(), "team".into())]
    );
    pool.close().await;
}
