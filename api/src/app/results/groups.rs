//! The distinct users per kind of a set's prompt events, grouped four ways (in total, per
//! version, per key, per stage). Each grouping is a distinct count over every event of
//! the set — the results page's dearest queries — so a grouping that follows exactly
//! from another is derived instead of counted.

use crate::model::results::{EventGroup, GroupedUsers, Outcomes};

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

/// The grouping per stage, derived from the one per key when no stage has two keys
/// (a user then counts in a stage exactly when they count for its key); `None` when
/// some stage has two or more and must be counted.
pub(super) fn stages_from_keys(
    by_key: &[GroupedUsers],
    stage: &EventGroup,
) -> Option<Vec<GroupedUsers>> {
    let EventGroup::Stage(stages) = stage else {
        return None;
    };
    if stages.iter().any(|(_, keys)| keys.len() > 1) {
        return None;
    }
    Some(
        stages
            .iter()
            .filter_map(|(at_login, keys)| Some((at_login, keys.first()?)))
            .flat_map(|(at_login, key)| {
                by_key
                    .iter()
                    .filter(move |g| &g.group == key)
                    .map(move |g| GroupedUsers {
                        group: at_login.to_string(),
                        ..g.clone()
                    })
            })
            .collect(),
    )
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

    fn users(group: &str, kind: &str, users: i64) -> GroupedUsers {
        GroupedUsers {
            group: group.into(),
            kind: kind.into(),
            users,
        }
    }

    #[test]
    fn the_only_version_is_the_filtered_one_or_the_sets_single_one() {
        assert_eq!(only_version(Some(2), &[1, 2]), Some(2));
        assert_eq!(only_version(None, &[3]), Some(3));
        assert_eq!(only_version(None, &[1, 2]), None);
    }

    #[test]
    fn single_key_stages_take_their_keys_counts() {
        let by_key = vec![
            users("role", "impression", 5),
            users("role", "answered", 3),
            users("phone", "impression", 2),
        ];
        let stages = EventGroup::Stage(vec![
            (1, vec!["role".into()]),
            (2, vec!["phone".into()]),
            (3, vec![]),
        ]);
        assert_eq!(
            stages_from_keys(&by_key, &stages),
            Some(vec![
                users("1", "impression", 5),
                users("1", "answered", 3),
                users("2", "impression", 2),
            ])
        );
    }

    #[test]
    fn a_stage_of_two_keys_must_be_counted() {
        let stages = EventGroup::Stage(vec![(1, vec!["a".into(), "b".into()])]);
        assert_eq!(
            stages_from_keys(&[users("a", "impression", 1)], &stages),
            None
        );
    }
}
