//! The JSON the renderer receives from the loader: a prompt (the shape of
//! `GET /v1/widget/next`) and the site's widget settings.

use serde::Deserialize;
use serde_json::Value;

/// A prompt, as the server sends it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Prompt {
    pub question_set: String,
    pub version: i64,
    pub position: Position,
    pub question: Question,
    #[serde(default)]
    pub locale: String,
}

/// "2 of 3" progress.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Position {
    pub index: u32,
    pub of: u32,
}

/// A localised question; fields that do not apply are absent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Question {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub placeholder: Option<String>,
    pub required: bool,
    pub options: Vec<Choice>,
    pub allow_other: bool,
    pub min: Option<Value>,
    pub max: Option<Value>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub pattern: Option<String>,
    pub min_selected: Option<u32>,
    pub max_selected: Option<u32>,
    pub integer: Option<bool>,
    pub min_label: Option<String>,
    pub max_label: Option<String>,
    pub true_label: Option<String>,
    pub false_label: Option<String>,
    pub prefill: Option<Value>,
}

/// A choice option.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The site's look and placement (a subset of the server's `WidgetSettings`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub corner: String,
    pub theme: Theme,
}

/// Colours, font and radius.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default)]
pub struct Theme {
    pub mode: String,
    pub brand_color: String,
    pub font: String,
    pub radius_px: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            corner: "bottom-right".into(),
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

impl Question {
    /// The bound as a number (number and scale questions).
    pub fn min_number(&self) -> Option<f64> {
        self.min.as_ref().and_then(Value::as_f64)
    }

    pub fn max_number(&self) -> Option<f64> {
        self.max.as_ref().and_then(Value::as_f64)
    }

    /// The bound as a `YYYY-MM-DD` string (date questions).
    pub fn min_date(&self) -> Option<&str> {
        self.min.as_ref().and_then(Value::as_str)
    }

    pub fn max_date(&self) -> Option<&str> {
        self.max.as_ref().and_then(Value::as_str)
    }
}
