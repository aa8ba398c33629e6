//! Parser tests: every problem reported with its position; JSON ≡ YAML.

use super::super as q;
use super::support::{problems, read_set_file, set};

const BROKEN: &str = r#"slug: Bad_Slug
title: Test
colour: blue
stages:
  - at_login: 0
    questions:
      - key: a
        type: text
        title: A
        pattern: "(unclosed"
        max_length: 5000
      - key: a
        type: single_choice
        title: B
      - key: c
        type: frobnicate
        title: C
      - key: d
        type: number
        title: { de: "D" }
        min: 10
        max: 1
        when: { key: nope, equals: 1 }
        prefill: "bad path!"
        title: dup
      - key: e
        type: multi_choice
        title: E
        options: [x, y, x]
        when: { key: a, in: 5 }
        min_length: 3
"#;

#[test]
fn broken_file_reports_every_problem_with_position() {
    let found = problems(BROKEN);
    let expected: &[(usize, usize, &str)] = &[
        (1, 7, "bad slug `Bad_Slug`"),
        (3, 1, "unknown field `colour`"),
        (5, 15, "`at_login` must be at least 1"),
        (10, 18, "bad regex in `pattern`: unclosed group"),
        (11, 21, "`max_length` must be between 1 and 4096"),
        (12, 9, "needs `options`"),
        (
            12,
            14,
            "duplicate question key `a` (first at line 7, column 14)",
        ),
        (16, 15, "unknown type `frobnicate`"),
        (20, 16, "no text for the default locale `en`"),
        (22, 14, "`min` (10) is more than `max` (1)"),
        (23, 22, "`when` names `nope`"),
        (24, 18, "`prefill` `bad path!` is not a profile path"),
        (25, 9, "duplicate key `title`"),
        (29, 25, "duplicate option value `x`"),
        (30, 29, "`in` needs a list"),
        (
            31,
            9,
            "unknown field `min_length` in a `multi_choice` question",
        ),
    ];
    let got: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), expected.len(), "{got:#?}");
    for (p, (line, column, text)) in found.iter().zip(expected) {
        assert_eq!((p.line, p.column), (*line, *column), "{p}");
        assert!(p.message.contains(text), "{p} should contain {text}");
        assert!(!p.message.contains('\n'), "{p}");
        assert!(
            p.to_string()
                .starts_with(&format!("test.yaml:{line}:{column}: "))
        );
    }
}

#[test]
fn syntax_error_has_position() {
    let found = problems("slug: x\ntitle: [unclosed\nstages: []\n");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.starts_with("YAML syntax error"),
        "{}",
        found[0]
    );
    assert!(found[0].line >= 2);
    let tabs = problems("slug: x\n\ttitle: y\n");
    assert_eq!(tabs.len(), 1);
}

#[test]
fn json_form_parses_to_the_same_set() {
    let yaml = read_set_file("onboarding.yaml");
    let from_yaml = set(&yaml);
    let json = serde_json::to_string_pretty(&from_yaml).unwrap();
    let from_json = q::parse_question_set(&json, "onboarding.json").unwrap();
    assert_eq!(from_yaml, from_json);
    let back: q::QuestionSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, from_yaml);
    let hand = r#"{"slug": "x", "title": "X", "stages": [{"at_login": 1, "questions": [
        {"key": "a", "type": "single_choice", "title": "A", "options": ["p", {"value": "q", "label": {"en": "Q"}}]}]}]}"#;
    let yaml = "slug: x\ntitle: X\nstages:\n  - at_login: 1\n    questions:\n      - key: a\n        type: single_choice\n        title: A\n        options: [p, {value: q, label: {en: Q}}]\n";
    assert_eq!(set(hand), set(yaml));
}

#[test]
fn json_problems_match_yaml_problems() {
    let json = r#"{"slug": "x", "title": "X", "stages": [{"at_login": 1, "questions": [
        {"key": "a", "type": "text", "title": "A", "bogus": 1}]}]}"#;
    let found = problems(json);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].column), (2, 52));
    assert!(found[0].message.contains("unknown field `bogus`"));
}

#[test]
fn defaults_and_normalised_options() {
    let s = set(&read_set_file("onboarding.yaml"));
    assert_eq!(s.priority, 10);
    assert_eq!(s.settings, q::Settings::default());
    let q::QuestionType::SingleChoice(rules) = &s.stages[2].questions[1].kind else {
        panic!("company.size is a single_choice");
    };
    assert_eq!(rules.options[0].value, "1-10");
    assert_eq!(rules.options[0].label, q::Text::Plain("1-10".into()));
    let q::QuestionType::Text(city) = &s.stages[1].questions[0].kind else {
        panic!("address.city is text");
    };
    assert_eq!(city.max_length, 100);
    let minimal = set(
        "slug: m\ntitle: M\nstages:\n  - at_login: 1\n    questions: [{key: a, type: text, title: A}]\n",
    );
    assert_eq!(
        (minimal.priority, minimal.default_locale.as_str()),
        (0, "en")
    );
    let q::QuestionType::Text(t) = &minimal.stages[0].questions[0].kind else {
        panic!()
    };
    assert_eq!(t.max_length, 500);
}

#[test]
fn when_key_rules() {
    let mk = |when: &str| {
        format!(
            "slug: w\ntitle: W\nstages:\n  - at_login: 1\n    questions:\n      - {{ key: company.name, type: text, title: A }}\n      - {{ key: b, type: text, title: B, when: {when} }}\n"
        )
    };
    for ok in [
        "{ key: company.name, exists: true }",
        "{ key: company, exists: true }",
        "{ key: company.name.first, exists: true }",
        "{ key: user_metadata.anything.else, equals: x }",
        "{ key: app_metadata.enrichment.geoip.country, in: [DE, AT] }",
        "{ key: login_count, gte: 3 }",
        "{ key: days_since_first_login, lte: 30 }",
        "{ all: [{ key: b, exists: false }, { not: { key: login_count, equals: 1 } }] }",
    ] {
        set(&mk(ok));
    }
    for bad in [
        "{ key: compan, exists: true }",
        "{ key: login_count, exists: yes }",
        "{ key: b, gte: [1] }",
        "{ key: b, equals: 1, lte: 2 }",
        "{ key: b }",
        "{ all: { key: b, exists: true } }",
        "{ all: [], key: b }",
        "{ key: app_metadata, exists: true }",
    ] {
        assert_eq!(problems(&mk(bad)).len(), 1, "{bad}");
    }
}

#[test]
fn limits_refuse_with_one_problem() {
    let big = format!(
        "slug: x\ntitle: X\n# {}\nstages: []\n",
        "x".repeat(q::MAX_SOURCE_BYTES)
    );
    assert_eq!(problems(&big).len(), 1);
    let mut many = String::from("slug: x\ntitle: X\nstages:\n  - at_login: 1\n    questions:\n");
    for i in 0..=q::MAX_QUESTIONS {
        many.push_str(&format!("      - {{ key: k{i}, type: text, title: T }}\n"));
    }
    let found = problems(&many);
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("more than 500 questions"));
}

#[test]
fn other_refusals() {
    let base = "slug: x\ntitle: X\nstages:\n  - at_login: 1\n    questions:\n      - ";
    for (q, want) in [
        (
            "{ key: a, type: text, title: A, min_length: 10, max_length: 5 }",
            "`min_length` (10) is more than",
        ),
        (
            "{ key: a, type: scale, title: A, min: 5 }",
            "missing required field `max`",
        ),
        (
            "{ key: a, type: scale, title: A, min: 5, max: 5 }",
            "scale needs",
        ),
        (
            "{ key: a, type: date, title: A, min: 2020-01-01, max: 2019-01-01 }",
            "`min` (2020-01-01)",
        ),
        (
            "{ key: a, type: date, title: A, max: tomorrow }",
            "`today` or a YYYY-MM-DD",
        ),
        ("{ key: a.b c, type: text, title: A }", "bad question key"),
        (
            "{ key: login_count, type: number, title: A }",
            "bad question key",
        ),
        (
            "{ key: a, type: text, title: A, required: yes }",
            "`required` must be true or false",
        ),
        (
            "{ key: a, type: text, title: 5 }",
            "`title` must be a string or a map",
        ),
        (
            "{ key: a, type: text, title: A, skip_if_known: app_metadata. }",
            "not a profile path",
        ),
        (
            "{ key: a, type: multi_choice, title: A, options: [a], min_selected: 3, max_selected: 2 }",
            "`min_selected` (3)",
        ),
        ("{ key: a, type: text }", "missing required field `title`"),
        (
            "{ key: a, type: single_choice, title: A, options: [{ label: L }] }",
            "missing required field `value`",
        ),
    ] {
        let found = problems(&format!("{base}{q}\n"));
        assert_eq!(found.len(), 1, "{q}: {found:?}");
        assert!(found[0].message.contains(want), "{q}: {}", found[0]);
    }
    assert!(
        problems("- just\n- a list\n")[0]
            .message
            .contains("must be a mapping")
    );
    assert!(problems("")[0].message.contains("must be a mapping"));
}

#[test]
fn canonical_json_round_trips_every_type() {
    let src = r#"
slug: all-types
title: All types
default_locale: de
stages:
  - at_login: 2
    after_days: 1
    questions:
      - { key: t, type: text, title: T, pattern: "[a-z]+", min_length: 2 }
      - { key: l, type: long_text, title: { de: L, en: L2 }, max_length: 4096 }
      - { key: n, type: number, title: N, min: 0.5, max: 9, integer: true }
      - { key: s, type: single_choice, title: S, options: [a, b], allow_other: true }
      - { key: m, type: multi_choice, title: M, options: [a, b], min_selected: 1, max_selected: 2 }
      - { key: b, type: boolean, title: B, true_label: Ja, false_label: { de: Nein } }
      - { key: d, type: date, title: D, min: 1900-01-01, max: today, required: true }
      - { key: e, type: email, title: E, description: Desc, placeholder: P }
      - { key: p, type: phone, title: P, when: { any: [{ key: t, exists: true }, { not: { key: login_count, lte: 3 } }] } }
      - { key: u, type: url, title: U, skip_if_known: app_metadata.x.url }
      - { key: c, type: country, title: C, prefill: app_metadata.enrichment.geoip.country }
      - { key: x, type: scale, title: X, min: 1, max: 5, min_label: low, max_label: high }
"#;
    let parsed = set(src);
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json["stages"][0]["questions"][0]["pattern"], "[a-z]+");
    assert_eq!(json["stages"][0]["questions"][6]["max"], "today");
    assert_eq!(json["stages"][0]["questions"][2]["type"], "number");
    let back: q::QuestionSet = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, parsed);
    let reparsed = q::parse_question_set(&json.to_string(), "all.json").unwrap();
    assert_eq!(reparsed, parsed);
}

#[test]
fn an_alias_bomb_is_refused_quickly_with_its_position() {
    let bomb = super::support::alias_bomb();
    assert!(
        bomb.len() < q::MAX_SOURCE_BYTES,
        "the bomb passes the size limit"
    );
    let started = std::time::Instant::now();
    let found = problems(&bomb);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].line, found[0].column),
        (2, 25),
        "the 4th alias crosses 1 MiB"
    );
    assert!(
        found[0].message.contains("more than 1048576 bytes of text"),
        "{}",
        found[0]
    );
}

#[test]
fn a_shared_option_list_may_be_aliased() {
    let parsed = set(r#"slug: s
title: S
stages:
  - at_login: 1
    questions:
      - { key: a, type: single_choice, title: A, options: &yes_no [yes, no, maybe] }
      - { key: b, type: single_choice, title: B, options: *yes_no }
"#);
    let options = |i: usize| match &parsed.stages[0].questions[i].kind {
        q::QuestionType::SingleChoice(r) => r.options.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!((options(0), options(1)), (3, 3));
}
