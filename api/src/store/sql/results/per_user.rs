//! A results page's counts in one pass over each user's events or answers: the
//! statements for a scope whose users are listed, where every aggregate probes each
//! listed user's rows and one probe is cheaper than one per grouping (83,334 listed users
//! of 1,000,000: the total and per-key distinct counts took 0.32 + 0.43 s on SQLite as
//! two statements, 0.30–0.36 s as one, with the version's as well), and on PostgreSQL
//! for a dated scope, whose distinct counts each sort the window's events.

use serde_json::Value;
use std::collections::BTreeSet;

use super::scope::{Bind, Binds, scope_sql};
use crate::model::results::{
    AnswerCounts, GroupedOutcomes, GroupedUsers, OutcomeGroups, ResultsScope,
};
use crate::store::Dialect;
use crate::store::dialect::Flavour;

/// The stored kinds of prompt events, by their code in a signature; any other kind has
/// code 4 and is not counted.
const KINDS: [&str; 4] = ["impression", "answered", "skipped", "dismissed"];
/// Codes per key or version slot in a signature: the four kinds and "other".
const STRIDE: usize = 5;

/// The keys the statement tells apart: the groups' keys, then any other key of a stage.
/// Every other key shares the slot after them.
fn key_slots(groups: &OutcomeGroups) -> Vec<&str> {
    let mut slots: Vec<&str> = Vec::new();
    let stage_keys = groups.stages.iter().flat_map(|(_, keys)| keys);
    for key in groups.keys.iter().chain(stage_keys) {
        if !slots.contains(&key.as_str()) {
            slots.push(key);
        }
    }
    slots
}

/// `CASE column WHEN … THEN 0 … ELSE n END`: the slot of `column`'s value among
/// `values` (bound), `n` = their number for any other.
fn slot_of(column: &str, values: Vec<String>) -> String {
    let other = values.len();
    let whens: String = values
        .iter()
        .enumerate()
        .map(|(slot, value)| format!(" WHEN {value} THEN {slot}"))
        .collect();
    if whens.is_empty() {
        other.to_string()
    } else {
        format!("CASE {column}{whens} ELSE {other} END")
    }
}

/// Each distinct signature of the users' events and how many users have it, as rows
/// `(signature, users)`. A user's signature lists the code `slot * 5 + kind` of each of
/// their events, by key slot, then after `;` by version slot: a few distinct texts
/// however many groups there are, where a column per group and kind cost a second on
/// SQLite (48 columns, 166,668 events). A listed scope's probe delivers each user's
/// events together, so neither database sorts them to group them by user.
pub(super) fn signatures_sql<D: Dialect>(
    scope: &ResultsScope,
    groups: &OutcomeGroups,
    binds: &mut Binds,
) -> String {
    let keys = key_slots(groups)
        .into_iter()
        .map(|key| binds.text(key))
        .collect();
    let versions = groups
        .versions
        .iter()
        .map(|v| binds.push(Bind::Int(*v)))
        .collect();
    let kind = slot_of("e.kind", KINDS.iter().map(|k| format!("'{k}'")).collect());
    let code = |slot: String| format!("({slot}) * {STRIDE} + {kind}");
    let (key_code, version_code) = (
        code(slot_of("e.key", keys)),
        code(slot_of("e.version", versions)),
    );
    let list = |code: &str| match D::FLAVOUR {
        Flavour::Sqlite => format!("group_concat({code})"),
        Flavour::Postgres => format!("string_agg(CAST({code} AS TEXT), ',')"),
    };
    let filter = scope_sql::<D>(scope, "e", "created_at", binds);
    format!(
        "SELECT signature, COUNT(*) FROM (SELECT {} || ';' || {} AS signature \
         FROM prompt_events e WHERE {filter} GROUP BY e.user_id) AS per_user \
         GROUP BY signature",
        list(&key_code),
        list(&version_code)
    )
}

/// Users per kind, of each slot, added up from [`signatures_sql`]'s rows.
struct SlotUsers(Vec<[i64; 4]>);

impl SlotUsers {
    fn new(slots: usize) -> SlotUsers {
        SlotUsers(vec![[0; 4]; slots])
    }

    /// Adds `users` to each slot and kind among `codes` once.
    fn add(&mut self, codes: &BTreeSet<(usize, usize)>, users: i64) {
        for (slot, kind) in codes {
            if let Some(counts) = self.0.get_mut(*slot)
                && let Some(count) = counts.get_mut(*kind)
            {
                *count += users;
            }
        }
    }

    /// The groups named `name(slot)`, each kind with users.
    fn grouped(&self, name: impl Fn(usize) -> String) -> Vec<GroupedUsers> {
        let mut grouped = Vec::new();
        for (slot, counts) in self.0.iter().enumerate() {
            for (kind, users) in KINDS.iter().zip(counts) {
                if *users > 0 {
                    grouped.push(GroupedUsers::new(name(slot), *kind, *users));
                }
            }
        }
        grouped
    }
}

/// The (slot, kind) pairs of a signature's list of codes, each once.
fn codes(list: &str) -> BTreeSet<(usize, usize)> {
    list.split(',')
        .filter_map(|code| code.trim().parse::<usize>().ok())
        .map(|code| (code / STRIDE, code % STRIDE))
        .filter(|(_, kind)| *kind < KINDS.len())
        .collect()
}

/// `codes` with each slot moved to `target(slot)`, dropped where that is `None`.
fn moved(
    codes: &BTreeSet<(usize, usize)>,
    target: impl Fn(usize) -> Option<usize>,
) -> BTreeSet<(usize, usize)> {
    codes
        .iter()
        .filter_map(|(slot, kind)| Some((target(*slot)?, *kind)))
        .collect()
}

/// [`signatures_sql`]'s rows as the groups' distinct users per kind, named as
/// [`crate::model::results::EventGroup`] names them: `""`, the version, the key, the
/// stage's `at_login`. A user counts in the total, or in a stage, for a kind when any of
/// their keys (of the stage) has an event of it.
pub(super) fn grouped(groups: &OutcomeGroups, signatures: &[(String, i64)]) -> GroupedOutcomes {
    let slots = key_slots(groups);
    let slot_of = |key: &String| slots.iter().position(|slot| slot == key);
    let stage_slots: Vec<Vec<usize>> = groups
        .stages
        .iter()
        .map(|(_, keys)| keys.iter().filter_map(slot_of).collect())
        .collect();
    let mut total = SlotUsers::new(1);
    let mut by_key = SlotUsers::new(slots.len());
    let mut by_version = SlotUsers::new(groups.versions.len());
    let mut by_stage = SlotUsers::new(groups.stages.len());
    for (signature, users) in signatures {
        let (key_list, version_list) = signature.split_once(';').unwrap_or((signature, ""));
        let key_codes = codes(key_list);
        by_key.add(&key_codes, *users);
        by_version.add(&codes(version_list), *users);
        total.add(&moved(&key_codes, |_| Some(0)), *users);
        for (stage, in_stage) in stage_slots.iter().enumerate() {
            let in_stage = moved(&key_codes, |slot| in_stage.contains(&slot).then_some(stage));
            by_stage.add(&in_stage, *users);
        }
    }
    // Only the groups' own keys are reported, not a stage's others.
    by_key.0.truncate(groups.keys.len());
    GroupedOutcomes {
        total: total.grouped(|_| String::new()),
        by_version: by_version.grouped(|slot| groups.versions[slot].to_string()),
        by_key: by_key.grouped(|slot| slots[slot].to_owned()),
        by_stage: by_stage.grouped(|slot| groups.stages[slot].0.to_string()),
    }
}

/// Current answers per key, and per value for `keys` (their other answers' value is
/// `NULL`), in one pass.
pub(super) fn answer_counts_sql<D: Dialect>(
    scope: &ResultsScope,
    keys: &[String],
    binds: &mut Binds,
) -> String {
    let counted = if keys.is_empty() {
        "1 = 0".to_owned()
    } else {
        let keys: Vec<String> = keys.iter().map(|k| binds.text(k)).collect();
        format!("a.key IN ({})", keys.join(", "))
    };
    let filter = scope_sql::<D>(scope, "a", "answered_at", binds);
    format!(
        "SELECT a.key, CASE WHEN {counted} THEN a.value END AS counted, COUNT(*) \
         FROM answers a WHERE {filter} GROUP BY a.key, counted"
    )
}

/// [`answer_counts_sql`]'s rows as totals per key and counts per value.
pub(super) fn answer_counts(rows: Vec<(String, Option<Value>, i64)>) -> AnswerCounts {
    let mut counts = AnswerCounts::default();
    for (key, value, n) in rows {
        match counts.totals.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => *total += n,
            None => counts.totals.push((key.clone(), n)),
        }
        if let Some(value) = value {
            counts.values.push((key, value, n));
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_add_up_per_total_version_key_and_stage() {
        let groups = OutcomeGroups {
            versions: vec![3],
            keys: vec!["a".into(), "b".into()],
            stages: vec![(2, vec!["a".into(), "b".into()])],
        };
        // Slots: a = 0, b = 1, any other key = 2; version 3 = 0, any other = 1.
        // Two users shown a and b (v3) who answered b, one skipped another key (other
        // version), the same code twice counting once.
        let signatures = vec![("0,5,6,6;0,0,1".to_owned(), 2), ("12;7".to_owned(), 1)];
        let grouped = grouped(&groups, &signatures);
        assert_eq!(
            grouped.total,
            [
                GroupedUsers::new("", "impression", 2),
                GroupedUsers::new("", "answered", 2),
                GroupedUsers::new("", "skipped", 1)
            ]
        );
        assert_eq!(
            grouped.by_version,
            [
                GroupedUsers::new("3", "impression", 2),
                GroupedUsers::new("3", "answered", 2)
            ]
        );
        assert_eq!(
            grouped.by_key,
            [
                GroupedUsers::new("a", "impression", 2),
                GroupedUsers::new("b", "impression", 2),
                GroupedUsers::new("b", "answered", 2)
            ]
        );
        assert_eq!(
            grouped.by_stage,
            [
                GroupedUsers::new("2", "impression", 2),
                GroupedUsers::new("2", "answered", 2)
            ]
        );
    }
}
