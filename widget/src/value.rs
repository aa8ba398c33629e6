//! The JSON values the renderer reads (prefills, bounds) and writes (answers, request
//! bodies, event details). A small stand-in for `serde_json::Value`: values cross into
//! the browser as JS objects and the browser's `JSON.stringify` writes the text, so
//! no JSON (de)serialiser and no float formatting is compiled into the Wasm.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A JSON value. Object members keep their order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// `{key: value, …}` from pairs.
    pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
        Value::Object(members.map(|(k, v)| (k.to_owned(), v)).into())
    }

    /// Adds (or replaces) a member of an object; other values are left alone.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(members) = self {
            members.retain(|(k, _)| k != key);
            members.push((key.to_owned(), value));
        }
    }

    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Reads a JS value (a parsed JSON object from the loader or a response).
    pub fn from_js(v: &JsValue) -> Value {
        if let Some(s) = v.as_string() {
            Value::String(s)
        } else if let Some(b) = v.as_bool() {
            Value::Bool(b)
        } else if let Some(n) = v.as_f64() {
            Value::Number(n)
        } else if Array::is_array(v) {
            Value::Array(
                Array::from(v)
                    .iter()
                    .map(|item| Value::from_js(&item))
                    .collect(),
            )
        } else if v.is_object() {
            let keys = Object::keys(&Object::from(v.clone()));
            let members = keys.iter().filter_map(|key| {
                let value = Reflect::get(v, &key).ok()?;
                Some((key.as_string()?, Value::from_js(&value)))
            });
            Value::Object(members.collect())
        } else {
            Value::Null
        }
    }

    /// The same value as a JS one.
    pub fn to_js(&self) -> JsValue {
        match self {
            Value::Null => JsValue::NULL,
            Value::Bool(b) => JsValue::from_bool(*b),
            Value::Number(n) => JsValue::from_f64(*n),
            Value::String(s) => JsValue::from_str(s),
            Value::Array(items) => items.iter().map(Value::to_js).collect::<Array>().into(),
            Value::Object(members) => {
                let object = Object::new();
                for (key, value) in members {
                    let _ = Reflect::set(&object, &JsValue::from_str(key), &value.to_js());
                }
                object.into()
            }
        }
    }

    /// JSON text, written by the browser's `JSON.stringify`.
    pub fn to_json(&self) -> String {
        js_sys::JSON::stringify(&self.to_js())
            .map(String::from)
            .unwrap_or_default()
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn set_replaces_a_member_and_get_finds_it() {
        let mut v = Value::object([("a", 1.0.into()), ("b", "x".into())]);
        v.set("a", true.into());
        assert_eq!(v.get("a"), Some(&Value::Bool(true)));
        assert_eq!(v.get("b").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("c"), None);
        let mut not_an_object = Value::Null;
        not_an_object.set("a", Value::Null);
        assert_eq!(not_an_object, Value::Null);
    }
}
