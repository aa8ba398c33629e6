//! The question-set data model. `parse` builds it from YAML/JSON with full
//! problem reporting; serde (de)serialises its canonical JSON form for storage.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::condition::Condition;

/// Default `max_length` of text answers, and its hard cap (shared with the widget).
pub use trickle_rules::limits::{DEFAULT_MAX_LENGTH, MAX_LENGTH_CAP};

/// A versioned, staged list of questions (one YAML document).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct QuestionSet {
    /// `[a-z0-9-]{1,64}`, unique per site.
    pub slug: String,
    /// Human name of the set (for the admin console).
    pub title: String,
    /// Higher sets are asked first.
    #[serde(default)]
    pub priority: i32,
    /// Locale of plain-string texts and the fallback of locale maps.
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// Per-set pacing settings.
    #[serde(default)]
    pub settings: Settings,
    /// Stages in file order.
    pub stages: Vec<Stage>,
}

fn default_locale() -> String {
    "en".into()
}

/// Per-set pacing settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Settings {
    /// Answers + skips + dismissals of this set allowed per login value.
    #[serde(default = "default_max_prompts")]
    pub max_prompts_per_login: u32,
    /// A skipped question is due again this many logins later.
    #[serde(default = "default_reask")]
    pub reask_skipped_after_logins: u32,
}

fn default_max_prompts() -> u32 {
    3
}

fn default_reask() -> u32 {
    2
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_prompts_per_login: default_max_prompts(),
            reask_skipped_after_logins: default_reask(),
        }
    }
}

/// A group of questions that becomes due at a login count.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Stage {
    /// Due from this login on (≥ 1).
    pub at_login: u32,
    /// Also needs this many whole days since the first login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_days: Option<u32>,
    /// Questions in file order.
    pub questions: Vec<Question>,
}

/// One question; `kind` holds the type and its type-specific rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Question {
    /// Dotted path into `user_metadata` where the answer is stored.
    pub key: String,
    /// The question text.
    pub title: Text,
    /// Optional help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Optional input placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<Text>,
    /// Whether an empty submit is refused (skipping is always allowed).
    #[serde(default)]
    pub required: bool,
    /// Only asked when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Profile path whose value is offered as the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<String>,
    /// Profile path: when it has a value the question is not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_if_known: Option<String>,
    /// The type (serialised as the `type` field) and its rules.
    #[serde(flatten)]
    pub kind: QuestionType,
}

/// A question type with its type-specific rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionType {
    /// One line of text.
    Text(TextRules),
    /// Several lines of text.
    LongText(TextRules),
    /// A number.
    Number(NumberRules),
    /// One option (or "other").
    SingleChoice(SingleChoiceRules),
    /// Several options.
    MultiChoice(MultiChoiceRules),
    /// Yes / no.
    Boolean(BooleanRules),
    /// A `YYYY-MM-DD` date.
    Date(DateRules),
    /// An e-mail address.
    Email,
    /// A phone number, stored in E.164.
    Phone,
    /// An http(s) URL.
    Url,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// An integer on a scale (e.g. NPS 0–10).
    Scale(ScaleRules),
}

impl QuestionType {
    /// The `type` name as written in files.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The kind, without its rules (the enum shared with the widget).
    pub fn kind(&self) -> trickle_rules::Kind {
        use trickle_rules::Kind;
        match self {
            QuestionType::Text(_) => Kind::Text,
            QuestionType::LongText(_) => Kind::LongText,
            QuestionType::Number(_) => Kind::Number,
            QuestionType::SingleChoice(_) => Kind::SingleChoice,
            QuestionType::MultiChoice(_) => Kind::MultiChoice,
            QuestionType::Boolean(_) => Kind::Boolean,
            QuestionType::Date(_) => Kind::Date,
            QuestionType::Email => Kind::Email,
            QuestionType::Phone => Kind::Phone,
            QuestionType::Url => Kind::Url,
            QuestionType::Country => Kind::Country,
            QuestionType::Scale(_) => Kind::Scale,
        }
    }
}

/// Rules of `text` and `long_text`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TextRules {
    /// Minimum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Maximum length in characters (default 500, at most 4096).
    #[serde(default = "default_max_length")]
    pub max_length: u32,
    /// A regex the whole (trimmed) answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
}

fn default_max_length() -> u32 {
    DEFAULT_MAX_LENGTH
}

/// Rules of `number`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct NumberRules {
    /// Smallest accepted value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest accepted value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Whether only whole numbers are accepted.
    #[serde(default)]
    pub integer: bool,
}

/// One choice option, normalised from a plain string or `{value, label}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChoiceOption {
    /// The stored value.
    pub value: String,
    /// The shown label.
    pub label: Text,
}

/// Rules of `single_choice`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SingleChoiceRules {
    /// The options, in order.
    pub options: Vec<ChoiceOption>,
    /// Whether a free-text `{"other": "..."}` answer is accepted.
    #[serde(default)]
    pub allow_other: bool,
}

/// Rules of `multi_choice`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MultiChoiceRules {
    /// The options, in order.
    pub options: Vec<ChoiceOption>,
    /// Whether one free-text `{"other": "..."}` entry is accepted.
    #[serde(default)]
    pub allow_other: bool,
    /// Fewest entries accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_selected: Option<u32>,
    /// Most entries accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_selected: Option<u32>,
}

/// Rules of `boolean`: optional labels of the two answers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct BooleanRules {
    /// Label of `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_label: Option<Text>,
    /// Label of `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_label: Option<Text>,
}

/// Rules of `date`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct DateRules {
    /// Earliest accepted date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<DateBound>,
    /// Latest accepted date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<DateBound>,
}

/// Rules of `scale`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScaleRules {
    /// Lowest value.
    pub min: i64,
    /// Highest value.
    pub max: i64,
    /// Label of the low end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<Text>,
    /// Label of the high end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<Text>,
}

/// A plain string (in the set's default locale) or a locale → string map.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Text {
    /// One string for every locale.
    Plain(String),
    /// Strings by locale tag.
    Localized(BTreeMap<String, String>),
}

/// A date bound: a fixed date or `today` (resolved when used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateBound {
    /// The current date.
    Today,
    /// A fixed date.
    Date(NaiveDate),
}

impl DateBound {
    /// Parses `today` or `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<DateBound> {
        if s == "today" {
            return Some(DateBound::Today);
        }
        parse_iso_date(s).map(DateBound::Date)
    }

    /// The actual date, given today's.
    pub fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DateBound::Today => today,
            DateBound::Date(d) => d,
        }
    }
}

/// Parses a strict `YYYY-MM-DD` date (exactly 10 characters).
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl fmt::Display for DateBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateBound::Today => f.write_str("today"),
            DateBound::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

impl Serialize for DateBound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateBound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateBound::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("expected `today` or a YYYY-MM-DD date"))
    }
}

/// A regex pattern kept with its compiled, whole-string-anchored form so it
/// is compiled once per parsed set, never per answer.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    anchored: regex::Regex,
}

/// Largest compiled regex accepted, so a set cannot make the server slow.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    /// Compiles a pattern; the whole answer must match it.
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        // Compile the pattern alone first: this proves it is balanced, so the
        // anchoring group below cannot change its meaning (`a)|(b`).
        regex::RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()?;
        let anchored = regex::RegexBuilder::new(&format!(r"\A(?:{source})\z"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()?;
        Ok(Pattern {
            source: source.to_owned(),
            anchored,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole string matches.
    pub fn is_full_match(&self, s: &str) -> bool {
        self.anchored.is_match(s)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::new(&s).map_err(serde::de::Error::custom)
    }
}
