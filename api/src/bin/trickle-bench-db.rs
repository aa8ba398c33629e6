//! `trickle-bench-db`: the database side of `cargo xtask bench` (not part of the product).
//!
//! - `populate URL SITE_ID USERS`: USERS users `u0`… of varied profiles (`PERSON`) and their
//!   logins, half of them with a `role` answer or skip and its prompt events, by bulk SQL in one
//!   transaction (seconds for a million, where HTTP would take minutes).
//! - `rate URL SITE_ID WHAT SECONDS MAX CONCURRENCY USERS`: the database's own rate for
//!   the statements Trickle runs for one request of WHAT (`logins`, `next`, `answers`),
//!   one transaction per request, from CONCURRENCY tasks in this one process, with the
//!   store's connection settings; stops after SECONDS or MAX requests. Prints
//!   `rate=<requests per second> requests=<n>`. Used for SQLite; PostgreSQL's own rate
//!   comes from pgbench with the same statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{SecondsFormat, Utc};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{ConnectOptions, SqlitePool};
use trickle::store::SqliteStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> anyhow::Result<&str> {
        args.get(i)
            .map(String::as_str)
            .with_context(|| format!("argument {i} missing; see the doc comment"))
    };
    match arg(0)? {
        "populate" => populate(arg(1)?, arg(2)?, arg(3)?.parse()?).await,
        "rate" => {
            let pool = sqlite(arg(1)?).await?;
            let started = Instant::now();
            let done = rate(
                pool,
                arg(2)?.to_owned(),
                arg(3)?,
                Duration::from_secs_f64(arg(4)?.parse()?),
                arg(5)?.parse()?,
                arg(6)?.parse()?,
                arg(7)?.parse()?,
            )
            .await?;
            let seconds = started.elapsed().as_secs_f64();
            println!("rate={:.0} requests={done}", done as f64 / seconds);
            Ok(())
        }
        other => bail!("unknown command {other:?}: populate or rate"),
    }
}

/// A pool with the store's SQLite settings.
async fn sqlite(url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteStore::connect_options(url)?.disable_statement_logging();
    Ok(SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?)
}

fn timestamp(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// How user `i` of the population looks, as SQL over the column `i` (same on both
/// databases): 1–5 logins, the first 0–89 days ago, gender, a birthday between 1950 and
/// 2004, one or two of four interests; the upper half's users at positions not divisible
/// by 4 answered `role` at login 1, those divisible by 4 skipped it. The lower half holds
/// no role, so Trickle's answer runs (which answer `role` for users of the lower half)
/// find it due.
const PERSON: &str = "SELECT i, \
     1 + (i * 13) % 5 AS logins, \
     (i * 31) % 90 AS first_days, \
     CASE WHEN (i * 13) % 5 = 0 THEN (i * 31) % 90 \
       ELSE ((i * 31) % 90) * ((i * 17) % 100) / 100 END AS last_days, \
     CASE (i * 7) % 3 WHEN 0 THEN 'male' WHEN 1 THEN 'female' ELSE 'diverse' END AS gender, \
     (i * 7919) % 20000 AS birthday_days, \
     CASE i % 4 WHEN 0 THEN 'fitness' WHEN 1 THEN 'cooking' WHEN 2 THEN 'travel' ELSE 'music' END \
       AS interest, \
     CASE (i / 4) % 4 WHEN 0 THEN 'fitness' WHEN 1 THEN 'cooking' WHEN 2 THEN 'travel' \
       ELSE 'music' END AS second_interest, \
     CASE (i / 3) % 4 WHEN 0 THEN 'student' WHEN 1 THEN 'junior' WHEN 2 THEN 'senior' \
       ELSE 'founder' END AS role, \
     CASE WHEN i < $1 / 2 THEN 'none' WHEN i % 4 = 0 THEN 'skipped' ELSE 'answered' END \
       AS role_prompt";

/// The site's question sets, published before the population was made, made live
/// since before its first login, as their prompt events say they were.
const LIVE_ALL_ALONG: &str = "UPDATE question_set_live_periods SET live_from = $1 \
                              WHERE site_id = $2 AND live_until IS NULL";

/// Before the population's first login (at most 90 days ago).
fn all_along(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    now - chrono::Days::new(100)
}

async fn populate(url: &str, site_id: &str, users: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    if url.starts_with("sqlite:") {
        let pool = sqlite(url).await?;
        let mut tx = pool.begin().await?;
        for statement in sqlite_population() {
            sqlx::query(sqlx::AssertSqlSafe(&*statement))
                .bind(users as i64)
                .bind(site_id)
                .bind(now.format("%Y-%m-%dT%H:%M:%S").to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(LIVE_ALL_ALONG)
            .bind(all_along(now).to_rfc3339_opts(SecondsFormat::Micros, true))
            .bind(site_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        // The commit's automatic checkpoint has written the population into the database
        // file; this one also gives back the 2.3 GB log file (and writes ANALYZE's pages).
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&pool)
            .await?;
        if busy != 0 {
            bail!("the population's log could not be checkpointed");
        }
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        let mut tx = pool.begin().await?;
        for statement in postgres_population() {
            sqlx::query(sqlx::AssertSqlSafe(&*statement))
                .bind(users as i64)
                .bind(site_id)
                .bind(now.to_rfc3339_opts(SecondsFormat::Micros, true))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(LIVE_ALL_ALONG)
            .bind(all_along(now))
            .bind(site_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // As autovacuum leaves tables some time after a bulk load (it may be off, as on
        // the test server): with the visibility map set, index-only scans skip the heap.
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
        // Written out now rather than by a checkpoint during the timed rows (`CHECKPOINT`
        // needs a superuser or, from PostgreSQL 15, the `pg_checkpoint` role).
        sqlx::query("CHECKPOINT").execute(&pool).await?;
    }
    eprintln!(
        "trickle-bench-db: {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// How many days ago a user's login `k` (of `logins`; an SQL expression) was: the first
/// at `first_days`, the last at `last_days`, the others evenly between.
fn login_days(k: &str) -> String {
    format!(
        "(first_days - (first_days - last_days) * (({k}) - 1) / \
         CASE WHEN logins > 1 THEN logins - 1 ELSE 1 END)"
    )
}

/// Users, their logins, role answers and prompt events, in SQLite's flavour (timestamps as the
/// store writes them: RFC 3339 text with six fractional digits).
fn sqlite_population() -> Vec<String> {
    let people = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1), \
         p AS ({PERSON} FROM n)"
    );
    let at = |days: &str| -> String {
        format!("strftime('%Y-%m-%dT%H:%M:%S', $3, '-' || {days} || ' days') || '.000000Z'")
    };
    let first = at("first_days");
    let last = at("last_days");
    let login = at(&login_days("k"));
    let previous = at(&login_days("k - 1"));
    vec![
        format!(
            "{people} INSERT INTO users (site_id, user_id, login_count, first_login_at, \
             last_login_at, user_metadata, created_at, updated_at) \
             SELECT $2, 'u' || i, logins, {first}, {last}, \
             jsonb(CASE WHEN role_prompt = 'answered' THEN json_set(profile, '$.role', role) \
               ELSE profile END), \
             {first}, {last} FROM (SELECT *, json_object('gender', gender, \
               'birthday', date('1950-01-01', '+' || birthday_days || ' days'), \
               'interests', CASE WHEN interest = second_interest THEN json_array(interest) \
                 ELSE json_array(interest, second_interest) END) AS profile FROM p)"
        ),
        format!(
            "{people} INSERT INTO login_events (site_id, event_id, user_id, occurred_at, ip, \
             user_agent, login_count, first_login_at, last_login_at, signed_up, \
             previous_login_at) \
             SELECT $2, 'b' || i || '-' || k, 'u' || i, {login}, NULL, NULL, k, {first}, \
             {login}, k = 1, CASE WHEN k > 1 THEN {previous} END FROM p, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 \
             UNION ALL SELECT 4 UNION ALL SELECT 5) AS ks WHERE k <= logins"
        ),
        format!(
            "{people} INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
             login_count, answered_at) SELECT $2, 'u' || i, 'role', 'onboarding', 1, \
             json_quote(role), 1, {first} FROM p WHERE role_prompt = 'answered'"
        ),
        format!(
            "{people} INSERT INTO prompt_events (site_id, user_id, question_set, version, key, \
             kind, login_count, created_at, login_at) SELECT $2, 'u' || i, 'onboarding', 1, 'role', \
             kind, 1, {first}, {first} FROM p, (SELECT 'impression' AS kind UNION ALL SELECT 'answered' \
             UNION ALL SELECT 'skipped') AS kinds \
             WHERE role_prompt <> 'none' AND (kind = 'impression' OR \
             (kind = 'answered') = (role_prompt = 'answered'))"
        ),
    ]
}

/// The same population in PostgreSQL's flavour.
fn postgres_population() -> Vec<String> {
    let people = format!("WITH p AS ({PERSON} FROM generate_series(0, $1 - 1) AS i)");
    let at = |days: &str| format!("$3::timestamptz - make_interval(days => ({days})::int)");
    let first = at("first_days");
    let last = at("last_days");
    let login = at(&login_days("k"));
    let previous = at(&login_days("k - 1"));
    vec![
        format!(
            "{people} INSERT INTO users (site_id, user_id, login_count, first_login_at, \
             last_login_at, user_metadata, created_at, updated_at) \
             SELECT $2, 'u' || i, logins, {first}, {last}, \
             jsonb_build_object('gender', gender, \
               'birthday', to_char(date '1950-01-01' + birthday_days::int, 'YYYY-MM-DD'), \
               'interests', CASE WHEN interest = second_interest THEN jsonb_build_array(interest) \
                 ELSE jsonb_build_array(interest, second_interest) END) \
             || CASE WHEN role_prompt = 'answered' THEN jsonb_build_object('role', role) \
                ELSE '{{}}'::jsonb END, \
             {first}, {last} FROM p"
        ),
        format!(
            "{people} INSERT INTO login_events (site_id, event_id, user_id, occurred_at, ip, \
             user_agent, login_count, first_login_at, last_login_at, signed_up, \
             previous_login_at) \
             SELECT $2, 'b' || i || '-' || k, 'u' || i, {login}, NULL, NULL, k, {first}, \
             {login}, k = 1, CASE WHEN k > 1 THEN {previous} END FROM p, generate_series(1, 5) AS k WHERE k <= logins"
        ),
        format!(
            "{people} INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
             login_count, answered_at) SELECT $2, 'u' || i, 'role', 'onboarding', 1, \
             to_jsonb(role), 1, {first} FROM p WHERE role_prompt = 'answered'"
        ),
        format!(
            "{people} INSERT INTO prompt_events (site_id, user_id, question_set, version, key, \
             kind, login_count, created_at, login_at) SELECT $2, 'u' || i, 'onboarding', 1, 'role', \
             kind, 1, {first}, {first} FROM p, (VALUES ('impression'), ('answered'), ('skipped')) AS kinds (kind) \
             WHERE role_prompt <> 'none' AND (kind = 'impression' OR \
             (kind = 'answered') = (role_prompt = 'answered'))"
        ),
    ]
}

/// Runs request `i` of `what`: the statements of `count_login`, `user_with_history`, or
/// `record_answer`, one transaction each.
async fn one(
    pool: &SqlitePool,
    site: &str,
    what: &str,
    i: usize,
    users: usize,
) -> anyhow::Result<()> {
    let now = timestamp(Utc::now());
    match what {
        "logins" => {
            let (user, event) = (format!("db-{i}"), format!("db-event-{i}"));
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO login_events (site_id, event_id, user_id, occurred_at, ip, user_agent, \
                 login_count, first_login_at, last_login_at, signed_up, previous_login_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, 0, $4, $4, FALSE, NULL) \
                 ON CONFLICT (site_id, event_id) DO NOTHING",
            )
            .bind(site)
            .bind(&event)
            .bind(&user)
            .bind(&now)
            .bind("81.2.69.142")
            .execute(&mut *tx)
            .await?;
            let (count, first, last): (i64, String, String) = sqlx::query_as(
                "INSERT INTO users (site_id, user_id, login_count, first_login_at, last_login_at, \
                 last_ip, last_user_agent, email, name, user_metadata, app_metadata, \
                 created_at, updated_at) \
                 VALUES ($1, $2, 1, $3, $3, $4, NULL, NULL, NULL, jsonb('{}'), jsonb('{}'), \
                 $3, $3) \
                 ON CONFLICT (site_id, user_id) DO UPDATE SET \
                 login_count = users.login_count + 1, \
                 first_login_at = min(users.first_login_at, excluded.first_login_at), \
                 last_login_at = max(users.last_login_at, excluded.last_login_at), \
                 last_ip = coalesce(excluded.last_ip, users.last_ip), \
                 updated_at = excluded.updated_at \
                 RETURNING login_count, first_login_at, last_login_at",
            )
            .bind(site)
            .bind(&user)
            .bind(&now)
            .bind("81.2.69.142")
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE login_events SET login_count = $1, first_login_at = $2, \
                 last_login_at = $3, signed_up = $4 WHERE site_id = $5 AND event_id = $6",
            )
            .bind(count)
            .bind(&first)
            .bind(&last)
            .bind(count == 1)
            .bind(site)
            .bind(&event)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        "next" => {
            let user = format!("u{}", (i.wrapping_mul(2_654_435_761)) % users);
            sqlx::query(
                "SELECT user_id, login_count, first_login_at, last_login_at, last_ip, \
                 last_user_agent, email, name, json(user_metadata), json(app_metadata), \
                 created_at, updated_at, last_prompted_at FROM users \
                 WHERE site_id = $1 AND user_id = $2",
            )
            .bind(site)
            .bind(&user)
            .fetch_optional(pool)
            .await?;
            sqlx::query(
                "SELECT question_set, key, kind, login_count FROM prompt_events \
                 WHERE site_id = $1 AND user_id = $2 AND kind <> 'impression' ORDER BY id",
            )
            .bind(site)
            .bind(&user)
            .fetch_all(pool)
            .await?;
        }
        "answers" => {
            // Users of the upper half: the HTTP run answers from the lower one.
            let user = format!("u{}", users - 1 - i % (users / 2));
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE users SET updated_at = $1 WHERE site_id = $2 AND user_id = $3 \
                 RETURNING json(user_metadata), json(app_metadata), login_count",
            )
            .bind(&now)
            .bind(site)
            .bind(&user)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE users SET user_metadata = jsonb($1), app_metadata = jsonb($2) \
                 WHERE site_id = $3 AND user_id = $4",
            )
            .bind(r#"{"role":"founder"}"#)
            .bind("{}")
            .bind(site)
            .bind(&user)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO answers (site_id, user_id, key, question_set, version, value, \
                 login_count, answered_at) VALUES ($1, $2, 'role', 'onboarding', 1, '\"founder\"', 1, $3) \
                 ON CONFLICT (site_id, user_id, key) DO UPDATE SET value = excluded.value, \
                 answered_at = excluded.answered_at",
            )
            .bind(site)
            .bind(&user)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
                 login_count, created_at, login_at) VALUES ($1, $2, 'onboarding', 1, 'role', 'answered', 1, \
                 $3, (SELECT last_login_at FROM users WHERE site_id = $1 AND user_id = $2))",
            )
            .bind(site)
            .bind(&user)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        other => bail!("unknown workload {other:?}: logins, next or answers"),
    }
    Ok(())
}

/// Requests of `what` from `concurrency` tasks until `limit` passes or `max` are done.
async fn rate(
    pool: SqlitePool,
    site: String,
    what: &str,
    limit: Duration,
    max: usize,
    concurrency: usize,
    users: usize,
) -> anyhow::Result<usize> {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + limit;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (pool, site, what, next) = (pool.clone(), site.clone(), what.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max {
                    break;
                }
                one(&pool, &site, &what, i, users).await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    Ok(done)
}
