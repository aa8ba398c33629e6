//! A webhook receiver: verifies App's Standard Webhooks signatures and forwards each
//! event to a Slack incoming webhook as a one-line message.
//!
//! ```sh
//! TRICKLE_WEBHOOK_SECRET=whsec_… SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… \
//!   cargo run --example webhook_to_slack   # listens on 127.0.0.1:9000/trickle
//! curl -s localhost:8080/v1/webhooks -H "Authorization: Bearer $SK" -H 'Content-Type: application/json' \
//!   -d '{"url":"http://127.0.0.1:9000/trickle","events":["profile.answered","user.signed_up"]}'
//! ```

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use trickle::app::webhooks::signing::verify;

struct Config {
    secret: String,
    slack_url: String,
    client: reqwest::Client,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Arc::new(Config {
        secret: std::env::var("TRICKLE_WEBHOOK_SECRET")?,
        slack_url: std::env::var("SLACK_WEBHOOK_URL")?,
        client: reqwest::Client::new(),
    });
    let app = Router::new()
        .route("/trickle", post(receive))
        .with_state(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
    println!("receiving App webhooks on http://127.0.0.1:9000/trickle");
    axum::serve(listener, app).await?;
    Ok(())
}

/// Verifies, then forwards. A non-2xx answer makes App retry later.
async fn receive(State(config): State<Arc<Config>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let Ok(timestamp) = header("webhook-timestamp").parse::<i64>() else {
        return StatusCode::BAD_REQUEST;
    };
    let now = chrono::Utc::now().timestamp();
    let checked = verify(
        &config.secret,
        header("webhook-id"),
        timestamp,
        header("webhook-signature"),
        &body,
        now,
        300,
    );
    if checked.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let message = json!({ "text": slack_text(&event) });
    match config
        .client
        .post(&config.slack_url)
        .json(&message)
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => StatusCode::NO_CONTENT,
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// One line per event, e.g. "u_42 answered role = \"senior\" (onboarding v3)".
fn slack_text(event: &Value) -> String {
    let data = &event["data"];
    let user = data["user_id"].as_str().unwrap_or("someone");
    match event["type"].as_str().unwrap_or_default() {
        "profile.answered" => format!(
            "{user} answered {} = {} ({} v{})",
            data["key"].as_str().unwrap_or("?"),
            data["value"],
            data["question_set"].as_str().unwrap_or("?"),
            data["version"]
        ),
        "profile.enriched" => format!(
            "{user} enriched by {}: {}",
            data["provider"].as_str().unwrap_or("?"),
            data["fields"]
        ),
        "user.signed_up" => format!("{user} signed up"),
        "user.logged_in" => format!("{user} logged in (login {})", data["login_count"]),
        "user.deleted" => format!("{user} was erased"),
        other => format!("{other} for {user}"),
    }
}
