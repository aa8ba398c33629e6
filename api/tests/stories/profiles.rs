//! Profile stories: sites, logins, question sets, metadata, erasure.

use futures::future::join_all;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::{SET, by, login, login_event, publish_set, service};
use trickle::App;
use trickle::app::logins::LoginRequest;
use trickle::app::prompts::AnswerRequest;
use trickle::error::Error;
use trickle::model::MetadataLimits;
use trickle::model::SitePatch;
use trickle::model::{UserPatch, UserQuery};
use trickle::store::{Store, StoreError};

async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

async fn sites_are_found_by_their_keys_only(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let keys = trickle
        .sites()
        .create("shop", vec!["https://shop.example".into()])
        .await
        .unwrap();
    assert_eq!(
        trickle
            .sites()
            .by_secret_key(&keys.secret_key)
            .await
            .unwrap()
            .site_id,
        keys.site_id
    );
    assert_eq!(
        trickle
            .sites()
            .by_publishable_key(&keys.publishable_key)
            .await
            .unwrap()
            .site_id,
        keys.site_id
    );
    assert!(matches!(
        trickle.sites().by_secret_key("sk_wrong").await,
        Err(Error::Unauthorized { .. })
    ));
    assert!(matches!(
        trickle.sites().by_publishable_key(&keys.secret_key).await,
        Err(Error::Unauthorized { .. })
    ));
    let origins = store.allowed_origins_of_all_sites().await.unwrap();
    assert_eq!(origins, ["https://shop.example"]);
    assert!(
        trickle
            .sites()
            .origin_allowed_anywhere("https://shop.example")
            .await
            .unwrap()
    );
    assert!(
        !trickle
            .sites()
            .origin_allowed_anywhere("https://evil.example")
            .await
            .unwrap()
    );
    let site = trickle.sites().get(&keys.site_id).await.unwrap();
    let patch = SitePatch {
        allowed_origins: Some(vec!["https://new.example".into()]),
        widget_settings: Some(
            json!({ "corner": "top-left", "theme": { "brand_color": "#112233" } }),
        ),
    };
    let updated = trickle.sites().update(&by(), &site, patch).await.unwrap();
    assert_eq!(
        updated.allowed_origins,
        vec!["https://new.example".to_owned()]
    );
    assert_eq!(updated.widget_settings.corner, "top-left");
    assert_eq!(updated.widget_settings.theme.brand_color, "#112233");
    assert_eq!(
        updated.widget_settings.delay_ms, 2000,
        "untouched settings keep their values"
    );
    let reread = trickle.sites().get(&keys.site_id).await.unwrap();
    assert_eq!(reread.widget_settings, updated.widget_settings);
    let bad = SitePatch {
        widget_settings: Some(json!({ "corner": "middle" })),
        ..Default::default()
    };
    assert!(matches!(
        trickle.sites().update(&by(), &reread, bad).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(
        trickle
            .sites()
            .get(&keys.site_id)
            .await
            .unwrap()
            .widget_settings
            .corner,
        "top-left"
    );
}

async fn logins_are_counted_once_per_event(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let first = trickle
        .logins()
        .record(&site, login_event("u1", "e1"))
        .await
        .unwrap();
    assert_eq!((first.login_count, first.signed_up), (1, true));
    let retry = trickle
        .logins()
        .record(&site, login_event("u1", "e1"))
        .await
        .unwrap();
    assert_eq!(retry, first, "a retried event returns the first receipt");
    let second = trickle
        .logins()
        .record(&site, login_event("u1", "e2"))
        .await
        .unwrap();
    assert_eq!((second.login_count, second.signed_up), (2, false));
    assert_eq!(second.first_login_at, first.first_login_at);
    assert!(second.last_login_at >= first.last_login_at);
    let reused = trickle
        .logins()
        .record(&site, login_event("u2", "e1"))
        .await;
    assert!(matches!(
        reused,
        Err(Error::Conflict {
            code: "event_id_reused",
            ..
        })
    ));
    assert!(
        store.user(&site.site_id, "u2").await.unwrap().is_none(),
        "the conflicting login stored nothing"
    );
}

async fn late_events_keep_first_and_last_login(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let at = |s: &str| Some(s.parse().unwrap());
    let base = login("u1");
    trickle
        .logins()
        .record(
            &site,
            LoginRequest {
                occurred_at: at("2026-03-01T10:00:00Z"),
                ip: Some("10.0.0.2".into()),
                ..base.clone()
            },
        )
        .await
        .unwrap();
    let late = trickle
        .logins()
        .record(
            &site,
            LoginRequest {
                occurred_at: at("2026-01-01T10:00:00Z"),
                ip: Some("10.0.0.1".into()),
                ..base.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(late.login_count, 2);
    assert_eq!(
        late.first_login_at.to_rfc3339(),
        "2026-01-01T10:00:00+00:00"
    );
    assert_eq!(late.last_login_at.to_rfc3339(), "2026-03-01T10:00:00+00:00");
    let user = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    assert_eq!(
        user.last_ip.as_deref(),
        Some("10.0.0.2"),
        "a late event does not overwrite the latest IP"
    );
}

async fn forty_concurrent_logins_are_all_counted(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let logins = (0..40).map(|i| {
        let (trickle, site) = (trickle.clone(), site.clone());
        tokio::spawn(async move {
            trickle
                .logins()
                .record(&site, login_event("busy", &format!("e{i}")))
                .await
                .unwrap()
        })
    });
    let receipts: Vec<_> = join_all(logins)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut counts: Vec<i64> = receipts.iter().map(|r| r.login_count).collect();
    counts.sort();
    assert_eq!(
        counts,
        (1..=40).collect::<Vec<_>>(),
        "each login saw a distinct count"
    );
    assert_eq!(receipts.iter().filter(|r| r.signed_up).count(), 1);
    assert_eq!(
        store
            .user(&site.site_id, "busy")
            .await
            .unwrap()
            .unwrap()
            .login_count,
        40
    );
    // The same event retried concurrently counts once.
    let retries = (0..20).map(|_| {
        let (trickle, site) = (trickle.clone(), site.clone());
        tokio::spawn(async move {
            trickle
                .logins()
                .record(&site, login_event("busy", "same"))
                .await
                .unwrap()
        })
    });
    let receipts: Vec<_> = join_all(retries)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(receipts.iter().all(|r| r.login_count == 41));
    assert_eq!(
        store
            .user(&site.site_id, "busy")
            .await
            .unwrap()
            .unwrap()
            .login_count,
        41
    );
}

async fn sites_never_see_each_other(store: Arc<dyn Store>) {
    let (trickle, a) = service(&store).await;
    let keys_b = trickle.sites().create("other", vec![]).await.unwrap();
    let b = trickle.sites().get(&keys_b.site_id).await.unwrap();
    trickle
        .logins()
        .record(&a, login_event("same-id", "e1"))
        .await
        .unwrap();
    let in_b = trickle
        .logins()
        .record(&b, login_event("same-id", "e1"))
        .await
        .unwrap();
    assert!(
        in_b.signed_up,
        "the same user and event id in another site is another user"
    );
    trickle
        .profiles()
        .patch(
            &a,
            "same-id",
            UserPatch {
                user_metadata: Some(json!({"secret": 1})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        trickle
            .profiles()
            .get(&b, "same-id")
            .await
            .unwrap()
            .user
            .user_metadata,
        json!({})
    );
    publish_set(&trickle, &a).await;
    assert!(trickle.publishing().list(&b).await.unwrap().is_empty());
    assert!(
        trickle
            .prompts()
            .next(&b, "same-id", None)
            .await
            .unwrap()
            .is_none()
    );
    trickle.profiles().delete(&b, "same-id").await.unwrap();
    assert!(
        trickle.profiles().get(&a, "same-id").await.is_ok(),
        "deleting in b leaves a alone"
    );
    let page = trickle
        .profiles()
        .list(
            &b,
            &UserQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(page.users.is_empty());
}

async fn versions_are_drafted_published_and_immutable(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let v1 = trickle
        .publishing()
        .save_draft(&by(), &site, "profile", SET, "p.yaml")
        .await
        .unwrap();
    assert_eq!((v1.version, v1.published), (1, false));
    assert!(
        trickle
            .prompts()
            .next(&site, "nobody", None)
            .await
            .unwrap()
            .is_none()
    );
    let published = trickle
        .publishing()
        .publish(&by(), &site, "profile", 1)
        .await
        .unwrap();
    assert!(published.published && published.published_at.is_some());
    let changed = SET.replace("Your role?", "What is your role?");
    let v2 = trickle
        .publishing()
        .save_draft(&by(), &site, "profile", &changed, "p.yaml")
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let history = trickle
        .publishing()
        .history(&site, "profile")
        .await
        .unwrap();
    assert_eq!(
        history.live_version,
        Some(1),
        "a draft does not change the live version"
    );
    assert_eq!(
        history.versions[0].definition["stages"][0]["questions"][0]["title"],
        "Your role?"
    );
    trickle
        .publishing()
        .publish(&by(), &site, "profile", 2)
        .await
        .unwrap();
    trickle
        .publishing()
        .publish(&by(), &site, "profile", 1)
        .await
        .unwrap();
    let history = trickle
        .publishing()
        .history(&site, "profile")
        .await
        .unwrap();
    assert_eq!(
        history.live_version,
        Some(1),
        "re-publishing an older version rolls back to it"
    );
    assert_eq!(
        history.versions[1].source, changed,
        "published versions keep their source"
    );
    assert!(matches!(
        trickle
            .publishing()
            .publish(&by(), &site, "profile", 9)
            .await,
        Err(Error::NotFound { .. })
    ));
    let list = trickle.publishing().list(&site).await.unwrap();
    assert_eq!(
        (list.len(), list[0].latest_version, list[0].title.as_str()),
        (1, 2, "Profile")
    );
}

async fn metadata_edits_are_atomic_and_limited(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let edits = (0..20).map(|i| {
        let (trickle, site) = (trickle.clone(), site.clone());
        tokio::spawn(async move {
            let patch = UserPatch {
                user_metadata: Some(json!({ format!("k{i}"): i })),
                app_metadata: None,
            };
            trickle.profiles().patch(&site, "u1", patch).await.unwrap()
        })
    });
    join_all(edits).await;
    let metadata = trickle
        .profiles()
        .get(&site, "u1")
        .await
        .unwrap()
        .user
        .user_metadata;
    assert_eq!(
        metadata.as_object().unwrap().len(),
        20,
        "no concurrent patch was lost: {metadata}"
    );
    let limits = MetadataLimits {
        user_metadata_bytes: 100,
        app_metadata_bytes: 100,
    };
    let huge = |m: &mut Value, _: &mut Value| m["big"] = json!("x".repeat(200));
    let refused = store
        .edit_user(&site.site_id, "u1", &huge, limits, &[])
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::TooLarge {
            field: "user_metadata",
            ..
        })
    ));
    let after = trickle
        .profiles()
        .get(&site, "u1")
        .await
        .unwrap()
        .user
        .user_metadata;
    assert_eq!(after, metadata, "a refused edit changes nothing");
    let removal = UserPatch {
        user_metadata: Some(json!({ "k0": null })),
        app_metadata: Some(json!({ "crm": { "id": 7 } })),
    };
    let user = trickle
        .profiles()
        .patch(&site, "u1", removal)
        .await
        .unwrap();
    assert!(user.user_metadata.get("k0").is_none());
    assert_eq!(user.app_metadata, json!({ "crm": { "id": 7 } }));
}

async fn deleting_a_user_erases_everything(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    trickle
        .logins()
        .record(&site, login_event("u1", "e1"))
        .await
        .unwrap();
    let answer = AnswerRequest {
        question_set: "profile".into(),
        version,
        key: "role".into(),
        value: json!("dev"),
    };
    trickle
        .prompts()
        .answer(&site, "u1", answer, None)
        .await
        .unwrap();
    trickle.profiles().delete(&site, "u1").await.unwrap();
    assert!(matches!(
        trickle.profiles().get(&site, "u1").await,
        Err(Error::NotFound { .. })
    ));
    assert!(store.answers(&site.site_id, "u1").await.unwrap().is_empty());
    let again = trickle
        .logins()
        .record(&site, login_event("u1", "e1"))
        .await
        .unwrap();
    assert_eq!(
        (again.login_count, again.signed_up),
        (1, true),
        "login events were erased too"
    );
    assert!(
        store
            .user_with_history(&site.site_id, "u1")
            .await
            .unwrap()
            .unwrap()
            .1
            .is_empty()
    );
    assert!(matches!(
        trickle.profiles().delete(&site, "nobody").await,
        Err(Error::NotFound { .. })
    ));
}

async fn users_are_listed_in_pages_and_filtered(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    for i in 0..25 {
        let user = format!("user-{i:02}");
        for _ in 0..(i % 3 + 1) {
            trickle.logins().record(&site, login(&user)).await.unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut query = UserQuery {
        limit: 10,
        ..Default::default()
    };
    loop {
        let page = trickle.profiles().list(&site, &query).await.unwrap();
        seen.extend(page.users.iter().map(|u| u.user_id.clone()));
        match page.next_cursor {
            Some(cursor) => query.after = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("user-{i:02}")).collect();
    assert_eq!(seen, expected);
    let once: Value = json!({ "key": "login_count", "equals": 1 });
    let filter = trickle::questions::parse_condition_json(&once).unwrap();
    let page = trickle
        .profiles()
        .list(
            &site,
            &UserQuery {
                filter: Some(filter),
                limit: 100,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.users.len(), 9);
    assert!(page.users.iter().all(|u| u.login_count == 1));
}

conformance!(
    migrations_are_idempotent,
    sites_are_found_by_their_keys_only,
    logins_are_counted_once_per_event,
    late_events_keep_first_and_last_login,
    forty_concurrent_logins_are_all_counted,
    sites_never_see_each_other,
    versions_are_drafted_published_and_immutable,
    metadata_edits_are_atomic_and_limited,
    deleting_a_user_erases_everything,
    users_are_listed_in_pages_and_filtered,
);

/// PostgreSQL only: replicas share one database, and a publish on one drops the cached
/// question sets of the others (LISTEN/NOTIFY), long before the cache's time-to-live.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_publish_invalidates_other_replicas() {
    let db = crate::common::postgres_store().await;
    let store_b = trickle::store::connect(&db.url).await.unwrap();
    let (.., prompt) = super::publish_reaches_the_other_replica(db.store.clone(), store_b).await;
    assert_eq!(prompt.question.key, "role");
}
