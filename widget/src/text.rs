//! Number parsing and formatting and Unicode lower-casing, done by the browser in
//! the Wasm build and by `core` on the host, where the unit tests run. In the Wasm,
//! `core`'s float parser and formatter and its case tables would cost several KiB
//! that the browser already has.

/// A decimal number as a user types it (`2.5`, `-3`, `1e3`; the caller turns a
/// decimal comma into a point). `None` for anything else, hex and `Infinity` included.
pub fn parse_number(s: &str) -> Option<f64> {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if !plain {
        return None;
    }
    parse_plain(s).filter(|n| n.is_finite())
}

#[cfg(target_arch = "wasm32")]
fn parse_plain(s: &str) -> Option<f64> {
    // `Number("1e")` and `Number("1.2.3")` are NaN, as `str::parse` refuses them.
    let n = s.parse::<js_sys::Number>().ok()?.value_of();
    (!n.is_nan()).then_some(n)
}

#[cfg(not(target_arch = "wasm32"))]
fn parse_plain(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// The shortest text that reads back as `n` (`4`, `2.5`), as JSON writes it.
pub fn format_number(n: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Number::from(n)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        n.to_string()
    }
}

/// Unicode lower case (as the server normalises e-mail domains).
pub fn lowercase(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(s).to_lower_case().into()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        s.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_plain_decimal_numbers_parse() {
        assert_eq!(parse_number("2.5"), Some(2.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        for (text, n) in [
            ("1.", 1.0),
            (".5", 0.5),
            ("+5", 5.0),
            ("-.5", -0.5),
            ("1e+5", 1e5),
        ] {
            assert_eq!(parse_number(text), Some(n), "{text:?}");
        }
        for bad in [
            "", "0x10", "Infinity", "inf", "NaN", "1,5", " 1", "1e999", "+", "-.", "1e", "1.2.3",
        ] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn whole_numbers_format_without_a_fraction() {
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(2.5), "2.5");
    }
}
