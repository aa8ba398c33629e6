use crate::common::{Backend, ONBOARDING, TestApp, test_settings};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use trickle::config::OutboundSettings;
use trickle::model::JobState;
use trickle::providers::{HttpProviderConfig, Lookup, Provider, ProviderError, Subject};

/// A company-data provider that knows every corporate user's employer.
struct Company {
    calls: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Provider for Company {
    fn name(&self) -> &str {
        "company"
    }
    fn ttl(&self) -> Duration {
        Duration::from_secs(3600)
    }
    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let Some(email) = &subject.email else {
            return Ok(Lookup::NothingKnown);
        };
        assert!(email.ends_with("@acme.example"));
        let fields: Map<String, Value> =
            serde_json::from_value(json!({ "name": "Acme Corp", "industry": "Software" })).unwrap();
        Ok(Lookup::Found(fields))
    }
}

async fn enrichment_prefills_and_skips_questions_but_never_overrides_answers(backend: Backend) {
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = Company {
        calls: calls.clone(),
    };
    let app = TestApp::spawn_customised(backend, test_settings(), |t| {
        t.with_providers(vec![Arc::new(provider)])
    })
    .await;
    app.publish_yaml("onboarding", ONBOARDING).await;
    for _ in 0..3 {
        let login = app
            .server(Method::POST, "/v1/logins")
            .json(&json!({ "user_id": "u1", "email": "ada@acme.example" }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a fresh result is not looked up again within its TTL"
    );
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile["app_metadata"]["enrichment"]["company"]["name"],
        "Acme Corp"
    );
    assert_eq!(profile["enrichment"][0]["provider"], "company");
    // Stages 1 and 2 answered or skipped away, so stage 3's questions are considered.
    let patch = json!({ "user_metadata": { "role": "senior", "address": { "city": "Berlin" }, "birthday": "1990-01-01", "phone": "+4930123456" } });
    app.server(Method::PATCH, "/v1/users/u1")
        .json(&patch)
        .send()
        .await
        .unwrap();
    let next: Value = app
        .server(Method::GET, "/v1/users/u1/next?explain=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["prompt"]["question"]["key"], "company.name");
    assert_eq!(
        next["prompt"]["question"]["prefill"], "Acme Corp",
        "offered as \"Is this right?\""
    );
    let version = next["prompt"]["version"].clone();
    let answer = json!({ "question_set": "onboarding", "version": version, "key": "company.name", "value": "Acme Germany GmbH" });
    let after: Value = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["next"]["question"]["key"], "company.size");
    let skip = json!({ "question_set": "onboarding", "version": version, "key": "company.size" });
    let last: Value = app
        .widget(Method::POST, "/v1/widget/skips", "u1")
        .json(&skip)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        last["next"].is_null(),
        "industry is known from enrichment, so nothing is left: {last}"
    );
    // With nothing due, explain lists every question's verdict.
    let explained: Value = app
        .server(Method::GET, "/v1/users/u1/next?explain=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decisions = explained["decisions"].as_array().unwrap();
    let industry = decisions
        .iter()
        .find(|d| d["key"] == "company.industry")
        .expect("industry was considered");
    assert_eq!(
        industry["verdict"]["kind"], "known_via_skip_if_known",
        "{explained}"
    );
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile["user_metadata"]["company"]["name"], "Acme Germany GmbH",
        "the answer wins"
    );
    assert_eq!(
        profile["app_metadata"]["enrichment"]["company"]["name"], "Acme Corp",
        "enrichment kept apart"
    );
}

/// A company-data API listening on `address`; counts its requests. Returns its port.
async fn company_api(address: &str, calls: Arc<AtomicUsize>) -> u16 {
    let app = axum::Router::new().route(
        "/company",
        axum::routing::get(move || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!({ "name": "Acme Corp" })) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// `http` providers aimed at internal addresses, by provider name: the loopback APIs
/// (by literal, by `localhost`, IPv4-mapped, IPv6), the metadata service, a private address.
async fn internal_providers(calls: &Arc<AtomicUsize>) -> BTreeMap<String, HttpProviderConfig> {
    let v4 = company_api("127.0.0.1:0", calls.clone()).await;
    let v6 = company_api("[::1]:0", calls.clone()).await;
    let provider = |url: String| HttpProviderConfig {
        url: format!("{url}?domain={{domain}}"),
        timeout_ms: 1000,
        map: BTreeMap::from([("name".to_owned(), "/name".into())]),
        ..Default::default()
    };
    BTreeMap::from([
        (
            "a-loopback".into(),
            provider(format!("http://127.0.0.1:{v4}/company")),
        ),
        (
            "b-localhost".into(),
            provider(format!("http://localhost:{v4}/company")),
        ),
        (
            "c-mapped".into(),
            provider(format!("http://[::ffff:127.0.0.1]:{v4}/company")),
        ),
        (
            "d-ipv6".into(),
            provider(format!("http://[::1]:{v6}/company")),
        ),
        (
            "metadata".into(),
            provider("http://169.254.169.254/latest".into()),
        ),
        ("private".into(), provider("http://10.0.0.1:5432/".into())),
    ])
}

/// Logs a user with an e-mail in, works the queue; the profile and the site's jobs.
async fn enrich(
    backend: Backend,
    outbound: OutboundSettings,
    calls: &Arc<AtomicUsize>,
) -> (Value, Vec<JobState>) {
    let mut settings = test_settings();
    settings.outbound = outbound;
    settings.enrichment.http = internal_providers(calls).await;
    let app = TestApp::spawn_with(backend, settings).await;
    let login = app
        .server(Method::POST, "/v1/logins")
        .json(&json!({ "user_id": "u1", "email": "ada@acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jobs = app.trickle.store().jobs(&app.keys.site_id).await.unwrap();
    (
        profile,
        jobs.into_iter().filter(|j| j.kind == "enrich").collect(),
    )
}

async fn internal_provider_addresses_are_refused_by_default(backend: Backend) {
    let calls = Arc::new(AtomicUsize::new(0));
    let (profile, jobs) = enrich(backend, OutboundSettings::default(), &calls).await;
    assert_eq!(jobs.len(), 6, "{jobs:?}");
    for job in &jobs {
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(error.ends_with(": address not allowed"), "{job:?}");
        assert_eq!(
            job.status, "dead",
            "only a configuration change helps: {job:?}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        profile["app_metadata"]["enrichment"],
        Value::Null,
        "{profile}"
    );
}

async fn internal_provider_addresses_are_called_when_their_range_is_allowed(backend: Backend) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut outbound =
        OutboundSettings::allowing(&["127.0.0.0/8", "::1/128", "169.254.0.0/16", "10.0.0.0/8"]);
    outbound.connect_timeout_ms = 200;
    let (profile, jobs) = enrich(backend, outbound, &calls).await;
    let enrichment = &profile["app_metadata"]["enrichment"];
    for name in ["a-loopback", "b-localhost", "c-mapped", "d-ipv6"] {
        assert_eq!(
            enrichment[name]["name"], "Acme Corp",
            "{name}: {profile} {jobs:?}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    for job in &jobs {
        let error = job.last_error.as_deref().unwrap_or_default();
        assert!(!error.contains("address not allowed"), "{job:?}");
    }
}

on_both_databases!(
    enrichment_prefills_and_skips_questions_but_never_overrides_answers,
    internal_provider_addresses_are_refused_by_default,
    internal_provider_addresses_are_called_when_their_range_is_allowed,
);
