//! What every page shares: the layout's fields, rendering, and form errors.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::assets::{CSS_URL, HTMX_URL};
use super::error::ConsoleError;
use super::preview::{PreviewScript, Previewing};
use crate::error::Error;
use crate::model::{Admin, Role};

/// The signed-in admin, as the header shows them.
pub struct AdminBadge {
    pub email: String,
    pub role: &'static str,
    pub is_owner: bool,
}

/// The layout's fields (`console/base.html`).
pub struct Layout {
    pub css_url: &'static str,
    pub htmx_url: &'static str,
    /// The navigation entry to mark as current: `sites`, `admins`, `audit` or empty.
    pub section: &'static str,
    pub admin: Option<AdminBadge>,
    /// The preview script, on pages that preview the widget.
    pub preview_script: Option<PreviewScript>,
}

impl Layout {
    /// For pages seen before signing in (and error pages).
    pub fn signed_out() -> Layout {
        Layout {
            css_url: CSS_URL.as_str(),
            htmx_url: HTMX_URL,
            section: "",
            admin: None,
            preview_script: None,
        }
    }

    /// For a signed-in admin, in a section of the navigation.
    pub fn for_admin(admin: &Admin, section: &'static str) -> Layout {
        Layout {
            section,
            admin: Some(AdminBadge {
                email: admin.email.clone(),
                role: admin.role.as_str(),
                is_owner: admin.role == Role::Owner,
            }),
            ..Layout::signed_out()
        }
    }
}

impl Layout {
    /// The same layout, loading the preview script (render with [`render_previewing`]).
    pub fn previewing(mut self) -> Layout {
        self.preview_script = Some(PreviewScript::new());
        self
    }
}

/// A page with its status.
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, ConsoleError> {
    let html = page.render().map_err(ConsoleError::Render)?;
    Ok((status, Html(html)).into_response())
}

/// A page that mounts the widget renderer (its layout [`Layout::previewing`]): marked
/// for the preview's Content-Security-Policy.
pub fn render_previewing(
    status: StatusCode,
    page: &impl Template,
) -> Result<Response, ConsoleError> {
    let mut response = render(status, page)?;
    response.extensions_mut().insert(Previewing);
    Ok(response)
}

/// A refused form field, shown beside the form that sent it.
pub struct FieldError {
    /// The field as the API names it (`widget_settings.theme.brand_color`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// The field error in `error`, if it is one; any other error is handed back.
    pub fn from_error(error: Error) -> Result<FieldError, Error> {
        match error {
            Error::Invalid {
                field: Some(field),
                message,
                ..
            } => Ok(FieldError {
                message: format!("{field}: {message}"),
                field,
            }),
            other => Err(other),
        }
    }

    /// Whether it is about `field` (or an item of it: `allowed_origins[2]`).
    pub fn is_about(&self, field: &str) -> bool {
        self.field == field
            || self
                .field
                .strip_prefix(field)
                .is_some_and(|rest| rest.starts_with('['))
    }
}

/// Lines of a textarea, trimmed, blank ones dropped.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}
