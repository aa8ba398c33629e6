//! The agreement table (`rules/tests/agreement/table.rs`) through the widget's
//! `validate`: natively (`cargo test -p trickle-widget`) and as Wasm in headless
//! Chromium (`cargo xtask test`), where numbers are parsed, e-mail domains lower-cased
//! and patterns matched by the browser. The server runs the same rows
//! (api's `answer_agreement` test).

use trickle_widget::{Choice, Draft, Question, Value, validate};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod table {
    #![allow(dead_code)]
    include!("../../rules/tests/agreement/table.rs");
}
use table::{B, E, Q, ROWS, SERVER_ONLY, TODAY, V};

/// The question as a prompt brings it: date bounds resolved, defaults left out.
fn question(q: &Q) -> Question {
    let bound = |b: &Option<B>| match b {
        Some(B::Num(n)) => Some(Value::Number(*n)),
        Some(B::Day("today")) => Some(Value::from(TODAY)),
        Some(B::Day(d)) => Some(Value::from(*d)),
        None => None,
    };
    Question {
        key: "k".into(),
        kind: q.kind.into(),
        title: "T".into(),
        required: q.required,
        min: bound(&q.min),
        max: bound(&q.max),
        min_length: q.min_length,
        max_length: q.max_length,
        pattern: q.pattern.map(Into::into),
        integer: Some(q.integer),
        options: q
            .options
            .iter()
            .map(|o| Choice {
                value: (*o).into(),
                label: o.to_uppercase(),
            })
            .collect(),
        allow_other: q.allow_other,
        min_selected: q.min_selected,
        max_selected: q.max_selected,
        ..Question::default()
    }
}

fn string(v: &V) -> String {
    match v {
        V::Str(s) => (*s).into(),
        V::Rep(s, n) => s.repeat(*n),
        V::Num(n) => n.to_string(),
        _ => String::new(),
    }
}

/// What a person enters to give this answer.
fn draft(kind: &str, input: &V) -> Draft {
    let mut d = Draft::default();
    let mut pick = |v: &V| match v {
        V::Other(s) => {
            d.other = true;
            d.other_text = (*s).into();
        }
        V::Str(s) if kind == "multi_choice" => d.chosen.push((*s).into()),
        V::Num(n) if kind == "scale" => d.scale = Some(*n as i64),
        V::Bool(b) => d.flag = Some(*b),
        V::List(_) | V::Null => {}
        other => d.text = string(other),
    };
    match input {
        V::List(items) => items.iter().for_each(&mut pick),
        one => pick(one),
    }
    d
}

fn value(v: &V) -> Value {
    match v {
        V::Null => Value::Null,
        V::Num(n) => Value::Number(*n),
        V::Bool(b) => Value::Bool(*b),
        V::Other(s) => Value::object([("other", (*s).into())]),
        V::List(items) => Value::Array(items.iter().map(value).collect()),
        s => Value::String(string(s)),
    }
}

#[test]
fn every_row_agrees_in_the_widget() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, (q, input, expect)) in ROWS.iter().enumerate() {
        // Without a browser there is no `RegExp`: patterns are checked in Chromium.
        if q.pattern.is_some() && cfg!(not(target_arch = "wasm32")) {
            continue;
        }
        let got = validate(&question(q), &draft(q.kind, input));
        let rule = |p: &trickle_widget::Problem| match p.rule() {
            "required" if !q.required => "empty",
            rule => rule,
        };
        let ok = match (expect, &got) {
            (E::Ok(v) | E::Sent(v, _), Ok(out)) => *out == value(v),
            (E::No(expected), Err(p)) => rule(p) == *expected,
            _ => false,
        };
        if !ok {
            failures.push(format!("row {i}: {} {:?} → {got:?}", q.kind, string(input)));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 100, "{checked} rows");
}

/// The known gap: answers only the server can refuse (its 422 message is shown).
#[test]
fn the_widget_leaves_to_the_server_what_only_it_can_check() {
    for (q, input) in SERVER_ONLY {
        assert!(
            validate(&question(q), &draft(q.kind, input)).is_ok(),
            "{}",
            string(input)
        );
    }
}
