//! Fuzzing answer validation: every question type, with rules the parser
//! accepts, against arbitrary JSON and strings shaped like the type's
//! answers. Nothing panics, an accepted answer fits the size limit, and
//! normalising is idempotent: an accepted answer, validated again, is
//! accepted unchanged (what is stored is what a re-check would store).

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::super as q;
use super::generate::tree;
use super::support::cases;
use q::{ChoiceOption, DateBound, Pattern, Question, QuestionType, Text};

fn question(kind: QuestionType, required: bool) -> Question {
    Question {
        key: "k".into(),
        title: Text::Plain("T".into()),
        description: None,
        placeholder: None,
        required,
        when: None,
        prefill: None,
        skip_if_known: None,
        kind,
    }
}

fn date_bound() -> impl Strategy<Value = DateBound> {
    prop_oneof![
        Just(DateBound::Today),
        (1i32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| {
            DateBound::Date(NaiveDate::from_ymd_opt(y, m, d).expect("a real day"))
        }),
    ]
}

fn options(n: usize) -> Vec<ChoiceOption> {
    (0..n)
        .map(|i| ChoiceOption {
            value: format!("o{i}"),
            label: Text::Plain(format!("O{i}")),
        })
        .collect()
}

/// A question type with rules the parser would accept.
fn kind() -> impl Strategy<Value = QuestionType> {
    let text = (
        prop::option::of(0u32..8),
        1u32..=4096,
        prop::option::of(prop::sample::select(
            &[
                "[a-z]+",
                "\\d{3,5}",
                "\\p{L}+( \\p{L}+)*",
                "(?<x>a|b)*",
                ".*",
            ][..],
        )),
    )
        .prop_map(|(min, max, p)| q::TextRules {
            min_length: min.filter(|m| *m <= max),
            max_length: max,
            pattern: p.map(|p| Pattern::new(p).unwrap()),
        });
    let bound = || prop::option::of(-1e6f64..1e6);
    prop_oneof![
        text.clone().prop_map(QuestionType::Text),
        text.prop_map(QuestionType::LongText),
        (bound(), bound(), any::<bool>()).prop_map(|(a, b, integer)| {
            let (min, max) = match (a, b) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            QuestionType::Number(q::NumberRules { min, max, integer })
        }),
        (1usize..6, any::<bool>()).prop_map(|(n, allow_other)| {
            QuestionType::SingleChoice(q::SingleChoiceRules {
                options: options(n),
                allow_other,
            })
        }),
        (
            1usize..6,
            any::<bool>(),
            prop::option::of(0u32..3),
            prop::option::of(0u32..6)
        )
            .prop_map(|(n, allow_other, min_selected, max_selected)| {
                QuestionType::MultiChoice(q::MultiChoiceRules {
                    options: options(n),
                    allow_other,
                    min_selected,
                    max_selected: max_selected.map(|m| m.max(min_selected.unwrap_or(0))),
                })
            }),
        Just(QuestionType::Boolean(q::BooleanRules {
            true_label: None,
            false_label: None
        })),
        (
            prop::option::of(date_bound()),
            prop::option::of(date_bound())
        )
            .prop_map(|(min, max)| QuestionType::Date(q::DateRules { min, max })),
        Just(QuestionType::Email),
        Just(QuestionType::Phone),
        Just(QuestionType::Url),
        Just(QuestionType::Country),
        (-1000i64..1000, 1i64..=100).prop_map(|(min, steps)| {
            QuestionType::Scale(q::ScaleRules {
                min,
                max: min + steps,
                min_label: None,
                max_label: None,
            })
        }),
    ]
}

/// Strings shaped like answers of every type, with the odd character mixed in.
fn answer_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ a-zA-Z0-9äß\\r\\n\\t\u{2028}]{0,24}",
        "[a-zA-Z0-9.+_\"-]{1,10}@[a-zA-Z0-9İßẞΣς.-]{1,16}",
        "\\+[0-9 ()./-]{0,20}",
        "(?i:https?)://[a-zA-Z0-9İ.-]{1,16}(:[0-9]{0,6})?(/[a-zA-Z0-9%./?#=&ä-]{0,12})?",
        "[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}",
        "[a-zA-Z]{2}",
        "o[0-9]",
    ]
}

fn answer() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        answer_text().prop_map(Value::String),
        answer_text().prop_map(|s| json!({ "other": s })),
    ];
    prop_oneof![
        4 => answer_text().prop_map(Value::String),
        2 => any::<f64>().prop_map(|f| json!(f)),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => (-2000i64..2000).prop_map(|i| json!(i as f64 / 4.0)),
        2 => prop::collection::vec(item.clone(), 0..6).prop_map(Value::Array),
        1 => item,
        1 => tree(),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn fuzz_answers_of_every_type(
        kind in kind(),
        required in any::<bool>(),
        value in answer(),
        today in (1i32..=9999, 1u32..=365).prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap()),
    ) {
        let question = question(kind, required);
        if let Ok(stored) = q::validate_answer(&question, &value, today) {
            prop_assert!(serde_json::to_vec(&stored).unwrap().len() <= q::MAX_ANSWER_BYTES);
            let again = q::validate_answer(&question, &stored, today);
            prop_assert_eq!(again.as_ref(), Ok(&stored), "normalising {} is idempotent", value);
        }
    }
}
