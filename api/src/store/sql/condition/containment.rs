//! PostgreSQL's short form for the commonest conditions: `equals`, `in`, `contains` and
//! their negations on strings and booleans, as `jsonb` containment of the whole column.

use serde_json::Value;

use super::{Arg, Compiler, FALSE, joined};
use crate::questions::condition::Operator;

impl Compiler {
    /// `op` on `key` of `column` as containment (`@>`: the value, or a list holding it),
    /// with the general form's meaning: a value equal to a non-empty string or a boolean
    /// has a value, `""` matches only inside a list, and containment walks object keys
    /// only, as the evaluator does. The column is read once per row instead of once per
    /// type test, and the predicate stays parallel-safe. `None` for other operators and
    /// operands (numbers compare as floats, which `jsonb`'s numeric equality does not).
    pub(super) fn contained(
        &mut self,
        column: &'static str,
        key: &str,
        op: &Operator,
    ) -> Option<String> {
        let plain = |x: &Value| matches!(x, Value::String(_) | Value::Bool(_));
        match op {
            Operator::Equals(x) if plain(x) => Some(self.holds_or_lists(column, key, x)),
            Operator::NotEquals(x) if plain(x) => {
                Some(format!("(NOT {})", self.holds_or_lists(column, key, x)))
            }
            Operator::In(xs) | Operator::NotIn(xs) if xs.iter().all(plain) => {
                let parts = xs
                    .iter()
                    .map(|x| self.holds_or_lists(column, key, x))
                    .collect();
                let any = joined(parts, " OR ", FALSE);
                Some(match op {
                    Operator::In(_) => any,
                    _ => format!("(NOT {any})"),
                })
            }
            Operator::Contains(x) if plain(x) => {
                Some(self.containment(column, key, Value::Array(vec![x.clone()])))
            }
            _ => None,
        }
    }

    /// The value at `key` is `x` (unless `""`, which is no value) or a list holding `x`.
    fn holds_or_lists(&mut self, column: &'static str, key: &str, x: &Value) -> String {
        let list = Value::Array(vec![x.clone()]);
        if x.as_str() == Some("") {
            return self.containment(column, key, list);
        }
        let itself = self.containment(column, key, x.clone());
        let listed = self.containment(column, key, list);
        format!("({itself} OR {listed})")
    }

    /// `column @> {"a": {"b": value}}` for the key path `a.b`, the document bound.
    fn containment(&mut self, column: &'static str, key: &str, value: Value) -> String {
        let document = key.rsplit('.').fold(value, |inner, segment| {
            Value::Object(serde_json::Map::from_iter([(segment.to_owned(), inner)]))
        });
        let arg = self.bind(Arg::Text(document.to_string()));
        format!("({column} @> {arg}::jsonb)")
    }
}
