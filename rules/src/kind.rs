/// A question type, as named in question-set files (`type:`) and prompts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    /// A number.
    Number,
    /// One option, or "other" text.
    SingleChoice,
    /// Several options, and at most one "other" text.
    MultiChoice,
    /// Yes or no.
    Boolean,
    /// A `YYYY-MM-DD` date.
    Date,
    /// An e-mail address.
    Email,
    /// A phone number in international format.
    Phone,
    /// An http(s) URL.
    Url,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// A whole number on a scale.
    Scale,
}

impl Kind {
    /// Every kind, in the order of the specification's table.
    pub const ALL: [Kind; 12] = [
        Kind::Text,
        Kind::LongText,
        Kind::Number,
        Kind::SingleChoice,
        Kind::MultiChoice,
        Kind::Boolean,
        Kind::Date,
        Kind::Email,
        Kind::Phone,
        Kind::Url,
        Kind::Country,
        Kind::Scale,
    ];

    /// The name written in files and prompts (`long_text`, `single_choice`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::LongText => "long_text",
            Kind::Number => "number",
            Kind::SingleChoice => "single_choice",
            Kind::MultiChoice => "multi_choice",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Url => "url",
            Kind::Country => "country",
            Kind::Scale => "scale",
        }
    }

    /// The kind of a name; `None` for an unknown one.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn names_read_back() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Kind::from_name("Text"), None);
    }
}
