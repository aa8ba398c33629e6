//! What happens to a prompt: it is shown, answered, skipped or dismissed.

use serde_json::Value;

/// An answer to store: the value is already validated and normalised.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    pub value: Value,
}

/// What happened to a prompt, besides an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptEventKind {
    Impression,
    Skipped,
    Dismissed,
}

impl PromptEventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromptEventKind::Impression => "impression",
            PromptEventKind::Skipped => "skipped",
            PromptEventKind::Dismissed => "dismissed",
        }
    }
}
