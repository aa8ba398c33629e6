//! A question set's results page in the console: the API's figures, bars that link to
//! the page filtered by their answer, refused filters beside the form, the CSV export
//! of exactly what is filtered, and the refusals of every site page.

use super::{admin, location, page, page_html, sign_in};
use crate::common::{Backend, TestApp};
use crate::http::results::{population, results};
use reqwest::Method;
use trickle::app::Actor;
use trickle::model::Role;

fn results_path(app: &TestApp) -> String {
    format!(
        "/console/sites/{}/question-sets/survey/results",
        app.keys.site_id
    )
}

/// The text of the element with `id`, up to its closing `</tr>` or `</strong>`.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[start..];
    let end = ["</tr>", "</strong>"]
        .iter()
        .filter_map(|close| rest.find(close))
        .min()
        .unwrap();
    &rest[..end]
}

async fn the_results_page_shows_the_apis_figures(backend: Backend) {
    let app = population(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = results_path(&app);
    let list = page_html(
        &app,
        &format!("/console/sites/{}/question-sets", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(
        list.contains(&format!(r#"href="{path}""#)),
        "linked from the list"
    );
    let editor = page_html(
        &app,
        &format!("/console/sites/{}/question-sets/survey", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(
        editor.contains(&format!(r#"href="{path}""#)),
        "linked from the editor"
    );

    let response = page(&app, &path, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        row(&html, "filtered-users").ends_with(">5"),
        "{}",
        row(&html, "filtered-users")
    );
    assert!(
        row(&html, "headline-total").contains("<td>5</td><td>4</td><td>3</td><td>1</td><td>2</td>"),
        "{}",
        row(&html, "headline-total")
    );
    assert!(row(&html, "headline-v1").contains("<td>2</td><td>2</td><td>1</td><td>0</td>"));
    assert!(row(&html, "stage-1").contains("<td>5</td><td>4</td><td>3</td>"));
    assert!(row(&html, "stage-2").contains("<td>2</td><td>2</td><td>2</td>"));
    let api = results(&app, &[]).await;
    let today = api["answers_per_day"][0]["day"].as_str().unwrap();
    assert!(
        html.contains(&format!("<title>{today}: 11</title>")),
        "answers per day"
    );
    assert!(html.contains("1 (33.3%)"), "a bar's count and percentage");
    assert!(
        html.contains(r#"<span class="mean">8.00</span>"#),
        "the scale's mean"
    );
    assert!(html.contains("=ada"), "free text listed");

    // A bar links to the page filtered by its answer, keeping the other filters.
    let bar = format!(r#"href="{path}?answer=role%3Ddev""#);
    assert!(html.contains(&bar), "{html}");
    let dev = page_html(&app, &format!("{path}?answer=role%3Ddev"), Some(&cookie)).await;
    assert!(row(&dev, "filtered-users").ends_with(">1"));
    assert!(
        row(&dev, "headline-total").contains("<td>1</td><td>1</td><td>1</td><td>0</td><td>0</td>")
    );
    let versioned = page_html(&app, &format!("{path}?version=1"), Some(&cookie)).await;
    assert!(
        versioned.contains(&format!(r#"href="{path}?version=1&#38;answer=role%3Dpm""#)),
        "{versioned}"
    );
    assert!(row(&versioned, "headline-total").contains("<td>2</td><td>2</td><td>1</td><td>0</td>"));
}

async fn the_csv_export_is_exactly_what_is_filtered(backend: Backend) {
    let app = population(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let filtered = format!(
        "{}?where=%7B%22key%22%3A%22login_count%22%2C%22gte%22%3A2%7D&version=2",
        results_path(&app)
    );
    let html = page_html(&app, &filtered, Some(&cookie)).await;
    let at = html.find("results.csv?").expect("a CSV link");
    let begin = html[..at].rfind('"').unwrap() + 1;
    let end = at + html[at..].find('"').unwrap();
    let link = html[begin..end].replace("&#38;", "&");
    assert!(
        link.contains("version=2") && link.contains("where="),
        "{link}"
    );
    let response = page(&app, &link, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let console_csv = response.text().await.unwrap();
    let api_csv = app
        .server(Method::GET, "/v1/question-sets/survey/results/answers")
        .query(&[
            ("format", "csv"),
            ("version", "2"),
            ("where", r#"{"key":"login_count","gte":2}"#),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(console_csv, api_csv);
    assert_eq!(
        console_csv.lines().count(),
        5,
        "u3's four v2 answers: {console_csv}"
    );
}

async fn bad_filters_are_shown_beside_the_form(backend: Backend) {
    let app = population(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let response = page(
        &app,
        &format!("{}?from=soon", results_path(&app)),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("from: from must be a YYYY-MM-DD date"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="soon" aria-invalid="true""#),
        "{html}"
    );
    assert!(!html.contains(r#"id="filtered-users""#), "no figures");
    let bad_where = page(
        &app,
        &format!("{}?where=%7Bnope", results_path(&app)),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(bad_where.status(), 400);
    assert!(
        bad_where
            .text()
            .await
            .unwrap()
            .contains("where is not JSON")
    );
}

async fn the_results_page_is_refused_as_every_site_page(backend: Backend) {
    let app = population(backend).await;
    let path = results_path(&app);
    let anonymous = page(&app, &path, None).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert!(location(&anonymous).starts_with("/console/sign-in"));

    admin(&app, "ann@example.com", Role::Owner).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let unknown = format!(
        "/console/sites/{}/question-sets/nope/results",
        app.keys.site_id
    );
    assert_eq!(
        page(&app, &unknown, Some(&owner))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    admin(&app, "mia@example.com", Role::Member).await;
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    app.trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &other.site_id)
        .await
        .unwrap();
    let member = sign_in(&app, "mia@example.com").await;
    for refused in [path.clone(), format!("{path}.csv")] {
        let response = page(&app, &refused, Some(&member)).send().await.unwrap();
        assert_eq!(
            response.status(),
            404,
            "a member without the site: {refused}"
        );
        assert!(!response.text().await.unwrap().contains("=ada"));
    }
    let theirs = format!(
        "/console/sites/{}/question-sets/survey/results",
        other.site_id
    );
    let response = page(&app, &theirs, Some(&member)).send().await.unwrap();
    assert_eq!(response.status(), 404, "the other site has no such set");
}

on_both_databases!(
    the_results_page_shows_the_apis_figures,
    the_csv_export_is_exactly_what_is_filtered,
    bad_filters_are_shown_beside_the_form,
    the_results_page_is_refused_as_every_site_page,
);
