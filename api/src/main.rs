//! The `trickle` binary: parses the command line and hands over to [`trickle::cli`].

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    trickle::cli::run(trickle::cli::Cli::parse()).await
}
