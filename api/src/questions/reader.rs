//! Helpers for walking the marked YAML tree while collecting every problem:
//! a problem collector ([`Ctx`]) and a mapping reader that reports duplicate,
//! missing and unknown fields.

use std::collections::BTreeMap;

use super::format::Text;
use super::parse::Problem;
use super::yaml::{Kind, Mark, Node, key_text};

/// Collects problems while a document is walked.
#[derive(Debug)]
pub struct Ctx {
    file: String,
    problems: Vec<Problem>,
    /// The set's default locale, which every locale map must contain.
    pub default_locale: String,
    /// Every question key seen, with its position.
    pub question_keys: Vec<(String, Mark)>,
    /// Every key named in a condition, with its position.
    pub condition_keys: Vec<(String, Mark)>,
}

impl Ctx {
    /// A collector for the named file.
    pub fn new(file: &str) -> Ctx {
        Ctx {
            file: file.to_owned(),
            problems: Vec::new(),
            default_locale: "en".into(),
            question_keys: Vec::new(),
            condition_keys: Vec::new(),
        }
    }

    /// Records a problem at a position.
    pub fn error(&mut self, mark: Mark, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: mark.line,
            column: mark.column,
            message: message.into(),
        });
    }

    /// Whether any problem was recorded.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// The problems, sorted by position.
    pub fn into_problems(mut self) -> Vec<Problem> {
        self.problems.sort_by_key(|p| (p.line, p.column));
        self.problems
    }

    /// Opens a mapping for reading; reports a non-mapping, non-string keys
    /// and duplicate keys.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<MapReader<'n>> {
        let Kind::Map(entries) = &node.kind else {
            self.error(
                node.mark,
                format!("{what} must be a mapping, found {}", node.type_name()),
            );
            return None;
        };
        let mut reader = MapReader {
            mark: node.mark,
            entries: Vec::with_capacity(entries.len()),
            asked: Vec::new(),
        };
        for (k, v) in entries {
            let Some(name) = k.as_str() else {
                self.error(
                    k.mark,
                    format!("field name must be a string: `{}`", key_text(k)),
                );
                continue;
            };
            if let Some(first) = reader.entries.iter().find(|e| e.name == name) {
                let (line, col) = (first.key_mark.line, first.key_mark.column);
                self.error(
                    k.mark,
                    format!("duplicate key `{name}` (first at line {line}, column {col})"),
                );
                continue;
            }
            reader.entries.push(Entry {
                name,
                key_mark: k.mark,
                value: v,
                used: false,
            });
        }
        Some(reader)
    }

    /// Reads a required field, reporting it when missing.
    pub fn required<'n>(&mut self, m: &mut MapReader<'n>, name: &'static str) -> Option<&'n Node> {
        let node = m.take(name);
        if node.is_none() {
            self.error(m.mark, format!("missing required field `{name}`"));
        }
        node
    }

    fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        self.error(
            node.mark,
            format!("`{field}` must be {expected}, found {}", node.type_name()),
        );
    }

    /// A string value.
    pub fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, field, "a string");
                None
            }
        }
    }

    /// A non-empty string value.
    pub fn nonempty_string(&mut self, node: &Node, field: &str) -> Option<String> {
        let s = self.string(node, field)?;
        if s.trim().is_empty() {
            self.error(node.mark, format!("`{field}` must not be empty"));
            return None;
        }
        Some(s)
    }

    /// A boolean value.
    pub fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match node.kind {
            Kind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, field, "true or false");
                None
            }
        }
    }

    /// An integer value within `min..=max`.
    pub fn int_in(&mut self, node: &Node, field: &str, min: i64, max: i64) -> Option<i64> {
        let Kind::Int(i) = node.kind else {
            self.wrong_type(node, field, "an integer");
            return None;
        };
        if i < min || i > max {
            self.error(
                node.mark,
                format!("`{field}` must be between {min} and {max}"),
            );
            return None;
        }
        Some(i)
    }

    /// A non-negative integer fitting in `u32`.
    pub fn u32(&mut self, node: &Node, field: &str) -> Option<u32> {
        self.int_in(node, field, 0, i64::from(u32::MAX))
            .and_then(|i| u32::try_from(i).ok())
    }

    /// A finite number (integer or float).
    pub fn number(&mut self, node: &Node, field: &str) -> Option<f64> {
        match node.kind {
            Kind::Int(i) => Some(i as f64),
            Kind::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.wrong_type(node, field, "a finite number");
                None
            }
        }
    }

    /// A locale tag such as `en` or `pt-BR`.
    pub fn locale(&mut self, node: &Node, field: &str) -> Option<String> {
        let s = self.string(node, field)?;
        if !is_locale_tag(&s) {
            self.error(
                node.mark,
                format!("`{s}` is not a locale tag like `en` or `pt-BR`"),
            );
            return None;
        }
        Some(s)
    }

    /// A text: a non-empty string or a locale map containing the default locale.
    pub fn text(&mut self, node: &Node, field: &str) -> Option<Text> {
        match &node.kind {
            Kind::Str(_) => self.nonempty_string(node, field).map(Text::Plain),
            Kind::Map(_) => self.locale_map(node, field),
            _ => {
                self.wrong_type(node, field, "a string or a map of locale to string");
                None
            }
        }
    }

    fn locale_map(&mut self, node: &Node, field: &str) -> Option<Text> {
        let m = self.map(node, field)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for e in &m.entries {
            if !is_locale_tag(e.name) {
                self.error(e.key_mark, format!("`{}` is not a locale tag", e.name));
                ok = false;
            } else if let Some(s) = self.nonempty_string(e.value, &format!("{field}.{}", e.name)) {
                out.insert(e.name.to_owned(), s);
            } else {
                ok = false;
            }
        }
        if !out.contains_key(&self.default_locale) {
            let locale = self.default_locale.clone();
            self.error(
                node.mark,
                format!("`{field}` has no text for the default locale `{locale}`"),
            );
            ok = false;
        }
        ok.then_some(Text::Localized(out))
    }
}

/// Whether `s` looks like a BCP 47 tag (`en`, `pt-BR`, `zh-Hant-TW`).
pub fn is_locale_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=8).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[derive(Debug)]
struct Entry<'n> {
    name: &'n str,
    key_mark: Mark,
    value: &'n Node,
    used: bool,
}

/// Reads the fields of one mapping; unread fields are reported as unknown.
#[derive(Debug)]
pub struct MapReader<'n> {
    /// Where the mapping starts.
    pub mark: Mark,
    entries: Vec<Entry<'n>>,
    asked: Vec<&'static str>,
}

impl<'n> MapReader<'n> {
    /// Takes a field (marking it known), if present.
    pub fn take(&mut self, name: &'static str) -> Option<&'n Node> {
        if !self.asked.contains(&name) {
            self.asked.push(name);
        }
        let entry = self.entries.iter_mut().find(|e| e.name == name)?;
        entry.used = true;
        Some(entry.value)
    }

    /// Whether a field is present (without taking it).
    pub fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// Reports every field that was not taken as unknown.
    pub fn finish(self, ctx: &mut Ctx, what: &str) {
        let expected = self.asked.join(", ");
        for e in self.entries.iter().filter(|e| !e.used) {
            ctx.error(
                e.key_mark,
                format!(
                    "unknown field `{}` in {what} (expected one of: {expected})",
                    e.name
                ),
            );
        }
    }
}
