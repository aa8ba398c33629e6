//! A site's segments in the console: the builder's JSON is what the API takes and its
//! count what `GET /v1/users?where=` lists; groups nest; a refused condition is shown
//! beside its row and stores nothing; save, replace, delete; the CSV export; the two
//! classic examples; and who may do none of it.

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use trickle::app::Actor;
use trickle::model::Role;
use trickle::model::segment::SegmentInput;

fn segments_path(app: &TestApp) -> String {
    format!("/console/sites/{}/segments", app.keys.site_id)
}

fn builder_path(app: &TestApp) -> String {
    format!("{}/builder", segments_path(app))
}

/// A user who first logged in `days_ago` days ago, `logins` times, with answers and
/// app metadata set through the API.
async fn person(app: &TestApp, id: &str, days_ago: i64, logins: i64, user: Value, app_md: Value) {
    let first = Utc::now() - Duration::days(days_ago);
    for n in 0..logins {
        let at = (first + Duration::minutes(n)).to_rfc3339();
        let response = app
            .server(Method::POST, "/v1/logins")
            .json(&json!({"user_id": id, "occurred_at": at}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let patched = app
        .server(Method::PATCH, &format!("/v1/users/{id}"))
        .json(&json!({"user_metadata": user, "app_metadata": app_md}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
}

/// A birthday `years` years (and `days` more days) ago.
fn born(years: i32, days: i64) -> String {
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    let date = today
        .with_year(today.year() - years)
        .unwrap_or_else(|| today - Duration::days(365 * i64::from(years)));
    (date - Duration::days(days)).to_string()
}

/// The hand-made population of these tests.
async fn population(app: &TestApp) {
    let corp = json!({"enrichment": {"email": {"corporate": true}}});
    let free = json!({"enrichment": {"email": {"corporate": false}}});
    let people = [
        (
            "ann",
            30,
            3,
            json!({"gender": "female", "interests": ["fitness"], "birthday": born(25, 0)}),
            corp.clone(),
        ),
        (
            "bob",
            10,
            1,
            json!({"gender": "male", "interests": ["fitness", "golf"], "birthday": born(20, 0)}),
            free.clone(),
        ),
        (
            "cem",
            2,
            1,
            json!({"gender": "male", "interests": ["fitness"], "birthday": born(41, 0), "score": 7}),
            corp,
        ),
        (
            "dan",
            40,
            1,
            json!({"gender": "male", "interests": ["chess"], "birthday": born(30, 0), "score": 9.5}),
            json!({}),
        ),
        (
            "eve",
            8,
            1,
            json!({"gender": "male", "interests": ["fitness"], "birthday": born(40, -1)}),
            free,
        ),
        ("fay", 1, 5, json!({"note": "a,b"}), json!({})),
    ];
    for (id, days, logins, user, app_md) in people {
        person(app, id, days, logins, user, app_md).await;
    }
}

/// Decodes the few entities askama writes.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = html.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// The JSON the builder shows.
fn shown_json(html: &str) -> Value {
    let text = between(html, r#"name="where_json""#, "</textarea>")
        .and_then(|t| t.split_once('>'))
        .expect("the JSON textarea")
        .1;
    serde_json::from_str(&unescape(text)).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The count the builder shows, if any.
fn shown_count(html: &str) -> Option<i64> {
    between(html, r#"<strong id="seg-count">"#, "<").map(|n| n.parse().unwrap())
}

/// Every user `GET /v1/users?where=` lists for the JSON, in order.
async fn api_users(app: &TestApp, condition: &Value) -> Vec<String> {
    let text = condition.to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let response = app
        .server(
            Method::GET,
            &format!("/v1/users?limit=1000&where={encoded}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{condition}");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["next_cursor"], Value::Null);
    page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Posts builder fields as htmx does; the status and the builder fragment.
async fn post_builder(app: &TestApp, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = post_form(app, &builder_path(app), Some(cookie), fields)
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The fields of a root `all` group of one row.
fn one_row<'a>(
    key: &'a str,
    since: &'a str,
    op: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("c.kind", "all"),
        ("c-0.kind", "row"),
        ("c-0.key", key),
        ("c-0.since", since),
        ("c-0.op", op),
        ("c-0.value", value),
    ]
}

async fn each_field_and_operator_gives_the_apis_json_and_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    population(&app).await;
    let cases = [
        (
            ("gender", "", "equals", "male"),
            json!({"key": "gender", "equals": "male"}),
        ),
        (
            ("gender", "", "not_equals", "male"),
            json!({"key": "gender", "not_equals": "male"}),
        ),
        (
            ("gender", "", "in", "male, female"),
            json!({"key": "gender", "in": ["male", "female"]}),
        ),
        (
            ("interests", "", "not_in", "chess,golf"),
            json!({"key": "interests", "not_in": ["chess", "golf"]}),
        ),
        (
            ("interests", "", "contains", "fitness"),
            json!({"key": "interests", "contains": "fitness"}),
        ),
        (("score", "", "gte", "7"), json!({"key": "score", "gte": 7})),
        (
            ("score", "", "lte", "9.5"),
            json!({"key": "score", "lte": 9.5}),
        ),
        (
            ("score", "", "exists", "false"),
            json!({"key": "score", "exists": false}),
        ),
        (
            ("note", "", "equals", "\"a,b\""),
            json!({"key": "note", "equals": "a,b"}),
        ),
        (
            ("birthday", "years", "gte", "25"),
            json!({"key": "birthday", "since": "years", "gte": 25}),
        ),
        (
            ("birthday", "years", "in", "20, 40"),
            json!({"key": "birthday", "since": "years", "in": [20, 40]}),
        ),
        (
            ("birthday", "days", "exists", "true"),
            json!({"key": "birthday", "since": "days", "exists": true}),
        ),
        (
            ("login_count", "", "equals", "1"),
            json!({"key": "login_count", "equals": 1}),
        ),
        (
            ("days_since_first_login", "", "gte", "8"),
            json!({"key": "days_since_first_login", "gte": 8}),
        ),
        (
            ("days_since_last_login", "", "lte", "2"),
            json!({"key": "days_since_last_login", "lte": 2}),
        ),
        (
            (
                "app_metadata.enrichment.email.corporate",
                "",
                "equals",
                "true",
            ),
            json!({"key": "app_metadata.enrichment.email.corporate", "equals": true}),
        ),
    ];
    for ((key, since, op, value), expected) in cases {
        let (status, html) = post_builder(&app, &cookie, &one_row(key, since, op, value)).await;
        assert_eq!(status, 200, "{html}");
        let condition = json!({"all": [expected]});
        assert_eq!(shown_json(&html), condition, "{key} {op} {value}");
        let listed = api_users(&app, &condition).await;
        assert_eq!(
            shown_count(&html),
            Some(listed.len() as i64),
            "{condition}: {listed:?}"
        );
        assert!(!html.contains("seg-refused"), "{html}");
    }
    // A key the site's live sets ask is offered with its type.
    app.publish_yaml(
        "profile",
        "slug: profile\ntitle: P\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - { key: gender, type: single_choice, title: G, options: [male, female] }\n",
    )
    .await;
    let (_, html) = post_builder(&app, &cookie, &one_row("gender", "", "equals", "male")).await;
    assert!(
        html.contains(r#"<option value="gender">single_choice · profile</option>"#),
        "{html}"
    );
    assert!(
        html.contains("single_choice from profile: male, female"),
        "{html}"
    );
    assert!(html.contains(r#"<option value="login_count">number · logins</option>"#));
}

async fn groups_nest_and_buttons_change_the_tree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    population(&app).await;
    let fields = [
        ("c.kind", "any"),
        ("c-0.kind", "row"),
        ("c-0.key", "login_count"),
        ("c-0.op", "gte"),
        ("c-0.value", "3"),
        ("c-1.kind", "all"),
        ("c-1-0.kind", "row"),
        ("c-1-0.key", "gender"),
        ("c-1-0.op", "equals"),
        ("c-1-0.value", "male"),
        ("c-1-1.kind", "not"),
        ("c-1-1-0.kind", "row"),
        ("c-1-1-0.key", "interests"),
        ("c-1-1-0.op", "contains"),
        ("c-1-1-0.value", "fitness"),
    ];
    let (status, html) = post_builder(&app, &cookie, &fields).await;
    assert_eq!(status, 200);
    let expected = json!({"any": [
        {"key": "login_count", "gte": 3},
        {"all": [{"key": "gender", "equals": "male"}, {"not": {"key": "interests", "contains": "fitness"}}]}
    ]});
    assert_eq!(shown_json(&html), expected);
    let listed = api_users(&app, &expected).await;
    assert_eq!(listed, ["ann", "dan", "fay"]);
    assert_eq!(shown_count(&html), Some(3));
    assert!(
        html.contains(r#"<select id="c-1-1-kind" name="c-1-1.kind">"#),
        "{html}"
    );

    // Buttons: add a row to the inner `not`, an `any` group to the root, remove the first row.
    let mut more = fields.to_vec();
    more.push(("action", "add-row:c-1-1"));
    let (_, html) = post_builder(&app, &cookie, &more).await;
    assert!(
        html.contains(r#"name="c-1-1-1.kind" value="row""#),
        "{html}"
    );
    let mut more = fields.to_vec();
    more.push(("action", "add-group-any:c"));
    let (_, html) = post_builder(&app, &cookie, &more).await;
    assert!(
        html.contains(r#"<select id="c-2-kind" name="c-2.kind">"#),
        "{html}"
    );
    let mut more = fields.to_vec();
    more.push(("action", "remove:c-0"));
    let (_, html) = post_builder(&app, &cookie, &more).await;
    assert_eq!(
        shown_json(&html),
        json!({"any": [{"all": [{"key": "gender", "equals": "male"}, {"not": {"key": "interests", "contains": "fitness"}}]}]})
    );

    // JSON typed in is applied to the form, and a refused one is not.
    let typed =
        json!({"not": {"any": [{"key": "score", "gte": 8}, {"key": "gender", "in": ["female"]}]}});
    let text = typed.to_string();
    let (status, html) = post_builder(
        &app,
        &cookie,
        &[("action", "apply-json"), ("where_json", &text)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(shown_json(&html), typed);
    assert!(
        html.contains(
            r#"name="c-0-1.value" type="text" autocomplete="off" spellcheck="false" value="female""#
        ),
        "{html}"
    );
    assert_eq!(
        shown_count(&html),
        Some(api_users(&app, &typed).await.len() as i64)
    );
    let (_, html) = post_builder(
        &app,
        &cookie,
        &[("action", "apply-json"), ("where_json", r#"{"key": "a"}"#)],
    )
    .await;
    assert!(
        html.contains("Not applied: condition needs one operator"),
        "{html}"
    );
    assert!(
        html.contains(r#"{&#34;key&#34;: &#34;a&#34;}"#),
        "the JSON as typed stays: {html}"
    );

    // Without htmx, a button answers the whole page.
    let whole = post_form(&app, &builder_path(&app), Some(&cookie), &more)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    let html = whole.text().await.unwrap();
    assert!(
        html.contains("<h1>New segment</h1>") && html.contains(r#"id="builder""#),
        "{html}"
    );
}

async fn a_refused_condition_is_shown_beside_its_row_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let mut fields = vec![
        ("name", "aged"),
        ("c.kind", "all"),
        ("c-0.kind", "row"),
        ("c-0.key", "gender"),
        ("c-0.op", "equals"),
        ("c-0.value", "male"),
        ("c-1.kind", "row"),
        ("c-1.key", "birthday"),
        ("c-1.since", "years"),
        ("c-1.op", "contains"),
        ("c-1.value", "20"),
    ];
    let (status, html) = post_builder(&app, &cookie, &fields).await;
    assert_eq!(status, 200);
    let message = "`contains` does not go with `since` (it compares whole years or days)";
    assert!(
        html.contains(&format!(
            r#"<p id="c-1-error" class="alert seg-error" role="alert">{message}</p>"#
        )),
        "{html}"
    );
    assert!(!html.contains("c-0-error"), "the good row is not marked");
    assert!(html.contains(&format!("Refused: {message}")), "{html}");
    // A row without a key yet (as a new segment starts) is unfinished, not refused.
    let (status, unfinished) = post_builder(&app, &cookie, &one_row("", "", "equals", "")).await;
    assert_eq!(status, 200);
    assert!(!unfinished.contains("Refused"), "{unfinished}");
    assert!(!unfinished.contains("c-0-error"), "{unfinished}");
    assert!(
        unfinished.contains("Choose a key for each condition"),
        "{unfinished}"
    );
    assert_eq!(shown_count(&unfinished), None);
    assert_eq!(shown_count(&html), None);
    fields.push(("action", "save"));
    let (status, html) = post_builder(&app, &cookie, &fields).await;
    assert_eq!(status, 400);
    assert!(html.contains(&format!("Not saved: {message}")), "{html}");
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert!(app.trickle.segments().list(&site).await.unwrap().is_empty());
    let audit = app.trickle.audit().list(None, 100).await.unwrap();
    assert!(audit.iter().all(|e| !e.action.starts_with("segment.")));
}

async fn segments_are_saved_replaced_exported_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    population(&app).await;
    let empty = page_html(&app, &segments_path(&app), Some(&cookie)).await;
    assert!(empty.contains("No segments yet"), "{empty}");
    let settings = page_html(
        &app,
        &format!("/console/sites/{}", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(settings.contains(&format!(r#"href="{}""#, segments_path(&app))));

    let mut fields = one_row("login_count", "", "equals", "1");
    fields.extend([
        ("name", "once"),
        ("description", "Came once"),
        ("action", "save"),
    ]);
    let saved = post_form(&app, &builder_path(&app), Some(&cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved),
        format!("{}/once?saved=1", segments_path(&app))
    );
    let api: Value = app
        .server(Method::GET, "/v1/segments/once")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["where"],
        json!({"all": [{"key": "login_count", "equals": 1}]})
    );
    assert_eq!(api["description"], "Came once");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("segment.save", "ann@example.com")
    );

    // Through htmx a save redirects the whole page.
    let (status, _) = post_builder(&app, &cookie, &fields).await;
    assert_eq!(status, 200);
    let opened = page_html(
        &app,
        &format!("{}/once?saved=1", segments_path(&app)),
        Some(&cookie),
    )
    .await;
    assert!(
        opened.contains("Saved.") && opened.contains(r#"name="original" value="once""#),
        "{opened}"
    );
    assert_eq!(shown_json(&opened), api["where"]);

    // Replaced from its page; the list shows the API's count.
    let mut replace = one_row("gender", "", "equals", "male");
    replace.extend([("name", "once"), ("original", "once"), ("action", "save")]);
    let replaced = post_form(&app, &builder_path(&app), Some(&cookie), &replace)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 303);
    let counted: Value = app
        .server(Method::GET, "/v1/segments/once/count")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counted["users"], 4);
    let listed = page_html(&app, &segments_path(&app), Some(&cookie)).await;
    assert!(
        listed.contains(r#"<span class="seg-users">4</span>"#),
        "{listed}"
    );
    assert!(
        listed.contains(r#"<span class="muted">none</span>"#),
        "no set reads gender yet"
    );
    app.publish_yaml(
        "gym",
        "slug: gym\ntitle: G\ndefault_locale: en\nstages:\n  - at_login: 1\n    questions:\n      - { key: beard, type: boolean, title: B, when: { key: user_metadata.gender, equals: male } }\n      - { key: city, type: text, title: C, when: { key: login_count, gte: 2 } }\n",
    )
    .await;
    let listed = page_html(&app, &segments_path(&app), Some(&cookie)).await;
    assert!(
        listed.contains(&format!(
            r#"<a href="/console/sites/{}/question-sets/gym">gym</a> v1 (<code>user_metadata.gender</code>)"#,
            app.keys.site_id
        )),
        "{listed}"
    );

    // The same refusals as the API, beside the form.
    for (name, description, status, message) in [
        ("Bad Name", "", 400, "a segment name matches"),
        (
            "fine",
            &"x".repeat(501) as &str,
            400,
            "description is over 500 characters",
        ),
    ] {
        let mut bad = one_row("gender", "", "equals", "male");
        bad.extend([
            ("name", name),
            ("description", description),
            ("action", "save"),
        ]);
        let (got, html) = post_builder(&app, &cookie, &bad).await;
        assert_eq!(got, status, "{html}");
        assert!(html.contains(message), "{html}");
    }
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    for n in 1..200 {
        let input = SegmentInput {
            description: String::new(),
            r#where: json!({"key": "a", "exists": true}),
        };
        app.trickle
            .segments()
            .save(&Actor::command_line(), &site, &format!("s{n}"), input)
            .await
            .unwrap();
    }
    let mut one_more = one_row("gender", "", "equals", "male");
    one_more.extend([("name", "extra"), ("action", "save")]);
    let (status, html) = post_builder(&app, &cookie, &one_more).await;
    assert_eq!(status, 409);
    assert!(
        html.contains("Not saved: a site keeps at most 200 segments"),
        "{html}"
    );

    // The export is the API's CSV.
    let csv_path = format!("{}/once/users.csv", segments_path(&app));
    let csv = page(&app, &csv_path, Some(&cookie)).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let ours = csv.text().await.unwrap();
    let theirs = app
        .server(Method::GET, "/v1/segments/once/users?format=csv&limit=1000")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(ours.lines().count(), 5, "{ours}");
    let first = page(&app, &format!("{csv_path}?limit=2"), Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(first.headers()["x-next-cursor"], "cem");
    let theirs = app
        .server(
            Method::GET,
            "/v1/segments/once/users?format=csv&limit=2&after=cem",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ours = page(
        &app,
        &format!("{csv_path}?limit=2&after=cem"),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert_eq!(ours, theirs);

    // Delete after a confirmation.
    let confirm_path = format!("{}/once/delete", segments_path(&app));
    let confirm = page_html(&app, &confirm_path, Some(&cookie)).await;
    assert!(
        confirm.contains(&format!(r#"<form method="post" action="{confirm_path}">"#)),
        "{confirm}"
    );
    assert!(
        app.trickle.segments().get(&site, "once").await.is_ok(),
        "asking deletes nothing"
    );
    let deleted = post_form(&app, &confirm_path, Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert_eq!(
        location(&deleted),
        format!("{}?deleted=once", segments_path(&app))
    );
    let gone = app
        .server(Method::GET, "/v1/segments/once")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.subject.as_str()),
        ("segment.delete", "once")
    );
    let missing = page(&app, &confirm_path, Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn the_classic_examples_find_the_right_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    population(&app).await;
    let list = page_html(&app, &segments_path(&app), Some(&cookie)).await;
    assert!(list.contains("No live question set of this site asks <code>gender</code>, <code>interests</code>, <code>birthday</code>"), "{list}");
    for (example, users) in [
        ("fitness-20-40", vec!["bob", "eve"]),
        ("never-came-back", vec!["bob", "dan", "eve"]),
    ] {
        let link = format!("{}/new?example={example}", segments_path(&app));
        assert!(list.contains(&format!(r#"href="{link}""#)), "{list}");
        let html = page_html(&app, &link, Some(&cookie)).await;
        let condition = shown_json(&html);
        assert_eq!(api_users(&app, &condition).await, users, "{example}");
        assert_eq!(shown_count(&html), Some(users.len() as i64));
        assert!(
            html.contains(&format!(
                r#"name="name" type="text" maxlength="64" autocomplete="off" value="{example}""#
            )),
            "{html}"
        );
    }
}

async fn strangers_cannot_reach_a_sites_segments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let input = SegmentInput {
        description: String::new(),
        r#where: json!({"key": "a", "exists": true}),
    };
    app.trickle
        .segments()
        .save(&Actor::command_line(), &site, "kept", input)
        .await
        .unwrap();
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    app.trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &other.site_id)
        .await
        .unwrap();
    let member = sign_in(&app, "mia@example.com").await;
    let base = segments_path(&app);
    let pages = [
        base.clone(),
        format!("{base}/new"),
        format!("{base}/kept"),
        format!("{base}/kept/delete"),
        format!("{base}/kept/users.csv"),
    ];
    for path in &pages {
        let hidden = page(&app, path, Some(&member)).send().await.unwrap();
        assert_eq!(hidden.status(), 404, "member without the site: {path}");
        let signed_out = page(&app, path, None).send().await.unwrap();
        assert_eq!(signed_out.status(), 303, "{path}");
        let ok = page(&app, path, Some(&owner)).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{path}");
    }
    let mut save = one_row("gender", "", "equals", "male");
    save.extend([("name", "kept"), ("action", "save")]);
    let forms = [
        (format!("{base}/builder"), save),
        (format!("{base}/kept/delete"), vec![]),
    ];
    for (path, fields) in &forms {
        let hidden = post_form(&app, path, Some(&member), fields)
            .send()
            .await
            .unwrap();
        assert_eq!(hidden.status(), 404, "member without the site: {path}");
        for origin in [Some("https://evil.example"), None] {
            let mut call = app
                .request(Method::POST, path)
                .header("Cookie", &owner)
                .form(fields);
            if let Some(origin) = origin {
                call = call.header("Origin", origin);
            }
            assert_eq!(
                call.send().await.unwrap().status(),
                403,
                "{path} from {origin:?}"
            );
        }
    }
    let kept = app.trickle.segments().get(&site, "kept").await.unwrap();
    assert_eq!(
        kept.r#where,
        json!({"key": "a", "exists": true}),
        "nothing replaced or deleted"
    );
    // Another site's segment is not found, even for an owner.
    let other_path = format!("/console/sites/{}/segments/kept", other.site_id);
    assert_eq!(
        page(&app, &other_path, Some(&owner))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

on_both_databases!(
    each_field_and_operator_gives_the_apis_json_and_count,
    groups_nest_and_buttons_change_the_tree,
    a_refused_condition_is_shown_beside_its_row_and_stores_nothing,
    segments_are_saved_replaced_exported_and_deleted,
    the_classic_examples_find_the_right_users,
    strangers_cannot_reach_a_sites_segments,
);
