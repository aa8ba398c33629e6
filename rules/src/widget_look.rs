//! The widget's look and placement when a site sets none, and the values a site may set:
//! the server stores and checks them (`api/src/model/site/widget_settings.rs`), the
//! widget falls back to the same defaults before the site's settings arrive.

/// Where the widget sits when a site sets no corner.
pub const DEFAULT_CORNER: &str = "bottom-right";
/// Every corner a site may choose.
pub const CORNERS: [&str; 4] = ["bottom-right", "bottom-left", "top-right", "top-left"];

/// The colour scheme when a site sets none: `auto` follows `prefers-color-scheme`.
pub const DEFAULT_MODE: &str = "auto";
/// Every colour scheme a site may choose.
pub const MODES: [&str; 3] = ["auto", "light", "dark"];

/// The brand colour when a site sets none (`#rrggbb`).
pub const DEFAULT_BRAND_COLOR: &str = "#4f46e5";
/// The CSS font-family list when a site sets none.
pub const DEFAULT_FONT: &str = "system-ui, sans-serif";
/// The corner radius in pixels when a site sets none.
pub const DEFAULT_RADIUS_PX: u32 = 12;
/// The largest corner radius a site may set, in pixels.
pub const MAX_RADIUS_PX: u32 = 48;
