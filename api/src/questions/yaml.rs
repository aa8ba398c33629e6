//! A small YAML tree with a line/column mark on every node, built from
//! `saphyr-parser` events.
//!
//! We build our own tree (rather than `saphyr::MarkedYaml`) because saphyr's
//! loader stops at the first duplicate mapping key and keeps only one entry;
//! the question-set parser wants to report every duplicate, with its position.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScanError, Span};

/// Most nodes a document may expand to (aliases included); guards against
/// "billion laughs" documents.
const MAX_NODES: usize = 200_000;
/// Most bytes of scalar text (strings and mapping keys) a document may expand
/// to, aliases included. A document without aliases stays under it (the parser
/// refuses sources over 256 KiB, and decoded text is never longer than its
/// source), so only alias expansion can reach it.
pub const MAX_EXPANDED_BYTES: usize = 1 << 20;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// A 1-based line and column in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Mark {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One YAML node with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub mark: Mark,
    /// The node's content.
    pub kind: Kind,
}

/// The content of a YAML node, scalars resolved with the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping; every entry is kept, duplicates included, in source order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// Converts the node to JSON (mapping keys that are not strings are
    /// rendered as their YAML text; later duplicates win).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => Value::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (key_text(k), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a node from JSON; every node gets the given mark.
    pub fn from_json(value: &serde_json::Value, mark: Mark) -> Node {
        use serde_json::Value;
        let kind = match value {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Kind::Float(n.as_f64().unwrap_or(f64::NAN)), Kind::Int),
            Value::String(s) => Kind::Str(s.clone()),
            Value::Array(a) => Kind::Seq(a.iter().map(|v| Node::from_json(v, mark)).collect()),
            Value::Object(o) => Kind::Map(
                o.iter()
                    .map(|(k, v)| {
                        let key = Node {
                            mark,
                            kind: Kind::Str(k.clone()),
                        };
                        (key, Node::from_json(v, mark))
                    })
                    .collect(),
            ),
        };
        Node { mark, kind }
    }
}

/// The text of a mapping key, for messages and JSON conversion.
pub fn key_text(node: &Node) -> String {
    match &node.kind {
        Kind::Str(s) => s.clone(),
        Kind::Null => "null".into(),
        Kind::Bool(b) => b.to_string(),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => f.to_string(),
        Kind::Seq(_) | Kind::Map(_) => "<complex key>".into(),
    }
}

/// A fatal problem while reading the YAML text itself.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    /// Where it happened.
    pub mark: Mark,
    /// What happened.
    pub message: String,
}

/// Parses one YAML document into a marked tree. An empty document is `Null`.
pub fn load(source: &str) -> Result<Node, LoadError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(scan_error)?;
        builder.on_event(event, span)?;
    }
    Ok(builder.root.unwrap_or(Node {
        mark: Mark { line: 1, column: 1 },
        kind: Kind::Null,
    }))
}

fn scan_error(e: ScanError) -> LoadError {
    LoadError {
        mark: Mark {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        },
        message: format!("YAML syntax error: {}", e.info()),
    }
}

fn mark_of(span: Span) -> Mark {
    Mark {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

enum Frame {
    Seq(Mark, usize, Vec<Node>),
    Map(Mark, usize, Vec<(Node, Node)>, Option<Node>),
}

/// What a node costs once expanded: its nodes and its bytes of scalar text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    nodes: usize,
    bytes: usize,
}

impl Size {
    fn of(node: &Node) -> Size {
        match &node.kind {
            Kind::Str(s) => Size {
                nodes: 1,
                bytes: s.len(),
            },
            Kind::Seq(items) => items.iter().fold(Size::ONE, |acc, n| acc + Size::of(n)),
            Kind::Map(entries) => entries
                .iter()
                .fold(Size::ONE, |acc, (k, v)| acc + Size::of(k) + Size::of(v)),
            _ => Size::ONE,
        }
    }

    const ONE: Size = Size { nodes: 1, bytes: 0 };
}

impl std::ops::Add for Size {
    type Output = Size;
    fn add(self, other: Size) -> Size {
        Size {
            nodes: self.nodes.saturating_add(other.nodes),
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }
}

/// Builds the tree from parser events.
///
/// Aliases are kept (they are plain YAML, and handy for an option list or a
/// locale map used by several questions), but their cost is bounded *before*
/// anything is copied: every anchor is stored with its expanded [`Size`], an
/// alias adds that size to the document's total, and only when the total
/// stays within [`MAX_NODES`] and [`MAX_EXPANDED_BYTES`] is the anchored node
/// cloned. A document therefore never makes the server copy more than about
/// 1 MiB of text, however its aliases nest ("billion laughs"). Refusing
/// aliases outright would be as safe but would break valid files for no gain.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Size)>,
    root: Option<Node>,
    documents: usize,
    total: Size,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), LoadError> {
        let mark = mark_of(span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(LoadError {
                        mark,
                        message: "only one YAML document is allowed".into(),
                    });
                }
            }
            Event::SequenceStart(anchor, _) => self.open(Frame::Seq(mark, anchor, Vec::new()))?,
            Event::MappingStart(anchor, _) => {
                self.open(Frame::Map(mark, anchor, Vec::new(), None))?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            Event::Scalar(value, style, anchor, tag) => {
                let kind = scalar_kind(value, style, tag.as_ref()).ok_or_else(|| LoadError {
                    mark,
                    message: "value does not match its tag".into(),
                })?;
                self.push(Node { mark, kind }, anchor)?;
            }
            Event::Alias(id) => {
                let (_, size) = self.anchors.get(&id).ok_or_else(|| LoadError {
                    mark,
                    message: "unknown alias".into(),
                })?;
                // Count first: the copy below happens only within the budget.
                self.count(*size, mark)?;
                let node = self.anchors[&id].0.clone();
                self.attach(node);
            }
            _ => {}
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), LoadError> {
        let mark = match &frame {
            Frame::Seq(m, ..) | Frame::Map(m, ..) => *m,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(LoadError {
                mark,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<(), LoadError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq(mark, anchor, items)) => (
                Node {
                    mark,
                    kind: Kind::Seq(items),
                },
                anchor,
            ),
            Some(Frame::Map(mark, anchor, entries, _)) => (
                Node {
                    mark,
                    kind: Kind::Map(entries),
                },
                anchor,
            ),
            None => return Ok(()),
        };
        self.push(node, anchor)
    }

    /// Adds `size` to the document's total; an error once it is over a limit.
    fn count(&mut self, size: Size, mark: Mark) -> Result<(), LoadError> {
        self.total = self.total + size;
        if self.total.nodes > MAX_NODES {
            return Err(LoadError {
                mark,
                message: format!("document expands to more than {MAX_NODES} nodes"),
            });
        }
        if self.total.bytes > MAX_EXPANDED_BYTES {
            return Err(LoadError {
                mark,
                message: format!(
                    "document expands to more than {MAX_EXPANDED_BYTES} bytes of text \
                     (aliases included)"
                ),
            });
        }
        Ok(())
    }

    /// Counts a node just built from the source (its children are counted
    /// already), remembers it under its anchor, and attaches it.
    fn push(&mut self, node: Node, anchor: usize) -> Result<(), LoadError> {
        let own = match &node.kind {
            Kind::Str(s) => Size {
                nodes: 1,
                bytes: s.len(),
            },
            _ => Size::ONE,
        };
        self.count(own, node.mark)?;
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), Size::of(&node)));
        }
        self.attach(node);
        Ok(())
    }

    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => *pending = Some(node),
            },
            None => self.root = Some(node),
        }
    }
}

fn scalar_kind(
    value: Cow<'_, str>,
    style: saphyr_parser::ScalarStyle,
    tag: Option<&Cow<'_, saphyr_parser::Tag>>,
) -> Option<Kind> {
    Some(
        match Scalar::parse_from_cow_and_metadata(value, style, tag)? {
            Scalar::Null => Kind::Null,
            Scalar::Boolean(b) => Kind::Bool(b),
            Scalar::Integer(i) => Kind::Int(i),
            Scalar::FloatingPoint(f) => Kind::Float(f.0),
            Scalar::String(s) => Kind::Str(s.into_owned()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_one_based_and_duplicates_kept() {
        let node = load("a: 1\nb:\n  - x\na: 2\n").unwrap();
        let Kind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].0.mark, Mark { line: 1, column: 1 });
        assert_eq!(entries[1].1.mark.line, 3);
        assert_eq!(entries[2].1.kind, Kind::Int(2));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = load("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.mark.line >= 1);
        assert!(err.message.starts_with("YAML syntax error"));
    }

    #[test]
    fn aliases_expand_and_are_bounded() {
        let node = load("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": [1, 2], "b": [1, 2]})
        );
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(load(&bomb).is_err());
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_is_copied() {
        let started = std::time::Instant::now();
        let err = load(&crate::questions::tests::support::alias_bomb()).unwrap_err();
        assert!(err.message.contains("bytes of text"), "{err:?}");
        assert_eq!(
            err.mark.line, 2,
            "refused at the first list that expands too far"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn aliases_within_the_budget_are_kept() {
        // An option list shared by two questions is fine, however often reused
        // within the budget; its bytes count once per use.
        let options = format!("[{}]", vec!["\"yes\""; 50].join(", "));
        let mut doc = format!("a: &opts {options}\n");
        for i in 0..100 {
            doc.push_str(&format!("b{i}: *opts\n"));
        }
        assert!(load(&doc).is_ok());
        let text = "y".repeat(200_000);
        let five = format!("a: &t \"{text}\"\nb: [*t, *t, *t, *t]\n");
        assert!(load(&five).is_ok(), "1,000,000 bytes is within the budget");
        let six = format!("a: &t \"{text}\"\nb: [*t, *t, *t, *t, *t]\n");
        assert!(load(&six).is_err(), "1,200,000 bytes is not");
    }

    #[test]
    fn quoted_numbers_stay_strings_and_multi_docs_refused() {
        let node = load("a: \"1\"\nb: 1.5\nc: ~\n").unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"a": "1", "b": 1.5, "c": null})
        );
        assert!(load("a: 1\n---\nb: 2\n").is_err());
    }
}
