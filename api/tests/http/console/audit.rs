//! The audit log page and the changes it records.

use super::{admin, page, page_html, sign_in};
use crate::common::{Backend, TestApp};
use trickle::app::Actor;
use trickle::app::audit::Change;
use trickle::model::Role;

async fn the_audit_log_lists_changes_newest_first_in_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let html = page_html(&app, "/console/audit", Some(&cookie)).await;
    let sign_in_at = html
        .find("<code>admin.sign_in</code>")
        .expect("sign-in recorded");
    let create_at = html
        .find("<code>admin.create</code>")
        .expect("creation recorded");
    assert!(sign_in_at < create_at, "newest first");
    assert!(html.contains("<td>command line</td>") && html.contains("role owner"));
    assert!(!html.contains("Older entries"));

    for n in 0..55 {
        let change = Change {
            action: "site.widget_settings",
            site_id: Some(&app.keys.site_id),
            subject: "Test shop",
            detail: &format!("<b>change {n}</b>"),
        };
        app.trickle
            .audit()
            .record(&Actor::command_line(), change)
            .await
            .unwrap();
    }
    let html = page_html(&app, "/console/audit", Some(&cookie)).await;
    assert!(
        html.contains("&#60;b&#62;change 54&#60;/b&#62;"),
        "escaped: {html}"
    );
    assert!(!html.contains("<b>change"));
    assert!(!html.contains("change 4&#60;"), "only 50 on a page");
    let older = html
        .split(r#"<a href="/console/audit?before="#)
        .nth(1)
        .expect("a link to older entries");
    let before = older.split('"').next().unwrap();
    let next = page(
        &app,
        &format!("/console/audit?before={before}"),
        Some(&cookie),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(next.contains("change 4&#60;") && next.contains("<code>admin.create</code>"));
    assert!(!next.contains("change 5&#60;"));
}

on_both_databases!(the_audit_log_lists_changes_newest_first_in_pages);
