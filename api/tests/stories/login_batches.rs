//! Group commit: logins written together in one transaction, a savepoint each. A batch
//! must mean exactly what the same logins one by one would.

use futures::future::join_all;
use serde_json::{Map, json};
use std::sync::Arc;
use trickle::model::{LoginReceipt, MetadataLimits, NewJob, NewLogin, User};
use trickle::store::{LoginFollowUps, LoginWrite, Store, StoreError};

use super::{login_event, service};

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 1000,
    app_metadata_bytes: 1000,
};

fn new_login(user: &str, event: &str) -> NewLogin {
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
fn one_job_each() -> LoginFollowUps {
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

conformance!(
    a_batch_counts_like_one_login_at_a_time,
    concurrent_logins_through_the_writer_answer_each,
);
