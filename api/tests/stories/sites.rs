//! Site stories: key rotation with a grace period, the origins of all sites.

use chrono::{Duration as Span, Utc};
use std::sync::Arc;
use std::time::Duration;

use trickle::App;
use trickle::app::sites::{hash_secret_key, user_hash, verify_user_hash};
use trickle::error::Error;
use trickle::model::site::{KeyRotation, KeyRotationRequest, SiteKey};
use trickle::store::Store;

use super::by;

const ALL_KEYS: [SiteKey; 3] = [
    SiteKey::PublishableKey,
    SiteKey::SecretKey,
    SiteKey::IdentitySecret,
];

/// The store keeps each replaced key with its expiry and finds the site by it; a second
/// rotation drops the first one's previous key.
async fn rotated_keys_are_kept_with_their_expiry(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let keys = trickle.sites().create("shop", vec![]).await.unwrap();
    let old_hash = hash_secret_key(&keys.secret_key);
    let expire_at = Utc::now() + Span::hours(1);
    let rotation = KeyRotation {
        publishable_key: Some("pk_new".into()),
        secret_key_hash: Some("hash-new".into()),
        identity_secret: Some("identity-new".into()),
        previous_expire_at: expire_at,
    };
    let site = store
        .rotate_site_keys(&keys.site_id, &rotation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.publishable_key, "pk_new");
    assert_eq!(site.identity_secret.current, "identity-new");
    let previous_identity = site.identity_secret.previous.as_ref().unwrap();
    assert_eq!(previous_identity.value, keys.identity_secret);
    let previous_pk = site.previous_publishable_key.as_ref().unwrap();
    assert_eq!(previous_pk.value, keys.publishable_key);
    assert_eq!(
        site.previous_secret_key_hash.as_ref().unwrap().value,
        old_hash
    );
    // Timestamps round-trip to the microsecond on both databases.
    let drift = (previous_pk.expires_at - expire_at)
        .num_milliseconds()
        .abs();
    assert!(drift < 1, "{drift} ms");
    for (found, what) in [
        (store.site_by_publishable_key("pk_new").await, "new pk"),
        (
            store.site_by_publishable_key(&keys.publishable_key).await,
            "old pk",
        ),
        (store.site_by_secret_key_hash("hash-new").await, "new hash"),
        (store.site_by_secret_key_hash(&old_hash).await, "old hash"),
    ] {
        assert_eq!(found.unwrap().unwrap().site_id, keys.site_id, "{what}");
    }
    // Rotating only the secret key again: the first old hash is gone, the rest stays.
    let again = KeyRotation {
        publishable_key: None,
        secret_key_hash: Some("hash-newer".into()),
        identity_secret: None,
        previous_expire_at: expire_at,
    };
    let site = store
        .rotate_site_keys(&keys.site_id, &again)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.previous_secret_key_hash.unwrap().value, "hash-new");
    assert!(
        store
            .site_by_secret_key_hash(&old_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(site.publishable_key, "pk_new");
    assert_eq!(site.identity_secret.current, "identity-new");
    assert!(
        store
            .rotate_site_keys("site_none", &again)
            .await
            .unwrap()
            .is_none()
    );
}

/// Through the use case: old and new keys both work during the grace period; after it
/// (a zero grace) the old ones are refused with their own code.
async fn old_keys_work_until_the_grace_period_ends(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let sites = trickle.sites();
    let keys = sites.create("shop", vec![]).await.unwrap();
    let site = sites.get(&keys.site_id).await.unwrap();
    let request = |grace_seconds| KeyRotationRequest {
        keys: ALL_KEYS.to_vec(),
        grace_seconds,
    };
    let new = sites
        .rotate_keys(&by(), &site, None, request(Some(3600)))
        .await
        .unwrap();
    let new_sk = new.secret_key.clone().unwrap();
    let new_identity = new.identity_secret.clone().unwrap();
    assert_ne!(new_sk, keys.secret_key);
    assert_ne!(new.publishable_key, keys.publishable_key);
    for sk in [&keys.secret_key, &new_sk] {
        assert_eq!(sites.by_secret_key(sk).await.unwrap().site_id, keys.site_id);
    }
    for pk in [&keys.publishable_key, &new.publishable_key] {
        assert_eq!(
            sites.by_publishable_key(pk).await.unwrap().site_id,
            keys.site_id
        );
    }
    let site = sites
        .by_publishable_key(&new.publishable_key)
        .await
        .unwrap();
    for identity in [&keys.identity_secret, &new_identity] {
        assert!(verify_user_hash(
            &site.identity_secret,
            "u1",
            &user_hash(identity, "u1")
        ));
    }
    // A key in its grace period may not rotate the keys.
    let refused = sites
        .rotate_keys(&by(), &site, Some(&keys.secret_key), request(Some(0)))
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Forbidden {
                code: "retired_secret_key",
                ..
            })
        ),
        "{refused:?}"
    );

    let newest = sites
        .rotate_keys(&by(), &site, Some(&new_sk), request(Some(0)))
        .await
        .unwrap();
    let newest_sk = newest.secret_key.unwrap();
    let expired = sites.by_secret_key(&new_sk).await;
    assert!(
        matches!(
            expired,
            Err(Error::Unauthorized {
                code: "expired_secret_key",
                ..
            })
        ),
        "{expired:?}"
    );
    let expired = sites.by_publishable_key(&new.publishable_key).await;
    assert!(
        matches!(
            expired,
            Err(Error::Unauthorized {
                code: "expired_publishable_key",
                ..
            })
        ),
        "{expired:?}"
    );
    let unknown = sites.by_secret_key(&keys.secret_key).await;
    assert!(
        matches!(
            unknown,
            Err(Error::Unauthorized {
                code: "invalid_secret_key",
                ..
            })
        ),
        "the first keys were dropped by the second rotation: {unknown:?}"
    );
    let site = sites.by_secret_key(&newest_sk).await.unwrap();
    assert!(!verify_user_hash(
        &site.identity_secret,
        "u1",
        &user_hash(&new_identity, "u1")
    ));
    let newest_identity = newest.identity_secret.unwrap();
    assert!(verify_user_hash(
        &site.identity_secret,
        "u1",
        &user_hash(&newest_identity, "u1")
    ));
    // What the CLI prints user hashes with is the newest secret.
    assert_eq!(
        sites.user_hash_for(&keys.site_id, "u1").await.unwrap(),
        user_hash(&newest_identity, "u1")
    );
}

/// Only the named keys change; the default grace is the app's.
async fn a_rotation_replaces_only_the_keys_it_names(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30)).with_key_grace(Duration::ZERO);
    let sites = trickle.sites();
    let keys = sites.create("shop", vec![]).await.unwrap();
    let site = sites.get(&keys.site_id).await.unwrap();
    let request = KeyRotationRequest {
        keys: vec![SiteKey::SecretKey, SiteKey::SecretKey],
        grace_seconds: None,
    };
    let rotated = sites
        .rotate_keys(&by(), &site, None, request)
        .await
        .unwrap();
    assert_eq!(rotated.rotated, [SiteKey::SecretKey]);
    assert_eq!(rotated.publishable_key, keys.publishable_key);
    assert!(rotated.identity_secret.is_none());
    assert!(
        sites.by_secret_key(&keys.secret_key).await.is_err(),
        "zero grace"
    );
    assert!(
        sites
            .by_publishable_key(&keys.publishable_key)
            .await
            .is_ok()
    );
    let site = sites.get(&keys.site_id).await.unwrap();
    assert_eq!(site.identity_secret.current, keys.identity_secret);
    let empty = KeyRotationRequest {
        keys: vec![],
        grace_seconds: None,
    };
    assert!(matches!(
        sites.rotate_keys(&by(), &site, None, empty).await,
        Err(Error::Invalid { .. })
    ));
    let too_long = KeyRotationRequest {
        keys: vec![SiteKey::PublishableKey],
        grace_seconds: Some(31 * 24 * 3600),
    };
    assert!(matches!(
        sites.rotate_keys(&by(), &site, None, too_long).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(
        sites.get(&keys.site_id).await.unwrap().publishable_key,
        keys.publishable_key,
        "a refused rotation changes nothing"
    );
}

/// Every site's origins, for the CORS set.
async fn the_origins_of_all_sites_are_listed(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    trickle
        .sites()
        .create(
            "a",
            vec!["https://a.example".into(), "https://b.example".into()],
        )
        .await
        .unwrap();
    trickle
        .sites()
        .create("b", vec!["https://c.example".into()])
        .await
        .unwrap();
    trickle.sites().create("c", vec![]).await.unwrap();
    let mut origins = store.allowed_origins_of_all_sites().await.unwrap();
    origins.sort();
    assert_eq!(
        origins,
        [
            "https://a.example",
            "https://b.example",
            "https://c.example"
        ]
    );
}

conformance!(
    rotated_keys_are_kept_with_their_expiry,
    old_keys_work_until_the_grace_period_ends,
    a_rotation_replaces_only_the_keys_it_names,
    the_origins_of_all_sites_are_listed,
);
