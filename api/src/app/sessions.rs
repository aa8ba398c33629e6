//! Console sign-in and server-side sessions.
//!
//! A session's token (32 random bytes, base64url) lives only in the admin's cookie; the
//! database keeps its SHA-256, so a copy of the table yields no usable session. Sessions
//! end at sign-out, at "sign out everywhere" (every session of the admin) or after
//! `[console] session_hours`. Sign-in is rate-limited per client IP and per e-mail, and
//! an unknown e-mail costs the same argon2 check as a known one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use super::App;
use super::admins::{MAX_PASSWORD_BYTES, normalise_email, verify_password_or_dummy};
use super::audit::{Actor, Change};
use crate::config::ConsoleSettings;
use crate::error::{Error, Result};
use crate::model::{Admin, AdminSession, now};

/// A session is marked as used at most this often, in seconds (saves a write per page).
const TOUCH_EVERY_SECS: i64 = 60;
/// Distinct e-mails remembered by the limiter before idle ones are forgotten.
const EMAILS_REMEMBERED: usize = 10_000;

/// Token buckets for sign-in attempts: per client IP, then per e-mail.
pub struct SignInLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn per_minute(attempts: u32) -> Quota {
    let n = NonZeroU32::new(attempts.max(1)).expect("non-zero");
    Quota::per_minute(n).allow_burst(n)
}

impl SignInLimiter {
    /// Buckets as configured in `[console]`.
    pub fn new(settings: &ConsoleSettings) -> Self {
        SignInLimiter {
            per_ip: governor::RateLimiter::keyed(per_minute(settings.sign_in_ip_per_minute)),
            per_email: governor::RateLimiter::keyed(per_minute(settings.sign_in_email_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    fn check(&self, ip: IpAddr, email: &str) -> Result<()> {
        self.take(&self.per_ip, &ip)?;
        if self.per_email.len() > EMAILS_REMEMBERED {
            self.per_email.retain_recent();
            self.per_ip.retain_recent();
        }
        self.take(&self.per_email, &email.to_owned())
    }

    fn take<K: Hash + Eq + Clone>(
        &self,
        buckets: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<()> {
        buckets
            .check_key(key)
            .map_err(|not_until| Error::RateLimited {
                retry_after_secs: not_until.wait_time_from(self.clock.now()).as_secs() + 1,
            })
    }
}

/// SHA-256 of a session token, hex: what the database keeps.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh session token: 32 random bytes, base64url.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a cookie value could be a token at all (43 base64url characters).
fn looks_like_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A successful sign-in: the token for the cookie (shown to no one else) and the admin.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub admin: Admin,
    pub expires_at: DateTime<Utc>,
    /// Seconds the session lasts (the cookie's `Max-Age`).
    pub lasts_secs: i64,
}

/// Sign-in, the current session, sign-out.
pub struct Sessions<'a> {
    pub(crate) app: &'a App,
}

impl Sessions<'_> {
    /// Checks the e-mail and password and opens a session. Wrong e-mail and wrong
    /// password are the same refusal, after the same work.
    pub async fn sign_in(&self, email: &str, password: &str, client: IpAddr) -> Result<SignedIn> {
        let refused = || Error::Unauthorized {
            code: "wrong_credentials",
            message: "wrong e-mail or password".into(),
        };
        let email = normalise_email(email).map_err(|_| refused())?;
        self.app.sign_in_limiter.check(client, &email)?;
        let found = self.app.store.admin_by_email(&email).await?;
        // An over-long password is checked as empty (never a match) at the usual cost.
        let password = if password.len() > MAX_PASSWORD_BYTES {
            ""
        } else {
            password
        };
        let hash = found.as_ref().map(|(_, hash)| hash.clone());
        let matches = verify_password_or_dummy(password.to_owned(), hash).await;
        let admin = match found {
            Some((admin, _)) if matches => admin,
            _ => return Err(refused()),
        };
        let at = now();
        let lasts = chrono::Duration::hours(i64::from(self.app.console.session_hours));
        self.app.store.purge_expired_sessions(at).await?;
        let token = new_token();
        let session = AdminSession {
            admin_id: admin.admin_id.clone(),
            created_at: at,
            last_seen_at: at,
            expires_at: at + lasts,
        };
        self.app
            .store
            .insert_session(&hash_token(&token), &session)
            .await?;
        let change = Change {
            action: "admin.sign_in",
            site_id: None,
            subject: &admin.email,
            detail: &format!("from {client}"),
        };
        self.app
            .audit()
            .record(&Actor::admin(&admin), change)
            .await?;
        Ok(SignedIn {
            token,
            admin,
            expires_at: session.expires_at,
            lasts_secs: lasts.num_seconds(),
        })
    }

    /// The admin whose live session this token is, if any.
    pub async fn current(&self, token: &str) -> Result<Option<(AdminSession, Admin)>> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let hash = hash_token(token);
        let at = now();
        let found = self.app.store.session(&hash, at).await?;
        if let Some((session, _)) = &found
            && (at - session.last_seen_at).num_seconds() > TOUCH_EVERY_SECS
        {
            self.app.store.touch_session(&hash, at).await?;
        }
        Ok(found)
    }

    /// Ends this session.
    pub async fn sign_out(&self, token: &str, admin: &Admin) -> Result<()> {
        self.app.store.delete_session(&hash_token(token)).await?;
        let change = Change {
            action: "admin.sign_out",
            site_id: None,
            subject: &admin.email,
            detail: "",
        };
        self.app.audit().record(&Actor::admin(admin), change).await
    }

    /// Ends every session of the admin, on every browser; how many ended.
    pub async fn sign_out_everywhere(&self, admin: &Admin) -> Result<u64> {
        let ended = self.app.store.delete_sessions_of(&admin.admin_id).await?;
        let change = Change {
            action: "admin.sign_out_everywhere",
            site_id: None,
            subject: &admin.email,
            detail: &format!("{ended} session(s) ended"),
        };
        self.app
            .audit()
            .record(&Actor::admin(admin), change)
            .await?;
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(hash_token(&a).len(), 64);
        assert!(!hash_token(&a).contains(&a));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&format!("{}!", &a[..42])));
    }

    #[test]
    fn the_limiter_counts_per_ip_and_per_email() {
        let limiter = SignInLimiter::new(&ConsoleSettings {
            session_hours: 1,
            sign_in_ip_per_minute: 3,
            sign_in_email_per_minute: 2,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.check(ip, "a@example.com").is_ok());
        assert!(limiter.check(other, "a@example.com").is_ok());
        // The e-mail's bucket is empty whichever address asks.
        assert!(matches!(
            limiter.check(other, "a@example.com"),
            Err(Error::RateLimited { .. })
        ));
        assert!(limiter.check(ip, "b@example.com").is_ok());
        assert!(limiter.check(ip, "c@example.com").is_ok());
        // The first address has used its three, whatever the e-mail.
        assert!(limiter.check(ip, "d@example.com").is_err());
    }
}
