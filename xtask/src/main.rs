//! `cargo xtask <task>`: Trickle's build and dev automation, in Rust rather than shell.
//!
//! - `test`: format check, clippy, then every test (unit, storage conformance on SQLite
//!   and PostgreSQL, HTTP, end-to-end).
//! - `demo`: builds and runs `trickle demo` on http://127.0.0.1:8080.

use anyhow::{Context, bail};
use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Where the test suite finds PostgreSQL unless told otherwise.
const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test|demo> [args…]");
            eprintln!("  test   fmt check, clippy, all tests (needs PostgreSQL, see README)");
            eprintln!("  demo   run the demo server on http://127.0.0.1:8080");
            bail!("unknown task")
        }
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_owned()
}

fn cargo() -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn run(mut command: Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {command:?}");
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]).args(extra);
    if env::var_os("TRICKLE_TEST_POSTGRES_URL").is_none() {
        tests.env("TRICKLE_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES);
    }
    run(tests)
}

fn demo(extra: &[String]) -> anyhow::Result<()> {
    let mut demo = cargo();
    demo.args(["run", "--package", "trickle", "--", "demo"])
        .args(extra);
    run(demo)
}
