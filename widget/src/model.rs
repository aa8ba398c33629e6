//! What the renderer receives from the loader: a prompt (the shape of
//! `GET /v1/widget/next`) and the site's widget settings, read from JS objects with
//! `Reflect` rather than serde: serde's deserialisers were the largest part of the
//! Wasm after Yew itself.

use js_sys::{Array, Object, Reflect};
use trickle_rules::widget_look::{
    DEFAULT_BRAND_COLOR, DEFAULT_CORNER, DEFAULT_FONT, DEFAULT_MODE, DEFAULT_RADIUS_PX,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::value::Value;

/// A prompt, as the server sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub question_set: String,
    pub version: i64,
    pub position: Position,
    pub question: Question,
    pub locale: String,
}

/// "2 of 3" progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub index: u32,
    pub of: u32,
}

/// A localised question; fields that do not apply are absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Question {
    pub key: String,
    /// The question type (`type` in JSON).
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
    /// Texts not in the requested language, as `(field, locale)`: `title`, `description`,
    /// `min_label`, …, `options.N` (the prompt's `fallback_locales`).
    pub fallbacks: Vec<(String, String)>,
}

/// A choice option.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The site's look and placement (a subset of the server's `WidgetSettings`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub corner: String,
    pub theme: Theme,
}

/// Colours, font and radius.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub mode: String,
    pub brand_color: String,
    pub font: String,
    pub radius_px: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            corner: DEFAULT_CORNER.into(),
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

impl Question {
    /// The language a text fell back to, when it is not the widget's; `None` when it
    /// is in the widget's.
    pub fn fallback_locale(&self, field: &str) -> Option<&str> {
        self.fallbacks
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, locale)| locale.as_str())
    }

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

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(v: &JsValue, key: &str) -> Option<String> {
    get(v, key).as_string()
}

fn number(v: &JsValue, key: &str) -> Option<f64> {
    get(v, key).as_f64()
}

fn whole(v: &JsValue, key: &str) -> Option<u32> {
    number(v, key).map(|n| n as u32)
}

fn optional_value(v: &JsValue, key: &str) -> Option<Value> {
    let value = get(v, key);
    (!value.is_undefined() && !value.is_null()).then(|| Value::from_js(&value))
}

/// The string-valued entries of an object (none when it is not one).
fn string_map(v: &JsValue) -> Vec<(String, String)> {
    if !v.is_object() {
        return Vec::new();
    }
    Object::entries(v.unchecked_ref())
        .iter()
        .filter_map(|entry| {
            let pair = Array::from(&entry);
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

impl Prompt {
    /// Reads a prompt object; `None` when it is not one.
    pub fn from_js(v: &JsValue) -> Option<Prompt> {
        if !v.is_object() {
            return None;
        }
        let position = get(v, "position");
        Some(Prompt {
            question_set: string(v, "question_set")?,
            version: number(v, "version")? as i64,
            position: Position {
                index: whole(&position, "index").unwrap_or(1),
                of: whole(&position, "of").unwrap_or(1),
            },
            question: Question::from_js(&get(v, "question"))?,
            locale: string(v, "locale").unwrap_or_default(),
        })
    }
}

impl Question {
    fn from_js(q: &JsValue) -> Option<Question> {
        let options = get(q, "options");
        let options = if Array::is_array(&options) {
            Array::from(&options)
                .iter()
                .filter_map(|o| {
                    Some(Choice {
                        value: string(&o, "value")?,
                        label: string(&o, "label")?,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(Question {
            key: string(q, "key")?,
            kind: string(q, "type")?,
            title: string(q, "title").unwrap_or_default(),
            description: string(q, "description"),
            placeholder: string(q, "placeholder"),
            required: get(q, "required").as_bool().unwrap_or(false),
            options,
            allow_other: get(q, "allow_other").as_bool().unwrap_or(false),
            min: optional_value(q, "min"),
            max: optional_value(q, "max"),
            min_length: whole(q, "min_length"),
            max_length: whole(q, "max_length"),
            pattern: string(q, "pattern"),
            min_selected: whole(q, "min_selected"),
            max_selected: whole(q, "max_selected"),
            integer: get(q, "integer").as_bool(),
            min_label: string(q, "min_label"),
            max_label: string(q, "max_label"),
            true_label: string(q, "true_label"),
            false_label: string(q, "false_label"),
            prefill: optional_value(q, "prefill"),
            fallbacks: string_map(&get(q, "fallback_locales")),
        })
    }
}

impl Settings {
    /// Reads the settings object; defaults for whatever is missing.
    pub fn from_js(v: &JsValue) -> Settings {
        let mut settings = Settings::default();
        if !v.is_object() {
            return settings;
        }
        if let Some(corner) = string(v, "corner") {
            settings.corner = corner;
        }
        let theme = get(v, "theme");
        if theme.is_object() {
            let t = &mut settings.theme;
            t.mode = string(&theme, "mode").unwrap_or(std::mem::take(&mut t.mode));
            t.brand_color =
                string(&theme, "brand_color").unwrap_or(std::mem::take(&mut t.brand_color));
            t.font = string(&theme, "font").unwrap_or(std::mem::take(&mut t.font));
            t.radius_px = whole(&theme, "radius_px").unwrap_or(t.radius_px);
        }
        settings
    }
}
