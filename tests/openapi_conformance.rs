//! The OpenAPI document is exact, and good enough to build a client from. Against the
//! real binary (a site made by `trickle site create`, nothing else by hand):
//!
//! 1. the served `/openapi.json` passes `openapi-spec-validator` (0 errors);
//! 2. `schemathesis` (all checks, positive and negative data, a bounded number of
//!    examples per operation, a fixed seed) finds no difference between what the
//!    document says and what the server does — once as a widget (publishable key, user
//!    and user hash), then as the site's backend (secret key);
//! 3. a Python client generated from the document by `openapi-python-client` runs the
//!    README's flow (`tests/openapi_client_flow.py`): reports a login, reads the
//!    profile, pushes and publishes a question set (YAML), pages through users with
//!    `where`, and gets a typed error for a bad request.
//!
//! What schemathesis is told (`tests/openapi/schemathesis.toml`), and why:
//! - Strings are generated in ASCII. The server's length limits are UTF-8 bytes (user
//!   id 255, name 255, e-mail 320, …), which JSON Schema cannot state: its `maxLength`
//!   counts characters. On ASCII the two agree, so the limits are checked exactly;
//!   non-ASCII ids and texts are covered by `api/tests/http/user_ids.rs`.
//! - `PUT /v1/question-sets/{slug}` may answer a schema-valid body with its documented
//!   422: the body is YAML whose meaning (stages, question types, the slug matching
//!   the path) no JSON Schema can express; or with its documented 400 when the bytes
//!   are not UTF-8 (the schema says bytes, `format: binary`, so that generated clients
//!   send the YAML as it is). Only that operation, only those statuses.
//! - `GET /v1/users` gets one valid `where`: the condition language is a grammar over
//!   profile keys, not a schema; its refusals are tested in `api/tests/http/users.rs`.
//! - `PUT /v1/segments/{name}` may answer a schema-valid body with its documented 400
//!   `invalid_where`: the document can only say `where` is an object; the condition
//!   language's refusals are tested in `api/tests/http/segments.rs`. Only that
//!   operation, only that added status.
//! - `GET /v1/users/{id}/history` may answer a schema-valid `after` with its documented
//!   400 `invalid_cursor`: the cursor is opaque (only a `next_cursor` of that endpoint is
//!   one), which no schema states; tested in `api/tests/http/user_history.rs`. Only that
//!   operation, only that added status.
//! - `POST /v1/site/rotate-keys` is left out of the backend run: a generated request
//!   may retire the very key schemathesis authenticates with (`grace_seconds: 0`),
//!   after which every later request is rightly refused. Its documentation is checked
//!   by `api/tests/http/site.rs` and the document tests in `api/tests/http/openapi.rs`.
//! - `POST /v1/logins` is sent `occurred_at` values from the generator; the server
//!   refuses a login more than 5 minutes in the future (a bound relative to now, which
//!   a schema cannot state), so the check excludes that case through the hook in
//!   `tests/openapi/hooks.py`, which keeps generated times in the past.
//!
//! The Python tools come from PyPI: `cargo xtask openapi` (also the last step of
//! `cargo xtask test`) installs them into `target/openapi-tools/` and runs this test
//! with `--ignored`, naming the tools' directory in `TRICKLE_OPENAPI_TOOLS`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use support::{free_port, repo, run_ok, terminate, trickle, wait_ready};

/// How many examples schemathesis makes per operation (per phase): enough to find a
/// missing limit, few enough that the whole test stays within about two minutes.
const EXAMPLES_PER_OPERATION: &str = "20";
/// A fixed seed, so a failure can be replayed.
const SEED: &str = "20261201";
const ORIGIN: &str = "https://shop.example";

fn tools() -> PathBuf {
    PathBuf::from(std::env::var_os("TRICKLE_OPENAPI_TOOLS").expect(
        "TRICKLE_OPENAPI_TOOLS names the Python tools' bin directory; run `cargo xtask openapi`",
    ))
}

fn tool(name: &str) -> PathBuf {
    tools().join(name)
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
        .env("TRICKLE_RATE_LIMIT__IP_PER_MINUTE", "1000000")
        .env("TRICKLE_RATE_LIMIT__IP_BURST", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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

/// Runs a command, returning whether it succeeded and everything it printed.
fn output(command: &mut Command) -> (bool, String) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

fn schemathesis(server: &Server, headers: &[String], operations: &[&str]) -> (bool, String) {
    let config = repo().join("tests/openapi");
    let mut command = Command::new(tool("schemathesis"));
    command
        .arg("--config-file")
        .arg(config.join("schemathesis.toml"))
        .args([
            "--no-color",
            "run",
            &format!("{}/openapi.json", server.base),
        ])
        .args(["--checks", "all"])
        .args(["--max-examples", EXAMPLES_PER_OPERATION, "--seed", SEED])
        // One worker: with two, hypothesis describes strategies with `ast.parse` on two
        // threads at once, and Python 3.11's AST module keeps its recursion counter in
        // interpreter-wide state (CPython gh-106905, seen in threaded programs): one run
        // in three died with "SystemError: AST constructor recursion depth mismatch".
        // With one worker, 4 runs of 4 passed, each 5 s faster.
        .args(["--workers", "1"])
        .args(operations)
        // The hooks module (`hooks.py`) is imported from the config's folder.
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &config);
    for header in headers {
        command.args(["--header", header]);
    }
    output(&mut command)
}

/// The line of schemathesis' summary that counts test cases, for the report.
fn summary(text: &str) -> String {
    text.lines()
        .filter(|l| l.contains("test cases") || l.contains("operations") || l.contains("passed"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Generates a Python client from `document` and runs `tests/openapi_client_flow.py`
/// through it against the server.
fn generated_client_flow(server: &Server, document: &Path) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("client");
    let (generated, text) = output(
        Command::new(tool("openapi-python-client"))
            .args(["generate", "--meta", "none"])
            .arg("--path")
            .arg(document)
            .arg("--config")
            .arg(repo().join("tests/openapi/client-config.yaml"))
            .arg("--output-path")
            .arg(&client),
    );
    assert!(
        generated,
        "openapi-python-client could not generate a client:\n{text}"
    );
    output(
        Command::new(tool("python"))
            .arg(repo().join("tests/openapi_client_flow.py"))
            .env("PYTHONPATH", dir.path())
            .env("TRICKLE_CLIENT_PACKAGE", "client")
            .env("TRICKLE_BASE_URL", &server.base)
            .env(
                "TRICKLE_SECRET_KEY",
                server.keys["secret_key"].as_str().unwrap(),
            ),
    )
}

#[tokio::test]
#[ignore = "needs the Python tools: run by `cargo xtask test` / `cargo xtask openapi`"]
async fn the_served_document_is_valid_openapi_matches_the_server_and_makes_a_working_client() {
    let started = Instant::now();
    let server = start_server().await;
    let document = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::with_suffix(".json").unwrap();
    std::fs::write(file.path(), &document).unwrap();
    let (valid, validator) = output(Command::new(tool("openapi-spec-validator")).arg(file.path()));
    assert!(
        valid,
        "openapi-spec-validator refused /openapi.json:\n{validator}"
    );
    let parsed: serde_json::Value = serde_json::from_str(&document).unwrap();
    let operations: usize = parsed["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();

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
    let secret = server.keys["secret_key"].as_str().unwrap();
    let (backend_ok, backend) = schemathesis(
        &server,
        &[format!("Authorization: Bearer {secret}")],
        &[
            "--exclude-path-regex",
            "^/v1/widget/",
            "--exclude-operation-id",
            "rotate_keys",
        ],
    );
    assert!(
        backend_ok && widget_ok,
        "schemathesis found differences between /openapi.json and the server\n\
         --- as a widget (publishable key + user hash) ---\n{widget}\n\
         --- as a site's backend (secret key) ---\n{backend}"
    );

    let (flow_ok, flow) = generated_client_flow(&server, file.path());
    assert!(flow_ok, "the generated client's flow failed:\n{flow}");
    println!(
        "openapi: {operations} operations; validator: 0 errors; schemathesis (seed {SEED}, \
         {EXAMPLES_PER_OPERATION} examples per operation and phase), 0 failures:\n  \
         widget: {}\n  backend: {}\ngenerated client: {}\nopenapi: done in {:.0} s",
        summary(&widget),
        summary(&backend),
        flow.lines().last().unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
}
