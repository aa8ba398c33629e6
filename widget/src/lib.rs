//! The Trickle widget's renderer: a Yew app compiled to Wasm, loaded by the small
//! hand-written loader (`widget/loader.js`, served as `/widget.js`) only when a
//! prompt is due.
//!
//! The split: the loader owns the network (requests, retries, the offline outbox,
//! headless mode); the renderer owns the UI. The loader mounts it with a `host`
//! object: `{prompt, settings, locale, send(kind, body), emit(name, detail), close()}`
//! (`prompt` and `settings` as parsed JSON objects). The console's live preview
//! (`api/assets/console/preview.js`) mounts it with a host that records nothing.

mod app;
mod bridge;
mod countries;
mod i18n;
mod model;
mod text;
mod validate;
mod value;

pub use bridge::Bridge;
pub use model::{Choice, Prompt, Question, Settings};
pub use validate::{Draft, Problem, validate};
pub use value::Value;

use wasm_bindgen::prelude::*;

// Unit tests run natively and, through `wasm-bindgen-test-runner`, in headless Chromium.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Renders `prompt` into `root` (an element inside the loader's open shadow root) and
/// returns a function that unmounts it (the console's preview remounts on every change;
/// the loader removes the element instead). Errors are returned to the caller, never
/// thrown into the host page.
#[wasm_bindgen]
pub fn mount(root: web_sys::Element, host: JsValue) -> Result<JsValue, JsValue> {
    let bridge = Bridge::new(host);
    let prompt = Prompt::from_js(&bridge.get("prompt"))
        .ok_or_else(|| JsValue::from_str("trickle: the prompt is not valid"))?;
    let settings = Settings::from_js(&bridge.get("settings"));
    let locale = Some(bridge.field("locale"))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| prompt.locale.clone());
    let props = app::Props {
        prompt,
        settings,
        locale,
        bridge,
    };
    let handle = yew::Renderer::<app::App>::with_root_and_props(root, props).render();
    Ok(Closure::once_into_js(move || handle.destroy()))
}
