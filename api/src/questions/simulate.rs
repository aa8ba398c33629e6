//! Rehearsals for the console: what a user would be asked at one login, and any
//! question of a draft as the widget would receive it. Both drive the engine
//! ([`explain`], [`build_prompt`](super::build_prompt)'s input); neither decides
//! anything itself.

use chrono::{DateTime, Utc};

use super::due::{Decision, Due, Outcome, Pacing, PromptRecord, PublishedSet, Verdict, explain};
use super::paths::Profile;

/// The prompts of one login in the order the widget would show them, and the
/// engine's verdict on every other question.
#[derive(Clone, Debug, PartialEq)]
pub struct Rehearsal<'a> {
    /// The questions shown, first to last.
    pub shown: Vec<Due<'a>>,
    /// Every question not shown, with why it was passed over.
    pub passed_over: Vec<Decision>,
}

/// The questions due at `profile.login_count`, in order: asks the engine for the
/// next question, takes it out as if the user had answered it without changing
/// their profile (it counts towards its set's `max_prompts_per_login`), and asks
/// again until nothing is due. The pacing between page views does not apply
/// (one visit); the verdicts are the engine's own from the last ask.
pub fn rehearse<'a>(
    sets: &'a [PublishedSet],
    profile: &Profile<'_>,
    history: &[PromptRecord],
    now: DateTime<Utc>,
) -> Rehearsal<'a> {
    let total: usize = sets
        .iter()
        .map(|s| {
            s.set
                .stages
                .iter()
                .map(|st| st.questions.len())
                .sum::<usize>()
        })
        .sum();
    let mut history = history.to_vec();
    let mut shown: Vec<Due<'a>> = Vec::new();
    loop {
        let explained = explain(sets, profile, &history, Pacing::default(), now);
        match explained.due {
            // Every question is shown at most once: the bound holds even if a
            // history made a question due again.
            Some(due) if shown.len() < total => {
                history.push(PromptRecord {
                    question_set: due.set.slug.clone(),
                    key: due.question.key.clone(),
                    // Dismissed: never due again this login, counted at this login,
                    // and no answer that would change another question's condition.
                    outcome: Outcome::Dismissed,
                    login_count: profile.login_count,
                });
                shown.push(due);
            }
            _ => {
                let was_shown = |d: &Decision| {
                    shown
                        .iter()
                        .any(|s| s.set.slug == d.question_set && s.question.key == d.key)
                };
                let passed_over = explained
                    .decisions
                    .into_iter()
                    .filter(|d| !was_shown(d) && d.verdict != Verdict::Due)
                    .collect();
                return Rehearsal { shown, passed_over };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::parse_question_set;
    use super::*;

    const SET: &str = r#"
slug: s
title: S
settings: { max_prompts_per_login: 2 }
stages:
  - at_login: 1
    questions:
      - { key: role, type: single_choice, title: Role?, options: [dev, pm] }
      - { key: city, type: text, title: City? }
      - { key: team, type: number, title: Team?, when: { key: role, equals: dev } }
  - at_login: 3
    questions:
      - { key: pet, type: text, title: Pet? }
"#;

    fn sets() -> Vec<PublishedSet> {
        let set = parse_question_set(SET, "s.yaml").expect("the set parses");
        vec![PublishedSet { set, version: 4 }]
    }

    static EMPTY: Value = Value::Null;

    fn profile(metadata: &Value, login_count: i64) -> Profile<'_> {
        Profile {
            user_metadata: metadata,
            app_metadata: &EMPTY,
            login_count,
            first_login_at: None,
            last_login_at: None,
        }
    }

    fn keys(rehearsal: &Rehearsal<'_>) -> Vec<String> {
        rehearsal
            .shown
            .iter()
            .map(|d| d.question.key.clone())
            .collect()
    }

    fn reason(rehearsal: &Rehearsal<'_>, key: &str) -> Verdict {
        rehearsal
            .passed_over
            .iter()
            .find(|d| d.key == key)
            .map(|d| d.verdict.clone())
            .unwrap_or_else(|| panic!("{key} is not passed over: {rehearsal:?}"))
    }

    #[test]
    fn a_login_shows_questions_in_order_up_to_the_cap() {
        let sets = sets();
        let empty = json!({});
        let first = rehearse(&sets, &profile(&empty, 1), &[], Utc::now());
        assert_eq!(keys(&first), ["role", "city"]);
        assert_eq!(reason(&first, "team"), Verdict::ConditionFalse);
        assert_eq!(
            reason(&first, "pet"),
            Verdict::StageNotReached { at_login: 3 }
        );
        assert_eq!(
            first.shown[1].position.index, 2,
            "the engine's own position"
        );
    }

    #[test]
    fn known_answers_and_the_cap_are_the_reasons_given() {
        let sets = sets();
        let dev = json!({ "role": "dev" });
        let third = rehearse(&sets, &profile(&dev, 3), &[], Utc::now());
        assert_eq!(keys(&third), ["city", "team"]);
        assert_eq!(reason(&third, "role"), Verdict::Known);
        assert_eq!(reason(&third, "pet"), Verdict::CapReached { max: 2 });
    }

    #[test]
    fn the_history_counts() {
        let sets = sets();
        let empty = json!({});
        let skipped = [PromptRecord {
            question_set: "s".into(),
            key: "role".into(),
            outcome: Outcome::Skipped,
            login_count: 1,
        }];
        let second = rehearse(&sets, &profile(&empty, 2), &skipped, Utc::now());
        assert_eq!(keys(&second), ["city"]);
        assert_eq!(
            reason(&second, "role"),
            Verdict::SkippedRecently {
                due_again_at_login: 3
            }
        );
    }
}
