//! Text answers (`text`, `long_text`), emptiness and JSON size.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::refusal::{Refusal, Rule, refuse};

/// Whether an answer text counts as empty (nothing but white space).
pub fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Checks a text answer and returns it normalised: trimmed, and for `long_text`
/// (`multiline`) with every line break (`\r\n`, or a lone `\r`) turned into `\n`, so
/// that normalising twice changes nothing (`\r\r\n` is two breaks, not one). Control
/// characters are refused, except line breaks and tabs in `long_text`; lengths count
/// characters (Unicode scalar values).
/// The caller checks emptiness first and `pattern` after.
pub fn check(
    raw: &str,
    multiline: bool,
    min_length: Option<u32>,
    max_length: u32,
) -> Result<String, Refusal> {
    let s = raw.trim();
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\t' | '\r'));
    if !s.chars().all(allowed) {
        return refuse(Rule::Format, "contains control characters or line breaks");
    }
    let s = if multiline {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    };
    let len = s.chars().count();
    if min_length.is_some_and(|m| len < m as usize) {
        return refuse(Rule::MinLength, "too short");
    }
    if len > max_length as usize {
        return refuse(Rule::MaxLength, "too long");
    }
    Ok(s)
}

/// Bytes of `s` as a JSON string, quotes included, escaped as `serde_json` and
/// `JSON.stringify` do (`\"`, `\\`, `\n`-style escapes, `\u00XX` for other controls).
pub fn json_len(s: &str) -> usize {
    let escaped = |c: char| match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    };
    2 + s.chars().map(escaped).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        assert_eq!(check("  äöü ", false, Some(3), 3).as_deref(), Ok("äöü"));
        assert_eq!(
            check("ab", false, Some(3), 5).unwrap_err().rule,
            Rule::MinLength
        );
        assert_eq!(
            check("abcdef", false, None, 5).unwrap_err().rule,
            Rule::MaxLength
        );
        assert_eq!(
            check("a\nb", false, None, 5).unwrap_err().rule,
            Rule::Format
        );
        assert_eq!(check("a\r\nb\tc", true, None, 5).as_deref(), Ok("a\nb\tc"));
        assert_eq!(check("a\r\r\nb", true, None, 5).as_deref(), Ok("a\n\nb"));
        assert_eq!(check("a\rb", true, None, 5).as_deref(), Ok("a\nb"));
        assert_eq!(
            check("a\u{7}b", true, None, 5).unwrap_err().rule,
            Rule::Format
        );
        assert!(is_blank(" \u{a0}\n") && !is_blank(" x "));
    }

    #[test]
    fn json_length_counts_escapes() {
        assert_eq!(json_len(""), 2);
        assert_eq!(json_len("a\"b"), 6);
        assert_eq!(json_len("é\n"), 6);
        assert_eq!(json_len("\u{1}"), 8);
    }
}
