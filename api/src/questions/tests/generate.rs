//! Generators shared by the property tests: JSON trees over the format's
//! field names and words, and a block-YAML rendering of them.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

pub const FIELDS: &[&str] = &[
    "slug",
    "title",
    "priority",
    "default_locale",
    "settings",
    "max_prompts_per_login",
    "reask_skipped_after_logins",
    "stages",
    "at_login",
    "after_days",
    "questions",
    "key",
    "type",
    "description",
    "placeholder",
    "required",
    "when",
    "prefill",
    "skip_if_known",
    "min_length",
    "max_length",
    "pattern",
    "min",
    "max",
    "integer",
    "options",
    "value",
    "label",
    "allow_other",
    "min_selected",
    "max_selected",
    "true_label",
    "false_label",
    "min_label",
    "max_label",
    "all",
    "any",
    "not",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "exists",
    "gte",
    "lte",
    "en",
    "de",
];
pub const WORDS: &[&str] = &[
    "text",
    "long_text",
    "number",
    "single_choice",
    "multi_choice",
    "boolean",
    "date",
    "email",
    "phone",
    "url",
    "country",
    "scale",
    "today",
    "2024-01-01",
    "role",
    "a.b",
    "app_metadata.x",
    "user_metadata.y",
    "login_count",
    "[a-z]+",
    "(",
    "onboarding",
    "",
    "en",
];

pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5000).prop_map(Value::from),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(|s| Value::String(s.into())),
        "[a-zA-Z0-9 _.-]{0,12}".prop_map(Value::String),
    ]
}

pub fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..7).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A naive block-YAML rendering (flow style for leaves).
pub fn to_block_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                out.push_str(&format!("{pad}{k}:"));
                block_child(v, indent, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for v in a {
                out.push_str(&format!("{pad}-"));
                block_child(v, indent, out);
            }
        }
        _ => out.push_str(&format!("{pad}{v}\n")),
    }
}

fn block_child(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            to_block_yaml(v, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            to_block_yaml(v, indent + 2, out);
        }
        _ => out.push_str(&format!(" {v}\n")),
    }
}

/// Profile paths and bare keys that conditions, `prefill` and `skip_if_known`
/// name, valid and not.
pub const KEYS: &[&str] = &[
    "role",
    "age",
    "company.size",
    "interests",
    "user_metadata.role",
    "user_metadata.company",
    "app_metadata.geo.country",
    "app_metadata.x",
    "login_count",
    "days_since_first_login",
    "days_since_last_login",
    "birthday",
    "bad key",
    "",
];

/// A scalar operand or profile value: numbers near each other in both
/// representations, strings that sort around them, booleans, null.
pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..40).prop_map(Value::from),
        (-3i64..40).prop_map(|i| json!(i as f64)),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        prop::sample::select(
            &[
                "",
                "a",
                "b",
                "dev",
                "1994-05-01",
                "2004-02-29",
                "2025-06-15T23:00:00Z",
                "2999-01-01",
                "30",
                "ä",
            ][..]
        )
        .prop_map(|s| Value::String(s.into())),
    ]
}

/// A condition as JSON, mostly well formed, sometimes not.
pub fn condition() -> impl Strategy<Value = Value> {
    const OPS: &[&str] = &[
        "equals",
        "not_equals",
        "in",
        "not_in",
        "exists",
        "gte",
        "lte",
        "contains",
        "has_other",
        "bogus",
    ];
    let since = prop_oneof![
        6 => Just(None),
        2 => Just(Some("years")),
        2 => Just(Some("days")),
        1 => Just(Some("weeks")),
    ];
    let operand = prop_oneof![
        4 => scalar(),
        2 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
        1 => Just(json!({"x": 1})),
    ];
    let compare = (
        prop::sample::select(KEYS),
        prop::sample::select(OPS),
        operand,
        since,
    )
        .prop_map(|(k, op, v, since)| match since {
            None => json!({ "key": k, op: v }),
            Some(unit) => json!({ "key": k, "since": unit, op: v }),
        });
    compare.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|c| json!({ "all": c })),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|c| json!({ "any": c })),
            inner.clone().prop_map(|c| json!({ "not": c })),
            (inner.clone(), inner).prop_map(|(a, b)| json!({ "all": [a], "any": [b] })),
        ]
    })
}

fn text_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z ]{1,12}".prop_map(Value::String),
        Just(json!({"en": "Hello", "de": "Hallo"})),
        Just(json!({"de": "Hallo"})),
        Just(json!("")),
        Just(json!(3)),
    ]
}

/// Options of a choice question: strings, `{value, label}` maps, duplicates.
fn options() -> impl Strategy<Value = Value> {
    let option = prop_oneof![
        prop::sample::select(&["a", "b", "c", " d ", ""][..]).prop_map(|s| json!(s)),
        prop::sample::select(&["a", "b", "e"][..])
            .prop_map(|s| json!({"value": s, "label": {"en": s.to_uppercase()}})),
        Just(json!(7)),
    ];
    prop::collection::vec(option, 0..5).prop_map(Value::Array)
}

/// The type-specific fields of a question of type `t`, valid or not.
fn rules_for(t: &'static str) -> BoxedStrategy<Vec<(&'static str, Value)>> {
    let small = || {
        prop_oneof![
            (-5i64..20).prop_map(Value::from),
            Just(json!(2.5)),
            Just(json!("x"))
        ]
    };
    let pattern = prop::sample::select(
        &[
            "[a-z]+",
            "\\d{3}",
            "(?i)x",
            "(",
            "\\A\\w+\\z",
            "[[:alpha:]]",
            "(?<n>a)|b",
        ][..],
    )
    .prop_map(|p| json!(p));
    match t {
        "text" | "long_text" => (
            prop::option::of(small()),
            prop::option::of(small()),
            prop::option::of(pattern),
        )
            .prop_map(|(min, max, p)| {
                [("min_length", min), ("max_length", max), ("pattern", p)]
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v?)))
                    .collect()
            })
            .boxed(),
        "number" | "scale" => (
            prop::option::of(small()),
            prop::option::of(small()),
            any::<bool>(),
        )
            .prop_map(move |(min, max, int)| {
                let mut f: Vec<(&str, Value)> = [("min", min), ("max", max)]
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v?)))
                    .collect();
                if t == "number" && int {
                    f.push(("integer", json!(true)));
                }
                f
            })
            .boxed(),
        "single_choice" | "multi_choice" => (
            options(),
            any::<bool>(),
            prop::option::of(small()),
            prop::option::of(small()),
        )
            .prop_map(move |(o, other, min, max)| {
                let mut f = vec![("options", o), ("allow_other", json!(other))];
                if t == "multi_choice" {
                    f.extend(min.map(|v| ("min_selected", v)));
                    f.extend(max.map(|v| ("max_selected", v)));
                }
                f
            })
            .boxed(),
        "date" => (
            prop::option::of(prop::sample::select(
                &["1900-01-01", "today", "2025-02-30", "x"][..],
            )),
            prop::option::of(prop::sample::select(
                &["2100-12-31", "today", "1800-01-01"][..],
            )),
        )
            .prop_map(|(min, max)| {
                [("min", min), ("max", max)]
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, json!(v?))))
                    .collect()
            })
            .boxed(),
        "boolean" => prop::option::of(text_value())
            .prop_map(|l| l.map(|l| vec![("true_label", l)]).unwrap_or_default())
            .boxed(),
        _ => Just(Vec::new()).boxed(),
    }
}

/// One question of any type, mostly well formed.
pub fn question() -> impl Strategy<Value = Value> {
    const TYPES: &[&str] = &[
        "text",
        "long_text",
        "number",
        "single_choice",
        "multi_choice",
        "boolean",
        "date",
        "email",
        "phone",
        "url",
        "country",
        "scale",
    ];
    let key = prop::sample::select(&["role", "age", "company.size", "a-b", "x.y.z", "bad key"][..]);
    (prop::sample::select(TYPES), key, text_value())
        .prop_flat_map(|(t, key, title)| {
            let extras = (
                prop::option::of(condition()),
                prop::option::of(prop::sample::select(KEYS)),
                prop::option::of(any::<bool>()),
            );
            (Just((t, key, title)), rules_for(t), extras)
        })
        .prop_map(|((t, key, title), rules, (when, prefill, required))| {
            let mut q = Map::new();
            q.insert("key".into(), json!(key));
            q.insert("type".into(), json!(t));
            q.insert("title".into(), title);
            for (k, v) in rules {
                q.insert(k.into(), v);
            }
            if let Some(w) = when {
                q.insert("when".into(), w);
            }
            if let Some(p) = prefill {
                q.insert("prefill".into(), json!(p));
            }
            if let Some(r) = required {
                q.insert("required".into(), json!(r));
            }
            Value::Object(q)
        })
}

/// A question set, mostly well formed.
pub fn question_set() -> impl Strategy<Value = Value> {
    let stage = (
        0u32..4,
        prop::option::of(0u32..3),
        prop::collection::vec(question(), 1..4),
    )
        .prop_map(|(at, days, qs)| {
            let mut s = json!({ "at_login": at, "questions": qs });
            if let Some(d) = days {
                s["after_days"] = json!(d);
            }
            s
        });
    (
        prop::sample::select(&["s", "onboarding", "Bad_Slug"][..]),
        -3i64..3,
        prop::collection::vec(stage, 1..3),
    )
        .prop_map(|(slug, priority, stages)| {
            json!({ "slug": slug, "title": "T", "priority": priority, "stages": stages })
        })
}

/// One structural edit of a JSON tree.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Replace the node with another value.
    Replace(Value),
    /// Remove the node from its parent.
    Remove,
    /// Add a field to a mapping (or an item to a list).
    Add(&'static str, Value),
}

/// An edit and where to apply it (an index into the tree's nodes).
pub fn edit() -> impl Strategy<Value = (prop::sample::Index, Edit)> {
    let e = prop_oneof![
        tree().prop_map(Edit::Replace),
        Just(Edit::Remove),
        (prop::sample::select(FIELDS), leaf()).prop_map(|(k, v)| Edit::Add(k, v)),
    ];
    (any::<prop::sample::Index>(), e)
}

/// Applies an edit to the `n`-th node of `v` in pre-order (wrapping around).
pub fn apply(v: &mut Value, at: prop::sample::Index, e: Edit) {
    let n = count(v);
    let target = at.index(n);
    let mut seen = 0;
    edit_at(v, target, &mut seen, &e);
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(m) => m.values().map(count).sum(),
        _ => 0,
    }
}

/// Returns true when the node itself must be removed by its parent.
fn edit_at(v: &mut Value, target: usize, seen: &mut usize, e: &Edit) -> bool {
    if *seen == target {
        *seen += count(v);
        match e {
            Edit::Replace(new) => *v = new.clone(),
            Edit::Remove => return true,
            Edit::Add(k, new) => match v {
                Value::Object(m) => {
                    m.insert((*k).to_owned(), new.clone());
                }
                Value::Array(a) => a.push(new.clone()),
                _ => *v = new.clone(),
            },
        }
        return false;
    }
    *seen += 1;
    match v {
        Value::Array(a) => {
            let mut remove = None;
            for (i, item) in a.iter_mut().enumerate() {
                if edit_at(item, target, seen, e) {
                    remove = Some(i);
                }
            }
            if let Some(i) = remove {
                a.remove(i);
            }
        }
        Value::Object(m) => {
            let mut remove = None;
            for (k, item) in m.iter_mut() {
                if edit_at(item, target, seen, e) {
                    remove = Some(k.clone());
                }
            }
            if let Some(k) = remove {
                m.remove(&k);
            }
        }
        _ => {}
    }
    false
}
