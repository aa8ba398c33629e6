//! E-mail addresses: `local@domain`, the local part a dot-atom or a quoted string, the
//! domain a host name of at least two labels (a top-level domain is required). The
//! shape accepted is a subset of what the `email_address` crate accepts with display
//! names and domain literals off (`tests/against_crates.rs` checks this).

use alloc::string::String;

use crate::limits::{MAX_EMAIL_DOMAIN_BYTES, MAX_EMAIL_LOCAL_BYTES, MAX_LABEL_BYTES};
use crate::refusal::{Refusal, Rule, refuse};

/// `atext` of RFC 5322, with letters and digits of any script.
fn is_atext(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// A dot-atom (`jane.doe+news`) or a quoted string (`"jane doe"`), ASCII inside quotes.
fn is_local_part(local: &str) -> bool {
    if local.is_empty() || local.len() > MAX_EMAIL_LOCAL_BYTES {
        return false;
    }
    if let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        let mut chars = inner.chars();
        let mut any = false;
        while let Some(c) = chars.next() {
            let ok = match c {
                '\\' => chars.next().is_some_and(|e| e.is_ascii_graphic()),
                // `<` would be read as the start of an address by display-name parsers.
                '"' | '<' => false,
                c => c == ' ' || c.is_ascii_graphic(),
            };
            if !ok {
                return false;
            }
            any = true;
        }
        return any;
    }
    local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// Whether `domain` is a host name: at least `min_labels` labels of letters, digits and
/// inner hyphens (any script), each of at most 63 bytes.
pub(crate) fn is_host_name(domain: &str, min_labels: usize, max_bytes: usize) -> bool {
    let label = |l: &str| {
        let edge = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        l.len() <= MAX_LABEL_BYTES
            && edge(l.chars().next())
            && edge(l.chars().last())
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    domain.len() <= max_bytes
        && domain.split('.').count() >= min_labels
        && domain.split('.').all(label)
}

/// Splits a trimmed address into its local part and domain, or refuses it (`format`).
pub fn split(s: &str) -> Result<(&str, &str), Refusal> {
    match s.rsplit_once('@') {
        Some((local, domain))
            if is_local_part(local) && is_host_name(domain, 2, MAX_EMAIL_DOMAIN_BYTES) =>
        {
            Ok((local, domain))
        }
        _ => refuse(Rule::Format, "not a valid e-mail address"),
    }
}

/// Checks a trimmed address and returns it normalised: the domain lower-cased by
/// `lowercase` (Unicode lower case: `str::to_lowercase` on the server, the browser's
/// `toLowerCase` in the widget), the local part as given.
pub fn normalise(s: &str, lowercase: impl Fn(&str) -> String) -> Result<String, Refusal> {
    let (local, domain) = split(s)?;
    let mut out = String::with_capacity(s.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&lowercase(domain));
    // Lower-casing can change what the domain is made of (`İ` becomes `i` and a
    // combining dot): what is stored must pass the same check, so that storing is
    // idempotent (found by `rules/tests/fuzz.rs`: "a@Σ.İ").
    split(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for ok in [
            "a@b.co",
            "jane.doe+news@example.com",
            "\"jane doe\"@x.org",
            "\"a@b\"@x.org",
            "ü@bücher.de",
            "a@b-c.d1",
            "o'neil@x.ie",
        ] {
            assert!(split(ok).is_ok(), "{ok}");
        }
        // Valid as typed, but not once its domain is lower-cased.
        assert!(normalise("a@Σ.İ", str::to_lowercase).is_err());
        for bad in [
            "a@b",
            "a@@b.c",
            "@b.co",
            "a@.b.co",
            "a@b..co",
            "a@-b.co",
            "a@b-.co",
            "a.@b.co",
            ".a@b.co",
            "a..b@c.co",
            "a b@c.co",
            "\"\"@x.org",
            "\"a\"b\"@x.org",
            "a@b_c.co",
            "a@[1.2.3.4]",
            "Jane <j@x.org>",
            "a@b.c\u{7}",
            "a@b.co.",
        ] {
            assert!(split(bad).is_err(), "{bad}");
        }
        assert!(split(&alloc::format!("{}@x.org", "a".repeat(65))).is_err());
        assert!(split(&alloc::format!("a@{}.org", "b".repeat(64))).is_err());
    }
}
