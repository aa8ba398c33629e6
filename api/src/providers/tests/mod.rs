//! Tests of the enrichment providers.

mod config;
mod email;
mod geoip;
mod http;
mod pipelines;
mod sample;
mod support;
mod user_agent;
