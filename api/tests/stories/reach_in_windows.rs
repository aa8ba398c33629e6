//! Who a results page counts as seen within its dates and a version's live periods, and
//! at which login: the store's histogram against one computed here from the logins and
//! prompts themselves, over a random timeline and many windows (open, closed, several
//! periods, a users filter). Closed windows are counted from each login's previous one
//! (`login_events.previous_login_at`), which the migration that added it fills in for
//! logins written before it exactly as the store writes it.

use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{SET, by, login, service};
use crate::common::TestStore;
use trickle::model::PromptEventKind;
use trickle::model::results::{LivePeriod, ResultsScope, UsersCondition, UsersFilter};
use trickle::questions::parse_condition_json;

/// The stages a histogram is asked for.
const STAGES: [u32; 3] = [1, 2, 4];

/// One user's timeline: login times (their counts are 1, 2, …) and prompts of version 1
/// as `(login count, time)`.
struct Timeline {
    logins: Vec<DateTime<Utc>>,
    prompts: Vec<(i64, DateTime<Utc>)>,
}

type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
/// A scope to check: dates, version and that version's live periods.
type Scope = (
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Vec<LivePeriod>,
);

fn inside(at: DateTime<Utc>, (from, until): &Window) -> bool {
    from.is_none_or(|from| at >= from) && until.is_none_or(|until| at < until)
}

/// The windows a scope sees users in: the dates, or each live period of its version
/// within them.
fn windows(scope: &ResultsScope) -> Vec<Window> {
    let Some(version) = scope.version else {
        return vec![(scope.from, scope.until)];
    };
    scope
        .periods
        .iter()
        .filter(|p| p.version == version)
        .map(|p| {
            let from = scope.from.map_or(p.from, |from| from.max(p.from));
            let until = match (p.until, scope.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (Some(from), until)
        })
        .filter(|(from, until)| until.is_none_or(|until| from.unwrap() < until))
        .collect()
}

/// The histogram the store should give: `(stage, users)` for users whose highest login
/// count seen in the windows is at least that stage and below the next one (stage 0:
/// never seen there), without empty entries; without dates or a version, per login
/// count.
fn expected(
    timelines: &[Timeline],
    scope: &ResultsScope,
    logins_stored: bool,
    counted: impl Fn(&Timeline) -> bool,
) -> Vec<(i64, i64)> {
    let windows = windows(scope);
    let seen_in = |at: DateTime<Utc>| windows.iter().any(|w| inside(at, w));
    let reaches: Vec<i64> = timelines
        .iter()
        .filter(|t| counted(t))
        .map(|t| {
            let logins = t
                .logins
                .iter()
                .enumerate()
                .filter(|(_, at)| logins_stored && seen_in(**at))
                .map(|(i, _)| i as i64 + 1);
            let prompts = t
                .prompts
                .iter()
                .filter(|(_, at)| seen_in(*at))
                .map(|(count, _)| *count);
            logins.chain(prompts).max().unwrap_or(0)
        })
        .collect();
    let mut bounds: Vec<i64> = vec![0];
    if scope.from.is_none() && scope.until.is_none() && scope.version.is_none() {
        // Without dates or a version, every user at their login count.
        bounds.extend(1..=reaches.iter().copied().max().unwrap_or(0));
    } else {
        bounds.extend(STAGES.iter().map(|s| i64::from(*s)));
    }
    let mut histogram = Vec::new();
    for (i, stage) in bounds.iter().enumerate() {
        let next = bounds.get(i + 1).copied().unwrap_or(i64::MAX);
        let users = reaches
            .iter()
            .filter(|r| **r >= *stage && **r < next)
            .count() as i64;
        if users > 0 {
            histogram.push((*stage, users));
        }
    }
    histogram
}

/// Runs `sql` with the given times bound in order, on the test database.
async fn execute(db: &TestStore, sql: &str, times: &[DateTime<Utc>], texts: &[&str]) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for at in times {
            query = query.bind(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        }
        for text in texts {
            query = query.bind(*text);
        }
        query.execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for at in times {
            query = query.bind(*at);
        }
        for text in texts {
            query = query.bind(*text);
        }
        query.execute(&pool).await.unwrap();
    }
}

/// Every login's previous login, as text, in a stable order.
async fn previous_logins(db: &TestStore) -> Vec<(String, Option<String>)> {
    let sql = "SELECT event_id, CAST(previous_login_at AS TEXT) FROM login_events \
               ORDER BY event_id";
    db.rows(sql).await
}

/// The previous-login migration's backfill, run again on logins whose column was
/// cleared.
async fn backfill_previous_logins(db: &TestStore) {
    let migration = if db.url.starts_with("sqlite:") {
        include_str!("../../../migrations/sqlite/20261209000100_previous_login.sql")
    } else {
        include_str!("../../../migrations/postgres/20261209000100_previous_login.sql")
    };
    let start = migration.find("UPDATE login_events").expect("the backfill");
    let end = migration.find("-- The window's logins").expect("the index");
    execute(
        db,
        "UPDATE login_events SET previous_login_at = NULL",
        &[],
        &[],
    )
    .await;
    execute(db, &migration[start..end], &[], &[]).await;
}

/// A random timeline over the last 40 days: logins recorded with their times, prompts
/// recorded between a login and the next, then moved to their times.
async fn record_timelines(
    db: &TestStore,
    rng: &mut StdRng,
) -> (Vec<Timeline>, DateTime<Utc>, String) {
    let (trickle, site) = service(&db.store).await;
    trickle
        .publishing()
        .save_draft(&by(), &site, "profile", SET, "profile.yaml")
        .await
        .unwrap();
    let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let start = now - Duration::days(40);
    let mut timelines = Vec::new();
    for i in 0..24 {
        let user = format!("u{i:02}");
        let mut hours: Vec<i64> = (0..rng.random_range(1..=6))
            .map(|_| rng.random_range(0..40 * 24))
            .collect();
        if i == 0 {
            hours = vec![100, 100, 300];
        }
        hours.sort();
        let logins: Vec<DateTime<Utc>> =
            hours.iter().map(|h| start + Duration::hours(*h)).collect();
        let mut prompts = Vec::new();
        for (n, at) in logins.iter().enumerate() {
            let mut request = login(&user);
            request.occurred_at = Some(*at);
            trickle.logins().record(&site, request).await.unwrap();
            if !rng.random_bool(0.4) {
                continue;
            }
            // Shown while this was their last login: before the next, or up to two
            // days after it.
            let until = logins
                .get(n + 1)
                .copied()
                .unwrap_or(*at + Duration::hours(48));
            let gap = (until - *at).num_minutes().max(1);
            let shown = (*at + Duration::minutes(rng.random_range(0..gap))).min(now);
            let recorded = db
                .store
                .record_prompt_event(
                    &site.site_id,
                    &user,
                    "profile",
                    1,
                    "role",
                    PromptEventKind::Impression,
                )
                .await
                .unwrap();
            assert!(recorded.is_some_and(|r| r.new));
            let count = n as i64 + 1;
            execute(
                db,
                &format!(
                    "UPDATE prompt_events SET created_at = $1 WHERE user_id = $2 \
                     AND login_count = {count}"
                ),
                &[shown],
                &[&user],
            )
            .await;
            prompts.push((count, shown));
        }
        timelines.push(Timeline { logins, prompts });
    }
    (timelines, start, site.site_id)
}

async fn the_histogram_counts_each_user_at_their_highest_login_seen(db: &TestStore) {
    let mut rng = StdRng::seed_from_u64(20261209);
    let (timelines, start, site_id) = record_timelines(db, &mut rng).await;
    assert_eq!(timelines.len(), 24);

    let written = previous_logins(db).await;
    assert!(written.iter().any(|(_, p)| p.is_some()), "{written:?}");
    backfill_previous_logins(db).await;
    assert_eq!(
        previous_logins(db).await,
        written,
        "the backfill writes what the store wrote"
    );

    let day = |d: i64| start + Duration::days(d);
    let hour = |h: i64| start + Duration::hours(h);
    let mut scopes = vec![(None, None, None, Vec::new())];
    for (from, until) in [
        (Some(day(5)), Some(day(15))),
        (None, Some(day(20))),
        (Some(day(10)), Some(day(11))),
        (Some(hour(100)), Some(hour(101))),
        (Some(day(-1)), Some(day(41))),
        (Some(day(30)), None),
        (Some(day(39)), Some(day(40))),
    ] {
        scopes.push((from, until, None, Vec::new()));
    }
    for _ in 0..12 {
        let a = rng.random_range(0..40 * 24);
        let b = rng.random_range(a + 1..=40 * 24 + 1);
        scopes.push((Some(hour(a)), Some(hour(b)), None, Vec::new()));
    }
    // A version live once (closed), live now (open), and live twice (a rollback).
    let period = |from: i64, until: Option<i64>| LivePeriod {
        version: 1,
        from: day(from),
        until: until.map(day),
    };
    let once = vec![period(3, Some(17))];
    let now_live = vec![period(12, None)];
    let twice = vec![period(2, Some(9)), period(20, Some(26))];
    let again = vec![period(4, Some(14)), period(25, None)];
    for periods in [once, now_live, twice, again] {
        for (from, until) in [
            (None, None),
            (Some(day(6)), Some(day(22))),
            (Some(day(8)), None),
        ] {
            scopes.push((from, until, Some(1), periods.clone()));
        }
    }

    // Each prompt event keeps its login's time, which spares most of them the probe for
    // a login in a closed window; events without it (written before the column, or
    // imported) are probed, and count the same.
    let unknown: Vec<(i64,)> = db
        .rows("SELECT COUNT(*) FROM prompt_events WHERE login_at IS NULL")
        .await;
    assert_eq!(unknown, [(0,)], "the store writes each event's login time");
    for pass in ["with login times", "half without"] {
        if pass == "half without" {
            execute(
                db,
                "UPDATE prompt_events SET login_at = NULL WHERE user_id < 'u12'",
                &[],
                &[],
            )
            .await;
        }
        check_scopes(db, &timelines, &scopes, &site_id, pass, true).await;
    }
    // Retention may purge every login of a site: in a window that ends, each user's
    // prompts there are then those of a user without a login in it.
    execute(db, "DELETE FROM login_events", &[], &[]).await;
    let closed: Vec<Scope> = scopes
        .iter()
        .filter(|(from, until, version, _)| from.is_some() && until.is_some() && version.is_none())
        .cloned()
        .collect();
    check_scopes(db, &timelines, &closed, &site_id, "logins purged", false).await;
}

/// Every scope's histogram, with and without a users filter, against [`expected`]
/// (without the logins where they are no longer stored).
async fn check_scopes(
    db: &TestStore,
    timelines: &[Timeline],
    scopes: &[Scope],
    site_id: &str,
    pass: &str,
    logins_stored: bool,
) {
    let returning = UsersCondition {
        profile: Some(parse_condition_json(&json!({"key": "login_count", "gte": 3})).unwrap()),
        answer: None,
    };
    for (from, until, version, periods) in scopes.iter().cloned() {
        for filtered in [false, true] {
            let scope = ResultsScope {
                site_id: site_id.to_owned(),
                question_set: "profile".into(),
                from,
                until,
                version,
                periods: periods.clone(),
                users: filtered.then(|| UsersFilter::Matching(returning.clone())),
                now: trickle::model::now(),
            };
            let want = expected(timelines, &scope, logins_stored, |t| {
                !filtered || t.logins.len() >= 3
            });
            let got = db
                .store
                .results_login_histogram(&scope, &STAGES)
                .await
                .unwrap();
            assert_eq!(
                got, want,
                "{pass}: from {from:?} until {until:?} version {version:?} \
                 periods {periods:?} filtered {filtered}"
            );
        }
    }
}

conformance_on_database!(the_histogram_counts_each_user_at_their_highest_login_seen);
