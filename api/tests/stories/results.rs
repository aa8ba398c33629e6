//! Results stories: a results scope whose users filter is a condition (evaluated in
//! each query) and the same scope with the condition's users listed (found once for a
//! page) give the same figures, and the filter changes them.

use serde_json::json;
use std::sync::Arc;

use super::{login, publish_set, service};
use trickle::model::results::{EventGroup, ListedUsers, ResultsScope, UsersFilter};
use trickle::model::{MetadataLimits, NewAnswer, PromptEventKind};
use trickle::questions::{Condition, parse_condition_json};
use trickle::store::Store;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 64 * 1024,
    app_metadata_bytes: 256 * 1024,
};

/// Every aggregate of a results page under `scope`, each sorted, as one comparable text.
async fn figures(store: &Arc<dyn Store>, scope: &ResultsScope) -> String {
    let stages = EventGroup::Stage(vec![
        (1, vec!["role".into(), "nickname".into()]),
        (2, vec!["address.city".into()]),
    ]);
    let mut grouped = Vec::new();
    for group in [
        EventGroup::Total,
        EventGroup::Version,
        EventGroup::Key,
        stages,
    ] {
        let mut users: Vec<_> = store
            .results_event_users(scope, &group)
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.group, g.kind, g.users))
            .collect();
        users.sort();
        grouped.push(users);
    }
    let mut totals = store.results_answer_totals(scope).await.unwrap();
    totals.sort();
    let mut values: Vec<_> = store
        .results_value_counts(scope, &["role".into()])
        .await
        .unwrap()
        .into_iter()
        .map(|(key, value, n)| (key, value.to_string(), n))
        .collect();
    values.sort();
    let answers: Vec<_> = store
        .results_answers(scope, None, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.user_id, a.key, a.value.to_string()))
        .collect();
    format!(
        "histogram {:?}\ngrouped {grouped:?}\ntotals {totals:?}\nvalues {values:?}\n\
         answers {answers:?}\nper day {:?}",
        store.results_login_histogram(scope).await.unwrap(),
        store.results_answers_per_day(scope).await.unwrap(),
    )
}

async fn a_listed_filter_counts_what_its_condition_counts(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    let site_id = site.site_id.as_str();
    let roles = ["dev", "pm", "student"];
    for i in 0..12 {
        let user = format!("u{i:02}");
        for _ in 0..(1 + i % 2) {
            trickle.logins().record(&site, login(&user)).await.unwrap();
        }
        let event = |key: &'static str, kind| {
            let user = user.clone();
            let store = store.clone();
            async move {
                let recorded = store
                    .record_prompt_event(site_id, &user, "profile", version, key, kind)
                    .await
                    .unwrap();
                assert!(recorded);
            }
        };
        event("role", PromptEventKind::Impression).await;
        if i % 4 == 3 {
            event("role", PromptEventKind::Skipped).await;
            continue;
        }
        let answer = |key: &str, value| NewAnswer {
            question_set: "profile".into(),
            version,
            key: key.into(),
            value,
        };
        let mut answers = vec![answer("role", json!(roles[i % 3]))];
        if i % 3 == 0 {
            event("nickname", PromptEventKind::Impression).await;
            answers.push(answer("nickname", json!(format!("nick {i}"))));
        }
        for answer in answers {
            store
                .record_answer(trickle::store::AnswerWrite {
                    site_id: site_id.to_string(),
                    user_id: user.to_string(),
                    answer: answer.clone(),
                    limits: LIMITS,
                    follow_ups: Vec::new(),
                })
                .await
                .unwrap()
                .expect("the user exists");
        }
    }

    let scope = |users| ResultsScope {
        site_id: site.site_id.clone(),
        question_set: "profile".into(),
        from: None,
        until: None,
        version: None,
        users,
        now: trickle::model::now(),
    };
    let everyone = figures(&store, &scope(None)).await;
    let returning: Condition =
        parse_condition_json(&json!({"key": "login_count", "equals": 2})).unwrap();
    let nobody: Condition =
        parse_condition_json(&json!({"key": "login_count", "equals": 9})).unwrap();
    let found = store
        .results_matching_users(&scope(None), &returning, 100)
        .await
        .unwrap();
    let mut listed = found.ids();
    listed.sort();
    assert_eq!(found.count, listed.len());
    let odd: Vec<String> = (0..12)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("u{i:02}"))
        .collect();
    assert_eq!(listed, odd, "the users with two logins");
    let first_two = store
        .results_matching_users(&scope(None), &returning, 2)
        .await
        .unwrap();
    assert_eq!(first_two.count, 2, "at most the limit");
    assert_eq!(first_two.ids().len(), 2);

    let by_condition = figures(&store, &scope(Some(UsersFilter::Matching(returning)))).await;
    let by_list = figures(
        &store,
        &scope(Some(UsersFilter::Listed(ListedUsers::of(&listed)))),
    )
    .await;
    assert_eq!(by_condition, by_list);
    assert_ne!(by_condition, everyone, "the filter changes the figures");
    assert!(by_condition.contains("\"u01\""), "{by_condition}");
    assert!(!by_condition.contains("\"u00\""), "{by_condition}");

    let none_by_condition = figures(&store, &scope(Some(UsersFilter::Matching(nobody)))).await;
    let none_by_list = figures(
        &store,
        &scope(Some(UsersFilter::Listed(ListedUsers::of(&[])))),
    )
    .await;
    assert_eq!(none_by_condition, none_by_list);
    assert!(!none_by_list.contains("\"u0"), "{none_by_list}");
}

conformance!(a_listed_filter_counts_what_its_condition_counts);
