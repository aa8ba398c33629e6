//! `cargo xtask bench-scale-out [--quick]` (issue 11, target 7): two `trickle serve`
//! replicas on one PostgreSQL, both through pgbouncer in transaction pooling mode
//! (`pgbouncer.rs`), each also given the database directly (`database_direct_url`) for
//! migrations and `LISTEN`. Rows for logins and `next`: one replica direct, one through
//! pgbouncer, and two through pgbouncer with the load split over them (a `wrk` of 32
//! connections each, side by side). Then two probes on the two replicas: how long a
//! publish on one takes to reach the other's cache (each replica caching for an hour,
//! so only the invalidation can explain it), and whether the webhook jobs of new users,
//! claimed by both replicas' workers, are each delivered once.
//!
//! Environment as `bench-api`'s (`TRICKLE_TEST_POSTGRES_URL`, `TRICKLE_BENCH_USERS`,
//! `TRICKLE_BENCH_SECONDS`, `TRICKLE_BENCH_SERVER`).

use anyhow::{Context, bail};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::{request, with_secret};
use super::{
    Bench, CONNECTIONS, Load, MAX_REQUESTS, ORIGIN, Row, drop_database, finish_wrk, psql,
    psql_value, replace_database, start_wrk, user_hash,
};
use crate::DEFAULT_TEST_POSTGRES;
use crate::pgbouncer::{self, Pooler};
use crate::process::{Running, ensure_tool, free_port};

/// Server connections pgbouncer opens to PostgreSQL (whose `max_connections` is 100)
/// for the replicas' 32 client connections.
const SERVER_CONNECTIONS: usize = 24;
/// Rounds of the publish probe.
const PUBLISH_ROUNDS: usize = 5;
/// How long a replica may take to see another's publish before the probe says so.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(5);

pub fn bench_scale_out(args: &[String]) -> anyhow::Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    ensure_tool("psql", &["postgresql-client"])?;
    let bench = Bench::prepare(quick, "bench-scale-out")?;
    let pgbouncer = pgbouncer::ensure()?;
    let server =
        std::env::var("TRICKLE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
    let name = format!("trickle_scale_{}", std::process::id());
    let admin = replace_database(&server, "postgres");
    psql(&admin, &format!("CREATE DATABASE {name}"))?;
    let result = (|| {
        let pooler = Pooler::start(&pgbouncer, &server, SERVER_CONNECTIONS, &bench.work)?;
        let replicas = Replicas {
            bench: &bench,
            direct: replace_database(&server, &name),
            pooled: pooler.url(&name),
        };
        replicas.run(if quick { 500 } else { 2_000 })
    })();
    drop_database(&admin, &name);
    let (rows, probes) = result?;
    println!(
        "\n{} users; {CONNECTIONS} connections from wrk in all (two wrk of 32 for two \
         replicas); {} s or {MAX_REQUESTS} requests per run; pgbouncer in transaction \
         pooling mode",
        bench.users, bench.seconds
    );
    println!("\n| row | requests | rate /s | p50 ms | p99 ms | p99.9 ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            row.what, row.requests, row.rate, row.p50_ms, row.p99_ms, row.p999_ms, row.errors
        );
    }
    println!();
    for line in probes {
        println!("{line}");
    }
    Ok(())
}

/// The database reached two ways, and what the rows share.
struct Replicas<'a> {
    bench: &'a Bench,
    direct: String,
    pooled: String,
}

impl Replicas<'_> {
    fn run(&self, webhook_logins: usize) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
        let (keys, users) = self.bench.populate("PostgreSQL", &self.direct)?;
        let mut rows = Vec::new();
        for (label, through_pooler) in [
            ("one replica, direct", false),
            ("one replica, through pgbouncer", true),
        ] {
            let port = free_port()?;
            let _server = self.serve(port, through_pooler)?;
            for what in WORKLOADS {
                let load = load(what, CONNECTIONS, self.bench.seconds);
                let wrk = start_wrk(port, &load, &keys, &users, &run_id(label))?;
                let mut row = finish_wrk(wrk, &load)?;
                row.what = format!("{what}, {label}");
                rows.push(row);
            }
        }
        let ports = [free_port()?, free_port()?];
        // Stopped when dropped, on every path out.
        let _servers = [self.serve(ports[0], true)?, self.serve(ports[1], true)?];
        for what in WORKLOADS {
            let load = load(what, CONNECTIONS / 2, self.bench.seconds);
            let label = "two replicas, through pgbouncer";
            let [a, b] = [("a", ports[0]), ("b", ports[1])].map(|(replica, port)| {
                start_wrk(
                    port,
                    &load,
                    &keys,
                    &users,
                    &run_id(&format!("{label} {replica}")),
                )
            });
            let (a, b) = (finish_wrk(a?, &load)?, finish_wrk(b?, &load)?);
            rows.push(Row {
                what: format!("{what}, {label} (sum of rates, the higher latency of the two)"),
                requests: a.requests + b.requests,
                rate: a.rate + b.rate,
                p50_ms: a.p50_ms.max(b.p50_ms),
                p99_ms: a.p99_ms.max(b.p99_ms),
                p999_ms: a.p999_ms.max(b.p999_ms),
                errors: a.errors + b.errors,
                database_rate: None,
            });
        }
        let probes = vec![
            self.publish_probe(ports)?,
            self.webhook_probe(ports, webhook_logins)?,
        ];
        Ok((rows, probes))
    }

    /// A replica on `port`, through the pooler (and direct for migrations and LISTEN)
    /// or direct; caching for an hour, calling webhooks on 127.0.0.1.
    fn serve(&self, port: u16, through_pooler: bool) -> anyhow::Result<Running> {
        let env = [
            ("TRICKLE_CACHE_TTL_SECONDS", "3600".to_owned()),
            (
                "TRICKLE_OUTBOUND__ALLOW_CIDRS",
                "[\"127.0.0.0/8\"]".to_owned(),
            ),
        ];
        if through_pooler {
            self.bench
                .serve_with(&self.pooled, Some(&self.direct), port, &env)
        } else {
            self.bench.serve_with(&self.direct, None, port, &env)
        }
    }

    /// Publishes a set on one replica, then asks the other for the user's next question
    /// until the set's question comes; a new site each round, whose empty list of live
    /// sets the other replica cached just before.
    fn publish_probe(&self, [a, b]: [u16; 2]) -> anyhow::Result<String> {
        let mut seen_ms = Vec::new();
        for round in 0..PUBLISH_ROUNDS {
            let keys = self.bench.create_site(&self.direct)?;
            let login = r#"{"user_id": "probe"}"#;
            expect(
                with_secret(a, "POST", "/v1/logins", &keys.secret_key, login)?,
                200,
                "login",
            )?;
            let hash = user_hash(&keys.identity_secret, "probe")?;
            let next = || {
                request(
                    b,
                    "GET",
                    "/v1/widget/next",
                    &[
                        ("X-Trickle-Key", &keys.publishable_key),
                        ("X-Trickle-User", "probe"),
                        ("X-Trickle-User-Hash", &hash),
                        ("Origin", ORIGIN),
                    ],
                    "",
                )
            };
            expect(next()?, 204, "next before the publish")?;
            let set = r#"{"slug": "probe", "title": "Probe", "stages": [{"at_login": 1,
                "questions": [{"key": "probe", "type": "text", "title": "Probe?"}]}]}"#;
            let path = "/v1/question-sets/probe";
            expect(
                with_secret(a, "PUT", path, &keys.secret_key, set)?,
                201,
                "draft",
            )?;
            let publish = format!("{path}/versions/1/publish");
            expect(
                with_secret(a, "POST", &publish, &keys.secret_key, "")?,
                200,
                "publish",
            )?;
            let published = Instant::now();
            loop {
                let (status, body) = next()?;
                if status == 200 && body.contains("Probe?") {
                    seen_ms.push(published.elapsed().as_secs_f64() * 1e3);
                    break;
                }
                if published.elapsed() > PUBLISH_PATIENCE {
                    bail!(
                        "round {round}: the other replica did not see the publish within {PUBLISH_PATIENCE:?} \
                         (its cache lives an hour): {status} {body}"
                    );
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let shown: Vec<String> = seen_ms.iter().map(|ms| format!("{ms:.1}")).collect();
        Ok(format!(
            "Publish on replica A seen by replica B's `next` after {} ms ({PUBLISH_ROUNDS} rounds; \
             each replica caches for an hour)",
            shown.join(", ")
        ))
    }

    /// `logins` new users of a new site, alternately on each replica, whose
    /// `user.signed_up` webhooks both replicas' job workers claim and deliver to a
    /// receiver here; counts what arrived, and the jobs' attempts in the database.
    fn webhook_probe(&self, ports: [u16; 2], logins: usize) -> anyhow::Result<String> {
        let keys = self.bench.create_site(&self.direct)?;
        let receiver = Receiver::start()?;
        let subscription = format!(
            r#"{{"url": "http://127.0.0.1:{}/hook", "events": ["user.signed_up"]}}"#,
            receiver.port
        );
        expect(
            with_secret(
                ports[0],
                "POST",
                "/v1/webhooks",
                &keys.secret_key,
                &subscription,
            )?,
            201,
            "webhook",
        )?;
        for i in 0..logins {
            let body = format!(r#"{{"user_id": "w{i}"}}"#);
            expect(
                with_secret(ports[i % 2], "POST", "/v1/logins", &keys.secret_key, &body)?,
                200,
                "login",
            )?;
        }
        let mut last_count = 0;
        let mut last_progress = Instant::now();
        loop {
            let count = receiver.ids.lock().expect("receiver").len();
            if count > last_count {
                last_count = count;
                last_progress = Instant::now();
            }
            if count >= logins && last_progress.elapsed() > Duration::from_secs(2) {
                break;
            }
            if last_progress.elapsed() > Duration::from_secs(30) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let ids = receiver.ids.lock().expect("receiver").clone();
        let distinct: HashSet<&String> = ids.iter().collect();
        let jobs = psql_value(
            &self.direct,
            &format!(
                "SELECT count(*) || ' jobs, ' || count(*) FILTER (WHERE attempts = 1) \
                 || ' claimed once, ' || count(*) FILTER (WHERE status <> 'done') || ' not done' \
                 FROM jobs WHERE site_id = '{}'",
                keys.site_id
            ),
        )?;
        Ok(format!(
            "Webhooks from both replicas' workers: {logins} new users (alternately on each \
             replica), {} deliveries received, {} distinct message ids ({} duplicates, {} \
             missing); in the database: {jobs}",
            ids.len(),
            distinct.len(),
            ids.len() - distinct.len(),
            logins.saturating_sub(distinct.len()),
        ))
    }
}

const WORKLOADS: [&str; 2] = ["logins", "next"];

fn load(what: &'static str, connections: usize, seconds: usize) -> Load<'static> {
    Load {
        script: what,
        connections,
        threads: if connections >= 64 { 2 } else { 1 },
        seconds,
        max_requests: MAX_REQUESTS,
        path: "",
    }
}

/// A run id for the logins script (new users per run) from a row's label.
fn run_id(label: &str) -> String {
    let short: String = label.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{}{short}", std::process::id())
}

fn expect((status, body): (u16, String), wanted: u16, what: &str) -> anyhow::Result<String> {
    if status != wanted {
        bail!("{what}: {status} {body} (expected {wanted})");
    }
    Ok(body)
}

/// A webhook receiver on 127.0.0.1 that answers 204 and keeps each request's
/// `webhook-id`.
struct Receiver {
    port: u16,
    ids: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let ids = Arc::new(Mutex::new(Vec::new()));
        let kept = ids.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    if let Ok(Some(id)) = receive(stream) {
                        kept.lock().expect("receiver").push(id);
                    }
                });
            }
        });
        Ok(Receiver { port, ids })
    }
}

/// Reads one request (head and body), answers 204, and returns its `webhook-id`.
fn receive(stream: std::net::TcpStream) -> anyhow::Result<Option<String>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone().context("stream")?);
    let mut id = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "webhook-id" => id = Some(value.trim().to_owned()),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok(id)
}
