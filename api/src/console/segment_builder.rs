//! The segment builder's form model and its translation to and from the JSON
//! condition `GET /v1/users?where=` takes.
//!
//! The form is a tree of groups (`all`, `any`, `not`) and rows (a key, an optional
//! `since`, an operator, a value as typed). Each node is named by its path: the root
//! is `c`, its children `c-0`, `c-1`, theirs `c-0-0`, …; a node's fields are
//! `<path>.kind` (`all`, `any`, `not` or `row`), and for a row `<path>.key`,
//! `<path>.since`, `<path>.op` and `<path>.value`.
//!
//! A value is read as JSON when it is a JSON number, boolean or quoted string, and as
//! text otherwise (`male` is `"male"`, `20` is `20`, `"20"` is the text `20`); `in` and
//! `not_in` take a JSON list or comma-separated values. Every condition the language
//! can write has a form (values are written back so that they read the same), so
//! applying JSON to the builder and reading it back gives the same JSON.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::questions::{Condition, Operator};

/// The operators of the language, as the builder offers them.
pub const OPERATORS: [(&str, &str); 9] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("contains", "list contains"),
    ("gte", "≥ (at least)"),
    ("lte", "≤ (at most)"),
    ("exists", "has a value (true/false)"),
    ("has_other", "answered “Other” (true/false)"),
];

/// Most nodes a builder form may hold (the language's limits are lower).
const MAX_NODES: usize = 400;

/// A group of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    All,
    Any,
    Not,
}

impl GroupKind {
    /// The combinator's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            GroupKind::All => "all",
            GroupKind::Any => "any",
            GroupKind::Not => "not",
        }
    }

    fn from_name(name: &str) -> Option<GroupKind> {
        match name {
            "all" => Some(GroupKind::All),
            "any" => Some(GroupKind::Any),
            "not" => Some(GroupKind::Not),
            _ => None,
        }
    }
}

/// One comparison as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    /// Empty, `years` or `days`.
    pub since: String,
    pub op: String,
    pub value: String,
}

impl Row {
    /// No key typed yet: a condition still being written, not a wrong one.
    pub fn has_no_key(&self) -> bool {
        self.key.trim().is_empty()
    }
}

/// A node of the builder's tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Group(GroupKind, Vec<Node>),
    Row(Row),
}

impl Node {
    /// Whether some row has no key yet (a condition still being written).
    pub fn has_a_row_without_key(&self) -> bool {
        match self {
            Node::Row(row) => row.has_no_key(),
            Node::Group(_, children) => children.iter().any(Node::has_a_row_without_key),
        }
    }

    /// What a new segment starts from: every one of one empty row.
    pub fn starter() -> Node {
        Node::Group(GroupKind::All, vec![Node::Row(empty_row())])
    }

    /// Reads the tree from a form's fields (see the module docs); the starter when the
    /// form has none.
    pub fn from_form(fields: &BTreeMap<String, String>) -> Node {
        let mut budget = MAX_NODES;
        read_node(fields, "c", &mut budget).unwrap_or_else(Node::starter)
    }

    /// The builder's form of a condition.
    pub fn from_condition(condition: &Condition) -> Node {
        match condition {
            Condition::All { all } => Node::Group(
                GroupKind::All,
                all.iter().map(Node::from_condition).collect(),
            ),
            Condition::Any { any } => Node::Group(
                GroupKind::Any,
                any.iter().map(Node::from_condition).collect(),
            ),
            Condition::Not { not } => Node::Group(GroupKind::Not, vec![Node::from_condition(not)]),
            Condition::Compare { key, since, op } => {
                let since = since
                    .map(|s| serde_json::to_value(s).expect("a unit serialises"))
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let (op, value) = match op {
                    Operator::Equals(v) => ("equals", scalar_text(v)),
                    Operator::NotEquals(v) => ("not_equals", scalar_text(v)),
                    Operator::In(vs) => ("in", list_text(vs)),
                    Operator::NotIn(vs) => ("not_in", list_text(vs)),
                    Operator::Exists(b) => ("exists", b.to_string()),
                    Operator::Gte(v) => ("gte", scalar_text(v)),
                    Operator::Lte(v) => ("lte", scalar_text(v)),
                    Operator::Contains(v) => ("contains", scalar_text(v)),
                    Operator::HasOther(b) => ("has_other", b.to_string()),
                };
                Node::Row(Row {
                    key: key.clone(),
                    since,
                    op: op.to_owned(),
                    value,
                })
            }
        }
    }

    /// The JSON condition the tree means (not yet checked: the parser does that).
    /// A `not` group of several conditions negates their `all`.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Row(row) => row.to_json(),
            Node::Group(GroupKind::Not, children) => match children.as_slice() {
                [only] => json!({ "not": only.to_json() }),
                many => {
                    json!({ "not": { "all": many.iter().map(Node::to_json).collect::<Vec<_>>() } })
                }
            },
            Node::Group(kind, children) => {
                json!({ kind.name(): children.iter().map(Node::to_json).collect::<Vec<_>>() })
            }
        }
    }

    /// The node at `path`, if any.
    fn at_mut(&mut self, path: &str) -> Option<&mut Node> {
        let rest = path.strip_prefix('c')?;
        let mut node = self;
        for index in rest.split('-').skip(1) {
            let index: usize = index.parse().ok()?;
            match node {
                Node::Group(_, children) => node = children.get_mut(index)?,
                Node::Row(_) => return None,
            }
        }
        Some(node)
    }

    /// Applies a builder button: `add-row:<path>`, `add-group-<all|any|not>:<path>`
    /// (to the group at path), `remove:<path>`. Unknown actions change nothing.
    pub fn apply(&mut self, action: &str) {
        let Some((verb, path)) = action.split_once(':') else {
            return;
        };
        if verb == "remove" {
            if let Some((parent, index)) = path.rsplit_once('-')
                && let (Some(Node::Group(_, children)), Ok(index)) =
                    (self.at_mut(parent), index.parse::<usize>())
                && index < children.len()
            {
                children.remove(index);
            }
            return;
        }
        let new = match verb.strip_prefix("add-group-").map(GroupKind::from_name) {
            Some(Some(kind)) => Node::Group(kind, vec![Node::Row(empty_row())]),
            Some(None) => return,
            None if verb == "add-row" => Node::Row(empty_row()),
            None => return,
        };
        if let Some(Node::Group(_, children)) = self.at_mut(path) {
            children.push(new);
        }
    }
}

fn empty_row() -> Row {
    Row {
        op: "equals".into(),
        ..Row::default()
    }
}

fn read_node(fields: &BTreeMap<String, String>, path: &str, budget: &mut usize) -> Option<Node> {
    let kind = fields.get(&format!("{path}.kind"))?;
    *budget = budget.checked_sub(1)?;
    if kind == "row" {
        let field = |name: &str| {
            fields
                .get(&format!("{path}.{name}"))
                .cloned()
                .unwrap_or_default()
        };
        return Some(Node::Row(Row {
            key: field("key").trim().to_owned(),
            since: field("since"),
            op: field("op"),
            value: field("value"),
        }));
    }
    let group = GroupKind::from_name(kind)?;
    let prefix = format!("{path}-");
    let mut indices: Vec<usize> = fields
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix(".kind")?.parse().ok())
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let children = indices
        .into_iter()
        .filter_map(|i| read_node(fields, &format!("{path}-{i}"), budget))
        .collect();
    Some(Node::Group(group, children))
}

impl Row {
    /// The row's comparison as JSON: `{key, [since], <op>: operand}`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("key".into(), Value::String(self.key.clone()));
        if !self.since.is_empty() {
            map.insert("since".into(), Value::String(self.since.clone()));
        }
        let operand = match self.op.as_str() {
            "in" | "not_in" => read_list(&self.value),
            "exists" | "has_other" if self.value.trim().is_empty() => Value::Bool(true),
            _ => read_scalar(&self.value),
        };
        let op = if self.op.is_empty() {
            "equals"
        } else {
            self.op.as_str()
        };
        map.insert(op.to_owned(), operand);
        Value::Object(map)
    }
}

/// A value as typed: a JSON number, boolean or quoted string, else the text itself.
pub fn read_scalar(text: &str) -> Value {
    let trimmed = text.trim();
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::String(_))) => value,
        _ => Value::String(trimmed.to_owned()),
    }
}

/// A list as typed: a JSON list, or comma-separated values (empty: no values).
pub fn read_list(text: &str) -> Value {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.into()));
    }
    if trimmed.is_empty() {
        return Value::Array(Vec::new());
    }
    Value::Array(trimmed.split(',').map(read_scalar).collect())
}

/// A value written so that [`read_scalar`] reads it back the same.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) if read_scalar(s) == *value => s.clone(),
        other => other.to_string(),
    }
}

/// A list written so that [`read_list`] reads it back the same.
fn list_text(values: &[Value]) -> String {
    let plain: Vec<String> = values.iter().map(scalar_text).collect();
    let text = plain.join(", ");
    if read_list(&text) == Value::Array(values.to_vec()) {
        text
    } else {
        Value::Array(values.to_vec()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::parse_condition_json;

    fn round_trip(condition: Value) {
        let parsed = parse_condition_json(&condition).expect("valid");
        let node = Node::from_condition(&parsed);
        assert_eq!(node.to_json(), condition, "{node:?}");
        let fields = form_of(&node, "c");
        assert_eq!(Node::from_form(&fields), node, "the form reads back");
    }

    /// The fields a browser would post for a tree.
    fn form_of(node: &Node, path: &str) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::new();
        match node {
            Node::Row(row) => {
                fields.insert(format!("{path}.kind"), "row".into());
                fields.insert(format!("{path}.key"), row.key.clone());
                fields.insert(format!("{path}.since"), row.since.clone());
                fields.insert(format!("{path}.op"), row.op.clone());
                fields.insert(format!("{path}.value"), row.value.clone());
            }
            Node::Group(kind, children) => {
                fields.insert(format!("{path}.kind"), kind.name().into());
                for (i, child) in children.iter().enumerate() {
                    fields.extend(form_of(child, &format!("{path}-{i}")));
                }
            }
        }
        fields
    }

    #[test]
    fn every_operator_and_group_round_trips() {
        round_trip(json!({"all": [
            {"key": "gender", "equals": "male"},
            {"key": "interests", "contains": "fitness"},
            {"key": "birthday", "since": "years", "gte": 20},
            {"key": "birthday", "since": "years", "lte": 40},
        ]}));
        round_trip(json!({"any": [
            {"key": "login_count", "equals": 1},
            {"not": {"key": "role", "in": ["student", "junior"]}},
            {"all": [{"key": "days_since_last_login", "gte": 30}, {"any": []}]},
        ]}));
        round_trip(json!({"key": "role", "not_in": ["a,b", "20", " padded", "true", 3, 2.5]}));
        round_trip(json!({"key": "role", "in": []}));
        round_trip(json!({"key": "note", "equals": "20"}));
        round_trip(json!({"key": "note", "not_equals": "\"quoted\""}));
        round_trip(json!({"key": "flag", "equals": false}));
        round_trip(json!({"key": "x", "equals": ""}));
        round_trip(json!({"key": "x", "equals": "[1]"}));
        round_trip(json!({"key": "app_metadata.enrichment.email.corporate", "exists": false}));
        round_trip(json!({"key": "first", "since": "days", "in": [1, 7]}));
        round_trip(json!({"key": "score", "gte": -1.5}));
        round_trip(json!({"key": "born", "lte": "2000-01-01"}));
        round_trip(json!({"key": "interests", "has_other": true}));
        round_trip(json!({"key": "interests", "has_other": false}));
    }

    #[test]
    fn values_are_read_as_typed() {
        let row = |op: &str, value: &str| {
            Row {
                key: "k".into(),
                since: String::new(),
                op: op.into(),
                value: value.into(),
            }
            .to_json()
        };
        assert_eq!(
            row("equals", " male "),
            json!({"key": "k", "equals": "male"})
        );
        assert_eq!(row("gte", "20"), json!({"key": "k", "gte": 20}));
        assert_eq!(row("equals", "\"20\""), json!({"key": "k", "equals": "20"}));
        assert_eq!(
            row("in", "a, 2 ,true"),
            json!({"key": "k", "in": ["a", 2, true]})
        );
        assert_eq!(row("in", r#"["a,b"]"#), json!({"key": "k", "in": ["a,b"]}));
        assert_eq!(row("exists", ""), json!({"key": "k", "exists": true}));
        assert_eq!(row("exists", "false"), json!({"key": "k", "exists": false}));
        assert_eq!(
            row("exists", "maybe"),
            json!({"key": "k", "exists": "maybe"})
        );
        assert!(parse_condition_json(&row("exists", "maybe")).is_err());
        assert_eq!(row("has_other", ""), json!({"key": "k", "has_other": true}));
        assert_eq!(
            row("has_other", "false"),
            json!({"key": "k", "has_other": false})
        );
        assert_eq!(row("in", "[oops"), json!({"key": "k", "in": "[oops"}));
    }

    #[test]
    fn a_not_group_of_several_negates_their_all() {
        let node = Node::Group(
            GroupKind::Not,
            vec![
                Node::Row(Row {
                    key: "a".into(),
                    op: "exists".into(),
                    ..Row::default()
                }),
                Node::Group(GroupKind::Any, vec![]),
            ],
        );
        assert_eq!(
            node.to_json(),
            json!({"not": {"all": [{"key": "a", "exists": true}, {"any": []}]}})
        );
    }

    #[test]
    fn buttons_add_and_remove_nodes() {
        let mut node = Node::starter();
        node.apply("add-group-any:c");
        node.apply("add-row:c-1");
        node.apply("add-group-not:c-1");
        node.apply("remove:c-0");
        let Node::Group(GroupKind::All, children) = &node else {
            panic!("{node:?}")
        };
        assert_eq!(children.len(), 1);
        let Node::Group(GroupKind::Any, inner) = &children[0] else {
            panic!("{node:?}")
        };
        assert_eq!(inner.len(), 3);
        assert!(matches!(inner[2], Node::Group(GroupKind::Not, _)));
        let before = node.clone();
        for nonsense in [
            "remove:c",
            "remove:c-9",
            "add-row:c-0-0",
            "add-group-xor:c",
            "x",
        ] {
            node.apply(nonsense);
        }
        assert_eq!(node, before, "nonsense changes nothing");
    }

    #[test]
    fn forms_with_gaps_read_in_order_and_missing_roots_start_over() {
        let mut fields = BTreeMap::new();
        for (k, v) in [
            ("c.kind", "any"),
            ("c-10.kind", "row"),
            ("c-10.key", "b"),
            ("c-2.kind", "row"),
            ("c-2.key", "a"),
        ] {
            fields.insert(k.to_owned(), v.to_owned());
        }
        let node = Node::from_form(&fields);
        let Node::Group(GroupKind::Any, children) = node else {
            panic!()
        };
        let keys: Vec<_> = children
            .iter()
            .map(|c| match c {
                Node::Row(r) => r.key.as_str(),
                Node::Group(..) => "",
            })
            .collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(Node::from_form(&BTreeMap::new()), Node::starter());
    }
}
