//! URL and JSON body templates (`{email}` or `{app_metadata.…}` placeholders,
//! `${VAR}` environment references) and JSON pointer checks for the http provider.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::Subject;
use crate::questions::paths::{Profile, ProfilePath};

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const VALUE_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value a template can take from the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placeholder {
    /// `{email}`: the e-mail address, trimmed.
    Email,
    /// `{domain}`: the e-mail's domain, lower-cased.
    Domain,
    /// `{ip}`: the login IP address.
    Ip,
    /// `{user_id}`: the user id.
    UserId,
    /// `{user_metadata.…}` or `{app_metadata.…}`: a profile value.
    Path(String),
}

impl Placeholder {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "email" => Some(Placeholder::Email),
            "domain" => Some(Placeholder::Domain),
            "ip" => Some(Placeholder::Ip),
            "user_id" => Some(Placeholder::UserId),
            _ => match ProfilePath::parse(name)? {
                ProfilePath::User(_) if name.starts_with("user_metadata.") => {
                    Some(Placeholder::Path(name.to_owned()))
                }
                ProfilePath::App(_) => Some(Placeholder::Path(name.to_owned())),
                _ => None,
            },
        }
    }

    /// The subject's value for this placeholder, if it has one. A profile value that
    /// is a string is taken as is; numbers and booleans as their JSON text; lists and
    /// objects are not template values.
    fn value(&self, subject: &Subject) -> Option<String> {
        let value = match self {
            Placeholder::Email => subject.email.as_deref().map(str::trim).map(str::to_owned),
            Placeholder::Domain => subject.email.as_deref().and_then(email_domain),
            Placeholder::Ip => subject.ip.map(|ip| ip.to_string()),
            Placeholder::UserId => Some(subject.user_id.clone()),
            Placeholder::Path(path) => {
                let profile = Profile {
                    user_metadata: &subject.user_metadata,
                    app_metadata: &subject.app_metadata,
                    login_count: 0,
                    first_login_at: None,
                    last_login_at: None,
                };
                match profile.value(path, chrono::Utc::now())?.as_ref() {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }
            }
        };
        value.filter(|v| !v.is_empty())
    }

    /// A stand-in value for checking a template at start-up.
    fn sample(&self) -> String {
        match self {
            Placeholder::Email => "someone@example.com".into(),
            Placeholder::Domain => "example.com".into(),
            Placeholder::Ip => "192.0.2.1".into(),
            Placeholder::UserId => "user".into(),
            Placeholder::Path(_) => "0".into(),
        }
    }

    /// The placeholder as written between braces (`email`, `user_metadata.twitter`).
    pub(crate) fn name(&self) -> &str {
        match self {
            Placeholder::Email => "email",
            Placeholder::Domain => "domain",
            Placeholder::Ip => "ip",
            Placeholder::UserId => "user_id",
            Placeholder::Path(path) => path,
        }
    }

    /// The profile path this placeholder reads, if it is one.
    pub(crate) fn path(&self) -> Option<&str> {
        match self {
            Placeholder::Path(path) => Some(path),
            _ => None,
        }
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

/// How a template's values are written into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// Percent-encoded (everything but RFC 3986 unreserved characters).
    Url,
    /// JSON-escaped as the inside of a JSON string.
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Value(Placeholder),
}

/// A parsed template: literal text (with `${VAR}` already substituted) and
/// placeholders filled per lookup.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    segments: Vec<Segment>,
    escape: Escape,
}

/// Whether `name` looks like a placeholder (so `{` … `}` in a JSON body that is not
/// one stays literal).
fn looks_like_placeholder(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl Template {
    /// Parses `template` (called `what` in messages), substituting `${VAR}` through
    /// `env`. In a URL every `{…}` is a placeholder; in a JSON body only `{name}`
    /// where name is made of `[A-Za-z0-9_.-]` is one, other braces are JSON.
    pub(crate) fn parse(
        template: &str,
        env: &dyn Fn(&str) -> Option<String>,
        escape: Escape,
        what: &str,
    ) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        let strict = escape == Escape::Url;
        while let Some(pos) = rest.find(['{', '}', '$']) {
            literal.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("${") {
                let (name, next) =
                    split_braced(after).ok_or_else(|| format!("unclosed `${{` in {what}"))?;
                literal.push_str(&env_value(name, env)?);
                rest = next;
            } else if let Some(after) = tail.strip_prefix('{') {
                match split_braced(after) {
                    Some((name, next)) if strict || looks_like_placeholder(name) => {
                        let placeholder = Placeholder::parse(name).ok_or_else(|| {
                            format!("unknown placeholder `{{{name}}}` in {what} (known: {{email}} {{domain}} {{ip}} {{user_id}} and profile paths such as {{user_metadata.x}} or {{app_metadata.enrichment.NAME.field}})")
                        })?;
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                        segments.push(Segment::Value(placeholder));
                        rest = next;
                    }
                    None if strict => return Err(format!("unclosed `{{` in {what}")),
                    _ => {
                        literal.push('{');
                        rest = after;
                    }
                }
            } else if let Some(after) = tail.strip_prefix('}') {
                if strict {
                    return Err(format!("unmatched `}}` in {what}"));
                }
                literal.push('}');
                rest = after;
            } else {
                literal.push('$');
                rest = &tail[1..];
            }
        }
        literal.push_str(rest);
        segments.push(Segment::Literal(literal));
        segments.retain(|s| !matches!(s, Segment::Literal(l) if l.is_empty()));
        Ok(Template { segments, escape })
    }

    /// Renders the template for `subject`; `None` when a placeholder has no value.
    pub(crate) fn render(&self, subject: &Subject) -> Option<String> {
        self.render_with(&|placeholder| placeholder.value(subject))
    }

    /// Renders with stand-in values, for checks at start-up.
    pub(crate) fn render_sample(&self) -> String {
        self.render_with(&|placeholder| Some(placeholder.sample()))
            .expect("samples always have a value")
    }

    fn render_with(&self, value: &dyn Fn(&Placeholder) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Value(placeholder) => {
                    let value = value(placeholder)?;
                    match self.escape {
                        Escape::Url => out.extend(utf8_percent_encode(&value, VALUE_ENCODE_SET)),
                        Escape::Json => {
                            let quoted = Value::String(value).to_string();
                            out.push_str(&quoted[1..quoted.len() - 1]);
                        }
                    }
                }
            }
        }
        Some(out)
    }

    /// The template's placeholders, in order.
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Value(placeholder) => Some(placeholder),
            Segment::Literal(_) => None,
        })
    }

    /// The values of the template's placeholders for `subject`, in order; `None`
    /// when one has no value.
    pub(crate) fn values(&self, subject: &Subject) -> Option<Vec<String>> {
        self.placeholders().map(|p| p.value(subject)).collect()
    }
}

/// A URL template: a [`Template`] that renders to an absolute http(s) URL.
#[derive(Debug, Clone)]
pub(crate) struct UrlTemplate(Template);

impl UrlTemplate {
    /// Parses `template`, substituting `${VAR}` through `env`. The rendered
    /// URL must be an absolute `http`/`https` URL.
    pub(crate) fn parse(
        template: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let parsed = Template::parse(template, env, Escape::Url, "url")?;
        let rendered = parsed.render_sample();
        // The URL may contain secrets from ${VAR}: the error names no part of it.
        let url =
            url::Url::parse(&rendered).map_err(|e| format!("url is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err("url must be an absolute http:// or https:// URL".to_owned());
        }
        Ok(UrlTemplate(parsed))
    }

    /// Renders the URL for `subject`; `None` when a placeholder has no value.
    pub(crate) fn render(&self, subject: &Subject) -> Option<String> {
        self.0.render(subject)
    }

    /// The underlying template.
    pub(crate) fn template(&self) -> &Template {
        &self.0
    }
}

/// A JSON body template: a [`Template`] whose rendering is valid JSON.
#[derive(Debug, Clone)]
pub(crate) struct BodyTemplate(Template);

impl BodyTemplate {
    /// Parses `template`; with stand-in values it must render to valid JSON.
    pub(crate) fn parse(
        template: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let parsed = Template::parse(template, env, Escape::Json, "body")?;
        serde_json::from_str::<Value>(&parsed.render_sample())
            .map_err(|e| format!("body is not valid JSON with its values filled in ({e})"))?;
        Ok(BodyTemplate(parsed))
    }

    /// Renders the body for `subject`: `None` when a placeholder has no value, an
    /// error when the values make it invalid JSON (a bare placeholder given text).
    pub(crate) fn render(&self, subject: &Subject) -> Option<Result<Value, String>> {
        let text = self.0.render(subject)?;
        Some(
            serde_json::from_str(&text).map_err(|e| {
                format!("body is not valid JSON with this user's values filled in ({e})")
            }),
        )
    }

    /// The underlying template.
    pub(crate) fn template(&self) -> &Template {
        &self.0
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
