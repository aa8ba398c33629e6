//! The `trickle` binary: parses the command line and hands over to [`trickle::cli`].

use clap::Parser;

/// mimalloc instead of glibc's malloc: every request allocates on tokio's threads and
/// frees on others, and glibc's malloc was about 9 % of the server's samples under
/// load (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    trickle::cli::run(trickle::cli::Cli::parse()).await
}
