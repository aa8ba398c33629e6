//! `trickle demo`'s made-up shoppers: every live set gets answers, the overview and
//! completeness have data on many days and logins, and every run makes the same ones.

use crate::common::{Backend, ONBOARDING, TestApp};
use crate::http::overview::get_json;
use serde_json::Value;
use std::collections::BTreeMap;
use trickle::cli::demo_seed::{SHOPPERS, seed_shoppers};
use trickle::model::now;

const FEEDBACK: &str = include_str!("../../../question-sets/product-feedback.yaml");

async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("onboarding", ONBOARDING).await;
    app.publish_yaml("product-feedback", FEEDBACK).await;
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let made = seed_shoppers(&app.trickle, &site, now()).await.unwrap();
    assert_eq!(made, SHOPPERS);
    app
}

/// Answers, skips and dismissals per question set.
async fn outcomes_per_set(app: &TestApp) -> BTreeMap<String, (i64, i64, i64)> {
    let stats = get_json(app, "/v1/stats/questions").await;
    let mut per_set = BTreeMap::new();
    for question in stats.as_array().unwrap() {
        let entry: &mut (i64, i64, i64) = per_set
            .entry(question["question_set"].as_str().unwrap().to_owned())
            .or_default();
        entry.0 += question["answered"].as_i64().unwrap();
        entry.1 += question["skipped"].as_i64().unwrap();
        entry.2 += question["dismissed"].as_i64().unwrap();
    }
    per_set
}

async fn the_demo_shoppers_give_every_chart_something_to_show(backend: Backend) {
    let app = seeded(backend).await;
    let per_set = outcomes_per_set(&app).await;
    assert_eq!(per_set.len(), 2, "{per_set:?}");
    for (set, (answered, skipped, dismissed)) in &per_set {
        assert!(*answered > 0 && *skipped > 0, "{set}: {per_set:?}");
        assert!(
            *dismissed > 0 || set == "product-feedback",
            "{set}: {per_set:?}"
        );
    }
    let overview = get_json(&app, "/v1/stats/overview").await;
    let month = &overview["windows"][1];
    assert_eq!(month["totals"]["new_users"], SHOPPERS as i64);
    let busy_days = month["daily"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["logins"].as_i64() > Some(0) && d["shown"].as_i64() > Some(0))
        .count();
    assert!(
        busy_days >= 25,
        "logins and prompts spread over the month: {busy_days}"
    );
    let rate = month["totals"]["answer_rate"].as_f64().unwrap();
    assert!(rate > 0.3 && rate < 1.0, "{rate}");
    let completeness = get_json(&app, "/v1/stats/completeness").await;
    assert_eq!(completeness["reached"][0], SHOPPERS as i64);
    assert!(
        completeness["reached"][4].as_i64() > Some(10),
        "some reach login 5"
    );
    for row in completeness["rows"].as_array().unwrap() {
        let shares: Vec<f64> = row["share"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert!(shares.iter().any(|s| *s > 0.0), "{row}");
    }
    // A shopper's profile is what the answers made.
    let users = get_json(&app, "/v1/users?limit=1000").await;
    let with_role = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["user_metadata"]["role"].is_string())
        .count() as i64;
    let role = get_json(&app, "/v1/stats/questions").await;
    let role = role
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "role")
        .unwrap()
        .clone();
    let held: i64 = role["distribution"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_i64)
        .sum();
    assert_eq!(with_role, held, "user_metadata and the answers agree");
    // The sets were live through the made-up month: every shopper at or past a set's
    // first stage was eligible for its one version.
    for set in per_set.keys() {
        let results = get_json(&app, &format!("/v1/question-sets/{set}/results")).await;
        let headline = &results["headline"];
        assert_eq!(
            headline["by_version"][0]["eligible"], headline["eligible"],
            "{set}: {headline}"
        );
    }
}

async fn the_demo_shoppers_are_the_same_every_run(backend: Backend) {
    let first = outcomes_per_set(&seeded(backend).await).await;
    let second = outcomes_per_set(&seeded(backend).await).await;
    assert_eq!(first, second);
}

on_both_databases!(
    the_demo_shoppers_give_every_chart_something_to_show,
    the_demo_shoppers_are_the_same_every_run,
);
