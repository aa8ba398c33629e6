//! `cargo xtask openapi`: the OpenAPI document checked by the tools client generators
//! and API testers use. Installs `openapi-spec-validator` and `schemathesis` (pinned,
//! from PyPI) into `target/openapi-tools/`, then runs `tests/openapi_conformance.rs`.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, run, target_dir};

/// Exact versions, so a new release of either cannot change what the suite checks.
const TOOLS: [&str; 2] = ["schemathesis==4.32.5", "openapi-spec-validator==0.9.0"];

/// The virtual environment's `bin/`, created and filled on first use.
fn tools() -> anyhow::Result<PathBuf> {
    let venv = target_dir().join("openapi-tools");
    let bin = venv.join("bin");
    let stamp = venv.join("installed.txt");
    let wanted = TOOLS.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(bin);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .context("the OpenAPI checks need Python 3 (python3) on PATH")?;
    let mut create = Command::new(python);
    create.args(["-m", "venv"]).arg(&venv);
    run(create)?;
    let mut install = Command::new(bin.join("pip"));
    install.args(["install", "--quiet", "--disable-pip-version-check"]);
    install.args(TOOLS);
    run(install)?;
    std::fs::write(&stamp, wanted)?;
    Ok(bin)
}

/// Validates `/openapi.json` and runs schemathesis against the real binary.
pub fn check() -> anyhow::Result<()> {
    let bin = tools()?;
    if !bin.join("schemathesis").exists() {
        bail!("{} has no schemathesis after installing", bin.display());
    }
    let mut test = cargo();
    // `--workspace`, as `cargo xtask test` builds: the same features, so no rebuild.
    test.args([
        "test",
        "--workspace",
        "--test",
        "openapi_conformance",
        "--",
        "--ignored",
    ])
    .env("TRICKLE_OPENAPI_TOOLS", &bin);
    run(test)
}
