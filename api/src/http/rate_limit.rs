//! Widget rate limiting: a token bucket per (site, client IP), via `governor`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;

use crate::config::RateLimit;
use crate::error::Error;

/// Buckets for the widget endpoints.
pub struct WidgetLimiter {
    buckets: DefaultKeyedRateLimiter<(String, IpAddr)>,
    clock: DefaultClock,
}

impl WidgetLimiter {
    /// Buckets refilled at `widget_per_minute`, holding `widget_burst` at most.
    pub fn new(config: &RateLimit) -> Self {
        let per_minute = NonZeroU32::new(config.widget_per_minute.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(config.widget_burst.max(1)).expect("non-zero");
        WidgetLimiter {
            buckets: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes a token, or says how long to wait.
    pub fn check(&self, site_id: &str, ip: IpAddr) -> Result<(), Error> {
        self.buckets
            .check_key(&(site_id.to_owned(), ip))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                Error::RateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                }
            })
    }

    /// Forgets full buckets, so memory follows active clients only.
    pub fn forget_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}
