//! The question-set list and editor: lint at line:column, saving drafts, the outline
//! and the preview element (the widget's own prompt).

use reqwest::Method;
use serde_json::Value;

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use crate::http::SET;
use trickle::model::Role;
use trickle::questions::parse_question_set;

/// The value of the first `name="…"` attribute after `after` in `html`, unescaped.
pub fn attribute(html: &str, after: &str, name: &str) -> String {
    let rest = &html[html
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {html}"))..];
    let start = rest.find(&format!(r#"{name}=""#)).expect("the attribute") + name.len() + 2;
    let value = &rest[start..start + rest[start..].find('"').unwrap()];
    value
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What the preview element would hand the widget.
fn preview_next(html: &str) -> Value {
    serde_json::from_str(&attribute(html, r#"class="trickle-preview""#, "data-next")).unwrap()
}

pub fn set_path(app: &TestApp, rest: &str) -> String {
    format!("/console/sites/{}/question-sets{rest}", app.keys.site_id)
}

pub async fn signed_in_owner(backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    (app, cookie)
}

async fn versions(app: &TestApp, slug: &str) -> usize {
    app.trickle
        .store()
        .question_set_versions(&app.keys.site_id, slug)
        .await
        .unwrap()
        .len()
}

async fn the_list_shows_live_versions_drafts_and_who_changed_them(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    let empty = page_html(&app, &set_path(&app, ""), Some(&cookie)).await;
    assert!(empty.contains("No question sets yet"), "{empty}");
    app.publish_yaml("profile", SET).await;
    let html = page_html(&app, &set_path(&app, ""), Some(&cookie)).await;
    assert!(
        html.contains(r#"/question-sets/profile">Profile</a>"#),
        "{html}"
    );
    assert!(html.contains("<td>v1</td>") && html.contains("by secret key"));

    let changed = SET.replace("title: Profile", "title: Profile two");
    let saved = post_form(
        &app,
        &set_path(&app, "/profile/drafts"),
        Some(&cookie),
        &[("source", changed.as_str()), ("version", "1")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        (saved.status().as_u16(), location(&saved)),
        (303, set_path(&app, "/profile?saved=2").as_str())
    );
    let html = page_html(&app, &set_path(&app, ""), Some(&cookie)).await;
    assert!(
        html.contains("1 (latest v2)") && html.contains("by ann@example.com"),
        "{html}"
    );
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.subject.as_str(),
            entry.site_id.as_deref()
        ),
        (
            "question_set.save_draft",
            "profile",
            Some(app.keys.site_id.as_str())
        )
    );
    assert!(entry.detail.starts_with("v2 "), "{}", entry.detail);
    let stored = app
        .trickle
        .store()
        .question_set_version(&app.keys.site_id, "profile", 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.source, stored.published), (changed, false));
    let page = page_html(&app, &set_path(&app, "/profile?saved=2"), Some(&cookie)).await;
    assert!(page.contains("Saved as draft version 2.") && page.contains("/versions/2/publish"));
}

async fn the_editor_previews_the_widgets_own_prompt(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    app.publish_yaml("profile", SET).await;
    app.login("u1").await;
    let widget = |path: &'static str| app.widget(Method::GET, path, "u1");
    let due: Value = widget("/v1/widget/next")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let html = page_html(&app, &set_path(&app, "/profile"), Some(&cookie)).await;
    assert!(
        html.contains(r#"<textarea id="source" name="source""#),
        "{html}"
    );
    assert!(html.contains("slug: profile") && html.contains("No problems"));
    assert!(html.contains(r#"name="key" value="role" checked"#));
    assert!(html.contains(r#"value="address.city""#) && html.contains("Login 2"));
    assert!(html.contains(r#"<option value="de">de</option>"#));
    assert_eq!(preview_next(&html), due, "the widget's own body for role");
    assert_eq!(attribute(&html, "trickle-preview", "data-theme"), "light");
    assert_eq!(attribute(&html, "trickle-preview", "data-width"), "desktop");
    assert_eq!(attribute(&html, "trickle-preview", "data-locale"), "en");
    let settings: Value =
        serde_json::from_str(&attribute(&html, "trickle-preview", "data-settings")).unwrap();
    assert_eq!(settings, due["settings"]);

    let german: Value = widget("/v1/widget/next?locale=de")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fields = [
        ("source", SET),
        ("version", "1"),
        ("key", "role"),
        ("locale", "de"),
        ("theme", "dark"),
        ("width", "phone"),
    ];
    let bench = post_form(
        &app,
        &set_path(&app, "/profile/workbench"),
        Some(&cookie),
        &fields,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(bench.status(), 200);
    let fragment = bench.text().await.unwrap();
    assert!(fragment.starts_with(r#"<div id="workbench""#), "{fragment}");
    assert!(
        fragment
            .contains(r#"<ol id="gutter" class="gutter" aria-hidden="true" hx-swap-oob="true">"#)
    );
    assert_eq!(preview_next(&fragment), german);
    assert_eq!(
        attribute(&fragment, "trickle-preview", "data-theme"),
        "dark"
    );
    assert_eq!(
        attribute(&fragment, "trickle-preview", "data-width"),
        "phone"
    );
    assert_eq!(attribute(&fragment, "trickle-preview", "data-locale"), "de");

    let mut other = fields;
    other[2] = ("key", "address.city");
    let fragment = post_form(
        &app,
        &set_path(&app, "/profile/workbench"),
        Some(&cookie),
        &other,
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let city = preview_next(&fragment);
    assert_eq!(city["prompt"]["question"]["key"], "address.city");
    assert_eq!(city["prompt"]["stage"], 2);
    assert!(fragment.contains(r#"value="address.city" checked"#));
}

async fn lint_marks_every_problem_at_its_line_and_nothing_is_saved(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    app.publish_yaml("profile", SET).await;
    let bad = SET
        .replace("type: single_choice", "type: single_choise")
        .replace("at_login: 2", "at_login: 0");
    let expected = parse_question_set(&bad, "profile.yaml").unwrap_err();
    assert_eq!(expected.len(), 2, "{expected:?}");
    let fields = [("source", bad.as_str()), ("version", "1")];
    let fragment = post_form(
        &app,
        &set_path(&app, "/profile/workbench"),
        Some(&cookie),
        &fields,
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        fragment.contains(&format!("{} problems", expected.len())),
        "{fragment}"
    );
    for problem in &expected {
        assert!(fragment.contains(&format!(
            "<li><code>{}:{}</code> ",
            problem.line, problem.column
        )));
        let first = expected.iter().find(|p| p.line == problem.line).unwrap();
        let marker = format!(
            r#"<li class="bad" title="{}:{}: "#,
            first.line, first.column
        );
        assert!(fragment.contains(&marker), "{marker}");
        assert!(fragment.contains(&format!(r#"">{}</li>"#, problem.line)));
    }
    assert!(
        !fragment.contains("trickle-preview"),
        "no preview of an invalid set"
    );

    let refused = post_form(
        &app,
        &set_path(&app, "/profile/drafts"),
        Some(&cookie),
        &fields,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "Not saved: the YAML has {} problems",
            expected.len()
        )),
        "{html}"
    );
    assert!(
        html.contains("type: single_choise"),
        "the typed source is kept"
    );
    assert!(html.contains(&format!(
        "<code>{}:{}</code>",
        expected[0].line, expected[0].column
    )));

    let renamed = SET.replace("slug: profile", "slug: other");
    let wrong_slug = post_form(
        &app,
        &set_path(&app, "/profile/drafts"),
        Some(&cookie),
        &[("source", renamed.as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(wrong_slug.status(), 422);
    assert!(wrong_slug.text().await.unwrap().contains("does not match"));

    let huge = format!(
        "{SET}# {}\n",
        "x".repeat(trickle::questions::MAX_SOURCE_BYTES)
    );
    let too_big = post_form(
        &app,
        &set_path(&app, "/profile/drafts"),
        Some(&cookie),
        &[("source", huge.as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(too_big.status(), 422);
    assert!(
        too_big
            .text()
            .await
            .unwrap()
            .contains("larger than 262144 bytes")
    );
    let body_limit = "é".repeat(trickle::questions::MAX_SOURCE_BYTES);
    let over = post_form(
        &app,
        &set_path(&app, "/profile/drafts"),
        Some(&cookie),
        &[("source", body_limit.as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(over.status(), 413);
    assert_eq!(versions(&app, "profile").await, 1, "nothing was stored");
    assert!(
        app.trickle
            .audit()
            .list(None, 50)
            .await
            .unwrap()
            .iter()
            .all(|e| e.actor == "secret key" || !e.action.starts_with("question_set.")),
        "nothing was audited for the console"
    );
}

async fn a_new_set_is_written_in_the_editor(backend: Backend) {
    let (app, cookie) = signed_in_owner(backend).await;
    let new = format!("/console/sites/{}/new-question-set", app.keys.site_id);
    let html = page_html(&app, &new, Some(&cookie)).await;
    assert!(
        html.contains("New question set") && html.contains("slug: my-set"),
        "{html}"
    );
    assert!(
        html.contains(r#"name="key" value="role" checked"#) && html.contains("trickle-preview")
    );
    let fresh = SET.replace("slug: profile", "slug: fresh");
    let bench = post_form(
        &app,
        &format!("{new}/workbench"),
        Some(&cookie),
        &[("source", fresh.as_str())],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(bench.contains("No problems") && bench.contains(r#"value="nickname""#));
    let saved = post_form(&app, &new, Some(&cookie), &[("source", fresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&saved), set_path(&app, "/fresh?saved=1"));
    assert_eq!(versions(&app, "fresh").await, 1);
    let refused = post_form(
        &app,
        &new,
        Some(&cookie),
        &[("source", "slug: Bad\ntitle: T\nstages: []\n")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("<li><code>1:7</code> bad slug"), "{html}");
    assert!(html.contains("Not saved") && !html.contains("Saved as draft"));
}

async fn editor_pages_refuse_strangers_members_of_other_sites_and_other_origins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.publish_yaml("profile", SET).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let cookie = sign_in(&app, "mia@example.com").await;
    let form = [("source", SET), ("login", "1")];
    let pages = [
        "",
        "/profile",
        "/profile/versions",
        "/profile/versions/1/publish",
        "/profile/diff?from=1&to=1",
    ];
    for path in pages {
        let path = set_path(&app, path);
        let anonymous = page(&app, &path, None).send().await.unwrap();
        assert_eq!(
            (anonymous.status().as_u16(), location(&anonymous)),
            (303, "/console/sign-in"),
            "{path}"
        );
        let refused = page(&app, &path, Some(&cookie)).send().await.unwrap();
        assert_eq!(
            refused.status(),
            404,
            "{path}: an ungranted site is not found"
        );
        assert!(!refused.text().await.unwrap().contains("slug: profile"));
    }
    let new = format!("/console/sites/{}/new-question-set", app.keys.site_id);
    assert_eq!(
        page(&app, &new, Some(&cookie))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let forms = [
        set_path(&app, "/profile/drafts"),
        set_path(&app, "/profile/workbench"),
        set_path(&app, "/profile/simulate"),
        set_path(&app, "/profile/versions/1/publish"),
        new.clone(),
        format!("{new}/workbench"),
    ];
    for path in &forms {
        let anonymous = post_form(&app, path, None, &form).send().await.unwrap();
        assert_eq!(location(&anonymous), "/console/sign-in", "{path}");
        let refused = post_form(&app, path, Some(&cookie), &form)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 404, "{path}");
    }

    admin(&app, "ann@example.com", Role::Owner).await;
    let owner = sign_in(&app, "ann@example.com").await;
    for path in &forms {
        let cross_site = app
            .request(Method::POST, path)
            .header("Origin", "https://evil.example")
            .header("Cookie", &owner)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403, "{path}");
    }
    assert_eq!(versions(&app, "profile").await, 1, "nothing was stored");
    assert!(
        app.trickle
            .audit()
            .list(None, 50)
            .await
            .unwrap()
            .iter()
            .all(|e| e.actor == "secret key" || !e.action.starts_with("question_set.")),
        "nothing was audited for the console"
    );

    app.trickle
        .admins()
        .grant(
            &trickle::app::Actor::command_line(),
            "mia@example.com",
            &app.keys.site_id,
        )
        .await
        .unwrap();
    assert_eq!(
        page(&app, &set_path(&app, "/profile"), Some(&cookie))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

on_both_databases!(
    the_list_shows_live_versions_drafts_and_who_changed_them,
    the_editor_previews_the_widgets_own_prompt,
    lint_marks_every_problem_at_its_line_and_nothing_is_saved,
    a_new_set_is_written_in_the_editor,
    editor_pages_refuse_strangers_members_of_other_sites_and_other_origins,
);
