//! The prompt sent to the widget: a due question with its texts in one
//! locale, date bounds resolved, and the prefill value (if it would be a
//! valid answer).
//!
//! Locale choice per text: the requested tag (case-insensitive), then its
//! primary language (`pt-BR` → `pt`), then the set's default locale, then the
//! first available; `locale` says which one the title used. Plain strings
//! are in the set's default locale. `today` is the UTC date of `now`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::answer::validate_answer;
use super::due::{Due, Position};
use super::format::{ChoiceOption, QuestionType, Text};
use super::paths::Profile;

/// A prompt, in the JSON shape of `GET /v1/widget/next`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Prompt {
    /// Slug of the set.
    pub question_set: String,
    /// Published version of the set.
    pub version: i64,
    /// `at_login` of the stage.
    pub stage: u32,
    /// "2 of 3" progress.
    pub position: Position,
    /// The question, localised.
    pub question: PromptQuestion,
    /// The locale of the title.
    pub locale: String,
}

/// A localised question; fields that do not apply are omitted.
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct PromptQuestion {
    /// Answer key.
    pub key: String,
    /// Question type name.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Title text.
    pub title: String,
    /// Help text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Input placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Whether an empty submit is refused.
    pub required: bool,
    /// Choice options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<PromptOption>>,
    /// Whether "other" is offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_other: Option<bool>,
    /// Lower bound (number, scale, or date as `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    /// Upper bound (number, scale, or date as `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    /// Minimum text length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Maximum text length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Regex the whole text must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Fewest choices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_selected: Option<u32>,
    /// Most choices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_selected: Option<u32>,
    /// Whether only whole numbers are accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integer: Option<bool>,
    /// Label of the scale's low end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    /// Label of the scale's high end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
    /// Label of `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_label: Option<String>,
    /// Label of `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_label: Option<String>,
    /// Suggested answer, already normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Value>,
}

/// A localised choice option.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct PromptOption {
    /// Stored value.
    pub value: String,
    /// Shown label.
    pub label: String,
}

/// Picks a text's string for the requested locale; returns it and the locale
/// actually used.
pub fn localize<'t>(
    text: &'t Text,
    requested: Option<&str>,
    default_locale: &'t str,
) -> (&'t str, &'t str) {
    let map = match text {
        Text::Plain(s) => return (s, default_locale),
        Text::Localized(map) => map,
    };
    let find = |tag: &str| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(tag));
    let primary = requested.and_then(|r| r.split(['-', '_']).next());
    requested
        .and_then(find)
        .or_else(|| primary.and_then(find))
        .or_else(|| find(default_locale))
        .or_else(|| map.iter().next())
        .map_or(("", default_locale), |(k, v)| (v.as_str(), k.as_str()))
}

/// Builds the prompt for a due question.
pub fn build_prompt(
    due: &Due<'_>,
    profile: &Profile<'_>,
    locale: Option<&str>,
    now: DateTime<Utc>,
) -> Prompt {
    let set = due.set;
    let q = due.question;
    let tr = |t: &Text| localize(t, locale, &set.default_locale).0.to_owned();
    let (title, used_locale) = localize(&q.title, locale, &set.default_locale);
    let today = now.date_naive();
    let prefill = q
        .prefill
        .as_ref()
        .and_then(|p| profile.value(p, now))
        .and_then(|v| validate_answer(q, &v, today).ok());
    let mut question = PromptQuestion {
        key: q.key.clone(),
        kind: q.kind.name(),
        title: title.to_owned(),
        description: q.description.as_ref().map(tr),
        placeholder: q.placeholder.as_ref().map(tr),
        required: q.required,
        prefill,
        ..PromptQuestion::default()
    };
    fill_rules(&mut question, &q.kind, &tr, today);
    Prompt {
        question_set: set.slug.clone(),
        version: due.version,
        stage: due.stage,
        position: due.position,
        question,
        locale: used_locale.to_owned(),
    }
}

/// Copies the type-specific rules into the prompt, texts localised.
fn fill_rules(
    pq: &mut PromptQuestion,
    kind: &QuestionType,
    tr: &dyn Fn(&Text) -> String,
    today: NaiveDate,
) {
    let tr_opt = |t: &Option<Text>| t.as_ref().map(tr);
    let options = |opts: &[ChoiceOption]| {
        let f = |o: &ChoiceOption| PromptOption {
            value: o.value.clone(),
            label: tr(&o.label),
        };
        Some(opts.iter().map(f).collect())
    };
    match kind {
        QuestionType::Text(r) | QuestionType::LongText(r) => {
            pq.min_length = r.min_length;
            pq.max_length = Some(r.max_length);
            pq.pattern = r.pattern.as_ref().map(|p| p.as_str().to_owned());
        }
        QuestionType::Number(r) => {
            pq.min = r.min.map(|v| json!(v));
            pq.max = r.max.map(|v| json!(v));
            pq.integer = Some(r.integer);
        }
        QuestionType::SingleChoice(r) => {
            pq.options = options(&r.options);
            pq.allow_other = Some(r.allow_other);
        }
        QuestionType::MultiChoice(r) => {
            pq.options = options(&r.options);
            pq.allow_other = Some(r.allow_other);
            pq.min_selected = r.min_selected;
            pq.max_selected = r.max_selected;
        }
        QuestionType::Boolean(r) => {
            pq.true_label = tr_opt(&r.true_label);
            pq.false_label = tr_opt(&r.false_label);
        }
        QuestionType::Date(r) => {
            let day = |d: NaiveDate| json!(d.format("%Y-%m-%d").to_string());
            pq.min = r.min.map(|b| day(b.resolve(today)));
            pq.max = r.max.map(|b| day(b.resolve(today)));
        }
        QuestionType::Scale(r) => {
            pq.min = Some(json!(r.min));
            pq.max = Some(json!(r.max));
            pq.min_label = tr_opt(&r.min_label);
            pq.max_label = tr_opt(&r.max_label);
        }
        QuestionType::Email | QuestionType::Phone | QuestionType::Url | QuestionType::Country => {}
    }
}
