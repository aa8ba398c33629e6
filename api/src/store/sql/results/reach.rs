//! The highest login count each user was seen at within a results page's windows (its
//! dates, and the live periods of a version), as SQL: what a page's `eligible` and
//! funnel `reached` count.
//!
//! Seen means a login in a window, or a prompt event of the set (of the version) in it:
//! a user shown a question without a new login was there too. Two parts:
//!
//! - The window open at its end (the live period, or dates without an end), from each
//!   user's own row: a user seen in it is at their current login count, whether by a
//!   login (their last one has the highest count) or by a prompt alone (no login since
//!   the window opened, so the count then is the count now). One scan of the users,
//!   counting those at or past each stage (a `GROUP BY` of the reach tripled its time).
//! - Closed windows, only when there are any. The only window, closed (dates with an
//!   end, a version live once): one scan of its logins, each knowing the user's previous
//!   one, so each user counts once at their first login in it, then the users prompted
//!   there without a login. Otherwise the logins and prompts in them, grouped per user,
//!   for the users not seen in the open window (whose count is higher).
//!
//! At 1,000,000 users and 3,000,000 logins on SQLite, a grouping of every login and
//! prompt in an open window took 9 s (1.9 s with the prompts alone); the users' rows
//! answer it in one scan.

use chrono::{DateTime, Utc};

use super::scope::{Bind, Binds};
use crate::model::results::ResultsScope;
use crate::store::Dialect;
use crate::store::dialect::Flavour;

/// The users filter that keeps every user.
pub(super) const NO_FILTER: &str = "(1=1)";

/// A time window: from `.0` (inclusive) until `.1` (exclusive); `None` is unbounded.
pub(super) type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The windows a user may be seen in: with `version`, each of its live periods within
/// the scope's dates; else the dates alone.
fn windows(scope: &ResultsScope, version: Option<i64>) -> Vec<Window> {
    let dates = (scope.from, scope.until);
    let Some(version) = version else {
        return vec![dates];
    };
    scope
        .periods
        .iter()
        .filter(|p| p.version == version)
        .filter_map(|p| {
            let from = dates.0.map_or(p.from, |from| from.max(p.from));
            let until = match (p.until, dates.1) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            until
                .is_none_or(|until| from < until)
                .then_some((Some(from), until))
        })
        .collect()
}

/// `column` within `window`, as predicates (none for an unbounded side).
fn within(column: &str, window: &Window, binds: &mut Binds) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(from) = window.0 {
        parts.push(format!("{column} >= {}", binds.push(Bind::Time(from))));
    }
    if let Some(until) = window.1 {
        parts.push(format!("{column} < {}", binds.push(Bind::Time(until))));
    }
    parts
}

/// The set's (version's) prompt events in `window`, as a predicate over `e`.
fn prompts_in(
    scope: &ResultsScope,
    version: Option<i64>,
    window: &Window,
    site: &str,
    binds: &mut Binds,
) -> String {
    let mut parts = vec![
        format!("e.site_id = {site}"),
        format!("e.question_set = {}", binds.text(&scope.question_set)),
    ];
    if let Some(version) = version {
        parts.push(format!("e.version = {}", binds.push(Bind::Int(version))));
    }
    parts.extend(within("e.created_at", window, binds));
    parts.join(" AND ")
}

/// How user `u` is seen in the open window: by a login in it, or by a prompt event
/// alone (a predicate over `e`).
struct Seen {
    from: String,
    prompted: String,
    /// The prompts are those of a version live once, read without their times.
    timeless: bool,
}

impl Seen {
    /// Whether `u` was seen: the prompted users are a semi-join on SQLite (a Bloom
    /// filter, read only for users without a login in the window); an `EXISTS` per such
    /// user on PostgreSQL, where `IN` under `OR` is a subplan run once per user after its
    /// hash outgrows `work_mem` (minutes at 1,000,000 users).
    fn condition<D: Dialect>(&self) -> String {
        let Seen { from, prompted, .. } = self;
        match D::FLAVOUR {
            Flavour::Sqlite => format!(
                "(u.last_login_at >= {from} OR u.user_id IN \
                 (SELECT e.user_id FROM prompt_events e WHERE {prompted}))"
            ),
            Flavour::Postgres => format!(
                "(u.last_login_at >= {from} OR EXISTS (SELECT 1 FROM prompt_events e \
                 WHERE e.user_id = u.user_id AND {prompted}))"
            ),
        }
    }
}

/// How user `u` is seen in the open window (at most one window is open: the live
/// period, or dates without an end); `None` without one, `Some(None)` when the window
/// is unbounded (every user is seen).
fn seen_in_open(
    scope: &ResultsScope,
    version: Option<i64>,
    windows: &[Window],
    site: &str,
    binds: &mut Binds,
) -> Option<Option<Seen>> {
    let window = windows.iter().find(|w| w.1.is_none())?;
    let Some(from) = window.0 else {
        return Some(None);
    };
    let from = binds.push(Bind::Time(from));
    // A version live once, with no dates, has every prompt in this window: its prompts
    // are then read from an index without their times (0.2 s rather than 1 s at
    // 1,000,000 users on SQLite).
    let only_period = scope.from.is_none() && windows.len() == 1 && version.is_some();
    let window = if only_period { &(None, None) } else { window };
    let prompted = prompts_in(scope, version, window, site, binds);
    Some(Some(Seen {
        from,
        prompted,
        timeless: only_period,
    }))
}

/// One row over the site's users that match `filter` (a predicate over `u`): how many
/// there are, then how many were seen in the open window at or past each of `stages`
/// (login numbers).
pub(super) fn open_reach_sql<D: Dialect>(
    scope: &ResultsScope,
    version: Option<i64>,
    stages: &[u32],
    (site, filter): (&str, &str),
    binds: &mut Binds,
) -> String {
    let windows = windows(scope, version);
    let users = format!("users u WHERE u.site_id = {site} AND {filter}");
    let seen_open = seen_in_open(scope, version, &windows, site, binds);
    let mut at_least = |seen: &str| -> Vec<String> {
        stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let stage = binds.push(Bind::Int(i64::from(*stage)));
                format!(
                    "COALESCE(SUM(CASE WHEN u.login_count >= {stage} AND {seen} \
                     THEN 1 ELSE 0 END), 0) AS s{i}"
                )
            })
            .collect()
    };
    let seen = match seen_open {
        None => {
            let zeros: String = stages.iter().map(|_| ", CAST(0 AS BIGINT)").collect();
            return format!("SELECT COUNT(*){zeros} FROM {users}");
        }
        Some(None) => "(1=1)".to_owned(),
        // On SQLite, a version's prompted users read from an index alone make a list
        // each stage probes (0.16 s at 1,000,000 users, where two scans took 0.24 s).
        Some(Some(seen)) if D::FLAVOUR == Flavour::Sqlite && seen.timeless => seen.condition::<D>(),
        Some(Some(seen)) => {
            // Those who logged in in the window, then those prompted without a login in
            // it, each user's prompts probed once (on SQLite, a list of the prompted
            // users within dates, probed per stage, took 0.7 s rather than 0.5 s).
            let Seen { from, prompted, .. } = &seen;
            let logged_in = at_least(&format!("u.last_login_at >= {from}"));
            let prompted_only = at_least("(1=1)");
            let sums: Vec<String> = (0..stages.len())
                .map(|i| format!(", a.s{i} + b.s{i}"))
                .collect();
            // A filter's users are found once for both parts.
            let (with, users) = if filter == NO_FILTER {
                (String::new(), users)
            } else {
                (
                    format!(
                        "WITH f AS MATERIALIZED (SELECT u.user_id, u.login_count, \
                         u.last_login_at FROM {users}) "
                    ),
                    "f u WHERE (1=1)".to_owned(),
                )
            };
            return format!(
                "{with}SELECT a.users{} FROM (SELECT COUNT(*) AS users{} FROM {users}) a, \
                 (SELECT COUNT(*) AS users{} FROM {users} AND u.last_login_at < {from} \
                 AND EXISTS (SELECT 1 FROM prompt_events e WHERE e.user_id = u.user_id \
                 AND {prompted})) b",
                sums.concat(),
                logged_in
                    .iter()
                    .map(|c| format!(", {c}"))
                    .collect::<String>(),
                prompted_only
                    .iter()
                    .map(|c| format!(", {c}"))
                    .collect::<String>(),
            );
        }
    };
    let columns: String = at_least(&seen).iter().map(|c| format!(", {c}")).collect();
    format!("SELECT COUNT(*){columns} FROM {users}")
}

/// The one window a page's users are seen in, when it is closed (dates with an end, or
/// a version live once and no longer, within the dates): its users are then counted
/// from one scan of its logins ([`first_logins_sql`], [`prompted_only_sql`]) rather
/// than by grouping them.
pub(super) fn single_closed_window(scope: &ResultsScope, version: Option<i64>) -> Option<Window> {
    match windows(scope, version).as_slice() {
        [window] if window.1.is_some() => Some(*window),
        _ => None,
    }
}

/// One row, a column per stage (at least one): how many of the users matching `filter`
/// (a predicate over `u`) logged in in `window` at or past that stage, from the
/// window's logins alone. Each login knows the user's previous one, so a user is
/// counted at stage `s` once: at their first login in the window when its count is
/// already `s` or more, else at their login number `s` when it falls in the window
/// (their count rises by one a login).
pub(super) fn first_logins_sql(
    window: &Window,
    stages: &[u32],
    (site, filter): (&str, &str),
    binds: &mut Binds,
) -> String {
    let mut logins = vec![format!("l.site_id = {site}")];
    let first_in_window = match window.0 {
        Some(from) => {
            let from = binds.push(Bind::Time(from));
            logins.push(format!("l.occurred_at >= {from}"));
            format!("l.previous_login_at IS NULL OR l.previous_login_at < {from}")
        }
        None => "l.previous_login_at IS NULL".to_owned(),
    };
    if let Some(until) = window.1 {
        logins.push(format!("l.occurred_at < {}", binds.push(Bind::Time(until))));
    }
    if filter != NO_FILTER {
        logins.push(format!(
            "l.user_id IN (SELECT u.user_id FROM users u WHERE u.site_id = {site} AND {filter})"
        ));
    }
    let sums: Vec<String> = stages
        .iter()
        .map(|stage| {
            let stage = binds.push(Bind::Int(i64::from(*stage)));
            format!(
                "COALESCE(SUM(CASE WHEN l.login_count >= {stage} AND \
                 (l.login_count = {stage} OR {first_in_window}) THEN 1 ELSE 0 END), 0)"
            )
        })
        .collect();
    format!(
        "SELECT {} FROM login_events l WHERE {}",
        sums.join(", "),
        logins.join(" AND ")
    )
}

/// Whether prompt event `e` may be one of a user's without a login in `window`: its own
/// login (`login_at`) is outside the window, unknown (events written before the column,
/// or imported), or older than the site's oldest login kept, or the site has none left
/// (retention purged it). Every event in the window of a user with no login there
/// passes, so the probe for a login is needed only for these: at 1,000,000 users, where
/// events are shown soon after their login, the month's anti-join took 0.31 s on SQLite
/// instead of 0.51 s. (Retention deletes old logins oldest first, so even while a purge
/// is under way no purged login is younger than the oldest kept one;
/// `stories/retention_order.rs`.)
fn login_outside(window: &Window, site: &str, binds: &mut Binds) -> String {
    // Unknown on either side (no `login_at`, no login kept) compares as NULL: outside.
    let mut outside = vec![format!(
        "COALESCE(e.login_at < (SELECT MIN(o.occurred_at) FROM login_events o \
         WHERE o.site_id = {site}), TRUE)"
    )];
    if let Some(from) = window.0 {
        outside.push(format!("e.login_at < {}", binds.push(Bind::Time(from))));
    }
    if let Some(until) = window.1 {
        outside.push(format!("e.login_at >= {}", binds.push(Bind::Time(until))));
    }
    format!("({})", outside.join(" OR "))
}

/// Columns `(reach, users)` of the users prompted by the set (version) in `window`
/// without a login in it, ending in a `WHERE` over `u` as [`closed_reach_sql`].
pub(super) fn prompted_only_sql(
    scope: &ResultsScope,
    version: Option<i64>,
    window: &Window,
    site: &str,
    binds: &mut Binds,
) -> String {
    let prompted = prompts_in(scope, version, window, site, binds);
    let outside = login_outside(window, site, binds);
    let mut logins = vec![
        format!("l.site_id = {site}"),
        "l.user_id = e.user_id".to_owned(),
    ];
    logins.extend(within("l.occurred_at", window, binds));
    format!(
        "SELECT r.reached, COUNT(*) FROM (SELECT e.user_id, MAX(e.login_count) AS reached \
         FROM prompt_events e WHERE {prompted} AND {outside} AND NOT EXISTS (SELECT 1 FROM login_events l \
         WHERE {}) GROUP BY e.user_id) r JOIN users u ON u.site_id = {site} \
         AND u.user_id = r.user_id WHERE (1=1)",
        logins.join(" AND ")
    )
}

/// Columns `(reach in the closed windows, users)` of the users seen there and not in
/// the open window (whose reach is higher), ending in a `WHERE` as above; `None`
/// without closed windows.
pub(super) fn closed_reach_sql<D: Dialect>(
    scope: &ResultsScope,
    version: Option<i64>,
    site: &str,
    binds: &mut Binds,
) -> Option<String> {
    let windows = windows(scope, version);
    let mut seen = Vec::new();
    for window in windows.iter().filter(|w| w.1.is_some()) {
        let mut logins = vec![format!("l.site_id = {site}")];
        logins.extend(within("l.occurred_at", window, binds));
        seen.push(format!(
            "SELECT l.user_id, l.login_count FROM login_events l WHERE {}",
            logins.join(" AND ")
        ));
        seen.push(format!(
            "SELECT e.user_id, e.login_count FROM prompt_events e WHERE {}",
            prompts_in(scope, version, window, site, binds)
        ));
    }
    if seen.is_empty() {
        return None;
    }
    let unseen_open = match seen_in_open(scope, version, &windows, site, binds) {
        None => String::new(),
        // Everyone is seen in an unbounded window, at their highest count.
        Some(None) => " AND (1=0)".to_owned(),
        Some(Some(seen)) => format!(" AND NOT {}", seen.condition::<D>()),
    };
    Some(format!(
        "SELECT r.reached, COUNT(*) FROM (SELECT s.user_id, MAX(s.login_count) AS reached \
         FROM ({}) s GROUP BY s.user_id) r JOIN users u ON u.site_id = {site} \
         AND u.user_id = r.user_id WHERE (1=1){unseen_open}",
        seen.join(" UNION ALL ")
    ))
}

/// Adds the users seen at most at login count `reached` in the closed windows
/// (`(reached, users)` rows) to each stage at or below it (`(stage, users)` rows).
pub(super) fn add_reached(at_least: &mut [(i64, i64)], reached: &[(i64, i64)]) {
    for (stage, count) in at_least {
        *count += reached
            .iter()
            .filter(|(at, _)| at >= stage)
            .map(|(_, users)| users)
            .sum::<i64>();
    }
}

/// The users at or past each stage (ascending) as a histogram of `users`: those from
/// each stage to the next, the rest at 0, leaving out empty buckets.
pub(super) fn histogram(users: i64, at_least: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut histogram = Vec::new();
    let mut above = 0;
    for (stage, count) in at_least.iter().rev() {
        histogram.push((*stage, count - above));
        above = *count;
    }
    histogram.push((0, users - above));
    histogram.reverse();
    histogram.retain(|(_, users)| *users > 0);
    histogram
}
