use crate::common::{Backend, ONBOARDING, TestApp, test_settings};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use trickle::providers::{Lookup, Provider, ProviderError, Subject};

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

on_both_databases!(enrichment_prefills_and_skips_questions_but_never_overrides_answers,);
