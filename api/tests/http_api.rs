//! Every endpoint against the real router, called in-process, happy paths and error paths;
//! each test on SQLite and on PostgreSQL (`on_both_databases!`). One binary, one module
//! per area.

mod common;
mod http;
