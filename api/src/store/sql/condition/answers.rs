//! A condition on an answer's value (`a.value` of an `answers` row), as the results
//! page's `answer` filter writes it: the general form of a profile value, and for
//! `equals` a plain string or boolean, a comparison of the stored JSON text that the
//! index of the answers by set, key and value serves.

use serde_json::Value;

use super::{Arg, Compiler, Json};
use crate::questions::condition::Operator;
use crate::questions::dates::Since;
use crate::store::dialect::Flavour;

impl Compiler {
    /// An answer's value (one JSON document) under `op`.
    pub(super) fn answer_value(&mut self, since: Option<Since>, op: &Operator) -> String {
        if let (None, Operator::Equals(x)) = (since, op)
            && let Some(stored) = stored_text(x)
        {
            return self.stored_or_listed(stored, x);
        }
        self.value_leaf(self.answer_json(), since, op)
    }

    /// Where an answer's value is read: the whole `a.value` document.
    fn answer_json(&self) -> Json {
        match self.flavour {
            Flavour::Sqlite => Json::At {
                column: "a.value",
                path: "$".to_owned(),
            },
            Flavour::Postgres => Json::Jsonb("a.value".to_owned()),
        }
    }

    /// The value stored as `stored` (answers are stored as `serde_json` writes them), or
    /// a list holding `x`: the general form's meaning for a plain operand.
    fn stored_or_listed(&mut self, stored: String, x: &Value) -> String {
        match self.flavour {
            Flavour::Sqlite => {
                let arg = self.bind(Arg::Text(stored));
                let element = self.any_element(&self.answer_json(), x);
                // A list's text starts with `[`, and the next character is `\`: both sides
                // are ranges of the index on the value.
                format!("(a.value = {arg} OR (a.value >= '[' AND a.value < '\\' AND {element}))")
            }
            Flavour::Postgres => {
                let arg = self.bind(Arg::Text(stored));
                let list = self.bind(Arg::Text(Value::Array(vec![x.clone()]).to_string()));
                format!("(a.value = CAST({arg} AS jsonb) OR a.value @> CAST({list} AS jsonb))")
            }
        }
    }
}

/// The stored JSON text of an operand that `equals` matches by its text alone: a
/// non-empty string (`""` is no value) or a boolean. Numbers compare as floats, so `7`
/// must also match a stored `7.0`.
fn stored_text(x: &Value) -> Option<String> {
    match x {
        Value::String(s) if !s.is_empty() => Some(x.to_string()),
        Value::Bool(_) => Some(x.to_string()),
        _ => None,
    }
}
