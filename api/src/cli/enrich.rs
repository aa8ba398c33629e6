//! `trickle enrich`: queue a provider for existing users (a backfill), with a progress
//! bar on a terminal and plain progress lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::bail;

use crate::app::App;
use crate::app::enrichment::{BackfillFilter, BackfillProgress};

/// Width of the progress bar, in characters.
const BAR_WIDTH: usize = 30;

/// What `trickle enrich` was asked to do.
#[derive(Debug, Clone)]
pub struct EnrichArgs {
    /// The provider's name.
    pub provider: String,
    /// One site, or every site.
    pub site: Option<String>,
    /// A `where` condition in JSON, as `GET /v1/users?where=` takes it.
    pub filter: Option<String>,
    /// Start from the first user even if an earlier run was interrupted.
    pub restart: bool,
}

/// Queues the provider for the users of the site (or of every site), printing progress
/// to `out`; `terminal` draws a bar in place instead of lines.
pub async fn enrich(
    app: &App,
    args: &EnrichArgs,
    out: &mut (dyn Write + Send),
    terminal: bool,
) -> anyhow::Result<Vec<(String, BackfillProgress)>> {
    let filter = BackfillFilter::parse(args.filter.as_deref())?;
    let sites = match &args.site {
        Some(site) => vec![app.sites().get(site).await?],
        None => app.sites().all().await?,
    };
    if sites.is_empty() {
        bail!("there is no site yet");
    }
    let mut reports = Vec::new();
    for site in sites {
        let started = Instant::now();
        let mut last_line = Instant::now();
        let site_id = site.site_id.clone();
        let mut draw = |progress: &BackfillProgress| {
            let rate = progress.scanned as f64 / started.elapsed().as_secs_f64().max(0.001);
            let _ = if terminal {
                let filled = (progress.scanned * BAR_WIDTH as i64)
                    .checked_div(progress.total)
                    .unwrap_or(BAR_WIDTH as i64) as usize;
                write!(
                    out,
                    "\r{site_id} [{}{}] {}/{} users, {} queued, {rate:.0} users/s ",
                    "#".repeat(filled.min(BAR_WIDTH)),
                    "-".repeat(BAR_WIDTH - filled.min(BAR_WIDTH)),
                    progress.scanned,
                    progress.total,
                    progress.queued,
                )
            } else if progress.finished || last_line.elapsed().as_secs() >= 1 {
                last_line = Instant::now();
                writeln!(
                    out,
                    "{site_id}: {}/{} users examined, {} queued ({rate:.0} users/s)",
                    progress.scanned, progress.total, progress.queued
                )
            } else {
                Ok(())
            };
            let _ = out.flush();
        };
        let report = app
            .enrichment()
            .backfill(&site, &args.provider, &filter, args.restart, &mut draw)
            .await?;
        let resumed = if report.resumed {
            " (resumed an interrupted run)"
        } else {
            ""
        };
        if terminal {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}: queued {} for {} of {} users{resumed}; running servers' workers call it under its quotas",
            site.site_id, args.provider, report.queued, report.scanned
        )?;
        reports.push((site.site_id.clone(), report));
    }
    Ok(reports)
}

/// Whether standard output is a terminal (then a bar is drawn).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}
