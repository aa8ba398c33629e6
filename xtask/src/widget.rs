//! `cargo xtask build-widget`: the Wasm renderer and the loader, as content-hashed
//! files in `widget/dist/`, which `api/build.rs` embeds into the `trickle` binary.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, run, target_dir, workspace_root};

/// Installs the Wasm target when rustup manages the toolchain (a no-op when present), so
/// `cargo xtask demo` and `cargo xtask test` work on a fresh machine as they are.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-unknown-unknown") =>
        {
            Ok(())
        }
        Ok(_) => {
            let mut add = Command::new("rustup");
            add.args(["target", "add", "wasm32-unknown-unknown"]);
            run(add)
        }
        // No rustup: the toolchain must already have the target; cargo will say if not.
        Err(_) => Ok(()),
    }
}

/// Where the built widget goes (gitignored; read by `api/build.rs`).
pub fn dist_dir() -> PathBuf {
    workspace_root().join("widget/dist")
}

/// Budget of the loader and the renderer (JS + Wasm) together, in gzip bytes (120 KiB):
/// `build` fails above it.
pub const BUDGET_GZIP: usize = 122_880;

/// Budget of the loader alone (`/widget.js`), in gzip bytes: every page view pays it.
pub const LOADER_BUDGET_GZIP: usize = 4_096;

/// Fails when `what` is over `budget` gzip bytes at `total`, saying by how much.
pub fn check_budget(what: &str, total: usize, budget: usize) -> anyhow::Result<()> {
    if total > budget {
        bail!(
            "{what} is {total} B gzip, over its budget of {budget} B by {} B",
            total - budget
        );
    }
    Ok(())
}

/// Sizes of what was built, for the build log and the benchmark.
pub struct Built {
    pub loader: PathBuf,
    pub renderer_js: PathBuf,
    pub renderer_wasm: PathBuf,
}

pub fn build() -> anyhow::Result<Built> {
    ensure_wasm_target()?;
    // Its own target dir: a nested cargo on the same one would wait for our own lock.
    let wasm_target = target_dir().join("widget");
    let mut wasm = cargo();
    wasm.args([
        "build",
        "--package",
        "trickle-widget",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "widget",
        "--target-dir",
    ])
    .arg(&wasm_target);
    run(wasm)?;
    let input = wasm_target.join("wasm32-unknown-unknown/widget/trickle_widget.wasm");

    let bound = wasm_target.join("bound");
    let _ = std::fs::remove_dir_all(&bound);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name("renderer")
        .web(true)?
        .typescript(false)
        .omit_default_module_path(true)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&bound)
        .context("wasm-bindgen")?;
    let js = std::fs::read(bound.join("renderer.js"))?;
    let mut wasm_bytes = std::fs::read(bound.join("renderer_bg.wasm"))?;
    wasm_bytes = shrink(&bound.join("renderer_bg.wasm"), wasm_bytes)?;

    let dist = dist_dir();
    std::fs::create_dir_all(&dist)?;
    let js_name = format!("renderer-{}.js", short_hash(&js));
    let wasm_name = format!("renderer-{}.wasm", short_hash(&wasm_bytes));
    let loader = std::fs::read_to_string(workspace_root().join("widget/loader.js"))?
        .replace("__TRICKLE_RENDERER_JS__", &js_name)
        .replace("__TRICKLE_RENDERER_WASM__", &wasm_name);
    let built = Built {
        loader: write(&dist, "widget.js", loader.as_bytes())?,
        renderer_js: write(&dist, &js_name, &js)?,
        renderer_wasm: write(&dist, &wasm_name, &wasm_bytes)?,
    };
    // The renderers of earlier builds (other hashes) go; what is unchanged keeps its
    // modification time, so `api/build.rs` does not rebuild `trickle` for it.
    let kept = ["widget.js", &js_name, &wasm_name];
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if !kept.contains(&name) {
            std::fs::remove_file(&path)?;
        }
    }
    let mut total = 0;
    for path in [&built.loader, &built.renderer_js, &built.renderer_wasm] {
        let raw = std::fs::metadata(path)?.len();
        let gz = gzip_len(path)?;
        eprintln!("xtask: {} {raw} bytes, {gz} gzip", path.display());
        total += gz;
    }
    eprintln!("xtask: widget total {total} B gzip, budget {BUDGET_GZIP} B");
    check_budget(
        "the loader (widget/loader.js)",
        gzip_len(&built.loader)?,
        LOADER_BUDGET_GZIP,
    )?;
    check_budget(
        "the widget (loader + renderer JS + Wasm)",
        total,
        BUDGET_GZIP,
    )?;
    Ok(built)
}

/// `wasm-opt -Oz` when it is installed (e.g. `npm install -g binaryen`); reports the gain
/// and keeps whichever is smaller after gzip.
fn shrink(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let found = Command::new("wasm-opt").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("xtask: wasm-opt not found (npm install -g binaryen); renderer left unshrunk");
        return Ok(bytes);
    }
    let out = path.with_extension("opt.wasm");
    let mut opt = Command::new("wasm-opt");
    opt.arg(path).arg("-o").arg(&out).args([
        "-Oz",
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-reference-types",
        "--enable-multivalue",
        "--enable-mutable-globals",
    ]);
    run(opt)?;
    let shrunk = std::fs::read(&out)?;
    eprintln!(
        "xtask: wasm-opt -Oz: {} → {} bytes ({} → {} gzip)",
        bytes.len(),
        shrunk.len(),
        gzip(&bytes)?.len(),
        gzip(&shrunk)?.len()
    );
    if shrunk.is_empty() {
        bail!("wasm-opt wrote nothing");
    }
    // Budgets are on gzip bytes; -Oz sometimes compresses worse than its input.
    if gzip(&shrunk)?.len() > gzip(&bytes)?.len() {
        eprintln!("xtask: keeping the unshrunk renderer: it is smaller after gzip");
        return Ok(bytes);
    }
    Ok(shrunk)
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `name` and its precompressed `name.gz` (served to clients that accept gzip),
/// each only when its bytes differ from what is there.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    write_if_changed(&path, bytes)?;
    write_if_changed(&dir.join(format!("{name}.gz")), &gzip(bytes)?)?;
    Ok(path)
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

pub fn gzip_len(path: &Path) -> anyhow::Result<usize> {
    Ok(gzip(&std::fs::read(path)?)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_fails_only_above_it() {
        assert!(check_budget("the widget", BUDGET_GZIP, BUDGET_GZIP).is_ok());
        let err = check_budget("the widget", BUDGET_GZIP + 5, BUDGET_GZIP).unwrap_err();
        assert!(err.to_string().contains("122885 B gzip"), "{err}");
        assert!(err.to_string().contains("by 5 B"), "{err}");
    }
}
