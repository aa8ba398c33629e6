//! The console's live widget preview (issue 10): an admin made on the command line signs
//! in, opens a site's settings, and sees the real renderer show the site's first live
//! question beside the form; changing the colour changes the preview, answering in it
//! stores nothing and sends no request.

use super::*;
use fantoccini::Locator;
use std::io::Write;

const EMAIL: &str = "owner@example.com";
const PASSWORD: &str = "a browser test password";

/// The preview's widget: its shadow root.
const PREVIEW: &str = "document.querySelector('.trickle-preview trickle-widget').shadowRoot";

/// Whether the preview's widget shows `text`.
fn preview_shows(text: &str) -> String {
    format!(
        "document.querySelector('.trickle-preview trickle-widget')&&{PREVIEW}.textContent.indexOf({text:?})>=0"
    )
}

/// The computed background colour of the preview's Submit button.
const SUBMIT_COLOUR: &str = "getComputedStyle(document.querySelector('.trickle-preview trickle-widget')\
    .shadowRoot.querySelector('button.primary')).backgroundColor";

fn create_admin(service: &Service) {
    let mut child = trickle(&service.db)
        .args(["admin", "create", "--email", EMAIL, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "trickle admin create");
}

pub(super) async fn sign_in(browser: &Browser, service: &Service) {
    let client = &browser.client;
    client
        .goto(&format!("{}/console/sign-in", service.api))
        .await
        .unwrap();
    client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys(EMAIL)
        .await
        .unwrap();
    let password = client.find(Locator::Css("#password")).await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    password.send_keys("\u{e007}").await.unwrap(); // Enter
    browser
        .wait_for(&format!(
            "document.querySelector('a[href=\"/console/sites/{}\"]')",
            service.site_id
        ))
        .await;
}

pub async fn the_settings_page_previews_the_real_widget(browser: &Browser, service: &Service) {
    create_admin(service);
    sign_in(browser, service).await;
    // Reached by a boosted link, the page is loaded whole: it needs its own policy.
    browser
        .js(&format!(
            "document.querySelector('a[href=\"/console/sites/{}\"]').click()",
            service.site_id
        ))
        .await;
    browser.wait_for(&preview_shows(TITLE_OF_FIRST)).await;
    browser
        .js(
            "window.__violations=[];document.addEventListener('securitypolicyviolation',\
             function(e){__violations.push(e.violatedDirective+' '+e.blockedURI)})",
        )
        .await;
    // The site's saved colour (the default), through the widget's own stylesheet.
    assert_eq!(
        browser.js(&format!("return {SUBMIT_COLOUR}")).await,
        json!("rgb(79, 70, 229)")
    );

    // A colour picked in the form shows in the preview (posted as the owner types).
    browser
        .js(
            "var i=document.getElementById('brand_color');i.value='#0a7d32';\
             i.dispatchEvent(new Event('input',{bubbles:true}))",
        )
        .await;
    browser
        .wait_for(&format!("{SUBMIT_COLOUR}==='rgb(10, 125, 50)'"))
        .await;
    browser.wait_for(&preview_shows(TITLE_OF_FIRST)).await;

    // Dark and phone, as a visitor of an "auto" site would see it.
    browser
        .js(
            "document.querySelector('input[name=preview_theme][value=dark]').click();\
             document.querySelector('input[name=preview_width][value=phone]').click()",
        )
        .await;
    browser
        .wait_for(&format!(
            "document.querySelector('.trickle-frame.dark.phone')&&{PREVIEW}.querySelector('.root.dark')"
        ))
        .await;
    let width = browser
        .js("return document.querySelector('.trickle-frame').getBoundingClientRect().width")
        .await;
    assert_eq!(width.as_f64().unwrap().round(), 400.0, "{width}");

    // An answer is checked by the widget's rules, then only described.
    browser
        .js(&format!(
            "{PREVIEW}.querySelector('input[value=developer]').click();\
             {PREVIEW}.querySelector('button.primary').click()"
        ))
        .await;
    browser
        .wait_for(
            "document.querySelector('.trickle-note').textContent.indexOf('Would be saved: role = \"developer\"')>=0",
        )
        .await;
    let requests = browser
        .js(
            "return performance.getEntriesByType('resource').map(function(e){return e.name})\
             .filter(function(n){return n.indexOf('/v1/')>=0})",
        )
        .await;
    assert_eq!(requests, json!([]), "the preview made API requests");
    assert_eq!(browser.js("return window.__violations").await, json!([]));
    let saved = service.site_settings().await;
    assert_eq!(
        saved["theme"]["brand_color"], "#4f46e5",
        "nothing is saved until the form is: {saved}"
    );
}

/// The browser-test set's first question.
const TITLE_OF_FIRST: &str = "What best describes your role?";
