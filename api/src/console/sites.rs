//! Sites: the list, creating one (keys shown once), and one site's settings — key
//! rotation, allowed origins and the widget's settings (checked by the same code as
//! `PATCH /v1/site`, previewed live by `preview.rs`).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ConsoleState;
use super::error::ConsoleError;
use super::page::{FieldError, Layout, lines, render, render_previewing};
use super::preview::{Look, Preview};
use super::session::CurrentAdmin;
use crate::error::Error;
use crate::model::site::canonical_origin;
use crate::model::site::{RotatedKeys, SiteKey};
use crate::model::{Admin, Role, Site, SiteKeys, SitePatch, WidgetSettings};
use crate::questions::Prompt;

pub(super) fn router() -> Router<ConsoleState> {
    Router::new()
        .route("/sites", get(list).post(create))
        .route("/sites/new", get(new_site))
        .route("/sites/{site_id}", get(settings))
        .route("/sites/{site_id}/origins", post(save_origins))
        .route("/sites/{site_id}/keys", post(rotate_keys))
        .route("/sites/{site_id}/widget", post(save_widget))
        .route(
            "/sites/{site_id}/widget/preview",
            post(super::preview::site_preview),
        )
}

#[derive(Template)]
#[template(path = "console/sites.html")]
struct SitesPage {
    layout: Layout,
    sites: Vec<Site>,
    may_create: bool,
}

async fn list(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
) -> Result<Response, ConsoleError> {
    let sites = state.app.access(&current.admin).sites().await?;
    let page = SitesPage {
        layout: Layout::for_admin(&current.admin, "sites"),
        sites,
        may_create: current.admin.role == Role::Owner,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/site_new.html")]
struct NewSitePage {
    layout: Layout,
    name: String,
    origins: String,
    error: Option<FieldError>,
}

impl NewSitePage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is_about(field))
    }
}

async fn new_site(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
) -> Result<Response, ConsoleError> {
    state.app.access(&current.admin).require_owner()?;
    let page = NewSitePage {
        layout: Layout::for_admin(&current.admin, "sites"),
        name: String::new(),
        origins: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct NewSite {
    #[serde(default)]
    name: String,
    #[serde(default)]
    origins: String,
}

#[derive(Template)]
#[template(path = "console/site_created.html")]
struct CreatedPage {
    layout: Layout,
    keys: SiteKeys,
}

/// Origins typed one per line, in the form browsers send; what is no origin at all is
/// kept as typed for the site check to refuse with its position.
fn typed_origins(text: &str) -> Vec<String> {
    lines(text)
        .into_iter()
        .map(|origin| canonical_origin(&origin).unwrap_or(origin))
        .collect()
}

async fn create(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Form(form): Form<NewSite>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    match access
        .create_site(&form.name, typed_origins(&form.origins))
        .await
    {
        Ok(keys) => {
            let page = CreatedPage {
                layout: Layout::for_admin(&current.admin, "sites"),
                keys,
            };
            render(StatusCode::CREATED, &page)
        }
        Err(error) => {
            let page = NewSitePage {
                layout: Layout::for_admin(&current.admin, "sites"),
                error: Some(FieldError::from_error(error)?),
                name: form.name,
                origins: form.origins,
            };
            render(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// The widget form's fields, as typed (numbers and lists as text).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct WidgetFields {
    corner: String,
    theme_mode: String,
    delay_ms: String,
    min_hours_between_prompts: String,
    show_on: String,
    hide_on: String,
    brand_color: String,
    font: String,
    radius_px: String,
}

impl From<&WidgetSettings> for WidgetFields {
    fn from(settings: &WidgetSettings) -> Self {
        WidgetFields {
            corner: settings.corner.clone(),
            theme_mode: settings.theme.mode.clone(),
            delay_ms: settings.delay_ms.to_string(),
            min_hours_between_prompts: settings.min_hours_between_prompts.to_string(),
            show_on: settings.show_on.join("\n"),
            hide_on: settings.hide_on.join("\n"),
            brand_color: settings.theme.brand_color.clone(),
            font: settings.theme.font.clone(),
            radius_px: settings.theme.radius_px.to_string(),
        }
    }
}

impl WidgetFields {
    /// Whether `corner` is the one chosen (for the form's `selected`).
    fn corner_is(&self, corner: &str) -> bool {
        self.corner == corner
    }

    /// Whether `mode` is the theme mode chosen.
    fn theme_mode_is(&self, mode: &str) -> bool {
        self.theme_mode == mode
    }

    /// The merge patch `PATCH /v1/site` would take for these fields.
    pub(super) fn patch(&self) -> Result<Value, Error> {
        let number = |field: &str, text: &str| {
            text.trim()
                .parse::<u32>()
                .map_err(|_| Error::invalid("invalid_field", field, "must be a whole number"))
        };
        Ok(json!({
            "corner": self.corner,
            "delay_ms": number("widget_settings.delay_ms", &self.delay_ms)?,
            "min_hours_between_prompts": number(
                "widget_settings.min_hours_between_prompts",
                &self.min_hours_between_prompts,
            )?,
            "show_on": lines(&self.show_on),
            "hide_on": lines(&self.hide_on),
            "theme": {
                "mode": self.theme_mode,
                "brand_color": self.brand_color.trim(),
                "font": self.font.trim(),
                "radius_px": number("widget_settings.theme.radius_px", &self.radius_px)?,
            },
        }))
    }
}

#[derive(Template)]
#[template(path = "console/site.html")]
struct SitePage {
    layout: Layout,
    site: Site,
    saved: Option<&'static str>,
    origins: String,
    origins_error: Option<FieldError>,
    widget: WidgetFields,
    widget_error: Option<FieldError>,
    corners: [&'static str; 4],
    modes: [&'static str; 3],
    keys_error: Option<FieldError>,
    /// The widget as saved, previewed beside the form (`console/preview.html`).
    preview: Option<Preview>,
    preview_error: Option<FieldError>,
    look: Look,
}

impl SitePage {
    /// The page for `site`, its preview showing `prompt`.
    fn new(admin: &Admin, site: Site, prompt: &Prompt) -> SitePage {
        let look = Look::for_settings(&site.widget_settings);
        SitePage {
            layout: Layout::for_admin(admin, "sites").previewing(),
            preview: Some(Preview::new(prompt, &site.widget_settings, look)),
            preview_error: None,
            look,
            origins: site.allowed_origins.join("\n"),
            widget: WidgetFields::from(&site.widget_settings),
            site,
            saved: None,
            keys_error: None,
            origins_error: None,
            widget_error: None,
            corners: ["bottom-right", "bottom-left", "top-right", "top-left"],
            modes: ["auto", "light", "dark"],
        }
    }

    fn invalid(&self, field: &str) -> bool {
        self.widget_error
            .as_ref()
            .is_some_and(|e| e.is_about(field))
    }

    /// Whether the preview imitates this colour scheme or screen (for `checked`).
    fn look_is(&self, value: &str) -> bool {
        self.look.theme == value || self.look.width == value
    }
}

/// The settings page of a site the admin may manage, with its preview.
async fn site_page(state: &ConsoleState, admin: &Admin, site_id: &str) -> Result<SitePage, Error> {
    let site = state.app.access(admin).site(site_id).await?;
    let prompt = state.app.prompts().sample(&site, None).await?;
    Ok(SitePage::new(admin, site, &prompt))
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn settings(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Query(saved): Query<Saved>,
) -> Result<Response, ConsoleError> {
    let mut page = site_page(&state, &current.admin, &site_id).await?;
    page.saved = match saved.saved.as_deref() {
        Some("origins") => Some("allowed origins"),
        Some("widget") => Some("widget settings"),
        _ => None,
    };
    render_previewing(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct OriginsForm {
    #[serde(default)]
    origins: String,
}

async fn save_origins(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Form(form): Form<OriginsForm>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let patch = SitePatch {
        allowed_origins: Some(typed_origins(&form.origins)),
        widget_settings: None,
    };
    match access.update_site(&site_id, patch).await {
        Ok(site) => Ok(saved_redirect(&site, "origins")),
        Err(error) => {
            let error = FieldError::from_error(error)?;
            let mut page = site_page(&state, &current.admin, &site_id).await?;
            page.origins = form.origins;
            page.origins_error = Some(error);
            render_previewing(StatusCode::BAD_REQUEST, &page)
        }
    }
}

async fn save_widget(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Form(form): Form<WidgetFields>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let site = access.site(&site_id).await?;
    let saved = match form.patch() {
        Ok(change) => {
            let patch = SitePatch {
                allowed_origins: None,
                widget_settings: Some(change),
            };
            access.update_site(&site.site_id, patch).await
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok(site) => Ok(saved_redirect(&site, "widget")),
        Err(error) => {
            let error = FieldError::from_error(error)?;
            let mut page = site_page(&state, &current.admin, &site_id).await?;
            page.widget = form;
            page.widget_error = Some(error);
            render_previewing(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// The keys ticked in the rotation form (a ticked checkbox sends `on`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct RotationForm {
    publishable_key: Option<String>,
    secret_key: Option<String>,
    identity_secret: Option<String>,
}

#[derive(Template)]
#[template(path = "console/keys_rotated.html")]
struct RotatedPage {
    layout: Layout,
    name: String,
    keys: RotatedKeys,
}

/// Rotates the ticked keys; the new ones are shown once, the old ones stay valid for
/// the deployment's grace period. None ticked: the settings page says so (400).
async fn rotate_keys(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Form(form): Form<RotationForm>,
) -> Result<Response, ConsoleError> {
    let access = state.app.access(&current.admin);
    let site = access.site(&site_id).await?;
    let ticked = [
        (form.publishable_key, SiteKey::PublishableKey),
        (form.secret_key, SiteKey::SecretKey),
        (form.identity_secret, SiteKey::IdentitySecret),
    ];
    let keys = ticked
        .into_iter()
        .filter_map(|(value, key)| value.is_some_and(|v| v == "on").then_some(key))
        .collect();
    match access.rotate_keys(&site.site_id, keys).await {
        Ok(keys) => {
            let page = RotatedPage {
                layout: Layout::for_admin(&current.admin, "sites"),
                name: site.name,
                keys,
            };
            render(StatusCode::OK, &page)
        }
        Err(error) => {
            let error = FieldError::from_error(error)?;
            let mut page = site_page(&state, &current.admin, &site_id).await?;
            page.keys_error = Some(error);
            render_previewing(StatusCode::BAD_REQUEST, &page)
        }
    }
}

fn saved_redirect(site: &Site, what: &str) -> Response {
    Redirect::to(&format!("/console/sites/{}?saved={what}", site.site_id)).into_response()
}
