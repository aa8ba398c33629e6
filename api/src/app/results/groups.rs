//! The distinct users per kind of a set's prompt events, grouped four ways (in total, per
//! version, per key, per stage). Each grouping is a distinct count over every event of
//! the set — the results page's dearest queries — so a grouping that follows exactly
//! from another is derived instead of counted.

use crate::model::results::{GroupedUsers, Outcomes};

/// The one version every counted event has, when that is known without counting: the
/// version filtered on, or the set's only version.
pub(super) fn only_version(filtered: Option<i64>, versions: &[i64]) -> Option<i64> {
    filtered.or(match versions {
        [only] => Some(*only),
        _ => None,
    })
}

/// The grouping per version when every event has `version`: the total under its number.
pub(super) fn as_version(total: &[GroupedUsers], version: i64) -> Vec<GroupedUsers> {
    total
        .iter()
        .map(|g| GroupedUsers {
            group: version.to_string(),
            ..g.clone()
        })
        .collect()
}

/// The grouping per stage, derived from the one per key for each stage in which at most
/// one key has events (a user then counts in the stage exactly when they count for that
/// key), and the stages left to count: those in which two or more keys have events.
pub(super) fn stages_from_keys(
    by_key: &[GroupedUsers],
    stages: &[(u32, Vec<String>)],
) -> (Vec<GroupedUsers>, Vec<(u32, Vec<String>)>) {
    let mut derived = Vec::new();
    let mut to_count = Vec::new();
    for (at_login, keys) in stages {
        let asked: Vec<&String> = keys
            .iter()
            .filter(|key| by_key.iter().any(|g| &g.group == *key))
            .collect();
        match asked.as_slice() {
            [] => {}
            [key] => {
                derived.extend(
                    by_key
                        .iter()
                        .filter(|g| &g.group == *key)
                        .map(|g| GroupedUsers {
                            group: at_login.to_string(),
                            ..g.clone()
                        }),
                )
            }
            _ => to_count.push((*at_login, keys.clone())),
        }
    }
    (derived, to_count)
}

/// The outcomes of `group`: its users per kind.
pub(super) fn outcomes(groups: &[GroupedUsers], group: &str) -> Outcomes {
    let mut outcomes = Outcomes::default();
    for g in groups.iter().filter(|g| g.group == group) {
        match g.kind.as_str() {
            "impression" => outcomes.shown = g.users,
            "answered" => outcomes.answered = g.users,
            "skipped" => outcomes.skipped = g.users,
            "dismissed" => outcomes.dismissed = g.users,
            _ => {}
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_only_version_is_the_filtered_one_or_the_sets_single_one() {
        assert_eq!(only_version(Some(2), &[1, 2]), Some(2));
        assert_eq!(only_version(None, &[3]), Some(3));
        assert_eq!(only_version(None, &[1, 2]), None);
    }

    #[test]
    fn stages_with_events_of_one_key_take_its_counts() {
        let by_key = vec![
            GroupedUsers::new("role", "impression", 5),
            GroupedUsers::new("role", "answered", 3),
            GroupedUsers::new("phone", "impression", 2),
        ];
        let stages = vec![
            (1, vec!["role".into()]),
            (2, vec!["phone".into(), "city".into()]),
            (3, vec![]),
            (4, vec!["company".into(), "size".into()]),
        ];
        assert_eq!(
            stages_from_keys(&by_key, &stages),
            (
                vec![
                    GroupedUsers::new("1", "impression", 5),
                    GroupedUsers::new("1", "answered", 3),
                    GroupedUsers::new("2", "impression", 2),
                ],
                vec![]
            )
        );
    }

    #[test]
    fn a_stage_with_events_of_two_keys_is_counted() {
        let by_key = vec![
            GroupedUsers::new("a", "impression", 1),
            GroupedUsers::new("b", "skipped", 1),
        ];
        let stages = vec![(1, vec!["a".into(), "b".into(), "c".into()])];
        assert_eq!(stages_from_keys(&by_key, &stages), (vec![], stages));
    }
}
