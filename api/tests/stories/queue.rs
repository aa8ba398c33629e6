//! Queue and outbox stories: claims, leases, retries, dead jobs, deduplication, jobs
//! written atomically with the change they report, webhook fan-out and auto-disable.

use chrono::{Duration as Span, Utc};
use futures::future::join_all;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

use trickle::App;
use trickle::app::logins::LoginRequest;
use trickle::app::prompts::AnswerRequest;
use trickle::config::JobSettings;
use trickle::config::WebhookSettings;
use trickle::config::{OutboundSettings, Settings};
use trickle::error::Error;
use trickle::model::NewJob;
use trickle::model::NewSubscription;
use trickle::model::Site;
use trickle::model::UserPatch;
use trickle::providers::HttpProviderConfig;
use trickle::store::{ClaimLimits, Store};

use super::by;

const SET: &str = "slug: s\ntitle: S\nstages:\n  - at_login: 1\n    questions:\n      - { key: bio, type: long_text, title: Bio?, max_length: 4000 }\n";

fn job(n: usize) -> NewJob {
    NewJob::now("test", json!({ "n": n }), 3)
}

fn login(user: &str, event: &str) -> LoginRequest {
    LoginRequest {
        user_id: user.into(),
        event_id: Some(event.into()),
        occurred_at: None,
        ip: None,
        user_agent: None,
        email: None,
        name: None,
        profile: None,
    }
}

async fn site(trickle: &App) -> Site {
    let keys = trickle.sites().create("shop", vec![]).await.unwrap();
    trickle.sites().get(&keys.site_id).await.unwrap()
}

/// A busy site and a quiet one, for the stories of fair claims.
async fn two_sites(store: &Arc<dyn Store>) -> (Site, Site) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    (site(&trickle).await, site(&trickle).await)
}

/// The numbers (`job(n)`) of `site`'s jobs among `jobs`, in ascending order.
fn numbers_of(jobs: &[trickle::model::Job], site: &Site) -> Vec<u64> {
    let mut numbers: Vec<u64> = jobs
        .iter()
        .filter(|j| j.site_id == site.site_id)
        .map(|j| j.payload["n"].as_u64().unwrap())
        .collect();
    numbers.sort();
    numbers
}

/// `job`, due `minutes` before `now` (after it, when negative).
fn aged(job: NewJob, now: chrono::DateTime<Utc>, minutes: i64) -> NewJob {
    NewJob {
        run_at: now - Span::minutes(minutes),
        ..job
    }
}

async fn jobs_are_claimed_once_retried_and_buried(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    let jobs: Vec<NewJob> = (0..6).map(job).collect();
    store.enqueue(&site.site_id, &jobs).await.unwrap();
    let now = Utc::now();
    let lease = now + Span::seconds(60);
    let (a, b) = tokio::join!(
        store.claim_jobs(now, ClaimLimits::total(4), lease),
        store.claim_jobs(now, ClaimLimits::total(4), lease)
    );
    let claimed: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    let ids: HashSet<_> = claimed.iter().map(|j| j.id.clone()).collect();
    assert_eq!(
        (claimed.len(), ids.len()),
        (6, 6),
        "every job claimed exactly once"
    );
    assert!(
        claimed
            .iter()
            .all(|j| j.attempts == 1 && j.max_attempts == 3)
    );
    assert!(
        store
            .claim_jobs(now, ClaimLimits::total(10), lease)
            .await
            .unwrap()
            .is_empty(),
        "leased jobs are not due"
    );

    let (retried, buried, done) = (&claimed[0], &claimed[1], &claimed[2]);
    store
        .retry_job(retried, "HTTP 500", now + Span::hours(1))
        .await
        .unwrap();
    store.bury_job(buried, "HTTP 401").await.unwrap();
    store.complete_job(done).await.unwrap();
    let states = store.jobs(&site.site_id).await.unwrap();
    let state = |id: &str| states.iter().find(|s| s.id == id).unwrap().clone();
    assert_eq!(
        (
            state(&retried.id).status.as_str(),
            state(&retried.id).last_error.as_deref()
        ),
        ("queued", Some("HTTP 500"))
    );
    assert_eq!(
        (
            state(&buried.id).status.as_str(),
            state(&buried.id).last_error.as_deref()
        ),
        ("dead", Some("HTTP 401"))
    );
    assert_eq!(state(&done.id).status, "done");
    assert!(
        store
            .claim_jobs(now, ClaimLimits::total(10), lease)
            .await
            .unwrap()
            .is_empty(),
        "a retry waits for its run_at"
    );
    let later = now + Span::hours(2);
    let again = store
        .claim_jobs(later, ClaimLimits::total(10), later + Span::seconds(60))
        .await
        .unwrap();
    let again: Vec<_> = again.into_iter().filter(|j| j.id == retried.id).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    let counts = store.job_counts().await.unwrap();
    assert!(
        counts.contains(&("test".into(), "dead".into(), 1)),
        "{counts:?}"
    );
    assert_eq!(
        store
            .purge_finished_jobs(Utc::now() + Span::seconds(1), 100)
            .await
            .unwrap(),
        2,
        "the done and the dead job; the running one stays"
    );
}

/// A claim whose lease expired is fenced off: once another claim has finished the job,
/// the stale claimant's retry or burial changes nothing (a stale retry used to queue
/// a finished fan-out again, with its event already reduced to its type).
async fn a_stale_claim_cannot_requeue_a_finished_job(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    store.enqueue(&site.site_id, &[job(1)]).await.unwrap();
    let now = Utc::now();
    let stale = store
        .claim_jobs(now, ClaimLimits::total(1), now + Span::seconds(1))
        .await
        .unwrap();
    let after = now + Span::seconds(2);
    let current = store
        .claim_jobs(after, ClaimLimits::total(1), after + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!((stale.len(), current.len()), (1, 1));
    store.complete_job(&current[0]).await.unwrap();
    // Burial first: unfenced, it would leave the job dead, hiding the retry below.
    store.bury_job(&stale[0], "timed out").await.unwrap();
    store
        .retry_job(&stale[0], "timed out", after)
        .await
        .unwrap();
    let much_later = after + Span::hours(1);
    assert!(
        store
            .claim_jobs(
                much_later,
                ClaimLimits::total(10),
                much_later + Span::seconds(60)
            )
            .await
            .unwrap()
            .is_empty(),
        "the finished job stays finished"
    );
}

async fn expired_leases_are_claimed_again(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    store.enqueue(&site.site_id, &[job(1)]).await.unwrap();
    let now = Utc::now();
    let first = store
        .claim_jobs(now, ClaimLimits::total(1), now + Span::seconds(1))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // The worker "dies": nothing completes the job.
    assert!(
        store
            .claim_jobs(now, ClaimLimits::total(1), now + Span::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    let after = now + Span::seconds(2);
    let second = store
        .claim_jobs(after, ClaimLimits::total(1), after + Span::seconds(1))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(
        (second[0].id.as_str(), second[0].attempts),
        (first[0].id.as_str(), 2)
    );
}

async fn dedupe_keys_keep_one_queued_job(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    let keyed = || job(0).deduplicated("enrich:geoip:u1".into());
    store
        .enqueue(&site.site_id, &[keyed(), keyed()])
        .await
        .unwrap();
    store.enqueue(&site.site_id, &[keyed()]).await.unwrap();
    assert_eq!(store.jobs(&site.site_id).await.unwrap().len(), 1);
    let now = Utc::now();
    let running = store
        .claim_jobs(now, ClaimLimits::total(1), now + Span::seconds(60))
        .await
        .unwrap();
    store.enqueue(&site.site_id, &[keyed()]).await.unwrap();
    assert_eq!(
        store.jobs(&site.site_id).await.unwrap().len(),
        2,
        "a running job does not block a new one"
    );
    store.retry_job(&running[0], "timeout", now).await.unwrap();
    let states = store.jobs(&site.site_id).await.unwrap();
    let queued = states.iter().filter(|s| s.status == "queued").count();
    assert_eq!(queued, 1, "the retry defers to the queued twin: {states:?}");
}

async fn the_outbox_commits_with_the_change(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    let events = [
        "user.signed_up",
        "user.logged_in",
        "profile.answered",
        "user.deleted",
    ];
    let subscription = NewSubscription {
        url: "http://127.0.0.1:9/hook".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: None,
    };
    trickle
        .webhooks()
        .create(&trickle::app::Actor::command_line(), &site, subscription)
        .await
        .unwrap();
    let version = trickle
        .publishing()
        .save_draft(&by(), &site, "s", SET, "s.yaml")
        .await
        .unwrap()
        .version;
    trickle
        .publishing()
        .publish(&by(), &site, "s", version)
        .await
        .unwrap();
    let count = || async { store.jobs(&site.site_id).await.unwrap().len() };

    trickle
        .logins()
        .record(&site, login("u1", "e1"))
        .await
        .unwrap();
    assert_eq!(count().await, 2, "signed_up and logged_in");
    trickle
        .logins()
        .record(&site, login("u1", "e1"))
        .await
        .unwrap();
    assert_eq!(count().await, 2, "a retried login emits nothing");

    let answer = |value: &str| AnswerRequest {
        question_set: "s".into(),
        version,
        key: "bio".into(),
        value: json!(value),
    };
    assert!(matches!(
        trickle
            .prompts()
            .answer(&site, "u1", answer(""), None)
            .await,
        Err(Error::AnswerInvalid { .. })
    ));
    let filler = UserPatch {
        user_metadata: Some(json!({ "filler": "x".repeat(63 * 1024) })),
        app_metadata: None,
    };
    trickle.profiles().patch(&site, "u1", filler).await.unwrap();
    let refused = trickle
        .prompts()
        .answer(&site, "u1", answer(&"y".repeat(3000)), None)
        .await;
    assert!(
        matches!(refused, Err(Error::TooLarge { .. })),
        "{refused:?}"
    );
    assert_eq!(count().await, 2, "failed transactions emit nothing");
    trickle
        .profiles()
        .patch(
            &site,
            "u1",
            UserPatch {
                user_metadata: Some(json!({ "filler": null })),
                app_metadata: None,
            },
        )
        .await
        .unwrap();
    trickle
        .prompts()
        .answer(&site, "u1", answer("hello"), None)
        .await
        .unwrap();
    assert_eq!(count().await, 3, "profile.answered");
    assert!(trickle.profiles().delete(&site, "nobody").await.is_err());
    trickle.profiles().delete(&site, "u1").await.unwrap();
    let jobs = store.jobs(&site.site_id).await.unwrap();
    assert_eq!(
        jobs.len(),
        1,
        "the erased user's events are dropped, user.deleted is written: {jobs:?}"
    );
    assert!(jobs.iter().all(|j| j.kind == "webhook_event"));
}

async fn failing_webhooks_are_retried_then_disabled(store: Arc<dyn Store>) {
    let settings = JobSettings {
        backoff_base_ms: 1,
        backoff_cap_seconds: 1,
        max_attempts: 5,
        ..Default::default()
    };
    let trickle = App::new(store.clone(), Duration::from_secs(30))
        .with_outbound(&OutboundSettings::allowing(&["127.0.0.0/8"]))
        .with_job_settings(settings)
        .with_webhook_settings(WebhookSettings {
            disable_after_failures: 2,
            timeout_ms: 1000,
        });
    let site = site(&trickle).await;
    // Port 9 (discard) has no listener here: every attempt fails to connect.
    let subscription = NewSubscription {
        url: "http://127.0.0.1:9/".into(),
        events: vec!["user.logged_in".into()],
        description: None,
    };
    let created = trickle
        .webhooks()
        .create(&trickle::app::Actor::command_line(), &site, subscription)
        .await
        .unwrap();
    trickle
        .logins()
        .record(&site, login("u1", "e1"))
        .await
        .unwrap();
    // Work the queue until it is drained: every job done or dead, none left to retry.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let jobs = store.jobs(&site.site_id).await.unwrap();
        if jobs
            .iter()
            .all(|j| j.status == "done" || j.status == "dead")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the queue drains: {jobs:?}");
        if trickle.jobs().work_once().await.unwrap() == 0 {
            // A retry waits for its back-off (1 ms at first, at most 1 s).
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let deliveries = trickle
        .webhooks()
        .deliveries(&site, &created.subscription.id, 10)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert!(delivery.id.starts_with("msg_"));
    assert_eq!(
        delivery.status, "cancelled",
        "after two failures the subscription is disabled: {delivery:?}"
    );
    assert_eq!(
        delivery.attempts, 3,
        "two failures, then the cancelling turn"
    );
    let subscriptions = trickle.webhooks().list(&site).await.unwrap();
    assert!(!subscriptions[0].enabled);
    assert_eq!(subscriptions[0].failure_streak, 2);
    assert!(
        subscriptions[0]
            .disabled_reason
            .as_deref()
            .unwrap()
            .contains("2 failed")
    );
    trickle
        .logins()
        .record(&site, login("u1", "e2"))
        .await
        .unwrap();
    let jobs = store.jobs(&site.site_id).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.status == "done"),
        "no new events for a disabled hook: {jobs:?}"
    );
    assert_eq!(
        jobs.len(),
        2,
        "one fan-out and one delivery, nothing after the disable"
    );
}

/// Claims are fair between sites: a site's backlog does not come before another site's
/// first job, and no site gets more than `per_site` jobs running.
async fn claims_take_turns_between_sites(store: Arc<dyn Store>) {
    let (busy, quiet) = two_sites(&store).await;
    let now = Utc::now();
    let aged = |n: usize, minutes: i64| aged(job(n), now, minutes);
    // The busy site's ten jobs are all older than the quiet site's two.
    let backlog: Vec<NewJob> = (0..10).map(|n| aged(n, 60 - n as i64)).collect();
    store.enqueue(&busy.site_id, &backlog).await.unwrap();
    store
        .enqueue(&quiet.site_id, &[aged(100, 5), aged(101, 4)])
        .await
        .unwrap();
    let lease = now + Span::seconds(60);
    let limits = ClaimLimits {
        total: 4,
        per_site: 3,
    };
    let of = |jobs: &[trickle::model::Job], site: &Site| {
        jobs.iter().filter(|j| j.site_id == site.site_id).count()
    };
    let first = store.claim_jobs(now, limits, lease).await.unwrap();
    assert_eq!(
        (of(&first, &busy), of(&first, &quiet)),
        (2, 2),
        "the sites take turns, oldest first within a site"
    );
    assert_eq!(
        numbers_of(&first, &busy),
        [0, 1],
        "oldest first within a site"
    );
    let second = store.claim_jobs(now, limits, lease).await.unwrap();
    assert_eq!(
        (second.len(), of(&second, &busy)),
        (1, 1),
        "the busy site reaches its limit of 3 running jobs"
    );
    assert!(
        store
            .claim_jobs(now, limits, lease)
            .await
            .unwrap()
            .is_empty()
    );
    let busy_job = first.iter().find(|j| j.site_id == busy.site_id).unwrap();
    store.complete_job(busy_job).await.unwrap();
    let third = store.claim_jobs(now, limits, lease).await.unwrap();
    assert_eq!(third.len(), 1, "a finished job frees a place for its site");
    let unlimited = store
        .claim_jobs(now, ClaimLimits::total(100), lease)
        .await
        .unwrap();
    assert_eq!(
        unlimited.len(),
        6,
        "without a per-site limit the rest is claimed"
    );
}

/// A claim reads only the first due jobs of each site, yet what it takes is what ranking
/// the whole backlog would take: a job whose lease expired comes in its place by due
/// time, a backlog beyond `per_site` waits, and a job not yet due is never taken.
async fn a_backlog_is_claimed_in_order_a_site_at_a_time(store: Arc<dyn Store>) {
    let (busy, quiet) = two_sites(&store).await;
    let now = Utc::now();
    let aged = |n: usize, minutes: i64| aged(job(n), now, minutes);
    // Job 0 is the oldest; its worker dies with the lease taken at `now`.
    store.enqueue(&busy.site_id, &[aged(0, 100)]).await.unwrap();
    let taken = store
        .claim_jobs(now, ClaimLimits::total(1), now + Span::seconds(1))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let backlog: Vec<NewJob> = (1..=20).map(|n| aged(n, 60 - n as i64)).collect();
    store.enqueue(&busy.site_id, &backlog).await.unwrap();
    store
        .enqueue(&quiet.site_id, &[aged(100, 5), aged(101, -5)])
        .await
        .unwrap();

    let later = now + Span::seconds(2);
    let lease = later + Span::seconds(60);
    let limits = ClaimLimits {
        total: 10,
        per_site: 3,
    };
    let first = store.claim_jobs(later, limits, lease).await.unwrap();
    assert_eq!(
        (numbers_of(&first, &busy), numbers_of(&first, &quiet)),
        (vec![0, 1, 2], vec![100]),
        "the expired lease first, then the oldest queued, up to per_site; \
         the quiet site's job that is not due stays queued"
    );
    assert!(
        store
            .claim_jobs(later, limits, lease)
            .await
            .unwrap()
            .is_empty()
    );
    for job in &first {
        store.complete_job(job).await.unwrap();
    }
    let second = store.claim_jobs(later, limits, lease).await.unwrap();
    assert_eq!(numbers_of(&second, &busy), [3, 4, 5]);
    assert!(numbers_of(&second, &quiet).is_empty());
}

/// A receiver that accepts connections and reads them, never answering; counts connections.
async fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
            });
        }
    });
    (url, accepted)
}

/// A company-data API on 127.0.0.1 that answers at once.
async fn company_api() -> String {
    let app = axum::Router::new().route(
        "/company",
        axum::routing::get(|| async { axum::Json(json!({ "name": "Acme Corp" })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Site A's 50 webhooks point at a black hole; site B's enrichment still finishes within
/// seconds (before: a batch of A's deliveries held every slot until its timeout).
async fn a_black_hole_webhook_does_not_stall_other_sites(store: Arc<dyn Store>) {
    let (hole, accepted) = black_hole().await;
    let mut settings = Settings {
        outbound: OutboundSettings::allowing(&["127.0.0.0/8"]),
        ..Settings::default()
    };
    settings.jobs.poll_interval_ms = 50;
    settings.webhooks.timeout_ms = 30_000;
    let company = HttpProviderConfig {
        url: format!("{}/company?domain={{domain}}", company_api().await),
        map: [("name".to_owned(), "/name".into())].into(),
        ..Default::default()
    };
    settings.enrichment.http.insert("company".into(), company);
    let trickle = App::from_settings(store.clone(), &settings).unwrap();
    let (noisy, quiet) = (site(&trickle).await, site(&trickle).await);
    for _ in 0..50 {
        let subscription = NewSubscription {
            url: hole.clone(),
            events: vec!["user.logged_in".into()],
            description: None,
        };
        trickle
            .webhooks()
            .create(&trickle::app::Actor::command_line(), &noisy, subscription)
            .await
            .unwrap();
    }
    trickle
        .logins()
        .record(&noisy, login("a1", "e1"))
        .await
        .unwrap();
    let worker = trickle.jobs().spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(10);
    while accepted.load(Ordering::SeqCst) < 4 {
        assert!(
            Instant::now() < deadline,
            "the deliveries reach the black hole"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let with_email = LoginRequest {
        email: Some("ada@acme.example".into()),
        ..login("b1", "e1")
    };
    trickle.logins().record(&quiet, with_email).await.unwrap();
    loop {
        let profile = trickle.profiles().get(&quiet, "b1").await.unwrap();
        if profile.user.app_metadata["enrichment"]["company"]["name"] == "Acme Corp" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "site B's enrichment waits for site A's black hole: {:?}",
            store.jobs(&quiet.site_id).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.abort();
}

conformance!(
    a_black_hole_webhook_does_not_stall_other_sites,
    claims_take_turns_between_sites,
    a_backlog_is_claimed_in_order_a_site_at_a_time,
    jobs_are_claimed_once_retried_and_buried,
    expired_leases_are_claimed_again,
    a_stale_claim_cannot_requeue_a_finished_job,
    dedupe_keys_keep_one_queued_job,
    the_outbox_commits_with_the_change,
    failing_webhooks_are_retried_then_disabled,
);

/// Two processes (two connection pools, `first` and `second`) claiming one queue
/// concurrently get every job exactly once.
pub(super) async fn two_pools_share_the_queue(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let trickle = App::new(first.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    let jobs: Vec<NewJob> = (0..200).map(job).collect();
    first.enqueue(&site.site_id, &jobs).await.unwrap();
    let claimers = (0..4).map(|i| {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let now = Utc::now();
                let batch = store
                    .claim_jobs(now, ClaimLimits::total(7), now + Span::seconds(60))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for job in &batch {
                    store.complete_job(job).await.unwrap();
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
        })
    });
    let claimed: Vec<String> = join_all(claimers)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let unique: HashSet<&String> = claimed.iter().collect();
    assert_eq!(
        (claimed.len(), unique.len()),
        (200, 200),
        "no job claimed twice, none lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_pools_share_the_queue() {
    let db = crate::common::sqlite_store().await;
    let second = trickle::store::connect(&db.url).await.unwrap();
    two_pools_share_the_queue(db.store.clone(), second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_pools_share_the_queue() {
    let db = crate::common::postgres_store().await;
    let second = trickle::store::connect(&db.url).await.unwrap();
    two_pools_share_the_queue(db.store.clone(), second).await;
}

/// A claim on PostgreSQL passes over the jobs another claimer holds (here: a transaction
/// that locked the two oldest) and takes the next ones, rather than coming back empty.
#[tokio::test]
async fn postgres_a_claim_passes_over_jobs_another_claimer_holds() {
    let db = crate::common::postgres_store().await;
    let store = db.store.clone();
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let site = site(&trickle).await;
    let now = Utc::now();
    let jobs: Vec<NewJob> = (0..4).map(|n| aged(job(n), now, 10 - n as i64)).collect();
    store.enqueue(&site.site_id, &jobs).await.unwrap();

    let other = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut holding = other.begin().await.unwrap();
    let held: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM jobs WHERE site_id = $1 ORDER BY run_at LIMIT 2 FOR UPDATE")
            .bind(&site.site_id)
            .fetch_all(&mut *holding)
            .await
            .unwrap();
    assert_eq!(held.len(), 2);

    let limits = ClaimLimits {
        total: 2,
        per_site: 2,
    };
    let claimed = store
        .claim_jobs(now, limits, now + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!(numbers_of(&claimed, &site), [2, 3]);
    holding.rollback().await.unwrap();
}
