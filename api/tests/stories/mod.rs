//! The storage conformance stories, one module per area, and what they share.

use std::sync::Arc;
use std::time::Duration;

use trickle::App;
use trickle::app::logins::LoginRequest;
use trickle::model::Site;
use trickle::store::Store;

mod answer_batches;
mod authoring;
mod concurrent_writes;
mod console;
mod enrichment_quotas;
mod erasure;
mod idp_profile;
mod live_periods;
mod login_batches;
mod metadata_storage;
mod pooler;
mod profiles;
mod prompting;
mod queue;
mod reach_in_windows;
mod results;
mod retention_order;
mod secrets;
mod segments;
mod session_settings;
mod sites;
mod sqlite_writer;

/// A question set with two questions at login 1 and one at login 2.
const SET: &str = r#"
slug: profile
title: Profile
settings: { max_prompts_per_login: 2, reask_skipped_after_logins: 2 }
stages:
  - at_login: 1
    questions:
      - { key: role, type: single_choice, title: "Your role?", options: [dev, pm, student] }
      - { key: nickname, type: text, title: "Nickname?" }
  - at_login: 2
    questions:
      - { key: address.city, type: text, title: "City?" }
"#;

/// Who the stories' changes are recorded as in the audit log.
fn by() -> trickle::app::Actor {
    trickle::app::Actor::command_line()
}

/// A login of `user` with nothing but its id.
fn login(user: &str) -> LoginRequest {
    LoginRequest {
        user_id: user.into(),
        event_id: None,
        occurred_at: None,
        ip: None,
        user_agent: None,
        email: None,
        name: None,
        profile: None,
    }
}

/// A login of `user` carrying an event id.
fn login_event(user: &str, event: &str) -> LoginRequest {
    LoginRequest {
        event_id: Some(event.into()),
        ..login(user)
    }
}

/// A service on `store` with one site.
async fn service(store: &Arc<dyn Store>) -> (App, Site) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let keys = trickle
        .sites()
        .create("shop", vec!["https://shop.example".into()])
        .await
        .unwrap();
    let site = trickle.sites().get(&keys.site_id).await.unwrap();
    (trickle, site)
}

/// Drafts and publishes `SET`; its version.
async fn publish_set(trickle: &App, site: &Site) -> i64 {
    let draft = trickle
        .publishing()
        .save_draft(&by(), site, "profile", SET, "profile.yaml")
        .await
        .unwrap();
    trickle
        .publishing()
        .publish(&by(), site, "profile", draft.version)
        .await
        .unwrap()
        .version
}

/// Two replicas (services caching for an hour) on `store_a` and `store_b`, b listening
/// for invalidations, and a site where `u1` logged in and b cached the empty list of
/// live sets; then `SET` published on a. Returns both, the site, and the prompt b shows
/// `u1` once it hears of the publish; panics unless that is within 5 s.
async fn publish_reaches_the_other_replica(
    store_a: Arc<dyn Store>,
    store_b: Arc<dyn Store>,
) -> (App, App, Site, trickle::questions::Prompt) {
    let replica_a = App::new(store_a, Duration::from_secs(3600));
    let replica_b = App::new(store_b, Duration::from_secs(3600));
    replica_b.spawn_invalidation_listener().await.unwrap();
    let keys = replica_a.sites().create("shop", vec![]).await.unwrap();
    let site = replica_a.sites().get(&keys.site_id).await.unwrap();
    replica_a.logins().record(&site, login("u1")).await.unwrap();
    let next = replica_b.prompts().next(&site, "u1", None).await.unwrap();
    assert!(next.is_none(), "b caches: no live sets");
    publish_set(&replica_a, &site).await;
    for _ in 0..50 {
        if let Some(prompt) = replica_b.prompts().next(&site, "u1", None).await.unwrap() {
            return (replica_a, replica_b, site, prompt);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("replica b did not see the publish within 5 s (its cache lives 1 h)");
}
