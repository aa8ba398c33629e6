//! Trickle: self-hosted progressive profiling.
//!
//! Three hops from any endpoint to the database: `http` (translate HTTP) → the
//! domain service [`Trickle`] (one method per use case) → [`store::Store`] (one
//! trait, implemented for SQLite and PostgreSQL). `questions` is the pure
//! question-set engine; it never does I/O.

pub mod cli;
pub mod config;
pub mod demo;
pub mod enrich;
pub mod enrichment;
pub mod error;
pub mod http;
pub mod jobs;
pub mod logins;
pub mod profiles;
pub mod prompting;
pub mod question_sets;
pub mod questions;
pub mod service;
pub mod sites;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod webhooks;

pub use error::Error;
pub use service::Trickle;
