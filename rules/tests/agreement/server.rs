//! The agreement table through the server's `validate_answer` (api's `answer_agreement`
//! test; `widget/tests/agreement.rs` runs the same rows through the widget).

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};
use trickle::questions::{Question, format::parse_iso_date, validate_answer};

mod table {
    #![allow(dead_code)]
    include!("table.rs");
}
use table::{B, E, Q, ROWS, SERVER_ONLY, TODAY, V};

fn question(q: &Q) -> Question {
    let bound = |b: &Option<B>| match b {
        Some(B::Num(n)) if n.fract() == 0.0 => json!(*n as i64),
        Some(B::Num(n)) => json!(n),
        Some(B::Day(d)) => json!(d),
        None => Value::Null,
    };
    let mut fields = json!({ "key": "k", "title": "T", "type": q.kind, "required": q.required });
    let o = fields.as_object_mut().unwrap();
    let options: Vec<Value> = q
        .options
        .iter()
        .map(|v| json!({ "value": v, "label": v }))
        .collect();
    let rules = [
        ("min", bound(&q.min)),
        ("max", bound(&q.max)),
        ("min_length", json!(q.min_length)),
        ("max_length", json!(q.max_length)),
        ("pattern", json!(q.pattern)),
        ("integer", json!(q.integer)),
        ("options", json!(options)),
        ("allow_other", json!(q.allow_other)),
        ("min_selected", json!(q.min_selected)),
        ("max_selected", json!(q.max_selected)),
    ];
    let used = |key: &str, v: &Value| match q.kind {
        "text" | "long_text" => key.ends_with("length") || key == "pattern",
        "number" => matches!(key, "min" | "max" | "integer"),
        "scale" | "date" => matches!(key, "min" | "max"),
        "single_choice" => matches!(key, "options" | "allow_other"),
        "multi_choice" => key.contains("select") || matches!(key, "options" | "allow_other"),
        _ => false,
    } && !v.is_null();
    for (key, v) in rules {
        if used(key, &v) {
            o.insert(key.into(), v);
        }
    }
    serde_json::from_value(fields).expect("a table question")
}

fn json(v: &V) -> Value {
    match v {
        V::Null => Value::Null,
        V::Str(s) => json!(s),
        V::Rep(s, n) => json!(s.repeat(*n)),
        V::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => json!(*n as i64),
        V::Num(n) => json!(n),
        V::Bool(b) => json!(b),
        V::Other(s) => json!({ "other": s }),
        V::List(items) => Value::Array(items.iter().map(json).collect()),
    }
}

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

#[test]
fn every_row_agrees_on_the_server() {
    let mut failures = Vec::new();
    for (i, (q, input, expect)) in ROWS.iter().enumerate() {
        let got = validate_answer(&question(q), &json(input), today());
        let ok = match (expect, &got) {
            (E::Ok(v) | E::Sent(_, v), Ok(out)) => *out == json(v),
            (E::No(rule), Err(e)) => e.rule == *rule,
            _ => false,
        };
        if !ok {
            failures.push(format!("row {i}: {} {} → {got:?}", q.kind, json(input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ROWS.len() >= 100, "{} rows", ROWS.len());
}

#[test]
fn the_server_refuses_what_only_it_can_check() {
    for (q, input) in SERVER_ONLY {
        let got = validate_answer(&question(q), &json(input), today());
        assert_eq!(got.map_err(|e| e.rule), Err("format"), "{}", json(input));
    }
}

proptest! {
    /// Date bounds in question sets (chrono) and answers (the shared calendar) agree.
    #[test]
    fn bounds_and_answers_read_dates_alike(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9-]{8,11}") {
        let shared = trickle_rules::date::Date::parse(&s).map(|d| d.to_string());
        let chrono = parse_iso_date(&s).map(|d| d.format("%Y-%m-%d").to_string());
        prop_assert_eq!(shared, chrono);
    }
}
