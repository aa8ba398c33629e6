//! A provider's quotas: a request rate (a token bucket in this process), a daily call
//! budget (counted in the database by the caller), a cache of results by input values,
//! and what a call costs.

use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use sha2::{Digest, Sha256};

use super::{ConfigError, HttpProviderConfig};

/// The highest `rate_per_second` accepted.
const MAX_RATE_PER_SECOND: f64 = 10_000.0;

/// What limits and what a call of one provider costs.
pub struct Quotas {
    /// Calls per second at most, from this process.
    pub rate_per_second: Option<f64>,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Calls per UTC day at most, over the deployment.
    pub daily_budget: Option<u64>,
    /// Whether results are cached by their input values.
    pub cache: bool,
    /// What one call costs.
    pub cost_per_call: Option<f64>,
    /// A hash of what shapes a result (URL, method, body, map): part of every cache key,
    /// so a changed configuration never reads the old one's results.
    pub fingerprint: String,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas")
            .field("rate_per_second", &self.rate_per_second)
            .field("daily_budget", &self.daily_budget)
            .field("cache", &self.cache)
            .field("cost_per_call", &self.cost_per_call)
            .finish_non_exhaustive()
    }
}

impl Quotas {
    /// The quotas of `[enrichment.http.NAME]` (called `label` in messages).
    pub(crate) fn from_config(
        label: &str,
        config: &HttpProviderConfig,
    ) -> Result<Self, ConfigError> {
        let err = |message: &str| ConfigError::new(label, message);
        let limiter = match config.rate_per_second {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 && rate <= MAX_RATE_PER_SECOND => {
                // One call per period, no burst: calls are spread evenly.
                let period = Duration::from_secs_f64(1.0 / rate);
                let quota =
                    Quota::with_period(period).ok_or_else(|| err("rate_per_second is too high"))?;
                Some(DefaultDirectRateLimiter::direct(quota))
            }
            Some(_) => {
                return Err(err(
                    "rate_per_second must be a number above 0 and at most 10000",
                ));
            }
        };
        if config.daily_budget == Some(0) {
            return Err(err("daily_budget must be at least 1"));
        }
        if config
            .cost_per_call
            .is_some_and(|cost| !cost.is_finite() || cost < 0.0)
        {
            return Err(err("cost_per_call must be a number of at least 0"));
        }
        let shape = serde_json::json!({
            "url": config.url, "method": config.method, "body": config.body, "map": config.map,
        });
        let digest = Sha256::digest(shape.to_string().as_bytes());
        Ok(Quotas {
            rate_per_second: config.rate_per_second,
            limiter,
            daily_budget: config.daily_budget,
            cache: config.cache,
            cost_per_call: config.cost_per_call,
            fingerprint: hex::encode(&digest[..8]),
        })
    }

    /// Waits for the rate limit to allow a call, at most `max_wait`; `Err(wait)` when
    /// the next call is further away than that (then the caller puts the job off).
    pub async fn wait_for_rate(&self, max_wait: Duration) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let clock = DefaultClock::default();
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            match limiter.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(clock.now());
                    if tokio::time::Instant::now() + wait > deadline {
                        return Err(wait.max(Duration::from_millis(100)));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HttpProviderConfig {
        HttpProviderConfig {
            url: "https://api.example/{domain}".into(),
            map: [("name".to_owned(), "/name".into())].into(),
            ..HttpProviderConfig::default()
        }
    }

    #[test]
    fn bad_quotas_are_refused_with_their_name() {
        for (change, message) in [
            (
                HttpProviderConfig {
                    rate_per_second: Some(0.0),
                    ..config()
                },
                "rate_per_second",
            ),
            (
                HttpProviderConfig {
                    rate_per_second: Some(f64::NAN),
                    ..config()
                },
                "rate_per_second",
            ),
            (
                HttpProviderConfig {
                    daily_budget: Some(0),
                    ..config()
                },
                "daily_budget",
            ),
            (
                HttpProviderConfig {
                    cost_per_call: Some(-1.0),
                    ..config()
                },
                "cost_per_call",
            ),
        ] {
            let error = Quotas::from_config("http.company", &change).unwrap_err();
            assert!(error.to_string().contains(message), "{error}");
        }
    }

    #[test]
    fn the_fingerprint_follows_what_shapes_results() {
        let a = Quotas::from_config("x", &config()).unwrap();
        let same = Quotas::from_config(
            "x",
            &HttpProviderConfig {
                daily_budget: Some(5),
                ..config()
            },
        )
        .unwrap();
        let other = Quotas::from_config(
            "x",
            &HttpProviderConfig {
                url: "https://api.example/v2/{domain}".into(),
                ..config()
            },
        )
        .unwrap();
        assert_eq!(a.fingerprint, same.fingerprint);
        assert_ne!(a.fingerprint, other.fingerprint);
    }

    #[tokio::test]
    async fn the_rate_spaces_calls_and_says_how_long_to_wait() {
        let quotas = Quotas::from_config(
            "x",
            &HttpProviderConfig {
                rate_per_second: Some(20.0),
                ..config()
            },
        )
        .unwrap();
        let start = std::time::Instant::now();
        for _ in 0..5 {
            quotas.wait_for_rate(Duration::from_secs(1)).await.unwrap();
        }
        // Five calls at 20/s: the first at once, then one every 50 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(190),
            "{:?}",
            start.elapsed()
        );
        let slow = Quotas::from_config(
            "x",
            &HttpProviderConfig {
                rate_per_second: Some(0.1),
                ..config()
            },
        )
        .unwrap();
        slow.wait_for_rate(Duration::ZERO).await.unwrap();
        let wait = slow
            .wait_for_rate(Duration::from_millis(10))
            .await
            .unwrap_err();
        assert!(wait > Duration::from_secs(9), "{wait:?}");
    }
}
