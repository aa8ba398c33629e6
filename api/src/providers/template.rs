//! URL templates (`{email}` placeholders, `${VAR}` environment references)
//! and JSON pointer checks for the http provider.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Subject;

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const VALUE_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value the URL template can take from the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholder {
    /// `{email}`: the e-mail address, trimmed.
    Email,
    /// `{domain}`: the e-mail's domain, lower-cased.
    Domain,
    /// `{ip}`: the login IP address.
    Ip,
    /// `{user_id}`: the user id.
    UserId,
}

impl Placeholder {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "email" => Some(Placeholder::Email),
            "domain" => Some(Placeholder::Domain),
            "ip" => Some(Placeholder::Ip),
            "user_id" => Some(Placeholder::UserId),
            _ => None,
        }
    }

    /// The subject's value for this placeholder, if it has one.
    fn value(self, subject: &Subject) -> Option<String> {
        let value = match self {
            Placeholder::Email => subject.email.as_deref().map(str::trim).map(str::to_owned),
            Placeholder::Domain => subject.email.as_deref().and_then(email_domain),
            Placeholder::Ip => subject.ip.map(|ip| ip.to_string()),
            Placeholder::UserId => Some(subject.user_id.clone()),
        };
        value.filter(|v| !v.is_empty())
    }
}

/// The lower-cased domain of an e-mail address (after the last `@`), if any.
pub(crate) fn email_domain(email: &str) -> Option<String> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_lowercase();
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.contains("..")
        && !domain
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@/\\?#[]".contains(c));
    plausible.then_some(domain)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Value(Placeholder),
}

/// A parsed URL template: literal text (with `${VAR}` already substituted)
/// and placeholders filled per lookup.
#[derive(Debug, Clone)]
pub(crate) struct UrlTemplate {
    segments: Vec<Segment>,
}

impl UrlTemplate {
    /// Parses `template`, substituting `${VAR}` through `env`. The rendered
    /// URL must be an absolute `http`/`https` URL.
    pub(crate) fn parse(
        template: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(pos) = rest.find(['{', '}', '$']) {
            literal.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("${") {
                let (name, next) = split_braced(after).ok_or("unclosed `${` in url")?;
                literal.push_str(&env_value(name, env)?);
                rest = next;
            } else if let Some(after) = tail.strip_prefix('{') {
                let (name, next) = split_braced(after).ok_or("unclosed `{` in url")?;
                let placeholder = Placeholder::parse(name).ok_or_else(|| {
                    format!("unknown placeholder `{{{name}}}` in url (known: {{email}} {{domain}} {{ip}} {{user_id}})")
                })?;
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
                segments.push(Segment::Value(placeholder));
                rest = next;
            } else if tail.starts_with('}') {
                return Err("unmatched `}` in url".to_owned());
            } else {
                literal.push('$');
                rest = &tail[1..];
            }
        }
        literal.push_str(rest);
        segments.push(Segment::Literal(literal));
        segments.retain(|s| !matches!(s, Segment::Literal(l) if l.is_empty()));
        let parsed = UrlTemplate { segments };
        parsed.check_renders()?;
        Ok(parsed)
    }

    /// Renders the URL for `subject`; `None` when a placeholder has no value.
    pub(crate) fn render(&self, subject: &Subject) -> Option<String> {
        let mut url = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => url.push_str(text),
                Segment::Value(placeholder) => {
                    let value = placeholder.value(subject)?;
                    url.extend(utf8_percent_encode(&value, VALUE_ENCODE_SET));
                }
            }
        }
        Some(url)
    }

    /// Checks that the template renders to an absolute http(s) URL.
    fn check_renders(&self) -> Result<(), String> {
        let sample = Subject {
            user_id: "user".into(),
            email: Some("someone@example.com".into()),
            ip: Some(std::net::Ipv4Addr::new(192, 0, 2, 1).into()),
            user_agent: None,
        };
        let rendered = self.render(&sample).unwrap_or_default();
        // The URL may contain secrets from ${VAR}: the error names no part of it.
        let url =
            url::Url::parse(&rendered).map_err(|e| format!("url is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err("url must be an absolute http:// or https:// URL".to_owned());
        }
        Ok(())
    }
}

/// Splits `name}rest` into `(name, rest)`.
fn split_braced(text: &str) -> Option<(&str, &str)> {
    let end = text.find('}')?;
    Some((&text[..end], &text[end + 1..]))
}

/// Replaces every `${VAR}` in `text` with the environment's value. A `$` not
/// followed by `{` is kept as is.
pub(crate) fn substitute_env(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        out.push_str(&rest[..pos]);
        let (name, next) = split_braced(&rest[pos + 2..]).ok_or("unclosed `${`")?;
        out.push_str(&env_value(name, env)?);
        rest = next;
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of environment variable `name`; an unset or empty variable is an error.
fn env_value(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`${{{name}}}` is not a valid environment variable reference"
        ));
    }
    env(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set (or empty)"))
}

/// Checks an RFC 6901 JSON pointer: empty, or `/`-separated tokens where `~`
/// is only followed by `0` or `1`.
pub(crate) fn check_json_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "JSON pointer `{pointer}` must be empty or start with `/`"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "JSON pointer `{pointer}` has a `~` not followed by 0 or 1"
            ));
        }
    }
    Ok(())
}
