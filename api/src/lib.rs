//! Trickle: self-hosted progressive profiling.
//!
//! Layers, from the bottom up; each imports only those below it:
//! - [`questions`]: the pure question-set engine (format, parser, conditions, the
//!   due rule, answers, prompts). No I/O.
//! - [`model`]: the records Trickle stores and returns.
//! - [`store`]: one interface over the database, the SQL written once for SQLite
//!   and PostgreSQL.
//! - [`outbound`]: the guarded HTTP client for tenant- and operator-named URLs.
//! - [`providers`]: enrichment providers (GeoIP, user agent, e-mail, HTTP APIs).
//! - [`app`]: the use cases, one module per concept, wired by [`App`].
//! - [`http`], [`console`] and [`cli`]: translate requests, console pages and commands
//!   into use cases.

pub mod app;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod error;
pub mod http;
pub mod model;
pub mod outbound;
pub mod providers;
pub mod questions;
pub mod store;
pub mod telemetry;
pub mod widget_files;

pub use app::App;
pub use error::Error;
