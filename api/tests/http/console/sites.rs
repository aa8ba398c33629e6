//! Sites in the console: the list, creating one, settings, and who may see what.

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use trickle::app::Actor;
use trickle::model::{Role, WidgetSettings};

/// The widget form as the settings page fills it for the defaults, with changes.
pub fn widget_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("corner", "bottom-right"),
        ("theme_mode", "auto"),
        ("delay_ms", "2000"),
        ("min_hours_between_prompts", "0"),
        ("show_on", ""),
        ("hide_on", ""),
        ("brand_color", "#4f46e5"),
        ("font", "system-ui, sans-serif"),
        ("radius_px", "12"),
    ];
    for (name, value) in changes {
        fields
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("a field")
            .1 = *value;
    }
    fields
}

async fn owners_list_and_create_sites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let list = page(&app, "/console/sites", Some(&cookie))
        .send()
        .await
        .unwrap();
    let html = list.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<a href="/console/sites/{}">Test shop</a>"#,
            app.keys.site_id
        )),
        "{html}"
    );
    assert!(html.contains(&app.keys.publishable_key) && html.contains("Create a site"));
    assert!(!html.contains(&app.keys.secret_key));
    let form = page(&app, "/console/sites/new", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains(r#"<form method="post" action="/console/sites">"#)
    );

    let fields = [
        ("name", "New shop"),
        ("origins", "HTTPS://New.Example/\n\n https://b.example "),
    ];
    let created = post_form(&app, "/console/sites", Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    let sites = app.trickle.store().all_sites().await.unwrap();
    let site = sites.iter().find(|s| s.name == "New shop").expect("stored");
    assert_eq!(
        site.allowed_origins,
        ["https://new.example", "https://b.example"]
    );
    assert!(html.contains(&site.publishable_key) && html.contains("shown only this once"));
    let secret = html
        .split(r#"id="secret-key">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    assert!(secret.starts_with("sk_"), "{secret}");
    let by_key = app.trickle.sites().by_secret_key(secret).await.unwrap();
    assert_eq!(by_key.site_id, site.site_id, "the shown secret key works");
    let log = app.trickle.audit().list(None, 1).await.unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].site_id.as_deref()),
        ("site.create", Some(site.site_id.as_str()))
    );
    assert!(!log[0].detail.contains(secret));
}

async fn a_bad_new_site_is_shown_again_with_the_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let before = app.trickle.store().all_sites().await.unwrap().len();
    for (fields, reason, invalid) in [
        (
            [("name", " "), ("origins", "https://kept.example")],
            "name: name must be 1 to 200 bytes",
            r#"id="name" name="name""#,
        ),
        (
            [
                ("name", "Shop"),
                ("origins", "https://ok.example\nftp://nope"),
            ],
            "allowed_origins[1]",
            r#"id="origins" name="origins" aria-invalid="true""#,
        ),
    ] {
        let response = post_form(&app, "/console/sites", Some(&cookie), &fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{html}");
        assert!(html.contains(invalid), "{html}");
        assert!(
            html.contains(fields[1].1.lines().next().unwrap()),
            "the typed origins are kept"
        );
    }
    assert_eq!(app.trickle.store().all_sites().await.unwrap().len(), before);
}

async fn site_settings_are_shown_and_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}", app.keys.site_id);
    let html = page_html(&app, &path, Some(&cookie)).await;
    assert!(html.contains(&app.keys.publishable_key) && html.contains("https://shop.example.com"));
    assert!(
        html.contains(r#"<option value="bottom-right" selected>"#),
        "{html}"
    );

    let origins = [(
        "origins",
        "https://shop.example.com\nHTTP://Other.Example:80",
    )];
    let saved = post_form(&app, &format!("{path}/origins"), Some(&cookie), &origins)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (saved.status().as_u16(), location(&saved)),
        (303, format!("{path}?saved=origins").as_str())
    );
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert_eq!(
        site.allowed_origins,
        ["https://shop.example.com", "http://other.example"]
    );

    let fields = widget_form(&[
        ("corner", "top-left"),
        ("theme_mode", "dark"),
        ("delay_ms", "500"),
        ("min_hours_between_prompts", "24"),
        ("show_on", "/app/**\n /account "),
        ("hide_on", "/checkout/**"),
        ("brand_color", "#112233"),
        ("font", "Inter, sans-serif"),
        ("radius_px", "4"),
    ]);
    let saved = post_form(&app, &format!("{path}/widget"), Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&saved), format!("{path}?saved=widget"));
    let settings = app
        .trickle
        .sites()
        .get(&app.keys.site_id)
        .await
        .unwrap()
        .widget_settings;
    assert_eq!(
        (
            settings.corner.as_str(),
            settings.delay_ms,
            settings.min_hours_between_prompts
        ),
        ("top-left", 500, 24)
    );
    assert_eq!(
        (settings.show_on, settings.hide_on),
        (
            vec!["/app/**".to_owned(), "/account".to_owned()],
            vec!["/checkout/**".to_owned()]
        )
    );
    assert_eq!(
        (
            settings.theme.mode.as_str(),
            settings.theme.brand_color.as_str(),
            settings.theme.radius_px
        ),
        ("dark", "#112233", 4)
    );
    let html = page_html(&app, &format!("{path}?saved=widget"), Some(&cookie)).await;
    assert!(
        html.contains("Saved: widget settings.")
            && html.contains(r#"<option value="top-left" selected>"#)
    );
    let actions: Vec<String> = app
        .trickle
        .audit()
        .list(None, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["site.widget_settings", "site.origins"]);
}

async fn bad_widget_settings_are_refused_as_the_api_refuses_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let path = format!("/console/sites/{}/widget", app.keys.site_id);
    for (change, reason, field) in [
        (
            ("brand_color", "red"),
            "widget_settings.theme.brand_color: must be a #rrggbb colour",
            "brand_color",
        ),
        (
            ("delay_ms", "soon"),
            "widget_settings.delay_ms: must be a whole number",
            "delay_ms",
        ),
        (
            ("radius_px", "99"),
            "widget_settings.theme.radius_px: must be at most 48",
            "radius_px",
        ),
        (
            ("corner", "middle"),
            "widget_settings.corner: must be",
            "corner",
        ),
        (
            ("hide_on", "checkout"),
            "widget_settings.hide_on: must be",
            "hide_on",
        ),
        (
            ("font", "x; } body { display: none"),
            "widget_settings.theme.font",
            "font",
        ),
    ] {
        let fields = widget_form(&[change]);
        let response = post_form(&app, &path, Some(&cookie), &fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{change:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{change:?}: {html}");
        assert!(html.contains(&format!(r#"id="{field}" name="{field}""#)));
        let marked = html
            .split(&format!(r#"id="{field}""#))
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap();
        assert!(
            marked.contains(r#"aria-invalid="true""#),
            "{field}: {marked}"
        );
    }
    let settings = app
        .trickle
        .sites()
        .get(&app.keys.site_id)
        .await
        .unwrap()
        .widget_settings;
    assert_eq!(settings, WidgetSettings::default(), "nothing was stored");
}

async fn members_reach_only_the_sites_granted_to_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let other = app
        .trickle
        .sites()
        .create("Other shop", vec![])
        .await
        .unwrap();
    let cli = Actor::command_line();
    assert!(
        app.trickle
            .admins()
            .grant(&cli, "mia@example.com", &app.keys.site_id)
            .await
            .unwrap()
    );
    let cookie = sign_in(&app, "mia@example.com").await;

    let html = page_html(&app, "/console/sites", Some(&cookie)).await;
    assert!(
        html.contains("Test shop") && !html.contains("Other shop"),
        "{html}"
    );
    assert!(!html.contains("Create a site") && !html.contains("Audit log"));
    let mine = format!("/console/sites/{}", app.keys.site_id);
    assert_eq!(
        page(&app, &mine, Some(&cookie))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let theirs = format!("/console/sites/{}", other.site_id);
    let refused = page(&app, &theirs, Some(&cookie)).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    assert!(!refused.text().await.unwrap().contains("Other shop"));
    let fields = widget_form(&[("corner", "top-left")]);
    let post = post_form(&app, &format!("{theirs}/widget"), Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    let origins = post_form(
        &app,
        &format!("{theirs}/origins"),
        Some(&cookie),
        &[("origins", "https://x.example")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(origins.status(), 404);
    let untouched = app.trickle.sites().get(&other.site_id).await.unwrap();
    assert!(
        untouched.allowed_origins.is_empty() && untouched.widget_settings.corner == "bottom-right"
    );

    for path in ["/console/sites/new", "/console/audit"] {
        let response = page(&app, path, Some(&cookie)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("only an owner may do this")
        );
    }
    let create = post_form(
        &app,
        "/console/sites",
        Some(&cookie),
        &[("name", "Mine"), ("origins", "")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(create.status(), 403);
    assert_eq!(app.trickle.store().all_sites().await.unwrap().len(), 2);
}

on_both_databases!(
    owners_list_and_create_sites,
    a_bad_new_site_is_shown_again_with_the_reason,
    site_settings_are_shown_and_saved,
    bad_widget_settings_are_refused_as_the_api_refuses_them,
    members_reach_only_the_sites_granted_to_them,
);
