//! kill -9 under load: the real `trickle` binary takes concurrent logins (with event
//! ids) and widget answers while the test kills it with SIGKILL at random moments and
//! restarts it on the same database, on SQLite and on PostgreSQL. Afterwards every
//! request that got a 2xx is in the database, each user's login count equals the number
//! of distinct event ids that landed (a superset of those acknowledged: clients retry an
//! unanswered event until it is acknowledged, as the API asks), and no job is lost: each
//! acknowledged login's `user.logged_in` event is fanned out into a delivery, even when
//! the worker running it was killed. The kill schedule comes from a seed, printed first
//! (`TRICKLE_CRASH_SEED=<n>` replays it).

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{PostgresDatabase, free_port, run_ok, trickle, wait_ready};

const USERS: usize = 6;
const KILLS: usize = 4;
const QUESTIONS: usize = 10;
const ORIGIN: &str = "https://shop.example";

/// Ten text questions, all due at the first login.
fn question_set() -> String {
    let mut yaml =
        "slug: crash\ntitle: Crash\nsettings: { max_prompts_per_login: 10 }\nstages:\n  - at_login: 1\n    questions:\n"
            .to_owned();
    for n in 0..QUESTIONS {
        yaml.push_str(&format!(
            "      - {{ key: q{n}, type: text, title: \"Q{n}?\" }}\n"
        ));
    }
    yaml
}

/// What one client saw.
#[derive(Debug, Default, Clone)]
struct ClientLog {
    /// Event ids sent so far (`<user>-e0` …): the last may be unacknowledged.
    sent: usize,
    /// Acknowledged event id → the login count in its 2xx body.
    acked: BTreeMap<String, i64>,
    /// Answers acknowledged with a 2xx: key → value.
    answered: BTreeMap<String, String>,
}

/// The site's keys.
#[derive(Clone)]
struct Keys {
    secret: String,
    publishable: String,
    identity: String,
}

/// `trickle serve` on `db` with a short job lease (so jobs of a killed worker come back
/// soon) and no effective rate limit; its log goes to `log`.
fn serve(db: &str, port: u16, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    trickle(db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TRICKLE_JOBS__LEASE_SECONDS", "2")
        .env("TRICKLE_JOBS__CONCURRENCY", "16")
        .env("TRICKLE_JOBS__POLL_INTERVAL_MS", "100")
        .env("TRICKLE_RATE_LIMIT__WIDGET_PER_MINUTE", "10000000")
        .env("TRICKLE_RATE_LIMIT__WIDGET_BURST", "1000000")
        .env("TRICKLE_OUTBOUND__ALLOW_CIDRS", "[\"127.0.0.0/8\"]")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start trickle")
}

/// A webhook receiver that accepts everything.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    keys: &Keys,
    user: &str,
    event: &str,
) -> Result<i64, String> {
    let response = client
        .post(format!("{base}/v1/logins"))
        .bearer_auth(&keys.secret)
        .json(
            &json!({ "user_id": user, "event_id": event, "email": format!("{user}@mail.example") }),
        )
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    body["login_count"]
        .as_i64()
        .ok_or_else(|| format!("no login_count in {body}"))
}

async fn answer(
    client: &reqwest::Client,
    base: &str,
    keys: &Keys,
    user: &str,
    key: &str,
    value: &str,
) -> Result<(), reqwest::StatusCode> {
    let response = client
        .post(format!("{base}/v1/widget/answers"))
        .header("X-Trickle-Key", &keys.publishable)
        .header("X-Trickle-User", user)
        .header(
            "X-Trickle-User-Hash",
            trickle::app::sites::user_hash(&keys.identity, user),
        )
        .header("Origin", ORIGIN)
        .json(&json!({ "question_set": "crash", "version": 1, "key": key, "value": value }))
        .send()
        .await
        .map_err(|_| reqwest::StatusCode::SERVICE_UNAVAILABLE)?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(response.status())
    }
}

/// One user's client: logs in with consecutive event ids, retrying an event until it is
/// acknowledged, and now and then answers the next question, until `stop`.
async fn drive(
    user: String,
    base: String,
    keys: Keys,
    log: Arc<Mutex<ClientLog>>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut seq, mut next_question) = (0, 0);
    while !stop.load(Ordering::SeqCst) {
        let event = format!("{user}-e{seq}");
        log.lock().unwrap().sent = seq + 1;
        match login(&client, &base, &keys, &user, &event).await {
            Ok(count) => {
                log.lock().unwrap().acked.insert(event, count);
                seq += 1;
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        }
        if next_question < QUESTIONS && rng.random_bool(0.4) {
            let key = format!("q{next_question}");
            let value = format!("{user} says {key}");
            match answer(&client, &base, &keys, &user, &key, &value).await {
                Ok(()) => {
                    log.lock().unwrap().answered.insert(key, value);
                    next_question += 1;
                }
                // Refused (it may have landed before a kill): on to the next question.
                Err(status) if status.is_client_error() && status != 429 => next_question += 1,
                Err(_) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..40))).await;
    }
}

/// Reads the database directly, whichever it is.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Db::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    /// Rows of one text column; `{json:COLUMN}` in `sql` becomes the dialect's reading
    /// of a JSON column as text (SQLite keeps metadata as JSONB).
    async fn texts(&self, sql: &str, bind: &str) -> Vec<String> {
        match self {
            Db::Sqlite(pool) => {
                let sql = json_as_text(sql, |column| format!("json({column})"));
                sqlx::query_scalar(sqlx::AssertSqlSafe(&*sql))
                    .bind(bind)
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
            Db::Postgres(pool) => {
                let sql = json_as_text(sql, |column| format!("{column}::text"));
                sqlx::query_scalar(sqlx::AssertSqlSafe(&*sql))
                    .bind(bind)
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
        }
    }

    async fn number(&self, sql: &str, bind: &str) -> i64 {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(bind)
                .fetch_one(pool)
                .await
                .unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(bind)
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }
}

/// Kills and restarts the server `KILLS` times under load, then checks the database.
async fn survives_kill_9_under_load(db: &str) {
    let seed: u64 = std::env::var("TRICKLE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash_recovery seed = {seed} (TRICKLE_CRASH_SEED={seed} replays the schedule)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let server_log = dir.path().join("server.log");

    let created: Value = serde_json::from_str(&run_ok(
        trickle(db).args(["site", "create", "--name", "Shop", "--origin", ORIGIN]),
    ))
    .unwrap();
    let site_id = created["site_id"].as_str().unwrap().to_owned();
    let keys = Keys {
        secret: created["secret_key"].as_str().unwrap().into(),
        publishable: created["publishable_key"].as_str().unwrap().into(),
        identity: created["identity_secret"].as_str().unwrap().into(),
    };
    let set = dir.path().join("crash.yaml");
    std::fs::write(&set, question_set()).unwrap();
    run_ok(trickle(db).args(["question-sets", "push"]).arg(&set).args([
        "--site",
        &site_id,
        "--publish",
    ]));

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(db, port, &server_log);
    wait_ready(&base, &mut server).await;
    let hook = receiver().await;
    let subscribed = reqwest::Client::new()
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(&keys.secret)
        .json(&json!({ "url": hook, "events": ["user.logged_in"] }))
        .send()
        .await
        .unwrap();
    assert!(subscribed.status().is_success(), "{}", subscribed.status());

    let stop = Arc::new(AtomicBool::new(false));
    let logs: Vec<Arc<Mutex<ClientLog>>> = (0..USERS).map(|_| Arc::default()).collect();
    let clients: Vec<_> = logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            tokio::spawn(drive(
                format!("user-{i}"),
                base.clone(),
                keys.clone(),
                log.clone(),
                stop.clone(),
                seed.wrapping_add(i as u64 + 1),
            ))
        })
        .collect();
    for kill in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(1500..4000))).await;
        assert!(
            server.try_wait().unwrap().is_none(),
            "seed {seed}: the server died by itself; log in {}",
            std::fs::read_to_string(&server_log).unwrap_or_default()
        );
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        eprintln!(
            "kill {} after {} acknowledged logins",
            kill + 1,
            acked(&logs)
        );
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..300))).await;
        server = serve(db, port, &server_log);
        wait_ready(&base, &mut server).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }

    // Each client's last event may be unacknowledged: retry it, as a client would.
    let client = reqwest::Client::new();
    for (i, log) in logs.iter().enumerate() {
        let user = format!("user-{i}");
        let sent = log.lock().unwrap().sent;
        let last = format!("{user}-e{}", sent.saturating_sub(1));
        if sent > 0 && !log.lock().unwrap().acked.contains_key(&last) {
            let count = login(&client, &base, &keys, &user, &last)
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: retrying {last}: {e}"));
            log.lock().unwrap().acked.insert(last, count);
        }
    }

    let database = Db::open(db).await;
    // The worker drains the fan-outs, including those whose worker was killed. A fan-out
    // that failed while the server was dying waits out its back-off (capped at 30 s by
    // default), so the wait must be longer than that cap.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open = database
            .number(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook_event' AND status IN ('queued', 'running') \
                 AND site_id = $1",
                &site_id,
            )
            .await;
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: {open} fan-outs still open after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let delivered: BTreeSet<(String, i64)> = database
        .texts(
            "SELECT {json:payload} FROM webhook_deliveries WHERE event_type = 'user.logged_in' AND site_id = $1",
            &site_id,
        )
        .await
        .iter()
        .map(|p| {
            let event: Value = serde_json::from_str(p).unwrap();
            let data = &event["data"];
            let user = data["user_id"].as_str();
            let count = data["login_count"].as_i64();
            let (Some(user), Some(count)) = (user, count) else {
                panic!("seed {seed}: a user.logged_in delivery without user_id and login_count: {p}");
            };
            (user.to_owned(), count)
        })
        .collect();

    for (i, log) in logs.iter().enumerate() {
        let user = format!("user-{i}");
        // The clients are done: a copy, so no lock is held across the queries below.
        let log = log.lock().unwrap().clone();
        let events = log.sent as i64;
        let context = format!("seed {seed}, {user}");
        assert_eq!(
            log.acked.len() as i64,
            events,
            "{context}: every event acknowledged in the end"
        );
        let counts: BTreeSet<i64> = log.acked.values().copied().collect();
        assert_eq!(
            counts,
            (1..=events).collect(),
            "{context}: each acknowledged event has its own login count"
        );
        let stored = database
            .number("SELECT login_count FROM users WHERE user_id = $1", &user)
            .await;
        let landed = database
            .number(
                "SELECT COUNT(DISTINCT event_id) FROM login_events WHERE user_id = $1",
                &user,
            )
            .await;
        assert_eq!(
            (stored, landed),
            (events, events),
            "{context}: login_count, events stored"
        );
        for count in 1..=events {
            assert!(
                delivered.contains(&(user.clone(), count)),
                "{context}: the user.logged_in job of login {count} was lost"
            );
        }
        let metadata: Value = serde_json::from_str(
            &database
                .texts(
                    "SELECT {json:user_metadata} FROM users WHERE user_id = $1",
                    &user,
                )
                .await[0],
        )
        .unwrap();
        for (key, value) in &log.answered {
            assert_eq!(
                metadata[key],
                json!(value),
                "{context}: acknowledged answer {key}"
            );
            let kept = database
                .number(
                    &format!("SELECT COUNT(*) FROM answers WHERE user_id = $1 AND key = '{key}'"),
                    &user,
                )
                .await;
            assert_eq!(kept, 1, "{context}: the answer to {key} with its source");
        }
        for n in 0..QUESTIONS {
            let key = format!("q{n}");
            if let Some(stored) = metadata[&key].as_str() {
                assert_eq!(
                    stored,
                    format!("{user} says {key}"),
                    "{context}: no torn answer"
                );
            }
        }
    }
    eprintln!("{} logins acknowledged across {KILLS} kills", acked(&logs));
    support::terminate(&mut server);
}

fn acked(logs: &[Arc<Mutex<ClientLog>>]) -> usize {
    logs.iter().map(|l| l.lock().unwrap().acked.len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_kill_9_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    tokio::time::timeout(Duration::from_secs(120), survives_kill_9_under_load(&db))
        .await
        .expect("bounded: done within 85 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_kill_9_under_load() {
    let database = PostgresDatabase::create().await;
    tokio::time::timeout(
        Duration::from_secs(120),
        survives_kill_9_under_load(database.url()),
    )
    .await
    .expect("bounded: done within 85 s");
}

/// `sql` with each `{json:COLUMN}` replaced by `read(COLUMN)`.
fn json_as_text(sql: &str, read: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{json:") {
        let end = start + rest[start..].find('}').expect("`{json:COLUMN}` is closed");
        out.push_str(&rest[..start]);
        out.push_str(&read(&rest[start + "{json:".len()..end]));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}
