// The agreement table: answers a person can give, each with the question's rules and
// what both sides must do with it. Included (`include!`) by the server's harness
// (`server.rs`, run as api's `answer_agreement` test through `validate_answer`) and by
// the widget's (`widget/tests/agreement.rs`, run natively and as Wasm in headless
// Chromium through `trickle_widget::validate`). JSON-shape mistakes the widget cannot
// make (wrong types, duplicates, extra keys) are tested on the server alone.

/// Today's date for `today` bounds in both harnesses.
pub const TODAY: &str = "2025-06-15";

/// A question's rules, which each harness turns into its own question type.
pub struct Q {
    pub kind: &'static str,
    pub required: bool,
    pub min: Option<B>,
    pub max: Option<B>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub pattern: Option<&'static str>,
    pub integer: bool,
    pub options: &'static [&'static str],
    pub allow_other: bool,
    pub min_selected: Option<u32>,
    pub max_selected: Option<u32>,
}

/// A bound: a number, or a `YYYY-MM-DD` date (or `today`).
pub enum B {
    Num(f64),
    Day(&'static str),
}

/// A JSON answer value.
pub enum V {
    Null,
    Str(&'static str),
    /// A string repeated this many times.
    Rep(&'static str, usize),
    Num(f64),
    Bool(bool),
    /// `{"other": text}`.
    Other(&'static str),
    List(&'static [V]),
}

/// What both sides do with an answer.
pub enum E {
    /// Both accept it, with this normalised value.
    Ok(V),
    /// Both accept it; the widget sends the first form, the server stores the second.
    Sent(V, V),
    /// Both refuse it, with this rule.
    No(&'static str),
}

pub use rows::{ROWS, SERVER_ONLY};

// One row a line, questions named once: kept as written.
#[rustfmt::skip]
mod rows {
    use super::E::{self, No, Ok as Yes, Sent};
    use super::V::{self, List, Null, Num, Other, Rep, Str};
    use super::{B, Q};

    const fn q(kind: &'static str) -> Q {
        Q {
            kind,
            required: false,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            integer: false,
            options: &[],
            allow_other: false,
            min_selected: None,
            max_selected: None,
        }
    }

    const TEXT: Q = q("text");
    const TEXT_REQ: Q = Q { required: true, ..q("text") };
    const TEXT_2_5: Q = Q { min_length: Some(2), max_length: Some(5), ..q("text") };
    const TEXT_3_3: Q = Q { min_length: Some(3), max_length: Some(3), ..q("text") };
    const CODE: Q = Q { pattern: Some("[A-Z]{2}[0-9]+"), ..q("text") };
    const AB: Q = Q { pattern: Some("a|b"), ..q("text") };
    const LONG: Q = q("long_text");
    const LONG_MAX: Q = Q { max_length: Some(4096), ..q("long_text") };
    const AGE: Q = Q { min: Some(B::Num(0.0)), max: Some(B::Num(120.0)), integer: true, ..q("number") };
    const NUM: Q = q("number");
    const NUM_REQ: Q = Q { required: true, ..q("number") };
    const SIZE: Q = Q { min: Some(B::Num(0.5)), max: Some(B::Num(10.0)), ..q("number") };
    const NPS: Q = Q { min: Some(B::Num(0.0)), max: Some(B::Num(10.0)), ..q("scale") };
    const STARS: Q = Q { min: Some(B::Num(1.0)), max: Some(B::Num(5.0)), ..q("scale") };
    const YES: Q = q("boolean");
    const YES_REQ: Q = Q { required: true, ..q("boolean") };
    const ONE: Q = Q { options: &["a", "b"], ..q("single_choice") };
    const ONE_OTHER: Q = Q { options: &["a", "b"], allow_other: true, ..q("single_choice") };
    const MANY: Q = Q {
        options: &["a", "b", "c"],
        allow_other: true,
        min_selected: Some(1),
        max_selected: Some(2),
        ..q("multi_choice")
    };
    const MANY_MIN2: Q = Q { options: &["a", "b", "c"], min_selected: Some(2), ..q("multi_choice") };
    const MANY_REQ: Q = Q { options: &["a", "b", "c"], required: true, ..q("multi_choice") };
    const BIRTHDAY: Q = Q { min: Some(B::Day("1900-01-01")), max: Some(B::Day("today")), ..q("date") };
    const DAY: Q = q("date");
    const EMAIL: Q = q("email");
    const PHONE: Q = q("phone");
    const URL: Q = q("url");
    const COUNTRY: Q = q("country");


    /// Every row must be accepted or refused alike by the server and the widget.
    pub const ROWS: &[(Q, V, E)] = &[
        // text and long_text
        (TEXT, Str("  Berlin "), Yes(Str("Berlin"))),
        (TEXT, Str(""), No("empty")),
        (TEXT, Null, No("empty")),
        (TEXT_REQ, Str("   "), No("required")),
        (TEXT, Str("a\nb"), No("format")),
        (TEXT, Str("a\tb"), No("format")),
        (TEXT, Str("nul\u{0}"), No("format")),
        (TEXT, Str("😀"), Yes(Str("😀"))),
        (TEXT_2_5, Str("a"), No("min_length")),
        (TEXT_2_5, Str("ab"), Yes(Str("ab"))),
        (TEXT_2_5, Str("abcde"), Yes(Str("abcde"))),
        (TEXT_2_5, Str("abcdef"), No("max_length")),
        (TEXT_3_3, Str("äöü"), Yes(Str("äöü"))),
        (TEXT_3_3, Str(" äö "), No("min_length")),
        (TEXT, Rep("x", 500), Yes(Rep("x", 500))),
        (TEXT, Rep("x", 501), No("max_length")),
        (CODE, Str("AB12"), Yes(Str("AB12"))),
        (CODE, Str("xAB12"), No("pattern")),
        (CODE, Str("AB12x"), No("pattern")),
        (AB, Str("ab"), No("pattern")),
        (AB, Str("b"), Yes(Str("b"))),
        (LONG, Str("line 1\r\nline 2"), Yes(Str("line 1\nline 2"))),
        (LONG, Str("a\r\r\nb\rc"), Yes(Str("a\n\nb\nc"))),
        (LONG, Str("a\tb"), Yes(Str("a\tb"))),
        (LONG, Str("bell\u{7}"), No("format")),
        (LONG_MAX, Rep("é", 4096), No("too_large")),
        (LONG_MAX, Rep("x", 4000), Yes(Rep("x", 4000))),
        // number
        (AGE, Num(42.0), Yes(Num(42.0))),
        (AGE, Num(0.0), Yes(Num(0.0))),
        (AGE, Num(120.0), Yes(Num(120.0))),
        (AGE, Num(4.5), No("integer")),
        (AGE, Num(-1.0), No("min")),
        (AGE, Num(121.0), No("max")),
        (AGE, Str("abc"), No("type")),
        (NUM, Num(1.25), Yes(Num(1.25))),
        (NUM, Num(-0.5), Yes(Num(-0.5))),
        (NUM, Num(1e21), Yes(Num(1e21))),
        (NUM, Str(""), No("empty")),
        (NUM_REQ, Str(" "), No("required")),
        (SIZE, Num(0.5), Yes(Num(0.5))),
        (SIZE, Num(0.25), No("min")),
        (SIZE, Num(10.0), Yes(Num(10.0))),
        (SIZE, Num(10.01), No("max")),
        // scale
        (NPS, Num(0.0), Yes(Num(0.0))),
        (NPS, Num(10.0), Yes(Num(10.0))),
        (NPS, Num(11.0), No("max")),
        (NPS, Num(-1.0), No("min")),
        (STARS, Num(3.0), Yes(Num(3.0))),
        (STARS, Num(0.0), No("min")),
        // boolean
        (YES, V::Bool(true), Yes(V::Bool(true))),
        (YES, V::Bool(false), Yes(V::Bool(false))),
        (YES_REQ, Null, No("required")),
        // single_choice
        (ONE, Str("a"), Yes(Str("a"))),
        (ONE, Str(" b "), Yes(Str("b"))),
        (ONE, Str("c"), No("option")),
        (ONE, Other("x"), No("other")),
        (ONE_OTHER, Other(" Pilot "), Yes(Other("Pilot"))),
        (ONE_OTHER, Other(" "), No("other")),
        (ONE_OTHER, Other("a\nb"), No("other")),
        (ONE_OTHER, Other("ünïcödé"), Yes(Other("ünïcödé"))),
        // multi_choice
        (MANY, List(&[Str("c"), Str("a")]), Yes(List(&[Str("a"), Str("c")]))),
        (MANY, List(&[Other("z"), Str("b")]), Yes(List(&[Str("b"), Other("z")]))),
        (MANY, List(&[Str("a"), Str("b"), Str("c")]), No("max_selected")),
        (MANY, List(&[Str("a"), Str("b"), Other("z")]), No("max_selected")),
        (MANY, List(&[Str("d")]), No("option")),
        (MANY, List(&[Other(" ")]), No("other")),
        (MANY, List(&[]), No("empty")),
        (MANY_REQ, List(&[]), No("required")),
        (MANY_MIN2, List(&[Str("a")]), No("min_selected")),
        (MANY_MIN2, List(&[Str("b"), Str("a")]), Yes(List(&[Str("a"), Str("b")]))),
        // date
        (BIRTHDAY, Str("1990-02-28"), Yes(Str("1990-02-28"))),
        (BIRTHDAY, Str("2025-06-15"), Yes(Str("2025-06-15"))),
        (BIRTHDAY, Str("2025-06-16"), No("max")),
        (BIRTHDAY, Str("1900-01-01"), Yes(Str("1900-01-01"))),
        (BIRTHDAY, Str("1899-12-31"), No("min")),
        (BIRTHDAY, Str(" 2020-01-01 "), Yes(Str("2020-01-01"))),
        (DAY, Str("2024-02-29"), Yes(Str("2024-02-29"))),
        (DAY, Str("2000-02-29"), Yes(Str("2000-02-29"))),
        (DAY, Str("2023-02-29"), No("format")),
        (DAY, Str("1900-02-29"), No("format")),
        (DAY, Str("2025-02-31"), No("format")),
        (DAY, Str("2025-04-31"), No("format")),
        (DAY, Str("2025-13-01"), No("format")),
        (DAY, Str("2025-00-10"), No("format")),
        (DAY, Str("1990-2-28"), No("format")),
        (DAY, Str("17.05.1990"), No("format")),
        (DAY, Str("2020-01-01T00:00"), No("format")),
        (DAY, Str("٢٠٢٠-٠١-٠١"), No("format")),
        (DAY, Str("0001-01-01"), Yes(Str("0001-01-01"))),
        (DAY, Str("9999-12-31"), Yes(Str("9999-12-31"))),
        // email
        (EMAIL, Str(" A@B.COM "), Yes(Str("A@b.com"))),
        (EMAIL, Str("Jane.Doe@Example.COM"), Yes(Str("Jane.Doe@example.com"))),
        (EMAIL, Str("o'neil+news@mail.example.ie"), Yes(Str("o'neil+news@mail.example.ie"))),
        (EMAIL, Str("\"quoted\"@x.org"), Yes(Str("\"quoted\"@x.org"))),
        (EMAIL, Str("\"jane doe\"@X.org"), Yes(Str("\"jane doe\"@x.org"))),
        (EMAIL, Str("ü@Bücher.DE"), Yes(Str("ü@bücher.de"))),
        (EMAIL, Str("a@b.c"), Yes(Str("a@b.c"))),
        (EMAIL, Str("a@b"), No("format")),
        (EMAIL, Str("a@@b.c"), No("format")),
        (EMAIL, Str("@b.co"), No("format")),
        (EMAIL, Str("a.@b.co"), No("format")),
        (EMAIL, Str("a..b@c.co"), No("format")),
        (EMAIL, Str("a b@c.de"), No("format")),
        (EMAIL, Str("a@-b.co"), No("format")),
        (EMAIL, Str("a@b..co"), No("format")),
        (EMAIL, Str("a@ex_ample.com"), No("format")),
        (EMAIL, Str("jane@localhost"), No("format")),
        (EMAIL, Str("not-an-email"), No("format")),
        (EMAIL, Str("Jane <jane@example.com>"), No("format")),
        (EMAIL, Str("a@[192.168.0.1]"), No("format")),
        // phone
        (PHONE, Str("+1 650 253 0000"), Yes(Str("+16502530000"))),
        (PHONE, Str("+1 (650) 253-0000"), Yes(Str("+16502530000"))),
        (PHONE, Str("+1.650.253.0000"), Yes(Str("+16502530000"))),
        (PHONE, Str("+49 30 901820"), Yes(Str("+4930901820"))),
        (PHONE, Str("+49 (0)30 901820"), Yes(Str("+4930901820"))),
        (PHONE, Str("+44 (0)20 7946 0000"), Yes(Str("+442079460000"))),
        (PHONE, Str("+33 6 12 34 56 78"), Yes(Str("+33612345678"))),
        (PHONE, Str("+81 90-1234-5678"), Yes(Str("+819012345678"))),
        (PHONE, Str("+91 98765 43210"), Yes(Str("+919876543210"))),
        (PHONE, Str("+36 06 1 234 5678"), Yes(Str("+3612345678"))),
        (PHONE, Str("+7 495 123-45-67"), Yes(Str("+74951234567"))),
        (PHONE, Str("0044 20 7946 0000"), No("format")),
        (PHONE, Str("030 901820"), No("format")),
        (PHONE, Str("12345"), No("format")),
        (PHONE, Str("+999 1234 5678"), No("format")),
        (PHONE, Str("+1 123"), No("format")),
        (PHONE, Str("+1 555 0100"), No("format")),
        (PHONE, Str("+1 123 456 7890"), No("format")),
        (PHONE, Str("+1 1 650 253 0000"), No("format")),
        (PHONE, Str("+44 20 7946 0000 0"), No("format")),
        (PHONE, Str("+1 650 CALL NOW"), No("format")),
        (PHONE, Str("+1 650 253 0000 ext. 12"), No("format")),
        (PHONE, Str("+7 812 123 4567"), No("format")),
        (PHONE, Str("++1 650 253 0000"), No("format")),
        // url
        (URL, Str("https://Example.com"), Yes(Str("https://example.com/"))),
        (URL, Str("HTTP://EX.com:80/a?b#c"), Yes(Str("http://ex.com/a?b#c"))),
        (URL, Str("https://ex.com:8443/path"), Yes(Str("https://ex.com:8443/path"))),
        (URL, Str("http://localhost:3000"), Yes(Str("http://localhost:3000/"))),
        (URL, Str("http://192.168.0.1/x"), Yes(Str("http://192.168.0.1/x"))),
        (URL, Str("https://bücher.de"), Sent(Str("https://bücher.de/"), Str("https://xn--bcher-kva.de/"))),
        (URL, Str("ftp://example.com"), No("format")),
        (URL, Str("javascript:alert(1)"), No("format")),
        (URL, Str("https://u:p@example.com"), No("format")),
        (URL, Str("example.com"), No("format")),
        (URL, Str("https://ex.com/a b"), No("format")),
        (URL, Str("http://ex.123"), No("format")),
        (URL, Str("http://1.2.3.256"), No("format")),
        (URL, Str("https://[::1]/"), No("format")),
        (URL, Str("https://ex.com:99999"), No("format")),
        // country
        (COUNTRY, Str("de"), Yes(Str("DE"))),
        (COUNTRY, Str(" US "), Yes(Str("US"))),
        (COUNTRY, Str("XK"), Yes(Str("XK"))),
        (COUNTRY, Str("XX"), No("format")),
        (COUNTRY, Str("DEU"), No("format")),
        (COUNTRY, Str("uk"), No("format")),
    ];

    /// Answers the widget accepts and the server refuses (`format`): the checks only the
    /// server runs (libphonenumber's number ranges, IDNA). The widget shows the server's
    /// message for these. `docs/decisions/0003-shared-answer-rules.md` lists the classes.
    pub const SERVER_ONLY: &[(Q, V)] = &[
        (PHONE, Str("+44 7700 900123")),
        (PHONE, Str("+1 650 053 0000")),
        (URL, Str("https://xn--a.com")),
    ];
}
