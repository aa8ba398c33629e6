//! Authoring stories: how many users hold answers a publish would orphan, and who
//! last changed each question set.

use serde_json::{Value, json};
use std::sync::Arc;

use super::{login, service};
use trickle::model::{AnswerProbe, MetadataLimits, NewAnswer, NewAuditEntry};
use trickle::store::Store;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 64 * 1024,
    app_metadata_bytes: 256 * 1024,
};

/// Stores an answer of `user` (who must exist) to `key` of the set `slug`.
async fn answer(
    store: &Arc<dyn Store>,
    site_id: &str,
    user: &str,
    slug: &str,
    key: &str,
    value: Value,
) {
    let answer = NewAnswer {
        question_set: slug.into(),
        version: 1,
        key: key.into(),
        value,
    };
    let stored = store
        .record_answer(trickle::store::AnswerWrite {
            site_id: site_id.to_string(),
            user_id: user.to_string(),
            answer: answer.clone(),
            limits: LIMITS,
            follow_ups: Vec::new(),
        })
        .await
        .unwrap();
    assert!(stored.is_some(), "{user} exists");
}

fn probe(key: &str, option: Option<&str>) -> AnswerProbe {
    AnswerProbe {
        key: key.into(),
        option: option.map(str::to_owned),
    }
}

/// Users are counted per key or per option value, in one set of one site only, and a
/// multiple-choice answer counts for each option it holds.
async fn orphaned_answers_are_counted_per_key_and_option(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let other = trickle.sites().create("other", vec![]).await.unwrap();
    let other = trickle.sites().get(&other.site_id).await.unwrap();
    for user in ["u1", "u2", "u3", "u4"] {
        trickle.logins().record(&site, login(user)).await.unwrap();
    }
    trickle.logins().record(&other, login("u1")).await.unwrap();
    let id = site.site_id.as_str();
    answer(&store, id, "u1", "profile", "role", json!("dev")).await;
    answer(&store, id, "u2", "profile", "role", json!("pm")).await;
    answer(
        &store,
        id,
        "u3",
        "profile",
        "role",
        json!({ "other": "dev" }),
    )
    .await;
    answer(&store, id, "u1", "profile", "tools", json!(["git", "vim"])).await;
    answer(&store, id, "u2", "profile", "tools", json!(["vim"])).await;
    answer(&store, id, "u4", "elsewhere", "role", json!("dev")).await;
    answer(
        &store,
        &other.site_id,
        "u1",
        "profile",
        "role",
        json!("dev"),
    )
    .await;

    let probes = [
        probe("role", None),
        probe("role", Some("dev")),
        probe("role", Some("pm")),
        probe("role", Some("student")),
        probe("tools", Some("vim")),
        probe("tools", Some("git")),
        probe("nickname", None),
    ];
    let counts = store.answering_users(id, "profile", &probes).await.unwrap();
    assert_eq!(counts, [3, 1, 1, 0, 2, 1, 0]);
    assert!(
        store
            .answering_users(id, "profile", &[])
            .await
            .unwrap()
            .is_empty()
    );
    let elsewhere = store
        .answering_users(id, "elsewhere", &[probe("role", Some("dev"))])
        .await
        .unwrap();
    assert_eq!(elsewhere, [1]);
}

/// The newest entry per subject of one site, among the actions asked for.
async fn the_latest_change_of_each_set_is_found(store: Arc<dyn Store>) {
    let entry = |site: &str, action: &str, subject: &str, actor: &str| NewAuditEntry {
        admin_id: None,
        actor: actor.into(),
        action: action.into(),
        site_id: Some(site.into()),
        subject: subject.into(),
        detail: String::new(),
    };
    for (site, action, subject, actor) in [
        ("site_a", "question_set.save_draft", "onboarding", "ann"),
        ("site_a", "question_set.publish", "onboarding", "bob"),
        ("site_a", "question_set.save_draft", "feedback", "cat"),
        ("site_a", "site.widget_settings", "onboarding", "dan"),
        ("site_b", "question_set.save_draft", "onboarding", "eve"),
        ("site_a", "questionXset.publish", "feedback", "fay"),
    ] {
        store
            .record_audit(&entry(site, action, subject, actor))
            .await
            .unwrap();
    }
    let latest = store
        .latest_audit_by_subject("site_a", "question_set.")
        .await
        .unwrap();
    let found: Vec<(&str, &str, &str)> = latest
        .iter()
        .map(|e| (e.subject.as_str(), e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("feedback", "question_set.save_draft", "cat"),
            ("onboarding", "question_set.publish", "bob"),
        ]
    );
    assert!(
        store
            .latest_audit_by_subject("site_c", "question_set.")
            .await
            .unwrap()
            .is_empty()
    );
}

conformance!(
    orphaned_answers_are_counted_per_key_and_option,
    the_latest_change_of_each_set_is_found,
);
