//! The widget in a real browser: the real `trickle` binary on SQLite, host pages on
//! another origin, and Debian's headless Chromium driven over WebDriver (fantoccini).
//! All scenarios share one chromedriver and one server, in one test, to stay fast.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`.ci/run` installs them) and
//! a `trickle` built with the widget (`cargo xtask test` builds it first).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "browser/console.rs"]
mod console;
#[path = "browser/editor.rs"]
mod editor;
#[path = "browser/insights.rs"]
mod insights;
#[path = "browser/spa.rs"]
mod spa;

const QUESTIONS: &str = r#"
slug: browser-test
title: Browser test
default_locale: en
settings: { max_prompts_per_login: 3 }
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: "What best describes your role?"
        options: [student, developer, manager]
      - { key: city, type: text, title: "Which city do you live in?" }
"#;

/// The CSS of a page that tries hard to break embedded widgets. (Not `transform` on
/// `html`/`body`: that moves every `position: fixed` element of the page, by design.)
const HOSTILE_CSS: &str = "* { font: 31px/3 serif !important; color: red !important; \
    background: yellow !important; margin: 17px !important; padding: 0 !important; \
    border: 3px dashed blue !important; position: static !important; z-index: 0 !important; \
    width: auto !important; visibility: visible !important; \
    opacity: 0.95 !important; box-sizing: content-box !important; }";

/// Records errors, CSP violations and widget events for the test to read, and in
/// `__handled` the URL of each fetch whose response the page has finished reacting to: the
/// URL is pushed by a task queued when the response arrives, so it runs after every promise
/// callback (the loader's included) that the response set off.
const PROBE: &str = "window.__errors=[];window.__events=[];window.__handled=[];\
var pf=fetch;window.fetch=function(){var p=pf.apply(window,arguments),u=String(arguments[0]&&arguments[0].url||arguments[0]),\
done=function(){setTimeout(function(){__handled.push(u)})};p.then(done,done);return p};\
addEventListener('error',function(e){__errors.push('error: '+e.message)});\
addEventListener('unhandledrejection',function(e){__errors.push('rejection: '+e.reason)});\
document.addEventListener('securitypolicyviolation',function(e){__errors.push('csp: '+e.violatedDirective+' '+e.blockedURI)});\
var ce=console.error;console.error=function(){__errors.push('console: '+[].join.call(arguments,' '));ce.apply(console,arguments)};\
['shown','answered','skipped','dismissed'].forEach(function(n){document.addEventListener('trickle:'+n,function(){__events.push(n)})});\
(function poll(){var h=document.querySelector('trickle-widget');\
if(h&&h.shadowRoot&&h.shadowRoot.querySelector('.title')){window.__visibleAt=performance.now();return}\
requestAnimationFrame(poll)})();";

/// The page has received and handled its `GET /v1/widget/next` (see `PROBE`).
const NEXT_HANDLED: &str =
    "window.__handled.some(function(u){return u.indexOf('/v1/widget/next')>=0})";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn trickle(db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trickle"));
    command
        .env("TRICKLE_DATABASE_URL", db)
        .env_remove("TRICKLE_LISTEN")
        .env("RUST_LOG", "warn");
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("run trickle");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn wait_http(url: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} not up in 30 s");
}

/// The running service: the binary, a site whose allowed origin is the host pages'
/// server, the test question set, and a delay of 0.
struct Service {
    api: String,
    /// The database the server runs on (for `trickle admin create`).
    db: String,
    site_id: String,
    secret: String,
    key: String,
    identity: String,
    _server: Killed,
    _dir: tempfile::TempDir,
}

impl Service {
    async fn start(host_origin: &str) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("t.db").display());
        let keys: Value = serde_json::from_str(&run_ok(trickle(&db).args([
            "site",
            "create",
            "--name",
            "Shop",
            "--origin",
            host_origin,
        ])))
        .unwrap();
        let site_id = keys["site_id"].as_str().unwrap().to_owned();
        let questions = dir.path().join("browser-test.yaml");
        std::fs::write(&questions, QUESTIONS).unwrap();
        run_ok(
            trickle(&db)
                .args(["question-sets", "push"])
                .arg(&questions)
                .args(["--site", &site_id, "--publish"]),
        );
        let settings: Value = serde_json::from_str(&run_ok(trickle(&db).args([
            "site",
            "settings",
            "--site",
            &site_id,
            "--delay-ms",
            "0",
            "--hide-on",
            "/checkout/**",
        ])))
        .unwrap();
        assert_eq!(settings["widget_settings"]["delay_ms"], 0, "{settings}");
        assert_eq!(
            settings["widget_settings"]["hide_on"],
            json!(["/checkout/**"])
        );
        let port = free_port();
        let server = trickle(&db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let api = format!("http://127.0.0.1:{port}");
        wait_http(&format!("{api}/readyz")).await;
        Service {
            api,
            db,
            site_id,
            secret: keys["secret_key"].as_str().unwrap().to_owned(),
            key: keys["publishable_key"].as_str().unwrap().to_owned(),
            identity: keys["identity_secret"].as_str().unwrap().to_owned(),
            _server: Killed(server),
            _dir: dir,
        }
    }

    async fn login(&self, user: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/logins", self.api))
            .bearer_auth(&self.secret)
            .json(&json!({ "user_id": user }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// `GET /v1/users/{user}`: the whole profile.
    async fn profile(&self, user: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/v1/users/{user}", self.api))
            .bearer_auth(&self.secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn user_metadata(&self, user: &str) -> Value {
        self.profile(user).await["user_metadata"].clone()
    }

    /// `GET /v1/site`: the site's widget settings as stored.
    async fn site_settings(&self) -> Value {
        let site: Value = reqwest::Client::new()
            .get(format!("{}/v1/site", self.api))
            .bearer_auth(&self.secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        site["widget_settings"].clone()
    }

    /// `GET /v1/question-sets/{slug}`: the live version.
    async fn live_version(&self, slug: &str) -> i64 {
        let history: Value = reqwest::Client::new()
            .get(format!("{}/v1/question-sets/{slug}", self.api))
            .bearer_auth(&self.secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        history["live_version"].as_i64().unwrap()
    }
}

/// What the host pages need to know.
struct Pages {
    api: String,
    broken_api: String,
    key: String,
    identity: String,
}

/// `/plain`, `/hostile` (hostile CSS and a strict CSP), `/broken` (widget.js from an
/// origin whose API answers 500), `/headless` and `/nostorage` (reading `localStorage`
/// throws), each for `?user=…`.
async fn host_page(
    State(pages): State<Arc<Pages>>,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = q.get("user").cloned().unwrap_or_default();
    let hash = trickle::app::sites::user_hash(&pages.identity, &user);
    let kind = uri.path().trim_start_matches('/');
    let api = if kind == "broken" {
        &pages.broken_api
    } else {
        &pages.api
    };
    // The headless page queues a call before the loader has loaded, as the README shows.
    let (stub, headless) = if kind == "headless" {
        (
            "<script>window.trickle=window.trickle||function(){var a=arguments;return new Promise(function(r,j){(trickle.q=trickle.q||[]).push([a,r,j])})};\
             window.__first=trickle('next');</script>",
            " data-headless=true",
        )
    } else {
        ("", "")
    };
    // Storage blocked (a privacy setting, a sandbox): reading `localStorage` throws.
    let blocker = if kind == "nostorage" {
        "<script>Object.defineProperty(window,'localStorage',{configurable:true,\
         get:function(){throw new DOMException('The operation is insecure.','SecurityError')}});</script>"
    } else {
        ""
    };
    // An Arabic page: the test set has English texts only, which fall back.
    let locale = if kind == "arabic" { "ar" } else { "en" };
    let css = if kind == "hostile" {
        HOSTILE_CSS
    } else {
        "body { font-family: sans-serif; }"
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{kind}</title>\
         <script nonce=probe>{PROBE}</script>{blocker}<style>{css}</style></head><body>\
         <h1>A host page</h1><p>Some text.</p>\
         {stub}<script src=\"{api}/widget.js\" data-key=\"{key}\" data-user=\"{user}\" data-user-hash=\"{hash}\" data-locale={locale}{headless} async></script>\
         </body></html>",
        key = pages.key,
    );
    let mut response = Html(body).into_response();
    if kind == "hostile" {
        let csp = format!(
            "script-src {} 'wasm-unsafe-eval' 'nonce-probe'; connect-src {}",
            pages.api, pages.api
        );
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp.parse().unwrap());
    }
    response
}

/// An API origin that serves the real widget files but fails every API call with 500.
async fn broken_api(
    State(api): State<String>,
    uri: axum::http::Uri,
    method: axum::http::Method,
) -> Response {
    let cors = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
    ];
    if uri.path().starts_with("/widget") {
        let upstream = reqwest::get(format!("{api}{}", uri.path())).await.unwrap();
        let content_type = upstream.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let body = upstream.bytes().await.unwrap();
        return (cors, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    if method == axum::http::Method::OPTIONS {
        return (StatusCode::NO_CONTENT, cors).into_response();
    }
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        cors,
        "{\"error\":{\"code\":\"internal\",\"message\":\"boom\"}}",
    )
        .into_response()
}

async fn serve(router: Router, port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
}

/// Host pages and the broken API on their own ports, and the service.
async fn start() -> (Service, String) {
    let (host_port, broken_port) = (free_port(), free_port());
    let host = format!("http://127.0.0.1:{host_port}");
    let service = Service::start(&host).await;
    let pages = Arc::new(Pages {
        api: service.api.clone(),
        broken_api: format!("http://127.0.0.1:{broken_port}"),
        key: service.key.clone(),
        identity: service.identity.clone(),
    });
    let router = Router::new()
        .route("/plain", get(host_page))
        .route("/hostile", get(host_page))
        .route("/broken", get(host_page))
        .route("/headless", get(host_page))
        .route("/nostorage", get(host_page))
        .route("/arabic", get(host_page))
        .route("/checkout/{*rest}", get(spa::spa_page))
        .route("/account", get(spa::spa_page))
        .route("/example/{framework}", get(spa::example_page))
        .route("/examples/{*file}", get(spa::example_file))
        .route("/fake/{file}", get(spa::example_file))
        .with_state(pages);
    serve(router, host_port).await;
    serve(
        Router::new()
            .fallback(broken_api)
            .with_state(service.api.clone()),
        broken_port,
    )
    .await;
    (service, host)
}

/// One chromedriver and one headless Chromium session.
struct Browser {
    client: Client,
    _driver: Killed,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: apt-get install chromium chromium-driver (.ci/run does)"
            );
        }
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Killed(driver);
        wait_http(&format!("http://127.0.0.1:{port}/status")).await;
        let profile = tempfile::tempdir().unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display())],
            }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromedriver session");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Opens a host page (`plain`, `hostile`, `headless` or `broken`) for `user`.
    async fn open(&self, host: &str, page: &str, user: &str) {
        self.client
            .goto(&format!("{host}/{page}?user={user}"))
            .await
            .unwrap();
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Polls `condition` (a JS expression) until true and htmx idle, for at most 10 s.
    /// A condition that throws is not true yet: an element it reads may be between an
    /// htmx swap and the widget's remount. htmx inserts swapped content at once but
    /// binds its triggers only when it settles (20 ms later, longer under load), so an
    /// event sent to new content before then is lost: wait until nothing is marked as
    /// added, settling, swapping or in flight.
    async fn wait_for(&self, condition: &str) {
        const HTMX_BUSY: &str = ".htmx-added,.htmx-settling,.htmx-swapping,.htmx-request";
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let poll = format!(
                "try {{ return !!({condition}) && !document.querySelector('{HTMX_BUSY}') }} \
                 catch (e) {{ return false }}"
            );
            if self.js(&poll).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let errors = self.js("return window.__errors").await;
        panic!("timed out waiting for {condition}; page errors: {errors}");
    }

    /// Clicks the centre of an element of the widget's shadow root with the mouse.
    async fn click(&self, selector: &str) {
        let at = self
            .js(&format!(
                "var r=document.querySelector('trickle-widget').shadowRoot.querySelector('{selector}').getBoundingClientRect();\
                 return [r.left+r.width/2, r.top+r.height/2]"
            ))
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x,
                y,
            })
            .then(PointerAction::Down {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: fantoccini::actions::MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(mouse).await.unwrap();
    }

    async fn keys(&self, keys: &[char]) {
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys {
            actions = actions
                .then(KeyAction::Down { value: *key })
                .then(KeyAction::Up { value: *key });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    async fn errors(&self) -> Value {
        self.js("return window.__errors").await
    }
}

const SHADOW: &str =
    "document.querySelector('trickle-widget')&&document.querySelector('trickle-widget').shadowRoot";

fn shadow_text(contains: &str) -> String {
    format!("{SHADOW}&&{SHADOW}.textContent.indexOf({contains:?})>=0")
}

/// Counts a first login for `user`, opens `page` for them and waits for the widget's
/// stage-1 question.
async fn first_question(browser: &Browser, service: &Service, host: &str, page: &str, user: &str) {
    service.login(user).await;
    browser.open(host, page, user).await;
    browser
        .wait_for(&shadow_text("What best describes your role?"))
        .await;
}

#[tokio::test]
async fn the_widget_in_a_real_browser() {
    let (service, host) = start().await;
    let browser = Browser::start().await;
    first_login_answers_with_mouse_then_keyboard(&browser, &service, &host).await;
    the_keyboard_alone_reaches_and_answers_the_widget(&browser, &service, &host).await;
    hostile_css_and_strict_csp_still_give_a_usable_widget(&browser, &service, &host).await;
    escape_closes_without_recording_anything(&browser, &service, &host).await;
    nothing_due_never_fetches_the_renderer(&browser, &host).await;
    headless_sites_drive_their_own_ui_with_promises(&browser, &service, &host).await;
    a_server_error_keeps_the_widget_hidden(&browser, &service, &host).await;
    blocked_storage_still_gives_a_working_widget(&browser, &service, &host).await;
    logout_forgets_the_queued_answers(&browser, &service, &host).await;
    an_english_title_keeps_its_direction_in_an_arabic_widget(&browser, &service, &host).await;
    a_user_id_beyond_ascii_is_asked_and_answers(&browser, &service, &host).await;
    spa::in_app_navigation_shows_and_closes_the_prompt(&browser, &service, &host).await;
    spa::identify_after_load_shows_it_and_logout_closes_it(&browser, &service, &host).await;
    spa::a_patched_history_and_an_unseen_router_keep_working(&browser, &service, &host).await;
    spa::the_framework_examples_identify_and_log_out(&browser, &service, &host).await;
    console::the_settings_page_previews_the_real_widget(&browser, &service).await;
    editor::the_editor_lints_previews_simulates_publishes_and_rolls_back(&browser, &service).await;
    insights::results_segment_export_and_erasure(&browser, &service).await;
    browser.client.close().await.unwrap();
}

async fn first_login_answers_with_mouse_then_keyboard(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "plain", "u_first").await;
    // Bottom-right corner, 16 px from the edges; the page keeps its focus.
    let placed = browser
        .js("var r=document.querySelector('trickle-widget').getBoundingClientRect();\
             return [innerWidth-r.right, innerHeight-r.bottom, r.width, document.activeElement===document.body]")
        .await;
    assert_eq!(placed[0].as_f64().unwrap().round(), 16.0, "{placed}");
    assert_eq!(placed[1].as_f64().unwrap().round(), 16.0, "{placed}");
    assert!(placed[2].as_f64().unwrap() > 250.0, "{placed}");
    assert_eq!(placed[3], json!(true), "the widget must not steal focus");
    assert!(
        browser
            .js(&format!("return {SHADOW}.textContent"))
            .await
            .as_str()
            .unwrap()
            .contains("1 of 2")
    );

    // The mouse: pick "developer", then Submit.
    browser.click("input[value=developer]").await;
    browser.click("button.primary").await;
    browser
        .wait_for(&shadow_text("Which city do you live in?"))
        .await;
    browser
        .wait_for(&format!("{SHADOW}.textContent.indexOf('2 of 2')>=0"))
        .await;

    // The keyboard only from here: focus has followed to the text field; type, Enter.
    browser
        .wait_for(&format!(
            "{SHADOW}.activeElement&&{SHADOW}.activeElement.id==='tr-input'"
        ))
        .await;
    let mut typed: Vec<char> = "Berlin".chars().collect();
    typed.push(Key::Enter.into());
    browser.keys(&typed).await;
    browser.wait_for(&shadow_text("Thank you")).await;
    // The thank-you note closes by itself.
    browser
        .wait_for("!document.querySelector('trickle-widget')")
        .await;

    let metadata = service.user_metadata("u_first").await;
    assert_eq!(metadata["role"], "developer", "{metadata}");
    assert_eq!(metadata["city"], "Berlin", "{metadata}");
    assert_eq!(
        browser.js("return window.__events").await,
        json!(["shown", "answered", "shown", "answered"])
    );
    assert_eq!(browser.errors().await, json!([]));
}

/// What has focus: `page:TAG` in the host page, `widget:ID-or-TAG` inside the widget.
async fn focused(browser: &Browser) -> String {
    browser
        .js(&format!(
            "var a=document.activeElement, s={SHADOW}, w=s&&s.activeElement;\
             return w ? 'widget:'+(w.id||w.className||w.tagName.toLowerCase()) : 'page:'+a.tagName.toLowerCase()"
        ))
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// Presses Tab until `wanted` has focus (see `focused`); panics after 20 presses.
async fn tab_to(browser: &Browser, wanted: &str) {
    let mut path = Vec::new();
    for _ in 0..20 {
        let now = focused(browser).await;
        if now == wanted {
            return;
        }
        path.push(now);
        browser.keys(&[Key::Tab.into()]).await;
    }
    panic!("Tab never reached {wanted}; focus went {path:?}");
}

async fn the_keyboard_alone_reaches_and_answers_the_widget(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "plain", "u_keys").await;
    assert_eq!(focused(browser).await, "page:body", "no focus stealing");
    // From the page into the widget: Close comes first, then the choices.
    tab_to(browser, "widget:close").await;
    tab_to(browser, "widget:tr-opt-0").await;
    // Arrow keys move through a radio group and pick; then Tab to Submit and Enter.
    browser.keys(&[Key::Down.into()]).await;
    assert_eq!(focused(browser).await, "widget:tr-opt-1");
    tab_to(browser, "widget:primary").await;
    browser.keys(&[Key::Enter.into()]).await;
    browser
        .wait_for(&shadow_text("Which city do you live in?"))
        .await;
    // Focus follows to the next question, so typing goes on at once.
    browser
        .wait_for(&format!(
            "{SHADOW}.activeElement&&{SHADOW}.activeElement.id==='tr-input'"
        ))
        .await;
    let mut typed: Vec<char> = "Hamburg".chars().collect();
    typed.push(Key::Enter.into());
    browser.keys(&typed).await;
    browser.wait_for(&shadow_text("Thank you")).await;
    let metadata = service.user_metadata("u_keys").await;
    assert_eq!(metadata["role"], "developer", "{metadata}");
    assert_eq!(metadata["city"], "Hamburg", "{metadata}");
    assert_eq!(browser.errors().await, json!([]));
}

async fn hostile_css_and_strict_csp_still_give_a_usable_widget(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "hostile", "u_hostile").await;
    let look = browser
        .js(&format!(
            "var r=document.querySelector('trickle-widget').getBoundingClientRect();\
             var s=getComputedStyle({SHADOW}.querySelector('.title'));\
             return [innerWidth-r.right, innerHeight-r.bottom, s.color, s.fontSize]"
        ))
        .await;
    assert_eq!(look[0].as_f64().unwrap().round(), 16.0, "{look}");
    assert_eq!(look[1].as_f64().unwrap().round(), 16.0, "{look}");
    assert_ne!(
        look[2],
        json!("rgb(255, 0, 0)"),
        "page colours leak in: {look}"
    );
    assert_eq!(look[3], json!("16px"), "page fonts leak in: {look}");
    browser.click("input[value=manager]").await;
    browser.click("button.primary").await;
    browser
        .wait_for(&shadow_text("Which city do you live in?"))
        .await;
    assert_eq!(service.user_metadata("u_hostile").await["role"], "manager");
    // "Don't ask again" dismisses the question for good, and the widget goes away.
    browser.click("button.link").await;
    browser
        .wait_for("!document.querySelector('trickle-widget')")
        .await;
    let events = browser.js("return window.__events").await;
    assert_eq!(events, json!(["shown", "answered", "shown", "dismissed"]));
    assert_eq!(
        browser.errors().await,
        json!([]),
        "errors or CSP violations on the page"
    );
}

async fn escape_closes_without_recording_anything(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "plain", "u_escape").await;
    // Tab from the page into the widget, then Esc.
    tab_to(browser, "widget:close").await;
    browser.keys(&[Key::Escape.into()]).await;
    browser
        .wait_for("!document.querySelector('trickle-widget')")
        .await;
    assert_eq!(
        browser.js("return window.__events").await,
        json!(["shown", "dismissed"])
    );
    assert_eq!(service.user_metadata("u_escape").await, json!({}));
    assert_eq!(browser.errors().await, json!([]));
}

/// Header values are ASCII: the loader sends such an id percent-encoded, and the
/// answer lands under the id itself.
async fn a_user_id_beyond_ascii_is_asked_and_answers(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    let user = "jürgen.müller@bücher.example";
    first_question(browser, service, host, "plain", user).await;
    browser.click("input[value=developer]").await;
    browser.click("button.primary").await;
    browser
        .wait_for(&shadow_text("Which city do you live in?"))
        .await;
    assert_eq!(service.user_metadata(user).await["role"], "developer");
    assert_eq!(browser.errors().await, json!([]));
}

async fn headless_sites_drive_their_own_ui_with_promises(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    service.login("u_headless").await;
    browser.open(host, "headless", "u_headless").await;
    // `trickle('next')` was queued by the stub before the loader ran; it resolves anyway.
    let script = "var done = arguments[arguments.length - 1], log = [];
        window.__first.then(function (p) {
          log.push(p.question.key);
          return trickle('shown', p).then(function (r) { log.push(r); return trickle('answer', p, 'manager'); });
        }).then(function (next) {
          log.push(next.question.key, next.position);
          return trickle('skip', next, false);
        }).then(function (after) { log.push(after); done(log); }, function (e) { done(['failed', String(e && e.message || e)]); });";
    let log = browser.client.execute_async(script, vec![]).await.unwrap();
    assert_eq!(
        log,
        json!(["role", null, "city", { "index": 2, "of": 2 }, null]),
        "{log}"
    );
    let profile = service.profile("u_headless").await;
    assert_eq!(profile["user_metadata"], json!({ "role": "manager" }));
    assert!(
        profile["last_prompted_at"].is_string(),
        "trickle('shown') records the impression: {profile}"
    );
    let renderer = browser
        .js("return performance.getEntriesByType('resource').some(function(e){return e.name.indexOf('/widget/renderer-')>=0})")
        .await;
    assert_eq!(
        renderer,
        json!(false),
        "headless mode never loads the renderer"
    );
    assert_eq!(
        browser
            .js("return !!document.querySelector('trickle-widget')")
            .await,
        json!(false)
    );
    assert_eq!(browser.errors().await, json!([]));
}

async fn nothing_due_never_fetches_the_renderer(browser: &Browser, host: &str) {
    // Never logged in: nothing is due.
    browser.open(host, "plain", "u_nothing_due").await;
    browser
        .wait_for("performance.getEntriesByType('resource').some(function(e){return e.name.indexOf('/v1/widget/next')>=0})")
        .await;
    // The loader has finished reacting to the answer (promise callbacks only, for this
    // answer), so whatever it did is there to be seen.
    browser.wait_for(NEXT_HANDLED).await;
    let fetched = browser
        .js("return performance.getEntriesByType('resource').map(function(e){return e.name})")
        .await;
    let fetched: Vec<&str> = fetched
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        fetched.iter().filter(|u| u.contains("/v1/widget/")).count(),
        1,
        "{fetched:?}"
    );
    assert!(
        !fetched.iter().any(|u| u.contains("/widget/renderer-")),
        "{fetched:?}"
    );
    assert_eq!(
        browser
            .js("return !!document.querySelector('trickle-widget')")
            .await,
        json!(false)
    );
    assert_eq!(browser.errors().await, json!([]));
}

async fn a_server_error_keeps_the_widget_hidden(browser: &Browser, service: &Service, host: &str) {
    service.login("u_broken").await;
    browser.open(host, "broken", "u_broken").await;
    browser
        .wait_for("performance.getEntriesByType('resource').some(function(e){return e.name.indexOf('/v1/widget/next')>=0})")
        .await;
    // The loader has finished reacting to the answer (promise callbacks only, for this
    // answer), so whatever it did is there to be seen.
    browser.wait_for(NEXT_HANDLED).await;
    assert_eq!(
        browser
            .js("return !!document.querySelector('trickle-widget')")
            .await,
        json!(false)
    );
    assert_eq!(
        browser.js("return typeof window.trickle").await,
        json!("function")
    );
    assert_eq!(browser.errors().await, json!([]));
}

async fn blocked_storage_still_gives_a_working_widget(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "nostorage", "u_nostorage").await;
    assert_eq!(
        browser
            .js("try { return typeof localStorage } catch (e) { return e.name }")
            .await,
        json!("SecurityError"),
        "the page blocks storage"
    );
    browser.click("input[value=student]").await;
    browser.click("button.primary").await;
    browser
        .wait_for(&shadow_text("Which city do you live in?"))
        .await;
    assert_eq!(
        service.user_metadata("u_nostorage").await["role"],
        "student"
    );
    assert_eq!(browser.errors().await, json!([]));
}

/// The stored outbox entries of the page's origin (`trickle:outbox:…`).
const OUTBOX: &str = "return Object.keys(localStorage)\
    .filter(function (k) { return k.indexOf('trickle:outbox:') === 0 })\
    .map(function (k) { return localStorage.getItem(k) })";

async fn logout_forgets_the_queued_answers(browser: &Browser, service: &Service, host: &str) {
    service.login("u_logout").await;
    // Every API call of this origin fails, so the answer ends in the offline outbox.
    browser.open(host, "broken", "u_logout").await;
    browser.wait_for(NEXT_HANDLED).await;
    let answer = "var done = arguments[arguments.length - 1];
        trickle('answer', { question_set: 'browser-test', version: 1, key: 'role' }, 'developer')
          .then(function () { done('sent') }, function (e) { done(e) });";
    let failed = browser.client.execute_async(answer, vec![]).await.unwrap();
    assert_eq!(failed, json!({ "queued": true }));
    let queued = browser.js(OUTBOX).await;
    assert!(
        queued[0].as_str().is_some_and(|q| q.contains("developer")),
        "the answer waits in localStorage: {queued}"
    );
    browser
        .client
        .execute_async(
            "var done = arguments[arguments.length - 1]; trickle('logout').then(done, done);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        browser.js(OUTBOX).await,
        json!([]),
        "logout leaves no answer behind"
    );
    assert_eq!(browser.errors().await, json!([]));
}

/// The set has no Arabic: its English texts fall back, and keep `lang="en" dir="ltr"`
/// inside the right-to-left widget, so "?" stays at the end of the title.
async fn an_english_title_keeps_its_direction_in_an_arabic_widget(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    first_question(browser, service, host, "arabic", "u_arabic").await;
    let marks = browser
        .js(&format!(
            "var s={SHADOW}, t=s.querySelector('.title'), o=s.querySelector('label.option span');\
             return [s.querySelector('[dir]').getAttribute('dir'), t.getAttribute('lang'),\
             t.getAttribute('dir'), getComputedStyle(t).direction, o.getAttribute('lang')]"
        ))
        .await;
    assert_eq!(marks, json!(["rtl", "en", "ltr", "ltr", "en"]), "{marks}");
    assert_eq!(browser.errors().await, json!([]));
}

/// `cargo xtask bench-widget`: time from navigation to the first question visible,
/// with the site's delay set to 0 (so: after the configured delay). Prints figures.
#[tokio::test]
#[ignore = "a benchmark: run by cargo xtask bench-widget"]
async fn bench_time_to_first_question() {
    let (service, host) = start().await;
    let browser = Browser::start().await;
    let mut times = Vec::new();
    for run in 0..11 {
        let user = format!("u_bench_{run}");
        service.login(&user).await;
        browser.open(&host, "plain", &user).await;
        browser.wait_for("window.__visibleAt").await;
        let at = browser
            .js("return window.__visibleAt")
            .await
            .as_f64()
            .unwrap();
        times.push(at);
    }
    let cold = times.remove(0);
    times.sort_by(f64::total_cmp);
    let median = (times[4] + times[5]) / 2.0;
    println!("\n| time to first question (headless Chromium, localhost, delay 0) | ms |");
    println!("| --- | ---: |");
    println!("| first visit (cold cache) | {cold:.0} |");
    println!("| median of 10 (renderer cached) | {median:.0} |");
    println!("| slowest of 10 | {:.0} |", times[9]);
    browser.client.close().await.unwrap();
}
