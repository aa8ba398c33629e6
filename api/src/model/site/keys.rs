//! A site's keys: the secret ones shown once and stored hashed, the identity secret
//! that signs user hashes, and their rotation with a grace period for the old ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// What `Debug` prints in place of a secret.
pub const REDACTED: &str = "***";

/// A key replaced by a rotation: still accepted until `expires_at`, refused after.
#[derive(Clone, PartialEq, Eq)]
pub struct Retired {
    pub value: String,
    pub expires_at: DateTime<Utc>,
}

impl Retired {
    /// Whether the key is still accepted at `at`.
    pub fn accepted_at(&self, at: DateTime<Utc>) -> bool {
        at < self.expires_at
    }

    /// Whether this is `value` and still accepted at `at`.
    pub fn accepts(&self, value: &str, at: DateTime<Utc>) -> bool {
        self.value == value && self.accepted_at(at)
    }
}

impl fmt::Debug for Retired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retired")
            .field("value", &REDACTED)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The keys user hashes are checked with: the current identity secret and, for the
/// grace period after a rotation, the previous one.
#[derive(Clone)]
pub struct IdentitySecret {
    pub current: String,
    pub previous: Option<Retired>,
}

impl IdentitySecret {
    /// A secret with no predecessor.
    pub fn new(current: impl Into<String>) -> Self {
        IdentitySecret {
            current: current.into(),
            previous: None,
        }
    }

    /// The secrets accepted at `at`, current first.
    pub fn accepted_at(&self, at: DateTime<Utc>) -> impl Iterator<Item = &str> {
        let previous = self.previous.as_ref().filter(|p| p.accepted_at(at));
        std::iter::once(self.current.as_str()).chain(previous.map(|p| p.value.as_str()))
    }
}

impl fmt::Debug for IdentitySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySecret")
            .field("current", &REDACTED)
            .field("previous", &self.previous)
            .finish()
    }
}

/// What `trickle site create` prints: the only time the secret key is shown. `Debug`
/// shows neither secret.
#[derive(Clone, Serialize)]
pub struct SiteKeys {
    pub site_id: String,
    pub name: String,
    pub publishable_key: String,
    pub secret_key: String,
    pub identity_secret: String,
    pub allowed_origins: Vec<String>,
}

impl fmt::Debug for SiteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteKeys")
            .field("site_id", &self.site_id)
            .field("name", &self.name)
            .field("publishable_key", &self.publishable_key)
            .field("secret_key", &REDACTED)
            .field("identity_secret", &REDACTED)
            .field("allowed_origins", &self.allowed_origins)
            .finish()
    }
}

/// One of a site's three credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKey {
    /// `pk_…`, embedded in pages.
    PublishableKey,
    /// `sk_…`, the backend's bearer key.
    SecretKey,
    /// The HMAC key of user hashes.
    IdentitySecret,
}

impl SiteKey {
    /// The key's name in the API: `publishable_key`, `secret_key` or `identity_secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKey::PublishableKey => "publishable_key",
            SiteKey::SecretKey => "secret_key",
            SiteKey::IdentitySecret => "identity_secret",
        }
    }
}

/// `POST /v1/site/rotate-keys`: which keys to replace, and for how long the old ones
/// stay valid.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotationRequest {
    /// The keys to replace (at least one).
    #[schema(min_items = 1)]
    pub keys: Vec<SiteKey>,
    /// Seconds the replaced keys stay valid (default: the server's `key_grace_seconds`;
    /// 0 refuses them at once; at most 30 days).
    #[schema(maximum = 2592000)]
    pub grace_seconds: Option<u64>,
}

/// What a rotation writes: the new values (`None`: kept) and when the replaced ones expire.
#[derive(Clone)]
pub struct KeyRotation {
    pub publishable_key: Option<String>,
    pub secret_key_hash: Option<String>,
    pub identity_secret: Option<String>,
    pub previous_expire_at: DateTime<Utc>,
}

impl fmt::Debug for KeyRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRotation")
            .field("publishable_key", &self.publishable_key)
            .field(
                "secret_key_hash",
                &self.secret_key_hash.as_ref().map(|_| REDACTED),
            )
            .field(
                "identity_secret",
                &self.identity_secret.as_ref().map(|_| REDACTED),
            )
            .field("previous_expire_at", &self.previous_expire_at)
            .finish()
    }
}

/// The new keys, shown once. Keys not rotated are absent, except the publishable key,
/// which is always the current one.
#[derive(Clone, Serialize, ToSchema)]
pub struct RotatedKeys {
    pub site_id: String,
    /// The keys replaced.
    pub rotated: Vec<SiteKey>,
    /// The current publishable key (new if it was rotated).
    pub publishable_key: String,
    /// The new secret key, if it was rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// The new identity secret, if it was rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    /// Until when the replaced keys are still accepted.
    pub previous_valid_until: DateTime<Utc>,
}

impl fmt::Debug for RotatedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatedKeys")
            .field("site_id", &self.site_id)
            .field("rotated", &self.rotated)
            .field("publishable_key", &self.publishable_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| REDACTED))
            .field(
                "identity_secret",
                &self.identity_secret.as_ref().map(|_| REDACTED),
            )
            .field("previous_valid_until", &self.previous_valid_until)
            .finish()
    }
}
