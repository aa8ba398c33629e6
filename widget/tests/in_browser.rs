//! The renderer in a real browser (headless Chromium, through `wasm-bindgen-test-runner`;
//! `cargo xtask test` runs it): the browser-backed code paths — JSON written by
//! `JSON.stringify`, numbers parsed and formatted by JS, patterns checked by `RegExp` —
//! and what the mounted Yew app renders and sends for a given prompt.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

use trickle_widget::{Bridge, Prompt, Value};

wasm_bindgen_test_configure!(run_in_browser);

/// Evaluates JS with `root` and `host` in scope.
fn js(body: &str, root: &JsValue, host: &JsValue) -> JsValue {
    Function::new_with_args("root, host", body)
        .call2(&JsValue::NULL, root, host)
        .expect(body)
}

/// Lets Yew's scheduler and pending promises run.
async fn settle() {
    let wait = Promise::new(&mut |resolve, _| {
        let window = web_sys::window().unwrap();
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 30)
            .unwrap();
    });
    JsFuture::from(wait).await.unwrap();
}

/// A loader stand-in that records what the renderer sends and emits; answers and skips
/// get `{"next": …}` with `next` as the following prompt (or null).
fn host(prompt: &str, locale: &str, next: &str) -> JsValue {
    let make = format!(
        "return {{ prompt: {prompt}, settings: {{}}, locale: {locale:?}, sent: [], events: [],
           send(kind, body) {{ this.sent.push([kind, JSON.parse(body)]);
             return Promise.resolve(kind === 'impressions' ? '' : JSON.stringify({{ next: {next} }})); }},
           emit(name, detail) {{ this.events.push([name, JSON.parse(detail)]); }},
           close() {{ this.closed = true; }} }};"
    );
    Function::new_no_args(&make).call0(&JsValue::NULL).unwrap()
}

fn prompt(question: &str, index: u32, of: u32) -> String {
    format!(
        r#"{{ "question_set": "profile", "version": 3, "stage": 1,
             "position": {{ "index": {index}, "of": {of} }}, "locale": "en",
             "question": {question} }}"#
    )
}

/// Mounts the renderer into a fresh element; returns it.
async fn mounted(host: &JsValue) -> web_sys::Element {
    let root = js(
        "if (document.activeElement) document.activeElement.blur();
         const d = document.createElement('div'); document.body.appendChild(d); return d;",
        &JsValue::NULL,
        &JsValue::NULL,
    );
    let root: web_sys::Element = root.unchecked_into();
    trickle_widget::mount(root.clone(), host.clone()).unwrap();
    settle().await;
    root
}

fn text(root: &web_sys::Element) -> String {
    root.text_content().unwrap_or_default()
}

#[test]
fn values_are_written_by_json_stringify() {
    let mut body = Value::object([("question_set", "profile".into()), ("version", 3.0.into())]);
    body.set(
        "value",
        Value::Array(vec![2.5.into(), "é\"".into(), Value::Null]),
    );
    assert_eq!(
        body.to_json(),
        r#"{"question_set":"profile","version":3,"value":[2.5,"é\"",null]}"#
    );
    let parsed = js_sys::JSON::parse(&body.to_json()).unwrap();
    assert_eq!(Value::from_js(&parsed), body);
}

#[test]
fn a_prompt_is_read_from_the_parsed_json() {
    let json = prompt(
        r#"{ "key": "age", "type": "number", "title": "Age?", "min": 18, "max": 120, "prefill": 42 }"#,
        2,
        3,
    );
    let parsed = js_sys::JSON::parse(&json).unwrap();
    let prompt = Prompt::from_js(&parsed).unwrap();
    assert_eq!(
        (prompt.version, prompt.position.index, prompt.position.of),
        (3, 2, 3)
    );
    assert_eq!(prompt.question.kind, "number");
    assert_eq!(prompt.question.max_number(), Some(120.0));
    assert_eq!(prompt.question.prefill, Some(Value::Number(42.0)));
    assert!(Prompt::from_js(&JsValue::from_str("nope")).is_none());
}

#[test]
fn patterns_must_match_the_whole_answer() {
    assert!(Bridge::matches("[A-Z]{2}-\\d+", "AB-12"));
    assert!(!Bridge::matches("[A-Z]{2}-\\d+", "xAB-12"));
    assert!(
        !Bridge::matches("a|b", "ab"),
        "alternatives are anchored too"
    );
}

#[test]
async fn a_choice_question_renders_as_a_labelled_radio_group_with_progress() {
    let question = r#"{ "key": "role", "type": "single_choice", "title": "Your role?",
        "options": [{ "value": "dev", "label": "Developer" }, { "value": "pm", "label": "Product" }] }"#;
    let host = host(&prompt(question, 2, 3), "en", "null");
    let root = mounted(&host).await;
    let shown = text(&root);
    for expected in [
        "Your role?",
        "2 of 3",
        "Developer",
        "Product",
        "Submit",
        "Skip",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    let radios = js(
        "return [...root.querySelectorAll('[role=radiogroup] input[type=radio]')].length",
        &root,
        &host,
    );
    assert_eq!(radios.as_f64(), Some(2.0));
    let dialog = js(
        "return root.querySelector('[role=dialog]').getAttribute('aria-label')",
        &root,
        &host,
    );
    assert_eq!(dialog.as_string().as_deref(), Some("Quick question"));
    let impression = js("return JSON.stringify(host.sent)", &root, &host);
    assert_eq!(
        impression.as_string().unwrap(),
        r#"[["impressions",{"question_set":"profile","version":3,"key":"role"}]]"#
    );
}

/// An Arabic widget whose set has no Arabic title: the English title, description and
/// one option label keep their own language and direction, so "?" stays at the end.
#[test]
async fn texts_that_fell_back_keep_their_own_language_and_direction() {
    let question = r#"{ "key": "role", "type": "single_choice",
        "title": "What best describes your role?", "description": "Pick one.",
        "options": [{ "value": "dev", "label": "مطور" }, { "value": "pm", "label": "Product" }],
        "fallback_locales": { "title": "en", "description": "en", "options.1": "en" } }"#;
    let host = host(&prompt(question, 1, 1), "ar", "null");
    let root = mounted(&host).await;
    let marks = js(
        "const at = (s) => { const e = root.querySelector(s);
           return [e.getAttribute('lang'), e.getAttribute('dir')]; };
         return JSON.stringify({
           card: at('[lang][dir]'), title: at('legend.title'), description: at('.description'),
           arabic: at('label[for=tr-opt-0] span'), english: at('label[for=tr-opt-1] span'),
           title_dir: getComputedStyle(root.querySelector('legend.title')).direction });",
        &root,
        &host,
    );
    assert_eq!(
        marks.as_string().unwrap(),
        r#"{"card":["ar","rtl"],"title":["en","ltr"],"description":["en","ltr"],"arabic":[null,null],"english":["en","ltr"],"title_dir":"ltr"}"#
    );
}

#[test]
async fn an_empty_submit_is_refused_in_the_users_language_and_sends_nothing() {
    let question = r#"{ "key": "city", "type": "text", "title": "Stadt?", "required": true }"#;
    let host = host(&prompt(question, 1, 1), "de", "null");
    let root = mounted(&host).await;
    js("root.querySelector('button.primary').click()", &root, &host);
    settle().await;
    assert!(
        text(&root).contains("Bitte antworten oder überspringen."),
        "{}",
        text(&root)
    );
    let invalid = js(
        "return root.querySelector('#tr-input').getAttribute('aria-invalid')",
        &root,
        &host,
    );
    assert_eq!(invalid.as_string().as_deref(), Some("true"));
    let sent = js("return host.sent.length", &root, &host);
    assert_eq!(sent.as_f64(), Some(1.0), "only the impression");
}

#[test]
async fn numbers_are_parsed_and_bounds_formatted_by_the_browser() {
    let question =
        r#"{ "key": "size", "type": "number", "title": "Team size?", "min": 0.5, "max": 10 }"#;
    let host = host(&prompt(question, 1, 1), "en", "null");
    let root = mounted(&host).await;
    let typed = |value: &str| {
        js(
            &format!(
                "const i = root.querySelector('#tr-input'); i.value = {value:?};
                 i.dispatchEvent(new InputEvent('input', {{ bubbles: true }}));
                 root.querySelector('button.primary').click();"
            ),
            &root,
            &host,
        );
    };
    typed("11");
    settle().await;
    assert!(
        text(&root).contains("Must be at most 10."),
        "{}",
        text(&root)
    );
    typed("0,25");
    settle().await;
    assert!(
        text(&root).contains("Must be at least 0.5."),
        "{}",
        text(&root)
    );
    typed("2,5");
    settle().await;
    let answer = js("return JSON.stringify(host.sent[1])", &root, &host);
    assert_eq!(
        answer.as_string().unwrap(),
        r#"["answers",{"question_set":"profile","version":3,"key":"size","value":2.5}]"#
    );
    let events = js(
        "return JSON.stringify(host.events.map(e => e[0]))",
        &root,
        &host,
    );
    assert_eq!(events.as_string().unwrap(), r#"["shown","answered"]"#);
}

#[test]
async fn a_prefill_asks_is_this_right_and_right_to_left_languages_flip() {
    let question = r#"{ "key": "city", "type": "text", "title": "مدينتك؟", "prefill": "Cairo" }"#;
    let host = host(&prompt(question, 1, 1), "ar", "null");
    let root = mounted(&host).await;
    let dir = js(
        "return root.firstElementChild.getAttribute('dir') + ' ' + root.querySelector('#tr-input').value",
        &root,
        &host,
    );
    assert_eq!(dir.as_string().as_deref(), Some("rtl Cairo"));
    let hint = js(
        "return root.querySelector('.hint').textContent",
        &root,
        &host,
    );
    assert!(
        hint.as_string()
            .is_some_and(|h| !h.is_empty() && h != "Is this right?")
    );
}

#[test]
async fn after_an_answer_the_next_question_shows_and_takes_the_focus() {
    let first = r#"{ "key": "ok", "type": "boolean", "title": "Happy?" }"#;
    let second = prompt(
        r#"{ "key": "why", "type": "long_text", "title": "Why?" }"#,
        2,
        2,
    );
    let host = host(&prompt(first, 1, 2), "en", &second);
    let root = mounted(&host).await;
    js(
        "root.querySelector('#tr-opt-0').click(); root.querySelector('button.primary').click();",
        &root,
        &host,
    );
    settle().await;
    settle().await;
    assert!(text(&root).contains("Why?"), "{}", text(&root));
    assert!(text(&root).contains("2 of 2"));
    let focused = js(
        "return document.activeElement === root.querySelector('textarea')",
        &root,
        &host,
    );
    assert_eq!(focused.as_bool(), Some(true));
    let sent = js(
        "return JSON.stringify(host.sent.map(s => s[0]))",
        &root,
        &host,
    );
    assert_eq!(
        sent.as_string().unwrap(),
        r#"["impressions","answers","impressions"]"#
    );
    let answered = Reflect::get(&host, &"events".into()).unwrap();
    let answered = js_sys::JSON::stringify(&answered).unwrap();
    assert!(String::from(answered).contains(
        r#"["answered",{"question_set":"profile","version":3,"key":"ok","value":true}]"#
    ));
}

#[test]
async fn focus_stays_on_the_page_when_the_user_moved_there_while_sending() {
    let first = r#"{ "key": "ok", "type": "boolean", "title": "Happy?" }"#;
    let second = prompt(r#"{ "key": "why", "type": "text", "title": "Why?" }"#, 2, 2);
    let host = host(&prompt(first, 1, 2), "en", &second);
    let root = mounted(&host).await;
    // The user answers, then clicks into a field of the page before the answer is sent.
    js(
        "root.querySelector('#tr-opt-0').click(); root.querySelector('button.primary').click();
         const mine = document.createElement('input'); mine.id = 'page-field';
         document.body.appendChild(mine); mine.focus();",
        &root,
        &host,
    );
    settle().await;
    settle().await;
    assert!(text(&root).contains("Why?"), "{}", text(&root));
    let focused = js("return document.activeElement.id", &root, &host);
    assert_eq!(focused.as_string().as_deref(), Some("page-field"));
    js(
        "document.getElementById('page-field').remove()",
        &root,
        &host,
    );
}

#[test]
async fn the_theme_is_set_through_the_cssom_and_mount_returns_an_unmount() {
    let question = r#"{ "key": "city", "type": "text", "title": "Your city?" }"#;
    let host = host(&prompt(question, 1, 1), "en", "null");
    js(
        "host.settings = { theme: { mode: 'dark', brand_color: '#0a7d32', font: 'Georgia, serif', radius_px: 3 } };",
        &JsValue::NULL,
        &host,
    );
    let root = js(
        "const d = document.createElement('div'); document.body.appendChild(d); return d;",
        &JsValue::NULL,
        &JsValue::NULL,
    );
    let root: web_sys::Element = root.unchecked_into();
    let unmount: Function = trickle_widget::mount(root.clone(), host.clone())
        .unwrap()
        .unchecked_into();
    settle().await;
    let look = js(
        "const r = root.querySelector('.root');
         return [r.style.getPropertyValue('--tr-brand'), r.style.getPropertyValue('--tr-radius'),
                 r.classList.contains('dark')].join('|');",
        &root.clone().into(),
        &host,
    );
    // Set through the CSSOM, which a strict `style-src` allows (the console's does).
    assert_eq!(look.as_string().unwrap(), "#0a7d32|3px|true");
    assert!(text(&root).contains("Your city?"));
    unmount.call0(&JsValue::NULL).unwrap();
    settle().await;
    assert!(
        !text(&root).contains("Your city?"),
        "unmounted: {}",
        text(&root)
    );
}
