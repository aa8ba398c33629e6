//! A site (tenant): its keys, allowed origins and widget settings, with the checks every
//! stored value passes.

mod keys;
mod origins;
mod widget_settings;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use keys::{
    IdentitySecret, KeyRotation, KeyRotationRequest, REDACTED, Retired, RotatedKeys, SiteKey,
    SiteKeys,
};
use origins::canonical_origins;
pub use origins::{ORIGIN_PATTERN, Origin, canonical_origin, validate_origin};
pub use widget_settings::{
    Corner, PathGlob, Theme, ThemeMode, ThemePatch, WidgetSettings, WidgetSettingsPatch,
};

/// One tenant. Never serialised to clients whole: the identity secret stays inside.
/// `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct Site {
    pub site_id: String,
    pub name: String,
    pub publishable_key: String,
    /// The HMAC key of user hashes (and the one it replaced, during its grace period).
    pub identity_secret: IdentitySecret,
    /// The publishable key a rotation replaced, accepted until it expires.
    pub previous_publishable_key: Option<Retired>,
    /// SHA-256 of the secret key a rotation replaced, accepted until it expires.
    pub previous_secret_key_hash: Option<Retired>,
    pub allowed_origins: Vec<String>,
    pub widget_settings: WidgetSettings,
    pub created_at: DateTime<Utc>,
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

/// A change to a site: origins replaced (and canonicalised, see [`canonical_origin`]),
/// widget settings merged (JSON merge patch).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"allowed_origins": ["https://shop.example.com"],
    "widget_settings": {"corner": "bottom-left", "hide_on": ["/checkout/*"], "theme": {"brand_color": "#0f766e"}}}))]
pub struct SitePatch {
    /// Replaces the allowed origins (at most 100): `https://host[:port]`, as browsers
    /// send `Origin`; a trailing `/` and upper case are canonicalised. Null or absent:
    /// unchanged.
    #[serde(default, deserialize_with = "canonical_origins")]
    #[schema(max_items = 100, inline, value_type = Option<Vec<Origin>>)]
    pub allowed_origins: Option<Vec<String>>,
    /// Merged into the widget settings (JSON merge patch: a field set to null returns
    /// to its default). Null or absent: unchanged.
    #[schema(value_type = Option<WidgetSettingsPatch>)]
    pub widget_settings: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_patch_carries_canonical_origins_and_keeps_bad_ones_for_the_check() {
        let patch: SitePatch = serde_json::from_value(serde_json::json!({
            "allowed_origins": ["https://Shop.example.com/", "not an origin"]
        }))
        .unwrap();
        assert_eq!(
            patch.allowed_origins.unwrap(),
            ["https://shop.example.com", "not an origin"]
        );
        let untouched: SitePatch = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(untouched.allowed_origins.is_none());
    }
}
