//! Widget rate limiting, via `governor`: a token bucket per client IP, checked by
//! [`limit_per_ip`] before anything else on the widget routes (CORS preflights
//! included, so an unauthenticated caller costs no database work past its budget), and
//! a bucket per (site, client IP), checked once the publishable key is known.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use super::AppState;
use super::error::ApiError;
use crate::client_ip::ClientIp;
use crate::config::RateLimit;
use crate::error::Error;

/// Buckets for the widget endpoints.
pub struct WidgetLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_site_and_ip: DefaultKeyedRateLimiter<(String, IpAddr)>,
    clock: DefaultClock,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
    let burst = NonZeroU32::new(burst.max(1)).expect("non-zero");
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl WidgetLimiter {
    /// Buckets refilled at `ip_per_minute` and `widget_per_minute`, holding `ip_burst`
    /// and `widget_burst` at most.
    pub fn new(config: &RateLimit) -> Self {
        WidgetLimiter {
            per_ip: governor::RateLimiter::keyed(quota(config.ip_per_minute, config.ip_burst)),
            per_site_and_ip: governor::RateLimiter::keyed(quota(
                config.widget_per_minute,
                config.widget_burst,
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Takes a token from the client's own bucket, or says how long to wait.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Error> {
        self.take(&self.per_ip, &ip)
    }

    /// Takes a token from the client's bucket for one site, or says how long to wait.
    pub fn check(&self, site_id: &str, ip: IpAddr) -> Result<(), Error> {
        self.take(&self.per_site_and_ip, &(site_id.to_owned(), ip))
    }

    fn take<K: Hash + Eq + Clone>(
        &self,
        buckets: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), Error> {
        buckets.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            }
        })
    }

    /// Forgets full buckets, so memory follows active clients only.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_site_and_ip.retain_recent();
        self.per_site_and_ip.shrink_to_fit();
    }
}

/// Middleware: works out the client (kept in the request for the extractors) and
/// refuses it with a 429 once its per-IP budget is spent, before any other work.
pub async fn limit_per_ip(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientIp::of(
        request.headers(),
        request.extensions(),
        &state.trusted_proxies,
    );
    if let Err(refusal) = state.limiter.check_ip(client.0) {
        return ApiError(refusal).into_response();
    }
    request.extensions_mut().insert(client);
    next.run(request).await
}
