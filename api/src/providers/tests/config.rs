//! Configuration parsing and validation.

use std::collections::BTreeMap;

use crate::providers::{
    ConfigError, EmailConfig, EnrichmentConfig, GeoipConfig, HttpProviderConfig, UserAgentConfig,
    build_providers, build_providers_with_env,
};

const EXAMPLE: &str = r#"
[enrichment.geoip]
database = "/path/GeoLite2-City.mmdb"
ttl_hours = 720
[enrichment.user_agent]
ttl_hours = 720
[enrichment.email]
[enrichment.http.company]
url = "https://api.example.com/v1/companies/find?domain={domain}"
headers = { Authorization = "Bearer ${COMPANY_API_KEY}" }
timeout_ms = 3000
map = { name = "/name", industry = "/category/industry", employees = "/metrics/employees" }
"#;

#[derive(serde::Deserialize)]
struct File {
    enrichment: EnrichmentConfig,
}

fn parse(toml_text: &str) -> Result<EnrichmentConfig, toml::de::Error> {
    toml::from_str::<File>(toml_text).map(|f| f.enrichment)
}

#[test]
fn example_toml_parses_with_defaults() {
    let config = parse(EXAMPLE).expect("parses");
    let geoip = GeoipConfig {
        database: "/path/GeoLite2-City.mmdb".into(),
        ttl_hours: 720,
    };
    assert_eq!(config.geoip, Some(geoip));
    assert_eq!(config.user_agent, Some(UserAgentConfig { ttl_hours: 720 }));
    assert_eq!(config.email, Some(EmailConfig { ttl_hours: 720 }));
    let company = &config.http["company"];
    assert_eq!(company.ttl_hours, 168);
    assert_eq!(company.timeout_ms, 3000);
    assert_eq!(
        company.headers["Authorization"],
        "Bearer ${COMPANY_API_KEY}"
    );
    assert_eq!(company.map["industry"].pointer(), "/category/industry");
    // Round trip through serde.
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        serde_json::from_value::<EnrichmentConfig>(json).unwrap(),
        config
    );
    assert_eq!(parse("[enrichment]").unwrap(), EnrichmentConfig::default());
}

#[test]
fn unknown_fields_are_rejected() {
    assert!(parse("[enrichment.geoip]\ndatabase = \"x\"\nttl = 1").is_err());
    assert!(parse("[enrichment.whois]\nttl_hours = 1").is_err());
    assert!(
        parse("[enrichment.http.a]\nurl = \"https://x/\"\nmap = { a = \"/a\" }\nverb = \"POST\"")
            .is_err()
    );
}

fn http_error(name: &str, mutate: impl FnOnce(&mut HttpProviderConfig)) -> ConfigError {
    let mut http = HttpProviderConfig {
        url: "https://api.example.com/find?domain={domain}".into(),
        map: BTreeMap::from([("name".into(), "/name".into())]),
        ..HttpProviderConfig::default()
    };
    mutate(&mut http);
    let config = EnrichmentConfig {
        http: BTreeMap::from([(name.to_owned(), http)]),
        ..Default::default()
    };
    build_providers_with_env(&config, &super::support::loopback(), &|_| {
        Some("value".into())
    })
    .err()
    .expect("config error")
}

#[test]
fn valid_http_provider_builds() {
    let config = EnrichmentConfig {
        http: BTreeMap::from([(
            "clear_bit-2".to_owned(),
            HttpProviderConfig {
                url: "https://api.example.com/find?domain={domain}&key=${KEY}&cost=$5".into(),
                map: BTreeMap::from([
                    ("name".into(), "/name".into()),
                    ("a/b".into(), "/a~1b/~0c".into()),
                ]),
                ..HttpProviderConfig::default()
            },
        )]),
        ..Default::default()
    };
    let providers =
        build_providers_with_env(&config, &super::support::loopback(), &|_| Some("k".into()))
            .expect("builds");
    assert_eq!(providers[0].name(), "clear_bit-2");
}

#[test]
fn bad_http_names_are_rejected() {
    for name in [
        "",
        "Company",
        "com pany",
        "geoip",
        "email",
        "user_agent",
        &"a".repeat(65),
    ] {
        let error = http_error(name, |_| {});
        assert_eq!(error.provider, format!("http.{name}"), "{error}");
    }
    assert!(http_error("geoip", |_| {}).message.contains("collides"));
}

#[test]
fn bad_url_templates_are_rejected() {
    let cases = [
        ("https://x.example/?q={name}", "unknown placeholder"),
        ("https://x.example/?q={email", "unclosed `{`"),
        ("https://x.example/?q=email}", "unmatched `}`"),
        ("https://x.example/?k=${KEY", "unclosed `${`"),
        (
            "https://x.example/?k=${1KEY}",
            "not a valid environment variable",
        ),
        ("ftp://x.example/{email}", "http:// or https://"),
        ("/relative/{email}", "not a valid URL"),
        ("", "not a valid URL"),
    ];
    for (url, expected) in cases {
        let error = http_error("company", |c| c.url = url.into());
        assert!(error.message.contains(expected), "{url}: {error}");
    }
}

/// A change to a valid http provider section.
type Mutation = Box<dyn FnOnce(&mut HttpProviderConfig)>;

#[test]
fn bad_maps_headers_and_limits_are_rejected() {
    let cases: [(Mutation, &str); 7] = [
        (
            Box::new(|c| c.map = BTreeMap::from([("n".into(), "name".into())])),
            "start with `/`",
        ),
        (
            Box::new(|c| c.map = BTreeMap::from([("n".into(), "/a~2".into())])),
            "not followed by 0 or 1",
        ),
        (Box::new(|c| c.map.clear()), "at least one field"),
        (
            Box::new(|c| c.map = BTreeMap::from([(" ".into(), "/a".into())])),
            "empty field name",
        ),
        (
            Box::new(|c| c.headers = BTreeMap::from([("Bad Header".into(), "v".into())])),
            "header name",
        ),
        (Box::new(|c| c.timeout_ms = 0), "timeout_ms"),
        (Box::new(|c| c.ttl_hours = 0), "ttl_hours"),
    ];
    for (mutate, expected) in cases {
        let error = http_error("company", mutate);
        assert!(error.message.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn zero_ttl_of_a_built_in_provider_is_rejected() {
    let config = EnrichmentConfig {
        email: Some(EmailConfig { ttl_hours: 0 }),
        ..Default::default()
    };
    let error = build_providers(&config, &super::support::loopback())
        .err()
        .expect("config error");
    assert_eq!(
        error.to_string(),
        "enrichment.email: ttl_hours must be at least 1"
    );
}

#[test]
fn nothing_configured_builds_nothing() {
    assert!(
        build_providers(&EnrichmentConfig::default(), &super::support::loopback())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_example_chain_builds_in_dependency_order() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/enrichment.toml");
    let mut config = parse(&std::fs::read_to_string(path).unwrap()).expect("parses");
    config.geoip = None; // the example names a database file that is not shipped
    let providers =
        build_providers_with_env(&config, &super::support::loopback(), &|_| Some("k".into()))
            .expect("builds");
    let names: Vec<&str> = providers.iter().map(|p| p.name()).collect();
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    assert!(at("person") < at("sentiment"), "{names:?}");
    assert!(at("user_agent") < at("fraud"), "{names:?}");
    assert!(providers[at("fraud")].when().is_some());
}

#[test]
fn maps_take_pointers_or_pointers_with_a_named_transform() {
    let config = parse(
        "[enrichment.http.p]\nurl = \"https://x.example/?e={email}\"\n\
         map = { a = \"/a\", b = { pointer = \"/b\", transform = \"years_since\" } }",
    )
    .expect("parses");
    let map = &config.http["p"].map;
    assert_eq!(map["a"], crate::providers::MapEntry::Pointer("/a".into()));
    assert_eq!(map["b"].pointer(), "/b");
    for bad in [
        "map = { b = { pointer = \"/b\", transform = \"upper\" } }",
        "map = { b = { pointer = \"/b\" } }",
        "method = \"PUT\"\nmap = { a = \"/a\" }",
    ] {
        let text = format!("[enrichment.http.p]\nurl = \"https://x.example/\"\n{bad}");
        assert!(parse(&text).is_err(), "{bad}");
    }
    let kept = http_error("p", |c| {
        c.map = BTreeMap::from([("fetched_at".into(), "/a".into())]);
    });
    assert!(kept.message.contains("Trickle's own stamp"), "{kept}");
}
