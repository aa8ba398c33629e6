//! The widget's tests compiled to Wasm and run in headless Chromium by
//! `wasm-bindgen-test-runner`, installed on first use at exactly the `wasm-bindgen`
//! version in `Cargo.lock` (the runner and the crate must agree).

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, run, target_dir, workspace_root};

/// `cargo test -p trickle-widget --target wasm32-unknown-unknown` in headless Chromium.
pub fn run_in_browser() -> anyhow::Result<()> {
    let runner = test_runner()?;
    let mut tests = cargo();
    tests
        .args([
            "test",
            "--package",
            "trickle-widget",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner);
    // The runner would take geckodriver first when both are installed.
    if std::env::var_os("CHROMEDRIVER").is_none() {
        tests.env("CHROMEDRIVER", "chromedriver");
    }
    run(tests)
}

/// The `wasm-bindgen` version the workspace is locked to.
fn locked_wasm_bindgen() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines.next().unwrap_or_default();
            if let Some(v) = version.strip_prefix("version = \"") {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("no wasm-bindgen in Cargo.lock")
}

/// `target/tools/bin/wasm-bindgen-test-runner` at the locked version, installed with
/// `cargo install wasm-bindgen-cli` when missing or of another version.
fn test_runner() -> anyhow::Result<PathBuf> {
    let version = locked_wasm_bindgen()?;
    let root = target_dir().join("tools");
    let runner = root.join("bin/wasm-bindgen-test-runner");
    let installed = Command::new(&runner).arg("--version").output();
    let current = installed.is_ok_and(|out| {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .ends_with(&version)
    });
    if !current {
        // Not `--locked`: a registry mirror may lack the newest patch of a dependency.
        // `--debug` without debug info: 160 s of CPU to build instead of 475 s in
        // release, for about 20 s more when it runs the widget's tests (measured on the
        // 2-core CI machine; see docs/performance.md).
        let mut install = cargo();
        install
            .args([
                "install",
                "wasm-bindgen-cli",
                "--debug",
                "--force",
                "--version",
            ])
            .arg(format!("={version}"))
            .arg("--root")
            .arg(&root)
            .env("CARGO_PROFILE_DEV_DEBUG", "0");
        run(install).context("installing wasm-bindgen-test-runner")?;
    }
    Ok(runner)
}
