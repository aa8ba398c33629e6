//! Sites (tenants), their keys and widget settings.
//!
//! Keys are random; the secret key is stored only as its SHA-256 (it has 190 bits of
//! entropy, so a fast hash is enough and lets us look it up by hash). User hashes are
//! HMAC-SHA256(identity secret, user id), verified in constant time.
//!
//! Keys rotate: a rotation replaces the keys it names and keeps each replaced one valid
//! for a grace period, so live pages (which embed the publishable key and user hashes)
//! keep working while the site's backend is redeployed with the new keys.

use hmac::{Hmac, Mac};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::audit::Actor;
use super::{App, unwrap_shared};
use crate::error::{Error, Result};
use crate::model::site::{
    IdentitySecret, KeyRotation, KeyRotationRequest, RotatedKeys, SiteKey, validate_origin,
};
use crate::model::{Site, SiteKeys, SitePatch, WidgetSettings, now};
use crate::store::StoreError;

/// The longest grace period a rotation may ask for.
pub const MAX_KEY_GRACE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

fn random_token(prefix: &str, len: usize) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), len)
    )
}

/// Fresh keys for a new site.
pub fn generate_keys(name: &str, allowed_origins: Vec<String>) -> SiteKeys {
    SiteKeys {
        site_id: random_token("site_", 16),
        name: name.to_owned(),
        publishable_key: random_token("pk_", 24),
        secret_key: random_token("sk_", 32),
        identity_secret: random_token("", 40),
        allowed_origins,
    }
}

/// SHA-256 of a secret key, hex: what the database keeps.
pub fn hash_secret_key(secret_key: &str) -> String {
    hex::encode(Sha256::digest(secret_key.as_bytes()))
}

/// The user hash a site's backend puts in the script tag.
pub fn user_hash(identity_secret: &str, user_id: &str) -> String {
    hex::encode(
        user_hash_mac(identity_secret, user_id)
            .finalize()
            .into_bytes(),
    )
}

/// Whether `given_hex` is the user's hash under the site's identity secret, or under the
/// one a rotation replaced while its grace period lasts; constant time in the hash bytes.
pub fn verify_user_hash(identity_secret: &IdentitySecret, user_id: &str, given_hex: &str) -> bool {
    let Ok(given) = hex::decode(given_hex) else {
        return false;
    };
    identity_secret
        .accepted_at(now())
        .any(|secret| user_hash_mac(secret, user_id).verify_slice(&given).is_ok())
}

fn user_hash_mac(identity_secret: &str, user_id: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(identity_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(user_id.as_bytes());
    mac
}

/// `current` with a merge patch applied (as `PATCH /v1/site` takes it for
/// `widget_settings`), every field checked; nothing is stored. The console's live
/// preview shows settings checked here before they are saved.
pub fn checked_settings(
    current: &WidgetSettings,
    change: &serde_json::Value,
) -> Result<WidgetSettings> {
    if !change.is_object() {
        return Err(Error::invalid(
            "invalid_field",
            "widget_settings",
            "must be an object",
        ));
    }
    let mut settings = serde_json::to_value(current).expect("settings serialise");
    json_patch::merge(&mut settings, change);
    let settings: WidgetSettings = serde_json::from_value(settings)
        .map_err(|e| Error::invalid("invalid_field", "widget_settings", e.to_string()))?;
    settings
        .validate()
        .map_err(|(field, message)| Error::invalid("invalid_field", &field, message))?;
    Ok(settings)
}

fn check_origins(origins: &[String]) -> Result<()> {
    if origins.len() > 100 {
        return Err(Error::invalid(
            "invalid_origin",
            "allowed_origins",
            "at most 100 origins",
        ));
    }
    for (i, origin) in origins.iter().enumerate() {
        validate_origin(origin)
            .map_err(|m| Error::invalid("invalid_origin", &format!("allowed_origins[{i}]"), m))?;
    }
    Ok(())
}

/// Sites (tenants): keys, settings, user hashes.
pub struct Sites<'a> {
    pub(crate) app: &'a App,
}

impl Sites<'_> {
    /// Creates a site with fresh keys; the returned secret key is never shown again.
    pub async fn create(&self, name: &str, allowed_origins: Vec<String>) -> Result<SiteKeys> {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Error::invalid(
                "invalid_field",
                "name",
                "name must be 1 to 200 bytes",
            ));
        }
        check_origins(&allowed_origins)?;
        let keys = generate_keys(name, allowed_origins);
        let site = Site {
            site_id: keys.site_id.clone(),
            name: keys.name.clone(),
            publishable_key: keys.publishable_key.clone(),
            identity_secret: IdentitySecret::new(keys.identity_secret.clone()),
            previous_publishable_key: None,
            previous_secret_key_hash: None,
            allowed_origins: keys.allowed_origins.clone(),
            widget_settings: WidgetSettings::default(),
            created_at: now(),
        };
        self.app
            .store
            .insert_site(&site, &hash_secret_key(&keys.secret_key))
            .await?;
        // Its origins join the CORS set, here and on other replicas.
        self.app.invalidate_site(&site.site_id).await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        Ok(keys)
    }

    /// A site by id (CLI and operators).
    pub async fn get(&self, site_id: &str) -> Result<Site> {
        self.app
            .store
            .site(site_id)
            .await?
            .ok_or(Error::NotFound { what: "site" })
    }

    /// Every site, by name (CLI and operators).
    pub async fn all(&self) -> Result<Vec<Site>> {
        Ok(self.app.store.all_sites().await?)
    }

    /// The site a secret key (`sk_…`) belongs to: its current key, or the one a rotation
    /// replaced while its grace period lasts.
    pub async fn by_secret_key(&self, secret_key: &str) -> Result<Arc<Site>> {
        let hash = hash_secret_key(secret_key);
        let cache_key = format!("sk:{hash}");
        let store = self.app.store.clone();
        let owned = hash.clone();
        let lookup = async move { store.site_by_secret_key_hash(&owned).await };
        let refusal = ("invalid_secret_key", "the secret key is not valid");
        let site = self.cached_by_key(cache_key, lookup, refusal).await?;
        if site
            .previous_secret_key_hash
            .as_ref()
            .is_some_and(|p| p.value == hash && !p.accepted_at(now()))
        {
            return Err(expired("expired_secret_key", "secret key"));
        }
        Ok(site)
    }

    /// The site a publishable key (`pk_…`) belongs to: its current key, or the one a
    /// rotation replaced while its grace period lasts.
    pub async fn by_publishable_key(&self, key: &str) -> Result<Arc<Site>> {
        let cache_key = format!("pk:{key}");
        let store = self.app.store.clone();
        let owned = key.to_owned();
        let lookup = async move { store.site_by_publishable_key(&owned).await };
        let refusal = (
            "invalid_publishable_key",
            "the publishable key is not valid",
        );
        let site = self.cached_by_key(cache_key, lookup, refusal).await?;
        let accepted = site.publishable_key == key
            || site
                .previous_publishable_key
                .as_ref()
                .is_some_and(|p| p.accepts(key, now()));
        if !accepted {
            return Err(expired("expired_publishable_key", "publishable key"));
        }
        Ok(site)
    }

    /// A site found by one of its keys through the cache (a miss runs `lookup`); no
    /// such site is `Unauthorized` with `refusal`'s code and message, and is remembered
    /// (bounded, for the cache TTL) so that repeating an unknown key costs no query.
    async fn cached_by_key(
        &self,
        cache_key: String,
        lookup: impl Future<Output = Result<Option<Site>, StoreError>> + Send + 'static,
        (code, message): (&'static str, &'static str),
    ) -> Result<Arc<Site>> {
        let refusal = move || Error::Unauthorized {
            code,
            message: message.into(),
        };
        if self.app.unknown_keys.contains_key(&cache_key) {
            return Err(refusal());
        }
        let found = self
            .app
            .sites_by_key
            .try_get_with(cache_key.clone(), async move {
                lookup.await?.map(Arc::new).ok_or_else(refusal)
            })
            .await
            .map_err(unwrap_shared);
        if matches!(found, Err(Error::Unauthorized { .. })) {
            self.app.unknown_keys.insert(cache_key, ()).await;
        }
        found
    }

    /// Whether some site allows this origin (CORS preflights carry no key). Answered
    /// from the set of all sites' origins in memory, reloaded when a site changes.
    pub async fn origin_allowed_anywhere(&self, origin: &str) -> Result<bool> {
        let store = self.app.store.clone();
        let origins = self
            .app
            .allowed_origins
            .try_get_with((), async move {
                let all = store.allowed_origins_of_all_sites().await?;
                Ok::<_, Error>(Arc::new(all.into_iter().collect::<HashSet<_>>()))
            })
            .await
            .map_err(unwrap_shared)?;
        Ok(origins.contains(origin))
    }

    /// Replaces the keys the request names and returns them (the only time they are
    /// shown). The replaced keys stay valid for the grace period (the request's, else
    /// the deployment's default); a key replaced earlier and still in its grace period
    /// is dropped at once. `used_secret_key` is the key the caller authenticated with,
    /// if any: one that is itself being retired may not rotate.
    pub async fn rotate_keys(
        &self,
        by: &Actor,
        site: &Site,
        used_secret_key: Option<&str>,
        request: KeyRotationRequest,
    ) -> Result<RotatedKeys> {
        let keys: BTreeSet<SiteKey> = request.keys.into_iter().collect();
        if keys.is_empty() {
            return Err(Error::invalid(
                "invalid_field",
                "keys",
                "name at least one of publishable_key, secret_key, identity_secret",
            ));
        }
        let grace = match request.grace_seconds.map(Duration::from_secs) {
            Some(grace) if grace > MAX_KEY_GRACE => {
                return Err(Error::invalid(
                    "invalid_field",
                    "grace_seconds",
                    "at most 2592000 (30 days)",
                ));
            }
            Some(grace) => grace,
            None => self.app.key_grace,
        };
        if let (Some(key), Some(previous)) = (used_secret_key, &site.previous_secret_key_hash)
            && previous.value == hash_secret_key(key)
        {
            return Err(Error::Forbidden {
                code: "retired_secret_key",
                message:
                    "a secret key replaced by a rotation cannot rotate keys: use the current one"
                        .into(),
            });
        }
        let fresh = generate_keys(&site.name, Vec::new());
        let pick = |key: SiteKey, value: &str| keys.contains(&key).then(|| value.to_owned());
        let secret_key = pick(SiteKey::SecretKey, &fresh.secret_key);
        let rotation = KeyRotation {
            publishable_key: pick(SiteKey::PublishableKey, &fresh.publishable_key),
            secret_key_hash: secret_key.as_deref().map(hash_secret_key),
            identity_secret: pick(SiteKey::IdentitySecret, &fresh.identity_secret),
            previous_expire_at: now()
                + chrono::Duration::from_std(grace).expect("the grace period is at most 30 days"),
        };
        let rotated = self
            .app
            .store
            .rotate_site_keys(&site.site_id, &rotation)
            .await?
            .ok_or(Error::NotFound { what: "site" })?;
        self.app.invalidate_site(&site.site_id).await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        let rotated = RotatedKeys {
            site_id: rotated.site_id,
            rotated: keys.into_iter().collect(),
            publishable_key: rotated.publishable_key,
            secret_key,
            identity_secret: rotation.identity_secret,
            previous_valid_until: rotation.previous_expire_at,
        };
        self.app.audit().keys_rotated(by, site, &rotated).await?;
        Ok(rotated)
    }

    /// Changes a site's origins and widget settings; every field is checked first.
    pub async fn update(&self, by: &Actor, site: &Site, patch: SitePatch) -> Result<Site> {
        let changed = (
            patch.allowed_origins.is_some(),
            patch.widget_settings.is_some(),
        );
        let origins = patch
            .allowed_origins
            .unwrap_or_else(|| site.allowed_origins.clone());
        check_origins(&origins)?;
        let settings = match &patch.widget_settings {
            Some(change) => checked_settings(&site.widget_settings, change)?,
            None => site.widget_settings.clone(),
        };
        let updated = self
            .app
            .store
            .update_site(&site.site_id, &origins, &settings)
            .await?
            .ok_or(Error::NotFound { what: "site" })?;
        self.app.invalidate_site(&site.site_id).await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        self.app
            .audit()
            .site_updated(by, &updated, changed.0, changed.1)
            .await?;
        Ok(updated)
    }

    /// The hash a site's backend renders into the script tag for a user.
    pub async fn user_hash_for(&self, site_id: &str, user_id: &str) -> Result<String> {
        Ok(user_hash(
            &self.get(site_id).await?.identity_secret.current,
            user_id,
        ))
    }
}

/// A key that was valid once: a rotation replaced it and its grace period has ended.
fn expired(code: &'static str, what: &str) -> Error {
    Error::Unauthorized {
        code,
        message: format!(
            "this {what} was replaced by a key rotation and its grace period has ended"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::site::validate_origin;

    #[test]
    fn user_hash_round_trips_and_rejects_others() {
        let h = user_hash("secret", "u_1");
        let secret = IdentitySecret::new("secret");
        assert_eq!(h.len(), 64);
        assert!(verify_user_hash(&secret, "u_1", &h));
        assert!(!verify_user_hash(&secret, "u_2", &h));
        assert!(!verify_user_hash(&IdentitySecret::new("other"), "u_1", &h));
        assert!(!verify_user_hash(&secret, "u_1", "zz"));
        assert!(!verify_user_hash(&secret, "u_1", &h[..62]));
    }

    #[test]
    fn the_previous_identity_secret_verifies_until_it_expires() {
        let old_hash = user_hash("old", "u_1");
        let rotated = |expires_at| IdentitySecret {
            current: "new".into(),
            previous: Some(crate::model::site::Retired {
                value: "old".into(),
                expires_at,
            }),
        };
        let in_grace = rotated(now() + chrono::Duration::hours(1));
        assert!(verify_user_hash(&in_grace, "u_1", &old_hash));
        assert!(verify_user_hash(&in_grace, "u_1", &user_hash("new", "u_1")));
        let expired = rotated(now() - chrono::Duration::seconds(1));
        assert!(!verify_user_hash(&expired, "u_1", &old_hash));
        assert!(verify_user_hash(&expired, "u_1", &user_hash("new", "u_1")));
        let printed = format!("{in_grace:?}");
        assert!(
            !printed.contains("old") && !printed.contains("new"),
            "{printed}"
        );
    }

    #[tokio::test]
    async fn unknown_keys_are_remembered_up_to_a_bound() {
        let store = crate::store::connect("sqlite::memory:").await.unwrap();
        let app = App::new(store, Duration::from_secs(30));
        for i in 0..super::super::UNKNOWN_KEYS_CACHED + 5_000 {
            app.unknown_keys.insert(format!("pk:pk_{i}"), ()).await;
        }
        app.unknown_keys.run_pending_tasks().await;
        assert!(app.unknown_keys.entry_count() <= super::super::UNKNOWN_KEYS_CACHED);
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let keys = generate_keys("shop", vec![]);
        let printed = format!("{keys:?}");
        assert!(printed.contains(&keys.publishable_key));
        assert!(!printed.contains(&keys.secret_key) && !printed.contains(&keys.identity_secret));
        let site = Site {
            site_id: keys.site_id.clone(),
            name: keys.name.clone(),
            publishable_key: keys.publishable_key.clone(),
            identity_secret: IdentitySecret::new(keys.identity_secret.clone()),
            previous_publishable_key: None,
            previous_secret_key_hash: None,
            allowed_origins: vec![],
            widget_settings: WidgetSettings::default(),
            created_at: now(),
        };
        assert!(!format!("{site:?}").contains(&keys.identity_secret));
    }

    #[test]
    fn user_hash_matches_a_known_hmac_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keys_have_their_prefixes_and_differ() {
        let a = generate_keys("a", vec![]);
        let b = generate_keys("b", vec![]);
        assert!(a.publishable_key.starts_with("pk_") && a.secret_key.starts_with("sk_"));
        assert_ne!(a.secret_key, b.secret_key);
        assert_ne!(hash_secret_key(&a.secret_key), a.secret_key);
    }

    #[test]
    fn origins_must_be_bare() {
        assert!(validate_origin("https://shop.example.com").is_ok());
        assert!(validate_origin("http://127.0.0.1:8080").is_ok());
        assert!(validate_origin("https://shop.example.com/path").is_err());
        assert!(validate_origin("ftp://x").is_err());
        assert!(validate_origin("nonsense").is_err());
    }

    #[test]
    fn widget_settings_are_checked() {
        assert!(WidgetSettings::default().validate().is_ok());
        let mut s = WidgetSettings::default();
        s.theme.brand_color = "red".into();
        assert_eq!(
            s.validate().unwrap_err().0,
            "widget_settings.theme.brand_color"
        );
    }
}
