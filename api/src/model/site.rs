//! A site (tenant) and its widget settings, with the checks every stored value passes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use utoipa::ToSchema;

/// What `Debug` prints in place of a secret.
pub const REDACTED: &str = "***";

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
    #[schema(schema_with = theme_ref)]
    pub theme: Theme,
}

/// `theme` as a plain reference: a default object (from `serde(default)`) beside it is
/// more than client generators take.
fn theme_ref() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::Ref::from_schema_name("Theme").into()
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

/// What an allowed origin may look like, as typed in ASCII (also the OpenAPI pattern of
/// [`Origin`], checked equal by a test): `http` or `https`, then a DNS host name whose
/// last label starts with a letter, or a dotted-quad IPv4 address, then an optional
/// port from 1 to 65535 and an optional `/`. This is the form a browser can put in
/// `Origin`; the URL standard admits more (`*` in a host, `%41`, hex IPv4, port 0),
/// none of which a page is ever served from. IPv6 literal hosts are not accepted.
pub const ORIGIN_PATTERN: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://",
    "(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    "|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))",
    "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    "/?$"
);

static ORIGIN_SHAPE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(ORIGIN_PATTERN).expect("a valid pattern"));

/// An allowed origin in the form browsers send in `Origin`, which is what it is compared
/// with: scheme and host lower-cased, an internationalised host in punycode, the
/// scheme's default port dropped, no trailing `/` (`HTTPS://Bücher.Example:443/` →
/// `https://xn--bcher-kva.example`). ASCII input must have the [`ORIGIN_PATTERN`]
/// shape; a host with other characters is converted to punycode (IDNA) and must have
/// it then. A path (other than a lone `/`), query, fragment, user name, password or
/// surrounding space is refused, not stripped: the site owner meant something this
/// setting cannot express.
pub fn canonical_origin(origin: &str) -> Result<String, String> {
    let refused = || {
        format!(
            "{origin:?} must be an origin like https://shop.example.com: http or https, a host \
             name or IPv4 address and an optional port, with no path, query or user name"
        )
    };
    if origin.is_ascii() && !ORIGIN_SHAPE.is_match(origin) {
        return Err(refused());
    }
    let parsed = url::Url::parse(origin).map_err(|e| format!("{origin:?} is not a URL: {e}"))?;
    let bare = parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !matches!(parsed.scheme(), "http" | "https") || !bare {
        return Err(refused());
    }
    let canonical = parsed.origin().ascii_serialization();
    if !ORIGIN_SHAPE.is_match(&canonical) {
        return Err(refused());
    }
    Ok(canonical)
}

/// Checks that an allowed origin is stored in its [`canonical_origin`] form; input is
/// canonicalised where it enters (the `PATCH /v1/site` body, `trickle site create`).
pub fn validate_origin(origin: &str) -> Result<(), String> {
    let canonical = canonical_origin(origin)?;
    if canonical != origin {
        return Err(format!("{origin:?} must be written {canonical:?}"));
    }
    Ok(())
}

/// Origins in their canonical form; ones that are no origin at all are kept as typed,
/// for the site check to refuse with their position and the reason.
fn canonical_origins<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let origins = Option::<Vec<String>>::deserialize(deserializer)?;
    Ok(origins.map(|origins| {
        origins
            .into_iter()
            .map(|origin| canonical_origin(&origin).unwrap_or(origin))
            .collect()
    }))
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

/// An allowed origin (documentation only): its pattern is [`ORIGIN_PATTERN`]; a host
/// with non-ASCII characters is accepted too and stored in punycode.
#[derive(ToSchema)]
#[schema(
    pattern = "^[Hh][Tt][Tt][Pp][Ss]?://(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?/?$",
    example = "https://shop.example.com"
)]
#[allow(dead_code)]
pub struct Origin(String);

/// A change to the widget settings (documentation of `SitePatch.widget_settings`):
/// every field optional; null returns a field to its default.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct WidgetSettingsPatch {
    #[schema(inline, value_type = Option<Corner>)]
    corner: Option<String>,
    /// Delay before showing a due prompt, in milliseconds (0–600000).
    #[schema(minimum = 0, maximum = 600000)]
    delay_ms: Option<u32>,
    /// Minimum hours between two prompts (0–8760).
    #[schema(minimum = 0, maximum = 8760)]
    min_hours_between_prompts: Option<u32>,
    /// Path globs where the widget may show (empty: everywhere): at most 50, each
    /// starting with `/`, at most 200 bytes.
    #[schema(max_items = 50, inline, value_type = Option<Vec<PathGlob>>)]
    show_on: Option<Vec<String>>,
    /// Path globs where it never shows (checkout, say); the same limits.
    #[schema(max_items = 50, inline, value_type = Option<Vec<PathGlob>>)]
    hide_on: Option<Vec<String>>,
    theme: Option<ThemePatch>,
}

/// Where the widget sits.
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum Corner {
    BottomRight,
    BottomLeft,
    TopRight,
    TopLeft,
}

/// A path glob: starts with `/`, at most 200 bytes.
#[derive(ToSchema)]
#[schema(pattern = "^/[\\s\\S]{0,199}$", example = "/checkout/*")]
#[allow(dead_code)]
pub struct PathGlob(String);

/// A change to the widget's look; null returns a field to its default.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ThemePatch {
    #[schema(inline, value_type = Option<ThemeMode>)]
    mode: Option<String>,
    /// Brand colour as `#rrggbb`.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    brand_color: Option<String>,
    /// CSS font-family list: at most 200 bytes, none of `{ } ; < >`.
    #[schema(max_length = 200, pattern = "^[^{};<>]*$")]
    font: Option<String>,
    /// Corner radius in pixels (0–48).
    #[schema(minimum = 0, maximum = 48)]
    radius_px: Option<u32>,
}

/// `auto` follows `prefers-color-scheme`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ThemeMode {
    Auto,
    Light,
    Dark,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonicalised_as_browsers_send_them() {
        for (typed, canonical) in [
            ("https://shop.example.com", "https://shop.example.com"),
            ("https://shop.example.com/", "https://shop.example.com"),
            ("HTTPS://Shop.Example.COM:443/", "https://shop.example.com"),
            ("http://shop.example.com:80", "http://shop.example.com"),
            (
                "https://shop.example.com:8443/",
                "https://shop.example.com:8443",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://Bücher.example/", "https://xn--bcher-kva.example"),
            ("http://localhost:65535", "http://localhost:65535"),
        ] {
            assert_eq!(canonical_origin(typed).as_deref(), Ok(canonical), "{typed}");
        }
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for typed in [
            "https://shop.example.com/path",
            "https://shop.example.com//",
            "https://shop.example.com/?a=1",
            "https://shop.example.com/#top",
            "https://user:pw@shop.example.com",
            "ftp://shop.example.com",
            "file:///etc/passwd",
            "shop.example.com",
            "nonsense",
            // What the URL standard reads as a host but no browser is served from.
            "http://m9-i0xiw-z*",
            "http://%41.example",
            "http://0x7f.0.0.1",
            "http://127.1",
            "http://shop.example.com:0",
            "http://shop.example.com:080",
            "http://shop.example.com.",
            "http://[::1]:3000",
            " https://shop.example.com ",
            "https://shop.example.com\t",
            "http://bücher*.example",
        ] {
            assert!(canonical_origin(typed).is_err(), "{typed}");
        }
    }

    #[test]
    fn the_documented_origin_pattern_is_the_one_enforced() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Origin::schema()).unwrap();
        assert_eq!(schema["pattern"], ORIGIN_PATTERN);
    }

    #[test]
    fn only_canonical_origins_pass_the_stored_value_check() {
        assert!(validate_origin("https://shop.example.com").is_ok());
        let refusal = validate_origin("https://Shop.example.com/").unwrap_err();
        assert!(
            refusal.contains("\"https://shop.example.com\""),
            "{refusal}"
        );
    }

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
