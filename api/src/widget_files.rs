//! The built widget, embedded at build time by `api/build.rs` (`cargo xtask
//! build-widget` writes `widget/dist/`): the loader and the content-hashed renderer.
//! Below both presentation layers: `http/` serves the files, the console's live
//! preview mounts the same renderer.

/// One embedded file and its precompressed copy.
pub struct EmbeddedFile {
    pub name: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/widget_assets.rs"));

/// The loader's file name.
pub const LOADER: &str = "widget.js";

/// The renderer's two files, as served under `/widget/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renderer {
    /// `renderer-<hash>.js`: the wasm-bindgen module.
    pub js: &'static str,
    /// `renderer-<hash>.wasm`.
    pub wasm: &'static str,
}

/// The renderer's files; `None` when the binary was built without the widget.
pub fn renderer() -> Option<Renderer> {
    let named = |ext: &str| {
        FILES
            .iter()
            .map(|f| f.name)
            .find(|name| name.starts_with("renderer-") && name.ends_with(ext))
    };
    Some(Renderer {
        js: named(".js")?,
        wasm: named(".wasm")?,
    })
}
