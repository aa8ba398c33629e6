//! Portable `pattern`s: the subset of regex syntax that Rust's `regex` crate
//! (the server) and JavaScript's `new RegExp(p, "u")` (the widget) both accept
//! and read alike. A set whose `pattern` is outside it is refused when parsed,
//! because the widget cannot compile what only Rust understands (`(?i)`,
//! `\A`, `(?P<n>…)`, `[[:alpha:]]`, …) and a thrown `SyntaxError` breaks it.
//!
//! The subset is a whitelist, checked on `regex-syntax`'s AST (the parser the
//! `regex` crate itself uses), so nothing Rust reads differently slips through:
//!
//! - literals written as themselves, escaped syntax characters
//!   (`\. \* \+ \? \( \) \[ \] \{ \} \| \^ \$ \\ \/`, and `\-` inside a class),
//!   `\t \n \r \f \v`, `\xHH`, `\uHHHH` and `\u{H…}`;
//! - `.`, `\d \D \w \W \s \S`, `\p{…}`/`\P{…}` with a general category
//!   (`L`, `Lu`, `N`, `Nd`, `P`, …) or `Script=`/`sc=` and a common script;
//! - classes `[…]` and `[^…]` of literals, ranges and the classes above, with
//!   a literal `-` only first or last;
//! - groups `(…)`, `(?:…)` and `(?<name>…)` with an ASCII identifier as name;
//! - `|`, `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}` (each optionally lazy, `?`)
//!   on anything but an assertion or another repetition;
//! - assertions `^`, `$`, `\b`, `\B`.
//!
//! Refused, among others: inline flags (`(?i)`, `(?i:…)`), `(?P<name>…)`,
//! `\A`, `\z`, `\b{start}`, `\<`, `\pL` without braces, other Unicode
//! properties, `[[:alpha:]]`, nested classes and class set operations
//! (`&&`, `--`, `~~`), `\x{…}`, `\U…`, `\a`, octal escapes, escaped
//! `#`, `&`, `~`, and a bare `{`, `}` or `]`.
//!
//! Both engines still differ in meaning on two points, which the subset keeps
//! because refusing them would refuse most real patterns: `\d`, `\w`, `\s`
//! and `\b` are Unicode-aware in Rust and ASCII in JavaScript, and `.` also
//! excludes `\r`, U+2028 and U+2029 in JavaScript. There the widget is the
//! stricter side and the server stays the authority (decision 0003).

use regex_syntax::ast::{
    self, Assertion, AssertionKind, Ast, ClassBracketed, ClassSet, ClassSetItem, ClassUnicode,
    ClassUnicodeKind, ClassUnicodeOpKind, GroupKind, HexLiteralKind, Literal, LiteralKind,
    RepetitionKind, SpecialLiteralKind, Visitor,
};

/// Why a pattern is not portable, and where in the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unportable {
    /// 1-based character position of the construct in the pattern.
    pub at: usize,
    /// The construct as written.
    pub construct: String,
    /// Why it is refused, and what to write instead.
    pub why: &'static str,
}

impl std::fmt::Display for Unportable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` at character {} is not portable to the widget's JavaScript RegExp: {}",
            self.construct, self.at, self.why
        )
    }
}

/// General categories both engines know by these exact short names.
const GENERAL_CATEGORIES: &[&str] = &[
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc",
    "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp", "Cc",
    "Cf",
];

/// Scripts accepted in `\p{Script=…}` / `\p{sc=…}`, spelled as JavaScript wants.
const SCRIPTS: &[&str] = &[
    "Latin",
    "Greek",
    "Cyrillic",
    "Armenian",
    "Hebrew",
    "Arabic",
    "Devanagari",
    "Bengali",
    "Thai",
    "Georgian",
    "Hangul",
    "Hiragana",
    "Katakana",
    "Han",
];

/// Checks that a pattern (already known to compile with `regex`) is in the
/// portable subset described in this module's documentation.
pub fn check_portable(pattern: &str) -> Result<(), Unportable> {
    let ast = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| Unportable {
            at: char_position(pattern, e.span().start.offset),
            construct: pattern.to_owned(),
            why: "the pattern does not parse",
        })?;
    ast::visit(&ast, Checker { pattern })
}

struct Checker<'p> {
    pattern: &'p str,
}

impl Checker<'_> {
    fn refuse(&self, span: &ast::Span, why: &'static str) -> Result<(), Unportable> {
        Err(Unportable {
            at: char_position(self.pattern, span.start.offset),
            construct: self.pattern[span.start.offset..span.end.offset].to_owned(),
            why,
        })
    }

    fn literal(&self, lit: &Literal, in_class: bool) -> Result<(), Unportable> {
        let why = match (&lit.kind, lit.c) {
            (LiteralKind::Verbatim, '{' | '}' | ']') if !in_class => {
                "write a literal `{`, `}` or `]` escaped, as `\\{`, `\\}` or `\\]`"
            }
            (LiteralKind::Verbatim, ']') => "escape `]` inside a class, as `\\]`",
            (LiteralKind::Verbatim, _) => return Ok(()),
            (LiteralKind::Meta, '#' | '&' | '~') => "write `#`, `&` and `~` without a backslash",
            (LiteralKind::Meta, '-') if !in_class => "write `-` without a backslash",
            (LiteralKind::Meta, _) => return Ok(()),
            (LiteralKind::Superfluous, '/') => return Ok(()),
            (LiteralKind::Superfluous, _) => "this character must not be escaped",
            (LiteralKind::Octal, _) => "octal escapes are not portable; write `\\xHH`",
            (LiteralKind::HexFixed(HexLiteralKind::X | HexLiteralKind::UnicodeShort), _)
            | (LiteralKind::HexBrace(HexLiteralKind::UnicodeShort), _) => return Ok(()),
            (LiteralKind::HexFixed(_) | LiteralKind::HexBrace(_), _) => {
                "write a code point as `\\xHH`, `\\uHHHH` or `\\u{H…}`"
            }
            (LiteralKind::Special(SpecialLiteralKind::Bell | SpecialLiteralKind::Space), _) => {
                "write this character as `\\xHH`"
            }
            (LiteralKind::Special(_), _) => return Ok(()),
        };
        self.refuse(&lit.span, why)
    }

    fn unicode(&self, class: &ClassUnicode) -> Result<(), Unportable> {
        let text = &self.pattern[class.span.start.offset..class.span.end.offset];
        let ok = match &class.kind {
            ClassUnicodeKind::OneLetter(_) => false,
            ClassUnicodeKind::Named(name) => {
                GENERAL_CATEGORIES.contains(&name.as_str()) && text[2..] == format!("{{{name}}}")
            }
            ClassUnicodeKind::NamedValue { op, name, value } => {
                *op == ClassUnicodeOpKind::Equal
                    && matches!(name.as_str(), "Script" | "sc")
                    && SCRIPTS.contains(&value.as_str())
                    && text[2..] == format!("{{{name}={value}}}")
            }
        };
        if ok {
            return Ok(());
        }
        self.refuse(
            &class.span,
            "use `\\p{…}` with a general category such as `L`, `Lu`, `N` or `P`, \
             or `Script=` with a common script such as `Latin` or `Han`",
        )
    }

    fn bracketed(&self, class: &ClassBracketed) -> Result<(), Unportable> {
        let items: &[ClassSetItem] = match &class.kind {
            ClassSet::BinaryOp(op) => {
                return self.refuse(&op.span, "class set operations (`&&`, `--`, `~~`)");
            }
            ClassSet::Item(ClassSetItem::Union(union)) => &union.items,
            ClassSet::Item(item) => std::slice::from_ref(item),
        };
        let last = items.len().saturating_sub(1);
        for (i, item) in items.iter().enumerate() {
            match item {
                ClassSetItem::Empty(_) | ClassSetItem::Perl(_) => {}
                ClassSetItem::Literal(lit) if lit.kind == LiteralKind::Verbatim && lit.c == '-' => {
                    if i != 0 && i != last {
                        self.refuse(&lit.span, "a literal `-` in a class goes first or last")?;
                    }
                }
                ClassSetItem::Literal(lit) => self.literal(lit, true)?,
                ClassSetItem::Range(range) => {
                    self.literal(&range.start, true)?;
                    self.literal(&range.end, true)?;
                }
                ClassSetItem::Unicode(u) => self.unicode(u)?,
                ClassSetItem::Ascii(a) => {
                    self.refuse(&a.span, "POSIX classes such as `[:alpha:]`; write `a-zA-Z`")?;
                }
                ClassSetItem::Bracketed(b) => {
                    self.refuse(&b.span, "nested classes; list the members in one class")?;
                }
                ClassSetItem::Union(u) => {
                    self.refuse(&u.span, "nested classes; list the members in one class")?;
                }
            }
        }
        Ok(())
    }

    fn assertion(&self, a: &Assertion) -> Result<(), Unportable> {
        match a.kind {
            AssertionKind::StartLine
            | AssertionKind::EndLine
            | AssertionKind::WordBoundary
            | AssertionKind::NotWordBoundary => Ok(()),
            AssertionKind::StartText | AssertionKind::EndText => self.refuse(
                &a.span,
                "`\\A` and `\\z`; the whole answer must match anyway, or write `^` and `$`",
            ),
            _ => self.refuse(&a.span, "word-boundary forms other than `\\b` and `\\B`"),
        }
    }

    fn repetition(&self, rep: &ast::Repetition) -> Result<(), Unportable> {
        if let Ast::Assertion(_) | Ast::Repetition(_) | Ast::Empty(_) | Ast::Flags(_) = *rep.ast {
            return self.refuse(&rep.op.span, "a repetition of an assertion or a repetition");
        }
        if let RepetitionKind::Range(_) = rep.op.kind {
            // `{,n}` and spaces inside the braces are Rust-only.
            let text = &self.pattern[rep.op.span.start.offset..rep.op.span.end.offset];
            let inner = text
                .trim_end_matches('?')
                .strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or_default();
            let plain = inner.starts_with(|c: char| c.is_ascii_digit())
                && inner.chars().all(|c| c.is_ascii_digit() || c == ',');
            if !plain {
                return self.refuse(
                    &rep.op.span,
                    "write counted repetitions as `{n}`, `{n,}` or `{n,m}`",
                );
            }
        }
        Ok(())
    }

    fn group(&self, group: &ast::Group) -> Result<(), Unportable> {
        match &group.kind {
            GroupKind::CaptureIndex(_) => Ok(()),
            GroupKind::NonCapturing(flags) if flags.items.is_empty() => Ok(()),
            GroupKind::NonCapturing(flags) => self.refuse(
                &flags.span,
                "inline flags; for case-insensitive matching list both cases, as `[Aa]`",
            ),
            GroupKind::CaptureName {
                starts_with_p: true,
                name,
            } => self.refuse(&name.span, "`(?P<name>…)`; write `(?<name>…)`"),
            GroupKind::CaptureName { name, .. } => {
                let mut chars = name.name.chars();
                let ident = chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
                if ident {
                    return Ok(());
                }
                self.refuse(&name.span, "a group name must be letters, digits and `_`")
            }
        }
    }
}

impl Visitor for Checker<'_> {
    type Output = ();
    type Err = Unportable;

    fn finish(self) -> Result<(), Unportable> {
        Ok(())
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Unportable> {
        match ast {
            Ast::Empty(_) | Ast::Dot(_) | Ast::ClassPerl(_) => Ok(()),
            Ast::Alternation(_) | Ast::Concat(_) => Ok(()),
            Ast::Flags(flags) => self.refuse(
                &flags.span,
                "inline flags; for case-insensitive matching list both cases, as `[Aa]`",
            ),
            Ast::Literal(lit) => self.literal(lit, false),
            Ast::Assertion(a) => self.assertion(a),
            Ast::ClassUnicode(u) => self.unicode(u),
            Ast::ClassBracketed(b) => self.bracketed(b),
            Ast::Repetition(r) => self.repetition(r),
            Ast::Group(g) => self.group(g),
        }
    }
}

/// The 1-based character position of a byte offset.
fn char_position(s: &str, offset: usize) -> usize {
    s.get(..offset).map_or(1, |head| head.chars().count() + 1)
}
