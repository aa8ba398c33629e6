//! Secrets at rest: with a secrets key, identity and webhook secrets are encrypted in
//! their columns (read here with plain SQL) and still verify user hashes and sign
//! webhooks; plaintext rows from before are encrypted at start-up; a wrong or missing
//! key is a clear error.

use std::sync::Arc;
use std::time::Duration;

use crate::common::TestStore;
use trickle::App;
use trickle::app::sites::{user_hash, verify_user_hash};
use trickle::app::webhooks::signing;
use trickle::model::NewSubscription;
use trickle::model::site::{KeyRotationRequest, SiteKey};
use trickle::store::{self, SEALED_PREFIX, Store, StoreError};

/// A secrets key as an operator writes it (base64 of 32 bytes).
const KEY: &str = "q4Vx3kqZ7m1Yb0f2c8LrT5nW9sH6dJ1eA3uG7pK2oZc=";
/// Another key (hex).
const OTHER_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Text values of one column, read with plain SQL around the store.
async fn column(db: &TestStore, sql: &str) -> Vec<String> {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap()
    }
}

/// A migrated store on the test database that seals with `key`.
async fn keyed(db: &TestStore, key: &str) -> Result<Arc<dyn Store>, StoreError> {
    let store = store::connect_with_secrets(&db.url, Some(key)).await?;
    store.migrate().await?;
    Ok(store)
}

fn subscription() -> NewSubscription {
    NewSubscription {
        url: "https://hooks.example/trickle".into(),
        events: vec!["user.logged_in".into()],
        description: None,
    }
}

async fn secrets_are_encrypted_at_rest_and_still_work(db: &TestStore) {
    let store = keyed(db, KEY).await.unwrap();
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let keys = trickle.sites().create("shop", vec![]).await.unwrap();
    let stored = column(db, "SELECT identity_secret FROM sites").await;
    assert!(stored[0].starts_with(SEALED_PREFIX), "{}", stored[0]);
    assert!(!stored[0].contains(&keys.identity_secret));

    // User hashes made with the plaintext secret verify.
    let site = trickle
        .sites()
        .by_publishable_key(&keys.publishable_key)
        .await
        .unwrap();
    let hash = user_hash(&keys.identity_secret, "u1");
    assert!(verify_user_hash(&site.identity_secret, "u1", &hash));

    // Webhook secrets: sealed in the column, signed with as created.
    let created = trickle
        .webhooks()
        .create(&trickle::app::Actor::command_line(), &site, subscription())
        .await
        .unwrap();
    let stored = column(db, "SELECT secret FROM webhook_subscriptions").await;
    assert!(stored[0].starts_with(SEALED_PREFIX) && !stored[0].contains(&created.secret));
    let read = store.subscriptions(&keys.site_id).await.unwrap();
    assert_eq!(read[0].secret, created.secret);
    let body = br#"{"type":"user.logged_in"}"#;
    let at = chrono::Utc::now().timestamp();
    let signature = signing::sign(&read[0].secret, "msg_1", at, body);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("webhook-id", "msg_1".parse().unwrap());
    headers.insert("webhook-timestamp", at.to_string().parse().unwrap());
    headers.insert("webhook-signature", signature.parse().unwrap());
    let verifier = standardwebhooks::Webhook::new(&created.secret).unwrap();
    verifier
        .verify(body, &headers)
        .expect("a receiver holding the secret it was given verifies the signature");

    // A rotation keeps the previous identity secret sealed too, and it still verifies.
    let rotated = trickle
        .sites()
        .rotate_keys(
            &super::by(),
            &site,
            None,
            KeyRotationRequest {
                keys: vec![SiteKey::IdentitySecret],
                grace_seconds: Some(600),
            },
        )
        .await
        .unwrap();
    let new_identity = rotated.identity_secret.unwrap();
    let stored = column(
        db,
        "SELECT identity_secret || ' ' || previous_identity_secret FROM sites",
    )
    .await;
    assert!(!stored[0].contains(&keys.identity_secret) && !stored[0].contains(&new_identity));
    let site = trickle
        .sites()
        .by_publishable_key(&keys.publishable_key)
        .await
        .unwrap();
    assert!(verify_user_hash(&site.identity_secret, "u1", &hash));
    assert!(verify_user_hash(
        &site.identity_secret,
        "u1",
        &user_hash(&new_identity, "u1")
    ));
}

async fn plaintext_secrets_are_encrypted_at_start_up(db: &TestStore) {
    let before = App::new(db.store.clone(), Duration::from_secs(30));
    let keys = before.sites().create("shop", vec![]).await.unwrap();
    let site = before.sites().get(&keys.site_id).await.unwrap();
    let created = before
        .webhooks()
        .create(&trickle::app::Actor::command_line(), &site, subscription())
        .await
        .unwrap();
    assert_eq!(
        column(db, "SELECT identity_secret FROM sites").await,
        std::slice::from_ref(&keys.identity_secret),
        "without a key, as before"
    );

    let store = keyed(db, KEY).await.unwrap();
    for (sql, secret) in [
        ("SELECT identity_secret FROM sites", &keys.identity_secret),
        ("SELECT secret FROM webhook_subscriptions", &created.secret),
    ] {
        let stored = column(db, sql).await;
        assert!(stored[0].starts_with(SEALED_PREFIX) && !stored[0].contains(secret.as_str()));
    }
    let site = store.site(&keys.site_id).await.unwrap().unwrap();
    assert_eq!(site.identity_secret.current, keys.identity_secret);
    assert_eq!(
        store.subscriptions(&keys.site_id).await.unwrap()[0].secret,
        created.secret
    );
    keyed(db, KEY)
        .await
        .expect("a second start changes nothing");
}

async fn a_wrong_or_missing_key_is_a_clear_error(db: &TestStore) {
    let store = keyed(db, KEY).await.unwrap();
    let keys = App::new(store, Duration::from_secs(30))
        .sites()
        .create("shop", vec![])
        .await
        .unwrap();

    let wrong = keyed(db, OTHER_KEY)
        .await
        .err()
        .expect("a wrong key is refused");
    assert!(
        wrong.to_string().contains("secrets_key does not decrypt"),
        "{wrong}"
    );
    let missing = db.store.migrate().await.unwrap_err();
    assert!(missing.to_string().contains("no secrets_key"), "{missing}");
    let missing = db.store.site(&keys.site_id).await.unwrap_err();
    assert!(matches!(missing, StoreError::Secrets(_)), "{missing}");
    let malformed = store::connect_with_secrets(&db.url, Some("not a key"))
        .await
        .err()
        .expect("a malformed key is refused");
    assert!(malformed.to_string().contains("32 bytes"), "{malformed}");
    // Nothing was changed by the refused starts: the right key still reads the site.
    let store = keyed(db, KEY).await.unwrap();
    let site = store.site(&keys.site_id).await.unwrap().unwrap();
    assert_eq!(site.identity_secret.current, keys.identity_secret);
}

conformance_on_database!(
    secrets_are_encrypted_at_rest_and_still_work,
    plaintext_secrets_are_encrypted_at_start_up,
    a_wrong_or_missing_key_is_a_clear_error,
);
