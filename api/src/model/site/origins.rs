//! A site's allowed origins: the one form browsers send in `Origin`, to which every
//! origin typed is brought, and the check of a stored one.

use serde::Deserialize;
use utoipa::ToSchema;

/// What an allowed origin may look like, as typed in ASCII (also the OpenAPI pattern of
/// [`Origin`], checked equal by a test): `http` or `https`, then a DNS host name whose
/// last label starts with a letter, or a dotted-quad IPv4 address, then an optional
/// port from 1 to 65535 and an optional `/`. This is the form a browser can put in
/// `Origin`; the URL standard admits more (`*` in a host, `%41`, hex IPv4, port 0),
/// none of which a page is ever served from. IPv6 literal hosts are not accepted.
pub const ORIGIN_PATTERN: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://",
    "(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    "|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))",
    "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    "/?$"
);

static ORIGIN_SHAPE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(ORIGIN_PATTERN).expect("a valid pattern"));

/// An allowed origin in the form browsers send in `Origin`, which is what it is compared
/// with: scheme and host lower-cased, an internationalised host in punycode, the
/// scheme's default port dropped, no trailing `/` (`HTTPS://Bücher.Example:443/` →
/// `https://xn--bcher-kva.example`). ASCII input must have the [`ORIGIN_PATTERN`]
/// shape; a host with other characters is converted to punycode (IDNA) and must have
/// it then. A path (other than a lone `/`), query, fragment, user name, password or
/// surrounding space is refused, not stripped: the site owner meant something this
/// setting cannot express.
pub fn canonical_origin(origin: &str) -> Result<String, String> {
    let refused = || {
        format!(
            "{origin:?} must be an origin like https://shop.example.com: http or https, a host \
             name or IPv4 address and an optional port, with no path, query or user name"
        )
    };
    if origin.is_ascii() && !ORIGIN_SHAPE.is_match(origin) {
        return Err(refused());
    }
    let parsed = url::Url::parse(origin).map_err(|e| format!("{origin:?} is not a URL: {e}"))?;
    let bare = parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !matches!(parsed.scheme(), "http" | "https") || !bare {
        return Err(refused());
    }
    let canonical = parsed.origin().ascii_serialization();
    if !ORIGIN_SHAPE.is_match(&canonical) {
        return Err(refused());
    }
    Ok(canonical)
}

/// Checks that an allowed origin is stored in its [`canonical_origin`] form; input is
/// canonicalised where it enters (the `PATCH /v1/site` body, `trickle site create`).
pub fn validate_origin(origin: &str) -> Result<(), String> {
    let canonical = canonical_origin(origin)?;
    if canonical != origin {
        return Err(format!("{origin:?} must be written {canonical:?}"));
    }
    Ok(())
}

/// Origins in their canonical form; ones that are no origin at all are kept as typed,
/// for the site check to refuse with their position and the reason.
pub(super) fn canonical_origins<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let origins = Option::<Vec<String>>::deserialize(deserializer)?;
    Ok(origins.map(|origins| {
        origins
            .into_iter()
            .map(|origin| canonical_origin(&origin).unwrap_or(origin))
            .collect()
    }))
}

/// An allowed origin (documentation only): its pattern is [`ORIGIN_PATTERN`]; a host
/// with non-ASCII characters is accepted too and stored in punycode.
#[derive(ToSchema)]
#[schema(
    pattern = "^[Hh][Tt][Tt][Pp][Ss]?://(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?/?$",
    example = "https://shop.example.com"
)]
#[allow(dead_code)]
pub struct Origin(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonicalised_as_browsers_send_them() {
        for (typed, canonical) in [
            ("https://shop.example.com", "https://shop.example.com"),
            ("https://shop.example.com/", "https://shop.example.com"),
            ("HTTPS://Shop.Example.COM:443/", "https://shop.example.com"),
            ("http://shop.example.com:80", "http://shop.example.com"),
            (
                "https://shop.example.com:8443/",
                "https://shop.example.com:8443",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://Bücher.example/", "https://xn--bcher-kva.example"),
            ("http://localhost:65535", "http://localhost:65535"),
        ] {
            assert_eq!(canonical_origin(typed).as_deref(), Ok(canonical), "{typed}");
        }
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for typed in [
            "https://shop.example.com/path",
            "https://shop.example.com//",
            "https://shop.example.com/?a=1",
            "https://shop.example.com/#top",
            "https://user:pw@shop.example.com",
            "ftp://shop.example.com",
            "file:///etc/passwd",
            "shop.example.com",
            "nonsense",
            // What the URL standard reads as a host but no browser is served from.
            "http://m9-i0xiw-z*",
            "http://%41.example",
            "http://0x7f.0.0.1",
            "http://127.1",
            "http://shop.example.com:0",
            "http://shop.example.com:080",
            "http://shop.example.com.",
            "http://[::1]:3000",
            " https://shop.example.com ",
            "https://shop.example.com\t",
            "http://bücher*.example",
        ] {
            assert!(canonical_origin(typed).is_err(), "{typed}");
        }
    }

    #[test]
    fn the_documented_origin_pattern_is_the_one_enforced() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Origin::schema()).unwrap();
        assert_eq!(schema["pattern"], ORIGIN_PATTERN);
    }

    #[test]
    fn only_canonical_origins_pass_the_stored_value_check() {
        assert!(validate_origin("https://shop.example.com").is_ok());
        let refusal = validate_origin("https://Shop.example.com/").unwrap_err();
        assert!(
            refusal.contains("\"https://shop.example.com\""),
            "{refusal}"
        );
    }
}
