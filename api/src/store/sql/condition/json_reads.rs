//! How one JSON value is read on each database: its type, its text, its `jsonb`, and
//! numeric comparisons that never cast a value of another type. The leaves of
//! `mod.rs` and `answers.rs` build on these.

use super::{Compiler, Json};
use crate::store::dialect::Flavour;

impl Compiler {
    /// Whether there is a value: present, not `null`, not `""`.
    pub(super) fn has_value(&mut self, json: &Json) -> String {
        let kind = self.type_of(json);
        let text = self.text(json);
        format!(
            "({kind} IS NOT NULL AND {kind} <> 'null' AND NOT ({} AND {text} = ''))",
            self.is_type(json, "string")
        )
    }

    /// The JSON type name as the database writes it (`NULL` when missing).
    pub(super) fn type_of(&self, json: &Json) -> String {
        match json {
            Json::At { .. } => {
                self.reads_type.set(true);
                "j.t".into()
            }
            Json::SqliteElement => "e.type".into(),
            Json::Jsonb(expr) => format!("jsonb_typeof({expr})"),
        }
    }

    /// Whether the value is of a type: `string`, `number`, `true`, `false`, `array`.
    pub(super) fn is_type(&self, json: &Json, kind: &str) -> String {
        let of = self.type_of(json);
        match (self.flavour, kind) {
            (Flavour::Sqlite, "string") => format!("({of} = 'text')"),
            (Flavour::Sqlite, "number") => format!("({of} IN ('integer', 'real'))"),
            (Flavour::Sqlite, other) => format!("({of} = '{other}')"),
            (Flavour::Postgres, "true" | "false") => {
                format!(
                    "({of} = 'boolean' AND {} = '{kind}'::jsonb)",
                    self.jsonb(json)
                )
            }
            (Flavour::Postgres, other) => format!("({of} = '{other}')"),
        }
    }

    /// The value as a `jsonb` expression (PostgreSQL; `NULL` elsewhere).
    pub(super) fn jsonb(&self, json: &Json) -> String {
        match json {
            Json::Jsonb(expr) => expr.clone(),
            _ => "NULL".into(),
        }
    }

    /// The value as SQL text (meaningful for JSON strings).
    pub(super) fn text(&self, json: &Json) -> String {
        match json {
            Json::At { .. } => "j.v".into(),
            Json::SqliteElement => "e.value".into(),
            // A key's value as text in one step (`->>`) where its parent is at hand. A
            // date test reads the text up to twelve times a row; against `-> 'key' #>> '{}'`
            // this took a fifth off a scan of a million users.
            Json::Jsonb(expr) => match expr.rsplit_once(" -> ") {
                Some((parent, key)) if is_quoted_key(key) => format!("({parent} ->> {key})"),
                _ => format!("({expr} #>> '{{}}')"),
            },
        }
    }

    /// Compares the value as a double with a bound double; PostgreSQL casts inside a
    /// `CASE`, so a value of another type is never cast.
    pub(super) fn real_cmp(&self, json: &Json, cmp: &str, arg: &str) -> String {
        match json {
            Json::Jsonb(expr) => format!(
                "(CASE WHEN jsonb_typeof({expr}) = 'number' THEN ({expr})::float8 {cmp} {arg} \
                 ELSE 1=0 END)"
            ),
            other => format!("(CAST({} AS REAL) {cmp} {arg})", self.text(other)),
        }
    }
}

/// A key as `Compiler::metadata` writes it in a `jsonb` path: `'name'`, no quote inside
/// (key paths are validated).
fn is_quoted_key(step: &str) -> bool {
    step.strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .is_some_and(|key| !key.contains('\''))
}
