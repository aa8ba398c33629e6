//! Admin management in the console (owners only): the list, creating an admin with a
//! password shown once, roles, grants, removal, and the refusals (the last owner,
//! yourself, members, strangers).

use super::{admin, cookie_set_by, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use trickle::Error;
use trickle::app::Actor;
use trickle::model::Role;

async fn owners_list_and_create_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    admin(&app, "mia@example.com", Role::Member).await;
    app.trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &app.keys.site_id)
        .await
        .unwrap();
    let cookie = sign_in(&app, "ann@example.com").await;
    let response = page(&app, "/console/admins", Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"<a href="/console/admins" aria-current="page">Admins</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"ann@example.com <span class="muted">(you)</span>"#),
        "{html}"
    );
    let mia_row = html
        .split(r#"data-label="E-mail">mia@example.com"#)
        .nth(1)
        .expect("mia listed")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(mia_row.contains("Test shop"), "the granted site: {mia_row}");
    assert!(mia_row.contains("never"), "mia never signed in: {mia_row}");
    assert!(mia_row.contains(r#"<option value="member" selected>"#));
    let ann_row = html
        .split(r#"data-label="E-mail">ann@example.com"#)
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(ann_row.contains("every site") && ann_row.contains("<time datetime="));
    assert!(
        !ann_row.contains("Remove"),
        "no removing yourself: {ann_row}"
    );

    let created = post_form(
        &app,
        "/console/admins",
        Some(&cookie),
        &[("email", " Bob@Example.com "), ("role", "member")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    assert!(html.contains("shown only this once"), "{html}");
    let password = html
        .split(r#"id="password">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the password")
        .to_owned();
    assert_eq!(password.chars().count(), 20, "as `trickle admin create`");
    let bob = app
        .trickle
        .admins()
        .by_email("bob@example.com")
        .await
        .unwrap();
    assert_eq!(bob.role, Role::Member);
    let signed_in = post_form(
        &app,
        "/console/sign-in",
        None,
        &[("email", "bob@example.com"), ("password", &password)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(signed_in.status(), 303, "the shown password works");
    assert!(cookie_set_by(&signed_in).is_some());
    let log = app.trickle.audit().list(None, 5).await.unwrap();
    let entry = log.iter().find(|e| e.action == "admin.create").unwrap();
    assert_eq!(
        (entry.actor.as_str(), entry.subject.as_str()),
        ("ann@example.com", "bob@example.com")
    );
    assert!(log.iter().all(|e| !e.detail.contains(&password)));
    let listed = page_html(&app, "/console/admins", Some(&cookie)).await;
    assert!(!listed.contains(&password), "shown once");
}

async fn bad_new_admins_are_refused_beside_the_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let before = app.trickle.admins().list().await.unwrap().len();
    let cases = [
        (
            [("email", "not an address"), ("role", "member")],
            400,
            "email: must be an e-mail address",
        ),
        (
            [("email", "zoe@example.com"), ("role", "superuser")],
            400,
            "role: owner or member",
        ),
        (
            [("email", "ANN@example.com"), ("role", "owner")],
            409,
            "an admin with e-mail ann@example.com exists",
        ),
    ];
    for (fields, status, reason) in cases {
        let response = post_form(&app, "/console/admins", Some(&cookie), &fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{reason}");
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{reason}: {html}");
        assert!(html.contains(r#"role="alert""#));
        assert!(
            html.contains(&format!(r#"value="{}""#, fields[0].1)),
            "{html}"
        );
    }
    let marked = post_form(
        &app,
        "/console/admins",
        Some(&cookie),
        &[("email", "nope"), ("role", "member")],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        marked.contains(r#"value="nope" aria-invalid="true""#),
        "{marked}"
    );
    assert_eq!(app.trickle.admins().list().await.unwrap().len(), before);
}

async fn sites_are_granted_and_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let mia = admin(&app, "mia@example.com", Role::Member).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let member = sign_in(&app, "mia@example.com").await;
    let site_page = format!("/console/sites/{}", app.keys.site_id);
    let hidden = page(&app, &site_page, Some(&member)).send().await.unwrap();
    assert_eq!(hidden.status(), 404);

    let html = page_html(&app, "/console/admins", Some(&owner)).await;
    let grant_path = format!("/console/admins/{}/grants", mia.admin_id);
    assert!(
        html.contains(&format!(r#"action="{grant_path}">"#)),
        "{html}"
    );
    let granted = post_form(
        &app,
        &grant_path,
        Some(&owner),
        &[("site_id", &app.keys.site_id)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(granted.status(), 303);
    let done = page_html(&app, location(&granted), Some(&owner)).await;
    assert!(
        done.contains("mia@example.com may manage Test shop."),
        "{done}"
    );
    let shown = page(&app, &site_page, Some(&member)).send().await.unwrap();
    assert_eq!(shown.status(), 200, "the member reaches the site now");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.subject.as_str()),
        ("admin.grant", "mia@example.com")
    );

    let revoke_path = format!(
        "/console/admins/{}/grants/{}/revoke",
        mia.admin_id, app.keys.site_id
    );
    assert!(done.contains(&format!(r#"action="{revoke_path}">"#)));
    let revoked = post_form(&app, &revoke_path, Some(&owner), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 303);
    let hidden = page(&app, &site_page, Some(&member)).send().await.unwrap();
    assert_eq!(hidden.status(), 404, "taken back at once");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.site_id.as_deref()),
        ("admin.revoke", Some(app.keys.site_id.as_str()))
    );
    let unknown_site = post_form(&app, &grant_path, Some(&owner), &[("site_id", "site_nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_site.status(), 404);
}

async fn roles_change_and_removal_ends_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let bob = admin(&app, "bob@example.com", Role::Owner).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let bobs_session = sign_in(&app, "bob@example.com").await;

    let role_path = format!("/console/admins/{}/role", bob.admin_id);
    let demoted = post_form(&app, &role_path, Some(&owner), &[("role", "member")])
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 303);
    let bob_now = app.trickle.admins().get(&bob.admin_id).await.unwrap();
    assert_eq!(bob_now.role, Role::Member);
    let audit = page(&app, "/console/audit", Some(&bobs_session))
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status(), 403, "the new role holds at once");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "admin.role");
    assert_eq!(entry.detail, "role member (was owner)");

    let remove_path = format!("/console/admins/{}/remove", bob.admin_id);
    let confirm = page(&app, &remove_path, Some(&owner)).send().await.unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<form method="post" action="{remove_path}">"#)),
        "{html}"
    );
    assert!(app.trickle.admins().get(&bob.admin_id).await.is_ok());
    let removed = post_form(&app, &remove_path, Some(&owner), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    let done = page_html(&app, location(&removed), Some(&owner)).await;
    assert!(
        done.contains("Removed bob@example.com; their sessions ended."),
        "{done}"
    );
    assert!(!done.contains(r#"data-label="E-mail">bob@example.com"#));
    let signed_out = page(&app, "/console/sites", Some(&bobs_session))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303, "bob's session ended");
    assert_eq!(location(&signed_out), "/console/sign-in");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.subject.as_str()),
        ("admin.remove", "bob@example.com")
    );
    let again = post_form(&app, &remove_path, Some(&owner), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

async fn the_last_owner_and_yourself_are_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = admin(&app, "ann@example.com", Role::Owner).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let audited = app.trickle.audit().list(None, 100).await.unwrap().len();
    let demote = post_form(
        &app,
        &format!("/console/admins/{}/role", ann.admin_id),
        Some(&owner),
        &[("role", "member")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(demote.status(), 409);
    let html = demote.text().await.unwrap();
    assert!(
        html.contains("ann@example.com is the last owner and cannot be made a member"),
        "{html}"
    );
    let remove = post_form(
        &app,
        &format!("/console/admins/{}/remove", ann.admin_id),
        Some(&owner),
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(remove.status(), 409);
    let html = remove.text().await.unwrap();
    assert!(html.contains("you cannot remove yourself"), "{html}");
    assert_eq!(
        app.trickle.admins().get(&ann.admin_id).await.unwrap().role,
        Role::Owner
    );
    assert_eq!(
        app.trickle.audit().list(None, 100).await.unwrap().len(),
        audited,
        "refusals change nothing"
    );
    // Not even the command line removes the last owner.
    let refused = app
        .trickle
        .admins()
        .remove(&Actor::command_line(), &ann.admin_id)
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Conflict {
                code: "last_owner",
                ..
            })
        ),
        "{refused:?}"
    );
    // With a second owner, one of them may be made a member, not both.
    let cleo = admin(&app, "cleo@example.com", Role::Owner).await;
    let cli = Actor::command_line();
    let admins = app.trickle.admins();
    admins
        .set_role(&cli, &cleo.admin_id, Role::Member)
        .await
        .unwrap();
    let refused = admins.set_role(&cli, &ann.admin_id, Role::Member).await;
    assert!(matches!(
        refused,
        Err(Error::Conflict {
            code: "last_owner",
            ..
        })
    ));
}

async fn members_and_strangers_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = admin(&app, "ann@example.com", Role::Owner).await;
    let mia = admin(&app, "mia@example.com", Role::Member).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let member = sign_in(&app, "mia@example.com").await;
    let sites = page_html(&app, "/console/sites", Some(&member)).await;
    assert!(!sites.contains("/console/admins"), "no link for members");
    let pages = [
        "/console/admins".to_owned(),
        format!("/console/admins/{}/remove", ann.admin_id),
    ];
    for path in &pages {
        let refused = page(&app, path, Some(&member)).send().await.unwrap();
        assert_eq!(refused.status(), 403, "{path}");
        let signed_out = page(&app, path, None).send().await.unwrap();
        assert_eq!(
            (signed_out.status().as_u16(), location(&signed_out)),
            (303, "/console/sign-in"),
            "{path}"
        );
    }
    let site_id = app.keys.site_id.as_str();
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/console/admins".into(),
            vec![("email", "eve@example.com"), ("role", "owner")],
        ),
        (
            format!("/console/admins/{}/role", mia.admin_id),
            vec![("role", "owner")],
        ),
        (
            format!("/console/admins/{}/grants", mia.admin_id),
            vec![("site_id", site_id)],
        ),
        (
            format!("/console/admins/{}/grants/{site_id}/revoke", mia.admin_id),
            vec![],
        ),
        (format!("/console/admins/{}/remove", ann.admin_id), vec![]),
    ];
    for (path, fields) in &forms {
        let refused = post_form(&app, path, Some(&member), fields)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "member: {path}");
        let signed_out = post_form(&app, path, None, fields).send().await.unwrap();
        assert_eq!(signed_out.status(), 303, "{path}");
        let cross_site = app
            .request(reqwest::Method::POST, path)
            .header("Origin", "https://evil.example")
            .header("Cookie", &owner)
            .form(fields)
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403, "cross-site: {path}");
    }
    let admins = app.trickle.admins().list().await.unwrap();
    assert_eq!(admins.len(), 2, "nobody added or removed");
    assert!(admins.iter().all(|a| a.email != "eve@example.com"));
    assert_eq!(
        app.trickle.admins().get(&mia.admin_id).await.unwrap().role,
        Role::Member
    );
    assert!(
        app.trickle
            .store()
            .granted_sites(&mia.admin_id)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_databases!(
    owners_list_and_create_admins,
    bad_new_admins_are_refused_beside_the_form,
    sites_are_granted_and_revoked,
    roles_change_and_removal_ends_sessions,
    the_last_owner_and_yourself_are_kept,
    members_and_strangers_are_refused,
);
