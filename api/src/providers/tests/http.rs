//! The http provider against a local JSON API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::support::{API_TOKEN, found, start_api};
use crate::providers::{
    EnrichmentConfig, HttpProviderConfig, Lookup, Provider, ProviderError, Subject,
    build_providers, build_providers_with_env,
};

/// An `[enrichment.http.company]` section for `url`, mapping name/industry/employees.
fn company_config(url: String) -> HttpProviderConfig {
    HttpProviderConfig {
        url,
        headers: BTreeMap::from([("Authorization".into(), "Bearer ${COMPANY_API_KEY}".into())]),
        timeout_ms: 3000,
        ttl_hours: 168,
        map: BTreeMap::from([
            ("name".into(), "/name".into()),
            ("industry".into(), "/category/industry".into()),
            ("employees".into(), "/metrics/employees".into()),
            ("raised".into(), "/metrics/raised".into()),
            ("founded".into(), "/founded/year".into()),
        ]),
        ..HttpProviderConfig::default()
    }
}

/// Builds the http provider `company` with `COMPANY_API_KEY` set to the test token.
fn build(config: HttpProviderConfig) -> Arc<dyn Provider> {
    let config = EnrichmentConfig {
        http: BTreeMap::from([("company".into(), config)]),
        ..Default::default()
    };
    let env = |name: &str| (name == "COMPANY_API_KEY").then(|| API_TOKEN.to_owned());
    build_providers_with_env(&config, &super::support::loopback(), &env)
        .expect("builds")
        .remove(0)
}

fn subject() -> Subject {
    Subject {
        user_id: "u1".into(),
        email: Some("jane@Acme.example".into()),
        ..Subject::default()
    }
}

async fn lookup_error(provider: &dyn Provider) -> ProviderError {
    provider.lookup(&subject()).await.expect_err("lookup fails")
}

#[tokio::test]
async fn success_maps_pointers() {
    let base = start_api().await;
    let provider = build(company_config(format!("{base}/company?domain={{domain}}")));
    assert_eq!(provider.name(), "company");
    assert_eq!(provider.ttl(), Duration::from_secs(168 * 3600));
    // Null (`raised`) and absent (`founded`) values are left out.
    let expected = json!({ "name": "Acme Corp", "industry": "Software", "employees": 250 });
    assert_eq!(found(&*provider, &subject()).await, Some(expected));
}

#[tokio::test]
async fn header_takes_env_var_from_the_process_environment() {
    // `set_var` is unsafe (and the server forbids unsafe code), so this uses a
    // variable cargo sets for every test process.
    let base = start_api().await;
    let mut config = company_config(format!("{base}/headers"));
    config
        .headers
        .insert("X-Api-Key".into(), "key-${CARGO_PKG_NAME}".into());
    config.headers.remove("Authorization");
    config.map = BTreeMap::from([("key".into(), "/x-api-key".into())]);
    let config = EnrichmentConfig {
        http: BTreeMap::from([("company".into(), config)]),
        ..Default::default()
    };
    let provider = build_providers(&config, &super::support::loopback())
        .expect("builds")
        .remove(0);
    let expected = json!({ "key": format!("key-{}", env!("CARGO_PKG_NAME")) });
    assert_eq!(found(&*provider, &subject()).await, Some(expected));
}

#[tokio::test]
async fn whole_values_and_arrays_can_be_mapped() {
    let base = start_api().await;
    let mut config = company_config(format!("{base}/company?domain={{domain}}"));
    config.map = BTreeMap::from([
        ("tags".into(), "/tags".into()),
        ("first_tag".into(), "/tags/0".into()),
    ]);
    let expected = json!({ "tags": ["b2b", "saas"], "first_tag": "b2b" });
    assert_eq!(found(&*build(config), &subject()).await, Some(expected));
}

#[tokio::test]
async fn nothing_mapped_is_nothing_known() {
    let base = start_api().await;
    let mut config = company_config(format!("{base}/company?domain={{domain}}"));
    config.map = BTreeMap::from([
        ("x".into(), "/no/such/field".into()),
        ("y".into(), "/metrics/raised".into()),
    ]);
    assert_eq!(found(&*build(config), &subject()).await, None);
}

#[tokio::test]
async fn not_found_is_nothing_known() {
    let base = start_api().await;
    assert_eq!(
        found(
            &*build(company_config(format!("{base}/missing"))),
            &subject()
        )
        .await,
        None
    );
}

#[tokio::test]
async fn missing_placeholder_value_is_nothing_known_without_a_request() {
    // Nothing listens on port 9 of 127.0.0.1: a request would fail, not return NothingKnown.
    let provider = build(company_config(
        "http://127.0.0.1:9/x?ip={ip}&d={domain}".into(),
    ));
    assert_eq!(found(&*provider, &subject()).await, None);
    let no_email = Subject {
        user_id: "u1".into(),
        ip: Some("81.2.69.142".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(found(&*provider, &no_email).await, None);
}

#[tokio::test]
async fn server_error_is_retryable_then_success() {
    let base = start_api().await;
    let provider = build(company_config(format!("{base}/flaky")));
    match lookup_error(&*provider).await {
        ProviderError::Retryable(message) => assert!(message.contains("500"), "{message}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert_eq!(
        found(&*provider, &subject()).await,
        Some(json!({ "name": "Flaky Inc" }))
    );
}

#[tokio::test]
async fn too_many_requests_is_retryable() {
    let base = start_api().await;
    match lookup_error(&*build(company_config(format!("{base}/limited")))).await {
        ProviderError::Retryable(message) => {
            assert!(
                message.contains("429") && message.contains("retry-after: 7"),
                "{message}"
            )
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn hanging_server_times_out_as_retryable() {
    let base = start_api().await;
    let mut config = company_config(format!("{base}/hang"));
    config.timeout_ms = 500;
    let provider = build(config);
    let started = Instant::now();
    let error = lookup_error(&*provider).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(450), "took {elapsed:?}");
    match error {
        ProviderError::Retryable(message) => assert!(message.contains("timed out"), "{message}"),
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = lookup_error(&*build(company_config(format!(
        "http://{addr}/x?e={{email}}"
    ))))
    .await;
    assert!(matches!(error, ProviderError::Retryable(_)), "{error:?}");
    // The URL (personal data) is not part of the message.
    assert!(!error.to_string().contains("jane"), "{error}");
}

#[tokio::test]
async fn malformed_json_is_retryable() {
    let base = start_api().await;
    match lookup_error(&*build(company_config(format!("{base}/malformed")))).await {
        ProviderError::Retryable(message) => {
            assert!(message.contains("not valid JSON"), "{message}")
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn unauthorized_is_permanent_and_reveals_no_secret() {
    let base = start_api().await;
    for url in [
        format!("{base}/unauthorized"),
        format!("{base}/company?domain={{domain}}&k=${{COMPANY_API_KEY}}"),
    ] {
        let mut config = company_config(url);
        config.headers.insert(
            "Authorization".into(),
            "Bearer ${COMPANY_API_KEY}-wrong".into(),
        );
        let error = lookup_error(&*build(config)).await;
        let ProviderError::Permanent(message) = &error else {
            panic!("expected Permanent, got {error:?}")
        };
        assert!(message.contains("401"), "{message}");
        assert!(
            !message.contains(API_TOKEN) && !message.contains("jane"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn placeholder_values_are_percent_encoded() {
    let base = start_api().await;
    let mut config = company_config(format!(
        "{base}/echo/{{user_id}}?email={{email}}&domain={{domain}}&ip={{ip}}"
    ));
    config.map = BTreeMap::from([("uri".into(), "/uri".into())]);
    let subject = Subject {
        user_id: "ü ser/1?#".into(),
        email: Some("A+B&c=d@Example.COM".into()),
        ip: Some("2001:218::1".parse().unwrap()),
        ..Subject::default()
    };
    let Lookup::Found(fields) = build(config).lookup(&subject).await.unwrap() else {
        panic!("nothing found")
    };
    let expected = "/echo/%C3%BC%20ser%2F1%3F%23?email=A%2BB%26c%3Dd%40Example.COM&domain=example.com&ip=2001%3A218%3A%3A1";
    assert_eq!(fields["uri"], expected);
}

#[test]
fn missing_env_var_is_a_config_error_naming_only_the_variable() {
    let mut config =
        company_config("https://api.example.com/v1/companies/find?domain={domain}".into());
    config.headers.insert(
        "Authorization".into(),
        "Bearer ${TRICKLE_ENRICH_TEST_SURELY_UNSET}".into(),
    );
    let config = EnrichmentConfig {
        http: BTreeMap::from([("company".into(), config)]),
        ..Default::default()
    };
    let error = build_providers(&config, &super::support::loopback())
        .err()
        .expect("config error");
    assert_eq!(error.provider, "http.company");
    assert!(
        error.message.contains("TRICKLE_ENRICH_TEST_SURELY_UNSET"),
        "{error}"
    );
}

#[test]
fn invalid_header_value_from_env_is_not_echoed() {
    let mut config = company_config("https://api.example.com/?d={domain}".into());
    config.headers.insert("X-Key".into(), "${SECRET}".into());
    let config = EnrichmentConfig {
        http: BTreeMap::from([("company".into(), config)]),
        ..Default::default()
    };
    let env = |name: &str| {
        Some(if name == "SECRET" {
            "top-secret\nvalue".into()
        } else {
            "x".into()
        })
    };
    let error = build_providers_with_env(&config, &super::support::loopback(), &env)
        .err()
        .expect("config error");
    assert!(
        error.message.contains("X-Key") && !error.to_string().contains("top-secret"),
        "{error}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // Following would send the secret Authorization header on, and reach the record.
    let base = start_api().await;
    let error = lookup_error(&*build(company_config(format!("{base}/moved?e={{email}}")))).await;
    assert!(
        matches!(&error, ProviderError::Permanent(m) if m.contains("302")),
        "{error:?}"
    );
}

#[tokio::test]
async fn internal_addresses_are_refused_without_a_connection() {
    let base = start_api().await;
    let port = base.rsplit(':').next().unwrap();
    let config = EnrichmentConfig {
        http: BTreeMap::from([(
            "company".into(),
            company_config(format!("http://localhost:{port}/company?domain={{domain}}")),
        )]),
        ..Default::default()
    };
    let env = |_: &str| Some(API_TOKEN.to_owned());
    let default = crate::outbound::OutboundSettings::default();
    let guarded = build_providers_with_env(&config, &default, &env)
        .unwrap()
        .remove(0);
    match lookup_error(&*guarded).await {
        ProviderError::Permanent(message) => assert_eq!(message, "address not allowed"),
        other => panic!("{other:?}"),
    }
    let allowed = crate::outbound::OutboundSettings::allowing(&["127.0.0.0/8", "::1/128"]);
    let provider = build_providers_with_env(&config, &allowed, &env)
        .unwrap()
        .remove(0);
    assert!(found(&*provider, &subject()).await.is_some());
}
