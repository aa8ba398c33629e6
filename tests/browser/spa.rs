//! The widget on single-page apps (issue 15): host pages whose URL changes by
//! `pushState` without a page load, and the framework examples of `examples/spa/` run
//! in the browser with stand-ins for React and Vue (what the snippets do themselves is
//! plain JavaScript; the frameworks only call them).

use super::*;

/// A router's own patch of `history.pushState`, as analytics scripts and routers install
/// them: it logs whether `this` was `history`, calls through and returns its own value.
const HOST_PATCH: &str = "window.__hostPushes=[];var hostPush=history.pushState;\
history.pushState=function(s,t,u){__hostPushes.push([this===history,String(u)]);\
hostPush.apply(this,arguments);return 'host-result'};";

/// A browser without the Navigation API (Firefox, Safari): the loader wraps `history`.
const NO_NAVIGATION_API: &str =
    "Object.defineProperty(window,'navigation',{configurable:true,value:undefined});";

/// The README's stub, so calls made before the loader has loaded are queued.
const STUB: &str = "window.trickle=window.trickle||function(){var a=arguments;\
return new Promise(function(r,j){(trickle.q=trickle.q||[]).push([a,r,j])})};";

/// How many `GET /v1/widget/next` the page has made (and received).
const NEXT_COUNT: &str = "return performance.getEntriesByType('resource')\
    .filter(function(e){return e.name.indexOf('/v1/widget/next')>=0}).length";

const NO_WIDGET: &str = "!document.querySelector('trickle-widget')";

const TITLE: &str = "What best describes your role?";

/// A single-page app at any path (`/checkout/…` is hidden by the site's `hide_on`),
/// with the host's own `pushState` patch; `?user=` (none: identify later) and
/// `?nav=none` (no Navigation API).
pub async fn spa_page(
    State(pages): State<Arc<Pages>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let user = q.get("user").cloned().unwrap_or_default();
    let data_user = if user.is_empty() {
        String::new()
    } else {
        let hash = trickle::app::sites::user_hash(&pages.identity, &user);
        format!(" data-user=\"{user}\" data-user-hash=\"{hash}\"")
    };
    let navigation = if q.get("nav").is_some_and(|n| n == "none") {
        NO_NAVIGATION_API
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>spa</title>\
         <script>{PROBE}{navigation}{HOST_PATCH}{STUB}</script></head><body><h1>An app</h1>\
         <script src=\"{api}/widget.js\" data-key=\"{key}\"{data_user} data-locale=en async></script>\
         </body></html>",
        api = pages.api,
        key = pages.key,
    ))
    .into_response()
}

/// The files of `examples/spa/`, served as the browser imports them.
const EXAMPLES: [(&str, &str); 4] = [
    ("trickle.js", include_str!("../../examples/spa/trickle.js")),
    (
        "react/useTrickle.js",
        include_str!("../../examples/spa/react/useTrickle.js"),
    ),
    (
        "vue/trickle-plugin.js",
        include_str!("../../examples/spa/vue/trickle-plugin.js"),
    ),
    (
        "next/app/trickle.js",
        include_str!("../../examples/spa/next/app/trickle.js"),
    ),
];

/// React's part in the hook, for the test: `useEffect` runs an effect when its
/// dependencies change, and `render` calls a function component again.
const FAKE_REACT: &str = "const slots = []; let at = 0;
export function useEffect(effect, deps) {
  const slot = slots[at] || (slots[at] = {});
  at++;
  if (slot.deps && deps.every((d, i) => d === slot.deps[i])) return;
  if (slot.cleanup) slot.cleanup();
  slot.deps = deps;
  slot.cleanup = effect();
}
export function render(component, props) { at = 0; return component(props); }";

/// `/examples/…`: a file of `examples/spa/`; `/fake/react.js`: the stand-in for React.
pub async fn example_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let source = if file == "react.js" {
        Some(FAKE_REACT)
    } else {
        EXAMPLES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, source)| *source)
    };
    match source {
        Some(source) => ([(header::CONTENT_TYPE, "text/javascript")], source).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/example/{react,vue,next}`: an app that uses the example as its framework would, and
/// offers `__login(user)` and `__logout()` to the test.
pub async fn example_page(
    State(pages): State<Arc<Pages>>,
    axum::extract::Path(framework): axum::extract::Path<String>,
) -> Response {
    let app = match framework.as_str() {
        "react" => {
            "import { render } from 'react';
             import { useTrickle } from '/examples/react/useTrickle.js';
             function App({ user }) { useTrickle(OPTIONS, user); return null; }
             window.__login = (user) => render(App, { user });
             window.__logout = () => render(App, { user: null });
             render(App, { user: null });"
        }
        "next" => {
            "import { render } from 'react';
             import Trickle from '/examples/next/app/trickle.js';
             window.__login = (user) => render(Trickle, { ...OPTIONS, user });
             window.__logout = () => render(Trickle, { ...OPTIONS, user: null });
             render(Trickle, { ...OPTIONS, user: null });"
        }
        "vue" => {
            "import trickle from '/examples/vue/trickle-plugin.js';
             const app = { config: { globalProperties: {} }, provided: {},
               provide(k, v) { this.provided[k] = v; }, use(p, o) { p.install(this, o); return this; } };
             app.use(trickle, OPTIONS);
             window.__login = (user) => app.config.globalProperties.$trickle.setUser(user);
             window.__logout = () => app.provided.trickle.setUser(null);"
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let options = json!({ "src": format!("{}/widget.js", pages.api), "publishableKey": pages.key });
    let app = app.replace("OPTIONS", &options.to_string());
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{framework}</title>\
         <script type=importmap>{{\"imports\":{{\"react\":\"/fake/react.js\"}}}}</script>\
         <script>{PROBE}</script></head><body><h1>A {framework} app</h1>\
         <script type=module>{app}</script></body></html>"
    ))
    .into_response()
}

impl Browser {
    async fn next_count(&self) -> u64 {
        self.js(NEXT_COUNT).await.as_u64().unwrap()
    }
}

impl Service {
    /// `PATCH /v1/site` with `widget_settings`.
    async fn widget_settings(&self, settings: Value) {
        let response = reqwest::Client::new()
            .patch(format!("{}/v1/site", self.api))
            .bearer_auth(&self.secret)
            .json(&json!({ "widget_settings": settings }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// Longer than the loader's wait for a burst of navigations to end (100 ms), so that a
/// request it would make has been made and answered.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// Lands on a hidden path, then moves in-app (the Navigation API path): hidden →
/// allowed shows the prompt after one more request, however many `replaceState`
/// calls follow; none while it is open; allowed → hidden closes it recording nothing;
/// back (popstate) to an allowed path shows it again.
pub async fn in_app_navigation_shows_and_closes_the_prompt(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    service.login("u_spa").await;
    browser
        .client
        .goto(&format!("{host}/checkout/cart?user=u_spa"))
        .await
        .unwrap();
    browser.wait_for(NEXT_HANDLED).await;
    settle().await;
    assert_eq!(
        browser.js(&format!("return {NO_WIDGET}")).await,
        json!(true)
    );
    assert_eq!(browser.next_count().await, 1);

    // A burst: push, then replaceState as a router does while the query settles.
    let pushed = browser
        .js("var r=history.pushState(null,'','/account?tab=0');\
             for(var i=1;i<10;i++)history.replaceState(null,'','/account?tab='+i);return r")
        .await;
    assert_eq!(
        pushed,
        json!("host-result"),
        "the host's patch keeps its result"
    );
    browser.wait_for(&shadow_text(TITLE)).await;
    settle().await;
    assert_eq!(browser.next_count().await, 2, "one request per navigation");
    assert_eq!(
        browser.js("return window.__hostPushes").await,
        json!([[true, "/account?tab=0"]]),
        "the host's patch ran once, with `this` = history"
    );

    // Allowed → allowed with the prompt open: it stays, nothing is asked.
    browser
        .js("history.pushState(null,'','/account/settings')")
        .await;
    settle().await;
    assert_eq!(browser.next_count().await, 2);
    browser.wait_for(&shadow_text(TITLE)).await;

    // Allowed → hidden: closed, no skip or dismissal recorded.
    browser
        .js("history.pushState(null,'','/checkout/pay')")
        .await;
    browser.wait_for(NO_WIDGET).await;
    assert_eq!(browser.js("return window.__events").await, json!(["shown"]));

    // Back (popstate) to the allowed path: asked again, and shown.
    browser.js("history.back()").await;
    browser.wait_for(&shadow_text(TITLE)).await;
    assert_eq!(browser.next_count().await, 3);
    assert_eq!(service.user_metadata("u_spa").await, json!({}));
    assert_eq!(browser.errors().await, json!([]));
}

/// A page loaded before the login: `identify` shows the user's question without a page
/// load, `logout` closes it.
pub async fn identify_after_load_shows_it_and_logout_closes_it(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    browser
        .client
        .goto(&format!("{host}/account"))
        .await
        .unwrap();
    browser.wait_for("window.__trickle").await;
    assert_eq!(browser.next_count().await, 0, "nobody to ask for");
    service.login("u_spa_late").await;
    let hash = trickle::app::sites::user_hash(&service.identity, "u_spa_late");
    browser
        .js(&format!("trickle('identify','u_spa_late','{hash}')"))
        .await;
    browser.wait_for(&shadow_text(TITLE)).await;
    browser.js("trickle('logout')").await;
    browser.wait_for(NO_WIDGET).await;
    assert_eq!(browser.js("return window.__events").await, json!(["shown"]));
    assert_eq!(service.user_metadata("u_spa_late").await, json!({}));
    assert_eq!(browser.errors().await, json!([]));
}

/// Without the Navigation API the loader wraps the host's own `pushState` patch, which
/// keeps working; a navigation the loader cannot see (History's own `pushState`) is
/// caught when the delay is over, and `trickle('page')` reports one.
pub async fn a_patched_history_and_an_unseen_router_keep_working(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    service.widget_settings(json!({ "delay_ms": 800 })).await;
    service.login("u_spa_patched").await;
    browser
        .client
        .goto(&format!("{host}/account?user=u_spa_patched&nav=none"))
        .await
        .unwrap();
    browser.wait_for(NEXT_HANDLED).await;
    // Inside the delay, a route change past every patch: the loader does not see it.
    browser
        .js("History.prototype.pushState.call(history,null,'','/checkout/pay')")
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        browser.js(&format!("return {NO_WIDGET}")).await,
        json!(true),
        "the page rule is checked again when the delay is over"
    );
    // The router reports its change.
    browser
        .js("History.prototype.pushState.call(history,null,'','/account');trickle('page')")
        .await;
    browser.wait_for(&shadow_text(TITLE)).await;
    assert_eq!(browser.next_count().await, 2);

    // The host's patch, wrapped by the loader: same result, `this`, and the loader sees it.
    let pushed = browser
        .js("return [history.pushState(null,'','/checkout/x'), history.pushState.trickle, location.pathname]")
        .await;
    assert_eq!(pushed, json!(["host-result", 1, "/checkout/x"]));
    browser.wait_for(NO_WIDGET).await;
    assert_eq!(
        browser.js("return window.__hostPushes").await,
        json!([[true, "/checkout/x"]])
    );
    // popstate, seen without the Navigation API too.
    browser.js("history.back()").await;
    browser.wait_for(&shadow_text(TITLE)).await;
    assert_eq!(
        browser.js("return window.__events").await,
        json!(["shown", "shown"])
    );
    assert_eq!(browser.errors().await, json!([]));
    service.widget_settings(json!({ "delay_ms": 0 })).await;
}

/// Each framework example loads the script once, gets the question on login and closes
/// it on logout.
pub async fn the_framework_examples_identify_and_log_out(
    browser: &Browser,
    service: &Service,
    host: &str,
) {
    for framework in ["react", "vue", "next"] {
        let user = format!("u_example_{framework}");
        service.login(&user).await;
        browser
            .client
            .goto(&format!("{host}/example/{framework}"))
            .await
            .unwrap();
        browser.wait_for("window.__login").await;
        let hash = trickle::app::sites::user_hash(&service.identity, &user);
        let login = format!("__login({{id:'{user}',hash:'{hash}'}})");
        browser.js(&format!("{login};{login}")).await;
        browser.wait_for(&shadow_text(TITLE)).await;
        assert_eq!(
            browser
                .js("return document.querySelectorAll('script[src$=\"/widget.js\"]').length")
                .await,
            json!(1),
            "{framework}: the script is loaded once"
        );
        browser.js("__logout()").await;
        browser.wait_for(NO_WIDGET).await;
        assert_eq!(
            browser.next_count().await,
            1,
            "{framework}: one question asked"
        );
        assert_eq!(browser.errors().await, json!([]), "{framework}");
    }
}
