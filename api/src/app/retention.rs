//! Retention: the worker deletes history older than the operator's `[retention]` settings
//! (login events, finished jobs, finished webhook deliveries), in bounded batches, at
//! most once per [`RetentionSettings::PURGE_EVERY`] per process.

use chrono::{DateTime, Utc};
use std::time::Instant;

use super::App;
use crate::config::RetentionSettings;
use crate::error::Result;
use crate::model::now;

/// Rows deleted per statement, so a purge never holds SQLite's writer for long.
const BATCH: u32 = 1000;

/// How many rows one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub login_events: u64,
    pub jobs: u64,
    pub deliveries: u64,
}

/// The retention purge.
pub struct Retention<'a> {
    pub(crate) app: &'a App,
}

/// The cut-off for a retention in days; `None` for 0 (kept forever).
fn cutoff(days: u32, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (days > 0).then(|| at - chrono::Duration::days(i64::from(days)))
}

impl Retention<'_> {
    /// Purges when the last purge of this process is older than `PURGE_EVERY`
    /// (the worker's housekeeping calls it often); logs failures.
    pub async fn purge_if_due(&self) {
        {
            let mut last = self.app.last_purge.lock().expect("not poisoned");
            if last.is_some_and(|at| at.elapsed() < RetentionSettings::PURGE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        match self.purge(now()).await {
            Ok(purged) if purged != Purged::default() => {
                tracing::info!(?purged, "retention purge");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention purge failed"),
        }
    }

    /// Deletes everything older than the settings allow, as of `at`.
    pub async fn purge(&self, at: DateTime<Utc>) -> Result<Purged> {
        let settings = &self.app.retention_settings;
        let store = &self.app.store;
        let mut purged = Purged::default();
        if let Some(before) = cutoff(settings.login_events_days, at) {
            purged.login_events = drain(|| store.purge_login_events(before, BATCH)).await?;
        }
        if let Some(before) = cutoff(settings.jobs_days, at) {
            purged.jobs = drain(|| store.purge_finished_jobs(before, BATCH)).await?;
        }
        if let Some(before) = cutoff(settings.deliveries_days, at) {
            purged.deliveries = drain(|| store.purge_finished_deliveries(before, BATCH)).await?;
        }
        Ok(purged)
    }
}

/// Repeats a batch purge until a batch comes back short; the total.
async fn drain<F, Fut>(batch: F) -> Result<u64>
where
    F: Fn() -> Fut,
    Fut: Future<Output = std::result::Result<u64, crate::store::StoreError>>,
{
    let mut total = 0;
    loop {
        let deleted = batch().await?;
        total += deleted;
        if deleted < u64::from(BATCH) {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_forever() {
        let at: DateTime<Utc> = "2026-05-10T00:00:00Z".parse().unwrap();
        assert_eq!(cutoff(0, at), None);
        assert_eq!(cutoff(7, at), Some("2026-05-03T00:00:00Z".parse().unwrap()));
    }
}
