//! Test support: `.mmdb` files written on the fly and a local JSON API.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maxminddb_writer::Database;
use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use serde_json::{Value, json};

use crate::providers::{Lookup, Provider, Subject};

/// The bearer token the test API expects.
pub(crate) const API_TOKEN: &str = "secret-123";

/// Writes an `.mmdb` file of `database_type` with `records` (network in CIDR
/// notation → record) into `dir`. In an IPv6 database IPv4 networks go into
/// the `::a.b.c.d/96+n` subtree, as in MaxMind's own files.
pub(crate) fn write_mmdb(
    dir: &Path,
    database_type: &str,
    ipv6: bool,
    records: &[(&str, Value)],
) -> PathBuf {
    let mut db = Database::default();
    db.metadata.ip_version = if ipv6 { IpVersion::V6 } else { IpVersion::V4 };
    db.metadata.database_type = database_type.to_owned();
    db.metadata.languages = vec!["en".to_owned()];
    db.metadata.binary_format_major_version = 2;
    db.metadata.build_epoch = 1_700_000_000;
    for (network, record) in records {
        let data = db.insert_value(record).expect("record serialises");
        db.insert_node(tree_path(network, ipv6), data);
    }
    let path = dir.join(format!("{database_type}.mmdb"));
    let file = std::fs::File::create(&path).expect("create mmdb");
    db.write_to(std::io::BufWriter::new(file))
        .expect("write mmdb");
    path
}

/// The tree path of `network` in a database of the given IP version.
fn tree_path(network: &str, ipv6: bool) -> IpAddrWithMask {
    let (addr, mask) = network.split_once('/').expect("CIDR network");
    let (addr, mask): (IpAddr, u8) = (addr.parse().expect("IP"), mask.parse().expect("mask"));
    match addr {
        IpAddr::V4(v4) if ipv6 => {
            IpAddrWithMask::new(IpAddr::V6(v4.to_ipv6_compatible()), 96 + mask)
        }
        _ => IpAddrWithMask::new(addr, mask),
    }
}

/// A subject with just an IP address.
pub(crate) fn ip_subject(ip: &str) -> Subject {
    Subject {
        user_id: "u1".into(),
        ip: Some(ip.parse().expect("IP")),
        ..Subject::default()
    }
}

/// Runs a lookup that must succeed and returns its fields (empty for NothingKnown).
pub(crate) async fn found(provider: &dyn Provider, subject: &Subject) -> Option<Value> {
    match provider.lookup(subject).await.expect("lookup succeeds") {
        Lookup::Found(fields) => Some(Value::Object(fields)),
        Lookup::NothingKnown => None,
    }
}

#[derive(Clone, Default)]
struct ApiState {
    flaky_calls: Arc<AtomicUsize>,
}

/// Starts the test JSON API on 127.0.0.1 and returns its base URL.
pub(crate) async fn start_api() -> String {
    let app = Router::new()
        .route("/company", get(company))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/flaky", get(flaky))
        .route("/hang", get(hang))
        .route(
            "/malformed",
            get(|| async { (StatusCode::OK, "{\"name\": \"Acme\"") }),
        )
        .route("/unauthorized", get(|| async { StatusCode::UNAUTHORIZED }))
        .route(
            "/limited",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")]) }),
        )
        .route("/echo/{*rest}", get(echo))
        .route("/echo-json", post(echo_json))
        .route("/headers", get(echo_headers))
        .route(
            "/moved",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [("location", "/company?domain=moved.example")],
                )
            }),
        )
        .with_state(ApiState::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

/// A Clearbit-like company record; needs `Authorization: Bearer API_TOKEN`.
async fn company(headers: HeaderMap, Query(query): Query<Vec<(String, String)>>) -> Response {
    let expected = format!("Bearer {API_TOKEN}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let domain = query
        .iter()
        .find(|(k, _)| k == "domain")
        .map(|(_, v)| v.clone());
    Json(json!({
        "domain": domain,
        "name": "Acme Corp",
        "category": { "industry": "Software", "sector": null },
        "metrics": { "employees": 250, "raised": null },
        "tags": ["b2b", "saas"]
    }))
    .into_response()
}

/// 500 on the first call, a record afterwards.
async fn flaky(State(state): State<ApiState>) -> Response {
    if state.flaky_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    Json(json!({ "name": "Flaky Inc" })).into_response()
}

/// Answers only after a long time.
async fn hang() -> Json<Value> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Json(json!({ "name": "Too late" }))
}

/// Echoes the request's path and query exactly as received.
async fn echo(uri: Uri) -> Json<Value> {
    Json(json!({ "uri": uri.to_string() }))
}

/// Echoes a JSON request body with its content type, and a score.
async fn echo_json(headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    Json(json!({ "received": body, "content_type": content_type, "risk": { "score": 12.5 } }))
}

/// Echoes the request headers as a JSON object (name → value).
async fn echo_headers(headers: HeaderMap) -> Json<Value> {
    let fields = headers
        .iter()
        .map(|(name, value)| (name.to_string(), Value::from(value.to_str().unwrap_or("?"))))
        .collect();
    Json(Value::Object(fields))
}

/// Outbound settings that let providers call the local test API on 127.0.0.1.
pub(crate) fn loopback() -> crate::outbound::OutboundSettings {
    crate::outbound::OutboundSettings::allowing(&["127.0.0.0/8"])
}
