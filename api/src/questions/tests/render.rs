//! Prompt building: JSON shape, locale fallback, resolved dates, prefill.

use serde_json::{Value, json};

use super::super as q;
use super::support::{now, profile, read_set_file, set};

fn onboarding() -> Vec<q::PublishedSet> {
    vec![q::PublishedSet {
        set: set(&read_set_file("onboarding.yaml")),
        version: 3,
    }]
}

fn prompt_json(
    sets: &[q::PublishedSet],
    user: &Value,
    app: &Value,
    login: i64,
    locale: Option<&str>,
) -> Value {
    let p = profile(user, app, login, 10);
    let due = q::next_due(sets, &p, &[], q::Pacing::default(), now()).expect("a due question");
    serde_json::to_value(q::build_prompt(&due, &p, locale, now())).unwrap()
}

#[test]
fn prompt_shape_and_locale_fallback() {
    let sets = onboarding();
    let empty = json!({});
    let de = prompt_json(&sets, &empty, &empty, 1, Some("de-AT"));
    assert_eq!(de["locale"], "de");
    assert_eq!(
        de["question"]["title"],
        "Was beschreibt Ihre Rolle am besten?"
    );
    assert_eq!(
        de["question"]["options"][1],
        json!({"value": "junior", "label": "Berufseinsteiger*in"})
    );
    assert_eq!(de["position"], json!({"index": 1, "of": 1}));
    assert_eq!(
        (
            de["question_set"].clone(),
            de["version"].clone(),
            de["stage"].clone()
        ),
        (json!("onboarding"), json!(3), json!(1))
    );
    let expected_keys = ["allow_other", "key", "options", "required", "title", "type"];
    let mut keys: Vec<&str> = de["question"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, expected_keys);
    assert_eq!(
        prompt_json(&sets, &empty, &empty, 1, Some("DE"))["locale"],
        "de"
    );
    assert_eq!(
        prompt_json(&sets, &empty, &empty, 1, Some("fr"))["locale"],
        "en"
    );
    assert_eq!(prompt_json(&sets, &empty, &empty, 1, None)["locale"], "en");
}

#[test]
fn prefill_and_date_bounds() {
    let sets = onboarding();
    let user = json!({"role": "junior"});
    let app = json!({"enrichment": {"geoip": {"city": " Lisbon "}}});
    let city = prompt_json(&sets, &user, &app, 2, Some("pt-BR"));
    assert_eq!(city["question"]["key"], "address.city");
    assert_eq!(city["question"]["prefill"], "Lisbon");
    assert_eq!(city["question"]["max_length"], 100);
    assert_eq!(city["position"], json!({"index": 1, "of": 3}));
    let user = json!({"role": "junior", "address": {"city": "Lisbon"}});
    let birthday = prompt_json(&sets, &user, &app, 2, None);
    assert_eq!(birthday["question"]["type"], "date");
    assert_eq!(birthday["question"]["max"], "2025-06-15");
    assert!(birthday["question"].get("min").is_none());
    assert!(birthday["question"].get("prefill").is_none());
}

#[test]
fn scale_and_boolean_fields() {
    let sets = vec![q::PublishedSet {
        set: set(&read_set_file("product-feedback.yaml")),
        version: 1,
    }];
    let empty = json!({});
    let nps = prompt_json(&sets, &empty, &empty, 5, Some("de"));
    assert_eq!(nps["question"]["min"], 0);
    assert_eq!(nps["question"]["max"], 10);
    assert_eq!(nps["question"]["min_label"], "Sehr unwahrscheinlich");
    assert_eq!(nps["question"]["required"], true);
    assert_eq!(nps["position"], json!({"index": 1, "of": 2}));
    let user = json!({"feedback": {"nps": 9, "features_used": ["api"]}});
    let b = prompt_json(&sets, &user, &empty, 5, None);
    assert_eq!(b["question"]["true_label"], "Yes, happy to");
    assert_eq!(b["question"]["type"], "boolean");
}
