//! Shared test helpers.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;

use super::super as q;

/// Where the question-set files live (in the server crate: `/../question-sets`).
pub const QUESTION_SETS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../question-sets");

/// `QUESTION_SETS_DIR`, or the workspace-level folder when it is missing.
pub fn question_sets_dir() -> PathBuf {
    let primary = PathBuf::from(QUESTION_SETS_DIR);
    if primary.is_dir() {
        return primary;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../question-sets"))
}

/// Parses a set or panics with every problem.
pub fn set(yaml: &str) -> q::QuestionSet {
    q::parse_question_set(yaml, "test.yaml").unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("set did not parse:\n{}", lines.join("\n"))
    })
}

/// Problems of a set that must not parse.
pub fn problems(yaml: &str) -> Vec<q::Problem> {
    match q::parse_question_set(yaml, "test.yaml") {
        Ok(s) => panic!("expected problems, parsed {s:?}"),
        Err(p) => p,
    }
}

/// A fixed "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 15, 12, 0, 0).unwrap()
}

/// A profile with `login_count`, the first login `days` days ago and the latest now.
pub fn profile<'a>(user: &'a Value, app: &'a Value, login: i64, days: i64) -> q::Profile<'a> {
    q::Profile {
        user_metadata: user,
        app_metadata: app,
        login_count: login,
        first_login_at: Some(now() - chrono::Duration::days(days)),
        last_login_at: Some(now()),
    }
}

/// A history record.
pub fn rec(set: &str, key: &str, outcome: q::Outcome, login: i64) -> q::PromptRecord {
    q::PromptRecord {
        question_set: set.into(),
        key: key.into(),
        outcome,
        login_count: login,
    }
}

/// Reads a file from the question-sets folder.
pub fn read_set_file(name: &str) -> String {
    std::fs::read_to_string(question_sets_dir().join(name)).expect("question set file")
}

/// Issue 9's "billion laughs" document: six short lines whose aliases expand
/// to 25 GB of text (250 kB × 10⁵) while staying far under the node cap.
pub fn alias_bomb() -> String {
    let mut bomb = format!("a0: &a0 \"{}\"\n", "x".repeat(250_000));
    for i in 1..=5 {
        let aliases = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{aliases}]\n"));
    }
    bomb
}

/// A proptest configuration of `cases` cases, or of `PROPTEST_CASES` when set,
/// so that `PROPTEST_CASES=100000 cargo test -p trickle --lib fuzz` fuzzes
/// longer than the default run (bounded to seconds in debug builds).
pub fn cases(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The question-set files shipped in `question-sets/`, with their names.
pub fn example_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(question_sets_dir())
        .expect("question-sets folder")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.to_owned();
            let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            yaml.then(|| (name, std::fs::read_to_string(&path).expect("readable")))
        })
        .collect();
    files.sort();
    files
}
