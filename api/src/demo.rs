//! `trickle demo`: a ready-to-try service on a fresh SQLite file, with the example
//! question sets published for a demo site and a demo user who has logged in once.

use anyhow::Context;
use std::net::SocketAddr;

use crate::config::Settings;
use crate::logins::LoginRequest;
use crate::sites::user_hash;

/// The example question sets shipped in `question-sets/`, compiled into the binary.
pub const EXAMPLE_QUESTION_SETS: [(&str, &str); 2] = [
    (
        "question-sets/onboarding.yaml",
        include_str!("../../question-sets/onboarding.yaml"),
    ),
    (
        "question-sets/product-feedback.yaml",
        include_str!("../../question-sets/product-feedback.yaml"),
    ),
];

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
    }
    settings.listen = listen;
    let trickle = crate::cli::open(&settings).await?;
    let origin = format!("http://{listen}");
    let keys = trickle
        .create_site("Demo shop", vec![origin.clone()])
        .await?;
    let site = trickle.site(&keys.site_id).await?;
    for (name, source) in EXAMPLE_QUESTION_SETS {
        let slug = crate::questions::parse_question_set(source, name)
            .map_err(|p| anyhow::anyhow!("{name}: {} problem(s)", p.len()))?
            .slug;
        let draft = trickle.save_draft(&site, &slug, source, name).await?;
        trickle.publish(&site, &slug, draft.version).await?;
    }
    let login = LoginRequest {
        user_id: DEMO_USER.into(),
        event_id: None,
        occurred_at: None,
        ip: Some("127.0.0.1".into()),
        user_agent: Some("trickle-demo".into()),
        email: Some("demo@example.com".into()),
        name: Some("Demo User".into()),
    };
    trickle
        .record_login(&site, login)
        .await
        .context("recording the demo login")?;
    let hash = user_hash(&keys.identity_secret, DEMO_USER);
    println!(
        "\nTrickle demo on {origin}  (database: {db})\n\n\
         site_id          {site_id}\n\
         publishable key  {pk}\n\
         secret key       {sk}\n\
         demo user        {DEMO_USER} (hash {hash})\n\n\
         Try:\n\
         curl -s {origin}/v1/widget/next -H 'X-Trickle-Key: {pk}' -H 'X-Trickle-User: {DEMO_USER}' -H 'X-Trickle-User-Hash: {hash}'\n\
         curl -s {origin}/v1/logins -H 'Authorization: Bearer {sk}' -H 'Content-Type: application/json' -d '{{\"user_id\":\"{DEMO_USER}\"}}'\n\
         curl -s {origin}/v1/users/{DEMO_USER} -H 'Authorization: Bearer {sk}'\n",
        db = settings.database_url,
        site_id = keys.site_id,
        pk = keys.publishable_key,
        sk = keys.secret_key,
    );
    crate::cli::serve(trickle, &settings).await
}
