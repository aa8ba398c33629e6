//! Answers written as one group commit (on PostgreSQL set-based, on SQLite by its
//! writer): a batch must mean exactly what the same answers one by one would.

use serde_json::{Value, json};
use std::sync::Arc;
use trickle::model::{MetadataLimits, NewAnswer, NewJob, User};
use trickle::questions::Outcome;
use trickle::store::{AnswerWrite, Store, StoreError};

use super::{login, service};

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 1000,
    app_metadata_bytes: 1000,
};

fn answer(site_id: &str, user_id: &str, key: &str, value: Value, jobs: Vec<NewJob>) -> AnswerWrite {
    AnswerWrite {
        site_id: site_id.into(),
        user_id: user_id.into(),
        answer: NewAnswer {
            question_set: "onboarding".into(),
            version: 1,
            key: key.into(),
            value,
        },
        limits: LIMITS,
        follow_ups: jobs,
    }
}

fn job(dedupe_key: Option<&str>) -> NewJob {
    let job = NewJob::now("test.answered", json!({}), 1);
    match dedupe_key {
        Some(key) => job.deduplicated(key.into()),
        None => job,
    }
}

/// One batch: one user's answers to two keys (one nested) land in order; one user's two
/// answers to one key keep the last and record both events; an answer over the limit is
/// refused alone and queues no job while the same user's next answer lands; an unknown
/// user's is `None`; two jobs with one dedupe key queue once; another site's user of the
/// same id is another user. Each user returned is the user as stored, to the microsecond.
async fn a_batch_of_answers_means_the_answers_one_by_one(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    for user in ["b1", "b2", "b2", "b3"] {
        trickle.logins().record(&site, login(user)).await.unwrap();
    }
    let other = trickle
        .sites()
        .create("other", vec!["https://other.example".into()])
        .await
        .unwrap();
    let other = trickle.sites().get(&other.site_id).await.unwrap();
    trickle.logins().record(&other, login("b1")).await.unwrap();
    let site_id = site.site_id.as_str();
    let batch = [
        answer(
            site_id,
            "b1",
            "role",
            json!("founder"),
            vec![job(Some("d1"))],
        ),
        answer(
            site_id,
            "b1",
            "company.size",
            json!(10),
            vec![job(Some("d1"))],
        ),
        answer(site_id, "b2", "role", json!("engineer"), vec![]),
        answer(site_id, "b2", "role", json!("cto"), vec![job(None)]),
        answer(
            site_id,
            "b3",
            "bio",
            json!("x".repeat(2000)),
            vec![job(None)],
        ),
        answer(site_id, "nobody", "role", json!("cto"), vec![job(None)]),
        answer(site_id, "b3", "plan", json!("pro"), vec![job(None)]),
        answer(&other.site_id, "b1", "role", json!("student"), vec![]),
    ];
    let outcomes = store.record_answer_batch(&batch).await;
    let metadata = |n: usize| -> Value {
        match &outcomes[n] {
            Ok(Some(user)) => user.user_metadata.clone(),
            other => panic!("answer {n}: {other:?}"),
        }
    };
    assert_eq!(metadata(0), json!({ "role": "founder" }));
    assert_eq!(
        metadata(1),
        json!({ "role": "founder", "company": { "size": 10 } })
    );
    assert_eq!(metadata(2), json!({ "role": "engineer" }));
    assert_eq!(metadata(3), json!({ "role": "cto" }));
    assert!(
        matches!(
            outcomes[4],
            Err(StoreError::TooLarge {
                field: "user_metadata",
                ..
            })
        ),
        "{:?}",
        outcomes[4]
    );
    assert!(matches!(outcomes[5], Ok(None)), "{:?}", outcomes[5]);
    assert_eq!(metadata(6), json!({ "plan": "pro" }));
    assert_eq!(metadata(7), json!({ "role": "student" }));
    let elsewhere = store.user(&other.site_id, "b1").await.unwrap().unwrap();
    assert_eq!(elsewhere.user_metadata, json!({ "role": "student" }));
    assert_eq!(store.answers(&other.site_id, "b1").await.unwrap().len(), 1);

    for (n, user_id) in [(1, "b1"), (3, "b2"), (6, "b3")] {
        let stored = store.user(site_id, user_id).await.unwrap().unwrap();
        let returned: &User = outcomes[n].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(&stored, returned, "{user_id}: returned as stored");
    }
    let answers_of = |user_id: &'static str| {
        let store = store.clone();
        async move {
            let answers = store.answers(site_id, user_id).await.unwrap();
            let mut kept: Vec<_> = answers
                .into_iter()
                .map(|a| (a.key, a.value, a.login_count))
                .collect();
            kept.sort_by(|a, b| a.0.cmp(&b.0));
            kept
        }
    };
    assert_eq!(
        answers_of("b1").await,
        [
            ("company.size".into(), json!(10), 1),
            ("role".into(), json!("founder"), 1)
        ]
    );
    assert_eq!(answers_of("b2").await, [("role".into(), json!("cto"), 2)]);
    assert_eq!(answers_of("b3").await, [("plan".into(), json!("pro"), 1)]);

    let history_of = |user_id: &'static str| {
        let store = store.clone();
        async move {
            let (_, history) = store
                .user_with_history(site_id, user_id)
                .await
                .unwrap()
                .unwrap();
            history
                .into_iter()
                .map(|record| {
                    assert_eq!(record.outcome, Outcome::Answered);
                    (record.key, record.login_count)
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        history_of("b1").await,
        [("role".into(), 1), ("company.size".into(), 1)],
        "in the batch's order"
    );
    assert_eq!(
        history_of("b2").await,
        [("role".into(), 2), ("role".into(), 2)]
    );
    assert_eq!(history_of("b3").await, [("plan".into(), 1)]);

    let jobs = store.jobs(site_id).await.unwrap();
    let answered = jobs.iter().filter(|j| j.kind == "test.answered").count();
    assert_eq!(
        answered, 3,
        "d1 once, b2's, b3's accepted answer's: {jobs:?}"
    );
}

/// A batch whose every answer is refused or of nobody writes nothing and says so each.
async fn a_batch_of_refused_answers_writes_nothing(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    trickle.logins().record(&site, login("c1")).await.unwrap();
    let site_id = site.site_id.as_str();
    let before = store.user(site_id, "c1").await.unwrap().unwrap();
    let batch = [
        answer(
            site_id,
            "c1",
            "bio",
            json!("x".repeat(2000)),
            vec![job(None)],
        ),
        answer(site_id, "nobody", "role", json!("dev"), vec![job(None)]),
    ];
    let outcomes = store.record_answer_batch(&batch).await;
    assert!(
        matches!(outcomes[0], Err(StoreError::TooLarge { .. })),
        "{outcomes:?}"
    );
    assert!(matches!(outcomes[1], Ok(None)), "{outcomes:?}");
    assert_eq!(store.user(site_id, "c1").await.unwrap().unwrap(), before);
    assert!(store.answers(site_id, "c1").await.unwrap().is_empty());
    let (_, history) = store
        .user_with_history(site_id, "c1")
        .await
        .unwrap()
        .unwrap();
    assert!(history.is_empty(), "no answered event: {history:?}");
    let jobs = store.jobs(site_id).await.unwrap();
    assert!(jobs.iter().all(|j| j.kind != "test.answered"), "{jobs:?}");
}

conformance!(
    a_batch_of_answers_means_the_answers_one_by_one,
    a_batch_of_refused_answers_writes_nothing,
);
