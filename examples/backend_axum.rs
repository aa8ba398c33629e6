//! A plain backend in Rust (axum): after your own authentication succeeds, report the
//! login to Trickle (with your login's id as `event_id`, the IP and user agent), then
//! render the page with the widget's script tag and the user's hash.
//!
//! ```sh
//! TRICKLE_URL=http://127.0.0.1:8080 TRICKLE_SECRET_KEY=sk_… TRICKLE_PUBLISHABLE_KEY=pk_… \
//! TRICKLE_IDENTITY_SECRET=… cargo run --example backend_axum   # then open http://127.0.0.1:3000/login?user=u_1
//! ```

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

struct Trickle {
    url: String,
    secret_key: String,
    publishable_key: String,
    identity_secret: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name);
    let trickle = Arc::new(Trickle {
        url: env("TRICKLE_URL")?,
        secret_key: env("TRICKLE_SECRET_KEY")?,
        publishable_key: env("TRICKLE_PUBLISHABLE_KEY")?,
        identity_secret: env("TRICKLE_IDENTITY_SECRET")?,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?,
    });
    let app = Router::new()
        .route("/login", get(login))
        .with_state(trickle);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// Stands in for your login handler: `user` has just authenticated.
async fn login(
    State(trickle): State<Arc<Trickle>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(login): Query<Login>,
) -> Html<String> {
    let login_id = uuid::Uuid::new_v4().to_string(); // your session or login record id
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok());
    let report = trickle
        .client
        .post(format!("{}/v1/logins", trickle.url))
        .bearer_auth(&trickle.secret_key)
        .json(&json!({ "user_id": login.user, "event_id": login_id, "ip": peer.ip().to_string(), "user_agent": user_agent }))
        .send()
        .await;
    // Never fail a login because Trickle is down: the user just sees no question.
    if let Err(error) = report {
        eprintln!("trickle: login not reported: {error}");
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(trickle.identity_secret.as_bytes()).expect("any key length");
    mac.update(login.user.as_bytes());
    let user_hash = hex::encode(mac.finalize().into_bytes());
    Html(format!(
        "<!doctype html><title>Welcome</title><h1>Welcome back</h1>\n\
         <script src=\"{url}/widget.js\" data-key=\"{pk}\" data-user=\"{user}\" data-user-hash=\"{user_hash}\" async></script>",
        url = trickle.url,
        pk = trickle.publishable_key,
        user = html_escape(&login.user),
    ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
