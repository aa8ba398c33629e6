//! Records: what Trickle stores and returns, with the checks a stored value must pass.
//!
//! The bottom layer with the pure engine (`questions`): it imports nothing else of
//! the crate, and everything above imports it.

pub mod admin;
pub mod enrichment;
pub mod history;
pub mod idp;
pub mod insights;
pub mod job;
pub mod login;
pub mod profile_view;
pub mod prompt_event;
pub mod question_set;
pub mod results;
pub mod segment;
pub mod site;
pub mod spreadsheet;
pub mod stats;
pub mod user;
pub mod users_csv;
pub mod value_sources;
pub mod webhook;

use chrono::{DateTime, SubsecRound, Utc};

pub use admin::{Admin, AdminChange, AdminOverview, AdminSession, AuditEntry, NewAuditEntry, Role};
pub use enrichment::{BackfillState, CachedResult, ProviderUsage, UsageEvent};
pub use job::{Job, JobState, NewJob};
pub use login::{LoginReceipt, NewLogin};
pub use profile_view::ProfileView;
pub use prompt_event::{NewAnswer, PromptEventKind};
pub use question_set::{
    AnswerProbe, PublishOutcome, PublishedSets, QuestionSetHistory, QuestionSetSummary,
    QuestionSetVersion,
};
pub use site::{Site, SiteKeys, SitePatch, SiteView, Theme, WidgetSettings};
pub use stats::{AnswerCount, PromptEventCount};
pub use user::{
    AnswerRecord, EnrichmentRecord, MetadataLimits, User, UserPage, UserPatch, UserQuery,
};
pub use webhook::{AttemptOutcome, CreatedSubscription, Delivery, NewSubscription, Subscription};

/// Serialised size of a JSON value, for the size limits.
pub fn json_size(value: &serde_json::Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |v| v.len())
}

/// Now, at the microsecond precision both databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
