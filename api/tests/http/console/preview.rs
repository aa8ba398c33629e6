//! The live widget preview on a site's settings page: the page's preview, the endpoint
//! the form posts to as the owner types (nothing stored), its refusals, the page's
//! Content-Security-Policy, and the preview script.

use serde_json::Value;

use super::sites::widget_form;
use super::{admin, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use trickle::app::Actor;
use trickle::console::{PREVIEW_CSP, PREVIEW_URL};
use trickle::model::{Role, WidgetSettings};

const SET: &str = r#"
slug: intro
title: Intro
default_locale: en
stages:
  - at_login: 1
    questions:
      - { key: source, type: text, title: "How did you hear about us?" }
      - { key: team, type: number, title: "How large is your team?" }
"#;

/// The data of the one `.trickle-preview` element in `html`: `data-next` and
/// `data-settings` parsed, `data-theme` and `data-width`.
fn preview_data(html: &str) -> (Value, Value, String, String) {
    let element = html
        .split(r#"<div class="trickle-preview""#)
        .nth(1)
        .unwrap_or_else(|| panic!("no preview in {html}"))
        .split('>')
        .next()
        .unwrap();
    let attribute = |name: &str| {
        let raw = element
            .split(&format!(r#" {name}=""#))
            .nth(1)
            .unwrap_or_else(|| panic!("no {name} in {element}"))
            .split('"')
            .next()
            .unwrap();
        raw.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    };
    (
        serde_json::from_str(&attribute("data-next")).unwrap(),
        serde_json::from_str(&attribute("data-settings")).unwrap(),
        attribute("data-theme"),
        attribute("data-width"),
    )
}

async fn the_settings_page_previews_the_saved_widget(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}", app.keys.site_id);
    let response = page(&app, &path, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-security-policy"],
        PREVIEW_CSP.as_str()
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<script src="{}""#, *PREVIEW_URL)),
        "{html}"
    );
    let (next, settings, theme, width) = preview_data(&html);
    assert_eq!(
        next["prompt"]["question"]["title"], "What best describes your role?",
        "no live set: the built-in sample"
    );
    assert_eq!(next["settings"], settings);
    let defaults: WidgetSettings = serde_json::from_value(settings).unwrap();
    assert_eq!(defaults, WidgetSettings::default());
    assert_eq!((theme.as_str(), width.as_str()), ("light", "desktop"));

    app.publish_yaml("intro", SET).await;
    let html = page_html(&app, &path, Some(&cookie)).await;
    let (next, ..) = preview_data(&html);
    assert_eq!(next["prompt"]["question_set"], "intro");
    assert_eq!(
        next["prompt"]["question"]["title"],
        "How did you hear about us?"
    );
    assert_eq!(next["prompt"]["position"]["of"], 2);

    let list = page(&app, "/console/sites", Some(&cookie))
        .send()
        .await
        .unwrap();
    let policy = list.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        !policy.contains("wasm-unsafe-eval") && !policy.contains("sha256-"),
        "only previewing pages may compile Wasm: {policy}"
    );
    assert!(!list.text().await.unwrap().contains("preview."));
}

async fn a_boosted_visit_loads_the_previewing_page_whole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}?saved=widget", app.keys.site_id);
    let boosted = page(&app, &path, Some(&cookie))
        .header("HX-Request", "true")
        .header("HX-Boosted", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(boosted.status(), 200);
    assert_eq!(boosted.headers()["hx-redirect"], path.as_str());
    assert_eq!(boosted.text().await.unwrap(), "");
    let other = page(&app, "/console/sites", Some(&cookie))
        .header("HX-Boosted", "true")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("hx-redirect").is_none());
    assert!(other.text().await.unwrap().contains("Test shop"));
}

async fn the_preview_shows_the_typed_settings_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    app.publish_yaml("intro", SET).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let audited = app.trickle.audit().list(None, 100).await.unwrap().len();
    let path = format!("/console/sites/{}/widget/preview", app.keys.site_id);
    let mut fields = widget_form(&[
        ("corner", "top-left"),
        ("theme_mode", "auto"),
        ("brand_color", "#112233"),
        ("font", "Georgia, serif"),
        ("radius_px", "4"),
    ]);
    fields.extend([("preview_theme", "dark"), ("preview_width", "phone")]);
    let response = post_form(&app, &path, Some(&cookie), &fields)
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<html"), "a fragment, not a page: {html}");
    let (next, settings, theme, width) = preview_data(&html);
    assert_eq!((theme.as_str(), width.as_str()), ("dark", "phone"));
    assert_eq!(settings["corner"], "top-left");
    assert_eq!(settings["theme"]["brand_color"], "#112233");
    assert_eq!(settings["theme"]["font"], "Georgia, serif");
    assert_eq!(settings["theme"]["radius_px"], 4);
    assert_eq!(next["settings"], settings);
    assert_eq!(next["prompt"]["question"]["key"], "source");
    assert_eq!(next["prompt"]["locale"], "en");

    let stored = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert_eq!(stored.widget_settings, WidgetSettings::default());
    assert_eq!(
        app.trickle.audit().list(None, 100).await.unwrap().len(),
        audited,
        "a preview is not a change"
    );
}

async fn bad_preview_input_says_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}/widget/preview", app.keys.site_id);
    for (change, look, reason) in [
        (
            ("brand_color", "red"),
            ("light", "desktop"),
            "widget_settings.theme.brand_color: must be a #rrggbb colour",
        ),
        (
            ("delay_ms", "soon"),
            ("light", "desktop"),
            "widget_settings.delay_ms: must be a whole number",
        ),
        (
            ("radius_px", "99"),
            ("light", "desktop"),
            "widget_settings.theme.radius_px: must be at most 48",
        ),
        (
            ("corner", "top-left"),
            ("dim", "desktop"),
            "preview_theme: must be light or dark",
        ),
        (
            ("corner", "top-left"),
            ("light", ""),
            "preview_width: must be desktop or phone",
        ),
    ] {
        let mut fields = widget_form(&[change]);
        fields.extend([("preview_theme", look.0), ("preview_width", look.1)]);
        let response = post_form(&app, &path, Some(&cookie), &fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{change:?} {look:?}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r#"<p class="alert" role="alert">"#) && html.contains(reason),
            "{change:?}: {html}"
        );
        assert!(!html.contains("trickle-preview"), "{html}");
    }
    let stored = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert_eq!(stored.widget_settings, WidgetSettings::default());
}

async fn the_preview_is_refused_to_strangers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    let granted = app
        .trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &app.keys.site_id)
        .await
        .unwrap();
    assert!(granted);
    let cookie = sign_in(&app, "mia@example.com").await;
    let mut fields = widget_form(&[]);
    fields.extend([("preview_theme", "light"), ("preview_width", "desktop")]);
    let mine = format!("/console/sites/{}/widget/preview", app.keys.site_id);
    let theirs = format!("/console/sites/{}/widget/preview", other.site_id);

    let ok = post_form(&app, &mine, Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "a member previews a granted site");

    let signed_out = post_form(&app, &mine, None, &fields).send().await.unwrap();
    assert_eq!(signed_out.status(), 303);
    assert_eq!(signed_out.headers()["location"], "/console/sign-in");

    let ungranted = post_form(&app, &theirs, Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(ungranted.status(), 404);
    let html = ungranted.text().await.unwrap();
    assert!(!html.contains("Other shop") && !html.contains("trickle-preview"));

    let cross_site = app
        .request(reqwest::Method::POST, &mine)
        .header("Origin", "https://evil.example")
        .header("Cookie", &cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(
        cross_site
            .text()
            .await
            .unwrap()
            .contains("this form did not come from the console")
    );
}

async fn the_preview_script_is_served_for_a_year(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get(&PREVIEW_URL).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let script = response.text().await.unwrap();
    assert!(script.contains(".trickle-preview") && script.contains("htmx:afterSettle"));
    assert!(
        !script.contains("fetch("),
        "the preview's host makes no request of its own"
    );
    let stale = app
        .get("/console/assets/preview.000000000000.js")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
}

on_both_databases!(
    the_settings_page_previews_the_saved_widget,
    a_boosted_visit_loads_the_previewing_page_whole,
    the_preview_shows_the_typed_settings_and_stores_nothing,
    bad_preview_input_says_what_is_wrong,
    the_preview_is_refused_to_strangers,
    the_preview_script_is_served_for_a_year,
);
