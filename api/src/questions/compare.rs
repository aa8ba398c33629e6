//! What changed between two versions of a question set, question by question: the
//! summary beside a version diff, and what a publish would orphan (keys and option
//! values that existing answers may hold).

use serde::Serialize;

use super::format::{ChoiceOption, Question, QuestionSet, QuestionType};

/// An option value that a question no longer offers.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct RemovedOption {
    /// The question's key.
    pub key: String,
    /// The option's stored value.
    pub value: String,
}

/// The changes from one version of a set to another, keys in the newer version's
/// order (removed keys in the older one's).
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SetChanges {
    /// Questions only in the newer version.
    pub added: Vec<String>,
    /// Questions only in the older version.
    pub removed: Vec<String>,
    /// Questions in both that differ in anything (texts, type, rules, condition, stage).
    pub changed: Vec<String>,
    /// Options of questions in both that the newer version no longer offers (all of
    /// them when it is no longer a choice).
    pub options_removed: Vec<RemovedOption>,
    /// Questions in both whose `when` differs (added, removed or edited).
    pub conditions_changed: Vec<String>,
}

impl SetChanges {
    /// Whether the two versions ask the same questions the same way.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// A question with its stage's `at_login` and `after_days`.
type Placed<'a> = (u32, Option<u32>, &'a Question);

/// Every question of a set, placed, in file order.
fn questions(set: &QuestionSet) -> Vec<Placed<'_>> {
    set.stages
        .iter()
        .flat_map(|s| {
            s.questions
                .iter()
                .map(move |q| (s.at_login, s.after_days, q))
        })
        .collect()
}

/// The options a question offers (none unless it is a choice).
fn options(question: &Question) -> &[ChoiceOption] {
    match &question.kind {
        QuestionType::SingleChoice(r) => &r.options,
        QuestionType::MultiChoice(r) => &r.options,
        _ => &[],
    }
}

/// The placed question with `key`, if any.
fn find<'a>(list: &[Placed<'a>], key: &str) -> Option<Placed<'a>> {
    list.iter().find(|(_, _, q)| q.key == key).copied()
}

/// Compares two versions of a set (`old` first).
pub fn compare(old: &QuestionSet, new: &QuestionSet) -> SetChanges {
    let (before, after) = (questions(old), questions(new));
    let mut changes = SetChanges::default();
    for &(at_login, after_days, question) in &after {
        let Some((was_at, was_after, was)) = find(&before, &question.key) else {
            changes.added.push(question.key.clone());
            continue;
        };
        if was != question || was_at != at_login || was_after != after_days {
            changes.changed.push(question.key.clone());
        }
        if was.when != question.when {
            changes.conditions_changed.push(question.key.clone());
        }
        let kept = options(question);
        for option in options(was) {
            if !kept.iter().any(|o| o.value == option.value) {
                changes.options_removed.push(RemovedOption {
                    key: question.key.clone(),
                    value: option.value.clone(),
                });
            }
        }
    }
    for &(_, _, question) in &before {
        if find(&after, &question.key).is_none() {
            changes.removed.push(question.key.clone());
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::super::parse_question_set;
    use super::*;

    fn set(questions: &str) -> QuestionSet {
        let source =
            format!("slug: s\ntitle: S\nstages:\n  - at_login: 1\n    questions:\n{questions}");
        parse_question_set(&source, "s.yaml").expect("the set parses")
    }

    const ROLE: &str =
        "      - { key: role, type: single_choice, title: Role?, options: [dev, pm, qa] }\n";
    const CITY: &str = "      - { key: city, type: text, title: City? }\n";

    #[test]
    fn the_same_set_has_no_changes() {
        let a = set(&format!("{ROLE}{CITY}"));
        assert_eq!(compare(&a, &a), SetChanges::default());
        assert!(compare(&a, &a).is_empty());
    }

    #[test]
    fn added_removed_and_changed_questions_are_named() {
        let old = set(&format!("{ROLE}{CITY}"));
        let new = set(concat!(
            "      - { key: role, type: single_choice, title: Your role?, options: [dev, pm, qa] }\n",
            "      - { key: team, type: number, title: Team size? }\n",
        ));
        let changes = compare(&old, &new);
        assert_eq!(changes.added, ["team"]);
        assert_eq!(changes.removed, ["city"]);
        assert_eq!(changes.changed, ["role"]);
        assert!(changes.options_removed.is_empty() && changes.conditions_changed.is_empty());
        assert!(!changes.is_empty());
    }

    #[test]
    fn removed_options_are_listed_and_a_type_change_removes_them_all() {
        let old = set(ROLE);
        let fewer =
            set("      - { key: role, type: single_choice, title: Role?, options: [dev, ops] }\n");
        let removed: Vec<_> = compare(&old, &fewer)
            .options_removed
            .into_iter()
            .map(|o| o.value)
            .collect();
        assert_eq!(removed, ["pm", "qa"]);
        let text = set("      - { key: role, type: text, title: Role? }\n");
        let changes = compare(&old, &text);
        assert_eq!(changes.options_removed.len(), 3);
        assert_eq!(changes.changed, ["role"]);
    }

    #[test]
    fn a_new_or_edited_condition_is_a_condition_change() {
        let old = set(&format!("{ROLE}{CITY}"));
        let guarded = set(&format!(
            "{ROLE}      - {{ key: city, type: text, title: City?, when: {{ key: role, equals: dev }} }}\n"
        ));
        let edited = set(&format!(
            "{ROLE}      - {{ key: city, type: text, title: City?, when: {{ key: role, equals: pm }} }}\n"
        ));
        assert_eq!(compare(&old, &guarded).conditions_changed, ["city"]);
        assert_eq!(compare(&guarded, &edited).conditions_changed, ["city"]);
        assert_eq!(compare(&guarded, &edited).changed, ["city"]);
        assert!(compare(&guarded, &guarded).conditions_changed.is_empty());
    }

    #[test]
    fn moving_a_question_to_another_stage_changes_it() {
        let old = set(&format!("{ROLE}{CITY}"));
        let source = format!(
            "slug: s\ntitle: S\nstages:\n  - at_login: 1\n    questions:\n{ROLE}  - at_login: 2\n    questions:\n{CITY}"
        );
        let new = parse_question_set(&source, "s.yaml").unwrap();
        assert_eq!(compare(&old, &new).changed, ["city"]);
    }
}
