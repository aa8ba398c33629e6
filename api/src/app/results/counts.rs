//! The aggregates of a results page read from the store, in one of two ways with the
//! same figures: one statement per grouping, which reads the set's indexes in order
//! (the cheaper way over every user, undated), or one pass over each user's rows, for a
//! page whose filter's users are listed (each aggregate then probes every listed user's
//! rows, and one probe costs less than four) and, on PostgreSQL, a dated page (the store
//! says which, [`crate::store::ResultsStore::results_in_one_pass`]).

use serde_json::Value;

use crate::model::results::{
    EventGroup, GroupedOutcomes, OutcomeGroups, ResultsScope, UsersFilter,
};
use crate::store::{Store, StoreError};

use super::groups::{as_version, stages_from_keys};

/// What a results page counts before drawing its cards.
pub(super) struct Counted {
    pub outcomes: GroupedOutcomes,
    /// `(login_count, users)`, as [`crate::store::ResultsStore::results_login_histogram`].
    pub histogram: Vec<(i64, i64)>,
    pub per_day: Vec<(String, i64)>,
    pub answer_totals: Vec<(String, i64)>,
    pub value_counts: Vec<(String, Value, i64)>,
    /// `(version, users)`, as [`crate::store::ResultsStore::results_eligible_by_version`];
    /// empty under a version filter, where the histogram already counts that version's.
    pub eligible_by_version: Vec<(i64, i64)>,
}

/// The set's shape as the counts need it.
pub(super) struct Shape<'a> {
    /// The one version every counted event has, when known without counting.
    pub only_version: Option<i64>,
    pub versions: &'a [i64],
    /// The stages by login number with their keys.
    pub stages: &'a [(u32, Vec<String>)],
    /// The keys whose answers are counted per value (choice and scale questions).
    pub closed: &'a [String],
    /// Each published version's first stage: `(version, login number)`.
    pub first_stages: &'a [(i64, u32)],
}

/// Every aggregate of the page. The reads run as two or three sequences at once: the
/// page takes about the longest of them rather than their sum, and holds at most three
/// of the pool's connections (the widget's reads share the pool).
pub(super) async fn count(
    store: &dyn Store,
    scope: &ResultsScope,
    shape: &Shape<'_>,
) -> Result<Counted, StoreError> {
    if store.results_in_one_pass(scope) {
        per_user(store, scope, shape).await
    } else {
        per_grouping(store, scope, shape).await
    }
}

/// One pass over each user's events (the listed users', or every user's where the store
/// says that is cheaper), another over their answers. The pass counts
/// every stage as cheaply as one, so none is derived from the counts per key.
async fn per_user(
    store: &dyn Store,
    scope: &ResultsScope,
    shape: &Shape<'_>,
) -> Result<Counted, StoreError> {
    let groups = OutcomeGroups {
        versions: match shape.only_version {
            Some(_) => Vec::new(),
            None => shape.versions.to_vec(),
        },
        keys: shape
            .stages
            .iter()
            .flat_map(|(_, keys)| keys.clone())
            .collect(),
        stages: shape.stages.to_vec(),
    };
    // Three sequences at once: the pass over events with each version's eligible users
    // (which balanced it against the rest on PostgreSQL, 50,090 listed users of
    // 1,000,000), the page's own reach (its longest read within dates that end: 0.6 s
    // on SQLite at 1,000,000 users), and the answers.
    let first = async {
        let mut outcomes = store.results_outcomes_per_user(scope, &groups).await?;
        if let Some(version) = shape.only_version {
            outcomes.by_version = as_version(&outcomes.total, version);
        }
        let eligible = eligible_by_version(store, scope, shape).await?;
        Ok::<_, StoreError>((outcomes, eligible))
    };
    let stages = stage_numbers(shape.stages);
    let reach = histogram(store, scope, &stages);
    let answers = async {
        let per_day = store.results_answers_per_day(scope).await?;
        let answers = store.results_answer_counts(scope, shape.closed).await?;
        Ok::<_, StoreError>((per_day, answers))
    };
    let ((outcomes, eligible_by_version), histogram, (per_day, answers)) =
        tokio::try_join!(first, reach, answers)?;
    Ok(Counted {
        outcomes,
        histogram,
        per_day,
        answer_totals: answers.totals,
        value_counts: answers.values,
        eligible_by_version,
    })
}

/// One statement per grouping, each reading the set's indexes in order. The distinct
/// user counts dominate, so each sequence has one or two; answers per day sits beside
/// the total, which balances the two at 1,000,000 users.
async fn per_grouping(
    store: &dyn Store,
    scope: &ResultsScope,
    shape: &Shape<'_>,
) -> Result<Counted, StoreError> {
    let first = async {
        let total = store.results_event_users(scope, &EventGroup::Total).await?;
        let by_version = match shape.only_version {
            Some(version) => as_version(&total, version),
            None => {
                store
                    .results_event_users(scope, &EventGroup::Version)
                    .await?
            }
        };
        let histogram = histogram(store, scope, &stage_numbers(shape.stages)).await?;
        let per_day = store.results_answers_per_day(scope).await?;
        Ok::<_, StoreError>((total, by_version, histogram, per_day))
    };
    let second = async {
        let by_key = store.results_event_users(scope, &EventGroup::Key).await?;
        let (mut by_stage, to_count) = stages_from_keys(&by_key, shape.stages);
        if !to_count.is_empty() {
            let counted = EventGroup::Stage(to_count);
            by_stage.extend(store.results_event_users(scope, &counted).await?);
        }
        Ok::<_, StoreError>((
            by_key,
            by_stage,
            store.results_answer_totals(scope).await?,
            store.results_value_counts(scope, shape.closed).await?,
            eligible_by_version(store, scope, shape).await?,
        ))
    };
    let (
        (total, by_version, histogram, per_day),
        (by_key, by_stage, answer_totals, value_counts, eligible_by_version),
    ) = tokio::try_join!(first, second)?;
    Ok(Counted {
        outcomes: GroupedOutcomes {
            total,
            by_version,
            by_key,
            by_stage,
        },
        histogram,
        per_day,
        answer_totals,
        value_counts,
        eligible_by_version,
    })
}

/// Users per login count: read with the listed users when the page has neither dates
/// nor a version, otherwise counted.
async fn histogram(
    store: &dyn Store,
    scope: &ResultsScope,
    stages: &[u32],
) -> Result<Vec<(i64, i64)>, StoreError> {
    let undated = !scope.dated() && scope.version.is_none();
    if let Some(UsersFilter::Listed(listed)) = &scope.users
        && undated
        && let Some(counts) = &listed.login_counts
    {
        return Ok(counts.clone());
    }
    store.results_login_histogram(scope, stages).await
}

/// Each version's eligible users, unless the page is about one version (its filter, or
/// the only one ever live, live throughout the dates): its histogram then counts them
/// already, and asking the store would run the same statements again.
async fn eligible_by_version(
    store: &dyn Store,
    scope: &ResultsScope,
    shape: &Shape<'_>,
) -> Result<Vec<(i64, i64)>, StoreError> {
    if scope.one_version().is_some() {
        return Ok(Vec::new());
    }
    store
        .results_eligible_by_version(scope, shape.first_stages)
        .await
}

/// The stages' login numbers, ascending.
fn stage_numbers(stages: &[(u32, Vec<String>)]) -> Vec<u32> {
    stages.iter().map(|(at_login, _)| *at_login).collect()
}
