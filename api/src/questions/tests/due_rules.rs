//! The "which question is due" rules, one by one, and explain verdicts.

use serde_json::{Value, json};

use super::super as q;
use super::support::{now, profile, read_set_file, rec, set};
use q::{Outcome, Pacing, PublishedSet, Verdict, Visit};

const STAGED: &str = r#"
slug: s
title: Staged
settings: { max_prompts_per_login: 2, reask_skipped_after_logins: 2 }
stages:
  - at_login: 1
    questions:
      - { key: role, type: text, title: Role }
  - at_login: 2
    after_days: 3
    questions:
      - { key: city, type: text, title: City, skip_if_known: app_metadata.geo.city }
      - { key: phone, type: phone, title: Phone }
  - at_login: 3
    questions:
      - { key: size, type: number, title: Size, when: { key: role, not_equals: student } }
"#;

const SINGLE: &str = "slug: s\ntitle: One\nstages:\n  - at_login: 1\n    questions:\n      - { key: role, type: text, title: Role }\n";

fn published(yaml: &str, version: i64) -> PublishedSet {
    PublishedSet {
        set: set(yaml),
        version,
    }
}

fn due_key(
    sets: &[PublishedSet],
    user: &Value,
    app: &Value,
    login: i64,
    days: i64,
    history: &[q::PromptRecord],
) -> Option<String> {
    let p = profile(user, app, login, days);
    q::next_due(sets, &p, history, Pacing::default(), now()).map(|d| d.question.key.clone())
}

#[test]
fn stage_gating_by_login_count() {
    let sets = [published(STAGED, 1)];
    let (app, known_role) = (json!({}), json!({"role": "dev"}));
    assert_eq!(
        due_key(&sets, &json!({}), &app, 1, 10, &[]).as_deref(),
        Some("role")
    );
    assert_eq!(due_key(&sets, &known_role, &app, 1, 10, &[]), None);
    assert_eq!(
        due_key(&sets, &known_role, &app, 2, 10, &[]).as_deref(),
        Some("city")
    );
    assert_eq!(due_key(&sets, &json!({}), &app, 0, 10, &[]), None);
}

#[test]
fn after_days_must_be_met() {
    let sets = [published(STAGED, 1)];
    let user = json!({"role": "dev"});
    assert_eq!(due_key(&sets, &user, &json!({}), 2, 2, &[]), None);
    assert_eq!(
        due_key(&sets, &user, &json!({}), 2, 3, &[]).as_deref(),
        Some("city")
    );
    let no_first = q::Profile {
        first_login_at: None,
        last_login_at: None,
        ..profile(&user, &user, 2, 0)
    };
    assert!(q::next_due(&sets, &no_first, &[], Pacing::default(), now()).is_none());
}

#[test]
fn known_keys_and_skip_if_known() {
    let sets = [published(STAGED, 1)];
    let user = json!({"role": "dev", "city": ""});
    let geo = json!({"geo": {"city": "Berlin"}});
    assert_eq!(
        due_key(&sets, &user, &json!({}), 2, 5, &[]).as_deref(),
        Some("city")
    );
    assert_eq!(
        due_key(&sets, &user, &geo, 2, 5, &[]).as_deref(),
        Some("phone")
    );
    let user = json!({"role": "dev", "city": "Rome", "phone": null});
    assert_eq!(
        due_key(&sets, &user, &json!({}), 2, 5, &[]).as_deref(),
        Some("phone")
    );
}

#[test]
fn skipped_question_is_reasked_after_n_logins() {
    let sets = [published(SINGLE, 1)];
    let (user, app) = (json!({}), json!({}));
    let h = [rec("s", "role", Outcome::Skipped, 1)];
    assert_eq!(due_key(&sets, &user, &app, 1, 0, &h), None);
    assert_eq!(due_key(&sets, &user, &app, 2, 0, &h), None);
    assert_eq!(
        due_key(&sets, &user, &app, 3, 0, &h).as_deref(),
        Some("role")
    );
    let h2 = [
        rec("s", "role", Outcome::Skipped, 1),
        rec("s", "role", Outcome::Skipped, 3),
    ];
    assert_eq!(due_key(&sets, &user, &app, 4, 0, &h2), None);
    assert_eq!(
        due_key(&sets, &user, &app, 5, 0, &h2).as_deref(),
        Some("role")
    );
}

#[test]
fn dismissed_is_never_asked_again_in_any_version() {
    let sets = [published(SINGLE, 7)];
    let h = [rec("s", "role", Outcome::Dismissed, 1)];
    let (user, app) = (json!({}), json!({}));
    assert_eq!(due_key(&sets, &user, &app, 99, 0, &h), None);
    let other_set = [rec("other", "role", Outcome::Dismissed, 1)];
    assert_eq!(
        due_key(&sets, &user, &app, 5, 0, &other_set).as_deref(),
        Some("role")
    );
}

#[test]
fn when_condition_gates_question() {
    let sets = [published(STAGED, 1)];
    let app = json!({});
    let h = [
        rec("s", "city", Outcome::Dismissed, 1),
        rec("s", "phone", Outcome::Dismissed, 1),
    ];
    let student = json!({"role": "student"});
    assert_eq!(due_key(&sets, &student, &app, 3, 9, &h), None);
    let dev = json!({"role": "dev"});
    assert_eq!(
        due_key(&sets, &dev, &app, 3, 9, &h).as_deref(),
        Some("size")
    );
}

#[test]
fn per_login_cap_counts_every_outcome_at_this_login() {
    let sets = [published(STAGED, 1)];
    let (user, app) = (json!({"role": "dev"}), json!({}));
    let h = [
        rec("s", "city", Outcome::Skipped, 4),
        rec("s", "phone", Outcome::Dismissed, 4),
    ];
    assert_eq!(due_key(&sets, &user, &app, 4, 9, &h), None);
    assert_eq!(
        due_key(&sets, &user, &app, 5, 9, &h).as_deref(),
        Some("size")
    );
    let other_login = [
        rec("s", "city", Outcome::Answered, 3),
        rec("s", "x", Outcome::Answered, 3),
    ];
    assert_eq!(
        due_key(&sets, &user, &app, 4, 9, &other_login).as_deref(),
        Some("city")
    );
}

#[test]
fn sets_ordered_by_priority_then_slug_and_stages_by_at_login() {
    let mk = |slug: &str, prio: i32, key: &str| {
        published(
            &format!(
                "slug: {slug}\ntitle: T\npriority: {prio}\nstages:\n  - at_login: 1\n    questions:\n      - {{ key: {key}, type: text, title: T }}\n"
            ),
            1,
        )
    };
    let sets = [mk("b", 0, "kb"), mk("a", 0, "ka"), mk("z", 5, "kz")];
    let (user, app) = (json!({}), json!({}));
    assert_eq!(
        due_key(&sets, &user, &app, 1, 0, &[]).as_deref(),
        Some("kz")
    );
    let user2 = json!({"kz": 1});
    assert_eq!(
        due_key(&sets, &user2, &app, 1, 0, &[]).as_deref(),
        Some("ka")
    );
    let mut sorted = sets.to_vec();
    q::sort_published(&mut sorted);
    let slugs: Vec<&str> = sorted.iter().map(|p| p.set.slug.as_str()).collect();
    assert_eq!(slugs, ["z", "a", "b"]);
    let unordered = published(
        "slug: u\ntitle: U\nstages:\n  - at_login: 3\n    questions: [{ key: late, type: text, title: L }]\n  - at_login: 1\n    questions: [{ key: early, type: text, title: E }]\n",
        1,
    );
    assert_eq!(
        due_key(&[unordered], &user, &app, 3, 0, &[]).as_deref(),
        Some("early")
    );
}

#[test]
fn position_index_and_of() {
    let sets = [published(STAGED, 1)];
    let (user, app) = (json!({"role": "dev"}), json!({}));
    let p = profile(&user, &app, 3, 9);
    let d = q::next_due(&sets, &p, &[], Pacing::default(), now()).unwrap();
    assert_eq!(
        (d.question.key.as_str(), d.position.index, d.position.of),
        ("city", 1, 2)
    );
    let h = [rec("s", "city", Outcome::Skipped, 3)];
    let d = q::next_due(&sets, &p, &h, Pacing::default(), now()).unwrap();
    assert_eq!(
        (d.question.key.as_str(), d.position.index, d.position.of),
        ("phone", 2, 2)
    );
    let user = json!({"role": "dev", "city": "x"});
    let p = profile(&user, &app, 3, 9);
    let d = q::next_due(&sets, &p, &[], Pacing::default(), now()).unwrap();
    assert_eq!((d.position.index, d.position.of), (1, 2));
    let user = json!({"role": "dev", "city": "x", "phone": "+1"});
    let p = profile(&user, &app, 3, 9);
    let d = q::next_due(&sets, &p, &[], Pacing::default(), now()).unwrap();
    assert_eq!(
        (d.question.key.as_str(), d.position.index, d.position.of),
        ("size", 1, 1)
    );
}

#[test]
fn explain_lists_verdicts_up_to_the_chosen_question() {
    let sets = [published(STAGED, 4)];
    let (user, app) = (json!({"role": "student"}), json!({"geo": {"city": "Oslo"}}));
    let p = profile(&user, &app, 3, 9);
    let h = [rec("s", "phone", Outcome::Skipped, 2)];
    let e = q::explain(&sets, &p, &h, Pacing::default(), now());
    assert!(e.due.is_none());
    let verdicts: Vec<(&str, Verdict)> = e
        .decisions
        .iter()
        .map(|d| (d.key.as_str(), d.verdict.clone()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("role", Verdict::Known),
            (
                "city",
                Verdict::KnownViaSkipIfKnown {
                    path: "app_metadata.geo.city".into()
                }
            ),
            (
                "phone",
                Verdict::SkippedRecently {
                    due_again_at_login: 4
                }
            ),
            ("size", Verdict::ConditionFalse),
        ]
    );
    assert_eq!(e.decisions[0].version, 4);
    let p = profile(&user, &app, 1, 0);
    let e = q::explain(
        &sets,
        &p,
        &[rec("s", "role", Outcome::Dismissed, 1)],
        Pacing::default(),
        now(),
    );
    let verdicts: Vec<Verdict> = e.decisions.iter().map(|d| d.verdict.clone()).collect();
    assert_eq!(
        verdicts,
        vec![
            Verdict::Known,
            Verdict::StageNotReached { at_login: 2 },
            Verdict::StageNotReached { at_login: 2 },
            Verdict::StageNotReached { at_login: 3 },
        ]
    );
    let fresh = json!({});
    let p = profile(&fresh, &fresh, 2, 1);
    let e = q::explain(&sets, &p, &[], Pacing::default(), now());
    assert_eq!(
        e.due.as_ref().map(|d| d.question.key.as_str()),
        Some("role")
    );
    assert_eq!(e.decisions.len(), 1);
    let p = profile(&user, &fresh, 2, 1);
    let e = q::explain(&sets, &p, &[], Pacing::default(), now());
    assert_eq!(
        e.decisions[1].verdict,
        Verdict::AfterDaysNotMet {
            after_days: 3,
            days: 1
        }
    );
    let json = serde_json::to_value(&e.decisions[1]).unwrap();
    assert_eq!(
        json["verdict"],
        json!({"kind": "after_days_not_met", "after_days": 3, "days": 1})
    );
}

#[test]
fn explain_shows_cap_reached() {
    let sets = [published(STAGED, 1)];
    let (user, app) = (json!({}), json!({}));
    let p = profile(&user, &app, 1, 0);
    let h = [
        rec("s", "a", Outcome::Answered, 1),
        rec("s", "b", Outcome::Answered, 1),
    ];
    let e = q::explain(&sets, &p, &h, Pacing::default(), now());
    assert!(e.due.is_none());
    assert_eq!(e.decisions[0].verdict, Verdict::CapReached { max: 2 });
}

#[test]
fn same_inputs_same_answer_and_onboarding_flow() {
    let mut sets = vec![
        published(&read_set_file("product-feedback.yaml"), 2),
        published(&read_set_file("onboarding.yaml"), 3),
    ];
    let user = json!({"role": "junior"});
    let app = json!({"enrichment": {"company": {"industry": "Software"}}});
    let p = profile(&user, &app, 3, 30);
    let first = q::next_due(&sets, &p, &[], Pacing::default(), now())
        .map(|d| (d.set.slug.clone(), d.question.key.clone()));
    q::sort_published(&mut sets);
    let second = q::next_due(&sets, &p, &[], Pacing::default(), now())
        .map(|d| (d.set.slug.clone(), d.question.key.clone()));
    assert_eq!(first, second);
    assert_eq!(first, Some(("onboarding".into(), "address.city".into())));
}

#[test]
fn prompts_are_held_for_the_minimum_interval_after_the_last_one() {
    let at = |h: i64| now() + chrono::Duration::hours(h);
    let mut pacing = Pacing {
        last_prompted_at: Some(at(1)),
        ..Pacing::default()
    };
    assert_eq!(pacing.held_until(at(0)), None, "0 hours holds nothing back");
    pacing.min_hours_between_prompts = 24;
    pacing.last_prompted_at = None;
    assert_eq!(pacing.held_until(at(1)), None, "never prompted");
    pacing.last_prompted_at = Some(at(0));
    assert_eq!(pacing.held_until(at(23)), Some(at(24)));
    assert_eq!(pacing.held_until(at(24)), None);
}

#[test]
fn a_held_new_page_gets_nothing_and_the_open_widget_continues() {
    let sets = [published(SINGLE, 1)];
    let empty = json!({});
    let p = profile(&empty, &empty, 1, 0);
    let held = Pacing {
        min_hours_between_prompts: 24,
        last_prompted_at: Some(now() - chrono::Duration::hours(1)),
        visit: Visit::NewPage,
    };
    assert!(q::next_due(&sets, &p, &[], held, now()).is_none());
    let continued = Pacing {
        visit: Visit::Continued,
        ..held
    };
    let due = q::next_due(&sets, &p, &[], continued, now()).map(|d| d.question.key.clone());
    assert_eq!(due.as_deref(), Some("role"));

    let e = q::explain(&sets, &p, &[], held, now());
    assert!(e.due.is_none(), "explain shows what a new page view gets");
    assert_eq!(e.held_until, Some(now() + chrono::Duration::hours(23)));
    assert_eq!(e.decisions.len(), 1);
    assert_eq!(e.decisions[0].verdict, Verdict::Due);
    let e = q::explain(&sets, &p, &[], Pacing::default(), now());
    assert_eq!(e.held_until, None);
}
