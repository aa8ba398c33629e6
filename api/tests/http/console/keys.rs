//! Rotating a site's keys from the console: the new keys shown once, the old ones
//! still valid for the grace period, the audit log naming the keys but not their values.

use super::{admin, post_form, sign_in};
use crate::common::{Backend, TestApp};
use trickle::app::Actor;
use trickle::model::Role;

/// The text of the element with `id` in `html`.
fn shown(html: &str, id: &str) -> Option<String> {
    let rest = html.split(&format!(r#"id="{id}">"#)).nth(1)?;
    Some(rest.split('<').next()?.to_owned())
}

async fn owners_rotate_keys_and_see_the_new_ones_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}/keys", app.keys.site_id);
    let fields = [("publishable_key", "on"), ("secret_key", "on")];
    let response = post_form(&app, &path, Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    let publishable = shown(&html, "publishable-key").expect("the publishable key");
    let secret = shown(&html, "secret-key").expect("the new secret key");
    assert!(shown(&html, "identity-secret").is_none(), "not rotated");
    assert!(publishable.starts_with("pk_") && publishable != app.keys.publishable_key);
    assert!(secret.starts_with("sk_") && secret != app.keys.secret_key);
    assert!(html.contains("shown only this once"));

    let sites = app.trickle.sites();
    assert_eq!(
        sites.by_secret_key(&secret).await.unwrap().site_id,
        app.keys.site_id
    );
    assert!(
        sites.by_secret_key(&app.keys.secret_key).await.is_ok(),
        "the old key works during the grace period"
    );
    let stored = sites.get(&app.keys.site_id).await.unwrap();
    assert_eq!(stored.publishable_key, publishable);

    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "site.rotate_keys");
    assert_eq!(entry.site_id.as_deref(), Some(app.keys.site_id.as_str()));
    assert!(
        entry.detail.contains("publishable_key, secret_key"),
        "{}",
        entry.detail
    );
    assert!(!entry.detail.contains(&secret) && !entry.detail.contains(&publishable));
}

async fn a_rotation_naming_no_key_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let audited = app.trickle.audit().list(None, 100).await.unwrap().len();
    let path = format!("/console/sites/{}/keys", app.keys.site_id);
    let response = post_form(&app, &path, Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("keys: name at least one of publishable_key, secret_key, identity_secret"),
        "{html}"
    );
    let stored = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert_eq!(stored.publishable_key, app.keys.publishable_key);
    assert_eq!(
        app.trickle.audit().list(None, 100).await.unwrap().len(),
        audited
    );
}

async fn strangers_cannot_rotate_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    let cli = Actor::command_line();
    let granted = app
        .trickle
        .admins()
        .grant(&cli, "mia@example.com", &app.keys.site_id)
        .await
        .unwrap();
    assert!(granted);
    let cookie = sign_in(&app, "mia@example.com").await;
    let fields = [("secret_key", "on")];
    let theirs = format!("/console/sites/{}/keys", other.site_id);
    let refused = post_form(&app, &theirs, Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let signed_out = post_form(&app, &theirs, None, &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    let cross_site = app
        .request(
            reqwest::Method::POST,
            &format!("/console/sites/{}/keys", app.keys.site_id),
        )
        .header("Origin", "https://evil.example")
        .header("Cookie", &cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let sites = app.trickle.sites();
    assert!(sites.by_secret_key(&other.secret_key).await.is_ok());
    let mine = sites.get(&app.keys.site_id).await.unwrap();
    assert!(mine.previous_secret_key_hash.is_none(), "nothing rotated");
}

on_both_databases!(
    owners_rotate_keys_and_see_the_new_ones_once,
    a_rotation_naming_no_key_changes_nothing,
    strangers_cannot_rotate_keys,
);
