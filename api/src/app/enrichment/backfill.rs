//! Backfills (`trickle enrich`): queue a provider for a site's existing users, those a
//! `where` condition holds for (evaluated as `GET /v1/users?where=` does) and for whom it
//! is due. It only queues; the workers call the provider under its quotas.
//!
//! Resumable: users are examined in id order, a batch at a time, and each batch's jobs
//! are written in the transaction that moves the stored cursor past it. A run that stops
//! anywhere resumes after the last batch it wrote, so no user is queued twice; a job
//! still queued from an earlier run is not doubled either (one queued job per user and
//! provider). A run that finished starts again from the first user, and queues only the
//! users for whom the provider is due again (a result expired or inputs changed).

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Enrichment, due};
use crate::error::{Error, Result};
use crate::model::{BackfillState, Site, now};
use crate::questions::{Condition, parse_condition_json};

/// Users examined per transaction.
const BATCH: u32 = 500;

/// How far a backfill has got, after each batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillProgress {
    /// Users examined, over this run and the interrupted runs it resumes.
    pub scanned: i64,
    /// The site's users (when the run started).
    pub total: i64,
    /// Jobs queued, over this run and the runs it resumes.
    pub queued: i64,
    /// Whether this run resumed an interrupted one.
    pub resumed: bool,
    /// Whether every user has been examined.
    pub finished: bool,
}

/// A backfill's `where` condition, parsed, and the hash that names its runs.
pub struct BackfillFilter {
    condition: Option<Condition>,
    hash: String,
}

impl BackfillFilter {
    /// Parses a `where` condition in its JSON form (as `GET /v1/users?where=` takes it);
    /// `None` or an empty text: every user.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        let condition = match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => {
                let json: Value = serde_json::from_str(text).map_err(|e| {
                    Error::invalid("invalid_where", "where", format!("where is not JSON: {e}"))
                })?;
                let condition = parse_condition_json(&json)
                    .map_err(|m| Error::invalid("invalid_where", "where", m))?;
                Some((condition, json.to_string()))
            }
        };
        let canonical = condition.as_ref().map_or(String::new(), |(_, c)| c.clone());
        let hash = hex::encode(&Sha256::digest(canonical.as_bytes())[..16]);
        Ok(BackfillFilter {
            condition: condition.map(|(c, _)| c),
            hash,
        })
    }
}

impl Enrichment<'_> {
    /// Queues `provider` for `site`'s users that `filter` holds for and for whom it is
    /// due, resuming an interrupted run of the same provider and filter unless
    /// `restart`; calls `progress` after each batch.
    pub async fn backfill(
        &self,
        site: &Site,
        provider: &str,
        filter: &BackfillFilter,
        restart: bool,
        progress: &mut (dyn FnMut(&BackfillProgress) + Send),
    ) -> Result<BackfillProgress> {
        let Some(provider) = self
            .app
            .providers
            .iter()
            .find(|p| p.name() == provider)
            .cloned()
        else {
            let names: Vec<&str> = self.app.providers.iter().map(|p| p.name()).collect();
            return Err(Error::invalid(
                "unknown_provider",
                "provider",
                format!(
                    "no provider `{provider}` is configured (configured: {})",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        let name = provider.name();
        let site_id = &site.site_id;
        let earlier = if restart {
            None
        } else {
            self.app.store.backfill(site_id, name, &filter.hash).await?
        };
        let resumed = earlier.as_ref().is_some_and(|s| s.finished_at.is_none());
        let mut state = match earlier {
            Some(state) if state.finished_at.is_none() => state,
            _ => BackfillState {
                cursor: None,
                scanned: 0,
                queued: 0,
                started_at: now(),
                finished_at: None,
            },
        };
        // The filter is evaluated in the database, as `GET /v1/users?where=` does.
        let condition = filter.condition.as_ref();
        let total = self
            .app
            .store
            .count_users(site_id, condition, now())
            .await?;
        loop {
            let at = now();
            let batch = self
                .app
                .store
                .list_users(site_id, condition, at, state.cursor.as_deref(), BATCH)
                .await?;
            let finished = batch.len() < BATCH as usize;
            let mut jobs = Vec::new();
            for user in &batch {
                state.scanned += 1;
                if due(provider.as_ref(), user, at).is_some() {
                    jobs.push(self.job(&user.user_id, name));
                }
            }
            state.queued += jobs.len() as i64;
            if let Some(last) = batch.last() {
                state.cursor = Some(last.user_id.clone());
            }
            if finished {
                state.cursor = None;
                state.finished_at = Some(at);
            }
            self.app
                .store
                .save_backfill(site_id, name, &filter.hash, &state, &jobs)
                .await?;
            if !jobs.is_empty() {
                self.app.jobs_enqueued.notify_one();
            }
            let report = BackfillProgress {
                scanned: state.scanned,
                total: total.max(state.scanned),
                queued: state.queued,
                resumed,
                finished,
            };
            progress(&report);
            if finished {
                return Ok(report);
            }
        }
    }
}
