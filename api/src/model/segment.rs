//! Saved segments: a condition of the `when` language under a name, per site.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A segment's name: 1 to 64 of `a-z`, `0-9` and `-`, starting with a letter or digit.
pub const SEGMENT_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,63}$";
/// Longest description, in characters.
pub const MAX_SEGMENT_DESCRIPTION: usize = 500;
/// Most segments one site may keep.
pub const MAX_SEGMENTS_PER_SITE: i64 = 200;

/// Whether `name` is a valid segment name ([`SEGMENT_NAME_PATTERN`]).
pub fn is_segment_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"name": "never-came-back", "description": "Signed up, never came back",
    "where": {"all": [{"key": "login_count", "equals": 1}, {"key": "days_since_first_login", "gte": 7}]},
    "created_at": "2026-12-02T09:30:00Z", "updated_at": "2026-12-02T09:30:00Z"}))]
pub struct Segment {
    /// The segment's name, unique per site.
    pub name: String,
    /// What it is for, for people.
    pub description: String,
    /// The condition, as `GET /v1/users?where=` takes it.
    #[schema(value_type = Object)]
    pub r#where: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT /v1/segments/{name}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Signed up, never came back",
    "where": {"all": [{"key": "login_count", "equals": 1}, {"key": "days_since_first_login", "gte": 7}]}}))]
pub struct SegmentInput {
    /// What it is for (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// A condition in the `when` language (at most 8 levels, 64 comparisons, 256 values).
    #[schema(value_type = Object)]
    pub r#where: Value,
}

/// How many users a segment holds now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentCount {
    pub name: String,
    pub users: i64,
    /// When it was counted (relative conditions depend on it).
    pub counted_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_pattern() {
        let pattern = regex::Regex::new(SEGMENT_NAME_PATTERN).unwrap();
        for name in [
            "a",
            "never-came-back",
            "2026-q1",
            &"x".repeat(64),
            "-a",
            "A",
            "a b",
            "",
            &"x".repeat(65),
            "ä",
        ] {
            assert_eq!(is_segment_name(name), pattern.is_match(name), "{name:?}");
        }
    }
}
