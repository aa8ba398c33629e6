//! The OpenAPI document is exact: the served `/openapi.json` passes
//! `openapi-spec-validator`, and `schemathesis` finds no difference between what it
//! documents and what the real binary does, once as a site's backend (secret key) and
//! once as a widget (publishable key, user and user hash).
//!
//! The Python tools come from PyPI; `cargo xtask test` installs them into
//! `target/openapi-tools/` and runs this test with `--ignored`, naming the tools'
//! directory in `TRICKLE_OPENAPI_TOOLS`. Run alone:
//! `cargo xtask openapi` (installs, then runs it).

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use support::{free_port, run_ok, terminate, trickle, wait_ready};

/// How many examples schemathesis makes per operation: enough to find a missing
/// limit, few enough that both runs take well under a minute.
const EXAMPLES_PER_OPERATION: &str = "25";
/// A fixed seed, so a failure can be replayed.
const SEED: &str = "20261201";
const ORIGIN: &str = "https://shop.example";

fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("TRICKLE_OPENAPI_TOOLS").expect(
        "TRICKLE_OPENAPI_TOOLS names the Python tools' bin directory; run `cargo xtask openapi`",
    );
    PathBuf::from(dir).join(name)
}

struct Server {
    child: Child,
    base: String,
    keys: serde_json::Value,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    run_ok(trickle(&db).arg("migrate"));
    let keys: serde_json::Value = serde_json::from_str(&run_ok(
        trickle(&db).args(["site", "create", "--name", "openapi", "--origin", ORIGIN]),
    ))
    .unwrap();
    let port = free_port();
    let mut child = trickle(&db)
        .arg("serve")
        .env("TRICKLE_LISTEN", format!("127.0.0.1:{port}"))
        // Schemathesis sends thousands of widget requests from one IP.
        .env("TRICKLE_RATE_LIMIT__WIDGET_PER_MINUTE", "1000000")
        .env("TRICKLE_RATE_LIMIT__WIDGET_BURST", "1000000")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, &mut child).await;
    Server {
        child,
        base,
        keys,
        _dir: dir,
    }
}

fn schemathesis(server: &Server, headers: &[String], operations: &[&str]) -> (bool, String) {
    let mut command = Command::new(tool("schemathesis"));
    command
        .args(["run", &format!("{}/openapi.json", server.base)])
        .args(["--checks", "all", "--no-color"])
        .args(["--max-examples", EXAMPLES_PER_OPERATION, "--seed", SEED])
        .args(operations);
    for header in headers {
        command.args(["--header", header]);
    }
    let output = command.output().expect("run schemathesis");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[tokio::test]
#[ignore = "needs the Python tools: run by `cargo xtask test` / `cargo xtask openapi`"]
async fn the_served_document_is_valid_openapi_and_matches_the_server() {
    let server = start_server().await;
    let document = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::with_suffix(".json").unwrap();
    std::fs::write(file.path(), &document).unwrap();
    let validator = Command::new(tool("openapi-spec-validator"))
        .arg(file.path())
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        validator.status.success(),
        "openapi-spec-validator refused /openapi.json:\n{}{}",
        String::from_utf8_lossy(&validator.stdout),
        String::from_utf8_lossy(&validator.stderr)
    );

    let secret = server.keys["secret_key"].as_str().unwrap();
    let (backend_ok, backend) = schemathesis(
        &server,
        &[format!("Authorization: Bearer {secret}")],
        &["--exclude-path-regex", "^/v1/widget/"],
    );

    let user = "schemathesis-user";
    let identity_secret = server.keys["identity_secret"].as_str().unwrap();
    let hash = trickle::app::sites::user_hash(identity_secret, user);
    let publishable = server.keys["publishable_key"].as_str().unwrap();
    let (widget_ok, widget) = schemathesis(
        &server,
        &[
            format!("X-Trickle-Key: {publishable}"),
            format!("X-Trickle-User: {user}"),
            format!("X-Trickle-User-Hash: {hash}"),
            format!("Origin: {ORIGIN}"),
        ],
        &["--include-path-regex", "^/v1/widget/"],
    );
    assert!(
        backend_ok && widget_ok,
        "schemathesis found differences between /openapi.json and the server\n\
         --- as a site's backend (secret key) ---\n{backend}\n\
         --- as a widget (publishable key + user hash) ---\n{widget}"
    );
}
