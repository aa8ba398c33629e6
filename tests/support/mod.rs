//! Shared by the end-to-end tests: run the real `trickle` binary and wait for it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// A PostgreSQL database of its own, dropped with this value (see `trickle-testkit`).
#[allow(unused_imports)] // Not every end-to-end test runs on PostgreSQL.
pub use trickle_testkit::PostgresDatabase;

/// A `trickle.toml` section allowing outbound calls to loopback, where the tests' receivers
/// and providers listen (refused by default).
pub const ALLOW_LOOPBACK: &str = "[outbound]\nallow_cidrs = [\"127.0.0.0/8\", \"::1/128\"]\n";

/// The binary with a database URL and quiet logs.
pub fn trickle(db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trickle"));
    command
        .env("TRICKLE_DATABASE_URL", db)
        .env_remove("TRICKLE_LISTEN")
        .env("RUST_LOG", "warn");
    command
}

pub fn run_ok(command: &mut Command) -> String {
    let output: Output = command.output().expect("run trickle");
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `/readyz` until the server answers, for at most 30 s.
pub async fn wait_ready(base: &str, child: &mut Child) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status() == 200
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} not ready in 30 s");
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap()
}
