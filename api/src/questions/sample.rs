//! Prompts for previews: a question of a set rendered as the widget would receive it,
//! for no user (no prefill, no conditions). The console's live preview shows them;
//! nothing is read about anyone and nothing is recorded.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::due::{Due, Position};
use super::format::QuestionSet;
use super::parse::parse_question_set;
use super::paths::Profile;
use super::render::{Prompt, build_prompt};

/// The question shown when a site has no live set yet.
const BUILT_IN: &str = r#"
slug: sample
title: Sample
default_locale: en
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        required: true
        title:
          en: "What best describes your role?"
          de: "Was beschreibt Ihre Rolle am besten?"
          fr: "Qu'est-ce qui décrit le mieux votre rôle ?"
        description: { en: "This helps us show you what matters to you." }
        options:
          - { value: developer, label: { en: Developer, de: Entwicklung, fr: Développement } }
          - { value: designer, label: { en: Designer, de: Design, fr: Design } }
          - { value: manager, label: { en: Manager, de: Management, fr: Gestion } }
        allow_other: true
"#;

/// The prompt for question `key` of `set` (its first question when `None`), in
/// `locale`, for a user with an empty profile at that question's stage; `None` when
/// there is no such question.
pub fn preview_prompt(
    set: &QuestionSet,
    version: i64,
    key: Option<&str>,
    locale: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Prompt> {
    let due = preview_due(set, version, key)?;
    let empty = json!({});
    let profile = Profile {
        user_metadata: &empty,
        app_metadata: &empty,
        login_count: i64::from(due.stage),
        first_login_at: None,
        last_login_at: None,
    };
    Some(build_prompt(&due, &profile, locale, now))
}

/// Question `key` (the first when `None`) as if it were due now: its stage, and its
/// place among its stage's questions, capped by the set's `max_prompts_per_login`.
fn preview_due<'a>(set: &'a QuestionSet, version: i64, key: Option<&str>) -> Option<Due<'a>> {
    set.stages.iter().find_map(|stage| {
        let at = match key {
            Some(key) => stage.questions.iter().position(|q| q.key == key)?,
            None => (!stage.questions.is_empty()).then_some(0)?,
        };
        let max = set.settings.max_prompts_per_login.max(1);
        let count = u32::try_from(stage.questions.len()).unwrap_or(u32::MAX);
        let index = u32::try_from(at + 1).unwrap_or(u32::MAX);
        Some(Due {
            set,
            version,
            stage: stage.at_login,
            question: &stage.questions[at],
            position: Position {
                index: index.min(max),
                of: count.min(max),
            },
        })
    })
}

/// A built-in sample question (single choice with "other", in English, German and
/// French), for sites without a live set.
pub fn sample_prompt(locale: Option<&str>, now: DateTime<Utc>) -> Prompt {
    let set = parse_question_set(BUILT_IN, "sample.yaml").expect("the built-in sample parses");
    preview_prompt(&set, 1, None, locale, now).expect("the sample has a question")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_prompt_in_the_asked_language() {
        let german = serde_json::to_value(sample_prompt(Some("de-AT"), Utc::now())).unwrap();
        assert_eq!(
            german["question"]["title"],
            "Was beschreibt Ihre Rolle am besten?"
        );
        assert_eq!(german["question"]["options"][0]["label"], "Entwicklung");
        assert_eq!(german["position"], json!({ "index": 1, "of": 1 }));
        let english = sample_prompt(None, Utc::now());
        assert_eq!(english.question.kind, "single_choice");
        assert_eq!(english.locale, "en");
    }

    #[test]
    fn any_question_of_a_set_is_previewed_with_its_position() {
        let source = "slug: s\ntitle: S\nstages:\n  - at_login: 2\n    questions:\n      \
             - { key: a, type: text, title: A }\n      - { key: b, type: email, title: B }\n";
        let set = parse_question_set(source, "s.yaml").unwrap();
        let b = preview_prompt(&set, 7, Some("b"), None, Utc::now()).unwrap();
        assert_eq!((b.question.key.as_str(), b.version, b.stage), ("b", 7, 2));
        assert_eq!((b.position.index, b.position.of), (2, 2));
        let first = preview_prompt(&set, 7, None, None, Utc::now()).unwrap();
        assert_eq!(first.question.key, "a");
        assert!(preview_prompt(&set, 7, Some("missing"), None, Utc::now()).is_none());
    }
}
