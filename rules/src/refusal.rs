/// The rule that refused an answer, as the server names it in a 422's `details.rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The JSON value has the wrong type (or a number is not finite).
    Type,
    /// An empty answer to a required question.
    Required,
    /// An empty answer to an optional question (skip instead).
    Empty,
    /// Shorter than `min_length`.
    MinLength,
    /// Longer than `max_length` (or an "other" text over the default limit).
    MaxLength,
    /// Does not match the question's `pattern`.
    Pattern,
    /// Not a valid date, e-mail, phone number, URL, country, or a text with control characters.
    Format,
    /// Not one of the options.
    Option,
    /// An "other" answer that is not allowed, empty or not one line.
    Other,
    /// Below `min`.
    Min,
    /// Above `max`.
    Max,
    /// Not a whole number where one is needed.
    Integer,
    /// Fewer choices than `min_selected`.
    MinSelected,
    /// More choices than `max_selected`.
    MaxSelected,
    /// An option or "other" chosen twice.
    Duplicate,
    /// Larger than [`MAX_ANSWER_BYTES`](crate::limits::MAX_ANSWER_BYTES) as JSON.
    TooLarge,
}

impl Rule {
    /// The rule's name in the API (`min_length`, `format`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Type => "type",
            Rule::Required => "required",
            Rule::Empty => "empty",
            Rule::MinLength => "min_length",
            Rule::MaxLength => "max_length",
            Rule::Pattern => "pattern",
            Rule::Format => "format",
            Rule::Option => "option",
            Rule::Other => "other",
            Rule::Min => "min",
            Rule::Max => "max",
            Rule::Integer => "integer",
            Rule::MinSelected => "min_selected",
            Rule::MaxSelected => "max_selected",
            Rule::Duplicate => "duplicate",
            Rule::TooLarge => "too_large",
        }
    }
}

/// Why a check refused an answer: the rule, and a short English reason that needs no
/// bound (the server words bounds itself; the widget words everything in the user's
/// language).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The rule that refused the answer.
    pub rule: Rule,
    /// A short English reason, such as "not a valid e-mail address".
    pub reason: &'static str,
}

/// `Err` with a refusal.
pub(crate) fn refuse<T>(rule: Rule, reason: &'static str) -> Result<T, Refusal> {
    Err(Refusal { rule, reason })
}
