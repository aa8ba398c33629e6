//! A provider call under its quotas: a fresh cached result first (no call), then the
//! rate limit (wait a little, or put the job off), then the daily budget (taken in the
//! database, so it holds across restarts and replicas; when spent the job waits for the
//! next UTC day). Every outcome is counted per site and day and in the metrics.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Enrichment;
use crate::app::JobError;
use crate::model::enrichment::day_key;
use crate::model::{CachedResult, UsageEvent, now};
use crate::providers::{Lookup, Provider, ProviderError, Subject};

/// The longest a job waits in its slot for the rate limit; beyond it, it is put off.
const MAX_RATE_WAIT: Duration = Duration::from_secs(5);

/// A provider's answer and when it was fetched (earlier than now when cached).
pub(super) struct Fetched {
    pub lookup: Lookup,
    pub fetched_at: DateTime<Utc>,
}

/// Locks by key, so that only one job at a time (in this process) calls a cached
/// provider for the same inputs; the others then find its result in the cache.
#[derive(Default)]
pub(crate) struct InFlight(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// Holds one key of [`InFlight`]; the key is forgotten when nobody else waits for it.
pub(crate) struct InFlightGuard<'a> {
    flights: &'a InFlight,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl InFlight {
    /// Waits until no other holder of `key` is left, then holds it.
    pub(crate) async fn hold(&self, key: String) -> InFlightGuard<'_> {
        let lock = {
            let mut map = self.0.lock().expect("in-flight map poisoned");
            map.entry(key.clone()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        InFlightGuard {
            flights: self,
            key,
            guard: Some(guard),
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.flights.0.lock().expect("in-flight map poisoned");
        drop(self.guard.take());
        // Others clone the lock only under the map's lock: one reference (the map's)
        // left means nobody waits.
        if map
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// The cache key of a result: the provider configuration's fingerprint and the hash
/// of the input values.
fn cache_key(fingerprint: &str, inputs_hash: &str) -> String {
    let digest = Sha256::digest(format!("{fingerprint}\n{inputs_hash}").as_bytes());
    hex::encode(&digest[..16])
}

/// The start of the UTC day after `at`.
pub(crate) fn next_utc_day(at: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = at.date_naive().succ_opt().unwrap_or(at.date_naive());
    tomorrow.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl Enrichment<'_> {
    /// Looks `subject` up with `provider` for `user_id` of `site_id`, obeying its quotas.
    pub(super) async fn fetch(
        &self,
        provider: &dyn Provider,
        site_id: &str,
        user_id: &str,
        subject: &Subject,
        inputs_hash: &str,
    ) -> Result<Fetched, JobError> {
        let name = provider.name();
        let at = now();
        let day = day_key(at.date_naive());
        let quotas = provider.quotas();
        let key = quotas
            .filter(|q| q.cache)
            .map(|q| cache_key(&q.fingerprint, inputs_hash));
        let _in_flight = match &key {
            Some(key) => Some(
                self.app
                    .enrichment_in_flight
                    .hold(format!("{site_id}\n{name}\n{key}"))
                    .await,
            ),
            None => None,
        };
        if let Some(key) = &key {
            let ttl = chrono::Duration::from_std(provider.ttl()).unwrap_or(chrono::Duration::MAX);
            let fresh_after = at
                .checked_sub_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            if let Some(hit) = self
                .app
                .store
                .cached_result(site_id, name, key, fresh_after)
                .await?
            {
                self.count(site_id, name, &day, &UsageEvent::CacheHit, at)
                    .await;
                return Ok(Fetched {
                    lookup: Lookup::from_fields(hit.fields),
                    fetched_at: hit.fetched_at,
                });
            }
        }
        if let Some(quotas) = quotas {
            if let Err(wait) = quotas.wait_for_rate(MAX_RATE_WAIT).await {
                let until = at + chrono::Duration::from_std(wait).unwrap_or_default();
                let rate = quotas.rate_per_second.unwrap_or_default();
                return Err(JobError::Deferred {
                    until,
                    reason: format!("{name}: rate limit of {rate}/s"),
                });
            }
            if let Some(budget) = quotas.daily_budget {
                let budget = i64::try_from(budget).unwrap_or(i64::MAX);
                if !self.app.store.take_budget(name, &day, budget).await? {
                    self.count(site_id, name, &day, &UsageEvent::Deferred, at)
                        .await;
                    return Err(JobError::Deferred {
                        until: next_utc_day(at),
                        reason: format!(
                            "{name}: daily budget of {budget} calls spent; waits for the next UTC day"
                        ),
                    });
                }
            }
            if let Some(cost) = quotas.cost_per_call {
                metrics::counter!("trickle_enrichment_spend_micros_total", "provider" => name.to_owned())
                    .increment((cost * 1_000_000.0).round() as u64);
            }
        }
        match provider.lookup(subject).await {
            Ok(lookup) => {
                self.count(site_id, name, &day, &UsageEvent::Success, at)
                    .await;
                if let Some(key) = &key {
                    let fields = match &lookup {
                        Lookup::Found(fields) => fields.clone(),
                        Lookup::NothingKnown => serde_json::Map::new(),
                    };
                    let cached = CachedResult {
                        fields,
                        fetched_at: at,
                    };
                    // A result not cached costs a call later, never a wrong answer.
                    if let Err(error) = self
                        .app
                        .store
                        .cache_result(site_id, name, key, user_id, &cached)
                        .await
                    {
                        tracing::warn!(provider = name, %error, "caching a result failed");
                    }
                }
                Ok(Fetched {
                    lookup,
                    fetched_at: at,
                })
            }
            Err(error) => {
                let message = error.to_string();
                self.count(site_id, name, &day, &UsageEvent::Failure(message), at)
                    .await;
                Err(match error {
                    ProviderError::Retryable(m) => JobError::Retryable(format!("{name}: {m}")),
                    ProviderError::Permanent(m) => JobError::Permanent(format!("{name}: {m}")),
                })
            }
        }
    }

    /// Counts an event in the metrics and the site's usage (best effort: a count lost
    /// to a database hiccup does not fail the job).
    async fn count(
        &self,
        site_id: &str,
        provider: &str,
        day: &str,
        event: &UsageEvent,
        at: DateTime<Utc>,
    ) {
        let metric = match event {
            UsageEvent::Success => "trickle_enrichment_calls_total",
            UsageEvent::Failure(_) => "trickle_enrichment_failures_total",
            UsageEvent::CacheHit => "trickle_enrichment_cache_hits_total",
            UsageEvent::Deferred => "trickle_enrichment_budget_deferrals_total",
        };
        metrics::counter!(metric, "provider" => provider.to_owned()).increment(1);
        if matches!(event, UsageEvent::Failure(_)) {
            // A failed call is a call too (and costs as much).
            metrics::counter!("trickle_enrichment_calls_total", "provider" => provider.to_owned())
                .increment(1);
        }
        if let Err(error) = self
            .app
            .store
            .record_usage(site_id, provider, day, event, at)
            .await
        {
            tracing::warn!(provider, %error, "counting enrichment usage failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_utc_day_starts_at_midnight() {
        let at: DateTime<Utc> = "2026-05-01T23:59:59Z".parse().unwrap();
        assert_eq!(next_utc_day(at).to_rfc3339(), "2026-05-02T00:00:00+00:00");
        let midnight: DateTime<Utc> = "2026-05-02T00:00:00Z".parse().unwrap();
        assert_eq!(
            next_utc_day(midnight).to_rfc3339(),
            "2026-05-03T00:00:00+00:00"
        );
    }

    #[tokio::test]
    async fn one_holder_of_a_key_at_a_time_and_the_key_is_forgotten_after() {
        use futures::FutureExt;
        let flights = InFlight::default();
        let first = flights.hold("k".into()).await;
        assert!(
            flights.hold("k".into()).now_or_never().is_none(),
            "a second holder of the key waits"
        );
        let other = flights.hold("other".into()).now_or_never();
        assert!(other.is_some(), "another key does not wait");
        drop(other);
        drop(first);
        let second = flights.hold("k".into()).now_or_never();
        assert!(second.is_some(), "free once the first let go");
        drop(second);
        assert!(flights.0.lock().unwrap().is_empty(), "nothing kept");
    }

    #[test]
    fn cache_keys_change_with_the_configuration_and_the_inputs() {
        assert_eq!(cache_key("a", "h"), cache_key("a", "h"));
        assert_ne!(cache_key("a", "h"), cache_key("b", "h"));
        assert_ne!(cache_key("a", "h"), cache_key("a", "i"));
    }
}
