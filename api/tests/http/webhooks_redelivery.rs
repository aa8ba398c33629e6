//! `POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: a finished delivery is
//! sent again through the queue, signed afresh with the same message id and payload;
//! and every way it is refused.

use super::webhooks::{Receiver, subscribe};
use crate::common::{Backend, TestApp, expect_error, test_settings};
use reqwest::Method;
use serde_json::{Value, json};
use trickle::config::Settings;

/// Works the queue until it is empty.
async fn drain(app: &TestApp) {
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
}

async fn log(app: &TestApp, id: &str) -> Value {
    app.server(Method::GET, &format!("/v1/webhooks/{id}/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn redeliver_path(id: &str, delivery_id: &str) -> String {
    format!("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver")
}

async fn redeliver(app: &TestApp, id: &str, delivery_id: &str) -> reqwest::Response {
    app.server(Method::POST, &redeliver_path(id, delivery_id))
        .send()
        .await
        .unwrap()
}

async fn a_delivered_message_is_sent_again_signed_with_its_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (receiver, url) = Receiver::start(vec![]).await;
    let created = subscribe(&app, &url, &["user.signed_up"]).await;
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    app.login("u1").await;
    drain(&app).await;
    let first = log(&app, id).await;
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["status"], "delivered");
    let delivery_id = first[0]["id"].as_str().unwrap();

    let response = redeliver(&app, id, delivery_id).await;
    assert_eq!(response.status(), 202);
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["id"], delivery_id, "the same delivery row");
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["delivered_at"], Value::Null);
    assert_eq!(queued["attempts"], 1, "attempts keep counting");
    let job = app
        .trickle
        .store()
        .jobs(&app.keys.site_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "webhook_delivery" && j.status == "queued")
        .count();
    assert_eq!(job, 1, "one new delivery job in the outbox");

    drain(&app).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "delivered, then redelivered");
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    let (_, headers, body) = &requests[1];
    verifier
        .verify(body.as_bytes(), headers)
        .expect("the redelivery's signature verifies");
    assert_eq!(headers["webhook-id"], delivery_id);
    assert_eq!(
        requests[0].1["webhook-id"], headers["webhook-id"],
        "Standard Webhooks: a resent message keeps its id"
    );
    let event: Value = serde_json::from_str(body).unwrap();
    let original: Value = serde_json::from_str(&requests[0].2).unwrap();
    assert_eq!(event, original, "the same payload");
    assert_eq!(event["data"]["user_id"], "u1");

    let after = log(&app, id).await;
    assert_eq!(after.as_array().unwrap().len(), 1, "no second row");
    assert_eq!(after[0]["status"], "delivered");
    assert_eq!(after[0]["attempts"], 2);
    assert_eq!(after[0]["last_status"], 200);
}

/// Settings where one failed attempt makes a delivery dead.
fn one_attempt() -> Settings {
    let mut settings = test_settings();
    settings.jobs.max_attempts = 1;
    settings
}

async fn a_dead_delivery_is_delivered_once_the_receiver_works(backend: Backend) {
    let app = TestApp::spawn_with(backend, one_attempt()).await;
    let (receiver, url) = Receiver::start(vec![503]).await;
    let created = subscribe(&app, &url, &["user.signed_up"]).await;
    let id = created["id"].as_str().unwrap();
    app.login("u1").await;
    drain(&app).await;
    let dead = log(&app, id).await;
    assert_eq!(dead[0]["status"], "dead", "{dead}");
    assert_eq!(dead[0]["last_status"], 503);
    let delivery_id = dead[0]["id"].as_str().unwrap();

    assert_eq!(redeliver(&app, id, delivery_id).await.status(), 202);
    // Asked again before it ran: its job will send it already.
    expect_error(
        redeliver(&app, id, delivery_id).await,
        409,
        "delivery_pending",
    )
    .await;
    drain(&app).await;
    assert_eq!(receiver.requests().len(), 2);
    let delivered = log(&app, id).await;
    assert_eq!(delivered[0]["status"], "delivered", "{delivered}");
    assert_eq!(delivered[0]["attempts"], 2);
    assert_eq!(delivered[0]["last_error"], Value::Null);
}

async fn a_disabled_webhook_is_not_redelivered_to(backend: Backend) {
    let mut settings = one_attempt();
    settings.webhooks.disable_after_failures = 1;
    let app = TestApp::spawn_with(backend, settings).await;
    let (receiver, url) = Receiver::start(vec![500]).await;
    let created = subscribe(&app, &url, &["user.signed_up"]).await;
    let id = created["id"].as_str().unwrap();
    app.login("u1").await;
    drain(&app).await;
    let dead = log(&app, id).await;
    let delivery_id = dead[0]["id"].as_str().unwrap();
    expect_error(
        redeliver(&app, id, delivery_id).await,
        409,
        "webhook_disabled",
    )
    .await;
    drain(&app).await;
    assert_eq!(receiver.requests().len(), 1, "nothing sent again");
}

async fn unknown_and_foreign_deliveries_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_receiver, url) = Receiver::start(vec![]).await;
    let ours = subscribe(&app, &url, &["user.signed_up"]).await;
    let ours = ours["id"].as_str().unwrap();
    let other_of_ours = subscribe(&app, &url, &["user.logged_in"]).await;
    let other_of_ours = other_of_ours["id"].as_str().unwrap();
    app.login("u1").await;

    // Another site, with its own webhook and delivery.
    let theirs = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    let subscribed = app
        .request(Method::POST, "/v1/webhooks")
        .bearer_auth(&theirs.secret_key)
        .json(&json!({ "url": url, "events": ["user.signed_up"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), 201);
    let their_webhook: Value = subscribed.json().await.unwrap();
    let their_webhook = their_webhook["id"].as_str().unwrap();
    let logged = app
        .request(Method::POST, "/v1/logins")
        .bearer_auth(&theirs.secret_key)
        .json(&json!({ "user_id": "u1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(logged.status(), 200);
    drain(&app).await;
    let their_log: Value = app
        .request(
            Method::GET,
            &format!("/v1/webhooks/{their_webhook}/deliveries"),
        )
        .bearer_auth(&theirs.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let their_delivery = their_log[0]["id"].as_str().unwrap();
    let our_delivery = log(&app, ours).await[0]["id"].as_str().unwrap().to_owned();

    let cases = [
        ("wh_unknown", our_delivery.as_str(), "webhook_not_found"),
        (ours, "msg_unknown", "delivery_not_found"),
        (their_webhook, their_delivery, "webhook_not_found"),
        (ours, their_delivery, "delivery_not_found"),
        (other_of_ours, our_delivery.as_str(), "delivery_not_found"),
    ];
    for (webhook, delivery, code) in cases {
        let body = expect_error(redeliver(&app, webhook, delivery).await, 404, code).await;
        assert_eq!(body["error"]["details"], Value::Null, "{body}");
    }
    // Nothing was queued by the refusals; theirs is untouched.
    let their_after: Value = app
        .request(
            Method::GET,
            &format!("/v1/webhooks/{their_webhook}/deliveries"),
        )
        .bearer_auth(&theirs.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(their_after[0]["status"], "delivered");
    assert_eq!(their_after[0]["attempts"], 1);
    assert_eq!(app.trickle.jobs().work_once().await.unwrap(), 0);
    let unauthenticated = app
        .request(Method::POST, &redeliver_path(ours, &our_delivery))
        .send()
        .await
        .unwrap();
    expect_error(unauthenticated, 401, "missing_secret_key").await;
}

on_both_databases!(
    a_delivered_message_is_sent_again_signed_with_its_id,
    a_dead_delivery_is_delivered_once_the_receiver_works,
    a_disabled_webhook_is_not_redelivered_to,
    unknown_and_foreign_deliveries_are_404,
);
