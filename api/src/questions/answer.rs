//! Answer validation and normalisation, per question type. The server applies
//! this before storing an answer; the widget mirrors it.
//!
//! Normalisations: strings are trimmed; e-mail domains are lower-cased; phone
//! numbers must be international (starting with `+` and the country code) and
//! are stored in E.164; URLs must be http(s) and are stored as parsed by the
//! `url` crate (WHATWG); countries are upper-cased ISO 3166-1 alpha-2 codes
//! checked against the `celes` crate's list; multi-choice answers are stored in
//! option order with `{"other": …}` last; whole numbers are stored as integers.
//!
//! Empty answers (null, blank string, empty list) are always refused: with rule
//! `required` for a required question, `empty` otherwise (skip instead).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::format::{
    DEFAULT_MAX_LENGTH, DateRules, MultiChoiceRules, NumberRules, Question, QuestionType,
    ScaleRules, SingleChoiceRules, TextRules, parse_iso_date,
};

/// Largest answer accepted, as serialised JSON bytes.
pub const MAX_ANSWER_BYTES: usize = 4096;

/// Why an answer was refused: the rule (`type`, `required`, `empty`,
/// `min_length`, `max_length`, `pattern`, `format`, `option`, `other`, `min`,
/// `max`, `integer`, `min_selected`, `max_selected`, `duplicate`, `too_large`)
/// and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AnswerError {
    /// The rule that refused the answer.
    pub rule: &'static str,
    /// A human-readable reason.
    pub message: String,
}

fn refuse<T>(rule: &'static str, message: impl Into<String>) -> Result<T, AnswerError> {
    Err(AnswerError {
        rule,
        message: message.into(),
    })
}

/// Validates an answer to `question` and returns the normalised value to
/// store. `today` resolves `today` in date bounds.
pub fn validate_answer(
    question: &Question,
    value: &Value,
    today: NaiveDate,
) -> Result<Value, AnswerError> {
    check_size(value)?;
    if is_empty_answer(value) {
        return if question.required {
            refuse("required", "an answer is required")
        } else {
            refuse(
                "empty",
                "an empty answer is not stored; skip the question instead",
            )
        };
    }
    let out = match &question.kind {
        QuestionType::Text(r) => text(r, value, false),
        QuestionType::LongText(r) => text(r, value, true),
        QuestionType::Number(r) => number(r, value),
        QuestionType::SingleChoice(r) => single_choice(r, value),
        QuestionType::MultiChoice(r) => multi_choice(r, value),
        QuestionType::Boolean(_) => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => refuse("type", "expected true or false"),
        },
        QuestionType::Date(r) => date(r, value, today),
        QuestionType::Email => email(value),
        QuestionType::Phone => phone(value),
        QuestionType::Url => url(value),
        QuestionType::Country => country(value),
        QuestionType::Scale(r) => scale(r, value),
    }?;
    check_size(&out)?;
    Ok(out)
}

fn check_size(value: &Value) -> Result<(), AnswerError> {
    let len = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
    if len > MAX_ANSWER_BYTES {
        return refuse(
            "too_large",
            format!("answer is larger than {MAX_ANSWER_BYTES} bytes"),
        );
    }
    Ok(())
}

fn is_empty_answer(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn string(value: &Value) -> Result<&str, AnswerError> {
    match value {
        Value::String(s) => Ok(s.trim()),
        _ => refuse("type", "expected a string"),
    }
}

fn text(rules: &TextRules, value: &Value, multiline: bool) -> Result<Value, AnswerError> {
    let s = string(value)?;
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\t' | '\r'));
    if !s.chars().all(allowed) {
        return refuse("format", "contains control characters or line breaks");
    }
    let s = if multiline {
        s.replace("\r\n", "\n")
    } else {
        s.to_owned()
    };
    let len = s.chars().count();
    if let Some(min) = rules.min_length.filter(|m| len < *m as usize) {
        return refuse("min_length", format!("must be at least {min} characters"));
    }
    if len > rules.max_length as usize {
        let max = rules.max_length;
        return refuse("max_length", format!("must be at most {max} characters"));
    }
    if let Some(p) = rules.pattern.as_ref().filter(|p| !p.is_full_match(&s)) {
        return refuse("pattern", format!("must match the pattern {}", p.as_str()));
    }
    Ok(Value::String(s))
}

fn finite(value: &Value) -> Result<f64, AnswerError> {
    match value.as_f64() {
        Some(f) if value.is_number() && f.is_finite() => Ok(f),
        _ => refuse("type", "expected a number"),
    }
}

/// A whole number as a JSON integer when it fits exactly; else as is.
fn normalise_number(value: &Value, f: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.is_i64() || value.is_u64() {
        value.clone()
    } else if f.fract() == 0.0 && f.abs() < EXACT {
        json!(f as i64)
    } else {
        json!(f)
    }
}

fn number(rules: &NumberRules, value: &Value) -> Result<Value, AnswerError> {
    let f = finite(value)?;
    if rules.integer && f.fract() != 0.0 {
        return refuse("integer", "must be a whole number");
    }
    if let Some(min) = rules.min.filter(|m| f < *m) {
        return refuse("min", format!("must be at least {min}"));
    }
    if let Some(max) = rules.max.filter(|m| f > *m) {
        return refuse("max", format!("must be at most {max}"));
    }
    Ok(normalise_number(value, f))
}

fn scale(rules: &ScaleRules, value: &Value) -> Result<Value, AnswerError> {
    let f = finite(value)?;
    if f.fract() != 0.0 {
        return refuse("integer", "must be a whole number");
    }
    let (min, max) = (rules.min as f64, rules.max as f64);
    if f < min {
        return refuse("min", format!("must be at least {}", rules.min));
    }
    if f > max {
        return refuse("max", format!("must be at most {}", rules.max));
    }
    Ok(json!(f as i64))
}

/// One choice entry: an option's index, or the "other" text.
enum Choice {
    Option(usize),
    Other(String),
}

fn choice(
    options: &[super::format::ChoiceOption],
    allow_other: bool,
    v: &Value,
) -> Result<Choice, AnswerError> {
    match v {
        Value::String(s) => options
            .iter()
            .position(|o| o.value == s.trim())
            .map(Choice::Option)
            .map_or_else(
                || {
                    refuse(
                        "option",
                        format!("`{}` is not one of the options", s.trim()),
                    )
                },
                Ok,
            ),
        Value::Object(map) if map.len() == 1 && map.contains_key("other") => {
            if !allow_other {
                return refuse("other", "this question has no \"other\" choice");
            }
            let s = match map.get("other") {
                Some(Value::String(s)) => s.trim(),
                _ => return refuse("type", "\"other\" must be a string"),
            };
            if s.is_empty() || s.chars().any(char::is_control) {
                return refuse("other", "\"other\" must be a non-empty line of text");
            }
            if s.chars().count() > DEFAULT_MAX_LENGTH as usize {
                return refuse(
                    "max_length",
                    format!("\"other\" must be at most {DEFAULT_MAX_LENGTH} characters"),
                );
            }
            Ok(Choice::Other(s.to_owned()))
        }
        _ => refuse("type", "expected an option value or {\"other\": text}"),
    }
}

fn choice_value(options: &[super::format::ChoiceOption], c: Choice) -> Value {
    match c {
        Choice::Option(i) => Value::String(options[i].value.clone()),
        Choice::Other(s) => json!({ "other": s }),
    }
}

fn single_choice(rules: &SingleChoiceRules, value: &Value) -> Result<Value, AnswerError> {
    let c = choice(&rules.options, rules.allow_other, value)?;
    Ok(choice_value(&rules.options, c))
}

fn multi_choice(rules: &MultiChoiceRules, value: &Value) -> Result<Value, AnswerError> {
    let Value::Array(items) = value else {
        return refuse("type", "expected a list of option values");
    };
    let mut picked = vec![false; rules.options.len()];
    let mut other = None;
    for item in items {
        match choice(&rules.options, rules.allow_other, item)? {
            Choice::Option(i) if picked[i] => {
                return refuse("duplicate", "an option is chosen twice");
            }
            Choice::Option(i) => picked[i] = true,
            Choice::Other(_) if other.is_some() => {
                return refuse("duplicate", "only one \"other\" entry is allowed");
            }
            Choice::Other(s) => other = Some(s),
        }
    }
    let count = items.len();
    if let Some(min) = rules.min_selected.filter(|m| count < *m as usize) {
        return refuse("min_selected", format!("choose at least {min}"));
    }
    if let Some(max) = rules.max_selected.filter(|m| count > *m as usize) {
        return refuse("max_selected", format!("choose at most {max}"));
    }
    let chosen = picked.iter().enumerate().filter(|(_, p)| **p);
    let mut out: Vec<Value> = chosen
        .map(|(i, _)| Value::String(rules.options[i].value.clone()))
        .collect();
    out.extend(other.map(|s| json!({ "other": s })));
    Ok(Value::Array(out))
}

fn date(rules: &DateRules, value: &Value, today: NaiveDate) -> Result<Value, AnswerError> {
    let s = string(value)?;
    let Some(d) = parse_iso_date(s) else {
        return refuse("format", "expected a date as YYYY-MM-DD");
    };
    if let Some(min) = rules.min.map(|b| b.resolve(today)).filter(|m| d < *m) {
        return refuse("min", format!("must be on or after {min}"));
    }
    if let Some(max) = rules.max.map(|b| b.resolve(today)).filter(|m| d > *m) {
        return refuse("max", format!("must be on or before {max}"));
    }
    Ok(Value::String(s.to_owned()))
}

fn email(value: &Value) -> Result<Value, AnswerError> {
    use email_address::{EmailAddress, Options};
    let s = string(value)?;
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    let Ok(addr) = EmailAddress::parse_with_options(s, options) else {
        return refuse("format", "not a valid e-mail address");
    };
    let normalised = format!("{}@{}", addr.local_part(), addr.domain().to_lowercase());
    Ok(Value::String(normalised))
}

fn phone(value: &Value) -> Result<Value, AnswerError> {
    let s = string(value)?;
    if !s.starts_with('+') {
        return refuse(
            "format",
            "use the international format: + and the country code",
        );
    }
    match phonenumber::parse(None, s) {
        Ok(n) if n.is_valid() => {
            let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
            Ok(Value::String(e164))
        }
        _ => refuse("format", "not a valid phone number"),
    }
}

fn url(value: &Value) -> Result<Value, AnswerError> {
    let s = string(value)?;
    let Ok(u) = url::Url::parse(s) else {
        return refuse("format", "not a valid URL");
    };
    let http = matches!(u.scheme(), "http" | "https");
    if !http || u.host_str().is_none_or(str::is_empty) {
        return refuse("format", "must be an http or https URL");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return refuse("format", "must not contain a user name or password");
    }
    Ok(Value::String(u.into()))
}

fn country(value: &Value) -> Result<Value, AnswerError> {
    let s = string(value)?;
    let valid = s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic());
    match celes::Country::from_alpha2(s) {
        Ok(c) if valid => Ok(Value::String(c.alpha2.to_ascii_uppercase())),
        _ => refuse("format", "expected an ISO 3166-1 alpha-2 country code"),
    }
}
