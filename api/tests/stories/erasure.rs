//! Erasure and retention: erasing a user leaves their id and e-mail in no column of any
//! table (read from the database's own catalogue), and the retention purge deletes
//! history by age. These stories read the database directly, so they take its URL.

use chrono::{Duration as Span, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

use trickle::App;
use trickle::app::logins::LoginRequest;
use trickle::app::prompts::{AnswerRequest, SkipRequest};
use trickle::config::{JobSettings, OutboundSettings, RetentionSettings, WebhookSettings};
use trickle::model::webhook::EVENT_TYPES;
use trickle::model::{Delivery, NewJob, NewSubscription, Site};
use trickle::providers::{EmailConfig, EnrichmentConfig, build_providers};
use trickle::store::{ClaimLimits, Store};

use super::{publish_set, service};

/// One column of one row that contains the needle: `(table, column, the value as text)`.
type Hit = (String, String, String);

/// Every `(table, column)` of the database, from its catalogue.
async fn columns(url: &str) -> Vec<(String, String)> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut all = Vec::new();
        for (table,) in tables {
            let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap();
            all.extend(names.into_iter().map(|(c,)| (table.clone(), c)));
        }
        pool.close().await;
        all
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let all = sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t USING (table_schema, table_name) \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        all
    }
}

/// Every column of every table whose value, as text, contains `needle`.
async fn scan(url: &str, needle: &str) -> Vec<Hit> {
    let columns = columns(url).await;
    assert!(
        columns.iter().any(|(t, _)| t == "webhook_deliveries"),
        "the catalogue lists the tables: {columns:?}"
    );
    let mut hits = Vec::new();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for (table, column) in columns {
            // A column holding JSONB (the metadata) is read as its JSON text.
            let text = format!(
                "CASE WHEN typeof(\"{column}\") = 'blob' AND json_valid(\"{column}\", 8) \
                 THEN json(\"{column}\") ELSE CAST(\"{column}\" AS TEXT) END"
            );
            let sql = format!("SELECT {text} FROM \"{table}\" WHERE instr({text}, $1) > 0");
            let found: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
                .bind(needle)
                .fetch_all(&pool)
                .await
                .unwrap();
            hits.extend(
                found
                    .into_iter()
                    .map(|(v,)| (table.clone(), column.clone(), v)),
            );
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for (table, column) in columns {
            let sql = format!(
                "SELECT \"{column}\"::text FROM \"{table}\" WHERE strpos(\"{column}\"::text, $1) > 0"
            );
            let found: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
                .bind(needle)
                .fetch_all(&pool)
                .await
                .unwrap();
            hits.extend(
                found
                    .into_iter()
                    .map(|(v,)| (table.clone(), column.clone(), v)),
            );
        }
        pool.close().await;
    }
    hits
}

/// The tables among the hits.
fn tables(hits: &[Hit]) -> Vec<&str> {
    let mut tables: Vec<&str> = hits.iter().map(|(t, _, _)| t.as_str()).collect();
    tables.sort();
    tables.dedup();
    tables
}

/// Rows in `table`.
async fn count(url: &str, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

fn login(user: &str, event: &str, email: &str) -> LoginRequest {
    LoginRequest {
        user_id: user.into(),
        event_id: Some(event.into()),
        occurred_at: None,
        ip: Some("203.0.113.7".into()),
        user_agent: Some(format!("Agent for {user}")),
        email: Some(email.into()),
        name: Some(format!("Name of {user}")),
        profile: None,
    }
}

fn answer(version: i64, key: &str, value: Value) -> AnswerRequest {
    AnswerRequest {
        question_set: "profile".into(),
        version,
        key: key.into(),
        value,
    }
}

/// A service whose webhook subscribers never answer and whose jobs die at their first
/// failure, with the built-in e-mail enrichment; one site subscribed to every event.
async fn erasure_service(store: &Arc<dyn Store>) -> (App, Site) {
    let enrichment = EnrichmentConfig {
        email: Some(EmailConfig::default()),
        ..Default::default()
    };
    let (trickle, site) = service(store).await;
    let trickle = trickle
        .with_providers(build_providers(&enrichment, &OutboundSettings::default()).unwrap())
        .with_job_settings(JobSettings {
            max_attempts: 1,
            concurrency: 50,
            ..Default::default()
        })
        .with_webhook_settings(WebhookSettings {
            disable_after_failures: 1000,
            timeout_ms: 1000,
        });
    // Port 9 (discard) has no listener: every delivery fails and, at one attempt, dies.
    let subscription = NewSubscription {
        url: "http://127.0.0.1:9/hook".into(),
        events: EVENT_TYPES.iter().map(|e| e.to_string()).collect(),
        description: None,
    };
    trickle
        .webhooks()
        .create(&trickle::app::Actor::command_line(), &site, subscription)
        .await
        .unwrap();
    (trickle, site)
}

async fn work_until_idle(trickle: &App) {
    while trickle.jobs().work_once().await.unwrap() > 0 {}
}

/// A user with logins, answers, a skip, enrichment, done, dead, running and queued jobs
/// and dead deliveries is erased: afterwards neither their id nor their e-mail is in any
/// column of any table, except the `user.deleted` notification (id only) until retention
/// purges it; another user's data is untouched.
async fn erasing_a_user_leaves_no_trace(url: &str, store: Arc<dyn Store>) {
    let (trickle, site) = erasure_service(&store).await;
    let version = publish_set(&trickle, &site).await;
    let (victim, email) = ("erase-me-7f3a", "erase.me.7f3a@mail.example");
    let (bystander, other_email) = ("keep-me-51c0", "keep.me.51c0@mail.example");
    for (user, mail) in [(victim, email), (bystander, other_email)] {
        trickle
            .logins()
            .record(&site, login(user, &format!("{user}-e1"), mail))
            .await
            .unwrap();
        trickle
            .prompts()
            .answer(&site, user, answer(version, "role", json!("dev")), None)
            .await
            .unwrap();
    }
    // Enrichment lands, events fan out, deliveries and their jobs die.
    work_until_idle(&trickle).await;
    let user = store.user(&site.site_id, victim).await.unwrap().unwrap();
    assert!(
        user.app_metadata["enrichment"]["email"].is_object(),
        "enriched"
    );
    let statuses: Vec<String> = store
        .jobs(&site.site_id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.status)
        .collect();
    assert!(statuses.iter().any(|s| s == "dead") && statuses.iter().any(|s| s == "done"));

    trickle
        .logins()
        .record(&site, login(victim, "erase-me-e2", email))
        .await
        .unwrap();
    // The `user.logged_in` fan-out is in flight when the user is erased.
    let now = Utc::now();
    let in_flight = store
        .claim_jobs(now, ClaimLimits::total(100), now + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!(in_flight.len(), 1, "{in_flight:?}");
    trickle
        .prompts()
        .answer(
            &site,
            victim,
            answer(version, "nickname", json!(email)),
            None,
        )
        .await
        .unwrap();
    let skip = SkipRequest {
        question_set: "profile".into(),
        version,
        key: "address.city".into(),
        forever: false,
    };
    trickle
        .prompts()
        .skip(&site, victim, skip, None)
        .await
        .unwrap();

    let before = scan(url, victim).await;
    for table in [
        "users",
        "login_events",
        "answers",
        "prompt_events",
        "jobs",
        "webhook_deliveries",
    ] {
        assert!(
            tables(&before).contains(&table),
            "{table} holds the user before: {before:?}"
        );
    }
    let mail_before = tables(&scan(url, email).await).join(",");
    assert_eq!(
        mail_before, "answers,jobs,users",
        "the e-mail is stored before"
    );

    trickle.profiles().delete(&site, victim).await.unwrap();
    let late = Delivery {
        id: "msg_late".into(),
        subscription_id: "wh_any".into(),
        event_type: "user.logged_in".into(),
        payload: json!({ "data": { "user_id": victim } }),
        status: "pending".into(),
        attempts: 0,
        last_status: None,
        last_error: None,
        created_at: now,
        updated_at: now,
        delivered_at: None,
    };
    let delivery_job = NewJob::now("webhook_delivery", json!({ "delivery_id": "msg_late" }), 1);
    store
        .complete_with_deliveries(&in_flight[0], &[late], &[delivery_job])
        .await
        .unwrap();

    assert_eq!(
        scan(url, email).await,
        Vec::<Hit>::new(),
        "the e-mail is gone"
    );
    let left = scan(url, victim).await;
    assert!(
        !left.is_empty()
            && left
                .iter()
                .all(|(t, c, v)| t == "jobs" && c == "payload" && v.contains("user.deleted")),
        "only the user.deleted event names the user: {left:?}"
    );
    let kept = tables(&scan(url, bystander).await).join(",");
    assert_eq!(
        kept, "answers,jobs,login_events,prompt_events,users,webhook_deliveries",
        "the other user keeps everything"
    );
    assert_eq!(tables(&scan(url, other_email).await), ["users"]);

    // The notification goes out (and dies at port 9); its job keeps only the event type.
    work_until_idle(&trickle).await;
    let left = scan(url, victim).await;
    assert!(
        left.iter().all(|(t, c, v)| t == "webhook_deliveries"
            && c == "payload"
            && v.contains("user.deleted")),
        "only the user.deleted delivery names the user: {left:?}"
    );
    let purged = trickle
        .retention()
        .purge(Utc::now() + Span::days(31))
        .await
        .unwrap();
    assert!(purged.deliveries > 0 && purged.jobs > 0, "{purged:?}");
    assert_eq!(
        scan(url, victim).await,
        Vec::<Hit>::new(),
        "after retention, nothing"
    );
    assert!(
        store
            .user(&site.site_id, bystander)
            .await
            .unwrap()
            .is_some()
    );
}

/// Retention deletes login events, finished jobs and finished deliveries older than
/// their settings; keeps what is younger, queued jobs and pending deliveries; 0 keeps
/// forever.
async fn retention_purges_history_by_age(url: &str, store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let old = Utc::now() - Span::days(100);
    let recent = Utc::now() - Span::days(10);
    for (event, at) in [("old", old), ("recent", recent), ("now", Utc::now())] {
        let request = LoginRequest {
            occurred_at: Some(at),
            ..login("u1", event, "u1@mail.example")
        };
        trickle.logins().record(&site, request).await.unwrap();
    }
    let jobs: Vec<NewJob> = (0..3)
        .map(|n| NewJob::now("test", json!({ "n": n }), 1))
        .collect();
    store.enqueue(&site.site_id, &jobs).await.unwrap();
    let now = Utc::now();
    let claimed = store
        .claim_jobs(now, ClaimLimits::total(2), now + Span::seconds(60))
        .await
        .unwrap();
    store.complete_job(&claimed[0]).await.unwrap();
    store.bury_job(&claimed[1], "broken").await.unwrap();
    // One fan-out leaves a pending delivery; another's delivery is finished (dead).
    let event = NewJob::now("webhook_event", json!({ "type": "user.logged_in" }), 1);
    store
        .enqueue(
            &site.site_id,
            &[
                event.clone(),
                NewJob {
                    id: "job_b".into(),
                    ..event
                },
            ],
        )
        .await
        .unwrap();
    let later = Utc::now();
    let fan_outs = store
        .claim_jobs(later, ClaimLimits::total(10), later + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!(fan_outs.len(), 3, "two fan-outs and the queued test job");
    for (job, id) in fan_outs
        .iter()
        .filter(|j| j.kind == "webhook_event")
        .zip(["msg_pending", "msg_dead"])
    {
        let delivery = Delivery {
            id: id.into(),
            subscription_id: "wh_1".into(),
            event_type: "user.logged_in".into(),
            payload: json!({}),
            status: "pending".into(),
            attempts: 0,
            last_status: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            delivered_at: None,
        };
        store
            .complete_with_deliveries(job, &[delivery], &[])
            .await
            .unwrap();
    }
    let dead = store
        .delivery(&site.site_id, "msg_dead")
        .await
        .unwrap()
        .unwrap();
    let failed = trickle::model::AttemptOutcome::Failed {
        status: None,
        error: "refused".into(),
        final_attempt: true,
    };
    store
        .record_delivery_attempt(&site.site_id, &dead, &failed, 1000)
        .await
        .unwrap();
    let test_job = fan_outs.iter().find(|j| j.kind == "test").unwrap();
    store
        .retry_job(test_job, "again", now + Span::days(365))
        .await
        .unwrap();

    let keep_forever = trickle.clone().with_retention_settings(RetentionSettings {
        login_events_days: 0,
        jobs_days: 0,
        deliveries_days: 0,
    });
    let nothing = keep_forever
        .retention()
        .purge(now + Span::days(3650))
        .await
        .unwrap();
    assert_eq!(nothing, Default::default(), "0 keeps forever");

    let defaults = RetentionSettings::default();
    assert_eq!(
        (
            defaults.login_events_days,
            defaults.jobs_days,
            defaults.deliveries_days
        ),
        (90, 7, 30)
    );
    let purged = trickle.retention().purge(now).await.unwrap();
    assert_eq!(
        (purged.login_events, purged.jobs, purged.deliveries),
        (1, 0, 0),
        "today only the 100-day-old login event is past its 90 days"
    );
    assert_eq!(count(url, "login_events").await, 2);
    let purged = trickle
        .retention()
        .purge(now + Span::days(8))
        .await
        .unwrap();
    assert_eq!(
        (purged.jobs, purged.deliveries),
        (4, 0),
        "a week on: the done, dead and two fanned-out jobs; deliveries stay 30 days"
    );
    let purged = trickle
        .retention()
        .purge(now + Span::days(31))
        .await
        .unwrap();
    assert_eq!(
        purged.deliveries, 1,
        "the dead delivery; the pending one stays"
    );
    assert!(
        store
            .delivery(&site.site_id, "msg_pending")
            .await
            .unwrap()
            .is_some()
    );
    let left: Vec<String> = store
        .jobs(&site.site_id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.status)
        .collect();
    assert_eq!(left, ["queued"], "queued jobs are never purged");
    // Enough rows for several batches are all purged.
    let many: Vec<NewJob> = (0..1200)
        .map(|n| NewJob::now("test", json!({ "n": n }), 1))
        .collect();
    store.enqueue(&site.site_id, &many).await.unwrap();
    let claimed = store
        .claim_jobs(now, ClaimLimits::total(2000), now + Span::seconds(60))
        .await
        .unwrap();
    for job in &claimed {
        store.complete_job(job).await.unwrap();
    }
    let purged = trickle
        .retention()
        .purge(now + Span::days(8))
        .await
        .unwrap();
    assert_eq!(purged.jobs as usize, claimed.len());
}

macro_rules! on_both_databases {
    ($($story:ident),* $(,)?) => {
        mod sqlite_direct {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let db = crate::common::sqlite_store().await;
                    super::$story(&db.url, db.store.clone()).await;
                }
            )*
        }
        mod postgres_direct {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $story() {
                    let db = crate::common::postgres_store().await;
                    super::$story(&db.url, db.store.clone()).await;
                }
            )*
        }
    };
}

on_both_databases!(
    erasing_a_user_leaves_no_trace,
    retention_purges_history_by_age
);
