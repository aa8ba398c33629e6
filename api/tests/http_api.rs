//! Every endpoint over real HTTP against the router, happy paths and error paths.
//! One binary, one module per area.

mod common;
mod http;
