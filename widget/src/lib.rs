//! The Trickle widget: a Yew renderer compiled to Wasm and served by the `trickle` binary.
//!
//! Placeholder crate for now: the widget issue fills it in. It is kept out of the
//! workspace's `default-members` so plain `cargo build` never needs the Wasm target.
