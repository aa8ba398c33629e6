//! A site's users in the console: the list and search, a profile with each value's
//! source, the history and the engine's explanation, export (the API's profile with
//! the history), erasure behind a confirmation (audited, `user.deleted` sent), user
//! ids that need percent-encoding, and who may do none of it.

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp, test_settings};
use crate::http::SET;
use crate::http::webhooks::{Receiver, subscribe};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;
use trickle::model::Role;
use trickle::providers::{Lookup, Provider, ProviderError, Subject};

/// Knows every user's employer.
struct Company;

#[async_trait::async_trait]
impl Provider for Company {
    fn name(&self) -> &str {
        "company"
    }
    fn ttl(&self) -> Duration {
        Duration::from_secs(3600)
    }
    async fn lookup(&self, _subject: &Subject) -> Result<Lookup, ProviderError> {
        let fields: Map<String, Value> =
            serde_json::from_value(json!({ "name": "Acme Corp" })).unwrap();
        Ok(Lookup::Found(fields))
    }
}

async fn drain(app: &TestApp) {
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
}

/// A path segment as the console writes it: all but ASCII letters and digits encoded.
fn encoded(user_id: &str) -> String {
    percent_encoding::utf8_percent_encode(user_id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn users_path(app: &TestApp) -> String {
    format!("/console/sites/{}/users", app.keys.site_id)
}

fn profile_path(app: &TestApp, user_id: &str) -> String {
    format!("{}/{}", users_path(app), encoded(user_id))
}

/// Text as askama writes it into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// An app with the company provider, the `profile` set, and `u1` who logged in with
/// an identity provider's claim, was enriched, answered `role`, and got a value over
/// the API.
async fn app_with_a_profile(backend: Backend) -> (TestApp, i64) {
    let app = TestApp::spawn_customised(backend, test_settings(), |t| {
        t.with_providers(vec![Arc::new(Company)])
    })
    .await;
    let version = app.publish_yaml("profile", SET).await;
    let login = json!({ "user_id": "u1", "email": "ada@acme.example", "ip": "203.0.113.9",
        "profile": { "locale": "de" } });
    let response = app
        .server(Method::POST, "/v1/logins")
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drain(&app).await;
    let answer =
        json!({ "question_set": "profile", "version": version, "key": "role", "value": "dev" });
    let response = app
        .widget(Method::POST, "/v1/widget/answers", "u1")
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let patch = json!({ "user_metadata": { "newsletter": true } });
    let response = app
        .server(Method::PATCH, "/v1/users/u1")
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    (app, version)
}

async fn the_profile_shows_sources_history_and_the_next_question(backend: Backend) {
    let (app, version) = app_with_a_profile(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let site = page_html(
        &app,
        &format!("/console/sites/{}", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(site.contains(&format!(r#"href="{}""#, users_path(&app))));
    let list = page_html(&app, &users_path(&app), Some(&cookie)).await;
    assert!(
        list.contains(&format!(r#"<a href="{}">u1</a>"#, profile_path(&app, "u1"))),
        "{list}"
    );

    let response = page(&app, &profile_path(&app, "u1"), Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let row = |path: &str| -> String {
        let start = html
            .find(&format!("<code>{path}</code>"))
            .unwrap_or_else(|| panic!("{path}: {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(
        row("user_metadata.role").contains(&format!("answer: profile v{version}, ")),
        "{}",
        row("user_metadata.role")
    );
    assert!(row("user_metadata.role").contains("&#34;dev&#34;"));
    assert!(row("user_metadata.newsletter").contains("set over the API"));
    assert!(row("app_metadata.enrichment.company.name").contains("enrichment: company, fetched "));
    assert!(row("app_metadata.idp.locale").contains("identity provider, received "));
    // The explanation: `role` is known, `nickname` is next.
    assert!(
        html.contains(&format!(
            "Next: <code>profile</code> v{version}, stage 1, <code>nickname</code>"
        )),
        "{html}"
    );
    assert!(
        html.contains("already known: the key has a value"),
        "{html}"
    );
    // The history, newest first: the answer, then the login.
    let answered = html.find(r#"<span class="event-answered">answered</span>"#);
    let login = html.find(r#"<span class="event-login">login</span>"#);
    assert!(
        answered.is_some() && login.is_some() && answered < login,
        "{html}"
    );
    assert!(html.contains("203.0.113.9"));
    assert!(html.contains(&format!("profile v{version}: role")));
}

async fn export_is_the_api_profile_with_the_history(backend: Backend) {
    let (app, _) = app_with_a_profile(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let response = page(
        &app,
        &format!("{}/export", profile_path(&app, "u1")),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.headers()["content-disposition"],
        r#"attachment; filename="trickle-user-u1.json""#
    );
    let mut exported: Value = response.json().await.unwrap();
    let history = exported.as_object_mut().unwrap().remove("history").unwrap();
    let profile: Value = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exported, profile);
    let api: Value = app
        .server(Method::GET, "/v1/users/u1/history")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history, api["events"]);
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
}

async fn erasure_asks_first_then_erases_audits_and_tells_subscribers(backend: Backend) {
    let (app, _) = app_with_a_profile(backend).await;
    let (receiver, url) = Receiver::start(vec![]).await;
    subscribe(&app, &url, &["user.deleted"]).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let profile = profile_path(&app, "u1");
    let html = page_html(&app, &profile, Some(&cookie)).await;
    assert!(
        html.contains(&format!(r#"href="{profile}/erase""#)),
        "{html}"
    );
    let confirm = page(&app, &format!("{profile}/erase"), Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<form method="post" action="{profile}/erase">"#)),
        "{html}"
    );
    let still = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "asking to confirm erases nothing");

    let erased = post_form(&app, &format!("{profile}/erase"), Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 303);
    assert_eq!(location(&erased), format!("{}?erased=1", users_path(&app)));
    let gone = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "user.erase");
    assert_eq!(entry.actor, "ann@example.com");
    assert_eq!(entry.site_id.as_deref(), Some(app.keys.site_id.as_str()));
    assert!(!entry.subject.contains("u1") && !entry.detail.contains("u1"));
    let list = page_html(&app, location(&erased), Some(&cookie)).await;
    assert!(list.contains("The user was erased"), "{list}");
    assert!(!list.contains(">u1<"), "{list}");
    drain(&app).await;
    let sent = receiver.requests();
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_str(&sent[0].2).unwrap();
    assert_eq!(body["type"], "user.deleted");
    assert_eq!(body["data"]["user_id"], "u1");
    let again = post_form(&app, &format!("{profile}/erase"), Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // The API's erasure is audited the same way, as the secret key.
    app.login("u2").await;
    let response = app
        .server(Method::DELETE, "/v1/users/u2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("user.erase", "secret key")
    );
}

async fn unusual_user_ids_round_trip_through_urls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let ids = ["a/b c", "ünï 日本", "100% ?x#y&z", "<b>'q'</b>", " padded "];
    for id in ids {
        app.login(id).await;
    }
    let list = page_html(&app, &users_path(&app), Some(&cookie)).await;
    for id in ids {
        let profile = profile_path(&app, id);
        assert!(
            list.contains(&format!(r#"<a href="{profile}">{}</a>"#, escaped(id))),
            "{id}: {list}"
        );
        let html = page_html(&app, &profile, Some(&cookie)).await;
        assert!(
            html.contains(&format!(r#"<span class="user-id">{}</span>"#, escaped(id))),
            "{id}: {html}"
        );
        let search = page(&app, &users_path(&app), Some(&cookie))
            .query(&[("user_id", id)])
            .send()
            .await
            .unwrap();
        assert_eq!(search.status(), 303, "{id}");
        assert_eq!(location(&search), profile, "{id}");
        let export = page(&app, &format!("{profile}/export"), Some(&cookie))
            .send()
            .await
            .unwrap();
        let body: Value = export.json().await.unwrap();
        assert_eq!(body["user_id"], id);
    }
    let erased = post_form(
        &app,
        &format!("{}/erase", profile_path(&app, "a/b c")),
        Some(&cookie),
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(erased.status(), 303);
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert!(app.trickle.profiles().get(&site, "a/b c").await.is_err());
    assert!(app.trickle.profiles().get(&site, "ünï 日本").await.is_ok());
    let unknown = page(&app, &profile_path(&app, "nobody"), Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

async fn strangers_members_of_other_sites_and_other_origins_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.login("u1").await;
    admin(&app, "mia@example.com", Role::Member).await;
    let member = sign_in(&app, "mia@example.com").await;
    let profile = profile_path(&app, "u1");
    let pages = [
        users_path(&app),
        format!("{}?user_id=u1", users_path(&app)),
        profile.clone(),
        format!("{profile}/export"),
        format!("{profile}/erase"),
    ];
    for path in &pages {
        let anonymous = page(&app, path, None).send().await.unwrap();
        assert_eq!(
            (anonymous.status().as_u16(), location(&anonymous)),
            (303, "/console/sign-in"),
            "{path}"
        );
        let refused = page(&app, path, Some(&member)).send().await.unwrap();
        assert_eq!(
            refused.status(),
            404,
            "{path}: an ungranted site is not found"
        );
    }
    let erase = format!("{profile}/erase");
    let anonymous = post_form(&app, &erase, None, &[]).send().await.unwrap();
    assert_eq!(location(&anonymous), "/console/sign-in");
    let refused = post_form(&app, &erase, Some(&member), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);

    admin(&app, "ann@example.com", Role::Owner).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let cross_site = app
        .request(Method::POST, &erase)
        .header("Origin", "https://evil.example")
        .header("Cookie", &owner)
        .form(&[])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let still = app
        .server(Method::GET, "/v1/users/u1")
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "nothing was erased");
    assert!(
        app.trickle
            .audit()
            .list(None, 50)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "user.erase"),
        "nothing was audited"
    );
    app.trickle
        .admins()
        .grant(
            &trickle::app::Actor::command_line(),
            "mia@example.com",
            &app.keys.site_id,
        )
        .await
        .unwrap();
    let granted = page(&app, &profile, Some(&member)).send().await.unwrap();
    assert_eq!(granted.status(), 200);
}

on_both_databases!(
    the_profile_shows_sources_history_and_the_next_question,
    export_is_the_api_profile_with_the_history,
    erasure_asks_first_then_erases_audits_and_tells_subscribers,
    unusual_user_ids_round_trip_through_urls,
    strangers_members_of_other_sites_and_other_origins_are_refused,
);
