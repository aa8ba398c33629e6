//! The prompt sent to the widget: a due question with its texts in one
//! locale, date bounds resolved, and the prefill value (if it would be a
//! valid answer).
//!
//! Locale choice per text: the requested tag (case-insensitive), then its
//! primary language (`pt-BR` → `pt`), then the set's default locale, then the
//! first available; `locale` says which one the title used. Plain strings
//! are in the set's default locale. A text whose language is not the requested one
//! (it fell back to the default or first locale) is named in the question's
//! `fallback_locales` with the locale it is in, so that the widget can mark it with its
//! own `lang` and `dir`. `today` is the UTC date of `now`.

use std::collections::BTreeMap;

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
    /// Texts not in the requested language, each with the locale it is in: `title`,
    /// `description`, `placeholder`, `min_label`, `max_label`, `true_label`,
    /// `false_label`, `options.N` (the N-th option's label, from 0). Omitted when none
    /// fell back or no locale was requested.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fallback_locales: BTreeMap<String, String>,
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

/// Whether two BCP 47 tags name the same language (`pt-BR` and `pt`, `de_AT` and `DE`).
fn same_language(a: &str, b: &str) -> bool {
    let primary = |tag: &str| tag.split(['-', '_']).next().unwrap_or_default().to_owned();
    primary(a).eq_ignore_ascii_case(&primary(b))
}

/// Localises the texts of one prompt and notes those that fell back to another language.
struct Localizer<'a> {
    requested: Option<&'a str>,
    default_locale: &'a str,
    fallbacks: BTreeMap<String, String>,
}

impl Localizer<'_> {
    /// The text in the best locale; a fallback is noted under `field`.
    fn text(&mut self, field: &str, text: &Text) -> String {
        let (value, used) = localize(text, self.requested, self.default_locale);
        if self.requested.is_some_and(|r| !same_language(r, used)) {
            self.fallbacks.insert(field.to_owned(), used.to_owned());
        }
        value.to_owned()
    }

    fn optional(&mut self, field: &str, text: &Option<Text>) -> Option<String> {
        text.as_ref().map(|t| self.text(field, t))
    }
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
    let requested = locale.filter(|l| !l.is_empty());
    let mut tr = Localizer {
        requested,
        default_locale: &set.default_locale,
        fallbacks: BTreeMap::new(),
    };
    let (_, used_locale) = localize(&q.title, requested, &set.default_locale);
    let today = now.date_naive();
    let prefill = q
        .prefill
        .as_ref()
        .and_then(|p| profile.value(p, now))
        .and_then(|v| validate_answer(q, &v, today).ok());
    let mut question = PromptQuestion {
        key: q.key.clone(),
        kind: q.kind.name(),
        title: tr.text("title", &q.title),
        description: tr.optional("description", &q.description),
        placeholder: tr.optional("placeholder", &q.placeholder),
        required: q.required,
        prefill,
        ..PromptQuestion::default()
    };
    fill_rules(&mut question, &q.kind, &mut tr, today);
    question.fallback_locales = tr.fallbacks;
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
fn fill_rules(pq: &mut PromptQuestion, kind: &QuestionType, tr: &mut Localizer, today: NaiveDate) {
    let mut options = |opts: &[ChoiceOption]| {
        let labelled = |(i, o): (usize, &ChoiceOption)| PromptOption {
            value: o.value.clone(),
            label: tr.text(&format!("options.{i}"), &o.label),
        };
        Some(opts.iter().enumerate().map(labelled).collect())
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
            pq.true_label = tr.optional("true_label", &r.true_label);
            pq.false_label = tr.optional("false_label", &r.false_label);
        }
        QuestionType::Date(r) => {
            let day = |d: NaiveDate| json!(d.format("%Y-%m-%d").to_string());
            pq.min = r.min.map(|b| day(b.resolve(today)));
            pq.max = r.max.map(|b| day(b.resolve(today)));
        }
        QuestionType::Scale(r) => {
            pq.min = Some(json!(r.min));
            pq.max = Some(json!(r.max));
            pq.min_label = tr.optional("min_label", &r.min_label);
            pq.max_label = tr.optional("max_label", &r.max_label);
        }
        QuestionType::Email | QuestionType::Phone | QuestionType::Url | QuestionType::Country => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{Pacing, PublishedSet, next_due, parse_question_set};
    use super::*;

    const SET: &str = r#"
slug: onboarding
title: Onboarding
default_locale: en
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: { en: "What best describes your role?", de: "Ihre Rolle?" }
        description: { en: "Pick one.", ar: "اختر واحدا." }
        options:
          - { value: dev, label: { en: Developer, ar: "مطور" } }
          - { value: pm, label: "Product" }
"#;

    fn prompt(locale: Option<&str>) -> Value {
        let set = parse_question_set(SET, "onboarding.yaml").expect("the set parses");
        let sets = [PublishedSet { set, version: 1 }];
        let (user, app) = (json!({}), json!({}));
        let now = Utc::now();
        let profile = Profile {
            user_metadata: &user,
            app_metadata: &app,
            login_count: 1,
            first_login_at: None,
            last_login_at: None,
        };
        let due = next_due(&sets, &profile, &[], Pacing::default(), now).expect("role is due");
        serde_json::to_value(build_prompt(&due, &profile, locale, now)).unwrap()
    }

    #[test]
    fn texts_that_fall_back_name_the_locale_they_are_in() {
        let arabic = prompt(Some("ar-EG"));
        assert_eq!(
            arabic["question"]["title"],
            "What best describes your role?"
        );
        assert_eq!(arabic["question"]["description"], "اختر واحدا.");
        assert_eq!(
            arabic["question"]["fallback_locales"],
            json!({ "title": "en", "options.1": "en" }),
            "the Arabic description and first option are not fallbacks: {arabic}"
        );
        let german = prompt(Some("de"));
        assert_eq!(
            german["question"]["fallback_locales"],
            json!({ "description": "en", "options.0": "en", "options.1": "en" })
        );
    }

    #[test]
    fn nothing_falls_back_in_the_requested_language_or_without_one() {
        for locale in [Some("en-GB"), Some("EN"), None, Some("")] {
            let prompt = prompt(locale);
            assert!(
                prompt["question"].get("fallback_locales").is_none(),
                "{locale:?}: {prompt}"
            );
        }
    }

    #[test]
    fn languages_compare_by_their_primary_subtag() {
        assert!(same_language("pt-BR", "pt"));
        assert!(same_language("de_AT", "DE"));
        assert!(!same_language("ar", "en"));
        assert!(!same_language("en", "eo"));
    }
}
