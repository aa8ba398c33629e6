//! Rebuild when a migration changes (`sqlx::migrate!` embeds them at compile time),
//! and embed the built widget (`cargo xtask build-widget` writes `widget/dist/`;
//! `TRICKLE_WIDGET_DIST` points elsewhere) as `$OUT_DIR/widget_assets.rs`.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-env-changed=TRICKLE_WIDGET_DIST");
    let dist = std::env::var_os("TRICKLE_WIDGET_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../widget/dist"));
    // Watch the folder when it exists; otherwise its parent, so that building the
    // widget later triggers a rebuild.
    let watched = if dist.is_dir() {
        dist.clone()
    } else {
        dist.parent().unwrap_or(&dist).to_owned()
    };
    println!("cargo:rerun-if-changed={}", watched.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dist)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "js" || e == "wasm"));
    files.sort();
    let has_loader = files.iter().any(|p| p.ends_with("widget.js"));
    if !has_loader && std::env::var("PROFILE").as_deref() == Ok("release") {
        println!(
            "cargo:warning=building trickle WITHOUT the widget ({} has no widget.js): \
             /widget.js will not work; use `cargo xtask dist` for the whole product",
            dist.display()
        );
    }
    let mut out = String::from(
        "/// The widget files embedded at build time (empty: built without the widget).\npub static FILES: &[EmbeddedFile] = &[\n",
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let gz = path.with_file_name(format!("{name}.gz"));
        let gzip = if gz.is_file() {
            format!("Some(include_bytes!({:?}))", gz.display().to_string())
        } else {
            "None".into()
        };
        out.push_str(&format!(
            "    EmbeddedFile {{ name: {name:?}, body: include_bytes!({:?}), gzip: {gzip} }},\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var_os("OUT_DIR").unwrap()).join("widget_assets.rs");
    std::fs::write(target, out).unwrap();
}
