//! A results page's filters checked against the set and turned into the
//! [`ResultsScope`] every aggregate runs under: dates as UTC days, the version, the
//! `where` and `answer` conditions, and the users they match, found once.

use chrono::{Days, NaiveTime};
use serde_json::{Number, Value};

use super::{Checked, Results, questions_of, stages_of};
use crate::app::segments::parse_where_text;
use crate::error::{Error, Result};
use crate::model::results::{
    AnswerCondition, ResultsFilterInput, ResultsScope, UsersCondition, UsersFilter, parse_day,
};
use crate::model::{Site, now};
use crate::questions::format::QuestionType;
use crate::questions::{Condition, Operator, QuestionSet};

/// The most users a filter may match and still be found once and listed for all of a
/// page's queries; a filter matching more is evaluated within each query instead, so a
/// page never holds or sends a list longer than this (10 MB of JSON for 36-character
/// ids). At 1,000,000 users a listed filter of 125,000 took 2 s on SQLite where the
/// condition in each query took 9 s; on PostgreSQL the two cost about the same.
const LISTED_USERS: usize = 250_000;

impl Results<'_> {
    /// The scope with its users condition replaced by the users it matches, when there
    /// are at most [`LISTED_USERS`]: the condition is then evaluated once for the page
    /// instead of once in each of its queries (nine on a results page).
    async fn listed(&self, mut scope: ResultsScope) -> Result<ResultsScope> {
        if let Some(UsersFilter::Matching(condition)) = &scope.users {
            let limit = u32::try_from(LISTED_USERS + 1).expect("a small limit");
            let listed = self
                .app
                .store
                .results_matching_users(&scope, condition, limit)
                .await?;
            if listed.count <= LISTED_USERS {
                scope.users = Some(UsersFilter::Listed(listed));
            }
        }
        Ok(scope)
    }

    /// Reads the set and checks every filter, naming the field of the first bad one.
    pub(super) async fn check(
        &self,
        site: &Site,
        slug: &str,
        filter: &ResultsFilterInput,
    ) -> Result<Checked> {
        // The set's versions and live one, or 404, as the set's own history reads them.
        let history = self.app.publishing().history(site, slug).await?;
        let stored = history.versions;
        let versions: Vec<i64> = stored.iter().map(|v| v.version).collect();
        let version = match given(&filter.version) {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(v) if versions.contains(&v) => Some(v),
                _ => {
                    return Err(Error::invalid(
                        "invalid_version",
                        "version",
                        format!("version must be one of the set's versions, not {text:?}"),
                    ));
                }
            },
        };
        let shown = version
            .or(history.live_version)
            .unwrap_or(*versions.iter().max().expect("not empty"));
        // The shown version's definition, and each published version's first stage.
        let mut definition = None;
        let mut first_stages = Vec::new();
        for stored in stored {
            let (version, published) = (stored.version, stored.published);
            if !published && version != shown {
                continue;
            }
            let parsed = stored.into_published()?;
            if published && let Some((at_login, _)) = stages_of(&parsed.set).first() {
                first_stages.push((version, *at_login));
            }
            if version == shown {
                definition = Some(parsed);
            }
        }
        let definition = definition.expect("a stored version");
        let from = day(&filter.from, "from")?;
        let to = day(&filter.to, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(Error::invalid("invalid_date", "to", "to is before from"));
        }
        let users = UsersCondition {
            profile: given(&filter.r#where).map(parse_where_text).transpose()?,
            answer: given(&filter.answer)
                .map(|text| answer_condition(&definition.set, text))
                .transpose()?,
        };
        let filtered = users.profile.is_some() || users.answer.is_some();
        let midnight = |d: chrono::NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        let scope = ResultsScope {
            site_id: site.site_id.clone(),
            question_set: slug.to_owned(),
            from: from.map(midnight),
            until: to
                .and_then(|d| d.checked_add_days(Days::new(1)))
                .map(midnight),
            version,
            periods: self
                .app
                .store
                .results_live_periods(&site.site_id, slug)
                .await?,
            users: filtered.then_some(UsersFilter::Matching(users)),
            now: now(),
        };
        Ok(Checked {
            scope: self.listed(scope).await?,
            set: definition.set,
            questions_version: shown,
            versions,
            first_stages,
        })
    }
}

/// A filter's text, unless absent or empty.
fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn day(text: &Option<String>, field: &str) -> Result<Option<chrono::NaiveDate>> {
    given(text)
        .map(|t| {
            parse_day(t).ok_or_else(|| {
                Error::invalid(
                    "invalid_date",
                    field,
                    format!("{field} must be a YYYY-MM-DD date"),
                )
            })
        })
        .transpose()
}

/// The `answer` filter (`key=value`) as a condition on the user's current answer to
/// that question of the set (its card's answers, not the profile value): the
/// value typed as the question stores it; `other` also matches a free "Other" answer
/// (alone, or in a multi-choice list);
/// a date question also takes a year (`birthday=1990`), as its card's bars are.
fn answer_condition(set: &QuestionSet, text: &str) -> Result<AnswerCondition> {
    let refuse = |m: String| Error::invalid("invalid_answer_filter", "answer", m);
    let (key, raw) = text
        .split_once('=')
        .ok_or_else(|| refuse("answer must be key=value".into()))?;
    let question = questions_of(set)
        .map(|(_, q)| q)
        .find(|q| q.key == key)
        .ok_or_else(|| refuse(format!("{key:?} is not a question of this set")))?;
    let answer = |value: Condition| AnswerCondition {
        key: key.to_owned(),
        value,
    };
    if let (QuestionType::Date(_), Some(year)) = (&question.kind, year_of(raw)) {
        return Ok(answer(within_year(year)));
    }
    let value = match &question.kind {
        QuestionType::Scale(_) | QuestionType::Number(_) => {
            let number = raw
                .parse::<i64>()
                .map(Number::from)
                .ok()
                .or_else(|| raw.parse::<f64>().ok().and_then(Number::from_f64))
                .ok_or_else(|| refuse(format!("{key} takes a number, not {raw:?}")))?;
            Value::Number(number)
        }
        QuestionType::Boolean(_) => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(refuse(format!("{key} takes true or false, not {raw:?}"))),
        },
        _ => Value::String(raw.to_owned()),
    };
    let equals = Condition::Compare {
        key: AnswerCondition::VALUE.to_owned(),
        since: None,
        op: Operator::Equals(value),
    };
    let allows_other = match &question.kind {
        QuestionType::SingleChoice(rules) => rules.allow_other,
        QuestionType::MultiChoice(rules) => rules.allow_other,
        _ => false,
    };
    if allows_other && raw == "other" {
        // The card's `other` bar counts free "Other" answers, alone or in a list.
        let other = Condition::Compare {
            key: AnswerCondition::VALUE.to_owned(),
            since: None,
            op: Operator::HasOther(true),
        };
        return Ok(answer(Condition::Any {
            any: vec![equals, other],
        }));
    }
    Ok(answer(equals))
}

/// `raw` as a year (four ASCII digits), the label of a date card's bar.
fn year_of(raw: &str) -> Option<&str> {
    (raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit())).then_some(raw)
}

/// A date answer (stored as `YYYY-MM-DD`) within `year`: a range in byte order.
fn within_year(year: &str) -> Condition {
    let bound = |op: Operator| Condition::Compare {
        key: AnswerCondition::VALUE.to_owned(),
        since: None,
        op,
    };
    Condition::All {
        all: vec![
            bound(Operator::Gte(Value::String(format!("{year}-01-01")))),
            bound(Operator::Lte(Value::String(format!("{year}-12-31")))),
        ],
    }
}
