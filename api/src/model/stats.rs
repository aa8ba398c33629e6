//! Counts the store aggregates for answer statistics.

use serde_json::Value;

/// Prompt events of one kind for one question.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptEventCount {
    pub question_set: String,
    pub key: String,
    pub kind: String,
    pub count: i64,
}

/// Stored answers with one value for one question.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCount {
    pub question_set: String,
    pub key: String,
    pub value: Value,
    pub count: i64,
}
