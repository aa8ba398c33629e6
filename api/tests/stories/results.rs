//! Results stories: a results scope whose users filter is a condition (evaluated in
//! each query) and the same scope with the condition's users listed (found once for a
//! page) give the same figures, and the filter changes them; the one-pass reads of a
//! page (every grouping of the events at once, the answers per key and value at once)
//! count what one statement per grouping counts.

use chrono::Duration as Span;
use serde_json::json;
use std::sync::Arc;

use super::{login, publish_set, service};
use trickle::model::results::{
    AnswerCondition, EventGroup, GroupedUsers, ListedUsers, OutcomeGroups, ResultsScope,
    UsersCondition, UsersFilter,
};
use trickle::model::{MetadataLimits, NewAnswer, PromptEventKind};
use trickle::questions::parse_condition_json;
use trickle::store::Store;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 64 * 1024,
    app_metadata_bytes: 256 * 1024,
};

fn stages() -> Vec<(u32, Vec<String>)> {
    vec![
        (1, vec!["role".into(), "nickname".into()]),
        (2, vec!["address.city".into()]),
    ]
}

fn sorted(users: &[GroupedUsers]) -> Vec<(String, String, i64)> {
    let mut users: Vec<_> = users
        .iter()
        .map(|g| (g.group.clone(), g.kind.clone(), g.users))
        .collect();
    users.sort();
    users
}

/// Every aggregate of a results page under `scope`, each sorted, as one comparable text;
/// asserts on the way that the one-pass reads count the same.
async fn figures(store: &Arc<dyn Store>, scope: &ResultsScope) -> String {
    let by_stage = EventGroup::Stage(stages());
    let mut grouped = Vec::new();
    for group in [
        EventGroup::Total,
        EventGroup::Version,
        EventGroup::Key,
        by_stage,
    ] {
        grouped.push(sorted(
            &store.results_event_users(scope, &group).await.unwrap(),
        ));
    }
    // The published version 1, the later version some events carry, and one without
    // events (which, as in the grouping per version, has no entry).
    let groups = OutcomeGroups {
        versions: vec![1, 2, 99],
        keys: vec!["role".into(), "nickname".into(), "address.city".into()],
        stages: stages(),
    };
    let at_once = store
        .results_outcomes_per_user(scope, &groups)
        .await
        .unwrap();
    assert_eq!(sorted(&at_once.total), grouped[0], "total");
    assert_eq!(sorted(&at_once.by_version), grouped[1], "per version");
    assert_eq!(sorted(&at_once.by_key), grouped[2], "per key");
    assert_eq!(sorted(&at_once.by_stage), grouped[3], "per stage");
    // Events of keys not named still count in the total.
    let role_only = OutcomeGroups {
        keys: vec!["role".into()],
        ..OutcomeGroups::default()
    };
    let role_only = store
        .results_outcomes_per_user(scope, &role_only)
        .await
        .unwrap();
    assert_eq!(sorted(&role_only.total), grouped[0], "total, one key named");
    let role: Vec<_> = grouped[2]
        .iter()
        .filter(|g| g.0 == "role")
        .cloned()
        .collect();
    assert_eq!(sorted(&role_only.by_key), role, "the named key only");

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
    let answers_at_once = store
        .results_answer_counts(scope, &["role".into()])
        .await
        .unwrap();
    let mut totals_at_once = answers_at_once.totals.clone();
    totals_at_once.sort();
    let mut values_at_once: Vec<_> = answers_at_once
        .values
        .into_iter()
        .map(|(key, value, n)| (key, value.to_string(), n))
        .collect();
    values_at_once.sort();
    assert_eq!(totals_at_once, totals, "answers per key");
    assert_eq!(values_at_once, values, "answers per value");
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
        store.results_login_histogram(scope, &[1, 2]).await.unwrap(),
        store.results_answers_per_day(scope).await.unwrap(),
    )
}

async fn a_listed_filter_counts_what_its_condition_counts(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    assert_eq!(version, 1, "figures() counts versions 1 and 2");
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
                assert!(recorded.is_some_and(|r| r.new));
            }
        };
        event("role", PromptEventKind::Impression).await;
        if i % 5 == 0 {
            // A later version's question, shown to some users only.
            let recorded = store
                .record_prompt_event(
                    site_id,
                    &user,
                    "profile",
                    version + 1,
                    "address.city",
                    PromptEventKind::Dismissed,
                )
                .await
                .unwrap();
            assert!(recorded.is_some_and(|r| r.new));
        }
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
        periods: Vec::new(),
        users,
        now: trickle::model::now(),
    };
    let everyone = figures(&store, &scope(None)).await;
    // Within dates one pass counts what one statement per grouping counts too (the way
    // PostgreSQL reads a dated page), and dates after every event count nobody.
    let now = trickle::model::now();
    let dated = |from, until| ResultsScope {
        from: Some(from),
        until: Some(until),
        ..scope(None)
    };
    let this_hour = figures(&store, &dated(now - Span::hours(1), now + Span::hours(1))).await;
    assert!(this_hour.contains("\"u00\""), "{this_hour}");
    let later = figures(&store, &dated(now + Span::hours(1), now + Span::hours(2))).await;
    assert!(!later.contains("\"u0"), "{later}");
    let profile = |condition: serde_json::Value| UsersCondition {
        profile: Some(parse_condition_json(&condition).unwrap()),
        answer: None,
    };
    let returning = profile(json!({"key": "login_count", "equals": 2}));
    let nobody = profile(json!({"key": "login_count", "equals": 9}));
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
    assert_eq!(
        found.login_counts,
        Some(vec![(2, 6)]),
        "the users per login count, read with the list"
    );
    let all_users = profile(json!({"key": "login_count", "gte": 1}));
    let everybody = store
        .results_matching_users(&scope(None), &all_users, 100)
        .await
        .unwrap();
    assert_eq!(
        everybody.login_counts.as_deref(),
        Some(
            &store
                .results_login_histogram(&scope(None), &[1, 2])
                .await
                .unwrap()[..]
        ),
        "as the histogram counts them"
    );
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

    // The answer filter reads the set's current answers: role is student for i % 3 == 2,
    // except where i % 4 == 3 skipped it.
    let students = AnswerCondition {
        key: "role".into(),
        value: parse_condition_json(&json!({"key": AnswerCondition::VALUE, "equals": "student"}))
            .unwrap(),
    };
    let mut cases = vec![(
        UsersCondition {
            profile: None,
            answer: Some(students.clone()),
        },
        vec!["u02", "u05", "u08"],
    )];
    cases.push((
        UsersCondition {
            answer: Some(students),
            ..profile(json!({"key": "login_count", "equals": 2}))
        },
        vec!["u05"],
    ));
    for (condition, expected) in cases {
        let found = store
            .results_matching_users(&scope(None), &condition, 100)
            .await
            .unwrap();
        let mut ids = found.ids();
        ids.sort();
        assert_eq!(ids, expected, "{condition:?}");
        let by_condition = figures(&store, &scope(Some(UsersFilter::Matching(condition)))).await;
        let by_list = figures(&store, &scope(Some(UsersFilter::Listed(found)))).await;
        assert_eq!(by_condition, by_list);
        assert_ne!(by_condition, everyone, "the filter changes the figures");
    }
}

conformance!(a_listed_filter_counts_what_its_condition_counts);
