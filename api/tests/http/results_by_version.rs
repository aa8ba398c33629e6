//! A results page's figures per version: each version's eligible users are those seen
//! while it was live (a login then, or a prompt of it) at or past its first stage. A
//! timeline of logins around two publications and a rollback, hand-counted.

use crate::common::{Backend, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

use super::results::{Outcome, SURVEY, funnel, prompt, results};

/// `(version, eligible)` of the headline's versions.
fn eligible_by_version(results: &Value) -> Vec<(i64, i64)> {
    results["headline"]["by_version"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["eligible"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn logins(app: &TestApp, user: &str, count: usize) {
    for _ in 0..count {
        app.login(user).await;
    }
}

/// The timeline (v2's first stage is login 2, v1's login 1):
///
/// | when | what |
/// | before v1 | u1 and u5 log in once |
/// | v1 live | u2 logs in once, u1 a second time |
/// | v2 live | u3 logs in once (below v2's first stage), u6 twice |
/// | v1 live again (a rollback) | u4 logs in once; u5, without logging in, is shown v1's role question |
async fn timeline(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    logins(&app, "u1", 1).await;
    logins(&app, "u5", 1).await;
    assert_eq!(app.publish_yaml("survey", SURVEY).await, 1);
    logins(&app, "u2", 1).await;
    logins(&app, "u1", 1).await;
    let later = SURVEY
        .replace("at_login: 2", "at_login: 3")
        .replace("at_login: 1", "at_login: 2");
    assert_eq!(app.publish_yaml("survey", &later).await, 2);
    logins(&app, "u3", 1).await;
    logins(&app, "u6", 2).await;
    let rollback = app
        .server(Method::POST, "/v1/question-sets/survey/versions/1/publish")
        .send()
        .await
        .unwrap();
    assert_eq!(rollback.status(), 200);
    logins(&app, "u4", 1).await;
    prompt(&app, "u5", 1, "role", Outcome::Answer(json!("dev"))).await;
    app
}

async fn each_version_counts_the_users_seen_while_it_was_live(backend: Backend) {
    let app = timeline(backend).await;

    let all = results(&app, &[]).await;
    assert_eq!(all["questions_version"], 1, "v1 is live again");
    assert_eq!(all["users"], 6);
    assert_eq!(all["headline"]["eligible"], 6, "every user reached login 1");
    // v1: u1 and u2 in its first period, u4 in its second, u5 shown its question;
    // v2: u6 (u3 stayed below login 2).
    assert_eq!(eligible_by_version(&all), [(1, 4), (2, 1)]);

    let v1 = results(&app, &[("version", "1")]).await;
    assert_eq!(v1["headline"]["eligible"], 4);
    assert_eq!(eligible_by_version(&v1), [(1, 4)]);
    assert_eq!(
        funnel(&v1),
        [(1, 4, 1, 1), (2, 1, 0, 0)],
        "u1 reached login 2 while v1 was live"
    );

    let v2 = results(&app, &[("version", "2")]).await;
    assert_eq!(v2["questions_version"], 2);
    assert_eq!(v2["headline"]["eligible"], 1);
    assert_eq!(eligible_by_version(&v2), [(2, 1)]);
    assert_eq!(funnel(&v2), [(2, 1, 0, 0), (3, 0, 0, 0)]);

    // The user filter narrows every version's figure.
    let returning = r#"{"key": "login_count", "gte": 2}"#;
    let some = results(&app, &[("where", returning)]).await;
    assert_eq!(some["users"], 2, "u1 and u6");
    assert_eq!(eligible_by_version(&some), [(1, 1), (2, 1)]);
    let some_v2 = results(&app, &[("where", returning), ("version", "2")]).await;
    assert_eq!(eligible_by_version(&some_v2), [(2, 1)]);

    // Dates narrow it too: nothing happened before today.
    let day = chrono::Utc::now().date_naive();
    let yesterday = (day - chrono::Days::new(1)).to_string();
    let before = results(&app, &[("to", &yesterday), ("version", "1")]).await;
    assert_eq!(before["headline"]["eligible"], 0);
    assert_eq!(eligible_by_version(&before), []);
    let today = results(&app, &[("from", &day.to_string())]).await;
    assert_eq!(eligible_by_version(&today), [(1, 4), (2, 1)]);
}

async fn publishing_the_live_version_again_keeps_its_period(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.publish_yaml("survey", SURVEY).await, 1);
    logins(&app, "u1", 1).await;
    for _ in 0..2 {
        let again = app
            .server(Method::POST, "/v1/question-sets/survey/versions/1/publish")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
    }
    logins(&app, "u2", 1).await;
    let all = results(&app, &[]).await;
    assert_eq!(
        eligible_by_version(&all),
        [(1, 2)],
        "one period, still open"
    );
}

on_both_databases!(
    each_version_counts_the_users_seen_while_it_was_live,
    publishing_the_live_version_again_keeps_its_period,
);
