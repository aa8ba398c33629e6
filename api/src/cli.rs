//! The `trickle` command line: serve, migrate, sites, question sets, user hashes, demo.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Trickle;
use crate::config::Settings;
use crate::http::{AppState, router};
use crate::questions::parse_question_set;
use crate::store;

/// Trickle: progressive profiling for your site.
#[derive(Debug, Parser)]
#[command(name = "trickle", version, about)]
pub struct Cli {
    /// Configuration file (default: ./trickle.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Database URL (overrides the file and TRICKLE_DATABASE_URL).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies migrations first).
    Serve {
        /// Address to listen on (overrides TRICKLE_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Lint and push question sets.
    #[command(subcommand, name = "question-sets")]
    QuestionSets(QuestionSetsCommand),
    /// Print the user hash a site's backend renders into the script tag.
    UserHash {
        #[arg(long)]
        site: String,
        user: String,
    },
    /// A ready demo: fresh SQLite database, example question sets, a demo site.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
}

/// `trickle site …`
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Create a site and print its keys as JSON (the secret key is shown only once).
    Create {
        #[arg(long)]
        name: String,
        /// An origin allowed to embed the widget, e.g. https://shop.example.com (repeatable).
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// Print a site's settings as JSON.
    Show {
        #[arg(long)]
        site: String,
    },
    /// Change where and when the widget shows; prints the site as JSON. Options not
    /// given are left as they are.
    Settings {
        #[arg(long)]
        site: String,
        /// bottom-right, bottom-left, top-right or top-left.
        #[arg(long)]
        corner: Option<String>,
        /// Delay before a due prompt shows, in milliseconds.
        #[arg(long)]
        delay_ms: Option<u32>,
        /// Minimum hours between two prompts.
        #[arg(long)]
        min_hours_between_prompts: Option<u32>,
        /// A path glob where the widget may show (repeatable; replaces the list).
        #[arg(long = "show-on")]
        show_on: Vec<String>,
        /// A path glob where it never shows, e.g. /checkout/** (repeatable; replaces the list).
        #[arg(long = "hide-on")]
        hide_on: Vec<String>,
        /// auto, light or dark.
        #[arg(long)]
        theme_mode: Option<String>,
        /// Brand colour as #rrggbb.
        #[arg(long)]
        brand_color: Option<String>,
        /// CSS font-family list.
        #[arg(long)]
        font: Option<String>,
        /// Corner radius in pixels.
        #[arg(long)]
        radius_px: Option<u32>,
    },
}

/// `trickle question-sets …`
#[derive(Debug, Subcommand)]
pub enum QuestionSetsCommand {
    /// Check files; prints every problem as file:line:column: message.
    Lint {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Store each file as a new draft version of its set.
    Push {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        site: String,
        /// Publish the new versions too.
        #[arg(long)]
        publish: bool,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref()).context("reading configuration")?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    crate::telemetry::init_logging(settings.log_format);
    match cli.command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            let trickle = open(&settings).await?;
            serve(trickle, &settings).await
        }
        Command::Migrate => {
            open(&settings).await?;
            println!("migrations applied to {}", redact(&settings.database_url));
            Ok(())
        }
        Command::Site(command) => site_command(&open(&settings).await?, command).await,
        Command::QuestionSets(QuestionSetsCommand::Lint { paths }) => lint(&paths),
        Command::QuestionSets(QuestionSetsCommand::Push {
            paths,
            site,
            publish,
        }) => push(&open(&settings).await?, &paths, &site, publish).await,
        Command::UserHash { site, user } => {
            println!(
                "{}",
                open(&settings).await?.user_hash_for(&site, &user).await?
            );
            Ok(())
        }
        Command::Demo { listen } => {
            let keep_database = cli_database_given(&settings);
            crate::demo::run(settings, listen, keep_database).await
        }
    }
}

fn cli_database_given(settings: &Settings) -> bool {
    settings.database_url != Settings::default().database_url
}

fn redact(url: &str) -> String {
    format!(
        "{:?}",
        Settings {
            database_url: url.to_owned(),
            ..Settings::default()
        }
    )
    .split("database_url: \"")
    .nth(1)
    .and_then(|rest| rest.split('"').next())
    .unwrap_or(url)
    .to_owned()
}

/// Connects, migrates and builds the service.
pub async fn open(settings: &Settings) -> anyhow::Result<Trickle> {
    let store = store::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    store.migrate().await.context("applying migrations")?;
    Trickle::from_settings(store, settings).context("configuring enrichment")
}

/// Serves HTTP until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve(trickle: Trickle, settings: &Settings) -> anyhow::Result<()> {
    serve_with(trickle, settings, axum::Router::new()).await
}

/// [`serve`] with extra routes (the demo's page).
pub async fn serve_with(
    trickle: Trickle,
    settings: &Settings,
    extra: axum::Router,
) -> anyhow::Result<()> {
    trickle.spawn_invalidation_listener().await?;
    trickle.spawn_worker();
    let state = AppState::new(trickle, settings);
    let limiter = state.limiter.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limiter.forget_idle();
        }
    });
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(address = %listener.local_addr()?, "trickle listening");
    axum::serve(
        listener,
        router(state)
            .merge(extra)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("trickle stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

async fn site_command(trickle: &Trickle, command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Create { name, origins } => {
            let keys = trickle.create_site(&name, origins).await?;
            println!("{}", serde_json::to_string_pretty(&keys)?);
        }
        SiteCommand::Settings {
            site,
            corner,
            delay_ms,
            min_hours_between_prompts,
            show_on,
            hide_on,
            theme_mode,
            brand_color,
            font,
            radius_px,
        } => {
            let mut change = serde_json::Map::new();
            let mut theme = serde_json::Map::new();
            set(&mut change, "corner", serde_json::json!(corner));
            set(&mut change, "delay_ms", serde_json::json!(delay_ms));
            set(
                &mut change,
                "min_hours_between_prompts",
                serde_json::json!(min_hours_between_prompts),
            );
            if !show_on.is_empty() {
                set(&mut change, "show_on", serde_json::json!(show_on));
            }
            if !hide_on.is_empty() {
                set(&mut change, "hide_on", serde_json::json!(hide_on));
            }
            set(&mut theme, "mode", serde_json::json!(theme_mode));
            set(&mut theme, "brand_color", serde_json::json!(brand_color));
            set(&mut theme, "font", serde_json::json!(font));
            set(&mut theme, "radius_px", serde_json::json!(radius_px));
            if !theme.is_empty() {
                change.insert("theme".into(), theme.into());
            }
            let current = trickle.site(&site).await?;
            let patch = crate::sites::SitePatch {
                allowed_origins: None,
                widget_settings: Some(change.into()),
            };
            let site = trickle.update_site(&current, patch).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::sites::SiteView::from(&site))?
            );
        }
        SiteCommand::Show { site } => {
            let site = trickle.site(&site).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::sites::SiteView::from(&site))?
            );
        }
    }
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn lint(paths: &[PathBuf]) -> anyhow::Result<()> {
    let mut problems = 0;
    for path in paths {
        match parse_question_set(&read(path)?, &path.display().to_string()) {
            Ok(set) => println!(
                "ok {} ({}, {} stages)",
                path.display(),
                set.slug,
                set.stages.len()
            ),
            Err(found) => {
                problems += found.len();
                for problem in found {
                    println!("{problem}");
                }
            }
        }
    }
    if problems > 0 {
        bail!("{problems} problem(s) found");
    }
    Ok(())
}

async fn push(
    trickle: &Trickle,
    paths: &[PathBuf],
    site_id: &str,
    publish: bool,
) -> anyhow::Result<()> {
    let site = trickle.site(site_id).await?;
    for path in paths {
        let source = read(path)?;
        let name = path.display().to_string();
        let slug = match parse_question_set(&source, &name) {
            Ok(set) => set.slug,
            Err(problems) => {
                for problem in &problems {
                    println!("{problem}");
                }
                bail!("{name}: {} problem(s); nothing pushed", problems.len());
            }
        };
        let mut version = trickle.save_draft(&site, &slug, &source, &name).await?;
        if publish {
            version = trickle.publish(&site, &slug, version.version).await?;
        }
        let state = if version.published {
            "published"
        } else {
            "draft"
        };
        println!("{name}: {slug} version {} ({state})", version.version);
    }
    Ok(())
}

/// Adds `key` to a settings patch unless the option was left out (null).
fn set(map: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: serde_json::Value) {
    if !value.is_null() {
        map.insert(key.to_owned(), value);
    }
}
