//! Sites (tenants), their keys and widget settings.
//!
//! Keys are random; the secret key is stored only as its SHA-256 (it has 190 bits of
//! entropy, so a fast hash is enough and lets us look it up by hash). User hashes are
//! HMAC-SHA256(identity secret, user id), verified in constant time.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::service::{Trickle, now, unwrap_shared};

/// One tenant. Never serialised to clients whole: the identity secret stays inside.
#[derive(Debug, Clone)]
pub struct Site {
    pub site_id: String,
    pub name: String,
    pub publishable_key: String,
    pub identity_secret: String,
    pub allowed_origins: Vec<String>,
    pub widget_settings: WidgetSettings,
    pub created_at: DateTime<Utc>,
}

/// What `trickle site create` prints: the only time the secret key is shown.
#[derive(Debug, Clone, Serialize)]
pub struct SiteKeys {
    pub site_id: String,
    pub name: String,
    pub publishable_key: String,
    pub secret_key: String,
    pub identity_secret: String,
    pub allowed_origins: Vec<String>,
}

/// Where and when the widget shows (read by the widget, set by the site owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetSettings {
    /// `bottom-right` (default), `bottom-left`, `top-right` or `top-left`.
    pub corner: String,
    /// Delay before showing a due prompt, in milliseconds.
    pub delay_ms: u32,
    /// Minimum hours between two prompts.
    pub min_hours_between_prompts: u32,
    /// Path globs where the widget may show (empty: everywhere).
    pub show_on: Vec<String>,
    /// Path globs where it never shows (checkout, say).
    pub hide_on: Vec<String>,
    /// Colours, font and radius.
    pub theme: Theme,
}

/// The widget's look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Theme {
    /// `auto` (follows `prefers-color-scheme`), `light` or `dark`.
    pub mode: String,
    /// Brand colour as `#rrggbb`.
    pub brand_color: String,
    /// CSS font-family list.
    pub font: String,
    /// Corner radius in pixels.
    pub radius_px: u32,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            corner: "bottom-right".into(),
            delay_ms: 2000,
            min_hours_between_prompts: 0,
            show_on: Vec::new(),
            hide_on: Vec::new(),
            theme: Theme::default(),
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            mode: "auto".into(),
            brand_color: "#4f46e5".into(),
            font: "system-ui, sans-serif".into(),
            radius_px: 12,
        }
    }
}

const CORNERS: [&str; 4] = ["bottom-right", "bottom-left", "top-right", "top-left"];
const MODES: [&str; 3] = ["auto", "light", "dark"];

impl WidgetSettings {
    /// Until when a user the widget last prompted at `last_prompted` is left alone:
    /// `None` when a prompt may be shown at `now`.
    pub fn prompts_held_until(
        &self,
        last_prompted: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if self.min_hours_between_prompts == 0 {
            // Not even a clock a little ahead on another replica may hold prompts back.
            return None;
        }
        let gap = chrono::Duration::hours(self.min_hours_between_prompts.into());
        let until = last_prompted? + gap;
        (until > now).then_some(until)
    }

    /// Checks every field; returns `(field, message)` for the first bad one.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_owned(), m.to_owned()));
        if !CORNERS.contains(&self.corner.as_str()) {
            return bad(
                "widget_settings.corner",
                "must be bottom-right, bottom-left, top-right or top-left",
            );
        }
        if self.delay_ms > 600_000 {
            return bad("widget_settings.delay_ms", "must be at most 600000");
        }
        if self.min_hours_between_prompts > 24 * 365 {
            return bad(
                "widget_settings.min_hours_between_prompts",
                "must be at most 8760",
            );
        }
        for (field, globs) in [
            ("widget_settings.show_on", &self.show_on),
            ("widget_settings.hide_on", &self.hide_on),
        ] {
            if globs.len() > 50 || globs.iter().any(|g| !g.starts_with('/') || g.len() > 200) {
                return bad(
                    field,
                    "must be at most 50 path globs, each starting with / and under 200 bytes",
                );
            }
        }
        if !MODES.contains(&self.theme.mode.as_str()) {
            return bad("widget_settings.theme.mode", "must be auto, light or dark");
        }
        let color = self.theme.brand_color.as_bytes();
        if color.len() != 7 || color[0] != b'#' || !color[1..].iter().all(u8::is_ascii_hexdigit) {
            return bad(
                "widget_settings.theme.brand_color",
                "must be a #rrggbb colour",
            );
        }
        if self.theme.font.len() > 200 || self.theme.font.contains(['{', '}', ';', '<', '>']) {
            return bad(
                "widget_settings.theme.font",
                "must be a CSS font-family list under 200 bytes",
            );
        }
        if self.theme.radius_px > 48 {
            return bad("widget_settings.theme.radius_px", "must be at most 48");
        }
        Ok(())
    }
}

/// Checks an allowed origin: `scheme://host[:port]`, nothing else.
pub fn validate_origin(origin: &str) -> Result<(), String> {
    let parsed = url::Url::parse(origin).map_err(|e| format!("{origin:?} is not a URL: {e}"))?;
    let canonical = parsed.origin().ascii_serialization();
    if !matches!(parsed.scheme(), "http" | "https") || canonical != origin.trim_end_matches('/') {
        return Err(format!(
            "{origin:?} must be an origin like https://shop.example.com, with no path"
        ));
    }
    Ok(())
}

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

/// What the site owner sees of their site (`GET /v1/site`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteView {
    pub site_id: String,
    pub name: String,
    pub publishable_key: String,
    pub allowed_origins: Vec<String>,
    pub widget_settings: WidgetSettings,
    pub created_at: DateTime<Utc>,
}

impl From<&Site> for SiteView {
    fn from(site: &Site) -> Self {
        SiteView {
            site_id: site.site_id.clone(),
            name: site.name.clone(),
            publishable_key: site.publishable_key.clone(),
            allowed_origins: site.allowed_origins.clone(),
            widget_settings: site.widget_settings.clone(),
            created_at: site.created_at,
        }
    }
}

/// A change to a site: origins replaced, widget settings merged (JSON merge patch).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    pub allowed_origins: Option<Vec<String>>,
    #[schema(value_type = Object)]
    pub widget_settings: Option<Value>,
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

impl Trickle {
    /// Creates a site with fresh keys; the returned secret key is never shown again.
    pub async fn create_site(&self, name: &str, allowed_origins: Vec<String>) -> Result<SiteKeys> {
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
        self.store
            .insert_site(&site, &hash_secret_key(&keys.secret_key))
            .await?;
        Ok(keys)
    }

    /// A site by id (CLI and operators).
    pub async fn site(&self, site_id: &str) -> Result<Site> {
        self.store
            .site(site_id)
            .await?
            .ok_or(Error::NotFound { what: "site" })
    }

    /// The site a secret key (`sk_…`) belongs to.
    pub async fn site_for_secret_key(&self, secret_key: &str) -> Result<Arc<Site>> {
        let hash = hash_secret_key(secret_key);
        let store = self.store.clone();
        self.sites_by_key
            .try_get_with(format!("sk:{hash}"), async move {
                match store.site_by_secret_key_hash(&hash).await? {
                    Some(site) => Ok(Arc::new(site)),
                    None => Err(Error::Unauthorized {
                        code: "invalid_secret_key",
                        message: "the secret key is not valid".into(),
                    }),
                }
            })
            .await
            .map_err(unwrap_shared)
    }

    /// The site a publishable key (`pk_…`) belongs to.
    pub async fn site_for_publishable_key(&self, key: &str) -> Result<Arc<Site>> {
        let store = self.store.clone();
        let owned = key.to_owned();
        self.sites_by_key
            .try_get_with(format!("pk:{key}"), async move {
                match store.site_by_publishable_key(&owned).await? {
                    Some(site) => Ok(Arc::new(site)),
                    None => Err(Error::Unauthorized {
                        code: "invalid_publishable_key",
                        message: "the publishable key is not valid".into(),
                    }),
                }
            })
            .await
            .map_err(unwrap_shared)
    }

    /// Whether some site allows this origin (CORS preflights carry no key).
    pub async fn origin_allowed_anywhere(&self, origin: &str) -> Result<bool> {
        Ok(self.store.origin_allowed_by_any_site(origin).await?)
    }

    /// Changes a site's origins and widget settings; every field is checked first.
    pub async fn update_site(&self, site: &Site, patch: SitePatch) -> Result<Site> {
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
            .store
            .update_site(&site.site_id, &origins, &settings)
            .await?
            .ok_or(Error::NotFound { what: "site" })?;
        self.invalidate_site(&site.site_id).await;
        self.store.notify_invalidation(&site.site_id).await?;
        Ok(updated)
    }

    /// The hash a site's backend renders into the script tag for a user.
    pub async fn user_hash_for(&self, site_id: &str, user_id: &str) -> Result<String> {
        Ok(user_hash(
            &self.site(site_id).await?.identity_secret,
            user_id,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_held_for_the_minimum_interval_after_the_last_one() {
        let at = |h: i64| DateTime::UNIX_EPOCH + chrono::Duration::hours(h);
        let mut settings = WidgetSettings::default();
        assert_eq!(settings.prompts_held_until(Some(at(1)), at(0)), None);
        settings.min_hours_between_prompts = 24;
        assert_eq!(settings.prompts_held_until(None, at(1)), None);
        assert_eq!(
            settings.prompts_held_until(Some(at(0)), at(23)),
            Some(at(24))
        );
        assert_eq!(settings.prompts_held_until(Some(at(0)), at(24)), None);
    }

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
