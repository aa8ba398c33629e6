//! A user's history of logins and prompt events (the profile page and
//! `GET /v1/users/{id}/history`; implemented once in `sql/user_history.rs`).

use async_trait::async_trait;

use super::StoreError;
use crate::model::history::{HistoryEvent, HistoryPosition};

/// A user's history: logins and prompt events.
#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Up to `limit` of the user's logins and prompt events, newest first (in
    /// [`HistoryPosition`] order), older than `before` (from the newest without it).
    async fn user_history(
        &self,
        site_id: &str,
        user_id: &str,
        before: Option<&HistoryPosition>,
        limit: u32,
    ) -> Result<Vec<HistoryEvent>, StoreError>;
}
