//! `cargo xtask <task>`: Trickle's build and dev automation, in Rust rather than shell.
//!
//! - `test`: format check, clippy, the widget's tests in headless Chromium (Wasm), then
//!   every other test (unit, storage conformance on SQLite and PostgreSQL, HTTP,
//!   end-to-end, browser), then `openapi`.
//! - `demo`: builds and runs `trickle demo` on http://127.0.0.1:8080.
//! - `dist`: the whole product for production: the widget, then `trickle` in release
//!   with the widget embedded (`target/release/trickle`).
//! - `build-widget`: the Wasm renderer and loader into `widget/dist/` (embedded by
//!   `api/build.rs`); fails when the loader is over 4 KiB or loader + renderer over
//!   120 KiB gzip; `test` and `demo` run it first.
//! - `openapi`: validates the served `/openapi.json` (openapi-spec-validator), runs
//!   schemathesis against the real binary, and drives it through a Python client
//!   generated from the document (openapi-python-client); the tools are installed from
//!   PyPI into `target/openapi-tools/`.
//! - `bench [--quick]`: every benchmark, printing tables: `bench-api` (logins, `next`
//!   and answers against the release `trickle serve` from `wrk` in its own process, on
//!   SQLite and PostgreSQL, beside each database's own rate for the same statements; see
//!   `bench/`) and `bench-widget` (widget bytes, gzip, and time to first question in
//!   headless Chromium). `--quick` runs every API row briefly and skips the widget.
//! - `bench-scale-out [--quick]`: two `trickle serve` replicas on PostgreSQL through
//!   pgbouncer in transaction pooling mode (built from Debian's source when the PATH has
//!   none that keeps prepared statements): logins and `next` beside one replica's, a
//!   publish crossing replicas, and webhook jobs delivered once (`bench/scale_out.rs`).

use anyhow::{Context, bail};
use std::env;
use std::path::PathBuf;
use std::process::Command;

mod bench;
mod openapi;
mod pgbouncer;
mod process;
mod wasm_tests;
mod widget;

/// Where the test suite finds PostgreSQL unless told otherwise.
pub(crate) const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("dist") => dist(),
        Some("build-widget") => widget::build().map(drop),
        Some("openapi") => openapi::check(),
        Some("bench") if args[1..].iter().any(|a| a == "--quick") => bench::bench_api(&args[1..]),
        Some("bench") => bench::bench_api(&args[1..]).and_then(|()| bench_widget()),
        Some("bench-api") => bench::bench_api(&args[1..]),
        Some("bench-widget") => bench_widget(),
        Some("bench-scale-out") => bench::bench_scale_out(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|demo|dist|build-widget|openapi|bench|bench-api|bench-widget|bench-scale-out> [args…]"
            );
            eprintln!(
                "  test          build the widget; fmt check, clippy, all tests (needs PostgreSQL, Chromium and pgbouncer, see README)"
            );
            eprintln!(
                "  demo          build the widget; run the demo server on http://127.0.0.1:8080/demo"
            );
            eprintln!(
                "  dist          build the widget, then target/release/trickle with it embedded"
            );
            eprintln!(
                "  build-widget  the Wasm renderer and loader into widget/dist/ (fails over 4 KiB / 120 KiB gzip)"
            );
            eprintln!(
                "  openapi       validate /openapi.json and run schemathesis against the binary"
            );
            eprintln!(
                "  bench         bench-api, then bench-widget (--quick: bench-api briefly, < 3 min)"
            );
            eprintln!(
                "  bench-api     logins, next and answers on SQLite and PostgreSQL: release server, wrk, 64 connections"
            );
            eprintln!(
                "  bench-widget  widget bytes (gzip) and time to first question in headless Chromium"
            );
            eprintln!(
                "  bench-scale-out  two replicas on PostgreSQL through pgbouncer (transaction pooling)"
            );
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

/// The target dir of this build (cargo's, or `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn cargo() -> Command {
    let mut command = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Runs `command`, saying how long it took (so a slow CI step can be found in the log).
fn run(mut command: Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {command:?}");
    let started = std::time::Instant::now();
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    eprintln!(
        "xtask: {:.0} s for {:?} {:?}",
        started.elapsed().as_secs_f64(),
        command.get_program(),
        command.get_args().take(4).collect::<Vec<_>>()
    );
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    // First, so that a machine without what it needs fails at once: the pgbouncer of
    // the replicas-through-a-pooler story (`api/tests/stories/pooler.rs`), stopped when
    // dropped, after the tests; three server connections, so that the story's clients
    // (two pools of 16) share them.
    let pooler = match env::var_os("TRICKLE_TEST_PGBOUNCER_URL") {
        Some(_) => None,
        None => {
            let postgres = env::var("TRICKLE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
            Some(pgbouncer::Pooler::start(
                &pgbouncer::ensure()?,
                &postgres,
                3,
                &target_dir().join("test-pgbouncer"),
            )?)
        }
    };
    widget::build()?;
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
    // The widget's browser-only code (`cfg(target_arch = "wasm32")`) is linted too.
    let mut clippy_wasm = cargo();
    clippy_wasm.args([
        "clippy",
        "--package",
        "trickle-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy_wasm)?;
    wasm_tests::run_in_browser()?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]).args(extra);
    if env::var_os("TRICKLE_TEST_POSTGRES_URL").is_none() {
        tests.env("TRICKLE_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES);
    }
    if let Some(pooler) = &pooler {
        tests.env("TRICKLE_TEST_PGBOUNCER_URL", pooler.url("test"));
    }
    run(tests)?;
    // Last, on the binary the tests just built: the document checked by the validator,
    // schemathesis and a generated client.
    openapi::check()
}

fn demo(extra: &[String]) -> anyhow::Result<()> {
    widget::build()?;
    let mut demo = cargo();
    // `--bin`: the package has a second binary (`trickle-bench-db`).
    demo.args([
        "run",
        "--package",
        "trickle",
        "--bin",
        "trickle",
        "--",
        "demo",
    ])
    .args(extra);
    run(demo)
}

/// `cargo build --release` of the `trickle` package's `binaries` (named: the package
/// has two).
fn build_release(binaries: &[&str]) -> anyhow::Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "--package", "trickle"]);
    for binary in binaries {
        build.args(["--bin", binary]);
    }
    run(build)
}

/// The production build: the widget first, so that `api/build.rs` embeds it.
fn dist() -> anyhow::Result<()> {
    widget::build()?;
    build_release(&["trickle"])?;
    let binary = target_dir().join("release/trickle");
    println!(
        "xtask: {} (widget embedded); copy it with trickle.example.toml to your server",
        binary.display()
    );
    Ok(())
}

/// Widget bytes (gzip) from the build, then time to first question from the browser
/// benchmark in `tests/browser.rs`.
fn bench_widget() -> anyhow::Result<()> {
    let built = widget::build()?;
    let loader = widget::gzip_len(&built.loader)?;
    let renderer = widget::gzip_len(&built.renderer_js)? + widget::gzip_len(&built.renderer_wasm)?;
    let mut bench = cargo();
    bench.args([
        "test",
        "--package",
        "trickle",
        "--test",
        "browser",
        "--",
        "--ignored",
        "--nocapture",
        "bench_time_to_first_question",
    ]);
    run(bench)?;
    println!("\n| widget bytes (gzip) | measured | budget |");
    println!("| --- | ---: | ---: |");
    println!(
        "| loader (`/widget.js`) | {loader} B | {} B |",
        widget::LOADER_BUDGET_GZIP
    );
    println!(
        "| loader + renderer (JS + Wasm) | {} B | {} B |",
        loader + renderer,
        widget::BUDGET_GZIP
    );
    Ok(())
}
