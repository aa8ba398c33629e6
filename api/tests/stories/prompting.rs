//! Prompting stories: answers, skips, impressions, the due question and stats.

use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;

use super::{by, login, publish_set, service};
use trickle::app::prompts::{AnswerRequest, QuestionRef, SkipRequest};
use trickle::error::Error;
use trickle::model::{PromptEventKind, SitePatch};
use trickle::store::{RecordedEvent, Store};

async fn answers_land_in_metadata_with_their_source(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    trickle.logins().record(&site, login("u1")).await.unwrap();
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let answer = |key: &str, value: Value| AnswerRequest {
        question_set: "profile".into(),
        version,
        key: key.into(),
        value,
    };
    // The widget showed the city question (role comes first when nothing was shown).
    let city = QuestionRef {
        question_set: "profile".into(),
        version,
        key: "address.city".into(),
    };
    trickle
        .prompts()
        .record_impression(&site, "u1", city)
        .await
        .unwrap();
    trickle
        .prompts()
        .answer(
            &site,
            "u1",
            answer("address.city", json!("  Berlin ")),
            None,
        )
        .await
        .unwrap();
    let profile = trickle.profiles().get(&site, "u1").await.unwrap();
    assert_eq!(
        profile.user.user_metadata,
        json!({ "address": { "city": "Berlin" } })
    );
    assert_eq!(profile.answers.len(), 1);
    assert_eq!(
        (
            profile.answers[0].question_set.as_str(),
            profile.answers[0].version,
            profile.answers[0].login_count
        ),
        ("profile", version, 2)
    );
    let bad = trickle
        .prompts()
        .answer(&site, "u1", answer("role", json!("astronaut")), None)
        .await;
    assert!(matches!(bad, Err(Error::AnswerInvalid { .. })));
    assert_eq!(
        trickle
            .profiles()
            .get(&site, "u1")
            .await
            .unwrap()
            .answers
            .len(),
        1,
        "an invalid answer stores nothing"
    );
    let missing = trickle
        .prompts()
        .answer(&site, "ghost", answer("role", json!("dev")), None)
        .await;
    assert!(matches!(missing, Err(Error::NotFound { what: "user" })));
}

async fn the_due_question_follows_history(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let next = trickle
        .prompts()
        .next(&site, "u1", None)
        .await
        .unwrap()
        .expect("role is due");
    let first = serde_json::to_value(&next).unwrap();
    assert_eq!(first["question"]["key"], "role");
    let skip = |key: &str, forever| SkipRequest {
        question_set: "profile".into(),
        version,
        key: key.into(),
        forever,
    };
    let after_skip = trickle
        .prompts()
        .skip(&site, "u1", skip("role", false), None)
        .await
        .unwrap()
        .expect("nickname next");
    assert_eq!(
        serde_json::to_value(&after_skip).unwrap()["question"]["key"],
        "nickname"
    );
    let none = trickle
        .prompts()
        .skip(&site, "u1", skip("nickname", true), None)
        .await
        .unwrap();
    assert!(
        none.is_none(),
        "two prompts used at login 1: the cap is reached"
    );
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let at_two = trickle
        .prompts()
        .next(&site, "u1", None)
        .await
        .unwrap()
        .expect("city at login 2");
    assert_eq!(
        serde_json::to_value(&at_two).unwrap()["question"]["key"],
        "address.city",
        "role was skipped at 1: due again at 3"
    );
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let at_three = trickle
        .prompts()
        .next(&site, "u1", None)
        .await
        .unwrap()
        .expect("role again at 3");
    assert_eq!(
        serde_json::to_value(&at_three).unwrap()["question"]["key"],
        "role"
    );
    let explained = trickle.prompts().explain(&site, "u1", None).await.unwrap();
    assert!(!explained.decisions.is_empty());
}

async fn stats_count_prompts_and_answers(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    for (user, role) in [("a", "dev"), ("b", "dev"), ("c", "pm")] {
        trickle.logins().record(&site, login(user)).await.unwrap();
        let target = trickle::app::prompts::QuestionRef {
            question_set: "profile".into(),
            version,
            key: "role".into(),
        };
        trickle
            .prompts()
            .record_impression(&site, user, target)
            .await
            .unwrap();
        let answer = AnswerRequest {
            question_set: "profile".into(),
            version,
            key: "role".into(),
            value: json!(role),
        };
        trickle
            .prompts()
            .answer(&site, user, answer, None)
            .await
            .unwrap();
    }
    let skip = SkipRequest {
        question_set: "profile".into(),
        version,
        key: "nickname".into(),
        forever: false,
    };
    trickle
        .prompts()
        .skip(&site, "a", skip, None)
        .await
        .unwrap();
    let stats = trickle.stats().questions(&site).await.unwrap();
    let role = stats.iter().find(|s| s.key == "role").unwrap();
    assert_eq!(
        (role.eligible, role.shown, role.answered, role.skipped),
        (3, 3, 3, 0)
    );
    assert_eq!(role.distribution.get("dev"), Some(&2));
    assert_eq!(role.distribution.get("pm"), Some(&1));
    let nickname = stats.iter().find(|s| s.key == "nickname").unwrap();
    assert_eq!((nickname.skipped, nickname.answered), (1, 0));
    assert!(nickname.distribution.is_empty(), "free text is not listed");
    let city = stats.iter().find(|s| s.key == "address.city").unwrap();
    assert_eq!(city.eligible, 0, "nobody reached login 2");
}

async fn impressions_start_the_minimum_interval(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    let patch = SitePatch {
        allowed_origins: None,
        widget_settings: Some(json!({ "min_hours_between_prompts": 24 })),
    };
    let site = trickle.sites().update(&by(), &site, patch).await.unwrap();
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let target = |key: &str| QuestionRef {
        question_set: "profile".into(),
        version,
        key: key.into(),
    };
    let skipped = SkipRequest {
        question_set: "profile".into(),
        version,
        key: "role".into(),
        forever: false,
    };
    trickle
        .prompts()
        .skip(&site, "u1", skipped, None)
        .await
        .unwrap();
    let user = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    assert_eq!(user.last_prompted_at, None, "only an impression counts");
    assert!(
        trickle
            .prompts()
            .next(&site, "u1", None)
            .await
            .unwrap()
            .is_some()
    );

    let before = Utc::now();
    trickle
        .prompts()
        .record_impression(&site, "u1", target("nickname"))
        .await
        .unwrap();
    let user = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    let at = user.last_prompted_at.expect("the impression is remembered");
    assert!(at >= before - chrono::Duration::seconds(1) && at <= Utc::now());
    assert!(
        trickle
            .prompts()
            .next(&site, "u1", None)
            .await
            .unwrap()
            .is_none(),
        "held for 24 h"
    );
    let explained = trickle.prompts().explain(&site, "u1", None).await.unwrap();
    assert!(explained.prompt.is_none());
    assert_eq!(explained.held_until, Some(at + chrono::Duration::hours(24)));
    let ghost = trickle
        .prompts()
        .record_impression(&site, "ghost", target("role"))
        .await;
    assert!(matches!(ghost, Err(Error::NotFound { what: "user" })));
}

/// `(kind, count)` of the stored prompt events of one question.
async fn event_counts(store: &Arc<dyn Store>, site_id: &str, key: &str) -> Vec<(String, i64)> {
    let mut counts: Vec<_> = store
        .prompt_event_counts(site_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.key == key)
        .map(|c| (c.kind, c.count))
        .collect();
    counts.sort();
    counts
}

async fn impressions_skips_and_dismissals_count_once_per_login(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    trickle.logins().record(&site, login("u1")).await.unwrap();
    let event = |key: &'static str, kind| {
        store.record_prompt_event(&site.site_id, "u1", "profile", version, key, kind)
    };
    let new_at = |login_count| {
        Some(RecordedEvent {
            login_count,
            new: true,
        })
    };
    let repeat_at = |login_count| {
        Some(RecordedEvent {
            login_count,
            new: false,
        })
    };
    assert_eq!(
        event("role", PromptEventKind::Impression).await.unwrap(),
        new_at(1)
    );
    let first_shown = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    assert_eq!(
        event("role", PromptEventKind::Skipped).await.unwrap(),
        new_at(1)
    );
    assert_eq!(
        event("nickname", PromptEventKind::Dismissed).await.unwrap(),
        new_at(1)
    );
    for _ in 0..3 {
        for kind in [PromptEventKind::Impression, PromptEventKind::Skipped] {
            assert_eq!(
                event("role", kind).await.unwrap(),
                repeat_at(1),
                "a repeat is not an error, and writes nothing"
            );
        }
        assert_eq!(
            event("nickname", PromptEventKind::Dismissed).await.unwrap(),
            repeat_at(1)
        );
    }
    let counts = |key: &'static str| event_counts(&store, &site.site_id, key);
    let once = |kind: &str| vec![(kind.to_owned(), 1)];
    assert_eq!(
        counts("role").await,
        vec![("impression".into(), 1), ("skipped".into(), 1)]
    );
    assert_eq!(counts("nickname").await, once("dismissed"));
    let user = store.user(&site.site_id, "u1").await.unwrap().unwrap();
    assert_eq!(
        user.last_prompted_at, first_shown.last_prompted_at,
        "a repeated impression does not restart the minimum interval"
    );

    // The next login is a new chance to show and skip.
    trickle.logins().record(&site, login("u1")).await.unwrap();
    assert_eq!(
        event("role", PromptEventKind::Impression).await.unwrap(),
        new_at(2)
    );
    assert_eq!(
        event("role", PromptEventKind::Skipped).await.unwrap(),
        new_at(2)
    );
    assert_eq!(
        counts("role").await,
        vec![("impression".into(), 2), ("skipped".into(), 2)]
    );
    let ghost = store
        .record_prompt_event(
            &site.site_id,
            "ghost",
            "profile",
            version,
            "role",
            PromptEventKind::Impression,
        )
        .await
        .unwrap();
    assert_eq!(ghost, None, "no such user");
}

async fn shown_questions_stay_open_until_answered(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    trickle.logins().record(&site, login("u1")).await.unwrap();
    trickle.logins().record(&site, login("u2")).await.unwrap();
    let asked = |user: &'static str, v: i64, key: &'static str| {
        store.user_being_asked(&site.site_id, user, "profile", v, key)
    };
    let open = |v: i64, key: &'static str| async move {
        asked("u1", v, key).await.unwrap().unwrap().shown_unanswered
    };
    assert!(!open(version, "role").await, "never shown");
    store
        .record_prompt_event(
            &site.site_id,
            "u1",
            "profile",
            version,
            "role",
            PromptEventKind::Impression,
        )
        .await
        .unwrap();
    assert!(open(version, "role").await);
    assert!(!open(version + 1, "role").await, "another version");
    assert!(!open(version, "nickname").await, "another question");
    let other = asked("u2", version, "role").await.unwrap().unwrap();
    assert!(!other.shown_unanswered, "another user");
    assert_eq!(other.user.user_id, "u2");
    assert!(
        asked("nobody", version, "role").await.unwrap().is_none(),
        "no such user"
    );
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
    assert!(!open(version, "role").await, "answered since");
    // The user and history come with it, as `user_with_history` reads them.
    let read = asked("u1", version, "role").await.unwrap().unwrap();
    let (user, history) = store
        .user_with_history(&site.site_id, "u1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.user.login_count, read.history),
        (user.login_count, history)
    );
    assert_eq!(user.user_metadata.get("role"), Some(&json!("dev")));
}

/// An answer, skip or dismissal returns the next prompt from the user and history read
/// before it plus its own outcome: over a random walk of logins, impressions, answers,
/// skips and dismissals, that prompt is always the one a fresh read gives (`next` right
/// after; without a minimum interval the open widget and a new page see the same).
async fn the_prompt_after_an_outcome_is_the_one_a_fresh_read_gives(store: Arc<dyn Store>) {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let (trickle, site) = service(&store).await;
    let version = publish_set(&trickle, &site).await;
    let mut rng = StdRng::seed_from_u64(0x7e11);
    let (mut outcomes, mut repeats) = (0, 0);
    for user in (0..16).map(|i| format!("w{i}")) {
        let user = user.as_str();
        trickle.logins().record(&site, login(user)).await.unwrap();
        for _ in 0..14 {
            let shown = trickle.prompts().next(&site, user, None).await.unwrap();
            let Some(shown) = shown.map(|p| serde_json::to_value(&p).unwrap()) else {
                trickle.logins().record(&site, login(user)).await.unwrap();
                continue;
            };
            let key = shown["question"]["key"].as_str().unwrap().to_owned();
            let shown_first = rng.random_bool(0.5);
            if shown_first {
                let target = QuestionRef {
                    question_set: "profile".into(),
                    version,
                    key: key.clone(),
                };
                let prompts = trickle.prompts();
                prompts
                    .record_impression(&site, user, target)
                    .await
                    .unwrap();
            }
            let returned = match rng.random_range(0..3) {
                0 => {
                    let value = if key == "role" {
                        json!("pm")
                    } else {
                        json!("x")
                    };
                    let answer = AnswerRequest {
                        question_set: "profile".into(),
                        version,
                        key,
                        value,
                    };
                    trickle.prompts().answer(&site, user, answer, None).await
                }
                kind => {
                    let skip = SkipRequest {
                        question_set: "profile".into(),
                        version,
                        key,
                        forever: kind == 2,
                    };
                    let first = trickle
                        .prompts()
                        .skip(&site, user, skip.clone(), None)
                        .await;
                    // Shown and not answered, a skip may come again (a retry, a double
                    // click): the store writes nothing, and the prompt is the same.
                    if shown_first && rng.random_bool(0.5) {
                        let again = trickle.prompts().skip(&site, user, skip, None).await;
                        assert_eq!(
                            again.unwrap().map(|p| serde_json::to_value(&p).unwrap()),
                            first
                                .as_ref()
                                .unwrap()
                                .as_ref()
                                .map(|p| serde_json::to_value(p).unwrap()),
                            "{user}: a repeated skip"
                        );
                        repeats += 1;
                    }
                    first
                }
            };
            let returned = returned.unwrap().map(|p| serde_json::to_value(&p).unwrap());
            let fresh = trickle.prompts().next(&site, user, None).await.unwrap();
            let fresh = fresh.map(|p| serde_json::to_value(&p).unwrap());
            assert_eq!(returned, fresh, "{user} after {shown}");
            outcomes += 1;
        }
    }
    assert!(outcomes > 50, "the walk recorded {outcomes} outcomes");
    assert!(repeats > 3, "the walk repeated {repeats} skips");
}

conformance!(
    the_prompt_after_an_outcome_is_the_one_a_fresh_read_gives,
    impressions_skips_and_dismissals_count_once_per_login,
    shown_questions_stay_open_until_answered,
    answers_land_in_metadata_with_their_source,
    the_due_question_follows_history,
    stats_count_prompts_and_answers,
    impressions_start_the_minimum_interval,
);
