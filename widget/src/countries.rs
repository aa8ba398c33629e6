//! The country list: ISO 3166-1 alpha-2 codes, named in the user's language by
//! the browser (`Intl.DisplayNames`), so no name tables ship in the Wasm.

/// Every code a `country` answer may take (the shared rules' list).
pub const CODES: &str = trickle_rules::country::CODES;

/// `(code, localised name)` sorted by name.
#[cfg(target_arch = "wasm32")]
pub fn named(locale: &str) -> Vec<(&'static str, String)> {
    let namer = region_namer(locale);
    let mut list: Vec<_> = CODES
        .split(' ')
        .map(|code| {
            let name = namer
                .as_ref()
                .and_then(|(dn, of)| of.call1(dn, &code.into()).ok().and_then(|n| n.as_string()));
            (code, name.unwrap_or_else(|| code.to_owned()))
        })
        .collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list
}

/// Without a browser (native unit tests): the codes themselves.
#[cfg(not(target_arch = "wasm32"))]
pub fn named(_locale: &str) -> Vec<(&'static str, String)> {
    CODES.split(' ').map(|c| (c, c.to_owned())).collect()
}

#[cfg(target_arch = "wasm32")]
fn region_namer(locale: &str) -> Option<(wasm_bindgen::JsValue, js_sys::Function)> {
    use js_sys::{Array, Function, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let ctor: Function = Reflect::get(&intl, &"DisplayNames".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    Reflect::set(&options, &"type".into(), &"region".into()).ok()?;
    let args = Array::of2(&Array::of1(&JsValue::from_str(locale)), &options);
    let names = Reflect::construct(&ctor, &args).ok()?;
    let of: Function = Reflect::get(&names, &"of".into()).ok()?.dyn_into().ok()?;
    Some((names, of))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[test]
    fn every_code_is_listed_once() {
        let codes: Vec<_> = super::CODES.split(' ').collect();
        assert_eq!(codes.len(), 250);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
    }
}
