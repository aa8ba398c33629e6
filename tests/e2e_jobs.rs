//! End-to-end: the job queue in the real `trickle serve`. A login is answered fast
//! while an enrichment provider hangs; a job survives `kill -9` and finishes after a
//! restart; two servers on one PostgreSQL database deliver each webhook once.

mod support;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{ALLOW_LOOPBACK, PostgresDatabase, free_port, run_ok, trickle, wait_ready};

/// Serves `app` on 127.0.0.1 and returns its base URL.
async fn serve_local(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Writes a config file that allows calls to the local receivers; returns its path.
fn config(dir: &Path, name: &str, toml: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{toml}\n{ALLOW_LOOPBACK}")).unwrap();
    path.display().to_string()
}

fn create_site(config: &str, db: &str) -> Value {
    serde_json::from_str(&run_ok(
        trickle(db).args(["--config", config, "site", "create", "--name", "Shop"]),
    ))
    .unwrap()
}

async fn start(config: &str, db: &str, port: u16) -> (Child, String) {
    let mut child = trickle(db)
        .args(["--config", config, "serve"])
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, &mut child).await;
    (child, base)
}

async fn login(base: &str, secret: &str, user: &str, event: &str) -> Duration {
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/logins"))
        .bearer_auth(secret)
        .json(
            &json!({ "user_id": user, "event_id": event, "email": format!("{user}@acme.example") }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    started.elapsed()
}

#[tokio::test]
async fn logins_stay_fast_while_a_provider_hangs() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let hanging = Router::new().route(
        "/lookup",
        get(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<String>()
        }),
    );
    let provider = serve_local(hanging).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let port = free_port();
    let cfg = config(
        dir.path(),
        "trickle.toml",
        &format!(
            "listen = \"127.0.0.1:{port}\"\n[enrichment.http.slow]\nurl = \"{provider}/lookup?email={{email}}\"\n\
         timeout_ms = 30000\nmap = {{ name = \"/name\" }}\n"
        ),
    );
    let keys = create_site(&cfg, &db);
    let (mut server, base) = start(&cfg, &db, port).await;
    let secret = keys["secret_key"].as_str().unwrap();
    let mut times = Vec::new();
    for i in 0..20 {
        times.push(login(&base, secret, &format!("u{i}"), &format!("e{i}")).await);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        calls.load(Ordering::SeqCst) > 0,
        "the provider was called (and hangs)"
    );
    times.sort();
    println!(
        "login latency with a hanging provider: p50 {:?}, max {:?}",
        times[10], times[19]
    );
    assert!(
        times[19] < Duration::from_secs(1),
        "a hanging provider never slows logins: {times:?}"
    );
    server.kill().unwrap();
}

#[tokio::test]
async fn a_job_killed_mid_run_finishes_after_a_restart() {
    let answering = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let (flag, seen) = (answering.clone(), calls.clone());
    let provider = Router::new().route(
        "/company",
        get(move || {
            let (flag, seen) = (flag.clone(), seen.clone());
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                if !flag.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                axum::Json(json!({ "name": "Acme Corp" }))
            }
        }),
    );
    let provider = serve_local(provider).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let port = free_port();
    let cfg = config(
        dir.path(),
        "trickle.toml",
        &format!(
            "listen = \"127.0.0.1:{port}\"\n[jobs]\nlease_seconds = 2\npoll_interval_ms = 100\n\
         [enrichment.http.company]\nurl = \"{provider}/company?email={{email}}\"\ntimeout_ms = 60000\n\
         map = {{ name = \"/name\" }}\n"
        ),
    );
    let keys = create_site(&cfg, &db);
    let secret = keys["secret_key"].as_str().unwrap().to_owned();
    let (mut first, base) = start(&cfg, &db, port).await;
    login(&base, &secret, "u1", "e1").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the job is running when the server dies"
    );
    first.kill().unwrap(); // SIGKILL: no shutdown, the claim stays
    first.wait().unwrap();
    answering.store(true, Ordering::SeqCst);
    let (mut second, base) = start(&cfg, &db, port).await;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut company = Value::Null;
    while Instant::now() < deadline {
        let profile: Value = client
            .get(format!("{base}/v1/users/u1"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        company = profile["app_metadata"]["enrichment"]["company"].clone();
        if !company.is_null() {
            let record = profile["enrichment"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["provider"] == "company")
                .cloned();
            assert_eq!(
                record.unwrap()["fields"]["name"],
                "Acme Corp",
                "the profile says where it came from"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        company["name"], "Acme Corp",
        "the job resumed after the restart"
    );
    assert!(company["fetched_at"].is_string());
    assert!(calls.load(Ordering::SeqCst) >= 2);
    second.kill().unwrap();
}

#[tokio::test]
async fn two_servers_on_one_postgres_deliver_each_webhook_once() {
    let ids = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorded = ids.clone();
    let receiver = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap| {
            let recorded = recorded.clone();
            async move {
                recorded
                    .lock()
                    .unwrap()
                    .push(headers["webhook-id"].to_str().unwrap().to_owned());
                "ok"
            }
        }),
    );
    let receiver = serve_local(receiver).await;
    let database = PostgresDatabase::create().await;
    let db = database.url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let jobs = "[jobs]\npoll_interval_ms = 50\nconcurrency = 8\n";
    let cfg_a = config(
        dir.path(),
        "a.toml",
        &format!("listen = \"127.0.0.1:{port_a}\"\n{jobs}"),
    );
    let cfg_b = config(
        dir.path(),
        "b.toml",
        &format!("listen = \"127.0.0.1:{port_b}\"\n{jobs}"),
    );
    let keys = create_site(&cfg_a, &db);
    let secret = keys["secret_key"].as_str().unwrap().to_owned();
    let (mut a, base_a) = start(&cfg_a, &db, port_a).await;
    let (mut b, base_b) = start(&cfg_b, &db, port_b).await;
    let subscribed = reqwest::Client::new()
        .post(format!("{base_a}/v1/webhooks"))
        .bearer_auth(&secret)
        .json(&json!({ "url": format!("{receiver}/hook"), "events": ["user.logged_in"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), 201);
    for i in 0..40 {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        login(base, &secret, &format!("u{}", i % 10), &format!("e{i}")).await;
    }
    // Wait until the queue is drained (no job queued or running) and the receiver has
    // seen one request per claim of a delivery job (a claim counts before its request is
    // sent): then every delivery either server made or could still make has arrived,
    // doubles included.
    let mut queue = sqlx::PgConnection::connect(&db).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (unfinished, claims): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status IN ('queued', 'running')), \
             coalesce(sum(attempts) FILTER (WHERE kind = 'webhook_delivery'), 0)::BIGINT \
             FROM jobs",
        )
        .fetch_one(&mut queue)
        .await
        .unwrap();
        if unfinished == 0 && ids.lock().unwrap().len() as i64 >= claims {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    queue.close().await.ok();
    let mut delivered = ids.lock().unwrap().clone();
    let total = delivered.len();
    delivered.sort();
    delivered.dedup();
    assert_eq!(
        (total, delivered.len()),
        (40, 40),
        "every event delivered exactly once by the two servers"
    );
    a.kill().unwrap();
    b.kill().unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
}
