//! Sign-in, sessions, sign-out, the cross-site refusal and the static files.

use super::{OURS, PASSWORD, admin, cookie_set_by, location, page, post_form, sign_in};
use crate::common::{Backend, TestApp, test_settings};
use trickle::config::{ConsoleSettings, TrustedProxies};
use trickle::model::Role;

async fn the_sign_in_page_and_its_files_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = page(&app, "/console/sign-in", None).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="post" action="/console/sign-in">"#),
        "{html}"
    );
    assert!(html.contains(r#"autocomplete="current-password""#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external requests"
    );
    for url in [
        trickle::console::HTMX_URL,
        trickle::console::CSS_URL.as_str(),
    ] {
        assert!(html.contains(url), "{url}");
        let file = page(&app, url, None).send().await.unwrap();
        assert_eq!(file.status(), 200, "{url}");
        assert_eq!(
            file.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
    }
    let missing = page(&app, "/console/assets/htmx-1.0.0.min.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // /console itself leads to the sites, which ask for a sign-in.
    let root = page(&app, "/console", None).send().await.unwrap();
    assert_eq!(
        (root.status().as_u16(), location(&root)),
        (303, "/console/sites")
    );
}

async fn signing_in_opens_a_session_with_a_strict_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "Ann@Example.com", Role::Owner).await;
    let response = post_form(
        &app,
        "/console/sign-in",
        None,
        &[("email", " ann@example.COM "), ("password", PASSWORD)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        (response.status().as_u16(), location(&response)),
        (303, "/console/sites")
    );
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "trickle_console=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(set.contains(part), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain HTTP from an untrusted peer: {set}"
    );
    let cookie = cookie_set_by(&response).unwrap();
    let sites = page(&app, "/console/sites", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(sites.status(), 200);
    let html = sites.text().await.unwrap();
    assert!(
        html.contains("ann@example.com (owner)") && html.contains("Test shop"),
        "{html}"
    );
    // Signed in, the sign-in page moves on.
    let again = page(&app, "/console/sign-in", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (again.status().as_u16(), location(&again)),
        (303, "/console/sites")
    );
    let log = app.trickle.audit().list(None, 10).await.unwrap();
    assert_eq!(log[0].action, "admin.sign_in");
    assert_eq!(log[0].actor, "ann@example.com");
}

async fn wrong_passwords_and_unknown_emails_are_refused_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let mut pages = Vec::new();
    for (email, password) in [
        ("ann@example.com", "wrong password here"),
        ("nobody@example.com", PASSWORD),
        ("not an e-mail", PASSWORD),
        ("ann@example.com", ""),
    ] {
        let response = post_form(
            &app,
            "/console/sign-in",
            None,
            &[("email", email), ("password", password)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(response.status(), 401, "{email}");
        assert!(response.headers().get("set-cookie").is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r#"role="alert">wrong e-mail or password<"#),
            "{html}"
        );
        pages.push(html.contains(r#"aria-invalid="true""#));
    }
    assert!(pages.iter().all(|&marked| marked));
    let log = app.trickle.audit().list(None, 10).await.unwrap();
    assert!(log.iter().all(|e| e.action != "admin.sign_in"), "{log:?}");
}

async fn sign_in_is_rate_limited_per_email_and_per_ip(backend: Backend) {
    let settings = trickle::config::Settings {
        console: ConsoleSettings {
            sign_in_email_per_minute: 3,
            sign_in_ip_per_minute: 5,
            ..ConsoleSettings::default()
        },
        ..test_settings()
    };
    let app = TestApp::spawn_with(backend, settings).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let attempt = |email: &'static str, password: &'static str| {
        post_form(
            &app,
            "/console/sign-in",
            None,
            &[("email", email), ("password", password)],
        )
        .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("ann@example.com", "guess guess guess")
                .await
                .unwrap()
                .status(),
            401
        );
    }
    // The e-mail's budget is spent: even the right password waits.
    let limited = attempt("ann@example.com", PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.text().await.unwrap().contains("too many requests"));
    // Another e-mail from the same address: one more, then the address is spent.
    assert_eq!(
        attempt("bob@example.com", "guess guess guess")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        attempt("cy@example.com", "guess guess guess")
            .await
            .unwrap()
            .status(),
        429
    );
}

async fn pages_without_a_session_lead_to_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let site = format!("/console/sites/{}", app.keys.site_id);
    let bogus = "trickle_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for path in [
        "/console/sites",
        "/console/sites/new",
        site.as_str(),
        "/console/audit",
    ] {
        for cookie in [None, Some(bogus), Some("trickle_console=short")] {
            let response = page(&app, path, cookie).send().await.unwrap();
            assert_eq!(
                (response.status().as_u16(), location(&response)),
                (303, "/console/sign-in"),
                "{path}"
            );
        }
    }
    let widget = format!("{site}/widget");
    for path in [
        "/console/sites",
        widget.as_str(),
        "/console/sign-out",
        "/console/sign-out-everywhere",
    ] {
        let response = post_form(&app, path, None, &[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            (response.status().as_u16(), location(&response)),
            (303, "/console/sign-in"),
            "{path}"
        );
    }
    let unknown = page(&app, "/console/nowhere", None).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("page not found"));
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let fields = [("name", "Evil"), ("origins", "")];
    let sites_before = app.trickle.store().all_sites().await.unwrap().len();
    for (origin, fetch_site) in [
        (Some("https://evil.example"), None),
        (Some("https://trickle.test"), None),
        (Some("null"), None),
        (Some("https://evil.example"), Some("same-origin")),
        (None, Some("cross-site")),
        (None, None),
    ] {
        let mut call = app
            .request(reqwest::Method::POST, "/console/sites")
            .header("Cookie", &cookie)
            .form(&fields);
        if let Some(origin) = origin {
            call = call.header("Origin", origin);
        }
        if let Some(fetch_site) = fetch_site {
            call = call.header("Sec-Fetch-Site", fetch_site);
        }
        let response = call.send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {fetch_site:?}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("did not come from the console")
        );
    }
    assert_eq!(
        app.trickle.store().all_sites().await.unwrap().len(),
        sites_before
    );
    // Without Origin, the browser's Sec-Fetch-Site: same-origin is enough.
    let same_origin = app
        .request(reqwest::Method::POST, "/console/sign-in")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 303);
}

async fn behind_a_trusted_https_proxy_the_cookie_is_secure(backend: Backend) {
    let settings = trickle::config::Settings {
        trusted_proxies: TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()]),
        ..test_settings()
    };
    let app = TestApp::spawn_with(backend, settings).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let sign_in = |origin: &'static str| {
        app.request(reqwest::Method::POST, "/console/sign-in")
            .header("Origin", origin)
            .header("X-Forwarded-Proto", "https")
            .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
            .send()
    };
    // Our origin is now https://…; the http one is someone else's.
    assert_eq!(sign_in(OURS).await.unwrap().status(), 403);
    let response = sign_in("https://trickle.test").await.unwrap();
    assert_eq!(response.status(), 303);
    let set = response.headers()["set-cookie"].to_str().unwrap();
    assert!(set.ends_with("; Secure"), "{set}");
}

async fn signing_out_ends_this_session_or_every_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    admin(&app, "bob@example.com", Role::Owner).await;
    let first = sign_in(&app, "ann@example.com").await;
    let second = sign_in(&app, "ann@example.com").await;
    let third = sign_in(&app, "ann@example.com").await;
    let bobs = sign_in(&app, "bob@example.com").await;
    let signed_in = |cookie: String| {
        let call = page(&app, "/console/sites", Some(&cookie));
        async move { call.send().await.unwrap().status() == 200 }
    };

    let out = post_form(&app, "/console/sign-out", Some(&first), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.status().as_u16(), location(&out)),
        (303, "/console/sign-in")
    );
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(!signed_in(first.clone()).await);
    assert!(signed_in(second.clone()).await);

    let everywhere = post_form(&app, "/console/sign-out-everywhere", Some(&second), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), 303);
    assert!(!signed_in(second).await && !signed_in(third).await);
    assert!(signed_in(bobs).await, "another admin's sessions stay");
    let log = app.trickle.audit().list(None, 1).await.unwrap();
    assert_eq!(log[0].action, "admin.sign_out_everywhere");
    assert_eq!(log[0].detail, "2 session(s) ended");
}

on_both_databases!(
    the_sign_in_page_and_its_files_are_served,
    signing_in_opens_a_session_with_a_strict_cookie,
    wrong_passwords_and_unknown_emails_are_refused_alike,
    sign_in_is_rate_limited_per_email_and_per_ip,
    pages_without_a_session_lead_to_sign_in,
    cross_site_posts_are_refused,
    behind_a_trusted_https_proxy_the_cookie_is_secure,
    signing_out_ends_this_session_or_every_one,
);
