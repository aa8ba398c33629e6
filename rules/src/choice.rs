//! Choice answers (`single_choice`, `multi_choice`): the "other" text and the count.

use crate::limits::DEFAULT_MAX_LENGTH;
use crate::refusal::{Refusal, Rule, refuse};

/// Checks the text of an `{"other": …}` answer and returns it trimmed: one non-empty
/// line (`other`) of at most [`DEFAULT_MAX_LENGTH`] characters (`max_length`).
pub fn other(raw: &str) -> Result<&str, Refusal> {
    let s = raw.trim();
    if s.is_empty() || s.chars().any(char::is_control) {
        return refuse(Rule::Other, "\"other\" must be a non-empty line of text");
    }
    if s.chars().count() > DEFAULT_MAX_LENGTH as usize {
        return refuse(Rule::MaxLength, "\"other\" is too long");
    }
    Ok(s)
}

/// Checks how many entries a `multi_choice` answer has ("other" included).
pub fn count(
    n: usize,
    min_selected: Option<u32>,
    max_selected: Option<u32>,
) -> Result<(), Refusal> {
    if min_selected.is_some_and(|m| n < m as usize) {
        return refuse(Rule::MinSelected, "too few chosen");
    }
    if max_selected.is_some_and(|m| n > m as usize) {
        return refuse(Rule::MaxSelected, "too many chosen");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_is_one_line() {
        assert_eq!(other(" Pilot "), Ok("Pilot"));
        assert_eq!(other("  ").unwrap_err().rule, Rule::Other);
        assert_eq!(other("a\nb").unwrap_err().rule, Rule::Other);
        assert_eq!(other(&"x".repeat(501)).unwrap_err().rule, Rule::MaxLength);
        assert_eq!(count(1, Some(2), None).unwrap_err().rule, Rule::MinSelected);
        assert_eq!(count(3, None, Some(2)).unwrap_err().rule, Rule::MaxSelected);
        assert!(count(2, Some(2), Some(2)).is_ok());
    }
}
