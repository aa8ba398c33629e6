//! Every file in question-sets/ parses with our parser and validates against
//! schema.json; a file with an unknown field fails both.

use serde_json::Value;

use super::super as q;
use super::support::{question_sets_dir, read_set_file};

fn to_json(source: &str) -> Value {
    q::yaml::load(source).expect("YAML").to_json()
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&read_set_file("schema.json")).expect("schema.json");
    jsonschema::draft202012::new(&schema).expect("valid JSON Schema")
}

fn schema_errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn example_files_parse_and_match_the_schema() {
    let v = validator();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(question_sets_dir())
        .expect("question-sets dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let is_set = name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
        if !is_set || name == "schema.json" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read");
        if let Err(problems) = q::parse_question_set(&source, &name) {
            panic!("{name}: {problems:#?}");
        }
        let errors = schema_errors(&v, &to_json(&source));
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        checked += 1;
    }
    assert!(checked >= 2, "expected the example sets, found {checked}");
}

#[test]
fn unknown_field_fails_parser_and_schema() {
    let v = validator();
    for (field, at) in [
        ("colour: blue", "top"),
        ("        colour: blue", "question"),
        ("        min_selected: 1", "type-specific"),
    ] {
        let source = format!(
            "slug: x\ntitle: X\nstages:\n  - at_login: 1\n    questions:\n      - key: a\n        type: text\n        title: A\n{field}\n"
        );
        let source = if at == "top" {
            format!("{field}\n{}", &source[..source.len() - field.len() - 1])
        } else {
            source
        };
        assert!(
            q::parse_question_set(&source, "x.yaml").is_err(),
            "{at}: parser accepted"
        );
        assert!(!v.is_valid(&to_json(&source)), "{at}: schema accepted");
    }
}

#[test]
fn schema_agrees_on_some_invalid_sets() {
    let v = validator();
    for bad in [
        "slug: Bad\ntitle: X\nstages: [{at_login: 1, questions: [{key: a, type: text, title: A}]}]\n",
        "slug: x\ntitle: X\nstages: [{at_login: 0, questions: [{key: a, type: text, title: A}]}]\n",
        "slug: x\ntitle: X\nstages: [{at_login: 1, questions: [{key: a, type: single_choice, title: A}]}]\n",
        "slug: x\ntitle: X\nstages: [{at_login: 1, questions: [{key: a, type: nope, title: A}]}]\n",
        "slug: x\ntitle: X\nstages: [{at_login: 1, questions: [{key: a, type: text, title: A, max_length: 5000}]}]\n",
        "slug: x\ntitle: X\nstages: [{at_login: 1, questions: [{key: a, type: text, title: A, when: {key: a, in: 5}}]}]\n",
    ] {
        assert!(
            q::parse_question_set(bad, "x.yaml").is_err(),
            "parser accepted {bad}"
        );
        assert!(!v.is_valid(&to_json(bad)), "schema accepted {bad}");
    }
}
