//! The site's overview and profile completeness pages: the API's figures, a sparkline
//! per figure, a shaded table; linked from the site and the site list; the refusals
//! of every console page.

use super::{OURS, admin, location, page, page_html, sign_in};
use crate::common::{Backend, TestApp};
use crate::http::SET;
use crate::http::overview::{get_json, login_at, overview_population, widget};
use reqwest::Method;
use serde_json::json;
use trickle::app::Actor;
use trickle::model::Role;

/// The text of the element with this id, up to its closing tag.
fn element(html: &str, id: &str, closing: &str) -> String {
    let start = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("#{id} in {html}"));
    html[start..start + html[start..].find(closing).unwrap()].to_owned()
}

async fn the_overview_page_shows_the_apis_figures_with_sparklines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    overview_population(&app).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let site = format!("/console/sites/{}", app.keys.site_id);
    let path = format!("{site}/overview");
    let linked = format!(r#"href="{path}""#);
    assert!(
        page_html(&app, &site, Some(&cookie))
            .await
            .contains(&linked),
        "from the site"
    );
    assert!(
        page_html(&app, "/console/sites", Some(&cookie))
            .await
            .contains(&linked),
        "from the site list"
    );
    let response = page(&app, &path, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let api = get_json(&app, "/v1/stats/overview").await;
    for (w, days) in [(0, 7), (1, 30)] {
        let totals = &api["windows"][w]["totals"];
        for (id, field) in [
            ("logins", "logins"),
            ("new-users", "new_users"),
            ("shown", "shown"),
            ("answered", "answered"),
            ("skipped", "skipped"),
            ("dismissed", "dismissed"),
        ] {
            let figure = element(&html, &format!("figure-{days}-{id}"), "</li>");
            assert!(
                figure.contains(&format!(
                    r#"<strong class="figure-value">{}</strong>"#,
                    totals[field]
                )),
                "{days} days, {id}: {figure}"
            );
            let points = figure.split(r#"points=""#).nth(1).unwrap();
            let points = &points[..points.find('"').unwrap()];
            assert_eq!(
                points.split(' ').count(),
                days,
                "one point per day: {figure}"
            );
        }
        let rate = element(&html, &format!("figure-{days}-answer-rate"), "</li>");
        assert!(
            rate.contains(r#"<strong class="figure-value">25%</strong>"#),
            "{rate}"
        );
        assert!(rate.contains("<svg class=\"sparkline\""), "{rate}");
    }
    let week = element(&html, "figure-7-logins", "</li>");
    assert!(week.contains("per day: 1, 0, 0, 0, 0, 0, 2"), "{week}");
    assert!(!html.contains("style="), "no inline style (CSP)");
    assert!(!html.contains("<script>"), "no inline script (CSP)");
}

async fn the_completeness_page_shades_each_share(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let version = app.publish_yaml("profile", SET).await;
    login_at(&app, "a", None).await;
    widget(&app, "a", "impressions", version, "role", json!({})).await;
    widget(
        &app,
        "a",
        "answers",
        version,
        "role",
        json!({ "value": "dev" }),
    )
    .await;
    login_at(&app, "b", None).await;
    login_at(&app, "b", None).await;
    login_at(&app, "c", None).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}/completeness", app.keys.site_id);
    let overview = page_html(
        &app,
        &format!("/console/sites/{}/overview", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(
        overview.contains(&format!(r#"href="{path}""#)),
        "linked from the overview"
    );
    let html = page_html(&app, &path, Some(&cookie)).await;
    let api = get_json(&app, "/v1/stats/completeness").await;
    assert_eq!(api["reached"], json!([3, 1, 0, 0]));
    let role = element(&html, "key-role", "</tr>");
    assert!(
        role.contains(r#"<td class="share share-3" title="1 of 3">33%</td>"#),
        "{role}"
    );
    assert!(
        role.contains(r#"<td class="share share-0" title="0 of 1">0%</td>"#),
        "{role}"
    );
    assert!(
        role.contains(r#"<td class="share share-none" title="0 of 0">–</td>"#),
        "{role}"
    );
    let city = element(&html, "key-address.city", "</tr>");
    assert!(city.contains(r#"title="0 of 3">0%"#), "{city}");
    assert!(
        html.contains("<th scope=\"col\">Login 4</th>"),
        "four login numbers"
    );
    assert!(!html.contains("Login 5"));
    assert!(!html.contains("style="), "no inline style (CSP)");
}

async fn the_insights_pages_are_refused_as_every_console_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    overview_population(&app).await;
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
    let cookie = sign_in(&app, "mia@example.com").await;
    for page_name in ["overview", "completeness"] {
        let path = format!("/console/sites/{}/{page_name}", app.keys.site_id);
        let anonymous = page(&app, &path, None).send().await.unwrap();
        assert_eq!(anonymous.status(), 303, "{page_name} with no session");
        assert!(location(&anonymous).starts_with("/console/sign-in"));
        let refused = page(&app, &path, Some(&cookie)).send().await.unwrap();
        assert_eq!(refused.status(), 404, "{page_name} of a site not granted");
        assert!(!refused.text().await.unwrap().contains("figure-value"));
        let granted = format!("/console/sites/{}/{page_name}", other.site_id);
        let response = page(&app, &granted, Some(&cookie)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{page_name} of a granted site");
        let ours = app
            .request(Method::POST, &granted)
            .header("Cookie", &cookie)
            .header("Origin", OURS)
            .form(&[("x", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(ours.status(), 405, "{page_name} takes no posts");
    }
    let html = page_html(
        &app,
        &format!("/console/sites/{}/overview", other.site_id),
        Some(&cookie),
    )
    .await;
    let logins = element(&html, "figure-30-logins", "</li>");
    assert!(
        logins.contains(r#"<strong class="figure-value">0</strong>"#),
        "{logins}"
    );
}

on_both_databases!(
    the_overview_page_shows_the_apis_figures_with_sparklines,
    the_completeness_page_shades_each_share,
    the_insights_pages_are_refused_as_every_console_page,
);
