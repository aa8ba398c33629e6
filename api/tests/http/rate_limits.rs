//! Who the client is (`X-Forwarded-For` behind trusted proxies only) and the per-IP
//! budget that comes before any other work on the widget routes.

use crate::common::{Backend, Call, TestApp, expect_error, test_settings};
use reqwest::Method;
use trickle::config::TrustedProxies;

/// Widget calls for `user` as a browser behind a proxy at the test peer (127.0.0.1)
/// makes them: the proxy appended `client` to whatever `X-Forwarded-For` the client sent.
fn behind_proxy(app: &TestApp, forged: &str, client: &str) -> Call {
    app.widget(Method::GET, "/v1/widget/next", "u1")
        .header("X-Forwarded-For", format!("{forged}, {client}"))
}

async fn a_forged_first_hop_does_not_change_the_limited_ip(backend: Backend) {
    let mut settings = test_settings();
    settings.trusted_proxies = TrustedProxies(vec!["127.0.0.0/8".parse().unwrap()]);
    settings.rate_limit.widget_per_minute = 1;
    settings.rate_limit.widget_burst = 2;
    let app = TestApp::spawn_with(backend, settings).await;
    app.login("u1").await;
    for forged in ["1.1.1.1", "1.1.1.2"] {
        let ok = behind_proxy(&app, forged, "203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 204);
    }
    let limited = behind_proxy(&app, "1.1.1.3", "203.0.113.9")
        .send()
        .await
        .unwrap();
    expect_error(limited, 429, "rate_limited").await;
    let other_client = behind_proxy(&app, "1.1.1.3", "203.0.113.10")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other_client.status(),
        204,
        "the proxy's word on the client counts"
    );
}

async fn forwarded_for_from_an_untrusted_peer_is_ignored(backend: Backend) {
    let mut settings = test_settings();
    settings.rate_limit.widget_per_minute = 1;
    settings.rate_limit.widget_burst = 2;
    let app = TestApp::spawn_with(backend, settings).await;
    app.login("u1").await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let ok = behind_proxy(&app, client, client).send().await.unwrap();
        assert_eq!(ok.status(), 204);
    }
    let limited = behind_proxy(&app, "203.0.113.3", "203.0.113.3")
        .send()
        .await
        .unwrap();
    expect_error(limited, 429, "rate_limited").await;
}

/// The per-IP budget is spent before the key is looked up (an unknown key is then a
/// 429, not a 401) and CORS preflights spend it too.
async fn the_per_ip_limit_comes_before_any_lookup(backend: Backend) {
    let mut settings = test_settings();
    settings.rate_limit.ip_per_minute = 1;
    settings.rate_limit.ip_burst = 3;
    let app = TestApp::spawn_with(backend, settings).await;
    let unknown_key = || {
        app.get("/v1/widget/next")
            .header("X-Trickle-Key", "pk_unknown")
            .send()
    };
    expect_error(unknown_key().await.unwrap(), 401, "invalid_publishable_key").await;
    let preflight = app
        .request(Method::OPTIONS, "/v1/widget/next")
        .header("Origin", &app.origin)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    expect_error(unknown_key().await.unwrap(), 401, "invalid_publishable_key").await;
    expect_error(unknown_key().await.unwrap(), 429, "rate_limited").await;
    let preflight = app
        .request(Method::OPTIONS, "/v1/widget/next")
        .header("Origin", &app.origin)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    expect_error(preflight, 429, "rate_limited").await;
    let server = app.server(Method::GET, "/v1/site").send().await.unwrap();
    assert_eq!(
        server.status(),
        200,
        "server endpoints are not widget-limited"
    );
}

on_both_databases!(
    a_forged_first_hop_does_not_change_the_limited_ip,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    the_per_ip_limit_comes_before_any_lookup,
);
