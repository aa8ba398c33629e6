//! Portable `pattern`s: what both Rust's `regex` and JavaScript's
//! `new RegExp(p, "u")` accept is kept; every Rust-only construct is refused
//! when the set is parsed, at the pattern's position. The tables were checked
//! against Node 20's `RegExp` with the `u` flag: every accepted pattern
//! compiles there, and each refused one either throws there or is one of the
//! constructs the subset leaves out on purpose (noted beside it).

use super::super as q;
use super::super::portable::check_portable;
use super::support::problems;

/// Ordinary patterns that must stay accepted.
const PORTABLE: &[&str] = &[
    "[a-z]+",
    "[A-Z]{2}[0-9]+",
    r"\d{5}(-\d{4})?",
    r"^\+?[0-9 ]{6,20}$",
    r"[^@\s]+@[^@\s]+\.[a-z]{2,}",
    r"(?:ab|cd)*?",
    r"(?<zip>\d{5})",
    r"\p{L}+(?: \p{L}+)*",
    r"\P{Nd}",
    r"\p{Script=Latin}+",
    r"\p{sc=Han}{1,4}",
    r"[\p{Lu}\d_-]",
    r"[-a-z]",
    r"[a-z-]",
    r"\x41\u00e9\u{1F600}",
    r"\t\n\r\f\v",
    r"a\.b\*c\+d\?e\(f\)g\[h\]i\{j\}k\|l\^m\$n\\o\/p",
    r"[\-\]\[\\]",
    r"\bword\B",
    r"colou?r",
    r"x{3}y{2,}z{1,5}",
    r"[äöü]ß",
    r"#&~",
    ".",
    "",
    "a|",
];

/// Rust-only constructs, each with the text the problem must name.
const REFUSED: &[(&str, &str)] = &[
    ("(?i)abc", "(?i)"),
    ("(?i:abc)", "i"),
    ("(?x) a b", "(?x)"),
    ("(?-u:a)", "-u"),
    (r"(?P<zip>\d{5})", "zip"),
    (r"\Aabc", r"\A"),
    (r"abc\z", r"\z"),
    (r"\b{start}a", r"\b{start}"),
    (r"\<a\>", r"\<"),
    (r"\pL+", r"\pL"),
    (r"\p{Greek}", r"\p{Greek}"),
    (r"\p{Letter}", r"\p{Letter}"), // JS takes it too; the subset keeps short names only
    (r"\p{Script=Runic}", r"\p{Script=Runic}"), // JS takes it; the subset lists common scripts
    (r"\p{sc!=Latin}", r"\p{sc!=Latin}"),
    ("[[:alpha:]]", "[:alpha:]"),
    ("[a[bc]]", "[bc]"),
    ("[a-z&&[^aeiou]]", "&&"),
    ("[a-z--b]", "--"), // JS reads `-`, `-`, `b`: a different class
    (r"\x{41}", r"\x{41}"),
    (r"\U00000041", r"\U00000041"),
    (r"\a", r"\a"),
    (r"\#", r"\#"),
    (r"\&", r"\&"),
    (r"\~", r"\~"),
    (r"a\-b", r"\-"),
    (r"\%", r"\%"),
    ("a]", "]"),
    ("a}", "}"),
    ("[]a]", "]"),
    ("[a-b-c]", "-"), // JS takes it; the subset keeps `-` first or last
    ("^*a", "*"),
];

#[test]
fn ordinary_patterns_are_portable() {
    for pattern in PORTABLE {
        assert!(
            q::Pattern::new(pattern).is_ok(),
            "Rust compiles {pattern:?}"
        );
        assert_eq!(check_portable(pattern), Ok(()), "{pattern:?}");
    }
}

#[test]
fn rust_only_constructs_are_refused_and_named() {
    for (pattern, construct) in REFUSED {
        if q::Pattern::new(pattern).is_err() {
            panic!("{pattern:?} must compile in Rust for this test to mean anything");
        }
        let err = check_portable(pattern).expect_err(pattern);
        assert!(
            err.construct.contains(construct),
            "{pattern:?}: names {:?}, expected {construct:?}",
            err.construct
        );
        assert!(err.at >= 1 && !err.why.is_empty(), "{pattern:?}: {err:?}");
    }
}

#[test]
fn the_position_in_the_pattern_counts_characters() {
    let err = check_portable(r"ééé(?i)x").unwrap_err();
    assert_eq!((err.at, err.construct.as_str()), (4, "(?i)"));
}

#[test]
fn a_set_with_an_unportable_pattern_is_refused_at_the_pattern() {
    let yaml = "slug: s\ntitle: S\nstages:\n  - at_login: 1\n    questions:\n      \
                - { key: a, type: text, title: A, pattern: \"(?i)[a-z]+\" }\n      \
                - { key: b, type: long_text, title: B, pattern: '\\d+\\z' }\n      \
                - { key: c, type: text, title: C, pattern: '[a-z]+' }\n";
    let found = problems(yaml);
    let got: Vec<(usize, usize, &str)> = found
        .iter()
        .map(|p| (p.line, p.column, p.message.as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1), (6, 50));
    assert!(
        got[0].2.starts_with(
            "`pattern`: `(?i)` at character 1 is not portable to the widget's JavaScript RegExp: \
             inline flags"
        ),
        "{}",
        got[0].2
    );
    assert_eq!((got[1].0, got[1].1), (7, 55));
    assert!(got[1].2.contains(r"`\z` at character 4"), "{}", got[1].2);
}

#[test]
fn stored_versions_with_old_patterns_still_load() {
    // A version stored before the rule keeps working: only new drafts are checked.
    let pattern: q::Pattern = serde_json::from_value(serde_json::json!("(?i)abc")).unwrap();
    assert!(pattern.is_full_match("ABC"));
}
