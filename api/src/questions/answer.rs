//! Answer validation and normalisation, per question type. The server applies
//! this before storing an answer; the checks themselves are the shared ones of
//! `trickle-rules`, which the widget runs too.
//!
//! Normalisations: strings are trimmed; e-mail domains are lower-cased; phone
//! numbers must be international (starting with `+` and the country code) and
//! are stored in E.164; URLs must be http(s) and are stored as parsed by the
//! `url` crate (WHATWG); countries are upper-cased ISO 3166-1 alpha-2 codes;
//! multi-choice answers are stored in option order with `{"other": …}` last;
//! whole numbers are stored as integers.
//!
//! Empty answers (null, blank string, empty list) are always refused: with rule
//! `required` for a required question, `empty` otherwise (skip instead).
//!
//! Beyond the shared checks the server refuses phone numbers libphonenumber
//! does not know as valid, URLs the `url` crate does not parse (non-ASCII hosts
//! refused by IDNA) and texts not matching `pattern` as the `regex` crate reads it.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Value, json};
use trickle_rules::{Refusal, Rule, choice, country, date, email, number, phone, text};

use super::format::{
    ChoiceOption, DEFAULT_MAX_LENGTH, DateBound, DateRules, MultiChoiceRules, NumberRules,
    Question, QuestionType, ScaleRules, SingleChoiceRules, TextRules,
};

pub use trickle_rules::limits::MAX_ANSWER_BYTES;

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

fn refuse<T>(rule: Rule, message: impl Into<String>) -> Result<T, AnswerError> {
    Err(AnswerError {
        rule: rule.name(),
        message: message.into(),
    })
}

/// A shared check's refusal, worded with its own reason.
impl From<Refusal> for AnswerError {
    fn from(r: Refusal) -> Self {
        AnswerError {
            rule: r.rule.name(),
            message: r.reason.to_owned(),
        }
    }
}

/// Words a bound refusal of a shared check with the question's bounds.
fn bounded(r: Refusal, min: impl std::fmt::Display, max: impl std::fmt::Display) -> AnswerError {
    let message = match r.rule {
        Rule::Min => format!("must be at least {min}"),
        Rule::Max => format!("must be at most {max}"),
        _ => r.reason.to_owned(),
    };
    AnswerError {
        rule: r.rule.name(),
        message,
    }
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
            refuse(Rule::Required, "an answer is required")
        } else {
            refuse(
                Rule::Empty,
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
            _ => refuse(Rule::Type, "expected true or false"),
        },
        QuestionType::Date(r) => date(r, value, today),
        QuestionType::Email => Ok(email::normalise(string(value)?, str::to_lowercase)?.into()),
        QuestionType::Phone => Ok(phone::e164(string(value)?)?.into()),
        QuestionType::Url => url(value),
        QuestionType::Country => Ok(country::normalise(string(value)?)?.into()),
        QuestionType::Scale(r) => scale(r, value),
    }?;
    check_size(&out)?;
    Ok(out)
}

fn check_size(value: &Value) -> Result<(), AnswerError> {
    let len = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
    if len > MAX_ANSWER_BYTES {
        return refuse(
            Rule::TooLarge,
            format!("answer is larger than {MAX_ANSWER_BYTES} bytes"),
        );
    }
    Ok(())
}

fn is_empty_answer(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => text::is_blank(s),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn string(value: &Value) -> Result<&str, AnswerError> {
    match value {
        Value::String(s) => Ok(s.trim()),
        _ => refuse(Rule::Type, "expected a string"),
    }
}

fn text(rules: &TextRules, value: &Value, multiline: bool) -> Result<Value, AnswerError> {
    let (min, max) = (rules.min_length.unwrap_or(0), rules.max_length);
    let s = text::check(string(value)?, multiline, rules.min_length, max).map_err(|r| {
        let message = match r.rule {
            Rule::MinLength => format!("must be at least {min} characters"),
            Rule::MaxLength => format!("must be at most {max} characters"),
            _ => r.reason.to_owned(),
        };
        AnswerError {
            rule: r.rule.name(),
            message,
        }
    })?;
    if let Some(p) = rules.pattern.as_ref().filter(|p| !p.is_full_match(&s)) {
        return refuse(
            Rule::Pattern,
            format!("must match the pattern {}", p.as_str()),
        );
    }
    Ok(Value::String(s))
}

fn finite(value: &Value) -> Result<f64, AnswerError> {
    match value.as_f64() {
        Some(f) if value.is_number() && f.is_finite() => Ok(f),
        _ => refuse(Rule::Type, "expected a number"),
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
    let (min, max) = (rules.min.unwrap_or(f64::MIN), rules.max.unwrap_or(f64::MAX));
    number::check(f, rules.integer, rules.min, rules.max).map_err(|r| bounded(r, min, max))?;
    Ok(normalise_number(value, f))
}

fn scale(rules: &ScaleRules, value: &Value) -> Result<Value, AnswerError> {
    let f = finite(value)?;
    number::check_scale(f, rules.min, rules.max).map_err(|r| bounded(r, rules.min, rules.max))?;
    Ok(json!(f as i64))
}

/// One choice entry: an option's index, or the "other" text.
enum Choice {
    Option(usize),
    Other(String),
}

fn choice(options: &[ChoiceOption], allow_other: bool, v: &Value) -> Result<Choice, AnswerError> {
    match v {
        Value::String(s) => match options.iter().position(|o| o.value == s.trim()) {
            Some(i) => Ok(Choice::Option(i)),
            None => refuse(
                Rule::Option,
                format!("`{}` is not one of the options", s.trim()),
            ),
        },
        Value::Object(map) if map.len() == 1 && map.contains_key("other") => {
            if !allow_other {
                return refuse(Rule::Other, "this question has no \"other\" choice");
            }
            let Some(Value::String(s)) = map.get("other") else {
                return refuse(Rule::Type, "\"other\" must be a string");
            };
            let s = choice::other(s).map_err(|r| match r.rule {
                Rule::MaxLength => AnswerError {
                    rule: r.rule.name(),
                    message: format!("\"other\" must be at most {DEFAULT_MAX_LENGTH} characters"),
                },
                _ => r.into(),
            })?;
            Ok(Choice::Other(s.to_owned()))
        }
        _ => refuse(Rule::Type, "expected an option value or {\"other\": text}"),
    }
}

fn choice_value(options: &[ChoiceOption], c: Choice) -> Value {
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
        return refuse(Rule::Type, "expected a list of option values");
    };
    let mut picked = vec![false; rules.options.len()];
    let mut other = None;
    for item in items {
        match choice(&rules.options, rules.allow_other, item)? {
            Choice::Option(i) if picked[i] => {
                return refuse(Rule::Duplicate, "an option is chosen twice");
            }
            Choice::Option(i) => picked[i] = true,
            Choice::Other(_) if other.is_some() => {
                return refuse(Rule::Duplicate, "only one \"other\" entry is allowed");
            }
            Choice::Other(s) => other = Some(s),
        }
    }
    let (min, max) = (rules.min_selected, rules.max_selected);
    choice::count(items.len(), min, max).map_err(|r| {
        let message = match r.rule {
            Rule::MinSelected => format!("choose at least {}", min.unwrap_or(0)),
            _ => format!("choose at most {}", max.unwrap_or(0)),
        };
        AnswerError {
            rule: r.rule.name(),
            message,
        }
    })?;
    let chosen = picked.iter().enumerate().filter(|(_, p)| **p);
    let mut out: Vec<Value> = chosen
        .map(|(i, _)| Value::String(rules.options[i].value.clone()))
        .collect();
    out.extend(other.map(|s| json!({ "other": s })));
    Ok(Value::Array(out))
}

/// A bound as a shared-rules date (bounds are checked to be real dates when parsed).
fn day(bound: Option<DateBound>, today: NaiveDate) -> Option<date::Date> {
    let d = bound?.resolve(today);
    let (y, m, d) = (
        u16::try_from(d.year()).ok()?,
        d.month() as u8,
        d.day() as u8,
    );
    date::Date::new(y, m, d)
}

fn date(rules: &DateRules, value: &Value, today: NaiveDate) -> Result<Value, AnswerError> {
    let s = string(value)?;
    let (min, max) = (
        rules.min.map(|b| b.resolve(today)),
        rules.max.map(|b| b.resolve(today)),
    );
    date::check(s, day(rules.min, today), day(rules.max, today)).map_err(|r| {
        let message = match (r.rule, min, max) {
            (Rule::Min, Some(min), _) => format!("must be on or after {min}"),
            (Rule::Max, _, Some(max)) => format!("must be on or before {max}"),
            _ => r.reason.to_owned(),
        };
        AnswerError {
            rule: r.rule.name(),
            message,
        }
    })?;
    Ok(Value::String(s.to_owned()))
}

/// The shared URL shape, then the `url` crate's parse and serialisation.
fn url(value: &Value) -> Result<Value, AnswerError> {
    let s = string(value)?;
    trickle_rules::url::normalise(s)?;
    let Ok(u) = url::Url::parse(s) else {
        return refuse(Rule::Format, "not a valid URL");
    };
    let http = matches!(u.scheme(), "http" | "https");
    if !http || u.host_str().is_none_or(str::is_empty) {
        return refuse(Rule::Format, "must be an http or https URL");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return refuse(Rule::Format, "must not contain a user name or password");
    }
    Ok(Value::String(u.into()))
}
