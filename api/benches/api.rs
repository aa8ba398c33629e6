//! `cargo xtask bench` (or `cargo bench -p trickle --bench api`): login ingest and
//! next-question throughput and latency over real HTTP, on SQLite and on PostgreSQL,
//! beside each database's own raw write rate measured on the same machine in the same
//! run. A benchmark that prints a table, not a test: nothing is asserted about speed.
//!
//! Per database: a fresh database; `TRICKLE_BENCH_USERS` (default 100,000) first logins,
//! which are also the population; the example question sets published; then returning
//! logins and `GET /v1/widget/next` for random users of that population. The load
//! generator runs in the same process as the server (one machine, as in the spec), with
//! `TRICKLE_BENCH_CONCURRENCY` (default 64) requests in flight. PostgreSQL comes from
//! `TRICKLE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! database of its own that is dropped afterwards; `TRICKLE_BENCH_SKIP_POSTGRES=1` leaves
//! it out.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::ConnectOptions;
use trickle::App;
use trickle::app::sites::user_hash;
use trickle::config::{RateLimit, Settings};
use trickle::http::{AppState, router};
use trickle::model::SiteKeys;

const ORIGIN: &str = "https://shop.example.com";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Throughput and latency of one phase.
struct Figures {
    what: String,
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn row(&self, database: &str) -> String {
        format!(
            "| {database} | {} | {} | {:.0} | {:.2} | {:.2} |",
            self.what,
            self.requests,
            self.per_second,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )
    }
}

/// Runs `count` calls of `one(i)` with `concurrency` in flight; times each.
async fn measure<F, Fut>(what: &str, count: usize, concurrency: usize, one: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (one, next) = (one.clone(), next.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return times;
                    }
                    let at = Instant::now();
                    one(i).await;
                    times.push(at.elapsed());
                }
            })
        })
        .collect();
    let mut times = Vec::with_capacity(count);
    for worker in workers {
        times.extend(worker.await.expect("a load worker"));
    }
    let elapsed = started.elapsed();
    times.sort();
    // Nearest rank: the smallest time at or above which a `q` share of the requests lie.
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    Figures {
        what: what.into(),
        requests: count,
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// One single-row, autocommitted insert of row `i`.
type Insert = Arc<dyn Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The database's own write rate: single-row autocommitted inserts, with the store's
/// connection settings and pool size, at the same concurrency as the API phases.
async fn raw_writes(url: &str, count: usize, concurrency: usize) -> Figures {
    let create = "CREATE TABLE raw_writes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)";
    let insert: Insert = if url.starts_with("sqlite:") {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        let options = url
            .parse::<SqliteConnectOptions>()
            .expect("sqlite url")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .disable_statement_logging();
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("sqlite pool");
        sqlx::query(create).execute(&pool).await.expect("create");
        Arc::new(move |i| {
            let query = sqlx::query("INSERT INTO raw_writes (id, body) VALUES (?, ?)")
                .bind(i as i64)
                .bind(format!("user-{i}"));
            let pool = pool.clone();
            Box::pin(async move {
                query.execute(&pool).await.expect("insert");
            })
        })
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await
            .expect("postgres pool");
        sqlx::query(create).execute(&pool).await.expect("create");
        Arc::new(move |i| {
            let query = sqlx::query("INSERT INTO raw_writes (id, body) VALUES ($1, $2)")
                .bind(i as i64)
                .bind(format!("user-{i}"));
            let pool = pool.clone();
            Box::pin(async move {
                query.execute(&pool).await.expect("insert");
            })
        })
    };
    let what = "raw INSERT, one row per commit (the database alone)";
    measure(what, count, concurrency, move |i| insert(i)).await
}

/// The real router on a free port, rate limits lifted; the site's keys and the base URL.
async fn serve(url: &str) -> (String, SiteKeys) {
    let settings = Settings {
        database_url: url.into(),
        rate_limit: RateLimit {
            widget_per_minute: 1_000_000_000,
            widget_burst: 1_000_000,
            ip_per_minute: 1_000_000_000,
            ip_burst: 1_000_000,
        },
        ..Settings::default()
    };
    let store = trickle::store::connect(url).await.expect("store");
    store.migrate().await.expect("migrate");
    let trickle = App::from_settings(store, &settings).expect("settings");
    let keys = trickle
        .sites()
        .create("Bench shop", vec![ORIGIN.into()])
        .await
        .expect("site");
    let site = trickle.sites().get(&keys.site_id).await.expect("site");
    // The example question sets, as the demo publishes them.
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../question-sets");
    for entry in std::fs::read_dir(examples).expect("question-sets/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let yaml = std::fs::read_to_string(&path).expect("yaml");
        let slug = path.file_stem().and_then(|s| s.to_str()).expect("slug");
        let draft = trickle
            .publishing()
            .save_draft(
                &trickle::app::Actor::command_line(),
                &site,
                slug,
                &yaml,
                &path.display().to_string(),
            )
            .await
            .expect("draft");
        trickle
            .publishing()
            .publish(
                &trickle::app::Actor::command_line(),
                &site,
                slug,
                draft.version,
            )
            .await
            .expect("publish");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = router(AppState::new(trickle, &settings));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve")
    });
    (base, keys)
}

/// A random-looking but repeatable user of the population.
fn pick(i: usize, users: usize) -> usize {
    (i.wrapping_mul(2_654_435_761)) % users
}

async fn bench_database(name: &str, url: &str, users: usize, concurrency: usize) -> Vec<String> {
    let raw = raw_writes(url, users / 5, concurrency).await;
    let (base, keys) = serve(url).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let login = |what: &'static str, count: usize, population: Option<usize>| {
        let (client, base) = (client.clone(), base.clone());
        let secret = keys.secret_key.clone();
        measure(what, count, concurrency, move |i| {
            let user = population.map_or(i, |n| pick(i, n));
            let request = client
                .post(format!("{base}/v1/logins"))
                .bearer_auth(&secret)
                .json(&json!({ "user_id": format!("user-{user}"), "ip": "81.2.69.142" }))
                .send();
            async move {
                let response = request.await.expect("login");
                assert_eq!(response.status(), 200, "login");
            }
        })
    };
    let first = login("`POST /v1/logins`, first login (new user)", users, None).await;
    let returning = login("`POST /v1/logins`, returning user", users / 5, Some(users)).await;
    let (client, base2) = (client.clone(), base.clone());
    let (key, identity) = (keys.publishable_key.clone(), keys.identity_secret.clone());
    let next = measure("`GET /v1/widget/next`", users / 5, concurrency, move |i| {
        // Other users than those the returning-login phase has just touched.
        let user = format!("user-{}", pick(users / 2 + i, users));
        let request = client
            .get(format!("{base2}/v1/widget/next"))
            .header("X-Trickle-Key", &key)
            .header("X-Trickle-User-Hash", user_hash(&identity, &user))
            .header("X-Trickle-User", user)
            .header("Origin", ORIGIN)
            .send();
        async move {
            let response = request.await.expect("next");
            assert!(
                matches!(response.status().as_u16(), 200 | 204),
                "next: {}",
                response.status()
            );
            response.bytes().await.expect("body");
        }
    })
    .await;
    [raw, first, returning, next]
        .iter()
        .map(|f| f.row(name))
        .collect()
}

#[tokio::main]
async fn main() {
    let users = env_number("TRICKLE_BENCH_USERS", 100_000).max(100);
    let concurrency = env_number("TRICKLE_BENCH_CONCURRENCY", 64);
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    eprintln!("bench: SQLite, {users} users…");
    rows.extend(bench_database("SQLite", &sqlite, users, concurrency).await);
    if std::env::var_os("TRICKLE_BENCH_SKIP_POSTGRES").is_none() {
        // A database of its own, dropped when the PostgreSQL figures are in.
        let database = trickle_testkit::PostgresDatabase::create().await;
        eprintln!("bench: PostgreSQL, {users} users…");
        rows.extend(bench_database("PostgreSQL", database.url(), users, concurrency).await);
    }
    println!(
        "\n{users} users, {concurrency} requests in flight, load generator and server in one process on {} CPUs\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| database | what | requests | per second | p50 ms | p99 ms |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
}
