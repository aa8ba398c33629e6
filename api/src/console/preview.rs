//! The live widget preview: `preview.js` mounts the real renderer (the Wasm the loader
//! fetches) into every `.trickle-preview` element, fed a prompt and widget settings,
//! with a host that records nothing and sends no request.
//!
//! A page that previews is marked with [`Previewing`]; its Content-Security-Policy then
//! also lets the renderer's Wasm compile (`'wasm-unsafe-eval'`) and its one stylesheet
//! apply (by hash: the widget's CSS, and the empty `<style>` it starts as), and nothing
//! else. The policy belongs to the document first loaded,
//! so a previewing page reached by `hx-boost` is loaded as a whole page instead
//! (`HX-Redirect`), and gets its own.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use super::ConsoleState;
use super::assets::PREVIEW_URL;
use super::error::ConsoleError;
use super::page::{FieldError, render};
use super::session::CurrentAdmin;
use super::sites::WidgetFields;
use crate::app::sites::checked_settings;
use crate::error::Error;
use crate::model::WidgetSettings;
use crate::questions::Prompt;

/// Response extension: this page mounts the widget renderer.
#[derive(Clone, Copy, Debug)]
pub struct Previewing;

/// The widget's stylesheet, which the renderer puts in a `<style>` of its shadow root.
const WIDGET_CSS: &str = include_str!("../../../widget/src/style.css");

/// The console's policy for previewing pages: its usual one plus the renderer's needs.
/// The renderer inserts its `<style>` before filling it, so the empty one is allowed too
/// (an empty stylesheet does nothing).
pub static PREVIEW_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = |css: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css));
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' 'sha256-{}' 'sha256-{}'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        hash(WIDGET_CSS),
        hash("")
    )
});

/// The preview script's tag: where it and the renderer's two files are.
pub struct PreviewScript {
    pub url: &'static str,
    /// `None` in a server built without the widget (the preview then says so).
    pub renderer: Option<RendererUrls>,
}

/// Where the renderer is served.
pub struct RendererUrls {
    /// `/widget/renderer-<hash>.js`
    pub js: String,
    /// `/widget/renderer-<hash>.wasm`
    pub wasm: String,
}

impl PreviewScript {
    pub fn new() -> PreviewScript {
        PreviewScript {
            url: PREVIEW_URL.as_str(),
            renderer: crate::widget_files::renderer().map(|r| RendererUrls {
                js: format!("/widget/{}", r.js),
                wasm: format!("/widget/{}", r.wasm),
            }),
        }
    }
}

/// The visitor's colour scheme and screen the preview imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    /// `light` or `dark`: what an `auto` theme follows.
    pub theme: &'static str,
    /// `desktop` or `phone` (400 px wide).
    pub width: &'static str,
}

impl Look {
    /// The look the settings page opens with: dark for a dark theme, else light.
    pub fn for_settings(settings: &WidgetSettings) -> Look {
        Look {
            theme: if settings.theme.mode == "dark" {
                "dark"
            } else {
                "light"
            },
            width: "desktop",
        }
    }

    /// The look chosen beside the preview; an unknown value is refused by field name.
    fn parse(theme: &str, width: &str) -> Result<Look, Error> {
        let theme = match theme {
            "light" => "light",
            "dark" => "dark",
            _ => {
                return Err(Error::invalid(
                    "invalid_field",
                    "preview_theme",
                    "must be light or dark",
                ));
            }
        };
        let width = match width {
            "desktop" => "desktop",
            "phone" => "phone",
            _ => {
                return Err(Error::invalid(
                    "invalid_field",
                    "preview_width",
                    "must be desktop or phone",
                ));
            }
        };
        Ok(Look { theme, width })
    }
}

/// One `.trickle-preview` element's data: `next` is the body `GET /v1/widget/next`
/// would answer with (`{prompt, settings}`), `settings` the widget settings alone.
pub struct Preview {
    pub next: String,
    pub settings: String,
    pub locale: String,
    pub look: Look,
}

impl Preview {
    pub fn new(prompt: &Prompt, settings: &WidgetSettings, look: Look) -> Preview {
        Preview {
            next: json!({ "prompt": prompt, "settings": settings }).to_string(),
            settings: serde_json::to_string(settings).expect("settings serialise"),
            locale: prompt.locale.clone(),
            look,
        }
    }
}

/// What the settings page's preview endpoint answers: the preview, or why there is none.
#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewFragment {
    preview: Option<Preview>,
    preview_error: Option<FieldError>,
}

/// The widget form as typed, and the look chosen beside the preview.
#[derive(Deserialize)]
pub(super) struct PreviewForm {
    #[serde(flatten)]
    widget: WidgetFields,
    #[serde(default)]
    preview_theme: String,
    #[serde(default)]
    preview_width: String,
}

/// `POST /console/sites/{site_id}/widget/preview`: the widget with the settings as typed
/// (checked as saving checks them, nothing stored) showing the site's first live
/// question, else a sample; a refused field answers 400 with the reason instead.
pub(super) async fn site_preview(
    State(state): State<ConsoleState>,
    current: CurrentAdmin,
    Path(site_id): Path<String>,
    Form(form): Form<PreviewForm>,
) -> Result<Response, ConsoleError> {
    let site = state.app.access(&current.admin).site(&site_id).await?;
    let checked = Look::parse(&form.preview_theme, &form.preview_width).and_then(|look| {
        let settings = checked_settings(&site.widget_settings, &form.widget.patch()?)?;
        Ok((look, settings))
    });
    let fragment = match checked {
        Ok((look, settings)) => {
            let prompt = state.app.prompts().sample(&site, None).await?;
            PreviewFragment {
                preview: Some(Preview::new(&prompt, &settings, look)),
                preview_error: None,
            }
        }
        Err(error) => {
            let fragment = PreviewFragment {
                preview: None,
                preview_error: Some(FieldError::from_error(error)?),
            };
            return render(StatusCode::BAD_REQUEST, &fragment);
        }
    };
    render(StatusCode::OK, &fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_adds_only_wasm_and_the_widget_stylesheet() {
        let policy = PREVIEW_CSP.as_str();
        let usual = super::super::CONTENT_SECURITY_POLICY;
        let added: Vec<&str> = policy
            .split(' ')
            .filter(|word| !usual.split(' ').any(|u| u == *word))
            .collect();
        assert_eq!(added.len(), 3, "{added:?}");
        assert_eq!(added[0], "'wasm-unsafe-eval';");
        assert!(added[1].starts_with("'sha256-") && added[1].ends_with('\''));
        // SHA-256 of the empty string.
        assert_eq!(
            added[2],
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';"
        );
    }

    #[test]
    fn looks_are_light_or_dark_and_desktop_or_phone() {
        let look = Look::parse("dark", "phone").unwrap();
        assert_eq!((look.theme, look.width), ("dark", "phone"));
        for (theme, width, field) in [
            ("dim", "phone", "preview_theme"),
            ("light", "tablet", "preview_width"),
        ] {
            let error = FieldError::from_error(Look::parse(theme, width).unwrap_err()).unwrap();
            assert_eq!(error.field, field);
        }
    }
}
