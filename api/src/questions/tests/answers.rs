//! Answer validation for every type, accepted and refused.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::super as q;
use super::support::set;

fn question(yaml_fields: &str) -> q::Question {
    let src = format!(
        "slug: a\ntitle: A\nstages:\n  - at_login: 1\n    questions:\n      - {{ key: k, title: T, {yaml_fields} }}\n"
    );
    set(&src).stages.remove(0).questions.remove(0)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
}

fn ok(fields: &str, value: Value) -> Value {
    q::validate_answer(&question(fields), &value, today())
        .unwrap_or_else(|e| panic!("{fields} {value}: refused: {} ({})", e.message, e.rule))
}

fn rule(fields: &str, value: Value) -> &'static str {
    match q::validate_answer(&question(fields), &value, today()) {
        Ok(v) => panic!("{fields}: accepted {v}"),
        Err(e) => e.rule,
    }
}

#[test]
fn text_rules() {
    let f = "type: text, min_length: 2, max_length: 5";
    assert_eq!(ok(f, json!("  abc ")), json!("abc"));
    assert_eq!(ok(f, json!("ääääá")), json!("ääääá"));
    assert_eq!(rule(f, json!("a")), "min_length");
    assert_eq!(rule(f, json!("abcdef")), "max_length");
    assert_eq!(rule(f, json!(12)), "type");
    assert_eq!(rule(f, json!("a\nb")), "format");
    let p = r#"type: text, pattern: "[A-Z]{2}[0-9]+""#;
    assert_eq!(ok(p, json!("AB12")), json!("AB12"));
    assert_eq!(rule(p, json!("xAB12")), "pattern");
    assert_eq!(rule(p, json!("AB12x")), "pattern");
    assert_eq!(rule("type: text", json!("x".repeat(501))), "max_length");
    assert_eq!(
        ok("type: long_text", json!("line 1\r\nline 2")),
        json!("line 1\nline 2")
    );
}

#[test]
fn empty_answers_are_refused() {
    assert_eq!(rule("type: text, required: true", json!("  ")), "required");
    assert_eq!(rule("type: text", json!("")), "empty");
    assert_eq!(rule("type: text", Value::Null), "empty");
    assert_eq!(
        rule(
            "type: multi_choice, options: [a], required: true",
            json!([])
        ),
        "required"
    );
    assert_eq!(
        rule("type: long_text, max_length: 4096", json!("x".repeat(5000))),
        "too_large"
    );
}

#[test]
fn number_and_scale() {
    let f = "type: number, min: 0, max: 120, integer: true";
    assert_eq!(ok(f, json!(42)), json!(42));
    assert_eq!(ok(f, json!(42.0)), json!(42));
    assert_eq!(rule(f, json!(4.5)), "integer");
    assert_eq!(rule(f, json!(-1)), "min");
    assert_eq!(rule(f, json!(121)), "max");
    assert_eq!(rule(f, json!("42")), "type");
    assert_eq!(ok("type: number", json!(1.25)), json!(1.25));
    let s = "type: scale, min: 0, max: 10";
    assert_eq!(ok(s, json!(10)), json!(10));
    assert_eq!(ok(s, json!(0)), json!(0));
    assert_eq!(rule(s, json!(11)), "max");
    assert_eq!(rule(s, json!(-1)), "min");
    assert_eq!(rule(s, json!(2.5)), "integer");
    assert_eq!(rule(s, json!(true)), "type");
}

#[test]
fn choices() {
    let f = "type: single_choice, options: [a, b]";
    assert_eq!(ok(f, json!("a")), json!("a"));
    assert_eq!(rule(f, json!("c")), "option");
    assert_eq!(rule(f, json!({"other": "x"})), "other");
    let o = "type: single_choice, options: [a, b], allow_other: true";
    assert_eq!(
        ok(o, json!({"other": " Pilot "})),
        json!({"other": "Pilot"})
    );
    assert_eq!(rule(o, json!({"other": " "})), "other");
    assert_eq!(rule(o, json!({"other": "x", "more": 1})), "type");
    assert_eq!(rule(o, json!(["a"])), "type");
    let m = "type: multi_choice, options: [a, b, c], allow_other: true, min_selected: 1, max_selected: 2";
    assert_eq!(ok(m, json!(["c", "a"])), json!(["a", "c"]));
    assert_eq!(
        ok(m, json!([{"other": "z"}, "b"])),
        json!(["b", {"other": "z"}])
    );
    assert_eq!(rule(m, json!(["a", "a"])), "duplicate");
    assert_eq!(
        rule(m, json!([{"other": "y"}, {"other": "z"}])),
        "duplicate"
    );
    assert_eq!(rule(m, json!(["a", "b", "c"])), "max_selected");
    assert_eq!(rule(m, json!(["d"])), "option");
    assert_eq!(rule(m, json!("a")), "type");
    let min2 = "type: multi_choice, options: [a, b, c], min_selected: 2";
    assert_eq!(rule(min2, json!(["a"])), "min_selected");
}

#[test]
fn boolean_and_date() {
    assert_eq!(ok("type: boolean", json!(false)), json!(false));
    assert_eq!(rule("type: boolean", json!("yes")), "type");
    let d = "type: date, min: 1900-01-01, max: today";
    assert_eq!(ok(d, json!("1990-02-28")), json!("1990-02-28"));
    assert_eq!(ok(d, json!("2025-06-15")), json!("2025-06-15"));
    assert_eq!(rule(d, json!("2025-06-16")), "max");
    assert_eq!(rule(d, json!("1899-12-31")), "min");
    assert_eq!(rule(d, json!("1990-2-28")), "format");
    assert_eq!(rule(d, json!("1990-02-30")), "format");
    assert_eq!(rule(d, json!(19900228)), "type");
}

#[test]
fn email_phone_url_country() {
    assert_eq!(
        ok("type: email", json!(" Jane.Doe@Example.COM ")),
        json!("Jane.Doe@example.com")
    );
    assert_eq!(rule("type: email", json!("not-an-email")), "format");
    assert_eq!(
        rule("type: email", json!("Jane <jane@example.com>")),
        "format"
    );
    assert_eq!(rule("type: email", json!("jane@localhost")), "format");
    assert_eq!(
        ok("type: phone", json!("+49 30 901820")),
        json!("+4930901820")
    );
    assert_eq!(
        ok("type: phone", json!("+1 (650) 253-0000")),
        json!("+16502530000")
    );
    assert_eq!(rule("type: phone", json!("030 901820")), "format");
    assert_eq!(rule("type: phone", json!("+1 123")), "format");
    assert_eq!(
        ok("type: url", json!("https://Example.com")),
        json!("https://example.com/")
    );
    assert_eq!(rule("type: url", json!("ftp://example.com")), "format");
    assert_eq!(rule("type: url", json!("javascript:alert(1)")), "format");
    assert_eq!(
        rule("type: url", json!("https://u:p@example.com")),
        "format"
    );
    assert_eq!(rule("type: url", json!("example.com")), "format");
    assert_eq!(ok("type: country", json!("de")), json!("DE"));
    assert_eq!(ok("type: country", json!(" US ")), json!("US"));
    assert_eq!(rule("type: country", json!("XX")), "format");
    assert_eq!(rule("type: country", json!("DEU")), "format");
}
