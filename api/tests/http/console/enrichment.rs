//! A site's enrichment providers in the console: what each did today, its budget, its
//! last success and error; the refusals of every console page.

use super::{OURS, admin, location, page, page_html, sign_in};
use crate::common::{Backend, TestApp, test_settings};
use reqwest::Method;
use trickle::app::Actor;
use trickle::model::Role;
use trickle::providers::{EmailConfig, HttpProviderConfig};

/// An app with the e-mail provider and a company provider whose API is unreachable
/// (port 9), with a daily budget; one user logged in and their jobs run once.
async fn app_with_providers(backend: Backend) -> TestApp {
    let mut settings = test_settings();
    settings.enrichment.email = Some(EmailConfig::default());
    let company = HttpProviderConfig {
        url: "http://127.0.0.1:9/company?domain={domain}".into(),
        map: [("name".to_owned(), "/name".into())].into(),
        daily_budget: Some(500),
        cache: true,
        ..HttpProviderConfig::default()
    };
    settings.enrichment.http.insert("company".into(), company);
    let app = TestApp::spawn_with(backend, settings).await;
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&serde_json::json!({ "user_id": "u1", "email": "ada@acme.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
    app
}

async fn the_enrichment_page_shows_each_providers_day(backend: Backend) {
    let app = app_with_providers(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let settings = page_html(
        &app,
        &format!("/console/sites/{}", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    let path = format!("/console/sites/{}/enrichment", app.keys.site_id);
    assert!(
        settings.contains(&format!(r#"href="{path}""#)),
        "linked from the site's settings"
    );
    let response = page(&app, &path, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let row = |name: &str| {
        let start = html
            .find(&format!(r#"<tr id="provider-{name}">"#))
            .unwrap_or_else(|| panic!("{name} row in {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    let email = row("email");
    assert!(
        email.contains("<code>email</code>") && !email.contains("<td>never</td>"),
        "{email}"
    );
    assert!(email.contains("no budget"), "{email}");
    let company = row("company");
    assert!(
        company.contains("http, cached") && company.contains("<code>{domain}</code>"),
        "{company}"
    );
    assert!(
        company.contains("499 of 500"),
        "one call of the budget spent: {company}"
    );
    assert!(
        company.contains("connection failed"),
        "the last error: {company}"
    );
    assert!(!company.contains("ada@acme.example"), "{company}");
    assert!(html.contains(&format!(
        "trickle enrich --provider NAME --site {}",
        app.keys.site_id
    )));
}

async fn the_enrichment_page_is_refused_as_every_console_page(backend: Backend) {
    let app = app_with_providers(backend).await;
    let path = format!("/console/sites/{}/enrichment", app.keys.site_id);
    let anonymous = page(&app, &path, None).send().await.unwrap();
    assert_eq!(anonymous.status(), 303, "no session");
    assert!(
        location(&anonymous).starts_with("/console/sign-in"),
        "{}",
        location(&anonymous)
    );

    admin(&app, "mia@example.com", Role::Member).await;
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    app.trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &other.site_id)
        .await
        .unwrap();
    let cookie = sign_in(&app, "mia@example.com").await;
    let refused = page(&app, &path, Some(&cookie)).send().await.unwrap();
    assert_eq!(refused.status(), 404, "a member without the site");
    assert!(!refused.text().await.unwrap().contains("company"));
    let granted = format!("/console/sites/{}/enrichment", other.site_id);
    let html = page_html(&app, &granted, Some(&cookie)).await;
    assert!(
        html.contains(r#"<tr id="provider-company">"#),
        "a member with the site: {html}"
    );
    assert!(
        !html.contains("connection failed"),
        "the other site's errors are not shown"
    );

    let cross_site = app
        .request(Method::POST, &granted)
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "a post from another origin");
    let ours = app
        .request(Method::POST, &granted)
        .header("Cookie", &cookie)
        .header("Origin", OURS)
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        ours.status(),
        405,
        "from our origin: the page takes no posts"
    );
}

on_both_databases!(
    the_enrichment_page_shows_each_providers_day,
    the_enrichment_page_is_refused_as_every_console_page,
);
