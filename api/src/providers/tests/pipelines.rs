//! Providers fed by any profile value, ordered as a graph; POSTed JSON bodies; `when`;
//! transforms of mapped values.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::support::{found, loopback, start_api};
use crate::providers::{
    ConfigError, EnrichmentConfig, HttpMethod, HttpProviderConfig, MapEntry, Provider, Subject,
    Transform, build_providers_with_env, dependencies,
};

fn http(url: &str) -> HttpProviderConfig {
    HttpProviderConfig {
        url: url.into(),
        map: BTreeMap::from([("uri".into(), "/uri".into())]),
        ..HttpProviderConfig::default()
    }
}

fn build_all(
    providers: Vec<(&str, HttpProviderConfig)>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let config = EnrichmentConfig {
        http: providers
            .into_iter()
            .map(|(name, c)| (name.to_owned(), c))
            .collect(),
        ..Default::default()
    };
    build_providers_with_env(&config, &loopback(), &|_| Some("key".into()))
}

fn names(providers: &[Arc<dyn Provider>]) -> Vec<&str> {
    providers.iter().map(|p| p.name()).collect()
}

#[test]
fn providers_are_ordered_after_the_providers_they_read() {
    let built = build_all(vec![
        (
            "a-sentiment",
            http("https://s.example/?h={app_metadata.enrichment.person.twitter}"),
        ),
        ("person", http("https://p.example/?e={email}")),
        (
            "b-fraud",
            http("https://f.example/?s={app_metadata.enrichment.a-sentiment.score}&p={app_metadata.enrichment.person.twitter}"),
        ),
    ])
    .unwrap();
    assert_eq!(names(&built), ["person", "a-sentiment", "b-fraud"]);
    assert_eq!(dependencies(built[2].as_ref()), ["a-sentiment", "person"]);
    assert!(dependencies(built[0].as_ref()).is_empty());
}

#[test]
fn a_cycle_is_refused_naming_it() {
    let error = build_all(vec![
        (
            "a",
            http("https://x.example/?v={app_metadata.enrichment.b.v}"),
        ),
        (
            "b",
            http("https://x.example/?v={app_metadata.enrichment.c.v}"),
        ),
        (
            "c",
            http("https://x.example/?v={app_metadata.enrichment.a.v}"),
        ),
    ])
    .err()
    .expect("a cycle");
    assert_eq!(
        error.to_string(),
        "enrichment.http.a: providers depend on each other in a cycle: a → b → c → a"
    );
    let own = build_all(vec![(
        "self",
        http("https://x.example/?v={app_metadata.enrichment.self.v}"),
    )])
    .err()
    .expect("a provider reading itself");
    assert!(own.message.contains("self → self"), "{own}");
}

#[test]
fn reading_an_unknown_provider_is_refused() {
    let error = build_all(vec![(
        "sentiment",
        http("https://x.example/?h={app_metadata.enrichment.persn.twitter}"),
    )])
    .err()
    .expect("unknown provider");
    assert_eq!(
        error.to_string(),
        "enrichment.http.sentiment: reads app_metadata.enrichment.persn, but no provider `persn` is configured"
    );
    let when = HttpProviderConfig {
        when: Some(json!({ "key": "app_metadata.enrichment.nobody.x", "exists": true })),
        ..http("https://x.example/?e={email}")
    };
    assert!(build_all(vec![("w", when)]).is_err(), "`when` counts too");
}

#[test]
fn bad_bodies_methods_and_conditions_are_refused() {
    let cases: [(HttpProviderConfig, &str); 6] = [
        (
            HttpProviderConfig {
                method: HttpMethod::Post,
                ..http("https://x.example/")
            },
            "method POST needs a body",
        ),
        (
            HttpProviderConfig {
                body: Some("{}".into()),
                ..http("https://x.example/")
            },
            "only sent with method = \"POST\"",
        ),
        (
            HttpProviderConfig {
                method: HttpMethod::Post,
                body: Some(r#"{"email": {email}}"#.into()),
                ..http("https://x.example/")
            },
            "body is not valid JSON",
        ),
        (
            HttpProviderConfig {
                method: HttpMethod::Post,
                body: Some(r#"{"who": "{nobody}"}"#.into()),
                ..http("https://x.example/")
            },
            "unknown placeholder `{nobody}` in body",
        ),
        (
            HttpProviderConfig {
                when: Some(json!({ "key": "role", "equalz": "x" })),
                ..http("https://x.example/")
            },
            "when:",
        ),
        (
            http("https://x.example/?q={user_metadata}"),
            "unknown placeholder",
        ),
    ];
    for (config, expected) in cases {
        let error = build_all(vec![("p", config)]).err().expect("refused");
        assert!(error.message.contains(expected), "{expected}: {error}");
    }
}

fn profile_subject() -> Subject {
    Subject {
        user_id: "u1".into(),
        email: Some("ada@acme.example".into()),
        user_metadata: json!({ "twitter": "@ada lovelace/1?" }),
        app_metadata: json!({ "idp": { "location": "Zürich", "age": 35 },
                               "enrichment": { "person": { "twitter": "ada\"\\x" } } }),
        ..Subject::default()
    }
}

#[tokio::test]
async fn profile_values_are_percent_encoded_in_urls() {
    let base = start_api().await;
    let built = build_all(vec![(
        "p",
        http(&format!(
            "{base}/echo/x?t={{user_metadata.twitter}}&l={{app_metadata.idp.location}}&a={{app_metadata.idp.age}}"
        )),
    )])
    .unwrap();
    let fields = found(built[0].as_ref(), &profile_subject()).await.unwrap();
    assert_eq!(
        fields["uri"],
        "/echo/x?t=%40ada%20lovelace%2F1%3F&l=Z%C3%BCrich&a=35"
    );
    assert_eq!(
        built[0].inputs(&profile_subject()),
        Some(vec![
            "@ada lovelace/1?".into(),
            "Zürich".into(),
            "35".into()
        ])
    );
    assert_eq!(
        built[0].reads(),
        [
            "user_metadata.twitter",
            "app_metadata.idp.location",
            "app_metadata.idp.age"
        ]
    );
    let unknown = Subject {
        user_metadata: json!({}),
        ..profile_subject()
    };
    assert_eq!(built[0].inputs(&unknown), None, "an input is not known yet");
    assert_eq!(found(built[0].as_ref(), &unknown).await, None);
}

#[tokio::test]
async fn a_post_sends_the_json_body_with_escaped_values_and_transforms_the_answer() {
    let base = start_api().await;
    let config = HttpProviderConfig {
        url: format!("{base}/echo-json"),
        method: HttpMethod::Post,
        body: Some(
            r#"{"email": "{email}", "handle": "{app_metadata.enrichment.person.twitter}",
                "age": {app_metadata.idp.age}, "device": {"kind": "web"}}"#
                .into(),
        ),
        map: BTreeMap::from([
            ("score".into(), "/risk/score".into()),
            ("echo".into(), "/received".into()),
            ("type".into(), "/content_type".into()),
            (
                "lower".into(),
                MapEntry::Transformed {
                    pointer: "/received/email".into(),
                    transform: Transform::Lower,
                },
            ),
        ]),
        ..HttpProviderConfig::default()
    };
    let built = build_all(vec![
        ("fraud", config),
        ("person", http("https://p.example/?e={email}")),
    ])
    .unwrap();
    let fraud = built.iter().find(|p| p.name() == "fraud").unwrap();
    let fields = found(fraud.as_ref(), &profile_subject()).await.unwrap();
    assert_eq!(fields["score"], 12.5);
    assert_eq!(fields["type"], "application/json");
    assert_eq!(
        fields["echo"],
        json!({ "email": "ada@acme.example", "handle": "ada\"\\x", "age": 35, "device": { "kind": "web" } }),
        "a quote and a backslash in a value are JSON-escaped"
    );
    assert_eq!(fields["lower"], "ada@acme.example");
    let text_age = Subject {
        app_metadata: json!({ "idp": { "age": "old" }, "enrichment": { "person": { "twitter": "x" } } }),
        ..profile_subject()
    };
    let error = fraud.lookup(&text_age).await.unwrap_err();
    assert!(
        error.to_string().contains("not valid JSON"),
        "a bare placeholder given text: {error}"
    );
}

#[test]
fn the_when_condition_is_parsed_with_the_engines_parser() {
    let config = HttpProviderConfig {
        when: Some(
            json!({ "all": [{ "key": "app_metadata.idp.country", "in": ["DE", "AT"] },
                                   { "key": "role", "not_equals": "student" }] }),
        ),
        ..http("https://x.example/?e={email}")
    };
    let built = build_all(vec![("p", config)]).unwrap();
    let when = built[0].when().expect("a condition");
    let app = json!({ "idp": { "country": "DE" } });
    let user = json!({ "role": "dev" });
    let profile = crate::questions::Profile {
        user_metadata: &user,
        app_metadata: &app,
        login_count: 1,
        first_login_at: None,
        last_login_at: None,
    };
    assert!(when.holds(&profile, chrono::Utc::now()));
    let student = json!({ "role": "student" });
    let profile = crate::questions::Profile {
        user_metadata: &student,
        ..profile
    };
    assert!(!when.holds(&profile, chrono::Utc::now()));
    assert_eq!(
        built[0].reads(),
        ["app_metadata.idp.country", "user_metadata.role"]
    );
}
