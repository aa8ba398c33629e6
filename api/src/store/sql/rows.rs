//! Row types of the shared SQL: sqlx decodes the same Rust types from SQLite
//! (text, integer) and PostgreSQL (timestamptz, jsonb, bigint) columns.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::types::Json;

use crate::model::{
    AnswerCount, AnswerRecord, Delivery, Job, JobState, LoginReceipt, PromptEventCount,
    QuestionSetSummary, QuestionSetVersion, Subscription, User,
};
use crate::questions::{Outcome, PromptRecord};
use crate::store::dialect::Flavour;
use crate::store::{AskedUser, StoreError};

/// A value as JSON, for binding: the shared SQL binds only `Json<&Value>`.
pub fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("records serialise to JSON")
}

/// A JSON column read back as a record; `Corrupt` when it does not fit.
pub fn from_json<T: DeserializeOwned>(column: &str, json: Json<Value>) -> Result<T, StoreError> {
    serde_json::from_value(json.0).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Columns selected for a user everywhere, in `flavour`: SQLite's metadata columns
/// hold JSONB, read back as JSON text with `json()`.
pub const fn user_columns(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Sqlite => {
            "user_id, login_count, first_login_at, last_login_at, last_ip, last_user_agent, \
             email, name, json(user_metadata) AS user_metadata, \
             json(app_metadata) AS app_metadata, created_at, updated_at, last_prompted_at"
        }
        Flavour::Postgres => {
            "user_id, login_count, first_login_at, last_login_at, last_ip, last_user_agent, \
             email, name, user_metadata, app_metadata, created_at, updated_at, last_prompted_at"
        }
    }
}
/// Columns selected for a question-set version everywhere.
pub const VERSION_COLUMNS: &str =
    "slug, version, status, definition, source, created_at, published_at";

#[derive(sqlx::FromRow)]
pub struct UserRow {
    user_id: String,
    login_count: i64,
    first_login_at: DateTime<Utc>,
    last_login_at: DateTime<Utc>,
    last_ip: Option<String>,
    last_user_agent: Option<String>,
    email: Option<String>,
    name: Option<String>,
    user_metadata: Json<Value>,
    app_metadata: Json<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_prompted_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            user_id: r.user_id,
            login_count: r.login_count,
            first_login_at: r.first_login_at,
            last_login_at: r.last_login_at,
            last_ip: r.last_ip,
            last_user_agent: r.last_user_agent,
            email: r.email,
            name: r.name,
            user_metadata: r.user_metadata.0,
            app_metadata: r.app_metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_prompted_at: r.last_prompted_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct ReceiptRow {
    user_id: String,
    login_count: i64,
    first_login_at: DateTime<Utc>,
    last_login_at: DateTime<Utc>,
    signed_up: bool,
}

impl From<ReceiptRow> for LoginReceipt {
    fn from(r: ReceiptRow) -> Self {
        LoginReceipt {
            user_id: r.user_id,
            login_count: r.login_count,
            first_login_at: r.first_login_at,
            last_login_at: r.last_login_at,
            signed_up: r.signed_up,
        }
    }
}

/// A user's row with their prompt outcomes (`user_with_history`'s one query).
#[derive(sqlx::FromRow)]
pub struct UserWithHistoryRow {
    #[sqlx(flatten)]
    user: UserRow,
    /// `[question_set, key, kind, login_count]` per outcome, oldest first.
    history: Json<Value>,
}

impl UserWithHistoryRow {
    pub fn into_parts(self) -> Result<(User, Vec<PromptRecord>), StoreError> {
        Ok((self.user.into(), history_of(self.history.0)?))
    }
}

/// The prompt outcomes of `user_with_history_sql`'s `history` column: `[question_set,
/// key, kind, login_count]` per outcome, oldest first.
pub(in crate::store) fn history_of(column: Value) -> Result<Vec<PromptRecord>, StoreError> {
    let outcomes: Vec<(String, String, String, i64)> = serde_json::from_value(column)
        .map_err(|e| StoreError::Corrupt(format!("prompt history: {e}")))?;
    // Impressions are not outcomes; the query leaves them out.
    Ok(outcomes
        .into_iter()
        .filter_map(|(question_set, key, kind, login_count)| {
            let outcome = match kind.as_str() {
                "answered" => Outcome::Answered,
                "skipped" => Outcome::Skipped,
                "dismissed" => Outcome::Dismissed,
                _ => return None,
            };
            Some(PromptRecord {
                question_set,
                key,
                outcome,
                login_count,
            })
        })
        .collect())
}

/// A user's row with their prompt outcomes and whether one question was shown to them
/// and not answered since (`user_being_asked`'s one query).
#[derive(sqlx::FromRow)]
pub struct AskedUserRow {
    #[sqlx(flatten)]
    with_history: UserWithHistoryRow,
    shown_unanswered: bool,
}

impl AskedUserRow {
    pub fn into_asked(self) -> Result<AskedUser, StoreError> {
        let (user, history) = self.with_history.into_parts()?;
        Ok(AskedUser {
            user,
            history,
            shown_unanswered: self.shown_unanswered,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AnswerRow {
    key: String,
    question_set: String,
    version: i64,
    value: Json<Value>,
    login_count: i64,
    answered_at: DateTime<Utc>,
}

impl From<AnswerRow> for AnswerRecord {
    fn from(r: AnswerRow) -> Self {
        AnswerRecord {
            key: r.key,
            question_set: r.question_set,
            version: r.version,
            value: r.value.0,
            login_count: r.login_count,
            answered_at: r.answered_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct VersionRow {
    slug: String,
    version: i64,
    status: String,
    definition: Json<Value>,
    source: String,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
}

impl From<VersionRow> for QuestionSetVersion {
    fn from(r: VersionRow) -> Self {
        QuestionSetVersion {
            slug: r.slug,
            version: r.version,
            published: r.status == "published",
            definition: r.definition.0,
            source: r.source,
            created_at: r.created_at,
            published_at: r.published_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct SummaryRow {
    slug: String,
    latest_version: i64,
    live_version: Option<i64>,
    updated_at: DateTime<Utc>,
    definition: Json<Value>,
}

impl From<SummaryRow> for QuestionSetSummary {
    fn from(r: SummaryRow) -> Self {
        let definition = r.definition.0;
        QuestionSetSummary {
            title: definition["title"].as_str().unwrap_or_default().to_owned(),
            priority: definition["priority"].as_i64().unwrap_or(0),
            slug: r.slug,
            latest_version: r.latest_version,
            live_version: r.live_version,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct EventCountRow {
    question_set: String,
    key: String,
    kind: String,
    count: i64,
}

impl From<EventCountRow> for PromptEventCount {
    fn from(r: EventCountRow) -> Self {
        PromptEventCount {
            question_set: r.question_set,
            key: r.key,
            kind: r.kind,
            count: r.count,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct AnswerCountRow {
    question_set: String,
    key: String,
    value: Json<Value>,
    count: i64,
}

impl From<AnswerCountRow> for AnswerCount {
    fn from(r: AnswerCountRow) -> Self {
        AnswerCount {
            question_set: r.question_set,
            key: r.key,
            value: r.value.0,
            count: r.count,
        }
    }
}

/// Columns selected for a claimed job.
pub const JOB_COLUMNS: &str = "site_id, id, kind, payload, attempts, max_attempts";
/// Columns selected for a subscription.
pub const SUBSCRIPTION_COLUMNS: &str = "id, url, secret, events, description, enabled, failure_streak, \
     disabled_reason, created_at, updated_at";
/// Columns selected for a delivery.
pub const DELIVERY_COLUMNS: &str = "id, subscription_id, event_type, payload, status, attempts, \
     last_status, last_error, created_at, updated_at, delivered_at";

#[derive(sqlx::FromRow)]
pub struct JobRow {
    site_id: String,
    id: String,
    kind: String,
    payload: Json<Value>,
    attempts: i64,
    max_attempts: i64,
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Self {
        Job {
            site_id: r.site_id,
            id: r.id,
            kind: r.kind,
            payload: r.payload.0,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct JobStateRow {
    id: String,
    kind: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    run_at: DateTime<Utc>,
}

impl From<JobStateRow> for JobState {
    fn from(r: JobStateRow) -> Self {
        JobState {
            id: r.id,
            kind: r.kind,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            run_at: r.run_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct SubscriptionRow {
    id: String,
    url: String,
    secret: String,
    events: Json<Value>,
    description: Option<String>,
    enabled: bool,
    failure_streak: i64,
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StoreError;

    fn try_from(r: SubscriptionRow) -> Result<Self, StoreError> {
        Ok(Subscription {
            events: from_json("webhook_subscriptions.events", r.events)?,
            id: r.id,
            url: r.url,
            secret: r.secret,
            description: r.description,
            enabled: r.enabled,
            failure_streak: r.failure_streak,
            disabled_reason: r.disabled_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    id: String,
    subscription_id: String,
    event_type: String,
    payload: Json<Value>,
    status: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            subscription_id: r.subscription_id,
            event_type: r.event_type,
            payload: r.payload.0,
            status: r.status,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            delivered_at: r.delivered_at,
        }
    }
}
