//! `cargo xtask bench-api [--quick]`: the release `trickle serve` as its own process on a
//! fresh database (an SQLite file; a new database on the test PostgreSQL server), a
//! population made by bulk SQL (`trickle-bench-db populate`), and load from a separate
//! process: `wrk` (Debian's package, installed when missing) with the Lua scripts in
//! `xtask/bench/`, 64 connections, every run bounded by time and by count. Beside each
//! row, the database's own rate for the same statements in the same run: pgbench with a
//! custom script on PostgreSQL, `trickle-bench-db rate` (sqlx, one process) on SQLite.
//! Then the query rows (`queries.rs`): the two classic segments' counts, a filtered page
//! of users and a CSV export, each from one connection; and the server's resident memory.
//!
//! Environment: `TRICKLE_TEST_POSTGRES_URL` (the server; default the test one),
//! `TRICKLE_BENCH_USERS` (population; default 1,000,000, `--quick` 100,000),
//! `TRICKLE_BENCH_SECONDS` (per run; default 20, `--quick` 4),
//! `TRICKLE_BENCH_ONLY` (`sqlite` or `postgres`), `TRICKLE_BENCH_SERVER` (another
//! `trickle` binary to serve, e.g. one built from an older commit, for before/after pairs).

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Running, ensure_tool, free_port};
use crate::{DEFAULT_TEST_POSTGRES, build_release, run, target_dir, workspace_root};

mod database_alone;
mod http;
mod queries;
mod scale_out;

pub use scale_out::bench_scale_out;

/// Connections the load generator keeps open.
const CONNECTIONS: usize = 64;
/// Requests one run makes at most (the other bound is time).
const MAX_REQUESTS: usize = 2_000_000;
/// Requests one query row makes at most (each scans the population).
const QUERY_REQUESTS: usize = 500;
/// Users in the file the widget scripts read (user id and hash per line).
const HASHED_USERS: usize = 400_000;
const ORIGIN: &str = "https://shop.example.com";
const WORKLOADS: [&str; 3] = ["logins", "next", "answers"];

/// One row of the table.
struct Row {
    what: String,
    requests: u64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    errors: u64,
    database_rate: Option<f64>,
}

/// How `wrk` drives one row.
struct Load<'a> {
    /// `xtask/bench/<script>.lua`.
    script: &'a str,
    connections: usize,
    threads: usize,
    seconds: usize,
    max_requests: usize,
    /// `BENCH_PATH` for the query script.
    path: &'a str,
}

/// The server's memory after a database's rows, in MiB.
struct Memory {
    database: String,
    peak_mib: f64,
    now_mib: f64,
}

/// The keys `trickle site create` prints.
struct Keys {
    site_id: String,
    publishable_key: String,
    secret_key: String,
    identity_secret: String,
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn bench_api(args: &[String]) -> anyhow::Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let only = std::env::var("TRICKLE_BENCH_ONLY").unwrap_or_default();
    ensure_tool("pgbench", &["postgresql-client"])?;
    let bench = Bench::prepare(quick, "bench")?;
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    if only.is_empty() || only == "sqlite" {
        let url = format!("sqlite://{}", bench.work.join("bench.db").display());
        let (these, used) = bench.database("SQLite", &url, None)?;
        rows.extend(these);
        memory.push(used);
    }
    if only.is_empty() || only == "postgres" {
        let server = std::env::var("TRICKLE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
        let name = format!("trickle_bench_{}", std::process::id());
        let admin = replace_database(&server, "postgres");
        psql(&admin, &format!("CREATE DATABASE {name}"))?;
        let url = replace_database(&server, &name);
        let result = bench.database("PostgreSQL", &url, Some(&url));
        drop_database(&admin, &name);
        let (these, used) = result?;
        rows.extend(these);
        memory.push(used);
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "\n{} users; {CONNECTIONS} connections from wrk (2 threads, its own process); \
         {} s or {MAX_REQUESTS} requests per run; {cpus} CPUs shared by server, \
         database and load\n",
        bench.users, bench.seconds
    );
    println!(
        "| row | requests | rate /s | p50 ms | p99 ms | p99.9 ms | errors | database alone /s | Trickle / database |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let (database, share) = match row.database_rate {
            Some(r) => (format!("{r:.0}"), format!("{:.0} %", 100.0 * row.rate / r)),
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {database} | {share} |",
            row.what, row.requests, row.rate, row.p50_ms, row.p99_ms, row.p999_ms, row.errors
        );
    }
    println!();
    for used in memory {
        println!(
            "{}: server resident memory {:.0} MiB at its peak, {:.0} MiB after the last row",
            used.database, used.peak_mib, used.now_mib
        );
    }
    Ok(())
}

/// What a database's rows share.
struct Bench {
    trickle: PathBuf,
    bench_db: PathBuf,
    work: PathBuf,
    users: usize,
    seconds: usize,
}

impl Bench {
    /// Installs `wrk` if missing, builds the release binaries, and empties
    /// `target/<work>`; the population and run length from the environment.
    fn prepare(quick: bool, work: &str) -> anyhow::Result<Bench> {
        ensure_tool("wrk", &["wrk"])?;
        build_release(&["trickle", "trickle-bench-db"])?;
        let release = target_dir().join("release");
        let work = target_dir().join(work);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        Ok(Bench {
            trickle: std::env::var_os("TRICKLE_BENCH_SERVER")
                .map(PathBuf::from)
                .unwrap_or_else(|| release.join("trickle")),
            bench_db: release.join("trickle-bench-db"),
            work,
            users: env_number(
                "TRICKLE_BENCH_USERS",
                if quick { 100_000 } else { 1_000_000 },
            ),
            seconds: env_number("TRICKLE_BENCH_SECONDS", if quick { 4 } else { 20 }),
        })
    }

    /// Migrates, creates the site, publishes the example question sets and makes the
    /// population; the site's keys and the file of hashed users for the widget scripts.
    fn populate(&self, name: &str, url: &str) -> anyhow::Result<(Keys, PathBuf)> {
        eprintln!("bench: {name}: migrating, one site, the example question sets");
        self.trickle_cli(url, &["migrate"])?;
        let keys = self.create_site(url)?;
        let sets: Vec<String> = std::fs::read_dir(workspace_root().join("question-sets"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| p.display().to_string())
            .collect();
        let mut push = vec![
            "question-sets",
            "push",
            "--site",
            &keys.site_id,
            "--publish",
        ];
        push.extend(sets.iter().map(String::as_str));
        self.trickle_cli(url, &push)?;
        eprintln!("bench: {name}: {} users by bulk SQL", self.users);
        let users = self.users.to_string();
        let mut populate = Command::new(&self.bench_db);
        populate.args(["populate", url, &keys.site_id, &users]);
        run(populate)?;
        let hashed = self.work.join(format!("users-{name}.tsv"));
        write_hashed_users(&hashed, &keys.identity_secret, self.hashed_users())?;
        Ok((keys, hashed))
    }

    /// Users in the file of hashed users: the lower half of the population, since the
    /// database-alone answer runs write to the upper half.
    fn hashed_users(&self) -> usize {
        (self.users / 2).min(HASHED_USERS)
    }

    fn database(
        &self,
        name: &str,
        url: &str,
        postgres: Option<&str>,
    ) -> anyhow::Result<(Vec<Row>, Memory)> {
        let (keys, hashed) = self.populate(name, url)?;
        let hashed_users = self.hashed_users();
        let mut database_rates = Vec::new();
        for what in WORKLOADS {
            eprintln!("bench: {name}: the database alone, {what}");
            let rate = match postgres {
                Some(url) => self.pgbench(url, &keys.site_id, what)?,
                None => self.sqlite_rate(url, &keys.site_id, what)?,
            };
            database_rates.push(rate);
        }

        let port = free_port()?;
        let server = self.serve(url, port)?;
        let result = (|| {
            let mut rows = Vec::new();
            for (what, database_rate) in WORKLOADS.iter().zip(database_rates) {
                eprintln!("bench: {name}: Trickle, {what}");
                let load = Load {
                    script: what,
                    connections: CONNECTIONS,
                    threads: 2,
                    seconds: self.seconds,
                    // Each user of the file answers once (a second answer is refused),
                    // with room for the requests in flight when a thread stops.
                    max_requests: match *what {
                        "answers" => hashed_users.saturating_sub(CONNECTIONS),
                        _ => MAX_REQUESTS,
                    },
                    path: "",
                };
                let mut row = self.wrk(port, &load, &keys, &hashed)?;
                row.what = format!("{name} {}", describe(what));
                if row.requests as usize >= load.max_requests {
                    // wrk divides by the whole duration even when the threads stopped early.
                    row.what
                        .push_str(" (stopped by count before the time: at least this rate)");
                }
                row.database_rate = Some(database_rate);
                rows.push(row);
            }
            for query in queries::prepare(port, &keys.secret_key)? {
                eprintln!("bench: {name}: Trickle, {}", query.label);
                let load = Load {
                    script: "query",
                    connections: 1,
                    threads: 1,
                    seconds: self.seconds.min(10),
                    max_requests: QUERY_REQUESTS,
                    path: &query.path,
                };
                let mut row = self.wrk(port, &load, &keys, &hashed)?;
                row.what = format!("{name} {}, 1 connection", query.label);
                rows.push(row);
            }
            let (peak_mib, now_mib) = queries::memory_mib(server.id())?;
            let memory = Memory {
                database: name.to_owned(),
                peak_mib,
                now_mib,
            };
            Ok((rows, memory))
        })();
        drop(server);
        result
    }

    fn trickle_cli(&self, url: &str, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(&self.trickle)
            .arg("--database-url")
            .arg(url)
            .args(args)
            .current_dir(&self.work)
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running trickle {args:?}"))?;
        if !output.status.success() {
            bail!("trickle {args:?} failed: {}", output.status);
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    fn create_site(&self, url: &str) -> anyhow::Result<Keys> {
        let printed = self.trickle_cli(
            url,
            &["site", "create", "--name", "Bench shop", "--origin", ORIGIN],
        )?;
        let keys: serde_json::Value = serde_json::from_str(&printed)?;
        let field = |name: &str| -> anyhow::Result<String> {
            keys[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no {name} in {printed}"))
        };
        Ok(Keys {
            site_id: field("site_id")?,
            publishable_key: field("publishable_key")?,
            secret_key: field("secret_key")?,
            identity_secret: field("identity_secret")?,
        })
    }

    /// `trickle serve` on `port`, rate limits lifted, once it accepts connections.
    fn serve(&self, url: &str, port: u16) -> anyhow::Result<Running> {
        self.serve_with(url, None, port, &[])
    }

    /// [`serve`](Self::serve) with the database also reached directly at `direct_url`
    /// (`url` being a pooler's), and more environment.
    fn serve_with(
        &self,
        url: &str,
        direct_url: Option<&str>,
        port: u16,
        env: &[(&str, String)],
    ) -> anyhow::Result<Running> {
        let log = self.work.join(format!("server-{port}.log"));
        let direct = direct_url.map(|direct| ["--database-direct-url", direct]);
        let mut server = Running::new(
            Command::new(&self.trickle)
                .args(["--database-url", url])
                .args(direct.iter().flatten())
                .args(["serve", "--listen"])
                .arg(format!("127.0.0.1:{port}"))
                .current_dir(&self.work)
                .env("TRICKLE_RATE_LIMIT__WIDGET_PER_MINUTE", "1000000000")
                .env("TRICKLE_RATE_LIMIT__WIDGET_BURST", "1000000")
                .env("TRICKLE_RATE_LIMIT__IP_PER_MINUTE", "1000000000")
                .env("TRICKLE_RATE_LIMIT__IP_BURST", "1000000")
                .env("RUST_LOG", "warn")
                .envs(env.iter().map(|(name, value)| (name, value)))
                // The server logs to stderr: warnings and errors of a run are kept beside it.
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .context("starting trickle serve")?,
        );
        server
            .wait_for_port(port, Duration::from_secs(30), &log)
            .context("trickle serve did not start")?;
        Ok(server)
    }

    fn wrk(&self, port: u16, load: &Load, keys: &Keys, users: &Path) -> anyhow::Result<Row> {
        let run = std::process::id().to_string();
        finish_wrk(start_wrk(port, load, keys, users, &run)?, load)
    }
}

/// `wrk` driving `port` as `load` says, in the background; `run` sets the logins
/// script's users and event ids apart from other runs'.
fn start_wrk(
    port: u16,
    load: &Load,
    keys: &Keys,
    users: &Path,
    run: &str,
) -> anyhow::Result<Running> {
    let script = workspace_root().join(format!("xtask/bench/{}.lua", load.script));
    let threads = load.threads;
    Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &load.connections.to_string(),
        ])
        .arg("-d")
        .arg(format!("{}s", load.seconds))
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}"))
        .env(
            "BENCH_MAX_PER_THREAD",
            (load.max_requests / threads).to_string(),
        )
        .env("BENCH_PATH", load.path)
        .env("BENCH_THREADS", threads.to_string())
        .env("BENCH_RUN", run)
        .env("BENCH_SECRET", &keys.secret_key)
        .env("BENCH_KEY", &keys.publishable_key)
        .env("BENCH_ORIGIN", ORIGIN)
        .env("BENCH_USERS_FILE", users)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running wrk")
        .map(Running::new)
}

/// Waits for a `wrk` of [`start_wrk`] and reads its summary line.
fn finish_wrk(wrk: Running, load: &Load) -> anyhow::Result<Row> {
    let output = wrk.wait_with_output().context("waiting for wrk")?;
    let printed = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {printed}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = printed
        .lines()
        .find(|l| l.starts_with("BENCH "))
        .with_context(|| format!("no summary from wrk: {printed}"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .with_context(|| format!("no {name} in {line}"))?
            .parse::<f64>()
            .context(name.to_owned())
    };
    let requests = field("requests")?;
    Ok(Row {
        what: load.script.into(),
        requests: requests as u64,
        rate: requests / (field("duration_us")? / 1e6),
        p50_ms: field("p50_us")? / 1e3,
        p99_ms: field("p99_us")? / 1e3,
        p999_ms: field("p999_us")? / 1e3,
        errors: field("errors")? as u64,
        database_rate: None,
    })
}

fn describe(what: &str) -> &'static str {
    match what {
        "logins" => "`POST /v1/logins` (new users)",
        "next" => "`GET /v1/widget/next`",
        _ => "`POST /v1/widget/answers`",
    }
}

/// `u<i>\t<user hash>` for the first `count` users, for the widget scripts.
fn write_hashed_users(path: &Path, identity_secret: &str, count: usize) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..count {
        let user = format!("u{i}");
        writeln!(out, "{user}\t{}", user_hash(identity_secret, &user)?)?;
    }
    out.flush()?;
    Ok(())
}

/// The user hash the widget sends: hex HMAC-SHA256 of the user id.
fn user_hash(identity_secret: &str, user: &str) -> anyhow::Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(identity_secret.as_bytes())?;
    mac.update(user.as_bytes());
    let mut hash = String::with_capacity(64);
    for byte in mac.finalize().into_bytes() {
        write!(hash, "{byte:02x}")?;
    }
    Ok(hash)
}

/// The same server URL naming another database.
fn replace_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    format!("{base}/{database}")
}

/// Drops a benchmark's database; a failure is printed, not returned, so that it does not
/// hide the benchmark's own error.
fn drop_database(admin_url: &str, name: &str) {
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if let Err(error) = psql(admin_url, &sql) {
        eprintln!("bench: dropping database {name}: {error:#}");
    }
}

/// Runs `sql`, for its effect.
fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    psql_value(url, sql).map(drop)
}

/// One value that `sql` selects.
fn psql_value(url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args(["-qAt", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .context("running psql")?;
    if !output.status.success() {
        bail!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}
