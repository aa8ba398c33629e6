//! Group commit: logins and answers written together in one transaction (a savepoint
//! only for a login with claims). A batch must mean exactly what the same writes one by
//! one would.

use futures::future::join_all;
use serde_json::{Map, json};
use std::sync::Arc;
use trickle::model::{LoginReceipt, MetadataLimits, NewAnswer, NewJob, NewLogin, User};
use trickle::questions::Outcome;
use trickle::store::{AnswerWrite, LoginFollowUps, LoginWrite, Store, StoreError};

use super::{login_event, service};

pub(super) const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 1000,
    app_metadata_bytes: 1000,
};

pub(super) fn new_login(user: &str, event: &str) -> NewLogin {
    NewLogin {
        user_id: user.into(),
        event_id: event.into(),
        occurred_at: trickle::model::now(),
        ip: None,
        user_agent: None,
        email: None,
        name: None,
        profile: None,
    }
}

/// A login whose claims are over `LIMITS`: refused on its own.
fn too_large(user: &str, event: &str) -> NewLogin {
    let mut claims = Map::new();
    claims.insert("bio".into(), json!("x".repeat(2000)));
    NewLogin {
        profile: Some(claims),
        ..new_login(user, event)
    }
}

/// Follow-ups that queue one job per counted login, naming its user and count.
pub(super) fn one_job_each() -> LoginFollowUps {
    Arc::new(|receipt: &LoginReceipt, _: &User| {
        let payload = json!({ "count": receipt.login_count });
        vec![NewJob::now("test.noop", payload, 1).about_user(Some(receipt.user_id.clone()))]
    })
}

fn write(site_id: &str, login: NewLogin) -> LoginWrite {
    LoginWrite {
        site_id: site_id.into(),
        login,
        limits: LIMITS,
        follow_ups: one_job_each(),
    }
}

/// One batch: a refused login fails alone, a duplicated event id counts once and both
/// get the first receipt, one user twice counts 1 then 2 in order, and every counted
/// login's job is written with it (the refused one's is not).
async fn a_batch_counts_like_one_login_at_a_time(store: Arc<dyn Store>) {
    let (_trickle, site) = service(&store).await;
    let id = site.site_id.as_str();
    let batch = [
        write(id, new_login("ada", "e1")),
        write(id, too_large("bob", "e2")),
        write(id, new_login("ada", "e1")),
        write(id, new_login("cy", "e3")),
        write(id, new_login("ada", "e4")),
        write(id, new_login("dee", "e1")),
    ];
    let outcomes = store.record_login_batch(&batch).await;
    assert_eq!(outcomes.len(), 6);
    let ok = |i: usize| -> &LoginReceipt {
        outcomes[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("login {i}: {e}"))
    };
    assert_eq!((ok(0).login_count, ok(0).signed_up), (1, true));
    assert!(
        matches!(
            outcomes[1],
            Err(StoreError::TooLarge {
                field: "app_metadata",
                ..
            })
        ),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(
        ok(2),
        ok(0),
        "a retried event id in the batch: the first receipt"
    );
    assert_eq!((ok(3).login_count, ok(3).signed_up), (1, true));
    assert_eq!((ok(4).login_count, ok(4).signed_up), (2, false));
    assert_eq!(
        ok(5).user_id,
        "ada",
        "an event id another user claimed: that user's receipt"
    );

    let user = |name: &'static str| {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move { store.user(&site_id, name).await.unwrap() }
    };
    assert_eq!(user("ada").await.unwrap().login_count, 2);
    assert_eq!(user("cy").await.unwrap().login_count, 1);
    assert!(
        user("bob").await.is_none(),
        "the refused login wrote nothing"
    );
    assert!(
        user("dee").await.is_none(),
        "a reused event id counts nobody"
    );
    assert_eq!(
        store.jobs(id).await.unwrap().len(),
        3,
        "one job per counted login (ada twice, cy), written in its transaction"
    );
    // The refused login claimed no event id: it can be sent again within the limit.
    let again = store
        .record_login_batch(&[write(id, new_login("bob", "e2"))])
        .await;
    assert_eq!(again[0].as_ref().unwrap().login_count, 1);
    assert_eq!(store.jobs(id).await.unwrap().len(), 4);
}

/// Through the writer task: many logins at once, some refused, some duplicated, some of
/// one user; each gets its own answer.
async fn concurrent_logins_through_the_writer_answer_each(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let calls = (0..60).map(|i| {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move {
            let login = match i % 6 {
                0 => too_large(&format!("big{i}"), &format!("e{i}")),
                1 => new_login("same", &format!("e{i}")),
                2 => new_login("twice", "one-event"),
                _ => new_login(&format!("u{i}"), &format!("e{i}")),
            };
            store
                .record_login(&site_id, &login, LIMITS, one_job_each())
                .await
        }
    });
    let outcomes = join_all(calls).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        match i % 6 {
            0 => assert!(
                matches!(outcome, Err(StoreError::TooLarge { .. })),
                "{i}: {outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{i}: {outcome:?}"),
        }
    }
    let mut same: Vec<i64> = outcomes
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 6 == 1)
        .map(|(_, o)| o.as_ref().unwrap().login_count)
        .collect();
    same.sort();
    assert_eq!(same, (1..=10).collect::<Vec<_>>());
    let twice: Vec<&LoginReceipt> = outcomes
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 6 == 2)
        .map(|(_, o)| o.as_ref().unwrap())
        .collect();
    assert!(twice.iter().all(|r| *r == twice[0] && r.login_count == 1));
    let user = store.user(&site.site_id, "same").await.unwrap().unwrap();
    assert_eq!(user.login_count, 10);
    // The app's path: the HTTP handler's use case, still one answer per request.
    let receipt = trickle
        .logins()
        .record(&site, login_event("same", "e-app"))
        .await
        .unwrap();
    assert_eq!(receipt.login_count, 11);
    assert_eq!(store.jobs(&site.site_id).await.unwrap().len(), 10 + 1 + 30);
}

/// Answers through the same writers, at once and mixed with logins of the same users:
/// each answer lands whole (value in the metadata, the answer kept, an `answered` event
/// at the login count it was given at, its job) or, refused alone, not at all; an answer
/// of an unknown user is `None`.
async fn concurrent_answers_and_logins_land_whole_or_not_at_all(store: Arc<dyn Store>) {
    let (_, site) = service(&store).await;
    const USERS: usize = 40;
    for i in 0..USERS {
        let receipt = store
            .record_login(
                &site.site_id,
                &new_login(&format!("a{i}"), &format!("first{i}")),
                LIMITS,
                one_job_each(),
            )
            .await
            .unwrap();
        assert_eq!(receipt.login_count, 1);
    }
    let answer = |i: usize| {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move {
            // Every fifth answer is over the metadata limit, refused on its own.
            let value = if i.is_multiple_of(5) {
                json!("x".repeat(2000))
            } else {
                json!(i)
            };
            let write = AnswerWrite {
                site_id,
                user_id: format!("a{i}"),
                answer: NewAnswer {
                    question_set: "onboarding".into(),
                    version: 1,
                    key: "k".into(),
                    value,
                },
                limits: LIMITS,
                follow_ups: vec![NewJob::now("test.answered", json!({ "i": i }), 1)],
            };
            store.record_answer(write).await
        }
    };
    let login = |i: usize| {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move {
            let login = new_login(&format!("a{i}"), &format!("second{i}"));
            store
                .record_login(&site_id, &login, LIMITS, one_job_each())
                .await
                .map(|_| None)
        }
    };
    let calls = (0..USERS).flat_map(|i| {
        [
            futures::future::Either::Left(answer(i)),
            futures::future::Either::Right(login(i)),
        ]
    });
    let outcomes = join_all(calls).await;
    for (n, outcome) in outcomes.iter().enumerate() {
        let (i, is_answer) = (n / 2, n % 2 == 0);
        match outcome {
            Err(StoreError::TooLarge { .. }) => assert!(is_answer && i.is_multiple_of(5), "{n}"),
            Ok(Some(user)) => {
                assert!(is_answer && !i.is_multiple_of(5), "{n}");
                assert_eq!(user.user_metadata["k"], json!(i), "the user as written");
            }
            Ok(None) => assert!(!is_answer, "{n}: every user exists"),
            Err(error) => panic!("{n}: {error}"),
        }
    }
    for i in 0..USERS {
        let user_id = format!("a{i}");
        let user = store.user(&site.site_id, &user_id).await.unwrap().unwrap();
        assert_eq!(user.login_count, 2);
        let answers = store.answers(&site.site_id, &user_id).await.unwrap();
        let (_, history) = store
            .user_with_history(&site.site_id, &user_id)
            .await
            .unwrap()
            .unwrap();
        if i.is_multiple_of(5) {
            assert_eq!(
                user.user_metadata.get("k"),
                None,
                "{user_id}: refused, nothing kept"
            );
            assert!(answers.is_empty() && history.is_empty(), "{user_id}");
        } else {
            assert_eq!(user.user_metadata["k"], json!(i), "{user_id}");
            assert_eq!(answers.len(), 1, "{user_id}");
            assert_eq!(history.len(), 1, "{user_id}");
            assert_eq!(history[0].outcome, Outcome::Answered);
            // Given before or after the second login: either way a count it had.
            assert!([1, 2].contains(&history[0].login_count), "{user_id}");
            assert_eq!(answers[0].login_count, history[0].login_count, "{user_id}");
        }
    }
    let jobs = store.jobs(&site.site_id).await.unwrap();
    let answered = jobs.iter().filter(|j| j.kind == "test.answered").count();
    assert_eq!(answered, USERS - USERS / 5, "one job per answer kept");
    assert_eq!(jobs.len() - answered, 2 * USERS, "one per login");

    let nobody = AnswerWrite {
        site_id: site.site_id.clone(),
        user_id: "nobody".into(),
        answer: NewAnswer {
            question_set: "onboarding".into(),
            version: 1,
            key: "k".into(),
            value: json!(1),
        },
        limits: LIMITS,
        follow_ups: Vec::new(),
    };
    assert!(store.record_answer(nobody).await.unwrap().is_none());
}

conformance!(
    a_batch_counts_like_one_login_at_a_time,
    concurrent_logins_through_the_writer_answer_each,
    concurrent_answers_and_logins_land_whole_or_not_at_all,
);
