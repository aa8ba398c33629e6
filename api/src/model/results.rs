//! The results of a question set: what the store aggregates (by a [`ResultsScope`]) and
//! what `GET /v1/question-sets/{slug}/results` and the console's results page show.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::questions::Condition;

/// The filters of a results page as typed (query parameters of the API and the console);
/// an empty text is no filter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResultsFilterInput {
    /// First day counted (`YYYY-MM-DD`, UTC), on the event or answer time.
    pub from: Option<String>,
    /// Last day counted (`YYYY-MM-DD`, UTC, inclusive).
    pub to: Option<String>,
    /// Only this version's events and answers.
    pub version: Option<String>,
    /// Only users matching this JSON condition (as `GET /v1/users?where=` takes it).
    pub r#where: Option<String>,
    /// `key=value`: only users whose current answer to `key` is, or contains, `value`.
    pub answer: Option<String>,
}

/// The filters, checked: the answers and events a results page counts.
#[derive(Debug, Clone)]
pub struct ResultsScope {
    pub site_id: String,
    pub question_set: String,
    /// Events and answers at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events and answers before this time.
    pub until: Option<DateTime<Utc>>,
    pub version: Option<i64>,
    /// When each version of the set was live, for counting a version's eligible users.
    pub periods: Vec<LivePeriod>,
    /// Only these users (the `where` and `answer` filters together).
    pub users: Option<UsersFilter>,
    /// When relative conditions (`days_since_…`, `since`) are evaluated.
    pub now: DateTime<Utc>,
}

impl ResultsScope {
    /// Whether the page has dates (a start, an end, or both).
    pub fn dated(&self) -> bool {
        self.from.is_some() || self.until.is_some()
    }

    /// The one version the page is about, whose eligible users are then the page's own
    /// (one count, not two): its version filter's, or the only version ever live when it
    /// was live throughout the page's dates.
    pub fn one_version(&self) -> Option<i64> {
        self.version.or_else(|| self.only_version_throughout())
    }

    /// Without a version filter, the only version ever live when it was live throughout
    /// the page's dates: every prompt of the set is then of it.
    fn only_version_throughout(&self) -> Option<i64> {
        let (from, first) = (self.from?, self.periods.first()?);
        if self.version.is_some() || self.periods.iter().any(|p| p.version != first.version) {
            return None;
        }
        self.periods
            .iter()
            .any(|p| {
                p.from <= from
                    && match (p.until, self.until) {
                        (None, _) => true,
                        (Some(end), Some(until)) => end >= until,
                        (Some(_), None) => false,
                    }
            })
            .then_some(first.version)
    }
}

/// When one version of a question set was live: from `from` until `until` (`None`:
/// live now).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivePeriod {
    pub version: i64,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// The users a [`ResultsScope`] counts.
#[derive(Debug, Clone)]
pub enum UsersFilter {
    /// Those matching the conditions, evaluated within each query.
    Matching(UsersCondition),
    /// These users: a condition's matches, found once for a whole page so that its
    /// queries do not each evaluate the condition again.
    Listed(ListedUsers),
}

/// A page's user filters as conditions: on the profile (`where`), on the current answer
/// to one question of the set (`answer`), or both (a user must match each given).
#[derive(Debug, Clone, Default)]
pub struct UsersCondition {
    pub profile: Option<Condition>,
    pub answer: Option<AnswerCondition>,
}

/// A condition on a user's current answer to one question of the scope's set: the row
/// of the set's answers the question's card counts, not the profile value (which the
/// API or an enrichment may have set since). `value` is a condition whose every key is
/// [`AnswerCondition::VALUE`], which stands for the answer's value.
#[derive(Debug, Clone)]
pub struct AnswerCondition {
    pub key: String,
    pub value: Condition,
}

impl AnswerCondition {
    /// The key that stands for the answer's value in [`AnswerCondition::value`].
    pub const VALUE: &'static str = "answer";
}

/// Users found once: how many, and their ids as one JSON array of strings, as the
/// database wrote it (`json_group_array`, `json_agg`) and as each query binds it again,
/// so a long list is neither read row by row nor parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedUsers {
    pub count: usize,
    pub ids_json: Arc<str>,
    /// How many of them have each login count, `(login_count, users)` in login count
    /// order, when it was read with the list (a page without dates then needs no
    /// histogram query of its own).
    pub login_counts: Option<Vec<(i64, i64)>>,
}

impl ListedUsers {
    /// These ids.
    pub fn of(ids: &[String]) -> ListedUsers {
        ListedUsers {
            count: ids.len(),
            ids_json: serde_json::to_string(ids)
                .expect("strings serialize")
                .into(),
            login_counts: None,
        }
    }

    /// The ids, read back from the JSON array.
    pub fn ids(&self) -> Vec<String> {
        serde_json::from_str(&self.ids_json).unwrap_or_default()
    }
}

/// How prompt events are grouped when their users are counted.
#[derive(Debug, Clone)]
pub enum EventGroup {
    /// All together (group `""`).
    Total,
    /// By version (group: the version number as text).
    Version,
    /// By question key.
    Key,
    /// By stage: each stage's `at_login` (as text) with its question keys.
    Stage(Vec<(u32, Vec<String>)>),
}

/// The groups of prompt events whose users are counted in one pass over each user's
/// events ([`crate::store::ResultsStore::results_outcomes_per_user`]): in total, per
/// version, per question key and per stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeGroups {
    pub versions: Vec<i64>,
    pub keys: Vec<String>,
    /// Each stage's `at_login` with its question keys.
    pub stages: Vec<(u32, Vec<String>)>,
}

/// The distinct users per kind of each of [`OutcomeGroups`], grouped as
/// [`EventGroup`] groups them (a group with no user of a kind has no entry for it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupedOutcomes {
    pub total: Vec<GroupedUsers>,
    pub by_version: Vec<GroupedUsers>,
    pub by_key: Vec<GroupedUsers>,
    pub by_stage: Vec<GroupedUsers>,
}

/// Current answers counted per key, and per key and value for some keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerCounts {
    /// `(key, answers)`.
    pub totals: Vec<(String, i64)>,
    /// `(key, value, answers)`.
    pub values: Vec<(String, Value, i64)>,
}

/// Distinct users with a prompt event of one kind in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedUsers {
    pub group: String,
    pub kind: String,
    pub users: i64,
}

impl GroupedUsers {
    /// `users` distinct users with an event of `kind` in `group`.
    pub fn new(group: impl Into<String>, kind: impl Into<String>, users: i64) -> Self {
        GroupedUsers {
            group: group.into(),
            kind: kind.into(),
            users,
        }
    }
}

/// Count, smallest, largest and sum of the numeric answers to a question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberSummary {
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
}

/// One current answer, as listed and exported.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResultAnswer {
    pub user_id: String,
    pub key: String,
    #[schema(value_type = Object)]
    pub value: Value,
    pub version: i64,
    pub answered_at: DateTime<Utc>,
}

impl ResultAnswer {
    /// The answer as one line of text (a string as it is, anything else as JSON).
    pub fn text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A page of answers; `next_cursor` (for `after`) is null on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnswerPage {
    pub answers: Vec<ResultAnswer>,
    pub next_cursor: Option<String>,
}

/// Users who were shown, answered, skipped or dismissed (distinct users with such an event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Outcomes {
    pub shown: i64,
    pub answered: i64,
    pub skipped: i64,
    pub dismissed: i64,
}

/// The outcomes of one version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VersionOutcomes {
    pub version: i64,
    /// Users (of the filtered ones) seen while this version was live (a login then, or
    /// a prompt of it; within dates: in them) at or past its first stage.
    pub eligible: i64,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// The headline: eligible users, then what happened, in total and per version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Headline {
    /// Users (of the filtered ones) whose login count reached the first stage of the
    /// shown version (within dates or a version filter: seen at that count or past it in
    /// the dates, while that version was live; seen is a login, or a prompt of the set).
    pub eligible: i64,
    #[serde(flatten)]
    pub total: Outcomes,
    pub by_version: Vec<VersionOutcomes>,
}

/// One stage of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FunnelStage {
    /// The stage's login number.
    pub at_login: u32,
    /// Users whose login count reached it (counted as the headline's `eligible` is).
    pub reached: i64,
    /// Users shown one of its questions.
    pub shown: i64,
    /// Users who answered one of its questions.
    pub answered: i64,
}

/// One bar of a question's chart.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Bar {
    pub label: String,
    /// The value for the `answer` filter (`key=value`), where the bar is one answer (a
    /// date card's bar: its year).
    pub filter: Option<String>,
    pub count: i64,
    /// Of the question's answers (a multi-choice answer counts once per option).
    pub percent: f64,
}

/// A question's results: its outcomes and its chart, by type (`chart`): `choice` and
/// `scale` bars per value (scale with `mean`), `number` a histogram (with `mean`),
/// `date` bars per year, `text` the first page of answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuestionResults {
    pub key: String,
    /// The question's `type`.
    pub question_type: String,
    /// `choice`, `scale`, `number`, `date` or `text`.
    pub chart: String,
    /// The title in the set's default locale.
    pub title: String,
    pub at_login: u32,
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Current answers.
    pub answers: i64,
    pub bars: Vec<Bar>,
    pub mean: Option<f64>,
    pub texts: Option<AnswerPage>,
}

/// Answers given per day (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub answers: i64,
}

/// Everything on a question set's results page, under one set of filters.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SetResults {
    pub question_set: String,
    /// The version whose questions are shown: the `version` filter, else the live
    /// version, else the latest.
    pub questions_version: i64,
    /// Every version of the set.
    pub versions: Vec<i64>,
    /// Users matching the `where` and `answer` filters.
    pub users: i64,
    pub headline: Headline,
    pub funnel: Vec<FunnelStage>,
    pub questions: Vec<QuestionResults>,
    pub answers_per_day: Vec<DayCount>,
}

/// A checked `YYYY-MM-DD` day of a filter.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    crate::questions::format::parse_iso_date(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap()
    }

    fn scope(
        from: Option<u32>,
        until: Option<u32>,
        periods: &[(i64, u32, Option<u32>)],
    ) -> ResultsScope {
        ResultsScope {
            site_id: "s".into(),
            question_set: "q".into(),
            from: from.map(day),
            until: until.map(day),
            version: None,
            periods: periods
                .iter()
                .map(|(version, from, until)| LivePeriod {
                    version: *version,
                    from: day(*from),
                    until: until.map(day),
                })
                .collect(),
            users: None,
            now: day(30),
        }
    }

    #[test]
    fn only_a_sole_version_live_throughout_the_dates_is_the_pages() {
        let live = [(1, 5, None)];
        assert_eq!(
            scope(Some(10), Some(20), &live).only_version_throughout(),
            Some(1)
        );
        assert_eq!(
            scope(Some(5), None, &live).only_version_throughout(),
            Some(1)
        );
        assert_eq!(
            scope(Some(4), Some(20), &live).only_version_throughout(),
            None,
            "the dates begin before it was live"
        );
        assert_eq!(
            scope(None, Some(20), &live).only_version_throughout(),
            None,
            "no start date"
        );
        let ended = [(1, 5, Some(15))];
        assert_eq!(
            scope(Some(6), Some(15), &ended).only_version_throughout(),
            Some(1)
        );
        assert_eq!(
            scope(Some(6), Some(16), &ended).only_version_throughout(),
            None
        );
        assert_eq!(scope(Some(6), None, &ended).only_version_throughout(), None);
        let two = [(1, 5, Some(15)), (2, 15, None)];
        assert_eq!(
            scope(Some(20), Some(25), &two).only_version_throughout(),
            None,
            "another version was live once: its prompts are in the set's"
        );
        let filtered = ResultsScope {
            version: Some(1),
            ..scope(Some(10), Some(20), &live)
        };
        assert_eq!(
            filtered.only_version_throughout(),
            None,
            "the filter's own case"
        );
        assert_eq!(filtered.one_version(), Some(1), "the filter's version");
        assert_eq!(
            scope(Some(10), Some(20), &live).one_version(),
            Some(1),
            "the sole version live throughout"
        );
        assert_eq!(scope(Some(4), Some(20), &live).one_version(), None);
        assert_eq!(
            scope(Some(10), Some(20), &[]).only_version_throughout(),
            None
        );
    }
}
