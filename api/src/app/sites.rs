//! Sites (tenants), their keys and widget settings.
//!
//! Keys are random; the secret key is stored only as its SHA-256 (it has 190 bits of
//! entropy, so a fast hash is enough and lets us look it up by hash). User hashes are
//! HMAC-SHA256(identity secret, user id), verified in constant time.

use hmac::{Hmac, Mac};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::{App, unwrap_shared};
use crate::error::{Error, Result};
use crate::model::site::validate_origin;
use crate::model::{Site, SiteKeys, SitePatch, WidgetSettings, now};
use crate::store::StoreError;

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

/// Whether `given_hex` is the user's hash; constant time in the hash bytes.
pub fn verify_user_hash(identity_secret: &str, user_id: &str, given_hex: &str) -> bool {
    match hex::decode(given_hex) {
        Ok(given) => user_hash_mac(identity_secret, user_id)
            .verify_slice(&given)
            .is_ok(),
        Err(_) => false,
    }
}

fn user_hash_mac(identity_secret: &str, user_id: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(identity_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(user_id.as_bytes());
    mac
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
            identity_secret: keys.identity_secret.clone(),
            allowed_origins: keys.allowed_origins.clone(),
            widget_settings: WidgetSettings::default(),
            created_at: now(),
        };
        self.app
            .store
            .insert_site(&site, &hash_secret_key(&keys.secret_key))
            .await?;
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

    /// The site a secret key (`sk_…`) belongs to.
    pub async fn by_secret_key(&self, secret_key: &str) -> Result<Arc<Site>> {
        let hash = hash_secret_key(secret_key);
        let cache_key = format!("sk:{hash}");
        let store = self.app.store.clone();
        let lookup = async move { store.site_by_secret_key_hash(&hash).await };
        let refusal = ("invalid_secret_key", "the secret key is not valid");
        self.cached_by_key(cache_key, lookup, refusal).await
    }

    /// The site a publishable key (`pk_…`) belongs to.
    pub async fn by_publishable_key(&self, key: &str) -> Result<Arc<Site>> {
        let cache_key = format!("pk:{key}");
        let store = self.app.store.clone();
        let owned = key.to_owned();
        let lookup = async move { store.site_by_publishable_key(&owned).await };
        let refusal = (
            "invalid_publishable_key",
            "the publishable key is not valid",
        );
        self.cached_by_key(cache_key, lookup, refusal).await
    }

    /// A site found by one of its keys through the cache (a miss runs `lookup`); no
    /// such site is `Unauthorized` with `refusal`'s code and message.
    async fn cached_by_key(
        &self,
        cache_key: String,
        lookup: impl Future<Output = Result<Option<Site>, StoreError>> + Send + 'static,
        (code, message): (&'static str, &'static str),
    ) -> Result<Arc<Site>> {
        self.app
            .sites_by_key
            .try_get_with(cache_key, async move {
                match lookup.await? {
                    Some(site) => Ok(Arc::new(site)),
                    None => Err(Error::Unauthorized {
                        code,
                        message: message.into(),
                    }),
                }
            })
            .await
            .map_err(unwrap_shared)
    }

    /// Whether some site allows this origin (CORS preflights carry no key).
    pub async fn origin_allowed_anywhere(&self, origin: &str) -> Result<bool> {
        Ok(self.app.store.origin_allowed_by_any_site(origin).await?)
    }

    /// Changes a site's origins and widget settings; every field is checked first.
    pub async fn update(&self, site: &Site, patch: SitePatch) -> Result<Site> {
        let origins = patch
            .allowed_origins
            .unwrap_or_else(|| site.allowed_origins.clone());
        check_origins(&origins)?;
        let mut settings = serde_json::to_value(&site.widget_settings).expect("settings serialise");
        if let Some(change) = &patch.widget_settings {
            if !change.is_object() {
                return Err(Error::invalid(
                    "invalid_field",
                    "widget_settings",
                    "must be an object",
                ));
            }
            json_patch::merge(&mut settings, change);
        }
        let settings: WidgetSettings = serde_json::from_value(settings)
            .map_err(|e| Error::invalid("invalid_field", "widget_settings", e.to_string()))?;
        settings
            .validate()
            .map_err(|(field, message)| Error::invalid("invalid_field", &field, message))?;
        let updated = self
            .app
            .store
            .update_site(&site.site_id, &origins, &settings)
            .await?
            .ok_or(Error::NotFound { what: "site" })?;
        self.app.invalidate_site(&site.site_id).await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        Ok(updated)
    }

    /// The hash a site's backend renders into the script tag for a user.
    pub async fn user_hash_for(&self, site_id: &str, user_id: &str) -> Result<String> {
        Ok(user_hash(
            &self.get(site_id).await?.identity_secret,
            user_id,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::site::validate_origin;

    #[test]
    fn user_hash_round_trips_and_rejects_others() {
        let h = user_hash("secret", "u_1");
        assert_eq!(h.len(), 64);
        assert!(verify_user_hash("secret", "u_1", &h));
        assert!(!verify_user_hash("secret", "u_2", &h));
        assert!(!verify_user_hash("other", "u_1", &h));
        assert!(!verify_user_hash("secret", "u_1", "zz"));
        assert!(!verify_user_hash("secret", "u_1", &h[..62]));
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
