//! The console's insights as issue 12 asks for them, after the editor scenario (the admin
//! is signed in): a question set's results filtered by a click on a choice bar; the
//! "signed up, never came back" segment built from its ready-made example, counted live
//! as it changes, saved and exported as CSV; one of its users' profiles opened and the
//! user erased through the confirmation. Every figure is checked against the API, over
//! data this scenario makes on top of what the earlier scenarios left on the site.

use super::*;
use chrono::{Duration as Days, Utc};
use fantoccini::Locator;
use fantoccini::wd::WebDriverCompatibleCommand;
use std::collections::BTreeSet;

/// Users whose only login was ten days ago: "never came back".
const GONE: [&str; 3] = ["u_gone_1", "u_gone_2", "u_gone_3"];
/// Users who logged in ten days ago and again now.
const BACK: [&str; 2] = ["u_back_1", "u_back_2"];
/// One login three days ago: new, not gone yet.
const RECENT: &str = "u_recent";
/// Users who answer `role` = `student` over the widget API.
const STUDENTS: [&str; 3] = ["u_gone_1", "u_gone_2", "u_back_1"];

/// The console's ready-made "signed up, never came back" condition.
fn never_came_back(days: i64) -> Value {
    json!({"all": [
        {"key": "login_count", "equals": 1},
        {"key": "days_since_first_login", "gte": days}
    ]})
}

/// Records `window.__errors` (errors, rejected promises, CSP violations, console errors)
/// in every document the browser loads from now on, before the page's own scripts run.
const CONSOLE_PROBE: &str = "window.__errors=[];\
addEventListener('error',function(e){__errors.push('error: '+e.message)});\
addEventListener('unhandledrejection',function(e){__errors.push('rejection: '+e.reason)});\
document.addEventListener('securitypolicyviolation',function(e){__errors.push('csp: '+e.violatedDirective+' '+e.blockedURI)});\
var ce=console.error;console.error=function(){__errors.push('console: '+[].join.call(arguments,' '));ce.apply(console,arguments)};";

/// A Chrome DevTools command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Sends a DevTools command; returns its result.
async fn devtools(browser: &Browser, cmd: &'static str, params: Value) -> Value {
    browser
        .client
        .issue_cmd(DevTools { cmd, params })
        .await
        .unwrap()
}

/// The site's own API, as its back end calls it and as the widget answers.
struct Api<'a> {
    service: &'a Service,
    http: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(service: &'a Service) -> Self {
        Api {
            service,
            http: reqwest::Client::new(),
        }
    }

    /// `POST /v1/logins` for `user`, `days_ago` days ago.
    async fn login_days_ago(&self, user: &str, days_ago: i64) {
        let at = Utc::now() - Days::days(days_ago);
        let response = self
            .http
            .post(format!("{}/v1/logins", self.service.api))
            .bearer_auth(&self.service.secret)
            .json(&json!({ "user_id": user, "occurred_at": at.to_rfc3339() }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// `POST /v1/widget/answers` as `user`'s widget: `role` of the live browser-test set.
    async fn answer_role(&self, user: &str, role: &str) {
        let hash = trickle::app::sites::user_hash(&self.service.identity, user);
        let version = self.service.live_version("browser-test").await;
        let response = self
            .http
            .post(format!("{}/v1/widget/answers", self.service.api))
            .header("X-Trickle-Key", &self.service.key)
            .header("X-Trickle-User", user)
            .header("X-Trickle-User-Hash", hash)
            .json(&json!({
                "question_set": "browser-test", "version": version, "key": "role", "value": role
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// A bearer `GET` of `path` with `query`: its status and JSON body.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.service.api))
            .bearer_auth(&self.service.secret)
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET /v1/question-sets/browser-test/results`, filtered by `answer` when given.
    async fn results(&self, answer: Option<&str>) -> Value {
        let query: Vec<(&str, &str)> = answer.map(|a| ("answer", a)).into_iter().collect();
        let (status, body) = self
            .get("/v1/question-sets/browser-test/results", &query)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The ids of every user `GET /v1/users?where=` lists (one page of 1000 is all).
    async fn users_where(&self, condition: &Value) -> BTreeSet<String> {
        let (status, body) = self
            .get(
                "/v1/users",
                &[("where", &condition.to_string()), ("limit", "1000")],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["next_cursor"].is_null(), "one page: {body}");
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The count a choice bar of the results shows for `label`, as the API gives it.
fn bar_count(results: &Value, key: &str, label: &str) -> i64 {
    let question = results["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == key)
        .unwrap_or_else(|| panic!("no card for {key}: {results}"));
    question["bars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["label"] == label)
        .unwrap_or_else(|| panic!("no bar {label}: {question}"))["count"]
        .as_i64()
        .unwrap()
}

/// Logins and answers for this scenario; checks that the API sees them as meant.
async fn make_the_data(api: &Api<'_>) {
    for user in GONE {
        api.login_days_ago(user, 10).await;
    }
    for user in BACK {
        api.login_days_ago(user, 10).await;
        api.login_days_ago(user, 0).await;
    }
    api.login_days_ago(RECENT, 3).await;
    for user in STUDENTS {
        api.answer_role(user, "student").await;
    }
    // Earlier scenarios made users too, but each with one login just now: the gone
    // users are exactly those made here.
    let gone: BTreeSet<String> = GONE.iter().map(|u| u.to_string()).collect();
    assert_eq!(api.users_where(&never_came_back(7)).await, gone);
}

/// Opens `url` in the console, signing in again if the session has gone.
async fn open_signed_in(browser: &Browser, service: &Service, url: &str) {
    browser.client.goto(url).await.unwrap();
    if browser
        .js("return !!document.getElementById('password')")
        .await
        == json!(true)
    {
        console::sign_in(browser, service).await;
        browser.client.goto(url).await.unwrap();
    }
}

/// The text of the first element matching `selector`.
async fn text(browser: &Browser, selector: &str) -> String {
    let script = format!("return document.querySelector({selector:?}).textContent.trim()");
    browser.js(&script).await.as_str().unwrap().to_owned()
}

/// The results page: a click on the "student" bar filters the page to those users.
async fn a_bar_filters_the_results(browser: &Browser, service: &Service, api: &Api<'_>) {
    let all = api.results(None).await;
    let students = api.results(Some("role=student")).await;
    let known: BTreeSet<String> = api
        .users_where(&json!({"key": "role", "equals": "student"}))
        .await;
    assert!(
        STUDENTS.iter().all(|s| known.contains(*s)),
        "the answers landed: {known:?}"
    );
    assert_eq!(students["users"], json!(known.len()), "{students}");
    assert_ne!(students["users"], all["users"], "the filter must narrow");

    let url = format!(
        "{}/console/sites/{}/question-sets/browser-test/results",
        service.api, service.site_id
    );
    open_signed_in(browser, service, &url).await;
    browser
        .wait_for("document.getElementById('filtered-users')")
        .await;
    assert_eq!(
        text(browser, "#filtered-users").await,
        all["users"].to_string()
    );
    let bar = "#q-role a.bar-link[href$=\"answer=role%3Dstudent\"]";
    let shown = text(browser, &format!("{bar} .chart-value")).await;
    let expected = bar_count(&all, "role", "student");
    assert!(
        shown.starts_with(&format!("{expected} (")),
        "the bar shows {shown:?}, the API {expected}"
    );

    browser
        .client
        .find(Locator::Css(bar))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("location.search.indexOf('answer=role%3Dstudent')>=0&&document.getElementById('answer')&&document.getElementById('answer').value==='role=student'")
        .await;
    assert_eq!(
        text(browser, "#filtered-users").await,
        students["users"].to_string()
    );
    // The card counts the filtered users only: every one of them chose "student".
    let student_bar = text(browser, &format!("{bar} .chart-value")).await;
    assert!(
        student_bar.starts_with(&format!("{} (100", known.len())),
        "{student_bar}"
    );
    assert_eq!(browser.errors().await, json!([]));
}

/// The builder's JSON beside the form, parsed.
async fn shown_json(browser: &Browser) -> Value {
    let typed = browser
        .js("return document.getElementById('where-json').value")
        .await;
    serde_json::from_str(typed.as_str().unwrap()).unwrap()
}

/// The builder's live count.
async fn shown_count(browser: &Browser) -> usize {
    text(browser, "#seg-count").await.parse().unwrap()
}

/// Types `days` as the value of the builder's `days_since_first_login` row (a change
/// posts the form) and waits for the JSON to follow.
async fn set_days(browser: &Browser, days: i64) {
    browser
        .js(&format!(
            "var i=document.getElementById('c-1-value');i.value='{days}';\
             i.dispatchEvent(new Event('change',{{bubbles:true}}))"
        ))
        .await;
    browser
        .wait_for(&format!(
            "JSON.parse(document.getElementById('where-json').value).all[1].gte==={days}"
        ))
        .await;
}

/// The segment from the ready-made example: its JSON and its live count as it changes,
/// saved, then its CSV export. Returns the exported user ids.
async fn the_gone_segment_is_built_saved_and_exported(
    browser: &Browser,
    service: &Service,
    api: &Api<'_>,
) -> BTreeSet<String> {
    let segments = format!("{}/console/sites/{}/segments", service.api, service.site_id);
    open_signed_in(browser, service, &segments).await;
    browser
        .js("document.querySelector('a[href$=\"/segments/new?example=never-came-back\"]').click()")
        .await;
    browser
        .wait_for("document.getElementById('seg-count')")
        .await;
    assert_eq!(shown_json(browser).await, never_came_back(7));
    assert_eq!(
        browser
            .js("return document.getElementById('c-1-key').value")
            .await,
        json!("days_since_first_login")
    );
    let gone = api.users_where(&never_came_back(7)).await;
    assert_eq!(shown_count(browser).await, gone.len());

    // Two days instead of seven: the user of three days ago joins, live.
    set_days(browser, 2).await;
    let wider = api.users_where(&never_came_back(2)).await;
    assert!(wider.contains(RECENT), "{wider:?}");
    assert_eq!(shown_count(browser).await, wider.len());
    set_days(browser, 7).await;
    assert_eq!(shown_json(browser).await, never_came_back(7));
    assert_eq!(shown_count(browser).await, gone.len());

    browser
        .js("document.querySelector('#segment-form button[value=save]').click()")
        .await;
    browser
        .wait_for("location.pathname.endsWith('/segments/never-came-back')&&document.querySelector('.notice')")
        .await;
    assert_eq!(text(browser, ".notice").await, "Saved.");
    let (status, saved) = api.get("/v1/segments/never-came-back", &[]).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["where"], never_came_back(7));
    assert_eq!(saved["description"], "Signed up, never came back");

    // The export link, fetched by the page itself (its session cookie).
    let fetched = browser
        .client
        .execute_async(
            "var done=arguments[arguments.length-1];\
             var a=document.querySelector('a[href$=\"/segments/never-came-back/users.csv\"]');\
             fetch(a.href).then(function(r){return r.text().then(function(t){\
               done([r.status,r.headers.get('content-type'),t])})},function(e){done([0,'',String(e)])})",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fetched[0], 200, "{fetched}");
    assert_eq!(fetched[1], "text/csv; charset=utf-8");
    let mut csv = csv::Reader::from_reader(fetched[2].as_str().unwrap().as_bytes());
    assert_eq!(&csv.headers().unwrap()[0], "user_id");
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let exported: BTreeSet<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(exported.len(), rows.len(), "one row a user");
    assert_eq!(exported, gone, "the CSV holds exactly the segment's users");
    let logins = csv
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "login_count");
    assert!(rows.iter().all(|r| &r[logins.unwrap()] == "1"), "{rows:?}");
    assert_eq!(browser.errors().await, json!([]));
    exported
}

/// A gone user's profile, erased through the confirmation page: the API no longer
/// knows them, and the segment and the results count them no more.
async fn a_profile_is_opened_and_erased(
    browser: &Browser,
    service: &Service,
    api: &Api<'_>,
    gone: &BTreeSet<String>,
) {
    let user = STUDENTS[0];
    assert!(gone.contains(user));
    let students_before = api.results(Some("role=student")).await["users"].clone();
    let profile = format!(
        "{}/console/sites/{}/users/{user}",
        service.api, service.site_id
    );
    open_signed_in(browser, service, &profile).await;
    browser.wait_for("document.querySelector('.user-id')").await;
    assert_eq!(text(browser, ".user-id").await, user);
    let values = text(browser, "table.values").await;
    assert!(
        values.contains("role") && values.contains("\"student\""),
        "{values}"
    );

    browser
        .js("document.querySelector('a[href$=\"/erase\"]').click()")
        .await;
    browser
        .wait_for("document.querySelector('form[action$=\"/erase\"] button.danger')")
        .await;
    assert!(text(browser, "h1").await.contains(user));
    let (status, _) = api.get(&format!("/v1/users/{user}"), &[]).await;
    assert_eq!(status, 200, "the confirmation page erases nothing");
    browser
        .js("document.querySelector('form[action$=\"/erase\"] button.danger').click()")
        .await;
    browser
        .wait_for("document.querySelector('.notice')&&document.querySelector('.notice').textContent.indexOf('The user was erased')>=0")
        .await;

    let (status, body) = api.get(&format!("/v1/users/{user}"), &[]).await;
    assert_eq!(status, 404, "{body}");
    let (_, count) = api.get("/v1/segments/never-came-back/count", &[]).await;
    assert_eq!(count["users"], json!(gone.len() - 1), "{count}");
    let students_after = api.results(Some("role=student")).await["users"].clone();
    assert_eq!(
        students_after.as_i64().unwrap(),
        students_before.as_i64().unwrap() - 1
    );
    assert_eq!(browser.errors().await, json!([]));
}

/// Issue 12's walk through the insights in a real browser.
pub async fn results_segment_export_and_erasure(browser: &Browser, service: &Service) {
    let api = Api::new(service);
    make_the_data(&api).await;
    let probe = devtools(
        browser,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": CONSOLE_PROBE }),
    )
    .await;
    a_bar_filters_the_results(browser, service, &api).await;
    let gone = the_gone_segment_is_built_saved_and_exported(browser, service, &api).await;
    a_profile_is_opened_and_erased(browser, service, &api, &gone).await;
    devtools(
        browser,
        "Page.removeScriptToEvaluateOnNewDocument",
        json!({ "identifier": probe["identifier"] }),
    )
    .await;
}
