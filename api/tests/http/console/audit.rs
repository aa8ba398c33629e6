//! The audit log page and the changes it records.

use super::{admin, page, page_html, sign_in};
use crate::common::{Backend, TestApp};
use trickle::app::Actor;
use trickle::app::audit::Change;
use trickle::model::Role;

async fn the_audit_log_lists_changes_newest_first_in_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let html = page_html(&app, "/console/audit", Some(&cookie)).await;
    let sign_in_at = html
        .find("<code>admin.sign_in</code>")
        .expect("sign-in recorded");
    let create_at = html
        .find("<code>admin.create</code>")
        .expect("creation recorded");
    assert!(sign_in_at < create_at, "newest first");
    assert!(html.contains("<td>command line</td>") && html.contains("role owner"));
    assert!(!html.contains("Older entries"));

    for n in 0..55 {
        let change = Change {
            action: "site.widget_settings",
            site_id: Some(&app.keys.site_id),
            subject: "Test shop",
            detail: &format!("<b>change {n}</b>"),
        };
        app.trickle
            .audit()
            .record(&Actor::command_line(), change)
            .await
            .unwrap();
    }
    let html = page_html(&app, "/console/audit", Some(&cookie)).await;
    assert!(
        html.contains("&#60;b&#62;change 54&#60;/b&#62;"),
        "escaped: {html}"
    );
    assert!(!html.contains("<b>change"));
    assert!(!html.contains("change 4&#60;"), "only 50 on a page");
    let older = html
        .split(r#"<a href="/console/audit?before="#)
        .nth(1)
        .expect("a link to older entries");
    let before = older.split('"').next().unwrap();
    let next = page(
        &app,
        &format!("/console/audit?before={before}"),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(next.contains("change 4&#60;") && next.contains("<code>admin.create</code>"));
    assert!(!next.contains("change 5&#60;"));
}

/// Changes made with the secret key are recorded as the console's are, with the key
/// as the actor: settings, origins, key rotation, drafts, publishing and rolling back.
/// A refused change records nothing.
async fn changes_through_the_api_are_audited_as_the_secret_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let set = |title: &str| {
        format!(
            "slug: s\ntitle: {title}\nstages:\n  - at_login: 1\n    questions:\n      \
             - {{ key: bio, type: text, title: Bio? }}\n"
        )
    };
    app.publish_yaml("s", &set("One")).await;
    app.publish_yaml("s", &set("Two")).await;
    let roll_back = app
        .server(
            reqwest::Method::POST,
            "/v1/question-sets/s/versions/1/publish",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(roll_back.status(), 200);
    let patch = |body: serde_json::Value| {
        app.server(reqwest::Method::PATCH, "/v1/site")
            .json(&body)
            .send()
    };
    let patched = patch(serde_json::json!({"widget_settings": {"delay_ms": 1500}}))
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let refused = patch(serde_json::json!({"widget_settings": {"delay_ms": -1}}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let origins = patch(serde_json::json!({"allowed_origins": ["https://shop.example"]}))
        .await
        .unwrap();
    assert_eq!(origins.status(), 200);
    let rotated = app
        .server(reqwest::Method::POST, "/v1/site/rotate-keys")
        .json(&serde_json::json!({"keys": ["publishable_key"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let hook = app
        .server(reqwest::Method::POST, "/v1/webhooks")
        .json(&serde_json::json!({"url": "https://crm.example/hook", "events": ["user.deleted"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
    let hook: serde_json::Value = hook.json().await.unwrap();
    let id = hook["id"].as_str().unwrap().to_owned();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let unhooked = app
        .server(reqwest::Method::DELETE, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(unhooked.status(), 204);

    let entries = app.trickle.audit().list(None, 200).await.unwrap();
    let by_key: Vec<(&str, &str)> = entries
        .iter()
        .rev()
        .filter(|e| e.actor == "secret key")
        .map(|e| (e.action.as_str(), e.detail.as_str()))
        .collect();
    let actions: Vec<&str> = by_key.iter().map(|(action, _)| *action).collect();
    assert_eq!(
        actions,
        [
            "question_set.save_draft",
            "question_set.publish",
            "question_set.save_draft",
            "question_set.publish",
            "question_set.roll_back",
            "site.widget_settings",
            "site.origins",
            "site.rotate_keys",
            "webhook.create",
            "webhook.delete",
        ]
    );
    assert!(by_key[8].1.contains("https://crm.example/hook") && by_key[8].1.contains(&id));
    assert!(
        entries.iter().all(|e| !e.detail.contains(&secret)),
        "never the secret"
    );
    assert_eq!(by_key[4].1, "v1 (was v2)");
    assert!(by_key[5].1.contains("\"delay_ms\":1500"), "{}", by_key[5].1);
    assert_eq!(by_key[6].1, "https://shop.example");
    assert!(by_key[7].1.starts_with("rotated: publishable_key;"));
    let publishable = rotated.json::<serde_json::Value>().await.unwrap()["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(entries.iter().all(|e| !e.detail.contains(&publishable)));
    assert!(
        entries
            .iter()
            .all(|e| e.site_id.as_deref() == Some(app.keys.site_id.as_str()))
    );

    // The question-set list names who made the last change.
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}/question-sets", app.keys.site_id);
    let html = page_html(&app, &path, Some(&cookie)).await;
    assert!(html.contains("secret key"), "{html}");
}

on_both_databases!(
    the_audit_log_lists_changes_newest_first_in_pages,
    changes_through_the_api_are_audited_as_the_secret_key,
);
