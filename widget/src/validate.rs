//! Client-side answer validation with the server's own rules (`trickle-rules`), so
//! that the widget accepts nothing those rules refuse and most mistakes are caught
//! before a round trip. The server stays the authority for what only it can check
//! (libphonenumber's number ranges, WHATWG URL parsing): its 422 message is shown then.
//! Regex patterns are checked with the browser's `RegExp`.

use trickle_rules::limits::{DEFAULT_MAX_LENGTH, MAX_ANSWER_BYTES};
use trickle_rules::{Kind, Refusal, Rule, choice, country, date, email, number, phone, text, url};

use crate::bridge::Bridge;
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
    /// Does not match the question's `pattern`.
    Pattern,
    /// Control characters in a text, or an unknown country code.
    Format,
    /// Not one of the options.
    Option,
    /// Larger than the server takes as JSON.
    TooLarge,
}

impl Problem {
    /// The server's name for the rule (`required` also stands for `empty`).
    pub fn rule(&self) -> &'static str {
        let rule = match self {
            Problem::Required => Rule::Required,
            Problem::TooShort(_) => Rule::MinLength,
            Problem::TooLong(_) => Rule::MaxLength,
            Problem::NotANumber => Rule::Type,
            Problem::NotWhole => Rule::Integer,
            Problem::BelowMin(_) => Rule::Min,
            Problem::AboveMax(_) => Rule::Max,
            Problem::Email | Problem::Phone | Problem::Url | Problem::Date | Problem::Format => {
                Rule::Format
            }
            Problem::Other => Rule::Other,
            Problem::TooFew(_) => Rule::MinSelected,
            Problem::TooMany(_) => Rule::MaxSelected,
            Problem::Pattern => Rule::Pattern,
            Problem::Option => Rule::Option,
            Problem::TooLarge => Rule::TooLarge,
        };
        rule.name()
    }
}

/// Validates a draft and returns the JSON value to send.
pub fn validate(q: &Question, d: &Draft) -> Result<Value, Problem> {
    let kind = Kind::from_name(&q.kind).unwrap_or(Kind::Text);
    let value = check(q, kind, d).map_err(|r| problem(q, kind, r))?;
    if json_len(&value) > MAX_ANSWER_BYTES {
        return Err(Problem::TooLarge);
    }
    Ok(value)
}

fn required<T>() -> Result<T, Refusal> {
    Err(Refusal {
        rule: Rule::Required,
        reason: "",
    })
}

/// The draft's text, trimmed, or `required` when blank.
fn filled(s: &str) -> Result<&str, Refusal> {
    if text::is_blank(s) {
        required()
    } else {
        Ok(s.trim())
    }
}

fn check(q: &Question, kind: Kind, d: &Draft) -> Result<Value, Refusal> {
    let fail = |rule| Refusal { rule, reason: "" };
    match kind {
        Kind::Text | Kind::LongText => {
            let max = q.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
            let s = text::check(filled(&d.text)?, kind == Kind::LongText, q.min_length, max)?;
            match &q.pattern {
                Some(p) if !Bridge::matches(p, &s) => Err(fail(Rule::Pattern)),
                _ => Ok(s.into()),
            }
        }
        Kind::Number => {
            let s = filled(&d.text)?.replace(',', ".");
            let f = parse_number(&s).ok_or(fail(Rule::Type))?;
            let integer = q.integer == Some(true);
            number::check(f, integer, q.min_number(), q.max_number())?;
            Ok(Value::Number(f))
        }
        Kind::Scale => {
            let v = d.scale.ok_or(fail(Rule::Required))?;
            if let (Some(min), Some(max)) = (q.min_number(), q.max_number()) {
                number::check_scale(v as f64, min as i64, max as i64)?;
            }
            Ok(Value::Number(v as f64))
        }
        Kind::Boolean => d.flag.map(Value::Bool).ok_or(fail(Rule::Required)),
        Kind::SingleChoice if d.other => other(q, d),
        Kind::SingleChoice => {
            let s = filled(&d.text)?;
            match q.options.iter().any(|o| o.value == s) {
                true => Ok(s.into()),
                false => Err(fail(Rule::Option)),
            }
        }
        Kind::MultiChoice => multi(q, d),
        Kind::Date => {
            let bound = |b: Option<&str>| b.and_then(date::Date::parse);
            let s = filled(&d.text)?;
            date::check(s, bound(q.min_date()), bound(q.max_date()))?;
            Ok(s.into())
        }
        Kind::Email => Ok(email::normalise(filled(&d.text)?, lowercase)?.into()),
        Kind::Phone => Ok(phone::normalise(filled(&d.text)?)?.into()),
        Kind::Url => Ok(url::normalise(filled(&d.text)?)?.into()),
        Kind::Country => Ok(country::normalise(filled(&d.text)?)?.into()),
    }
}

fn other(q: &Question, d: &Draft) -> Result<Value, Refusal> {
    if !q.allow_other {
        return Err(Refusal {
            rule: Rule::Other,
            reason: "",
        });
    }
    Ok(Value::object([(
        "other",
        choice::other(&d.other_text)?.into(),
    )]))
}

fn multi(q: &Question, d: &Draft) -> Result<Value, Refusal> {
    if d.chosen
        .iter()
        .any(|c| !q.options.iter().any(|o| o.value == *c))
    {
        return Err(Refusal {
            rule: Rule::Option,
            reason: "",
        });
    }
    let mut out: Vec<Value> = q
        .options
        .iter()
        .filter(|o| d.chosen.contains(&o.value))
        .map(|o| Value::from(o.value.as_str()))
        .collect();
    if d.other {
        out.push(other(q, d)?);
    }
    if out.is_empty() {
        return required();
    }
    choice::count(out.len(), q.min_selected, q.max_selected)?;
    Ok(Value::Array(out))
}

/// A shared rule's refusal, as the problem the user is shown.
fn problem(q: &Question, kind: Kind, r: Refusal) -> Problem {
    let bound = |b: Option<&Value>| match b {
        Some(Value::Number(n)) => format_number(*n),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    match r.rule {
        Rule::Required | Rule::Empty => Problem::Required,
        Rule::MinLength => Problem::TooShort(q.min_length.unwrap_or(0)),
        Rule::MaxLength if matches!(kind, Kind::Text | Kind::LongText) => {
            Problem::TooLong(q.max_length.unwrap_or(DEFAULT_MAX_LENGTH))
        }
        Rule::MaxLength => Problem::TooLong(DEFAULT_MAX_LENGTH),
        Rule::Pattern => Problem::Pattern,
        Rule::Format => match kind {
            Kind::Email => Problem::Email,
            Kind::Phone => Problem::Phone,
            Kind::Url => Problem::Url,
            Kind::Date => Problem::Date,
            _ => Problem::Format,
        },
        Rule::Type => Problem::NotANumber,
        Rule::Option | Rule::Duplicate => Problem::Option,
        Rule::Other => Problem::Other,
        Rule::Min => Problem::BelowMin(bound(q.min.as_ref())),
        Rule::Max => Problem::AboveMax(bound(q.max.as_ref())),
        Rule::Integer => Problem::NotWhole,
        Rule::MinSelected => Problem::TooFew(q.min_selected.unwrap_or(0)),
        Rule::MaxSelected => Problem::TooMany(q.max_selected.unwrap_or(0)),
        Rule::TooLarge => Problem::TooLarge,
    }
}

/// Bytes of `v` as JSON, at most (numbers are counted at their longest, 24 bytes).
fn json_len(v: &Value) -> usize {
    let list = |n: usize| 2 + n.saturating_sub(1);
    match v {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(_) => 24,
        Value::String(s) => text::json_len(s),
        Value::Array(items) => list(items.len()) + items.iter().map(json_len).sum::<usize>(),
        Value::Object(members) => {
            let member = |(k, v): &(String, Value)| text::json_len(k) + 1 + json_len(v);
            list(members.len()) + members.iter().map(member).sum::<usize>()
        }
    }
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

    // Every type's accepted and refused answers: the agreement table, shared with the
    // server (`widget/tests/agreement.rs`). Here: what only the widget does.

    #[test]
    fn refusals_carry_the_questions_bounds() {
        let mut question = q("text");
        question.min_length = Some(3);
        assert_eq!(
            validate(&question, &text_draft("ab")),
            Err(Problem::TooShort(3))
        );
        assert_eq!(
            validate(&question, &text_draft("a\u{7}bc")),
            Err(Problem::Format)
        );
        let mut day = q("date");
        day.max = Some(V::from("2026-01-31"));
        assert_eq!(
            validate(&day, &text_draft("2026-02-01")),
            Err(Problem::AboveMax("2026-01-31".into()))
        );
        assert_eq!(
            validate(&day, &text_draft("2025-02-31")),
            Err(Problem::Date)
        );
        assert_eq!(
            validate(&q("phone"), &text_draft("+49 30 1234567")),
            Ok(V::from("+49301234567"))
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
        question.allow_other = true;
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
        let mut one = q("single_choice");
        one.options = question.options.clone();
        assert_eq!(validate(&one, &text_draft("a")), Ok(V::from("a")));
        assert_eq!(validate(&one, &text_draft("z")), Err(Problem::Option));
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
