//! One subject through every provider, as the server will run them.

use std::collections::BTreeMap;

use serde_json::json;

use super::support::{API_TOKEN, start_api, write_mmdb};
use crate::providers::{
    EmailConfig, EnrichmentConfig, GeoipConfig, HttpProviderConfig, Lookup, Subject,
    UserAgentConfig, build_providers_with_env,
};

#[tokio::test]
async fn sample_subject_through_every_provider() {
    let dir = tempfile::tempdir().unwrap();
    let record = json!({
        "city": { "names": { "en": "London" } },
        "country": { "iso_code": "GB", "names": { "en": "United Kingdom" } },
        "location": { "time_zone": "Europe/London" },
        "subdivisions": [{ "iso_code": "ENG", "names": { "en": "England" } }]
    });
    let database = write_mmdb(
        dir.path(),
        "GeoLite2-City",
        true,
        &[("81.2.69.128/26", record)],
    );
    let base = start_api().await;
    let company = HttpProviderConfig {
        url: format!("{base}/company?domain={{domain}}"),
        headers: BTreeMap::from([("Authorization".into(), "Bearer ${COMPANY_API_KEY}".into())]),
        map: BTreeMap::from([
            ("name".into(), "/name".into()),
            ("industry".into(), "/category/industry".into()),
        ]),
        ..HttpProviderConfig::default()
    };
    let config = EnrichmentConfig {
        geoip: Some(GeoipConfig {
            database,
            ..GeoipConfig::default()
        }),
        user_agent: Some(UserAgentConfig::default()),
        email: Some(EmailConfig::default()),
        http: BTreeMap::from([("company".into(), company)]),
    };
    let env = |name: &str| (name == "COMPANY_API_KEY").then(|| API_TOKEN.to_owned());
    let providers = build_providers_with_env(&config, &super::support::loopback(), &env).unwrap();
    let subject = Subject {
        user_id: "user-42".into(),
        email: Some("jane.doe@gmail.com".into()),
        ip: Some("81.2.69.142".parse().unwrap()),
        user_agent: Some(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36"
                .into(),
        ),
        ..Subject::default()
    };
    let mut results = serde_json::Map::new();
    for provider in &providers {
        let value = match provider.lookup(&subject).await.unwrap() {
            Lookup::Found(fields) => serde_json::Value::Object(fields),
            Lookup::NothingKnown => serde_json::Value::Null,
        };
        println!("{}: {value}", provider.name());
        results.insert(provider.name().to_owned(), value);
    }
    let expected = json!({
        "geoip": { "country": "GB", "country_name": "United Kingdom", "region": "England",
                   "city": "London", "time_zone": "Europe/London" },
        "user_agent": { "browser": "Chrome", "browser_version": "124.0.0.0", "os": "Windows 10", "device": "desktop" },
        "email": { "domain": "gmail.com", "kind": "free" },
        "company": { "name": "Acme Corp", "industry": "Software" }
    });
    assert_eq!(serde_json::Value::Object(results), expected);
}
