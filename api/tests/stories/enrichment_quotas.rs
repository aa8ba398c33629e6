//! Enrichment quotas and bookkeeping on both databases: the daily budget is taken
//! atomically (never overspent by concurrent workers), usage is counted per site and
//! day, the result cache is per site, fresh for its TTL and erased with the user whose
//! inputs made it, a quota's deferral gives back its attempt, and a backfill's cursor
//! is saved with its jobs and leaves no erased user's id behind.

use chrono::{Duration as Span, Utc};
use futures::future::join_all;
use serde_json::{Map, json};
use std::sync::Arc;

use trickle::model::{BackfillState, CachedResult, NewJob, UsageEvent};
use trickle::store::{ClaimLimits, Store};

use super::{login, service};

async fn the_daily_budget_is_never_overspent(store: Arc<dyn Store>) {
    let takes = (0..20).map(|_| {
        let store = store.clone();
        async move { store.take_budget("company", "2026-05-01", 7).await.unwrap() }
    });
    let taken = join_all(takes).await;
    assert_eq!(taken.iter().filter(|t| **t).count(), 7, "{taken:?}");
    assert_eq!(store.budget_used("company", "2026-05-01").await.unwrap(), 7);
    assert!(!store.take_budget("company", "2026-05-01", 7).await.unwrap());
    assert!(
        store.take_budget("company", "2026-05-02", 7).await.unwrap(),
        "a new day, a new budget"
    );
    assert!(
        store.take_budget("person", "2026-05-01", 7).await.unwrap(),
        "each provider its own"
    );
    assert_eq!(store.budget_used("other", "2026-05-01").await.unwrap(), 0);
    assert!(!store.take_budget("zero", "2026-05-01", 0).await.unwrap());
}

async fn usage_is_counted_per_site_and_day(store: Arc<dyn Store>) {
    let (trickle, a) = service(&store).await;
    let b = trickle
        .sites()
        .get(
            &trickle
                .sites()
                .create("other", vec![])
                .await
                .unwrap()
                .site_id,
        )
        .await
        .unwrap();
    let yesterday = Utc::now() - Span::days(1);
    let now = Utc::now();
    let id = a.site_id.as_str();
    let events = [
        (
            "2026-05-01",
            UsageEvent::Failure("HTTP 500 from api.example".into()),
            yesterday,
        ),
        ("2026-05-01", UsageEvent::Success, yesterday),
        ("2026-05-02", UsageEvent::Success, now),
        ("2026-05-02", UsageEvent::Success, now),
        ("2026-05-02", UsageEvent::CacheHit, now),
        ("2026-05-02", UsageEvent::Deferred, now),
    ];
    for (day, event, at) in &events {
        store
            .record_usage(id, "company", day, event, *at)
            .await
            .unwrap();
    }
    store
        .record_usage(
            id,
            "person",
            "2026-05-02",
            &UsageEvent::Failure("timeout".into()),
            now,
        )
        .await
        .unwrap();
    let usage = store.usage(id, "2026-05-02").await.unwrap();
    let names: Vec<&str> = usage.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["company", "person"]);
    let company = &usage[0].1;
    assert_eq!(
        (
            company.calls_today,
            company.cache_hits_today,
            company.failures_today,
            company.deferrals_today
        ),
        (2, 1, 0, 1)
    );
    let close = |a: Option<chrono::DateTime<Utc>>, b: chrono::DateTime<Utc>| {
        (a.unwrap() - b).num_milliseconds().abs() < 2
    };
    assert!(
        close(company.last_success_at, now),
        "today's success is the last"
    );
    assert!(close(company.last_error_at, yesterday));
    assert_eq!(
        company.last_error.as_deref(),
        Some("HTTP 500 from api.example")
    );
    let person = &usage[1].1;
    assert_eq!((person.calls_today, person.failures_today), (1, 1));
    assert_eq!(person.last_success_at, None);
    assert_eq!(
        store.usage(id, "2026-05-01").await.unwrap()[0]
            .1
            .calls_today,
        2,
        "yesterday's calls, failed or not"
    );
    assert!(
        store
            .usage(&b.site_id, "2026-05-02")
            .await
            .unwrap()
            .is_empty(),
        "sites are isolated"
    );
}

async fn cached_results_are_per_site_fresh_and_erased_with_their_user(store: Arc<dyn Store>) {
    let (trickle, a) = service(&store).await;
    let b = trickle
        .sites()
        .get(
            &trickle
                .sites()
                .create("other", vec![])
                .await
                .unwrap()
                .site_id,
        )
        .await
        .unwrap();
    for user in ["maker", "reader"] {
        trickle.logins().record(&a, login(user)).await.unwrap();
    }
    let fetched_at = trickle::model::now() - Span::hours(2);
    let mut fields = Map::new();
    fields.insert("name".into(), json!("Acme Corp"));
    let result = CachedResult { fields, fetched_at };
    store
        .cache_result(&a.site_id, "company", "k-acme", "maker", &result)
        .await
        .unwrap();
    let empty = CachedResult {
        fields: Map::new(),
        fetched_at,
    };
    store
        .cache_result(&a.site_id, "company", "k-none", "reader", &empty)
        .await
        .unwrap();
    let fresh_after = Utc::now() - Span::hours(3);
    assert_eq!(
        store
            .cached_result(&a.site_id, "company", "k-acme", fresh_after)
            .await
            .unwrap(),
        Some(result.clone())
    );
    assert_eq!(
        store
            .cached_result(&a.site_id, "company", "k-none", fresh_after)
            .await
            .unwrap(),
        Some(empty),
        "nothing known is cached too"
    );
    let stale_before = Utc::now() - Span::hours(1);
    assert_eq!(
        store
            .cached_result(&a.site_id, "company", "k-acme", stale_before)
            .await
            .unwrap(),
        None,
        "older than the TTL"
    );
    for (site, provider) in [(&b.site_id, "company"), (&a.site_id, "person")] {
        assert_eq!(
            store
                .cached_result(site, provider, "k-acme", fresh_after)
                .await
                .unwrap(),
            None,
            "per site and provider"
        );
    }
    trickle.profiles().delete(&a, "maker").await.unwrap();
    assert_eq!(
        store
            .cached_result(&a.site_id, "company", "k-acme", fresh_after)
            .await
            .unwrap(),
        None,
        "erasing the user whose inputs made an entry deletes it"
    );
    assert!(
        store
            .cached_result(&a.site_id, "company", "k-none", fresh_after)
            .await
            .unwrap()
            .is_some(),
        "another user's entry stays"
    );
}

async fn a_deferred_job_waits_without_spending_an_attempt(store: Arc<dyn Store>) {
    let (_trickle, site) = service(&store).await;
    let job = NewJob::now(
        "enrich",
        json!({ "user_id": "u", "provider": "company" }),
        3,
    )
    .deduplicated("enrich:company:u".into());
    store.enqueue(&site.site_id, &[job]).await.unwrap();
    let now = Utc::now();
    let claimed = store
        .claim_jobs(now, ClaimLimits::total(10), now + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!(claimed[0].attempts, 1);
    let tomorrow = now + Span::hours(20);
    store
        .defer_job(&claimed[0], "company: daily budget spent", tomorrow)
        .await
        .unwrap();
    let state = &store.jobs(&site.site_id).await.unwrap()[0];
    assert_eq!(
        (state.status.as_str(), state.attempts),
        ("queued", 0),
        "{state:?}"
    );
    assert_eq!(
        state.last_error.as_deref(),
        Some("company: daily budget spent")
    );
    assert!((state.run_at - tomorrow).num_milliseconds().abs() < 2);
    let again = store
        .claim_jobs(now, ClaimLimits::total(10), now + Span::seconds(60))
        .await
        .unwrap();
    assert!(again.is_empty(), "not due before tomorrow");
    let later = tomorrow + Span::seconds(1);
    let claimed = store
        .claim_jobs(later, ClaimLimits::total(10), later + Span::seconds(60))
        .await
        .unwrap();
    assert_eq!(claimed[0].attempts, 1, "the deferral spent no attempt");
}

async fn a_backfill_cursor_is_saved_with_its_jobs(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    for user in ["u1", "u2", "u3"] {
        trickle.logins().record(&site, login(user)).await.unwrap();
    }
    assert_eq!(
        store
            .count_users(&site.site_id, None, chrono::Utc::now())
            .await
            .unwrap(),
        3
    );
    let id = site.site_id.as_str();
    assert_eq!(store.backfill(id, "company", "h").await.unwrap(), None);
    let started_at = trickle::model::now();
    let state = BackfillState {
        cursor: Some("u2".into()),
        scanned: 2,
        queued: 1,
        started_at,
        finished_at: None,
    };
    let job = NewJob::now(
        "enrich",
        json!({ "user_id": "u2", "provider": "company" }),
        3,
    )
    .about_user(Some("u2".into()));
    store
        .save_backfill(id, "company", "h", &state, &[job])
        .await
        .unwrap();
    assert_eq!(
        store.backfill(id, "company", "h").await.unwrap(),
        Some(state.clone())
    );
    assert_eq!(
        store.jobs(id).await.unwrap().len(),
        1,
        "the batch's job with it"
    );
    assert_eq!(
        store.backfill(id, "company", "other filter").await.unwrap(),
        None
    );
    // Erasing the user at the cursor moves it back to the user before: nothing names them.
    trickle.profiles().delete(&site, "u2").await.unwrap();
    let moved = store.backfill(id, "company", "h").await.unwrap().unwrap();
    assert_eq!(moved.cursor.as_deref(), Some("u1"));
    trickle.profiles().delete(&site, "u1").await.unwrap();
    let moved = store.backfill(id, "company", "h").await.unwrap().unwrap();
    assert_eq!(moved.cursor, None, "from the start");
    let finished = BackfillState {
        cursor: None,
        scanned: 3,
        queued: 1,
        started_at,
        finished_at: Some(trickle::model::now()),
    };
    store
        .save_backfill(id, "company", "h", &finished, &[])
        .await
        .unwrap();
    let saved = store.backfill(id, "company", "h").await.unwrap().unwrap();
    assert!(saved.finished_at.is_some() && saved.scanned == 3);
}

conformance!(
    the_daily_budget_is_never_overspent,
    usage_is_counted_per_site_and_day,
    cached_results_are_per_site_fresh_and_erased_with_their_user,
    a_deferred_job_waits_without_spending_an_attempt,
    a_backfill_cursor_is_saved_with_its_jobs,
);
