//! Calls from the renderer into the loader's `host` object.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::value::Value;

/// The loader's `host` object.
#[derive(Clone, Debug)]
pub struct Bridge(JsValue);

impl PartialEq for Bridge {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

/// Why a request did not give an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The server refused it (422 and other 4xx): its message.
    Refused(String),
    /// The network failed even after the loader's retries; it is queued to be sent later.
    Queued,
}

impl Bridge {
    pub fn new(host: JsValue) -> Self {
        Bridge(host)
    }

    /// A field of `host`.
    pub fn get(&self, name: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A string field of `host`, empty when missing.
    pub fn field(&self, name: &str) -> String {
        self.get(name).as_string().unwrap_or_default()
    }

    fn call(&self, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let function: Function = self.get(name).dyn_into()?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(&self.0, &args)
    }

    /// `POST /v1/widget/<kind>` with a JSON body; the response body (may be empty).
    pub async fn send(&self, kind: &str, body: String) -> Result<String, Failure> {
        let promise = self
            .call("send", &[kind.into(), body.into()])
            .and_then(|p| p.dyn_into::<Promise>());
        let Ok(promise) = promise else {
            return Err(Failure::Queued);
        };
        match JsFuture::from(promise).await {
            Ok(text) => Ok(text.as_string().unwrap_or_default()),
            Err(reason) => {
                let message = Reflect::get(&reason, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string());
                Err(message.map_or(Failure::Queued, Failure::Refused))
            }
        }
    }

    /// Fires `trickle:<name>` on `document` with a JSON detail.
    pub fn emit(&self, name: &str, detail: &Value) {
        let _ = self.call("emit", &[name.into(), detail.to_json().into()]);
    }

    /// Removes the widget from the page.
    pub fn close(&self) {
        let _ = self.call("close", &[]);
    }

    /// Runs `f` after `ms` milliseconds.
    pub fn later(&self, ms: i32, f: impl FnOnce() + 'static) {
        let callback = wasm_bindgen::closure::Closure::once_into_js(f);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                ms,
            );
        }
    }

    /// Whether `text` fully matches the question's pattern (browser `RegExp`, Unicode mode).
    pub fn matches(pattern: &str, text: &str) -> bool {
        if cfg!(not(target_arch = "wasm32")) {
            return true;
        }
        let full = format!("^(?:{pattern})$");
        js_sys::RegExp::new(&full, "u").test(text)
    }
}
