//! Answer rates per question (`GET /v1/stats/questions`).

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::App;
use crate::error::Result;
use crate::model::Site;
use crate::model::question_set::{is_closed, questions_by_stage};

/// The funnel of one question of a live set.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct QuestionStats {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    pub stage: u32,
    /// Users whose login count has reached the question's stage.
    pub eligible: i64,
    pub shown: i64,
    pub answered: i64,
    pub skipped: i64,
    pub dismissed: i64,
    /// Current answers per value; multi-choice answers count once per option chosen.
    /// Free-text answers are not listed.
    pub distribution: BTreeMap<String, i64>,
}

fn distribution_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("other") => "other".into(),
        other => other.to_string(),
    }
}

/// Answer statistics.
pub struct Stats<'a> {
    pub(crate) app: &'a App,
}

impl Stats<'_> {
    /// Per question of every live set: eligible, shown, answered, skipped, dismissed, and
    /// the distribution of current answers for closed questions.
    pub async fn questions(&self, site: &Site) -> Result<Vec<QuestionStats>> {
        let sets = self.app.live_sets(&site.site_id).await?;
        let events = self.app.store.prompt_event_counts(&site.site_id).await?;
        let answers = self.app.store.answer_counts(&site.site_id).await?;
        let histogram = self.app.store.login_count_histogram(&site.site_id).await?;
        let reaching = |at_login: u32| -> i64 {
            histogram
                .iter()
                .filter(|(count, _)| *count >= i64::from(at_login))
                .map(|(_, users)| users)
                .sum()
        };
        let mut stats = Vec::new();
        for published in sets.as_slice() {
            for (stage, question) in questions_by_stage(&published.set) {
                let mut row = QuestionStats {
                    question_set: published.set.slug.clone(),
                    version: published.version,
                    key: question.key.clone(),
                    stage,
                    eligible: reaching(stage),
                    ..Default::default()
                };
                for event in events
                    .iter()
                    .filter(|e| e.question_set == row.question_set && e.key == row.key)
                {
                    match event.kind.as_str() {
                        "impression" => row.shown = event.count,
                        "answered" => row.answered = event.count,
                        "skipped" => row.skipped = event.count,
                        "dismissed" => row.dismissed = event.count,
                        _ => {}
                    }
                }
                if is_closed(question) {
                    for answer in answers
                        .iter()
                        .filter(|a| a.question_set == row.question_set && a.key == row.key)
                    {
                        let values = match &answer.value {
                            Value::Array(items) => items.clone(),
                            single => vec![single.clone()],
                        };
                        for value in values {
                            *row.distribution
                                .entry(distribution_key(&value))
                                .or_default() += answer.count;
                        }
                    }
                }
                stats.push(row);
            }
        }
        Ok(stats)
    }
}
