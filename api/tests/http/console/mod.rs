//! The console's pages and forms, in-process on both databases: sign-in and sessions
//! (`sign_in.rs`), sites and settings with their refusals (`sites.rs`), the audit log
//! (`audit.rs`), the question-set list and editor (`editor.rs`), simulation
//! (`simulate.rs`), versions, diffs and publishing (`versions.rs`), the live widget
//! preview (`preview.rs`), key rotation (`keys.rs`), webhooks with their delivery
//! log and redelivery (`webhooks.rs`), admin management (`admins.rs`), segments and
//! their builder (`segments.rs`). Helpers to sign in and post forms
//! as a browser on our own origin.

mod admins;
mod audit;
mod editor;
mod enrichment;
mod keys;
mod overview;
mod preview;
mod results;
mod segments;
mod sign_in;
mod simulate;
mod sites;
mod timings;
mod users;
mod versions;
mod webhooks;

use crate::common::{Call, TestApp};
use trickle::app::Actor;
use trickle::model::{Admin, Role};

/// Every test admin's password.
pub const PASSWORD: &str = "a long test password";
/// The origin in-process requests are addressed to (`http://trickle.test/…`).
pub const OURS: &str = "http://trickle.test";

/// Creates an admin (as the command line would).
pub async fn admin(app: &TestApp, email: &str, role: Role) -> Admin {
    app.trickle
        .admins()
        .create(&Actor::command_line(), email, role, PASSWORD)
        .await
        .expect("create admin")
}

/// The `name=value` of the session cookie a response sets, if any.
pub fn cookie_set_by(response: &reqwest::Response) -> Option<String> {
    let set = response.headers().get("set-cookie")?.to_str().ok()?;
    Some(set.split(';').next()?.to_owned())
}

/// Signs in as `email`; the `Cookie` header value of the new session.
pub async fn sign_in(app: &TestApp, email: &str) -> String {
    let response = post_form(
        app,
        "/console/sign-in",
        None,
        &[("email", email), ("password", PASSWORD)],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 303, "sign-in failed");
    cookie_set_by(&response).expect("a session cookie")
}

/// A page request with the session cookie, if any.
pub fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> Call {
    let call = app.get(path);
    match cookie {
        Some(cookie) => call.header("Cookie", cookie),
        None => call,
    }
}

/// The HTML of a page, asked for with the session cookie, if any.
pub async fn page_html(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    page(app, path, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A form post from our own pages (`Origin` is ours), with the session cookie if any.
pub fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Call {
    let call = app
        .request(reqwest::Method::POST, path)
        .header("Origin", OURS)
        .form(fields);
    match cookie {
        Some(cookie) => call.header("Cookie", cookie),
        None => call,
    }
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
}
