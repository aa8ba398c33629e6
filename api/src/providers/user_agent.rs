//! The `user_agent` provider: browser, OS and device class from the `User-Agent`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{
    ConfigError, Lookup, Provider, ProviderError, Subject, UserAgentConfig, ttl_from_hours,
};

/// What woothee reports when it does not know.
const UNKNOWN: &str = "UNKNOWN";

/// Parses the subject's `User-Agent` with woothee.
pub(crate) struct UserAgentProvider {
    ttl: Duration,
    parser: woothee::parser::Parser,
}

impl UserAgentProvider {
    /// Builds the provider.
    pub(crate) fn new(config: &UserAgentConfig) -> Result<Self, ConfigError> {
        Ok(UserAgentProvider {
            ttl: ttl_from_hours("user_agent", config.ttl_hours)?,
            parser: woothee::parser::Parser::new(),
        })
    }

    /// The facts found in `agent`.
    fn parse(&self, agent: &str) -> Lookup {
        let Some(parsed) = self.parser.parse(agent) else {
            return Lookup::NothingKnown;
        };
        let device = device_class(parsed.category, parsed.os, agent);
        let mut fields = Map::new();
        insert_known(&mut fields, "browser", parsed.name);
        insert_known(&mut fields, "browser_version", parsed.version);
        insert_known(&mut fields, "os", parsed.os);
        if fields.is_empty() && device == "other" {
            return Lookup::NothingKnown;
        }
        fields.insert("device".into(), device.into());
        Lookup::Found(fields)
    }
}

/// Inserts `value` unless woothee did not know it.
fn insert_known(fields: &mut Map<String, Value>, key: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() && value != UNKNOWN {
        fields.insert(key.into(), value.into());
    }
}

/// Maps woothee's category to `desktop`, `mobile`, `tablet`, `bot` or `other`.
fn device_class(category: &str, os: &str, agent: &str) -> &'static str {
    match category {
        "pc" => "desktop",
        "crawler" => "bot",
        "smartphone" | "mobilephone" if is_tablet(os, agent) => "tablet",
        "smartphone" | "mobilephone" => "mobile",
        _ => "other",
    }
}

/// iPads, Android devices without "Mobile" in the agent, and agents saying "Tablet".
fn is_tablet(os: &str, agent: &str) -> bool {
    os == "iPad" || (os == "Android" && !agent.contains("Mobile")) || agent.contains("Tablet")
}

#[async_trait::async_trait]
impl Provider for UserAgentProvider {
    fn name(&self) -> &str {
        "user_agent"
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Its one input, always known (a missing one is looked up as nothing known).
    fn kind(&self) -> &str {
        "user_agent"
    }

    fn input_names(&self) -> Vec<String> {
        vec!["user_agent".into()]
    }

    fn inputs(&self, subject: &Subject) -> Option<Vec<String>> {
        Some(vec![subject.user_agent.clone().unwrap_or_default()])
    }

    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        match subject.user_agent.as_deref().map(str::trim) {
            Some(agent) if !agent.is_empty() => Ok(self.parse(agent)),
            _ => Ok(Lookup::NothingKnown),
        }
    }
}
