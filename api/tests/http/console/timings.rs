//! A benchmark, not a test of speed: how long every console page takes to answer
//! in-process (the router's server time plus a negligible in-process client), on a
//! site with question sets, versions, 2,000 users, webhooks and 300 audit entries.
//! Prints a table; asserts only that each page answered. Run it with
//! `cargo test --workspace --test http_api -- --ignored --nocapture console_page_timings`.

use std::time::{Duration, Instant};

use super::editor::{set_path, signed_in_owner};
use super::{page, post_form};
use crate::common::{Backend, ONBOARDING, TestApp};
use trickle::app::Actor;
use trickle::app::audit::Change;

const RUNS: usize = 25;

/// A page: its path and, for a form, the fields posted.
type Page<'a> = (String, Option<Vec<(&'a str, &'a str)>>);

async fn time_page(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: Option<&[(&str, &str)]>,
) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let call = match form {
            None => page(app, path, Some(cookie)),
            Some(fields) => post_form(app, path, Some(cookie), fields),
        };
        let started = Instant::now();
        let response = call.send().await.unwrap();
        let status = response.status();
        let _ = response.bytes().await.unwrap();
        times.push(started.elapsed());
        assert!(status.is_success(), "{path}: {status}");
    }
    times.sort();
    (times[RUNS / 2], times[RUNS * 95 / 100])
}

async fn seed(app: &TestApp) {
    app.publish_yaml("onboarding", ONBOARDING).await;
    let changed = ONBOARDING.replacen("title:", "title: Changed", 1);
    app.publish_yaml("onboarding", &changed).await;
    for n in 0..2000 {
        app.login(&format!("u{n:04}")).await;
    }
    for n in 0..3 {
        let hook = serde_json::json!({"url": format!("https://hooks.example/{n}"), "events": ["user.signed_up"]});
        app.server(reqwest::Method::POST, "/v1/webhooks")
            .json(&hook)
            .send()
            .await
            .unwrap();
    }
    for n in 0..300 {
        let change = Change {
            action: "site.widget_settings",
            site_id: Some(&app.keys.site_id),
            subject: "Test shop",
            detail: &format!("change {n}"),
        };
        app.trickle
            .audit()
            .record(&Actor::command_line(), change)
            .await
            .unwrap();
    }
}

async fn console_page_timings(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    seed(&app).await;
    let site = format!("/console/sites/{}", app.keys.site_id);
    let hooks: serde_json::Value = app
        .server(reqwest::Method::GET, "/v1/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = hooks[0]["id"].as_str().unwrap().to_owned();
    let source = ONBOARDING;
    let pages: Vec<Page> = vec![
        ("/console/sites".into(), None),
        (site.clone(), None),
        (format!("{site}/webhooks"), None),
        (format!("{site}/webhooks/{hook}"), None),
        (format!("{site}/enrichment"), None),
        ("/console/admins".into(), None),
        ("/console/audit".into(), None),
        (set_path(&app, ""), None),
        (set_path(&app, "/onboarding"), None),
        (set_path(&app, "/onboarding/versions"), None),
        (set_path(&app, "/onboarding/diff?from=1&to=2"), None),
        (set_path(&app, "/onboarding/versions/1/publish"), None),
        (
            set_path(&app, "/onboarding/workbench"),
            Some(vec![("source", source)]),
        ),
        (
            set_path(&app, "/onboarding/simulate"),
            Some(vec![
                ("source", source),
                ("login", "2"),
                ("user_id", "u0001"),
            ]),
        ),
    ];
    println!("\n{backend:?}: console pages, {RUNS} requests each (debug build unless --release)");
    println!("| page | median | p95 |\n| --- | ---: | ---: |");
    for (path, form) in &pages {
        let (median, p95) = time_page(&app, &cookie, path, form.as_deref()).await;
        let shown = path
            .replace(&app.keys.site_id, "{site}")
            .replace(&hook, "{id}");
        let method = if form.is_some() { "POST " } else { "" };
        println!(
            "| {method}`{shown}` | {:.1} ms | {:.1} ms |",
            ms(median),
            ms(p95)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

mod sqlite {
    #[tokio::test]
    #[ignore = "a benchmark: prints figures; run with --ignored --nocapture"]
    async fn console_page_timings() {
        super::console_page_timings(crate::common::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test]
    #[ignore = "a benchmark: prints figures; run with --ignored --nocapture"]
    async fn console_page_timings() {
        super::console_page_timings(crate::common::Backend::Postgres).await;
    }
}
