//! Trickle's answer rules, in one place for the server (`api`) and the widget (Wasm).
//!
//! The question kinds ([`Kind`]), the limits ([`limits`]) and the pure checks, each
//! returning the normalised answer or a [`Refusal`] (the rule the server reports,
//! such as `min_length` or `format`, and a short English reason). Both sides call
//! these checks, so the widget accepts nothing that the server refuses for these
//! rules. The server adds what is too heavy for the widget: E.164 normalisation with
//! libphonenumber's metadata (feature `e164`), WHATWG URL parsing and the regex
//! `pattern` (the widget runs `pattern` with the browser's `RegExp`).
//! `docs/decisions/0003-shared-answer-rules.md` lists what the server refuses beyond
//! these checks.
//!
//! `no_std` with `alloc`, and no dependencies by default, so that the widget's Wasm
//! stays small: no float parsing or formatting and no case tables are compiled in
//! (callers pass their own lower-casing where one is needed).
#![no_std]

extern crate alloc;

pub mod choice;
pub mod country;
pub mod date;
pub mod email;
mod kind;
pub mod limits;
pub mod number;
pub mod phone;
mod refusal;
pub mod text;
pub mod url;
pub mod widget_look;

pub use kind::Kind;
pub use refusal::{Refusal, Rule};
