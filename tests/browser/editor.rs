//! The console's question-set editor (issue 10), as a product manager uses it, after
//! the settings scenario has signed the admin in: a typo is marked at its line as it is
//! typed, the fix brings the preview back with the new title, a made-up profile is
//! simulated at login 2, a version that drops an answered option is published past the
//! orphan warning, and the earlier version is rolled back to.

use super::*;

/// The editor's preview widget: its shadow root.
const PREVIEW: &str = "document.querySelector('.trickle-preview trickle-widget').shadowRoot";

fn preview_shows(text: &str) -> String {
    format!(
        "document.querySelector('.trickle-preview trickle-widget')&&{PREVIEW}.textContent.indexOf({text:?})>=0"
    )
}

/// Replaces `from` by `to` in the editor's YAML as typing would (an `input` event).
fn edit(from: &str, to: &str) -> String {
    format!(
        "var s=document.getElementById('source');s.value=s.value.replace({from:?},{to:?});\
         s.dispatchEvent(new Event('input',{{bubbles:true}}))"
    )
}

fn text_of(selector: &str, contains: &str) -> String {
    format!(
        "document.querySelector({selector:?})&&document.querySelector({selector:?}).textContent.indexOf({contains:?})>=0"
    )
}

pub async fn the_editor_lints_previews_simulates_publishes_and_rolls_back(
    browser: &Browser,
    service: &Service,
) {
    let sets = format!(
        "{}/console/sites/{}/question-sets",
        service.api, service.site_id
    );
    browser.client.goto(&sets).await.unwrap();
    browser
        .wait_for("document.querySelector('a[href$=\"/question-sets/browser-test\"]')")
        .await;
    browser
        .js("document.querySelector('a[href$=\"/question-sets/browser-test\"]').click()")
        .await;
    browser
        .wait_for(&preview_shows("What best describes your role?"))
        .await;

    // A typo: the server's own validator marks it at its line, as it is typed.
    browser.js(&edit("single_choice", "single_choise")).await;
    browser
        .wait_for("document.querySelector('#problems .problems li code')")
        .await;
    let typo_line = browser
        .js(
            "return document.getElementById('source').value.split('\\n')\
             .findIndex(function(l){return l.indexOf('single_choise')>=0})+1",
        )
        .await;
    let at = browser
        .js("return document.querySelector('#problems .problems li code').textContent")
        .await;
    assert!(
        at.as_str()
            .is_some_and(|at| at.starts_with(&format!("{typo_line}:"))),
        "the problem is at {at}, the typo on line {typo_line}"
    );
    browser
        .wait_for(&format!(
            "document.querySelectorAll('.gutter li')[{}].classList.contains('bad')",
            typo_line.as_i64().unwrap() - 1
        ))
        .await;

    // Fixed, with a new title and without the option "developer": the preview shows it.
    browser.js(&edit("single_choise", "single_choice")).await;
    browser
        .js(&edit(
            "What best describes your role?",
            "What is your role?",
        ))
        .await;
    browser
        .js(&edit("[student, developer, manager]", "[student, manager]"))
        .await;
    browser.wait_for(&preview_shows("What is your role?")).await;
    browser.wait_for(&text_of("#problems", "No problems")).await;
    browser
        .js("document.querySelector('#editor button[type=submit]').click()")
        .await;
    browser
        .wait_for(&text_of(".notice", "Saved as draft version 2"))
        .await;

    // Login 2 of a made-up user who gave a role: the city is asked, the role is known.
    browser
        .js("document.getElementById('sim-login').value='2';\
             document.getElementById('sim-metadata').value='{\"role\": \"student\"}';\
             document.querySelector('#simulate button[type=submit]').click()")
        .await;
    browser
        .wait_for(&text_of("#simulation", "At login 2"))
        .await;
    let shown = browser
        .js("return [].map.call(document.querySelectorAll('#simulation .shown code'),function(c){return c.textContent})")
        .await;
    assert_eq!(shown, json!(["city"]), "questions due at login 2");
    let passed_over = browser
        .js("return document.querySelector('#simulation table').textContent")
        .await;
    assert!(
        passed_over.as_str().is_some_and(|t| t.contains("role")),
        "{passed_over}"
    );

    // Publishing v2 warns about the users who answered "developer".
    browser
        .js("document.querySelector('.notice a[href$=\"/versions/2/publish\"]').click()")
        .await;
    browser
        .wait_for(&text_of(".orphans", "option developer of role"))
        .await;
    browser
        .js("document.querySelector('form[action$=\"/versions/2/publish\"] button').click()")
        .await;
    browser
        .wait_for(&text_of(".notice", "Version 2 is live"))
        .await;
    assert_eq!(service.live_version("browser-test").await, 2);

    // Rolled back: v1 is live again.
    browser
        .js("document.querySelector('a[href$=\"/versions/1/publish\"]').click()")
        .await;
    browser
        .wait_for("document.querySelector('form[action$=\"/versions/1/publish\"] button')")
        .await;
    browser
        .js("document.querySelector('form[action$=\"/versions/1/publish\"] button').click()")
        .await;
    browser
        .wait_for(&text_of(".notice", "Version 1 is live"))
        .await;
    assert_eq!(service.live_version("browser-test").await, 1);
}
