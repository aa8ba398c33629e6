//! Client-side answer validation, mirroring the server's rules
//! (`api/src/questions/answer.rs`) so that most mistakes are caught before a
//! round trip. The server stays the authority: its 422 message is shown when it
//! disagrees. Regex patterns are checked by the caller (the browser's `RegExp`).

use crate::model::Question;
use crate::text::{format_number, lowercase, parse_number};
use crate::value::Value;

/// What the user has entered so far for one question.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draft {
    /// Text, number, date, e-mail, phone, URL, country, or the single choice's value.
    pub text: String,
    /// Multi-choice values in option order.
    pub chosen: Vec<String>,
    /// Whether "Other" is picked, and its text.
    pub other: bool,
    pub other_text: String,
    /// Boolean answer.
    pub flag: Option<bool>,
    /// Scale answer.
    pub scale: Option<i64>,
}

/// Why a draft cannot be sent; the chrome strings in `i18n` say it in the user's language.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Required,
    TooShort(u32),
    TooLong(u32),
    NotANumber,
    NotWhole,
    BelowMin(String),
    AboveMax(String),
    Email,
    Phone,
    Url,
    Date,
    Other,
    TooFew(u32),
    TooMany(u32),
}

/// Longest text the server accepts by default (also the "Other" limit).
const DEFAULT_MAX_LENGTH: u32 = 500;

/// Validates a draft and returns the JSON value to send.
pub fn validate(q: &Question, d: &Draft) -> Result<Value, Problem> {
    match q.kind.as_str() {
        "number" => number(q, d.text.trim()),
        "scale" => d
            .scale
            .map(|v| Value::Number(v as f64))
            .ok_or(Problem::Required),
        "boolean" => d.flag.map(Value::Bool).ok_or(Problem::Required),
        "single_choice" => single(d),
        "multi_choice" => multi(q, d),
        "date" => date(q, d.text.trim()),
        "email" => filled(&d.text).and_then(email),
        "phone" => filled(&d.text).and_then(phone),
        "url" => filled(&d.text).and_then(url),
        "country" => filled(&d.text).map(|c| c.to_ascii_uppercase().into()),
        _ => text(q, &d.text),
    }
}

fn filled(s: &str) -> Result<&str, Problem> {
    let s = s.trim();
    if s.is_empty() {
        Err(Problem::Required)
    } else {
        Ok(s)
    }
}

fn text(q: &Question, raw: &str) -> Result<Value, Problem> {
    let s = filled(raw)?;
    let multiline = q.kind == "long_text";
    if s.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
    {
        return Err(Problem::Required);
    }
    let len = s.chars().count() as u32;
    if let Some(min) = q.min_length.filter(|m| len < *m) {
        return Err(Problem::TooShort(min));
    }
    let max = q.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
    if len > max {
        return Err(Problem::TooLong(max));
    }
    Ok(s.replace("\r\n", "\n").into())
}

fn number(q: &Question, s: &str) -> Result<Value, Problem> {
    filled(s)?;
    let f = parse_number(&s.replace(',', ".")).ok_or(Problem::NotANumber)?;
    if q.integer == Some(true) && f.fract() != 0.0 {
        return Err(Problem::NotWhole);
    }
    if let Some(min) = q.min_number().filter(|m| f < *m) {
        return Err(Problem::BelowMin(format_number(min)));
    }
    if let Some(max) = q.max_number().filter(|m| f > *m) {
        return Err(Problem::AboveMax(format_number(max)));
    }
    Ok(Value::Number(f))
}

fn other_text(d: &Draft) -> Result<Value, Problem> {
    let s = d.other_text.trim();
    if s.is_empty() || s.chars().any(char::is_control) {
        return Err(Problem::Other);
    }
    if s.chars().count() > DEFAULT_MAX_LENGTH as usize {
        return Err(Problem::TooLong(DEFAULT_MAX_LENGTH));
    }
    Ok(Value::object([("other", s.into())]))
}

fn single(d: &Draft) -> Result<Value, Problem> {
    if d.other {
        return other_text(d);
    }
    filled(&d.text).map(Value::from)
}

fn multi(q: &Question, d: &Draft) -> Result<Value, Problem> {
    let mut out: Vec<Value> = q
        .options
        .iter()
        .filter(|o| d.chosen.contains(&o.value))
        .map(|o| Value::from(o.value.as_str()))
        .collect();
    if d.other {
        out.push(other_text(d)?);
    }
    let count = out.len() as u32;
    if count == 0 {
        return Err(Problem::Required);
    }
    if let Some(min) = q.min_selected.filter(|m| count < *m) {
        return Err(Problem::TooFew(min));
    }
    if let Some(max) = q.max_selected.filter(|m| count > *m) {
        return Err(Problem::TooMany(max));
    }
    Ok(Value::Array(out))
}

fn date(q: &Question, s: &str) -> Result<Value, Problem> {
    filled(s)?;
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let month: u32 = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = s.get(8..10).and_then(|m| m.parse().ok()).unwrap_or(0);
    if !shape || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(Problem::Date);
    }
    // ISO dates compare correctly as strings.
    if let Some(min) = q.min_date().filter(|m| s < *m) {
        return Err(Problem::BelowMin(min.to_owned()));
    }
    if let Some(max) = q.max_date().filter(|m| s > *m) {
        return Err(Problem::AboveMax(max.to_owned()));
    }
    Ok(s.into())
}

fn email(s: &str) -> Result<Value, Problem> {
    let (local, domain) = s.rsplit_once('@').ok_or(Problem::Email)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if local.is_empty() || local.len() > 64 || !domain_ok || s.contains(char::is_whitespace) {
        return Err(Problem::Email);
    }
    Ok(format!("{local}@{}", lowercase(domain)).into())
}

/// International format only: `+`, the country code, 8 to 15 digits in all.
fn phone(s: &str) -> Result<Value, Problem> {
    let rest = s.strip_prefix('+').ok_or(Problem::Phone)?;
    let separators = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')' | '/');
    if !rest.chars().all(|c| c.is_ascii_digit() || separators(c)) {
        return Err(Problem::Phone);
    }
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    if !(8..=15).contains(&digits) || rest.starts_with('0') {
        return Err(Problem::Phone);
    }
    Ok(s.into())
}

fn url(s: &str) -> Result<Value, Problem> {
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or(Problem::Url)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || s.contains(char::is_whitespace) {
        return Err(Problem::Url);
    }
    Ok(s.into())
}

/// The draft a prefilled value starts from ("Is this right?").
pub fn draft_from_prefill(q: &Question) -> Draft {
    let mut d = Draft::default();
    let Some(value) = &q.prefill else { return d };
    match value {
        Value::String(s) => d.text = s.clone(),
        Value::Number(n) if q.kind == "scale" => d.scale = (n.fract() == 0.0).then_some(*n as i64),
        Value::Number(n) => d.text = format_number(*n),
        Value::Bool(b) => d.flag = Some(*b),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(s) => d.chosen.push(s.clone()),
                    other @ Value::Object(_) => take_other(&mut d, other),
                    _ => {}
                }
            }
        }
        other @ Value::Object(_) => take_other(&mut d, other),
        Value::Null => {}
    }
    d
}

/// `{"other": text}` picks "Other" with its text.
fn take_other(d: &mut Draft, value: &Value) {
    d.other = true;
    d.other_text = value
        .get("other")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Choice;
    use crate::value::Value as V;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn q(kind: &str) -> Question {
        Question {
            key: "k".into(),
            kind: kind.into(),
            title: "T".into(),
            ..Question::default()
        }
    }

    fn text_draft(s: &str) -> Draft {
        Draft {
            text: s.into(),
            ..Draft::default()
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut question = q("text");
        assert_eq!(
            validate(&question, &text_draft("  Berlin ")),
            Ok(V::from("Berlin"))
        );
        assert_eq!(
            validate(&question, &text_draft("   ")),
            Err(Problem::Required)
        );
        question.min_length = Some(3);
        question.max_length = Some(5);
        assert_eq!(
            validate(&question, &text_draft("ab")),
            Err(Problem::TooShort(3))
        );
        assert_eq!(
            validate(&question, &text_draft("abcdef")),
            Err(Problem::TooLong(5))
        );
        assert_eq!(
            validate(&question, &text_draft("a\nb")),
            Err(Problem::Required)
        );
        assert_eq!(
            validate(&q("long_text"), &text_draft("a\r\nb")),
            Ok(V::from("a\nb"))
        );
    }

    #[test]
    fn numbers_follow_the_rules() {
        let mut question = q("number");
        question.integer = Some(true);
        question.min = Some(V::Number(1.0));
        question.max = Some(V::Number(10.0));
        assert_eq!(validate(&question, &text_draft("4")), Ok(V::Number(4.0)));
        assert_eq!(
            validate(&question, &text_draft("4.5")),
            Err(Problem::NotWhole)
        );
        assert_eq!(
            validate(&question, &text_draft("0")),
            Err(Problem::BelowMin("1".into()))
        );
        assert_eq!(
            validate(&question, &text_draft("11")),
            Err(Problem::AboveMax("10".into()))
        );
        assert_eq!(
            validate(&question, &text_draft("x")),
            Err(Problem::NotANumber)
        );
        assert_eq!(
            validate(&q("number"), &text_draft("2,5")),
            Ok(V::Number(2.5))
        );
    }

    #[test]
    fn choices_send_values_in_option_order_with_other_last() {
        let mut question = q("multi_choice");
        question.options = ["a", "b", "c"]
            .map(|v| Choice {
                value: v.into(),
                label: v.to_uppercase(),
            })
            .to_vec();
        question.max_selected = Some(3);
        let draft = Draft {
            chosen: vec!["c".into(), "a".into()],
            other: true,
            other_text: " mine ".into(),
            ..Draft::default()
        };
        assert_eq!(
            validate(&question, &draft),
            Ok(V::Array(vec![
                "a".into(),
                "c".into(),
                V::object([("other", "mine".into())])
            ]))
        );
        question.max_selected = Some(2);
        assert_eq!(validate(&question, &draft), Err(Problem::TooMany(2)));
        assert_eq!(
            validate(&question, &Draft::default()),
            Err(Problem::Required)
        );
        let single = Draft {
            other: true,
            ..Draft::default()
        };
        assert_eq!(validate(&q("single_choice"), &single), Err(Problem::Other));
        assert_eq!(
            validate(&q("single_choice"), &text_draft("a")),
            Ok(V::from("a"))
        );
    }

    #[test]
    fn dates_respect_their_bounds() {
        let mut question = q("date");
        question.max = Some(V::from("2026-01-31"));
        assert_eq!(
            validate(&question, &text_draft("1990-05-17")),
            Ok(V::from("1990-05-17"))
        );
        assert_eq!(
            validate(&question, &text_draft("2026-02-01")),
            Err(Problem::AboveMax("2026-01-31".into()))
        );
        assert_eq!(
            validate(&question, &text_draft("17.05.1990")),
            Err(Problem::Date)
        );
        assert_eq!(
            validate(&question, &text_draft("1990-13-01")),
            Err(Problem::Date)
        );
    }

    #[test]
    fn contact_formats_are_checked() {
        assert_eq!(
            validate(&q("email"), &text_draft("Ada@Example.COM")),
            Ok(V::from("Ada@example.com"))
        );
        assert_eq!(
            validate(&q("email"), &text_draft("ada@localhost")),
            Err(Problem::Email)
        );
        assert_eq!(
            validate(&q("phone"), &text_draft("+49 30 1234567")),
            Ok(V::from("+49 30 1234567"))
        );
        assert_eq!(
            validate(&q("phone"), &text_draft("030 1234567")),
            Err(Problem::Phone)
        );
        assert_eq!(
            validate(&q("url"), &text_draft("https://ex.com/a")),
            Ok(V::from("https://ex.com/a"))
        );
        assert_eq!(
            validate(&q("url"), &text_draft("ftp://ex.com")),
            Err(Problem::Url)
        );
        assert_eq!(
            validate(&q("country"), &text_draft("de")),
            Ok(V::from("DE"))
        );
    }

    #[test]
    fn scale_and_boolean_need_a_pick() {
        assert_eq!(
            validate(&q("scale"), &Draft::default()),
            Err(Problem::Required)
        );
        let pick = Draft {
            scale: Some(9),
            ..Draft::default()
        };
        assert_eq!(validate(&q("scale"), &pick), Ok(V::Number(9.0)));
        let yes = Draft {
            flag: Some(true),
            ..Draft::default()
        };
        assert_eq!(validate(&q("boolean"), &yes), Ok(V::Bool(true)));
    }

    #[test]
    fn prefill_becomes_the_starting_draft() {
        let mut question = q("text");
        question.prefill = Some(V::from("Berlin"));
        assert_eq!(draft_from_prefill(&question).text, "Berlin");
        let mut scale = q("scale");
        scale.prefill = Some(V::Number(7.0));
        assert_eq!(draft_from_prefill(&scale).scale, Some(7));
        scale.prefill = Some(V::Number(7.5));
        assert_eq!(
            draft_from_prefill(&scale).scale,
            None,
            "no step is picked for 7.5"
        );
    }
}
