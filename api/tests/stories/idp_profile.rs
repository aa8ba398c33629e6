//! The identity provider's profile sent with a login, stored at `app_metadata.idp`.

use serde_json::{Map, Value, json};
use std::sync::Arc;

use super::{login, login_event, service};
use trickle::app::logins::LoginRequest;
use trickle::model::{MetadataLimits, NewLogin};
use trickle::store::{Store, StoreError};

fn with_profile(request: LoginRequest, profile: Value) -> LoginRequest {
    LoginRequest {
        profile: Some(profile.as_object().unwrap().clone()),
        ..request
    }
}

async fn idp_of(store: &Arc<dyn Store>, site_id: &str, user: &str) -> Value {
    let user = store.user(site_id, user).await.unwrap().unwrap();
    user.app_metadata["idp"].clone()
}

/// Claims merge shallowly over earlier ones (a null removes one), a retried event and a
/// late event change nothing, and answers in `user_metadata` are never touched.
async fn idp_claims_merge_once_per_counted_login(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let first =
        json!({ "given_name": "Ada", "gender": "female", "location": { "name": "London" } });
    trickle
        .logins()
        .record(&site, with_profile(login_event("u1", "e1"), first))
        .await
        .unwrap();
    let idp = idp_of(&store, &site.site_id, "u1").await;
    assert_eq!(idp["given_name"], "Ada");
    assert!(idp["received_at"].is_string(), "{idp}");
    let retried = json!({ "given_name": "Eve" });
    trickle
        .logins()
        .record(&site, with_profile(login_event("u1", "e1"), retried))
        .await
        .unwrap();
    assert_eq!(
        idp_of(&store, &site.site_id, "u1").await["given_name"],
        "Ada",
        "a retried event_id changes nothing"
    );
    let second = json!({ "gender": null, "birthdate": "1990-12-10" });
    trickle
        .logins()
        .record(&site, with_profile(login_event("u1", "e2"), second))
        .await
        .unwrap();
    let idp = idp_of(&store, &site.site_id, "u1").await;
    assert_eq!(
        idp,
        json!({ "given_name": "Ada", "location": { "name": "London" }, "birthdate": "1990-12-10",
                "received_at": idp["received_at"] }),
        "a shallow merge; null removed gender"
    );
    let late = LoginRequest {
        occurred_at: Some("2020-01-01T00:00:00Z".parse().unwrap()),
        ..with_profile(login_event("u1", "e3"), json!({ "given_name": "Old" }))
    };
    let receipt = trickle.logins().record(&site, late).await.unwrap();
    assert_eq!(receipt.login_count, 3, "the late login is counted");
    assert_eq!(
        idp_of(&store, &site.site_id, "u1").await["given_name"],
        "Ada",
        "a late event's claims do not overwrite the latest"
    );
    let user = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    assert_eq!(user.user_metadata, json!({}), "answers are untouched");
    trickle.logins().record(&site, login("u1")).await.unwrap();
    assert_eq!(
        idp_of(&store, &site.site_id, "u1").await["given_name"],
        "Ada",
        "a login without a profile keeps the claims"
    );
}

/// Claims that would push `app_metadata` over its limit refuse the whole login: the
/// event is not counted and nothing is stored.
async fn idp_claims_over_the_metadata_limit_store_nothing(store: Arc<dyn Store>) {
    let (_trickle, site) = service(&store).await;
    let mut claims = Map::new();
    claims.insert("bio".into(), json!("x".repeat(300)));
    let login = NewLogin {
        user_id: "u1".into(),
        event_id: "e1".into(),
        occurred_at: trickle::model::now(),
        ip: None,
        user_agent: None,
        email: None,
        name: None,
        profile: Some(claims),
    };
    let limits = MetadataLimits {
        user_metadata_bytes: 200,
        app_metadata_bytes: 200,
    };
    let refused = store
        .record_login(
            &site.site_id,
            &login,
            limits,
            std::sync::Arc::new(|_, _| Vec::new()),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::TooLarge {
                field: "app_metadata",
                ..
            })
        ),
        "{refused:?}"
    );
    assert!(store.user(&site.site_id, "u1").await.unwrap().is_none());
    let roomy = MetadataLimits {
        user_metadata_bytes: 1000,
        app_metadata_bytes: 1000,
    };
    let receipt = store
        .record_login(
            &site.site_id,
            &login,
            roomy,
            std::sync::Arc::new(|_, _| Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(
        (receipt.login_count, receipt.signed_up),
        (1, true),
        "the refused attempt claimed no event id"
    );
}

conformance!(
    idp_claims_merge_once_per_counted_login,
    idp_claims_over_the_metadata_limit_store_nothing,
);
