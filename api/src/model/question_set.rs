//! Question-set versions as stored: drafts, the live version, and the history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::questions::{PublishedSet, Question, QuestionSet, QuestionType, sort_published};

/// One stored version of a question set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetVersion {
    pub slug: String,
    pub version: i64,
    pub published: bool,
    /// The parsed set, as canonical JSON.
    #[schema(value_type = Object)]
    pub definition: Value,
    /// The YAML or JSON as submitted.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// Stored data that no longer reads back as what it claims to be.
#[derive(Debug, thiserror::Error)]
#[error("question set {slug} v{version} does not parse: {reason}")]
pub struct CorruptVersion {
    pub slug: String,
    pub version: i64,
    pub reason: String,
}

impl QuestionSetVersion {
    /// The parsed set, for the engine.
    pub fn into_published(self) -> Result<PublishedSet, CorruptVersion> {
        let set: QuestionSet =
            serde_json::from_value(self.definition).map_err(|e| CorruptVersion {
                slug: self.slug.clone(),
                version: self.version,
                reason: e.to_string(),
            })?;
        Ok(PublishedSet {
            set,
            version: self.version,
        })
    }
}

/// The live sets of a site in asking order (sorted once, when cached).
#[derive(Debug, Default)]
pub struct PublishedSets(Vec<PublishedSet>);

impl PublishedSets {
    /// Sorts the sets for the engine.
    pub fn new(mut sets: Vec<PublishedSet>) -> Self {
        sort_published(&mut sets);
        PublishedSets(sets)
    }

    /// The sets in asking order.
    pub fn as_slice(&self) -> &[PublishedSet] {
        &self.0
    }

    /// A live set by slug and version.
    pub fn find(&self, slug: &str, version: i64) -> Option<&PublishedSet> {
        self.0
            .iter()
            .find(|s| s.set.slug == slug && s.version == version)
    }
}

/// A question of a set by key.
pub fn find_question<'a>(set: &'a QuestionSet, key: &str) -> Option<&'a Question> {
    set.stages
        .iter()
        .flat_map(|s| &s.questions)
        .find(|q| q.key == key)
}

/// Every question of a set with its stage's `at_login`, in asking order.
pub fn questions_by_stage(set: &QuestionSet) -> impl Iterator<Item = (u32, &Question)> {
    set.stages
        .iter()
        .flat_map(|s| s.questions.iter().map(move |q| (s.at_login, q)))
}

/// Closed questions have a small set of answers worth counting in stats.
pub fn is_closed(question: &Question) -> bool {
    matches!(
        question.kind,
        QuestionType::SingleChoice(_)
            | QuestionType::MultiChoice(_)
            | QuestionType::Boolean(_)
            | QuestionType::Scale(_)
            | QuestionType::Country
    )
}

/// A question set in the list: its latest and live versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetSummary {
    pub slug: String,
    pub title: String,
    pub priority: i64,
    pub latest_version: i64,
    pub live_version: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// A set with all its versions (`GET /v1/question-sets/{slug}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetHistory {
    pub slug: String,
    pub live_version: Option<i64>,
    pub versions: Vec<QuestionSetVersion>,
}

/// Answers that a publish would leave without their question: every answer to a key
/// (`option: None`), or those that chose one option value of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProbe {
    pub key: String,
    pub option: Option<String>,
}

impl AnswerProbe {
    /// Whether a stored answer (`key`, `value`) is one of these: for an option, the
    /// value is that option or a list (multi choice) holding it.
    pub fn matches(&self, key: &str, value: &Value) -> bool {
        if key != self.key {
            return false;
        }
        let Some(option) = &self.option else {
            return true;
        };
        let is_option = |v: &Value| v.as_str() == Some(option.as_str());
        match value {
            Value::Array(items) => items.iter().any(is_option),
            single => is_option(single),
        }
    }
}

/// The result of publishing a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    Published,
    AlreadyPublished,
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_probe_matches_its_key_or_one_option_of_it() {
        let key = AnswerProbe {
            key: "role".into(),
            option: None,
        };
        assert!(key.matches("role", &json!({"other": "x"})));
        assert!(!key.matches("roles", &json!("dev")));
        let option = AnswerProbe {
            key: "role".into(),
            option: Some("dev".into()),
        };
        assert!(option.matches("role", &json!("dev")));
        assert!(option.matches("role", &json!(["pm", "dev"])));
        assert!(!option.matches("role", &json!("pm")));
        assert!(!option.matches("role", &json!({"other": "dev"})));
        assert!(!option.matches("team", &json!("dev")));
    }
}
