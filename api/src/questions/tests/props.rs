//! Property tests: the parser never panics, and validation never accepts a
//! value outside its rule.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::super as q;
use super::generate::{to_block_yaml, tree};
use q::{ChoiceOption, NumberRules, Pattern, Question, QuestionType, ScaleRules, Text, TextRules};

fn question(kind: QuestionType) -> Question {
    Question {
        key: "k".into(),
        title: Text::Plain("T".into()),
        description: None,
        placeholder: None,
        required: false,
        when: None,
        prefill: None,
        skip_if_known: None,
        kind,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
}

proptest! {
    #![proptest_config(super::support::cases(256))]

    #[test]
    fn parser_never_panics_on_strings(s in any::<String>()) {
        let _ = q::parse_question_set(&s, "fuzz.yaml");
    }

    #[test]
    fn parser_never_panics_on_yamlish_text(s in "[-a-z:{}\\[\\],&*!|>'\" \n#.0-9]{0,200}") {
        let _ = q::parse_question_set(&s, "fuzz.yaml");
    }

    #[test]
    fn parser_never_panics_on_structured_input(v in tree()) {
        let json = serde_json::to_string(&v).unwrap();
        let from_json = q::parse_question_set(&json, "fuzz.json");
        let mut yaml = String::new();
        to_block_yaml(&v, 0, &mut yaml);
        let from_yaml = q::parse_question_set(&yaml, "fuzz.yaml");
        if let (Ok(a), Ok(b)) = (&from_json, &from_yaml) {
            prop_assert_eq!(a, b);
        }
        if let Err(problems) = &from_json {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| p.line >= 1 && p.column >= 1));
        }
    }

    #[test]
    fn parser_never_panics_on_mutated_examples(cut in 0usize..2000, len in 0usize..40, insert in "[-a-z:{}\\[\\], \n]{0,8}") {
        let source = super::support::read_set_file("onboarding.yaml");
        let start = source.char_indices().map(|(i, _)| i).nth(cut % source.chars().count()).unwrap_or(0);
        let end = source[start..].char_indices().map(|(i, _)| start + i).nth(len).unwrap_or(source.len());
        let mutated = format!("{}{insert}{}", &source[..start], &source[end..]);
        if let Err(problems) = q::parse_question_set(&mutated, "mutated.yaml") {
            prop_assert!(!problems.is_empty());
        }
    }

    #[test]
    fn text_answers_respect_their_rules(
        min in prop::option::of(0u32..6),
        max in 1u32..12,
        pat in prop::option::of(prop::sample::select(vec!["[a-c]+", "x.*", "[0-9]{2,4}", "a|bb"])),
        s in "[ a-cx0-9\\n]{0,16}",
    ) {
        let rules = TextRules { min_length: min, max_length: max, pattern: pat.map(|p| Pattern::new(p).unwrap()) };
        let q = question(QuestionType::Text(rules.clone()));
        if let Ok(Value::String(out)) = q::validate_answer(&q, &json!(s), today()) {
            let n = out.chars().count() as u32;
            prop_assert!(n <= max && n >= min.unwrap_or(0) && n > 0);
            prop_assert_eq!(out.as_str(), s.trim());
            prop_assert!(!out.contains('\n'));
            if let Some(p) = &rules.pattern {
                let whole = regex::Regex::new(&format!("^(?:{})$", p.as_str())).unwrap();
                prop_assert!(whole.is_match(&out));
            }
        }
    }

    #[test]
    fn number_answers_respect_their_rules(
        lo in prop::option::of(-100f64..100.0),
        span in prop::option::of(0f64..200.0),
        integer in any::<bool>(),
        v in prop_oneof![-300f64..300.0, (-300i64..300).prop_map(|i| i as f64)],
    ) {
        let hi = lo.zip(span).map(|(l, s)| l + s).or(span);
        let q = question(QuestionType::Number(NumberRules { min: lo, max: hi, integer }));
        if let Ok(out) = q::validate_answer(&q, &json!(v), today()) {
            let f = out.as_f64().unwrap();
            prop_assert!(lo.is_none_or(|l| f >= l) && hi.is_none_or(|h| f <= h));
            prop_assert!(!integer || f.fract() == 0.0);
        }
    }

    #[test]
    fn scale_answers_respect_their_rules(min in -10i64..10, steps in 1i64..20, v in -40f64..40.0, whole in any::<bool>()) {
        let max = min + steps;
        let v = if whole { v.trunc() } else { v };
        let q = question(QuestionType::Scale(ScaleRules { min, max, min_label: None, max_label: None }));
        if let Ok(out) = q::validate_answer(&q, &json!(v), today()) {
            let i = out.as_i64().unwrap();
            prop_assert!((min..=max).contains(&i));
        }
    }

    #[test]
    fn date_answers_respect_their_rules(lo in 0i64..2000, span in 0i64..2000, d in -100i64..4500, noise in "[0-9-]{0,3}") {
        let base = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let min = base + chrono::Duration::days(lo);
        let max = min + chrono::Duration::days(span);
        let rules = q::DateRules { min: Some(q::DateBound::Date(min)), max: Some(q::DateBound::Today) };
        let q = question(QuestionType::Date(rules));
        let s = format!("{}{noise}", (base + chrono::Duration::days(d)).format("%Y-%m-%d"));
        if let Ok(out) = q::validate_answer(&q, &json!(s), max) {
            let got = NaiveDate::parse_from_str(out.as_str().unwrap(), "%Y-%m-%d").unwrap();
            prop_assert!(got >= min && got <= max);
            prop_assert_eq!(out.as_str().unwrap().len(), 10);
        }
    }

    #[test]
    fn choice_answers_respect_their_rules(
        n in 1usize..6,
        allow_other in any::<bool>(),
        picks in prop::collection::vec(prop_oneof![
            (0usize..8).prop_map(|i| json!(format!("o{i}"))),
            "[a-z ]{0,4}".prop_map(|s| json!({"other": s})),
        ], 0..5),
        max_sel in prop::option::of(0u32..5),
    ) {
        let options: Vec<ChoiceOption> = (0..n)
            .map(|i| ChoiceOption { value: format!("o{i}"), label: Text::Plain(format!("O{i}")) })
            .collect();
        let valid = |v: &Value| match v {
            Value::String(s) => options.iter().any(|o| &o.value == s),
            Value::Object(m) => allow_other && m["other"].as_str().is_some_and(|s| !s.trim().is_empty()),
            _ => false,
        };
        let single = question(QuestionType::SingleChoice(q::SingleChoiceRules { options: options.clone(), allow_other }));
        for p in &picks {
            if let Ok(out) = q::validate_answer(&single, p, today()) {
                prop_assert!(valid(&out));
            }
        }
        let multi = question(QuestionType::MultiChoice(q::MultiChoiceRules {
            options: options.clone(), allow_other, min_selected: None, max_selected: max_sel,
        }));
        if let Ok(Value::Array(out)) = q::validate_answer(&multi, &Value::Array(picks.clone()), today()) {
            prop_assert!(out.iter().all(&valid));
            prop_assert!(max_sel.is_none_or(|m| out.len() <= m as usize));
            let mut seen = out.clone();
            seen.dedup();
            prop_assert_eq!(seen.len(), out.len());
        }
    }
}
