//! A question set's results (`GET /v1/question-sets/{slug}/results` and the console's
//! results page): the headline, the funnel by stage, a chart per question and answers
//! per day, every number under the same filters and aggregated in the database.

mod cards;
mod counts;
mod filters;
mod groups;

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::App;
use crate::error::{Error, Result};
use crate::model::Site;
use crate::model::results::{
    AnswerPage, Bar, DayCount, FunnelStage, GroupedOutcomes, Headline, QuestionResults,
    ResultsFilterInput, ResultsScope, SetResults, VersionOutcomes,
};
use crate::model::spreadsheet::text_cell;
use crate::questions::format::QuestionType;
use crate::questions::{Question, QuestionSet, localize};
use cards::{bar, buckets_for, choice_bars, number_text, scale_bars};
use counts::Counted;
use groups::{only_version, outcomes};

/// Free-text answers shown per page on a question's card.
pub const TEXT_PAGE: u32 = 20;
/// Rows read per query while exporting.
const EXPORT_PAGE: u32 = 1000;

/// The results of a site's question sets.
pub struct Results<'a> {
    pub(crate) app: &'a App,
}

/// The filters checked against the set: the scope and the definition read.
struct Checked {
    scope: ResultsScope,
    set: QuestionSet,
    questions_version: i64,
    versions: Vec<i64>,
    /// Each published version's first stage: `(version, login number)`.
    first_stages: Vec<(i64, u32)>,
}

impl Results<'_> {
    /// Every number of the results page under `filter`; `text_page` = (key, cursor)
    /// starts that free-text question's list after the cursor.
    pub async fn results(
        &self,
        site: &Site,
        slug: &str,
        filter: &ResultsFilterInput,
        text_page: Option<(&str, &str)>,
    ) -> Result<SetResults> {
        let checked = self.check(site, slug, filter).await?;
        let store = &self.app.store;
        let scope = &checked.scope;
        let stages = stages_of(&checked.set);
        let closed: Vec<String> = questions_of(&checked.set)
            .filter(|(_, q)| chart_of(q) == "choice" || chart_of(q) == "scale")
            .map(|(_, q)| q.key.clone())
            .collect();
        let counted = counts::count(
            store.as_ref(),
            scope,
            &counts::Shape {
                only_version: only_version(scope.version, &checked.versions),
                versions: &checked.versions,
                stages: &stages,
                closed: &closed,
                first_stages: &checked.first_stages,
            },
        )
        .await?;
        let Counted {
            outcomes:
                GroupedOutcomes {
                    total,
                    by_version,
                    by_key,
                    by_stage,
                },
            histogram,
            per_day,
            answer_totals,
            value_counts: counted,
            eligible_by_version,
        } = counted;
        let reached = |at_login: u32| -> i64 {
            histogram
                .iter()
                .filter(|(count, _)| *count >= i64::from(at_login))
                .map(|(_, users)| users)
                .sum()
        };
        let answer_totals: HashMap<String, i64> = answer_totals.into_iter().collect();

        let eligible = stages.first().map_or(0, |(at, _)| reached(*at));
        // Every version with an event or an eligible user under the filters; on a page
        // about one version (its filter, or the only one live throughout the dates), the
        // shown version is that one and its eligible users are the headline's.
        let mut eligible_by_version: HashMap<i64, i64> = eligible_by_version.into_iter().collect();
        if let Some(version) = scope.one_version()
            && eligible > 0
        {
            eligible_by_version.insert(version, eligible);
        }
        let mut versions: Vec<i64> = by_version
            .iter()
            .filter_map(|g| g.group.parse().ok())
            .chain(eligible_by_version.keys().copied())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        let headline = Headline {
            eligible,
            total: outcomes(&total, ""),
            by_version: versions
                .iter()
                .map(|v| VersionOutcomes {
                    version: *v,
                    eligible: eligible_by_version.get(v).copied().unwrap_or(0),
                    outcomes: outcomes(&by_version, &v.to_string()),
                })
                .collect(),
        };
        let funnel = stages
            .iter()
            .map(|(at_login, _)| {
                let stage = outcomes(&by_stage, &at_login.to_string());
                FunnelStage {
                    at_login: *at_login,
                    reached: reached(*at_login),
                    shown: stage.shown,
                    answered: stage.answered,
                }
            })
            .collect();

        let mut values: HashMap<String, Vec<(Value, i64)>> = HashMap::new();
        for (key, value, count) in counted {
            values.entry(key).or_default().push((value, count));
        }
        let mut questions = Vec::new();
        for (at_login, question) in questions_of(&checked.set) {
            let answers = answer_totals.get(&question.key).copied().unwrap_or(0);
            let mut card = QuestionResults {
                key: question.key.clone(),
                question_type: question.kind.name().to_owned(),
                chart: chart_of(question).to_owned(),
                title: text(&question.title, &checked.set),
                at_login,
                outcomes: outcomes(&by_key, &question.key),
                answers,
                bars: Vec::new(),
                mean: None,
                texts: None,
            };
            let counted = values.remove(&question.key).unwrap_or_default();
            match card.chart.as_str() {
                "choice" => card.bars = choice_bars(question, &checked.set, &counted, answers),
                "scale" => (card.bars, card.mean) = scale_bars(question, &counted, answers),
                "number" => (card.bars, card.mean) = self.histogram(scope, question).await?,
                "date" => card.bars = self.years(scope, &question.key, answers).await?,
                _ => {
                    let after = text_page.filter(|(key, _)| *key == question.key);
                    let after = after.map(|(_, cursor)| cursor);
                    card.texts = Some(
                        self.page(scope, Some(&question.key), after, TEXT_PAGE)
                            .await?,
                    );
                }
            }
            questions.push(card);
        }
        let answers_per_day = per_day
            .into_iter()
            .map(|(day, answers)| DayCount { day, answers })
            .collect();
        Ok(SetResults {
            question_set: slug.to_owned(),
            questions_version: checked.questions_version,
            versions: checked.versions,
            users: histogram.iter().map(|(_, users)| users).sum(),
            headline,
            funnel,
            questions,
            answers_per_day,
        })
    }

    /// A page of the filtered current answers (of `key`, or of every question), in
    /// (key, user id) order after the cursor `after`.
    pub async fn answers(
        &self,
        site: &Site,
        slug: &str,
        filter: &ResultsFilterInput,
        key: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<AnswerPage> {
        let checked = self.check(site, slug, filter).await?;
        self.page(&checked.scope, key, after, limit).await
    }

    /// Every filtered current answer (of `key`, or of every question) as CSV:
    /// `user_id,key,value,version,answered_at`, text cells guarded against formulas.
    pub async fn export_csv(
        &self,
        site: &Site,
        slug: &str,
        filter: &ResultsFilterInput,
        key: Option<&str>,
    ) -> Result<Vec<u8>> {
        let checked = self.check(site, slug, filter).await?;
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(["user_id", "key", "value", "version", "answered_at"])
            .expect("writing to memory");
        let mut after: Option<(String, String)> = None;
        loop {
            let rows = self
                .app
                .store
                .results_answers(
                    &checked.scope,
                    key,
                    after.as_ref().map(|(k, u)| (k.as_str(), u.as_str())),
                    EXPORT_PAGE,
                )
                .await?;
            for row in &rows {
                let value = match &row.value {
                    Value::String(s) => text_cell(s),
                    other => text_cell(&other.to_string()),
                };
                writer
                    .write_record([
                        text_cell(&row.user_id),
                        row.key.clone(),
                        value,
                        row.version.to_string(),
                        row.answered_at.to_rfc3339(),
                    ])
                    .expect("writing to memory");
            }
            match rows.last() {
                Some(last) if rows.len() == EXPORT_PAGE as usize => {
                    after = Some((last.key.clone(), last.user_id.clone()));
                }
                _ => break,
            }
        }
        Ok(writer.into_inner().expect("flushing to memory"))
    }

    async fn page(
        &self,
        scope: &ResultsScope,
        key: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<AnswerPage> {
        let after = after
            .filter(|c| !c.is_empty())
            .map(|cursor| {
                cursor.split_once(':').ok_or_else(|| {
                    Error::invalid("invalid_cursor", "after", "after is not a next_cursor")
                })
            })
            .transpose()?;
        let answers = self
            .app
            .store
            .results_answers(scope, key, after, limit)
            .await?;
        let next_cursor = match answers.last() {
            Some(last) if answers.len() == limit as usize => {
                Some(format!("{}:{}", last.key, last.user_id))
            }
            _ => None,
        };
        Ok(AnswerPage {
            answers,
            next_cursor,
        })
    }

    async fn histogram(
        &self,
        scope: &ResultsScope,
        question: &Question,
    ) -> Result<(Vec<Bar>, Option<f64>)> {
        let store = &self.app.store;
        let Some(summary) = store.results_number_summary(scope, &question.key).await? else {
            return Ok((Vec::new(), None));
        };
        let integer = matches!(&question.kind, QuestionType::Number(rules) if rules.integer);
        let (start, width, buckets) = buckets_for(summary.min, summary.max, integer);
        let mut counts = vec![0_i64; buckets];
        for (bucket, count) in store
            .results_number_buckets(scope, &question.key, start, width)
            .await?
        {
            let index = usize::try_from(bucket).unwrap_or(0).min(buckets - 1);
            counts[index] += count;
        }
        let bars = counts
            .into_iter()
            .enumerate()
            .map(|(i, count)| {
                let low = start + width * i as f64;
                let label = if width == 1.0 && integer {
                    number_text(low)
                } else {
                    format!("{}–{}", number_text(low), number_text(low + width))
                };
                bar(label, None, count, summary.count)
            })
            .collect();
        Ok((bars, Some(summary.sum / summary.count as f64)))
    }

    async fn years(&self, scope: &ResultsScope, key: &str, answers: i64) -> Result<Vec<Bar>> {
        Ok(self
            .app
            .store
            .results_years(scope, key)
            .await?
            .into_iter()
            .map(|(year, count)| bar(year.clone(), Some(year), count, answers))
            .collect())
    }
}

/// Every question with its stage's login number, in asking order.
fn questions_of(set: &QuestionSet) -> impl Iterator<Item = (u32, &Question)> {
    set.stages
        .iter()
        .flat_map(|s| s.questions.iter().map(move |q| (s.at_login, q)))
}

/// The stages by login number with their question keys.
fn stages_of(set: &QuestionSet) -> Vec<(u32, Vec<String>)> {
    let mut stages: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (at_login, question) in questions_of(set) {
        stages
            .entry(at_login)
            .or_default()
            .push(question.key.clone());
    }
    stages.into_iter().collect()
}

/// How a question's answers are drawn.
fn chart_of(question: &Question) -> &'static str {
    match question.kind {
        QuestionType::SingleChoice(_)
        | QuestionType::MultiChoice(_)
        | QuestionType::Boolean(_)
        | QuestionType::Country => "choice",
        QuestionType::Scale(_) => "scale",
        QuestionType::Number(_) => "number",
        QuestionType::Date(_) => "date",
        _ => "text",
    }
}

fn text(text: &crate::questions::format::Text, set: &QuestionSet) -> String {
    localize(text, None, &set.default_locale).0.to_owned()
}
