//! Quotas of http providers against a mock company API on 127.0.0.1: a cache keyed by
//! the inputs (many users of one domain, one call), a daily budget (jobs wait for the
//! next UTC day, not failed), a rate limit (calls spaced), the status endpoint, the
//! metrics, and backfills through the `trickle enrich` command's function.

use crate::common::{Backend, TestApp, expect_error, test_settings};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trickle::App;
use trickle::app::logins::LoginRequest;
use trickle::cli::{EnrichArgs, enrich};
use trickle::config::Settings;
use trickle::model::MetadataLimits;
use trickle::providers::HttpProviderConfig;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 65536,
    app_metadata_bytes: 65536,
};

/// The company API's calls: (domain, when).
#[derive(Clone, Default)]
pub(crate) struct CompanyCalls(Arc<Mutex<Vec<(String, Instant)>>>);

impl CompanyCalls {
    pub(crate) fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn domains(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(d, _)| d.clone())
            .collect()
    }
    fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().iter().map(|(_, t)| *t).collect()
    }
}

/// A company API: `GET /company?domain=…` → a name and a size; 404 for `unknown.example`.
pub(crate) async fn company_api(calls: CompanyCalls) -> String {
    async fn company(
        State(calls): State<CompanyCalls>,
        Query(query): Query<BTreeMap<String, String>>,
    ) -> Result<axum::Json<Value>, StatusCode> {
        let domain = query.get("domain").cloned().unwrap_or_default();
        calls
            .0
            .lock()
            .unwrap()
            .push((domain.clone(), Instant::now()));
        if domain == "unknown.example" {
            return Err(StatusCode::NOT_FOUND);
        }
        let name = domain.split('.').next().unwrap_or_default().to_uppercase();
        Ok(axum::Json(
            json!({ "name": format!("{name} Corp"), "metrics": { "employees": 50 } }),
        ))
    }
    let app = axum::Router::new()
        .route("/company", axum::routing::get(company))
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// The company provider on the mock API, adjusted by `change`.
fn company_settings(base: &str, change: impl FnOnce(&mut HttpProviderConfig)) -> Settings {
    let mut config = HttpProviderConfig {
        url: format!("{base}/company?domain={{domain}}"),
        map: [
            ("name".to_owned(), "/name".into()),
            ("employees".to_owned(), "/metrics/employees".into()),
        ]
        .into(),
        ..HttpProviderConfig::default()
    };
    change(&mut config);
    let mut settings = test_settings();
    settings.enrichment.http.insert("company".into(), config);
    settings
}

fn login(user: &str, email: &str) -> LoginRequest {
    LoginRequest {
        user_id: user.into(),
        event_id: None,
        occurred_at: None,
        ip: None,
        user_agent: None,
        email: Some(email.into()),
        name: None,
        profile: None,
    }
}

async fn log_in(app: &TestApp, users: impl IntoIterator<Item = (String, String)>) {
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    for (user, email) in users {
        app.trickle
            .logins()
            .record(&site, login(&user, &email))
            .await
            .unwrap();
    }
}

async fn drain(trickle: &App) {
    while trickle.jobs().work_once().await.unwrap() > 0 {}
}

async fn status(app: &TestApp) -> Value {
    let response = app
        .server(Method::GET, "/v1/enrichment/providers")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn company_of(app: &TestApp, user: &str) -> Value {
    let user = app
        .trickle
        .store()
        .user(&app.keys.site_id, user)
        .await
        .unwrap()
        .unwrap();
    user.app_metadata["enrichment"]["company"].clone()
}

async fn users_of_one_company_cost_one_call(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let app = TestApp::spawn_with(backend, company_settings(&base, |c| c.cache = true)).await;
    let users = (0..120).map(|i| (format!("u{i:03}"), format!("user{i}@acme.example")));
    log_in(&app, users).await;
    log_in(
        &app,
        [
            ("z1".into(), "z@unknown.example".into()),
            ("z2".into(), "y@unknown.example".into()),
        ],
    )
    .await;
    drain(&app.trickle).await;
    assert_eq!(
        calls.domains(),
        ["acme.example", "unknown.example"],
        "one call per domain, however many users and however many run at once"
    );
    for user in ["u000", "u077", "u119"] {
        let result = company_of(&app, user).await;
        assert_eq!(result["name"], "ACME Corp", "{user}: {result}");
        assert_eq!(result["employees"], 50);
    }
    assert_eq!(
        company_of(&app, "z2").await["found"],
        false,
        "nothing known is cached too"
    );
    let status = status(&app).await;
    let company = &status["providers"][0];
    assert_eq!(company["name"], "company");
    assert_eq!(company["kind"], "http");
    assert_eq!(company["inputs"], json!(["{domain}"]));
    assert_eq!(company["cache"], true);
    assert_eq!(
        (
            company["calls_today"].as_i64(),
            company["cache_hits_today"].as_i64()
        ),
        (Some(2), Some(120))
    );
    assert!(company["last_success_at"].is_string() && company["last_error"].is_null());

    // A new user of the same company, later: still no call.
    log_in(&app, [("late".into(), "late@acme.example".into())]).await;
    drain(&app.trickle).await;
    assert_eq!(calls.count(), 2);
    assert_eq!(company_of(&app, "late").await["name"], "ACME Corp");

    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "trickle_enrichment_calls_total",
        "trickle_enrichment_cache_hits_total",
    ] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(name) && l.contains("provider=\"company\"")),
            "{name} in {metrics}"
        );
    }
}

async fn a_spent_budget_puts_jobs_off_to_the_next_utc_day(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let settings = company_settings(&base, |c| {
        c.daily_budget = Some(3);
        c.cost_per_call = Some(0.25);
    });
    let app = TestApp::spawn_with(backend, settings).await;
    let users = (0..5).map(|i| (format!("u{i}"), format!("a@firm{i}.example")));
    log_in(&app, users).await;
    drain(&app.trickle).await;
    assert_eq!(calls.count(), 3, "never more than the budget");
    let jobs = app.trickle.store().jobs(&app.keys.site_id).await.unwrap();
    let waiting: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind == "enrich" && j.status == "queued")
        .collect();
    assert_eq!(waiting.len(), 2, "{jobs:?}");
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    for job in &waiting {
        assert_eq!(job.run_at, tomorrow, "waits for the next UTC day");
        assert_eq!(job.attempts, 0, "not a failure, not a retry");
        assert!(
            job.last_error
                .as_deref()
                .unwrap()
                .contains("daily budget of 3 calls spent")
        );
    }
    assert!(jobs.iter().all(|j| j.status != "dead"));
    let company = status(&app).await["providers"][0].clone();
    assert_eq!(company["daily_budget"], 3);
    assert_eq!(company["budget_left"], 0);
    assert_eq!(company["calls_today"], 3);
    assert_eq!(company["deferrals_today"], 2);
    assert_eq!(company["spend_today"], 0.75);

    // The budget is the deployment's: another process (a restart, a replica) on the
    // same database finds it spent.
    let restarted = App::from_settings(
        app.trickle.store().clone(),
        &company_settings(&base, |c| c.daily_budget = Some(3)),
    )
    .unwrap();
    log_in(&app, [("u9".into(), "b@firm9.example".into())]).await;
    drain(&restarted).await;
    assert_eq!(calls.count(), 3, "still spent after a restart");
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "trickle_enrichment_budget_deferrals_total",
        "trickle_enrichment_spend_micros_total",
    ] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }
}

async fn the_rate_limit_spaces_calls(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let app = TestApp::spawn_with(
        backend,
        company_settings(&base, |c| c.rate_per_second = Some(20.0)),
    )
    .await;
    let users = (0..6).map(|i| (format!("u{i}"), format!("a@firm{i}.example")));
    log_in(&app, users).await;
    drain(&app.trickle).await;
    let mut times = calls.times();
    assert_eq!(times.len(), 6);
    times.sort();
    // 20 per second, no burst: one every 50 ms, so six calls span at least 250 ms
    // (less some slack for when each request reaches the mock).
    let span = times[5] - times[0];
    assert!(
        span >= Duration::from_millis(220),
        "six calls within {span:?}"
    );
}

async fn provider_status_needs_the_secret_key_and_shows_only_the_site(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let mut settings = company_settings(&base, |c| c.cache = true);
    settings.enrichment.email = Some(Default::default());
    let app = TestApp::spawn_with(backend, settings).await;
    let none = app.get("/v1/enrichment/providers").send().await.unwrap();
    expect_error(none, 401, "missing_secret_key").await;
    let wrong = app
        .get("/v1/enrichment/providers")
        .bearer_auth("sk_wrong")
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, "invalid_secret_key").await;
    log_in(&app, [("u1".into(), "a@acme.example".into())]).await;
    drain(&app.trickle).await;
    let mine = status(&app).await;
    let names: Vec<&str> = mine["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["email", "company"]);
    assert_eq!(mine["providers"][0]["kind"], "email");
    assert_eq!(mine["providers"][0]["inputs"], json!(["email"]));
    assert_eq!(mine["providers"][0]["calls_today"], 1);
    assert!(mine["providers"][0]["budget_left"].is_null());
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    let theirs: Value = app
        .request(Method::GET, "/v1/enrichment/providers")
        .bearer_auth(&other.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for provider in theirs["providers"].as_array().unwrap() {
        assert_eq!(
            provider["calls_today"], 0,
            "another site's usage is not shown: {provider}"
        );
        assert!(provider["last_success_at"].is_null());
    }
}

async fn a_failing_provider_shows_its_last_error(backend: Backend) {
    // Nothing listens on port 9: the call fails and is retried later.
    let app = TestApp::spawn_with(backend, company_settings("http://127.0.0.1:9", |_| {})).await;
    log_in(&app, [("u1".into(), "a@acme.example".into())]).await;
    drain(&app.trickle).await;
    let company = status(&app).await["providers"][0].clone();
    assert_eq!(company["failures_today"], 1);
    assert_eq!(company["calls_today"], 1);
    assert!(company["last_error_at"].is_string());
    let error = company["last_error"].as_str().unwrap();
    assert!(error.contains("connection failed"), "{error}");
    assert!(
        !error.contains("acme"),
        "no personal data in the message: {error}"
    );
}

/// Logs `count` users in on an app without providers (they exist before the provider
/// is configured), then opens the same database with the company provider.
async fn users_before_the_provider(backend: Backend, base: &str, count: usize) -> (TestApp, App) {
    let app = TestApp::spawn_with(backend, test_settings()).await;
    let users = (0..count).map(|i| {
        let domain = if i % 2 == 0 {
            "acme.example".to_owned()
        } else {
            format!("firm{i}.example")
        };
        (format!("u{i:05}"), format!("user{i}@{domain}"))
    });
    log_in(&app, users).await;
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let edit = |_: &mut Value, app_metadata: &mut Value| {
        app_metadata["plan"] = json!("pro");
    };
    for i in (0..count).step_by(3) {
        app.trickle
            .store()
            .edit_user(&site.site_id, &format!("u{i:05}"), &edit, LIMITS, &[])
            .await
            .unwrap();
    }
    let configured = App::from_settings(
        app.trickle.store().clone(),
        &company_settings(base, |c| c.cache = true),
    )
    .unwrap();
    (app, configured)
}

fn args(app: &TestApp, filter: Option<&str>) -> EnrichArgs {
    EnrichArgs {
        provider: "company".into(),
        site: Some(app.keys.site_id.clone()),
        filter: filter.map(str::to_owned),
        restart: false,
    }
}

async fn queued_users(app: &TestApp) -> Vec<String> {
    let site = app.keys.site_id.clone();
    let mut users: Vec<String> = Vec::new();
    for job in app.trickle.store().jobs(&site).await.unwrap() {
        if job.kind == "enrich" {
            users.push(job.id);
        }
    }
    users
}

async fn a_backfill_queues_existing_users_once_and_the_workers_enrich_them(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let count = 1200;
    let (app, configured) = users_before_the_provider(backend, &base, count).await;
    assert!(
        queued_users(&app).await.is_empty(),
        "no provider at login time"
    );

    // Only users on the pro plan (every third), as `GET /v1/users?where=` reads it.
    let filter = r#"{"key": "app_metadata.plan", "equals": "pro"}"#;
    let mut out = Vec::new();
    let started = Instant::now();
    let reports = enrich(&configured, &args(&app, Some(filter)), &mut out, false)
        .await
        .unwrap();
    let queue_time = started.elapsed();
    let report = &reports[0].1;
    let pro = count.div_ceil(3);
    // The filter runs in the database: only the users it matches are examined.
    assert_eq!((report.scanned, report.queued), (pro as i64, pro as i64));
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(&format!("{pro}/{pro} users examined, {pro} queued")),
        "{text}"
    );
    assert!(
        text.contains(&format!("queued company for {pro} of {pro} users")),
        "{text}"
    );
    assert_eq!(queued_users(&app).await.len(), pro);

    // A second run (as after a crash) queues nobody twice: their jobs are still queued.
    enrich(
        &configured,
        &args(&app, Some(filter)),
        &mut Vec::new(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(queued_users(&app).await.len(), pro, "no user queued twice");

    let started = Instant::now();
    drain(&configured).await;
    let enrich_time = started.elapsed();
    let jobs = app.trickle.store().jobs(&app.keys.site_id).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.status == "done"),
        "{:?}",
        jobs.iter().find(|j| j.status != "done")
    );
    let enriched = {
        let mut n = 0;
        for i in (0..count).step_by(3) {
            if company_of(&app, &format!("u{i:05}")).await["name"].is_string() {
                n += 1;
            }
        }
        n
    };
    assert_eq!(enriched, pro);
    assert!(
        company_of(&app, "u00001").await.is_null(),
        "not on the pro plan"
    );
    // Every other pro user is at acme.example: one call for all of them.
    let acme = (0..count).step_by(3).filter(|i| i % 2 == 0).count();
    assert_eq!(calls.count(), pro - acme + 1);
    println!(
        "backfill: {pro} of {count} users matched in SQL and queued in {queue_time:?} \
         ({:.0} users/s); {pro} enriched in {enrich_time:?} ({:.0} users/s) with {} calls",
        pro as f64 / queue_time.as_secs_f64(),
        pro as f64 / enrich_time.as_secs_f64(),
        calls.count()
    );

    // Once done, a new run queues only users for whom the provider is due again: none.
    let reports = enrich(
        &configured,
        &args(&app, Some(filter)),
        &mut Vec::new(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(reports[0].1.queued, 0, "every result is fresh");
}

async fn an_interrupted_backfill_resumes_where_it_stopped(backend: Backend) {
    let calls = CompanyCalls::default();
    let base = company_api(calls.clone()).await;
    let count = 1600;
    let (app, configured) = users_before_the_provider(backend, &base, count).await;
    // Stop the run after its first batch: drop it, as a Ctrl-C would.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let site = configured.sites().get(&app.keys.site_id).await.unwrap();
    let filter = trickle::app::enrichment::BackfillFilter::parse(None).unwrap();
    let enrichment = configured.enrichment();
    let mut report = |progress: &trickle::app::enrichment::BackfillProgress| {
        let _ = tx.send(progress.scanned);
    };
    tokio::select! {
        done = enrichment.backfill(&site, "company", &filter, false, &mut report) => {
            panic!("finished before it was stopped: {done:?}")
        }
        Some(scanned) = rx.recv() => assert_eq!(scanned, 500),
    }
    let first = queued_users(&app).await.len();
    assert!(
        (500..=1000).contains(&first),
        "one or two batches written: {first}"
    );
    let mut out = Vec::new();
    let reports = enrich(&configured, &args(&app, None), &mut out, false)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("resumed an interrupted run"), "{text}");
    assert_eq!(reports[0].1.scanned, count as i64);
    assert_eq!(reports[0].1.queued, count as i64);
    let jobs = app.trickle.store().jobs(&app.keys.site_id).await.unwrap();
    assert_eq!(jobs.len(), count, "every user queued exactly once");

    let unknown = EnrichArgs {
        provider: "nope".into(),
        ..args(&app, None)
    };
    let error = enrich(&configured, &unknown, &mut Vec::new(), false)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no provider `nope` is configured (configured: company)"),
        "{error}"
    );
    let bad = args(&app, Some("{\"key\": 3}"));
    let error = enrich(&configured, &bad, &mut Vec::new(), false)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("key"), "{error}");
}

on_both_databases!(
    users_of_one_company_cost_one_call,
    a_spent_budget_puts_jobs_off_to_the_next_utc_day,
    the_rate_limit_spaces_calls,
    provider_status_needs_the_secret_key_and_shows_only_the_site,
    a_failing_provider_shows_its_last_error,
    a_backfill_queues_existing_users_once_and_the_workers_enrich_them,
    an_interrupted_backfill_resumes_where_it_stopped,
);
