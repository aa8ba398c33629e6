//! Web addresses: `http` or `https`, a host name (any script) or a dotted IPv4 address,
//! an optional port, then any path, query and fragment without white space. No user
//! name or password. Stricter than WHATWG parsing on purpose (no `http:/x`, no IPv6
//! literals, no `_` in host names), so that what passes here also parses as a WHATWG
//! URL; the server (the `url` crate) may still refuse a non-ASCII host that IDNA
//! processing refuses.

use alloc::string::String;

use crate::email::is_host_name;
use crate::refusal::{Refusal, Rule, refuse};

fn bad<T>() -> Result<T, Refusal> {
    refuse(Rule::Format, "must be an http or https URL")
}

/// Four decimal numbers 0–255 without leading zeros.
fn is_ipv4(host: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p == "0" || !p.starts_with('0'))
            && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    host.split('.').count() == 4 && host.split('.').all(part)
}

/// A host name whose last label starts with a letter (else WHATWG reads it as a
/// number), or an IPv4 address.
fn is_host(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or_default();
    is_ipv4(host) || (is_host_name(host, 1, 253) && last.starts_with(char::is_alphabetic))
}

/// Checks a trimmed URL and returns it normalised the cheap way: scheme and ASCII
/// letters of the host lower-cased, a default port dropped, `/` as the empty path.
/// The server stores the `url` crate's serialisation instead, which also
/// percent-encodes, resolves `.` and `..` segments and turns non-ASCII hosts into
/// Punycode.
pub fn normalise(s: &str) -> Result<String, Refusal> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let lower = |n: usize| s.get(..n).map(str::to_ascii_lowercase);
    let (scheme, rest) = match (lower(7).as_deref(), lower(8).as_deref()) {
        (Some("http://"), _) => ("http", &s[7..]),
        (_, Some("https://")) => ("https", &s[8..]),
        _ => return bad(),
    };
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return refuse(Rule::Format, "must not contain a user name or password");
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if !is_host(host) {
        return bad();
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = p.trim_start_matches('0');
            let value: u32 = if digits.is_empty() {
                0
            } else {
                digits.parse().unwrap_or(u32::MAX)
            };
            if digits.len() > 5 || value > 65535 {
                return bad();
            }
            let default = if scheme == "http" { 80 } else { 443 };
            (value != default).then_some(if digits.is_empty() { "0" } else { digits })
        }
        Some(_) => return bad(),
    };
    let mut out = String::with_capacity(s.len() + 1);
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(&host.to_ascii_lowercase());
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    if !tail.starts_with(['/', '\\']) {
        out.push('/');
    }
    out.push_str(tail);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let ok = |s: &str| normalise(s).ok();
        assert_eq!(
            ok("HTTPS://Example.COM").as_deref(),
            Some("https://example.com/")
        );
        assert_eq!(
            ok("http://ex.com:80?q=1").as_deref(),
            Some("http://ex.com/?q=1")
        );
        assert_eq!(
            ok("https://ex.com:08443/a#b").as_deref(),
            Some("https://ex.com:8443/a#b")
        );
        assert_eq!(
            ok("http://192.168.0.1/").as_deref(),
            Some("http://192.168.0.1/")
        );
        assert_eq!(
            ok("https://bücher.de").as_deref(),
            Some("https://bücher.de/")
        );
        assert_eq!(
            ok("http://localhost:3000").as_deref(),
            Some("http://localhost:3000/")
        );
        for bad in [
            "ftp://ex.com",
            "example.com",
            "https://",
            "https://u:p@ex.com",
            "https://ex.com:99999",
            "https://ex.com:x",
            "http://ex.123",
            "http://1.2.3.256",
            "http://01.2.3.4",
            "http://[::1]/",
            "https://ex com",
            "https://ex.com/a b",
            "javascript:alert(1)",
            "http:/ex.com",
            "https://-ex.com",
            "https://ex..com",
            "https://ex_ample.com",
            "https://ex.com.",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }
}
