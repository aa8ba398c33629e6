//! A site's webhooks in the console: the list, adding one (the secret shown once, a
//! refused field beside the form), deleting after a confirmation, the delivery log and
//! redelivery; and who may do none of it.

use super::{admin, location, page, page_html, post_form, sign_in};
use crate::common::{Backend, TestApp};
use crate::http::webhooks::Receiver;
use trickle::app::Actor;
use trickle::model::Role;

/// Works the queue until it is empty.
async fn drain(app: &TestApp) {
    while app.trickle.jobs().work_once().await.unwrap() > 0 {}
}

fn webhooks_path(app: &TestApp) -> String {
    format!("/console/sites/{}/webhooks", app.keys.site_id)
}

/// Adds a webhook through the console form; its id and the secret shown.
async fn add(app: &TestApp, cookie: &str, url: &str, events: &[&str]) -> (String, String) {
    let mut fields = vec![("url", url), ("description", "CRM sync")];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let response = post_form(app, &webhooks_path(app), Some(cookie), &fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("shown only this once"), "{html}");
    let secret = html
        .split(r#"id="webhook-secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret")
        .to_owned();
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let stored = app.trickle.webhooks().list(&site).await.unwrap();
    let id = stored.last().expect("stored").id.clone();
    (id, secret)
}

async fn owners_add_list_and_delete_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let settings = page_html(
        &app,
        &format!("/console/sites/{}", app.keys.site_id),
        Some(&cookie),
    )
    .await;
    assert!(settings.contains(&format!(r#"href="{}""#, webhooks_path(&app))));
    let empty = page(&app, &webhooks_path(&app), Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    let html = empty.text().await.unwrap();
    assert!(html.contains("No webhooks yet"), "{html}");
    for event in trickle::model::webhook::EVENT_TYPES {
        assert!(
            html.contains(&format!(
                r#"<input type="checkbox" name="events" value="{event}">"#
            )),
            "{event}: {html}"
        );
    }

    let (receiver, url) = Receiver::start(vec![]).await;
    let (id, secret) = add(&app, &cookie, &url, &["user.signed_up", "user.deleted"]).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let stored = app.trickle.webhooks().get(&site, &id).await.unwrap();
    assert_eq!(stored.events, ["user.deleted", "user.signed_up"]);
    assert_eq!(
        stored.secret, secret,
        "the secret shown is the one that signs"
    );
    assert_eq!(stored.description.as_deref(), Some("CRM sync"));
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "webhook.create");
    assert_eq!(entry.site_id.as_deref(), Some(app.keys.site_id.as_str()));
    assert!(entry.detail.contains(&url) && entry.detail.contains(&id));
    assert!(!entry.detail.contains(&secret), "never the secret");

    let listed = page_html(&app, &webhooks_path(&app), Some(&cookie)).await;
    assert!(listed.contains(&format!("<code>{url}</code>")), "{listed}");
    assert!(listed.contains("none yet"), "no delivery yet");
    assert!(!listed.contains(&secret), "the secret is shown once");
    app.login("u1").await;
    drain(&app).await;
    assert_eq!(receiver.requests().len(), 1);
    let listed = page_html(&app, &webhooks_path(&app), Some(&cookie)).await;
    assert!(
        listed.contains(r#"<span class="status-delivered">delivered</span> (HTTP 200)"#),
        "{listed}"
    );

    let confirm_path = format!("{}/{id}/delete", webhooks_path(&app));
    let confirm = page(&app, &confirm_path, Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<form method="post" action="{confirm_path}">"#)),
        "{html}"
    );
    assert_eq!(
        app.trickle.webhooks().list(&site).await.unwrap().len(),
        1,
        "asking to confirm deletes nothing"
    );
    let deleted = post_form(&app, &confirm_path, Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert!(
        location(&deleted).starts_with(&format!("{}?deleted=", webhooks_path(&app))),
        "{}",
        location(&deleted)
    );
    assert!(app.trickle.webhooks().list(&site).await.unwrap().is_empty());
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "webhook.delete");
    assert!(entry.detail.contains(&url));
    let after = page_html(&app, location(&deleted), Some(&cookie)).await;
    assert!(after.contains("Deleted the webhook to"), "{after}");
    let gone = page(&app, &confirm_path, Some(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

/// A form's fields.
type Fields<'a> = &'a [(&'a str, &'a str)];

async fn a_refused_webhook_is_shown_beside_the_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let audited = app.trickle.audit().list(None, 100).await.unwrap().len();
    let cases: [(Fields, &str, &str); 3] = [
        (
            &[("url", "ftp://files.example"), ("events", "user.deleted")],
            "url: url must be http(s) and at most 2048 bytes",
            r#"id="url" name="url""#,
        ),
        (
            &[("url", "https://crm.example/hook")],
            "events: name at least one event type",
            r#"<fieldset class="event-types" aria-invalid="true">"#,
        ),
        (
            &[
                ("url", "https://crm.example/hook"),
                ("events", "user.exploded"),
            ],
            "events: unknown event type",
            r#"<fieldset class="event-types" aria-invalid="true">"#,
        ),
    ];
    for (fields, reason, marked) in cases {
        let response = post_form(&app, &webhooks_path(&app), Some(&cookie), fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{reason}");
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{reason}: {html}");
        assert!(html.contains(marked), "{marked}: {html}");
        assert!(html.contains(r#"role="alert""#));
        // What was typed is kept.
        let typed = fields.iter().find(|(n, _)| *n == "url").unwrap().1;
        assert!(html.contains(&format!(r#"value="{typed}""#)), "{html}");
    }
    let url_marked = post_form(
        &app,
        &webhooks_path(&app),
        Some(&cookie),
        &[("url", "not a url"), ("events", "user.deleted")],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        url_marked.contains(r#"value="not a url" aria-invalid="true""#),
        "{url_marked}"
    );
    assert!(
        url_marked.contains(r#"name="events" value="user.deleted" checked"#),
        "the ticked box stays ticked: {url_marked}"
    );
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    assert!(app.trickle.webhooks().list(&site).await.unwrap().is_empty());
    assert_eq!(
        app.trickle.audit().list(None, 100).await.unwrap().len(),
        audited,
        "nothing stored, nothing audited"
    );
}

async fn the_delivery_log_redelivers_a_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    let cookie = sign_in(&app, "ann@example.com").await;
    let (receiver, url) = Receiver::start(vec![500]).await;
    let (id, secret) = add(&app, &cookie, &url, &["user.signed_up"]).await;
    let log_path = format!("{}/{id}", webhooks_path(&app));
    let empty = page_html(&app, &log_path, Some(&cookie)).await;
    assert!(empty.contains("Nothing delivered yet"), "{empty}");
    app.login("u1").await;
    // The fan-out and the first attempt (500); the retry waits for its back-off.
    app.trickle.jobs().work_once().await.unwrap();
    app.trickle.jobs().work_once().await.unwrap();
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let delivery = app
        .trickle
        .webhooks()
        .deliveries(&site, &id, 1)
        .await
        .unwrap()[0]
        .clone();
    assert_eq!(delivery.status, "pending");
    let response = page(&app, &log_path, Some(&cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    for shown in [
        delivery.id.as_str(),
        r#"<code class="nowrap">user.signed_up</code>"#,
        r#"<span class="status-pending">pending</span>"#,
        "HTTP 500",
        "receiver answered HTTP 500",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    let redeliver_path = format!("{log_path}/deliveries/{}/redeliver", delivery.id);
    assert!(
        !html.contains(&redeliver_path),
        "no redeliver button while pending"
    );
    let refused = post_form(&app, &redeliver_path, Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let html = refused.text().await.unwrap();
    assert!(html.contains("the delivery is still pending"), "{html}");

    // Mark it finished as the worker would after its last attempt.
    app.trickle
        .store()
        .record_delivery_attempt(
            &app.keys.site_id,
            &delivery,
            &trickle::model::AttemptOutcome::Failed {
                status: Some(500),
                error: "receiver answered HTTP 500".into(),
                final_attempt: true,
            },
            50,
        )
        .await
        .unwrap();
    let html = page_html(&app, &log_path, Some(&cookie)).await;
    assert!(
        html.contains(r#"<span class="status-dead">dead</span>"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<form method="post" action="{redeliver_path}">"#
        )),
        "{html}"
    );
    let queued = post_form(&app, &redeliver_path, Some(&cookie), &[])
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 303);
    assert_eq!(
        location(&queued),
        format!("{log_path}?redelivered={}", delivery.id)
    );
    let shown = page_html(&app, location(&queued), Some(&cookie)).await;
    assert!(shown.contains("again"), "{shown}");
    let entry = &app.trickle.audit().list(None, 1).await.unwrap()[0];
    assert_eq!(entry.action, "webhook.redeliver");
    assert!(entry.detail.contains(&delivery.id), "{}", entry.detail);

    drain(&app).await;
    let requests = receiver.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.1["webhook-id"], delivery.id.as_str());
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(last.2.as_bytes(), &last.1)
        .expect("signed");
    let after = app
        .trickle
        .webhooks()
        .deliveries(&site, &id, 1)
        .await
        .unwrap();
    assert_eq!(after[0].status, "delivered");
}

async fn strangers_cannot_reach_a_sites_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin(&app, "ann@example.com", Role::Owner).await;
    admin(&app, "mia@example.com", Role::Member).await;
    let owner = sign_in(&app, "ann@example.com").await;
    let (id, _) = add(&app, &owner, "https://crm.example/hook", &["user.deleted"]).await;
    app.login("u1").await;
    let other = app.trickle.sites().create("Other", vec![]).await.unwrap();
    app.trickle
        .admins()
        .grant(&Actor::command_line(), "mia@example.com", &other.site_id)
        .await
        .unwrap();
    let member = sign_in(&app, "mia@example.com").await;
    let base = webhooks_path(&app);
    let delivery = "msg_0";
    let pages = [
        base.clone(),
        format!("{base}/{id}"),
        format!("{base}/{id}/delete"),
    ];
    let forms = [
        (
            base.clone(),
            vec![("url", "https://x.example"), ("events", "user.deleted")],
        ),
        (format!("{base}/{id}/delete"), vec![]),
        (
            format!("{base}/{id}/deliveries/{delivery}/redeliver"),
            vec![],
        ),
    ];
    for path in &pages {
        let hidden = page(&app, path, Some(&member)).send().await.unwrap();
        assert_eq!(hidden.status(), 404, "member without the site: {path}");
        let signed_out = page(&app, path, None).send().await.unwrap();
        assert_eq!(signed_out.status(), 303, "{path}");
        assert_eq!(location(&signed_out), "/console/sign-in");
    }
    for (path, fields) in &forms {
        let hidden = post_form(&app, path, Some(&member), fields)
            .send()
            .await
            .unwrap();
        assert_eq!(hidden.status(), 404, "member without the site: {path}");
        let signed_out = post_form(&app, path, None, fields).send().await.unwrap();
        assert_eq!(signed_out.status(), 303, "{path}");
        for origin in [Some("https://evil.example"), None] {
            let mut call = app
                .request(reqwest::Method::POST, path)
                .header("Cookie", &owner)
                .form(fields);
            if let Some(origin) = origin {
                call = call.header("Origin", origin);
            }
            let cross_site = call.send().await.unwrap();
            assert_eq!(cross_site.status(), 403, "{path} from {origin:?}");
        }
    }
    // An owner's own origin still works: the refusals were not about the path.
    let ok = page(&app, &base, Some(&owner)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let site = app.trickle.sites().get(&app.keys.site_id).await.unwrap();
    let left = app.trickle.webhooks().list(&site).await.unwrap();
    assert_eq!(left.len(), 1, "nothing added or deleted");
    assert!(
        app.trickle
            .audit()
            .list(None, 100)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "webhook.delete" && e.action != "webhook.redeliver")
    );
}

on_both_databases!(
    owners_add_list_and_delete_webhooks,
    a_refused_webhook_is_shown_beside_the_form,
    the_delivery_log_redelivers_a_message,
    strangers_cannot_reach_a_sites_webhooks,
);
