//! A user's profile as stored, and where its answers and enrichment came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::questions::{Condition, Profile};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub user_id: String,
    pub login_count: i64,
    pub first_login_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
    pub last_ip: Option<String>,
    pub last_user_agent: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Answers and site-provided data: a JSON object.
    #[schema(value_type = Object)]
    pub user_metadata: Value,
    /// Enrichment and other data the user cannot edit: a JSON object.
    #[schema(value_type = Object)]
    pub app_metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the widget last showed this user a prompt (the site's
    /// `min_hours_between_prompts` counts from here); absent when never.
    pub last_prompted_at: Option<DateTime<Utc>>,
}

impl User {
    /// The view the question engine evaluates conditions against.
    pub fn profile(&self) -> Profile<'_> {
        Profile {
            user_metadata: &self.user_metadata,
            app_metadata: &self.app_metadata,
            login_count: self.login_count,
            first_login_at: Some(self.first_login_at),
            last_login_at: Some(self.last_login_at),
        }
    }
}

/// Where an answer in `user_metadata` came from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnswerRecord {
    pub key: String,
    pub question_set: String,
    pub version: i64,
    #[schema(value_type = Value)]
    pub value: Value,
    /// The user's login count when they answered.
    pub login_count: i64,
    pub answered_at: DateTime<Utc>,
}

/// What one enrichment provider found (from `app_metadata.enrichment.<provider>`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EnrichmentRecord {
    pub provider: String,
    pub fetched_at: Option<DateTime<Utc>>,
    /// False when the provider knew nothing about the user.
    pub found: bool,
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
}

/// The provider entries of `app_metadata.enrichment`, by provider name.
pub fn enrichment_records(app_metadata: &Value) -> Vec<EnrichmentRecord> {
    let Some(entries) = app_metadata.get("enrichment").and_then(Value::as_object) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(provider, entry)| {
            let mut fields = entry.as_object()?.clone();
            let fetched_at = fields
                .remove("fetched_at")
                .and_then(|t| t.as_str().and_then(|t| t.parse().ok()));
            let found = fields
                .remove("found")
                .and_then(|f| f.as_bool())
                .unwrap_or(true);
            Some(EnrichmentRecord {
                provider: provider.clone(),
                fetched_at,
                found,
                fields,
            })
        })
        .collect()
}

/// `PATCH /v1/users/{id}`: JSON merge patches (RFC 7396) of each metadata object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_metadata": {"role": "founder", "address": {"city": null}},
    "app_metadata": {"plan": "pro"}}))]
pub struct UserPatch {
    /// Merged into `user_metadata` (a key set to null is removed); null or absent:
    /// unchanged. The result must stay within 64 KiB.
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Value>,
    /// Merged into `app_metadata`; null or absent: unchanged. At most 256 KiB.
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Value>,
}

/// `GET /v1/users`: a page of users matching a condition.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A condition in the question-set `when` language, e.g.
    /// `{"all":[{"key":"login_count","equals":1},{"key":"days_since_first_login","gte":7}]}`.
    pub filter: Option<Condition>,
    pub after: Option<String>,
    pub limit: u32,
}

/// One page of users; `next_cursor` is set while more users may follow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<String>,
}

/// Most users returned in one page.
pub const MAX_PAGE: u32 = 1000;

/// Size limits of a user's metadata, enforced inside the write transaction.
#[derive(Debug, Clone, Copy)]
pub struct MetadataLimits {
    pub user_metadata_bytes: usize,
    pub app_metadata_bytes: usize,
}
