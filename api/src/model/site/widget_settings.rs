//! Where, when and how the widget shows on a site, with the checks every stored value
//! passes, and the documented shape of a change to them.

use serde::{Deserialize, Serialize};
use trickle_rules::widget_look::{
    CORNERS, DEFAULT_BRAND_COLOR, DEFAULT_CORNER, DEFAULT_FONT, DEFAULT_MODE, DEFAULT_RADIUS_PX,
    MAX_RADIUS_PX, MODES,
};
use utoipa::ToSchema;

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
            corner: DEFAULT_CORNER.into(),
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
            mode: DEFAULT_MODE.into(),
            brand_color: DEFAULT_BRAND_COLOR.into(),
            font: DEFAULT_FONT.into(),
            radius_px: DEFAULT_RADIUS_PX,
        }
    }
}

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
        if self.theme.radius_px > MAX_RADIUS_PX {
            let most = format!("must be at most {MAX_RADIUS_PX}");
            return bad("widget_settings.theme.radius_px", &most);
        }
        Ok(())
    }
}

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
