//! End-to-end: the real `trickle` binary, as an operator uses it. CLI commands, `serve`
//! with graceful shutdown, `demo`, and `migrate` on PostgreSQL.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use support::{PostgresDatabase, free_port, repo, run_ok, terminate, trickle, wait_ready};

#[tokio::test]
async fn an_operator_sets_up_a_site_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let keys: Value = serde_json::from_str(&run_ok(trickle(&db).args([
        "site",
        "create",
        "--name",
        "Shop",
        "--origin",
        "https://shop.example",
    ])))
    .unwrap();
    let site_id = keys["site_id"].as_str().unwrap();
    assert!(keys["publishable_key"].as_str().unwrap().starts_with("pk_"));
    assert!(keys["secret_key"].as_str().unwrap().starts_with("sk_"));
    let shown: Value = serde_json::from_str(&run_ok(
        trickle(&db).args(["site", "show", "--site", site_id]),
    ))
    .unwrap();
    assert_eq!(shown["allowed_origins"], json!(["https://shop.example"]));
    assert!(
        !shown
            .to_string()
            .contains(keys["secret_key"].as_str().unwrap())
    );

    let onboarding = repo().join("question-sets/onboarding.yaml");
    let pushed = run_ok(
        trickle(&db)
            .arg("question-sets")
            .arg("push")
            .arg(&onboarding)
            .args(["--site", site_id, "--publish"]),
    );
    assert!(
        pushed.contains("onboarding version 1 (published)"),
        "{pushed}"
    );

    let hash = run_ok(trickle(&db).args(["user-hash", "--site", site_id, "u1"]));
    assert_eq!(
        hash.trim(),
        trickle::app::sites::user_hash(keys["identity_secret"].as_str().unwrap(), "u1")
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = trickle(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    wait_ready(&base, &mut server).await;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/v1/logins"))
        .bearer_auth(keys["secret_key"].as_str().unwrap())
        .json(&json!({ "user_id": "u1" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["login_count"], 1);
    let next: Value = client
        .get(format!("{base}/v1/widget/next"))
        .header("X-Trickle-Key", keys["publishable_key"].as_str().unwrap())
        .header("X-Trickle-User", "u1")
        .header("X-Trickle-User-Hash", hash.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["prompt"]["question"]["key"], "role");
    let status = terminate(&mut server);
    assert!(status.success(), "SIGTERM shuts down gracefully: {status}");
}

#[test]
fn an_operator_rotates_keys_and_encrypts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let key = "q4Vx3kqZ7m1Yb0f2c8LrT5nW9sH6dJ1eA3uG7pK2oZc=";
    let keyed = |db: &str| {
        let mut command = trickle(db);
        command.env("TRICKLE_SECRETS_KEY", key);
        command
    };
    let keys: Value = serde_json::from_str(&run_ok(
        keyed(&db).args(["site", "create", "--name", "Shop"]),
    ))
    .unwrap();
    let site_id = keys["site_id"].as_str().unwrap();
    let user_hash =
        |identity: &Value| trickle::app::sites::user_hash(identity.as_str().unwrap(), "u1");
    let printed = run_ok(keyed(&db).args(["user-hash", "--site", site_id, "u1"]));
    assert_eq!(printed.trim(), user_hash(&keys["identity_secret"]));

    let rotated: Value = serde_json::from_str(&run_ok(keyed(&db).args([
        "site",
        "rotate-keys",
        "--site",
        site_id,
        "--key",
        "identity-secret",
        "--grace-seconds",
        "60",
    ])))
    .unwrap();
    assert_eq!(rotated["rotated"], json!(["identity_secret"]));
    assert_eq!(rotated["publishable_key"], keys["publishable_key"]);
    assert!(rotated.get("secret_key").is_none());
    assert_ne!(rotated["identity_secret"], keys["identity_secret"]);
    let printed = run_ok(keyed(&db).args(["user-hash", "--site", site_id, "u1"]));
    assert_eq!(
        printed.trim(),
        user_hash(&rotated["identity_secret"]),
        "the new secret"
    );

    let all: Value = serde_json::from_str(&run_ok(keyed(&db).args([
        "site",
        "rotate-keys",
        "--site",
        site_id,
    ])))
    .unwrap();
    assert_eq!(
        all["rotated"],
        json!(["publishable_key", "secret_key", "identity_secret"])
    );
    assert_ne!(all["publishable_key"], keys["publishable_key"]);

    // The secrets are encrypted: without the key the binary refuses to start, clearly.
    let output = trickle(&db)
        .args(["site", "show", "--site", site_id])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no secrets_key is configured"), "{stderr}");
}

#[test]
fn lint_reports_every_problem_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let examples: Vec<PathBuf> = std::fs::read_dir(repo().join("question-sets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(!examples.is_empty());
    let ok = run_ok(trickle(&db).args(["question-sets", "lint"]).args(&examples));
    assert_eq!(
        ok.lines().filter(|l| l.starts_with("ok ")).count(),
        examples.len()
    );
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "slug: Bad Slug\ntitle: x\nstages:\n  - at_login: 1\n    questions:\n      - { key: a, type: nope, title: A }\n").unwrap();
    let output = trickle(&db)
        .args(["question-sets", "lint"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let name = broken.display().to_string();
    assert!(
        stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{name}:")))
            .count()
            >= 2,
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{name}:1:")),
        "slug problem on line 1: {stdout}"
    );
    assert!(
        stdout.contains(&format!("{name}:6:")),
        "type problem on line 6: {stdout}"
    );
}

#[tokio::test]
async fn the_demo_serves_a_curlable_api() {
    let port = free_port();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_trickle"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("TRICKLE_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, &mut demo).await;
    let mut pk = None;
    let mut sk = None;
    let mut hash = None;
    let mut admin_password = None;
    for line in BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["publishable", "key", key] => pk = Some(key.to_string()),
            ["secret", "key", key] => sk = Some(key.to_string()),
            ["demo", "user", _, "(hash", h] => hash = Some(h.trim_end_matches(')').to_string()),
            ["admin", "password", p] => admin_password = Some(p.to_string()),
            _ => {}
        }
        if line.starts_with("curl -s") {
            break;
        }
    }
    let next: Value = reqwest::Client::new()
        .get(format!("{base}/v1/widget/next"))
        .header(
            "X-Trickle-Key",
            pk.expect("demo prints the publishable key"),
        )
        .header("X-Trickle-User", "u_demo")
        .header(
            "X-Trickle-User-Hash",
            hash.expect("demo prints the user hash"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["prompt"]["question_set"], "onboarding");
    // The printed admin signs in to the console.
    let password = admin_password.expect("demo prints the admin's password");
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/console/sign-in"))
        .header("Origin", &base)
        .form(&[
            ("email", "admin@demo.example"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert!(signed_in.headers().contains_key("set-cookie"));
    // The demo enables the user-agent and e-mail providers: the worker enriches the demo user.
    let sk = sk.expect("demo prints the secret key");
    let mut providers = Vec::new();
    for _ in 0..100 {
        let profile: Value = reqwest::Client::new()
            .get(format!("{base}/v1/users/u_demo"))
            .bearer_auth(&sk)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        providers = profile["enrichment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["provider"].as_str().unwrap().to_owned())
            .collect();
        if providers.len() >= 2 {
            assert_eq!(
                profile["app_metadata"]["enrichment"]["user_agent"]["browser"],
                "Firefox"
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    providers.sort();
    assert_eq!(providers, ["email", "user_agent"]);
    assert!(terminate(&mut demo).success());
}

#[tokio::test]
async fn migrate_picks_postgres_from_the_url() {
    use sqlx::Connection;
    let database = PostgresDatabase::create().await;
    let out = run_ok(trickle(database.url()).arg("migrate"));
    assert!(out.contains("migrations applied"));
    let mut db = sqlx::PgConnection::connect(database.url()).await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('sites', 'users', 'login_events', 'answers')")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(tables, 4);
    db.close().await.ok();
}

/// A `--database-url` flag names another database than the environment: a direct URL
/// from the environment belongs to that one and is dropped, so migrations go where the
/// flag says; with `--database-direct-url` beside it, migrations go there.
#[tokio::test]
async fn a_database_url_flag_drops_the_environments_direct_url() {
    let database = PostgresDatabase::create().await;
    let nowhere = "postgres://postgres@127.0.0.1:1/elsewhere";
    let out = run_ok(
        trickle("sqlite::memory:")
            .env("TRICKLE_DATABASE_DIRECT_URL", nowhere)
            .args(["--database-url", database.url(), "migrate"]),
    );
    assert!(out.contains("migrations applied"), "{out}");
    let output = trickle("sqlite::memory:")
        .args(["--database-url", database.url()])
        .args(["--database-direct-url", nowhere, "migrate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("applying migrations"),
        "migrations went to the direct URL, which nothing answers: {stderr}"
    );
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let output = trickle("mysql://nope").arg("migrate").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    let missing = trickle("sqlite::memory:")
        .args(["--config", "/nonexistent/trickle.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
}

/// A binary built without the widget (a plain `cargo build`) says so at start-up; one
/// built by `cargo xtask` (as the test suite is) serves the widget and stays quiet.
#[tokio::test]
async fn a_server_without_the_widget_says_so_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = trickle(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&base, &mut server).await;
    let loader = reqwest::get(format!("{base}/widget.js"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(terminate(&mut server).success());
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut logs).unwrap();
    let embedded = !loader.contains("built without the widget");
    assert_eq!(embedded, trickle::http::widget_built());
    assert_eq!(
        logs.contains(trickle::http::WIDGET_MISSING_WARNING),
        !embedded,
        "start-up logs: {logs}"
    );
}

/// `trickle enrich` on the real binary: queues a provider for users that exist already,
/// prints plain progress lines when its output is not a terminal, refuses a bad `where`
/// and an unconfigured provider with a clear message, and never queues a user twice.
#[tokio::test]
async fn enrich_backfills_existing_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let config = dir.path().join("trickle.toml");
    std::fs::write(&config, "[enrichment.email]\n").unwrap();
    let keys: Value = serde_json::from_str(&run_ok(
        trickle(&db).args(["site", "create", "--name", "Shop"]),
    ))
    .unwrap();
    let site_id = keys["site_id"].as_str().unwrap().to_owned();
    // Users who logged in before the provider was configured.
    let store = trickle::store::connect(&db).await.unwrap();
    let app = trickle::App::new(store.clone(), std::time::Duration::from_secs(1));
    let site = app.sites().get(&site_id).await.unwrap();
    for (user, email) in [
        ("u1", "a@gmail.com"),
        ("u2", "b@acme.example"),
        ("u3", "c@acme.example"),
    ] {
        let login = trickle::app::logins::LoginRequest {
            user_id: user.into(),
            event_id: None,
            occurred_at: None,
            ip: None,
            user_agent: None,
            email: Some(email.into()),
            name: None,
            profile: None,
        };
        app.logins().record(&site, login).await.unwrap();
    }
    let enrich = |args: &[&str]| {
        let mut command = trickle(&db);
        command
            .arg("--config")
            .arg(&config)
            .args(["enrich", "--provider", "email", "--site", &site_id])
            .args(args);
        command
    };
    let bad = enrich(&["--where", "{\"key\": "]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("where is not JSON"));
    let returning = r#"{"key": "login_count", "gte": 2}"#;
    let printed = run_ok(&mut enrich(&["--where", returning]));
    assert!(
        printed.contains("queued email for 0 of 0 users"),
        "nobody logged in twice, so no user matches (the filter runs in the database): {printed}"
    );
    let printed = run_ok(&mut enrich(&[]));
    assert!(
        printed.contains("3/3 users examined, 3 queued"),
        "{printed}"
    );
    assert!(
        printed.contains("queued email for 3 of 3 users"),
        "{printed}"
    );
    run_ok(&mut enrich(&[]));
    let jobs = store.jobs(&site_id).await.unwrap();
    assert_eq!(
        jobs.len(),
        3,
        "a user whose job waits is not queued again: {jobs:?}"
    );
    let unknown = trickle(&db)
        .arg("--config")
        .arg(&config)
        .args(["enrich", "--provider", "company"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no provider `company` is configured (configured: email)"),
        "{stderr}"
    );
}
