//! `/v1/question-sets/{slug}/results` and `…/results/answers`: exact figures for a
//! small hand-counted population (two versions, answers, skips, dismissals, every chart
//! type), each filter changing every number consistently, paging and CSV, and every
//! refusal with its status, code and field.

use crate::common::{Backend, TestApp, expect_error};
use reqwest::Method;
use serde_json::{Value, json};

/// Two stages: a choice with "other", a scale and a multi choice with "other"; a number, a date and
/// free text.
pub const SURVEY: &str = r#"
slug: survey
title: Survey
default_locale: en
settings: { max_prompts_per_login: 10 }
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: "Your role?"
        options: [dev, pm, student]
        allow_other: true
      - { key: score, type: scale, title: "How likely?", min: 0, max: 10 }
      - { key: topics, type: multi_choice, title: "Topics?", options: [a, b, c], allow_other: true }
  - at_login: 2
    questions:
      - { key: age, type: number, title: "Age?", integer: true }
      - { key: birthday, type: date, title: "Birthday?" }
      - { key: nickname, type: text, title: "Nickname?" }
"#;

/// What one user does with one question.
pub enum Outcome {
    Answer(Value),
    Skip,
    Dismiss,
}

/// Shows `key` of `version` to `user`, then records the outcome.
pub async fn prompt(app: &TestApp, user: &str, version: i64, key: &str, outcome: Outcome) {
    let target = json!({ "question_set": "survey", "version": version, "key": key });
    let shown = app
        .widget(Method::POST, "/v1/widget/impressions", user)
        .json(&target)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 204);
    let (path, mut body) = match outcome {
        Outcome::Answer(value) => ("answers", json!({ "value": value })),
        Outcome::Skip => ("skips", json!({ "forever": false })),
        Outcome::Dismiss => ("skips", json!({ "forever": true })),
    };
    for (k, v) in target.as_object().unwrap() {
        body[k] = v.clone();
    }
    let response = app
        .widget(Method::POST, &format!("/v1/widget/{path}"), user)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{user} {key}: {}",
        response.text().await.unwrap()
    );
}

/// The population every test counts (v1: u1, u2; v2: u3, u4; u5 never prompted):
///
/// | user | logins | version | role | score | topics | age | birthday | nickname |
/// | u1 | 2 | 1 | dev | 9 | a, b | 30 | 1990-05-01 | `=ada` |
/// | u2 | 1 | 1 | pm | skipped | | | | |
/// | u3 | 3 | 2 | other: ceo | 7 | b, other: ml | 45 | | dismissed |
/// | u4 | 1 | 2 | dismissed | | | | | |
pub async fn population(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for (user, logins) in [("u1", 2), ("u2", 1), ("u3", 3), ("u4", 1), ("u5", 1)] {
        for _ in 0..logins {
            app.login(user).await;
        }
    }
    let v1 = app.publish_yaml("survey", SURVEY).await;
    use Outcome::*;
    for (key, outcome) in [
        ("role", Answer(json!("dev"))),
        ("score", Answer(json!(9))),
        ("topics", Answer(json!(["a", "b"]))),
        ("age", Answer(json!(30))),
        ("birthday", Answer(json!("1990-05-01"))),
        ("nickname", Answer(json!("=ada"))),
    ] {
        prompt(&app, "u1", v1, key, outcome).await;
    }
    prompt(&app, "u2", v1, "role", Answer(json!("pm"))).await;
    prompt(&app, "u2", v1, "score", Skip).await;
    let v2 = app
        .publish_yaml("survey", &SURVEY.replace("How likely?", "How likely now?"))
        .await;
    assert_eq!((v1, v2), (1, 2));
    for (key, outcome) in [
        ("role", Answer(json!({"other": "ceo"}))),
        ("score", Answer(json!(7))),
        ("topics", Answer(json!(["b", {"other": "ml"}]))),
        ("age", Answer(json!(45))),
        ("nickname", Dismiss),
    ] {
        prompt(&app, "u3", v2, key, outcome).await;
    }
    prompt(&app, "u4", v2, "role", Dismiss).await;
    app
}

pub async fn results(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let response = app
        .server(Method::GET, "/v1/question-sets/survey/results")
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query:?}");
    response.json().await.unwrap()
}

fn card<'a>(results: &'a Value, key: &str) -> &'a Value {
    results["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == key)
        .unwrap_or_else(|| panic!("no card {key}"))
}

/// `label: count` of each bar with a count, and its percentage.
fn bars(results: &Value, key: &str) -> Vec<(String, i64, f64)> {
    card(results, key)["bars"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["count"].as_i64().unwrap() > 0)
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_owned(),
                b["count"].as_i64().unwrap(),
                b["percent"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// (shown, answered, skipped, dismissed)
fn outcomes(v: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| v[k].as_i64().unwrap();
    (n("shown"), n("answered"), n("skipped"), n("dismissed"))
}

pub fn funnel(results: &Value) -> Vec<(i64, i64, i64, i64)> {
    results["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_i64().unwrap();
            (n("at_login"), n("reached"), n("shown"), n("answered"))
        })
        .collect()
}

fn answers_per_day(results: &Value) -> i64 {
    results["answers_per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["answers"].as_i64().unwrap())
        .sum()
}

async fn the_results_count_the_population_exactly(backend: Backend) {
    let app = population(backend).await;
    let all = results(&app, &[]).await;
    assert_eq!(all["question_set"], "survey");
    assert_eq!(all["questions_version"], 2, "the live version's questions");
    assert_eq!(all["versions"], json!([1, 2]));
    assert_eq!(all["users"], 5);
    let headline = &all["headline"];
    assert_eq!(headline["eligible"], 5);
    assert_eq!(outcomes(headline), (4, 3, 1, 2));
    let by_version = headline["by_version"].as_array().unwrap();
    assert_eq!(by_version.len(), 2);
    assert_eq!(by_version[0]["version"], 1);
    assert_eq!(outcomes(&by_version[0]), (2, 2, 1, 0));
    assert_eq!(by_version[1]["version"], 2);
    assert_eq!(outcomes(&by_version[1]), (2, 1, 0, 2));
    assert_eq!(funnel(&all), [(1, 5, 4, 3), (2, 2, 2, 2)]);

    let role = card(&all, "role");
    assert_eq!(
        (role["chart"].as_str(), role["answers"].as_i64()),
        (Some("choice"), Some(3))
    );
    assert_eq!(outcomes(role), (4, 3, 0, 1));
    assert_eq!(
        bars(&all, "role"),
        [
            ("dev".into(), 1, 33.3),
            ("pm".into(), 1, 33.3),
            ("other".into(), 1, 33.3)
        ]
    );
    let labels: Vec<&str> = role["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["filter"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["dev", "pm", "student", "other"],
        "every option, in order"
    );

    let score = card(&all, "score");
    assert_eq!(score["chart"], "scale");
    assert_eq!(outcomes(score), (3, 2, 1, 0));
    assert_eq!(score["mean"], 8.0);
    assert_eq!(score["bars"].as_array().unwrap().len(), 11, "0 to 10");
    assert_eq!(
        bars(&all, "score"),
        [("7".into(), 1, 50.0), ("9".into(), 1, 50.0)]
    );
    assert_eq!(
        bars(&all, "topics"),
        [
            ("a".into(), 1, 50.0),
            ("b".into(), 2, 100.0),
            ("other".into(), 1, 50.0)
        ],
        "a multi-choice answer counts once per option"
    );
    let age = card(&all, "age");
    assert_eq!(
        (age["chart"].as_str(), age["mean"].as_f64()),
        (Some("number"), Some(37.5))
    );
    assert_eq!(
        bars(&all, "age"),
        [("30".into(), 1, 50.0), ("45".into(), 1, 50.0)]
    );
    assert_eq!(
        age["bars"].as_array().unwrap().len(),
        16,
        "one bucket per year, 30 to 45"
    );
    assert_eq!(bars(&all, "birthday"), [("1990".into(), 1, 100.0)]);
    assert_eq!(card(&all, "birthday")["bars"][0]["filter"], "1990");
    let nickname = card(&all, "nickname");
    assert_eq!(nickname["chart"], "text");
    assert_eq!(outcomes(nickname), (2, 1, 0, 1));
    assert_eq!(nickname["texts"]["answers"][0]["user_id"], "u1");
    assert_eq!(nickname["texts"]["answers"][0]["value"], "=ada");
    assert_eq!(nickname["texts"]["next_cursor"], Value::Null);
    assert_eq!(answers_per_day(&all), 11);
    assert_eq!(
        all["answers_per_day"].as_array().unwrap().len(),
        1,
        "all today"
    );
}

async fn each_filter_changes_every_number(backend: Backend) {
    let app = population(backend).await;

    let v1 = results(&app, &[("version", "1")]).await;
    assert_eq!(
        (v1["users"].as_i64(), v1["questions_version"].as_i64()),
        (Some(5), Some(1))
    );
    assert_eq!(outcomes(&v1["headline"]), (2, 2, 1, 0));
    assert_eq!(v1["headline"]["by_version"].as_array().unwrap().len(), 1);
    // Everyone logged in before v1 went live: of them, v1 saw only the two it prompted,
    // u1 at login 2.
    assert_eq!(v1["headline"]["eligible"], 2);
    assert_eq!(v1["headline"]["by_version"][0]["eligible"], 2);
    assert_eq!(funnel(&v1), [(1, 2, 2, 2), (2, 1, 1, 1)]);
    assert_eq!(
        bars(&v1, "role"),
        [("dev".into(), 1, 50.0), ("pm".into(), 1, 50.0)]
    );
    assert_eq!(outcomes(card(&v1, "nickname")), (1, 1, 0, 0));
    assert_eq!(answers_per_day(&v1), 7);

    let returning = r#"{"key": "login_count", "gte": 2}"#;
    let some = results(&app, &[("where", returning)]).await;
    assert_eq!(
        (
            some["users"].as_i64(),
            some["headline"]["eligible"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(outcomes(&some["headline"]), (2, 2, 0, 1));
    assert_eq!(funnel(&some), [(1, 2, 2, 2), (2, 2, 2, 2)]);
    assert_eq!(
        bars(&some, "role"),
        [("dev".into(), 1, 50.0), ("other".into(), 1, 50.0)]
    );
    assert_eq!(answers_per_day(&some), 10);

    let dev = results(&app, &[("answer", "role=dev")]).await;
    assert_eq!(dev["users"], 1);
    assert_eq!(outcomes(&dev["headline"]), (1, 1, 0, 0));
    assert_eq!(bars(&dev, "role"), [("dev".into(), 1, 100.0)]);
    assert_eq!(card(&dev, "score")["mean"], 9.0);
    assert_eq!(answers_per_day(&dev), 6);
    for (answer, users) in [
        ("role=other", 1),
        ("topics=b", 2),
        ("topics=other", 1),
        ("score=7", 1),
        ("role=student", 0),
        ("birthday=1990", 1),
        ("birthday=1990-05-01", 1),
        ("birthday=1991", 0),
        ("birthday=1989", 0),
    ] {
        let filtered = results(&app, &[("answer", answer)]).await;
        assert_eq!(filtered["users"], users, "{answer}");
        let role_answers: i64 = bars(&filtered, "role").iter().map(|b| b.1).sum();
        assert_eq!(
            role_answers, users,
            "{answer}: one role answer per user here"
        );
    }
    let both = results(
        &app,
        &[
            ("answer", "topics=b"),
            ("where", r#"{"key": "role", "equals": "dev"}"#),
        ],
    )
    .await;
    assert_eq!(both["users"], 1, "where and answer together");

    // The answer filter reads the answer its bar counts, not the profile value, which the
    // API may set since: u2's profile now says dev and u1's pm, their answers do not.
    for (user, role) in [("u2", "dev"), ("u1", "pm")] {
        let patched = app
            .server(Method::PATCH, &format!("/v1/users/{user}"))
            .json(&json!({"user_metadata": {"role": role}}))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200);
    }
    let dev = results(&app, &[("answer", "role=dev")]).await;
    assert_eq!(dev["users"], 1, "u1's answer, not u2's profile");
    assert_eq!(bars(&dev, "role"), [("dev".into(), 1, 100.0)]);
    let by_profile = results(&app, &[("where", r#"{"key": "role", "equals": "dev"}"#)]).await;
    assert_eq!(by_profile["users"], 1, "the where filter reads the profile");
    assert_eq!(
        bars(&by_profile, "role"),
        [("pm".into(), 1, 100.0)],
        "u2's answer"
    );

    // u3's logins (and so their profile's login times), prompts and answers move to
    // 5 January 2026.
    let moved = [
        "UPDATE login_events SET occurred_at = '2026-01-05T09:00:00.000000Z' WHERE user_id = 'u3'",
        "UPDATE users SET first_login_at = '2026-01-05T09:00:00.000000Z', \
         last_login_at = '2026-01-05T09:00:00.000000Z' WHERE user_id = 'u3'",
        "UPDATE prompt_events SET created_at = '2026-01-05T10:00:00.000000Z' WHERE user_id = 'u3'",
        "UPDATE answers SET answered_at = '2026-01-05T10:00:00.000000Z' WHERE user_id = 'u3'",
    ];
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            for sql in moved {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            for sql in moved {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    }
    let day = results(&app, &[("from", "2026-01-05"), ("to", "2026-01-05")]).await;
    assert_eq!(day["users"], 5, "who the users are does not depend on time");
    assert_eq!(outcomes(&day["headline"]), (1, 1, 0, 1));
    assert_eq!(
        day["headline"]["eligible"], 1,
        "within dates, eligible means a login in them"
    );
    assert_eq!(funnel(&day), [(1, 1, 1, 1), (2, 1, 1, 1)]);
    assert_eq!(bars(&day, "role"), [("other".into(), 1, 100.0)]);
    assert_eq!(
        day["answers_per_day"],
        json!([{"day": "2026-01-05", "answers": 4}])
    );
    let before = results(&app, &[("to", "2026-01-04")]).await;
    assert_eq!(outcomes(&before["headline"]), (0, 0, 0, 0));
    assert_eq!(before["headline"]["eligible"], 0, "no login before");
    assert_eq!(funnel(&before), [(1, 0, 0, 0), (2, 0, 0, 0)]);
    assert_eq!(card(&before, "role")["answers"], 0);
    let after = results(&app, &[("from", "2026-01-06")]).await;
    assert_eq!(outcomes(&after["headline"]), (3, 2, 1, 1));
    assert_eq!(
        funnel(&after),
        [(1, 4, 3, 2), (2, 1, 1, 1)],
        "u1, u2, u4 and u5 logged in since; only u1 twice"
    );
    let after_returning = results(
        &app,
        &[
            ("from", "2026-01-06"),
            ("where", r#"{"key": "login_count", "gte": 2}"#),
        ],
    )
    .await;
    assert_eq!(
        after_returning["headline"]["eligible"], 1,
        "dates and users"
    );
    assert_eq!(answers_per_day(&after), 7);
}

async fn answers_page_and_export_what_is_filtered(backend: Backend) {
    let app = population(backend).await;
    let page = |query: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let response = app
                .server(Method::GET, "/v1/question-sets/survey/results/answers")
                .query(&query)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let first = page(vec![("limit", "2".into())]).await;
    let keys = |p: &Value| -> Vec<String> {
        p["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{}/{}",
                    a["key"].as_str().unwrap(),
                    a["user_id"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(keys(&first), ["age/u1", "age/u3"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = page(vec![("limit", "2".into()), ("after", cursor)]).await;
    assert_eq!(keys(&second), ["birthday/u1", "nickname/u1"]);
    let all = page(vec![("limit", "1000".into())]).await;
    assert_eq!(all["answers"].as_array().unwrap().len(), 11);
    assert_eq!(all["next_cursor"], Value::Null);
    let nicknames = page(vec![("key", "nickname".into())]).await;
    assert_eq!(keys(&nicknames), ["nickname/u1"]);
    let v2 = page(vec![("version", "2".into())]).await;
    assert_eq!(
        v2["answers"].as_array().unwrap().len(),
        4,
        "u3's four answers"
    );

    let csv = app
        .server(Method::GET, "/v1/question-sets/survey/results/answers")
        .query(&[("format", "csv"), ("answer", "role=dev")])
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "user_id,key,value,version,answered_at");
    assert_eq!(lines.len(), 7, "u1's six answers: {text}");
    assert!(lines.iter().skip(1).all(|l| l.starts_with("u1,")), "{text}");
    assert!(text.contains("u1,age,30,1,"), "{text}");
    assert!(
        text.contains("u1,nickname,'=ada,1,"),
        "formula guarded: {text}"
    );
    assert!(text.contains(r#"u1,topics,"[""a"",""b""]",1,"#), "{text}");
    let everything = app
        .server(
            Method::GET,
            "/v1/question-sets/survey/results/answers?format=csv",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(everything.lines().count(), 12);
}

/// Query parameters of one request.
type Query = &'static [(&'static str, &'static str)];

async fn bad_filters_are_refused_naming_the_field(backend: Backend) {
    let app = population(backend).await;
    let cases: &[(Query, &str, &str)] = &[
        (&[("from", "2026-13-01")], "invalid_date", "from"),
        (&[("to", "yesterday")], "invalid_date", "to"),
        (
            &[("from", "2026-02-01"), ("to", "2026-01-01")],
            "invalid_date",
            "to",
        ),
        (&[("version", "9")], "invalid_version", "version"),
        (&[("version", "one")], "invalid_version", "version"),
        (&[("where", "{not json")], "invalid_where", "where"),
        (
            &[("where", r#"{"key": "role", "bogus": 1}"#)],
            "invalid_where",
            "where",
        ),
        (&[("answer", "role")], "invalid_answer_filter", "answer"),
        (&[("answer", "nope=x")], "invalid_answer_filter", "answer"),
        (
            &[("answer", "score=high")],
            "invalid_answer_filter",
            "answer",
        ),
    ];
    for path in [
        "/v1/question-sets/survey/results",
        "/v1/question-sets/survey/results/answers",
    ] {
        for (query, code, field) in cases {
            let response = app
                .server(Method::GET, path)
                .query(query)
                .send()
                .await
                .unwrap();
            let body = expect_error(response, 400, code).await;
            assert_eq!(
                body["error"]["details"]["field"], *field,
                "{path} {query:?}"
            );
        }
        let unknown = app
            .server(Method::GET, path)
            .query(&[("colour", "red")])
            .send()
            .await
            .unwrap();
        expect_error(unknown, 400, "malformed_query").await;
        let no_key = app.get(path).send().await.unwrap();
        assert_eq!(no_key.status(), 401);
    }
    let answers = "/v1/question-sets/survey/results/answers";
    for (query, code, field) in [
        (("format", "xml"), "invalid_format", "format"),
        (("limit", "0"), "invalid_limit", "limit"),
        (("after", "no-colon"), "invalid_cursor", "after"),
    ] {
        let response = app
            .server(Method::GET, answers)
            .query(&[query])
            .send()
            .await
            .unwrap();
        let body = expect_error(response, 400, code).await;
        assert_eq!(body["error"]["details"]["field"], field);
    }
}

async fn unknown_and_other_sites_sets_are_404(backend: Backend) {
    let app = population(backend).await;
    for path in [
        "/v1/question-sets/nope/results",
        "/v1/question-sets/nope/results/answers",
    ] {
        let response = app.server(Method::GET, path).send().await.unwrap();
        expect_error(response, 404, "question_set_not_found").await;
    }
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    for path in [
        "/v1/question-sets/survey/results",
        "/v1/question-sets/survey/results/answers?format=csv",
    ] {
        let response = app
            .request(Method::GET, path)
            .bearer_auth(&other.secret_key)
            .send()
            .await
            .unwrap();
        expect_error(response, 404, "question_set_not_found").await;
    }
}

on_both_databases!(
    the_results_count_the_population_exactly,
    each_filter_changes_every_number,
    answers_page_and_export_what_is_filtered,
    bad_filters_are_refused_naming_the_field,
    unknown_and_other_sites_sets_are_404,
);
