//! Fuzzing the question-set parser (proptest stands in for cargo-fuzz, which
//! needs a nightly toolchain): arbitrary text, YAML with anchors, tags and
//! odd tokens spliced into the shipped files, and generated sets edited
//! structurally, as JSON and as YAML. Nothing panics; every problem points
//! into the document; an accepted set parses again, from its own JSON, to
//! the same set, and loads back from its stored form.
//!
//! Case counts are small enough for a debug `cargo test`; set `PROPTEST_CASES`
//! to fuzz longer.

use proptest::prelude::*;
use serde_json::Value;

use super::super as q;
use super::generate::{apply, edit, question_set, to_block_yaml};
use super::support::{cases, example_files};

/// Parses `source`, checks the parser's contract and returns the set when it
/// was accepted.
fn check_contract(source: &str, file: &str) -> Result<Option<q::QuestionSet>, TestCaseError> {
    match q::parse_question_set(source, file) {
        Ok(set) => {
            let json = serde_json::to_value(&set).expect("a set serialises");
            let stored: q::QuestionSet = serde_json::from_value(json.clone())
                .map_err(|e| TestCaseError::fail(format!("stored form does not load: {e}")))?;
            prop_assert_eq!(&stored, &set);
            let again = q::parse_question_set(&json.to_string(), "again.json");
            prop_assert_eq!(
                again.as_ref(),
                Ok(&set),
                "its own JSON parses to the same set"
            );
            Ok(Some(set))
        }
        Err(problems) => {
            prop_assert!(!problems.is_empty());
            let lines = source.lines().count().max(1) + 1;
            for p in &problems {
                prop_assert_eq!(&p.file, file);
                prop_assert!(p.line >= 1 && p.column >= 1, "{}", p);
                prop_assert!(
                    p.line <= lines,
                    "{} points past the end ({} lines)",
                    p,
                    lines
                );
                prop_assert!(!p.message.is_empty());
            }
            Ok(None)
        }
    }
}

/// Tokens that exercise YAML features question sets do not use.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "&b [*a, *a]",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "? ",
    "<<: *a",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\t",
    "\u{feff}",
    "\0",
    "|\n  x\n",
    ">-\n",
    "'",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "#",
    "\r\n",
    "é",
    "𝄞",
    "~",
    "null",
    "0x1F",
    "1e400",
    ".nan",
    "-.inf",
];

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn fuzz_shipped_files_with_yaml_tokens_spliced_in(
        file in any::<prop::sample::Index>(),
        splices in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..12, prop::sample::select(TOKENS)),
            1..4,
        ),
    ) {
        let files = example_files();
        let (name, source) = file.get(&files);
        let mut text = source.clone();
        for (at, cut, token) in splices {
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let start = *at.get(&bounds);
            let end = bounds.iter().copied().find(|&b| b >= start + cut).unwrap_or(text.len());
            text.replace_range(start..end, token);
        }
        check_contract(&text, name)?;
    }

    #[test]
    fn fuzz_generated_sets_edited_structurally(
        set in question_set(),
        edits in prop::collection::vec(edit(), 0..3),
    ) {
        let mut set: Value = set;
        for (at, e) in edits {
            apply(&mut set, at, e);
        }
        let from_json = check_contract(&set.to_string(), "fuzz.json")?;
        let mut yaml = String::new();
        to_block_yaml(&set, 0, &mut yaml);
        let from_yaml = check_contract(&yaml, "fuzz.yaml")?;
        if let (Some(a), Some(b)) = (from_json, from_yaml) {
            prop_assert_eq!(a, b, "JSON and YAML agree");
        }
    }

    #[test]
    fn fuzz_shipped_files_edited_structurally(
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..3),
    ) {
        let files = example_files();
        let (name, source) = file.get(&files);
        let set = q::parse_question_set(source, name).expect("shipped files parse");
        let mut json = serde_json::to_value(&set).unwrap();
        for (at, e) in edits {
            apply(&mut json, at, e);
        }
        check_contract(&json.to_string(), "edited.json")?;
    }
}

#[test]
fn generated_sets_are_often_accepted() {
    // The structured generator must reach the parser's accepting paths, or
    // the properties above would only ever test refusals.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let accepted = (0..200)
        .filter(|_| {
            let set = question_set().new_tree(&mut runner).unwrap().current();
            q::parse_question_set(&set.to_string(), "g.json").is_ok()
        })
        .count();
    assert!(accepted >= 1, "only {accepted} of 200 generated sets parse");
}
