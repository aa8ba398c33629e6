//! `cargo xtask openapi` (and the last step of `cargo xtask test`): the OpenAPI document
//! checked by the tools client generators and API testers use. Installs
//! `openapi-spec-validator`, `schemathesis` and `openapi-python-client` (pinned, from
//! PyPI) into `target/openapi-tools/`, then runs `tests/openapi_conformance.rs`.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, run, target_dir};

/// Exact versions, so a new release of any cannot change what the suite checks.
/// `python-dateutil` is what the generated client imports for date-times.
const TOOLS: [&str; 4] = [
    "schemathesis==4.32.5",
    "openapi-spec-validator==0.9.0",
    "openapi-python-client==0.29.1",
    "python-dateutil==2.9.0.post0",
];

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

/// Validates `/openapi.json`, runs schemathesis against the real binary, then a
/// client generated from the document through the README's flow.
pub fn check() -> anyhow::Result<()> {
    let bin = tools()?;
    for tool in [
        "schemathesis",
        "openapi-spec-validator",
        "openapi-python-client",
    ] {
        if !bin.join(tool).exists() {
            bail!("{} has no {tool} after installing", bin.display());
        }
    }
    let mut test = cargo();
    // `--workspace --tests` builds exactly what `cargo xtask test` built (the same units
    // and features, so nothing is compiled again); the filter picks the one test out of
    // every binary. `--test openapi_conformance` alone leaves the other packages' dev
    // dependencies out of feature unification, so on a clean clone it recompiled the
    // server and its dependencies: 261 s instead of about 30.
    // `--nocapture` shows the run's summary (operations, examples, failures, time).
    test.args([
        "test",
        "--workspace",
        "--tests",
        "--",
        "--ignored",
        "--exact",
        "the_served_document_is_valid_openapi_matches_the_server_and_makes_a_working_client",
        "--nocapture",
    ])
    .env("TRICKLE_OPENAPI_TOOLS", &bin);
    run(test)
}
