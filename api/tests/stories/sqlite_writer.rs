//! On a database file, SQLite's group-committed writes are written by a connection of
//! their own (`store/sqlite/writer.rs`); in memory, by the pool. Both must leave the same
//! outcomes and rows.

use futures::future::join_all;
use serde_json::{Map, json};
use std::sync::Arc;
use trickle::model::{NewAnswer, NewJob, NewLogin, User};
use trickle::questions::PromptRecord;
use trickle::store::{AnswerWrite, Store};

use super::login_batches::{LIMITS, new_login, one_job_each};
use super::service;

/// Each prompt event's and each answer's or later login's outcome, as comparable values.
type Written = (
    Vec<Result<Option<(i64, bool)>, String>>,
    Vec<Result<Option<(String, i64, serde_json::Value)>, String>>,
);

/// What the widget reads of a few users, each with their history and as about to answer.
type UsersRead = (
    Vec<Option<(User, Vec<PromptRecord>)>>,
    Vec<Option<((User, Vec<PromptRecord>), bool)>>,
);

/// What the writes leave in the database, read with plain SQL (no ids, no clock).
type Rows = (
    Vec<UserRowRead>,
    Vec<EventRowRead>,
    Vec<(String, String, String)>,
    Vec<AnswerRowRead>,
    Vec<PromptRowRead>,
);
type AnswerRowRead = (String, String, String, i64, String, i64);
type PromptRowRead = (String, String, String, i64, String, i64, Option<String>);
type UserRowRead = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    bool,
);

type EventRowRead = (
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    String,
    bool,
    Option<String>,
);

async fn rows_of(pool: &sqlx::SqlitePool) -> Rows {
    let users = sqlx::query_as(
        "SELECT user_id, login_count, first_login_at, last_login_at, last_ip, \
         last_user_agent, email, name, previous_login_at, json(user_metadata), \
         json_remove(app_metadata, '$.idp.received_at'), last_prompted_at IS NOT NULL \
         FROM users ORDER BY user_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let events = sqlx::query_as(
        "SELECT event_id, user_id, occurred_at, ip, login_count, first_login_at, \
         last_login_at, signed_up, previous_login_at FROM login_events ORDER BY event_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let jobs = sqlx::query_as("SELECT kind, payload, user_id FROM jobs ORDER BY user_id, payload")
        .fetch_all(pool)
        .await
        .unwrap();
    let answers = sqlx::query_as(
        "SELECT user_id, key, question_set, version, value, login_count FROM answers \
         ORDER BY user_id, key",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let prompts = sqlx::query_as(
        "SELECT user_id, question_set, key, version, kind, login_count, login_at \
         FROM prompt_events ORDER BY user_id, key, kind, login_count",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (users, events, jobs, answers, prompts)
}

/// On a database file, SQLite's group-committed writes (all but logins with claims) are
/// written by a connection of their own (`store/sqlite/writer.rs`); on a database in
/// memory, by the pool (as PostgreSQL writes all but answers). The same writes leave the same
/// outcomes and the same rows both ways: new users, later and earlier logins, a retried
/// event id, claims (which always take the pool), logins at once, answers (one refused
/// over the limit, one of an unknown user), impressions (one repeated), skips and
/// dismissals, and answers, logins and events at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writer_writes_what_the_pool_writes() {
    use trickle::store::SqliteStore;
    let dir = tempfile::tempdir().unwrap();
    let file = format!("sqlite://{}", dir.path().join("apart.db").display());
    let (mut receipts, mut written, mut rows): (_, Vec<Written>, Vec<Rows>) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut reads = Vec::new();
    for url in [file.as_str(), "sqlite::memory:"] {
        let sqlite = SqliteStore::connect(url).await.unwrap();
        let store: Arc<dyn Store> = Arc::new(sqlite.clone());
        store.migrate().await.unwrap();
        let (_, site) = service(&store).await;
        let at = |hours: i64| {
            // Microseconds, so both drivers' reading of fractions is compared too.
            chrono::DateTime::parse_from_rfc3339("2026-11-01T12:00:00.123456Z")
                .unwrap()
                .to_utc()
                + chrono::Duration::hours(hours)
        };
        let mut claims = Map::new();
        claims.insert("plan".into(), json!("pro"));
        let logins = [
            NewLogin {
                ip: Some("81.2.69.142".into()),
                user_agent: Some("Firefox".into()),
                occurred_at: at(0),
                ..new_login("ada", "e1")
            },
            NewLogin {
                email: Some("ada@example.com".into()),
                occurred_at: at(5),
                ..new_login("ada", "e2")
            },
            NewLogin {
                ip: Some("10.0.0.1".into()),
                occurred_at: at(-24),
                ..new_login("ada", "e3")
            },
            NewLogin {
                occurred_at: at(0),
                ..new_login("ada", "e1")
            },
            NewLogin {
                name: Some("Bob".into()),
                profile: Some(claims),
                occurred_at: at(1),
                ..new_login("bob", "e4")
            },
            NewLogin {
                occurred_at: at(2),
                ..new_login("bob", "e5")
            },
        ];
        let mut these = Vec::new();
        for login in &logins {
            let receipt = store
                .record_login(&site.site_id, login, LIMITS, one_job_each())
                .await
                .unwrap();
            these.push(receipt);
        }
        // At once: one group-commit batch or a few.
        let calls = (0..40).map(|i| {
            let store = store.clone();
            let site_id = site.site_id.clone();
            let login = NewLogin {
                occurred_at: at(i),
                ..new_login(&format!("u{i:02}"), &format!("at-once-{i:02}"))
            };
            async move {
                store
                    .record_login(&site_id, &login, LIMITS, one_job_each())
                    .await
                    .unwrap()
            }
        });
        these.extend(join_all(calls).await);
        receipts.push(these);
        written.push(answers_and_events(&store, &site.site_id).await);
        rows.push(rows_of(sqlite.pool()).await);
        claims_beside_the_rest(&store, &site.site_id).await;
        if url == file {
            // Only the reader apart can answer now.
            sqlite.pool().close().await;
        }
        reads.push(users_read(&store, &site.site_id).await);
    }
    assert_eq!(receipts[0], receipts[1]);
    assert_eq!(
        receipts[0][3], receipts[0][0],
        "a retried event id: the first receipt"
    );
    assert_eq!(written[0], written[1]);
    let (events, answers) = &written[0];
    assert_eq!(
        events[0],
        Ok(Some((3, true))),
        "ada's impression at login 3"
    );
    assert_eq!(
        events[1],
        Ok(Some((3, false))),
        "the same again: nothing new"
    );
    assert_eq!(events[4], Ok(None), "an unknown user's dismissal");
    assert!(
        answers[2]
            .as_ref()
            .is_err_and(|e| e.contains("user_metadata")),
        "{:?}",
        answers[2]
    );
    assert_eq!(answers[3], Ok(None), "an unknown user's answer");
    assert_eq!(rows[0].0.len(), 42);
    assert_eq!(rows[0].1.len(), 45 + 20);
    assert_eq!(
        rows[0].2.len(),
        45 + 20 + 22,
        "a job per counted login and answer"
    );
    assert_eq!(rows[0].3.len(), 22);
    assert_eq!(
        rows[0].4.len(),
        3 + 22 + 1,
        "events: ada's impression, bob's skip and impression, answers, u00's skip"
    );
    assert_eq!(rows[0], rows[1]);
    let (with_history, being_asked) = &reads[0];
    assert_eq!(with_history[3], None, "nobody");
    let bob = with_history[1].as_ref().unwrap();
    assert_eq!((bob.0.login_count, bob.1.len()), (2, 1), "bob's skip");
    assert_eq!(
        being_asked
            .iter()
            .map(|a| a.as_ref().map(|a| a.1))
            .collect::<Vec<_>>(),
        [Some(false), Some(false), Some(true), Some(false), None],
        "ada's role shown then answered, her city never shown, bob's city shown"
    );
    assert_eq!(
        reads[0], reads[1],
        "the reader apart reads what the pool reads"
    );
}

/// What the widget reads of users after `answers_and_events`: each with their history
/// (`user_with_history`), and as about to answer a question (`user_being_asked`).
async fn users_read(store: &Arc<dyn Store>, site_id: &str) -> UsersRead {
    let mut with_history = Vec::new();
    for user in ["ada", "bob", "u00", "nobody"] {
        let read = store.user_with_history(site_id, user).await.unwrap();
        with_history.push(read.map(|(user, history)| (without_clock(user), history)));
    }
    let mut being_asked = Vec::new();
    for (user, version, key) in [
        ("ada", 1, "role"),
        ("ada", 1, "address.city"),
        ("bob", 1, "city"),
        ("bob", 2, "city"),
        ("nobody", 1, "role"),
    ] {
        let asked = store
            .user_being_asked(site_id, user, "profile", version, key)
            .await
            .unwrap();
        being_asked.push(asked.map(|a| ((without_clock(a.user), a.history), a.shown_unanswered)));
    }
    (with_history, being_asked)
}

/// A user without the times the two runs took their writes at (each run's clock): whether
/// they were prompted stays.
fn without_clock(mut user: User) -> User {
    let run_started = chrono::DateTime::UNIX_EPOCH;
    user.created_at = run_started;
    user.updated_at = run_started;
    user.last_prompted_at = user.last_prompted_at.map(|_| run_started);
    if let Some(idp) = user
        .app_metadata
        .get_mut("idp")
        .and_then(|idp| idp.as_object_mut())
    {
        idp.remove("received_at");
    }
    user
}

/// Logins with claims (the pool's transaction) and without (the writer apart on a file)
/// of the same users at once: a batch then holds runs of both kinds, and each login is
/// counted once, in either order.
async fn claims_beside_the_rest(store: &Arc<dyn Store>, site_id: &str) {
    // The claims' login is the later one, so its claims are kept in either order.
    let at = |hour: u32| format!("2026-11-20T{hour:02}:00:00Z").parse().unwrap();
    let calls = (0..20).map(|i| async move {
        let user = format!("m{:02}", i / 2);
        let login = if i % 2 == 0 {
            let mut claims = Map::new();
            claims.insert("plan".into(), json!("team"));
            NewLogin {
                profile: Some(claims),
                occurred_at: at(13),
                ..new_login(&user, &format!("claims-{i}"))
            }
        } else {
            NewLogin {
                occurred_at: at(12),
                ..new_login(&user, &format!("plain-{i}"))
            }
        };
        store
            .record_login(site_id, &login, LIMITS, one_job_each())
            .await
            .unwrap()
    });
    let mut counts: Vec<(String, i64)> = join_all(calls)
        .await
        .into_iter()
        .map(|r| (r.user_id, r.login_count))
        .collect();
    counts.sort();
    let expected: Vec<(String, i64)> = (0..10)
        .flat_map(|u| [(format!("m{u:02}"), 1), (format!("m{u:02}"), 2)])
        .collect();
    assert_eq!(counts, expected);
    for u in 0..10 {
        let user = store
            .user(site_id, &format!("m{u:02}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.login_count, 2);
        assert_eq!(user.app_metadata["idp"]["plan"], "team");
    }
}

/// Prompt events and answers after the logins of `sqlite_writer_writes_what_the_pool_writes`:
/// one by one, then answers and logins of the same users at once.
async fn answers_and_events(store: &Arc<dyn Store>, site_id: &str) -> Written {
    use trickle::model::PromptEventKind::{Dismissed, Impression, Skipped};
    let event = |user: &'static str, key: &'static str, kind| async move {
        store
            .record_prompt_event(site_id, user, "profile", 1, key, kind)
            .await
            .map(|e| e.map(|e| (e.login_count, e.new)))
            .map_err(|e| e.to_string())
    };
    let mut events = vec![
        event("ada", "role", Impression).await,
        event("ada", "role", Impression).await,
        event("bob", "city", Skipped).await,
        event("bob", "city", Impression).await,
        event("nobody", "role", Dismissed).await,
    ];
    let answer = |user: String, key: &'static str, value: serde_json::Value| async move {
        let write = AnswerWrite {
            site_id: site_id.into(),
            user_id: user,
            answer: NewAnswer {
                question_set: "profile".into(),
                version: 1,
                key: key.into(),
                value,
            },
            limits: LIMITS,
            follow_ups: vec![NewJob::now("test.answer", json!({ "key": key }), 1)],
        };
        store
            .record_answer(write)
            .await
            .map(|user| user.map(|u| (u.user_id, u.login_count, u.user_metadata)))
            .map_err(|e| e.to_string())
    };
    let mut answers = vec![
        answer("ada".into(), "role", json!("dev")).await,
        answer("ada".into(), "address.city", json!("Lyon")).await,
        answer("bob".into(), "bio", json!("x".repeat(2000))).await,
        answer("nobody".into(), "role", json!("pm")).await,
    ];
    // At once: an answer and a later login of each of 20 users, in a batch or a few.
    let at_once = (0..20).map(|i| {
        let user = format!("u{i:02}");
        async move {
            let answered = answer(user.clone(), "role", json!(i)).await;
            let login = NewLogin {
                occurred_at: "2026-11-10T00:00:00Z".parse().unwrap(),
                ..new_login(&user, &format!("later-{user}"))
            };
            let counted = store
                .record_login(site_id, &login, LIMITS, one_job_each())
                .await
                .map(|r| Some((r.user_id, r.login_count, json!(null))))
                .map_err(|e| e.to_string());
            [answered, counted]
        }
    });
    answers.extend(join_all(at_once).await.into_iter().flatten());
    events.push(event("u00", "role", Skipped).await);
    (events, answers)
}
