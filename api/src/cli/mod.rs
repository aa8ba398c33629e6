//! The `trickle` command line: serve, migrate, sites, question sets, user hashes,
//! enrichment backfills, demo.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod demo;
pub mod demo_seed;
mod enrich;
mod serve;

pub use enrich::{EnrichArgs, enrich};

use crate::app::Actor;
use crate::app::App;
use crate::app::admins::generate_password;
use crate::config::Settings;
use crate::model::site::{KeyRotationRequest, SiteKey};
use crate::model::{Role, SitePatch, SiteView};
use crate::questions::parse_question_set;
use serve::{open, redact, serve};

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
    /// The same PostgreSQL database without the transaction pooler that the database
    /// URL goes through, for migrations and LISTEN (overrides
    /// TRICKLE_DATABASE_DIRECT_URL).
    #[arg(long, global = true)]
    pub database_direct_url: Option<String>,
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
    /// Console admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Queue an enrichment provider for existing users (a backfill): resumable, and the
    /// workers obey the provider's rate and daily budget.
    Enrich {
        /// The provider's name (`geoip`, `email`, … or an http provider's NAME).
        #[arg(long)]
        provider: String,
        /// Only this site (default: every site).
        #[arg(long)]
        site: Option<String>,
        /// Only users this condition holds for: the `when` language's JSON form, as
        /// `GET /v1/users?where=` takes it.
        #[arg(long = "where")]
        filter: Option<String>,
        /// Start from the first user even if an earlier run was interrupted.
        #[arg(long)]
        restart: bool,
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
        #[arg(long = "origin", value_parser = crate::model::site::canonical_origin)]
        origins: Vec<String>,
    },
    /// Print a site's settings as JSON.
    Show {
        #[arg(long)]
        site: String,
    },
    /// Replace keys and print the new ones as JSON (shown only once). The replaced keys
    /// stay valid for the grace period, so live pages keep working meanwhile.
    #[command(name = "rotate-keys")]
    RotateKeys {
        #[arg(long)]
        site: String,
        /// A key to replace (repeatable; default: all three).
        #[arg(long = "key", value_enum)]
        keys: Vec<KeyArg>,
        /// Seconds the replaced keys stay valid (default: key_grace_seconds, 24 h;
        /// 0 refuses them at once).
        #[arg(long)]
        grace_seconds: Option<u64>,
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

/// `trickle admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console admin and print the password (generated unless
    /// --password-stdin). There are no default credentials.
    Create {
        #[arg(long)]
        email: String,
        /// owner (every site, and the admins) or member (the sites granted).
        #[arg(long, value_enum, default_value = "owner")]
        role: RoleArg,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Let a member manage a site.
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        site: String,
    },
}

/// An admin's role, as named on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Owner,
    Member,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Owner => Role::Owner,
            RoleArg::Member => Role::Member,
        }
    }
}

/// A site key, as named on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyArg {
    PublishableKey,
    SecretKey,
    IdentitySecret,
}

impl From<KeyArg> for SiteKey {
    fn from(key: KeyArg) -> SiteKey {
        match key {
            KeyArg::PublishableKey => SiteKey::PublishableKey,
            KeyArg::SecretKey => SiteKey::SecretKey,
            KeyArg::IdentitySecret => SiteKey::IdentitySecret,
        }
    }
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
        // A direct URL from the file or the environment belongs to the database they
        // name, not to this one: migrations would go there.
        settings.database_direct_url = None;
    }
    if let Some(url) = cli.database_direct_url {
        settings.database_direct_url = Some(url);
    }
    crate::telemetry::init_logging(settings.log_format);
    match cli.command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            let app = open(&settings).await?;
            serve(app, &settings).await
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
                open(&settings)
                    .await?
                    .sites()
                    .user_hash_for(&site, &user)
                    .await?
            );
            Ok(())
        }
        Command::Admin(command) => admin_command(&open(&settings).await?, command).await,
        Command::Enrich {
            provider,
            site,
            filter,
            restart,
        } => {
            let app = open(&settings).await?;
            let args = EnrichArgs {
                provider,
                site,
                filter,
                restart,
            };
            let mut out = std::io::stdout();
            enrich(&app, &args, &mut out, enrich::stdout_is_terminal()).await?;
            Ok(())
        }
        Command::Demo { listen } => {
            let keep_database = cli_database_given(&settings);
            demo::run(settings, listen, keep_database).await
        }
    }
}

fn cli_database_given(settings: &Settings) -> bool {
    settings.database_url != Settings::default().database_url
}

async fn site_command(app: &App, command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Create { name, origins } => {
            let keys = app.sites().create(&name, origins).await?;
            app.audit()
                .site_created(&Actor::command_line(), &keys)
                .await?;
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
            let current = app.sites().get(&site).await?;
            let patch = SitePatch {
                allowed_origins: None,
                widget_settings: Some(change.into()),
            };
            let site = app
                .sites()
                .update(&Actor::command_line(), &current, patch)
                .await?;
            println!("{}", serde_json::to_string_pretty(&SiteView::from(&site))?);
        }
        SiteCommand::Show { site } => {
            let site = app.sites().get(&site).await?;
            println!("{}", serde_json::to_string_pretty(&SiteView::from(&site))?);
        }
        SiteCommand::RotateKeys {
            site,
            keys,
            grace_seconds,
        } => {
            let keys = if keys.is_empty() {
                vec![
                    SiteKey::PublishableKey,
                    SiteKey::SecretKey,
                    SiteKey::IdentitySecret,
                ]
            } else {
                keys.into_iter().map(SiteKey::from).collect()
            };
            let site = app.sites().get(&site).await?;
            let request = KeyRotationRequest {
                keys,
                grace_seconds,
            };
            let rotated = app
                .sites()
                .rotate_keys(&Actor::command_line(), &site, None, request)
                .await?;
            println!("{}", serde_json::to_string_pretty(&rotated)?);
        }
    }
    Ok(())
}

async fn admin_command(app: &App, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create {
            email,
            role,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (generate_password(), true)
            };
            let admin = app
                .admins()
                .create(&Actor::command_line(), &email, role.into(), &password)
                .await?;
            println!(
                "created {} ({}), id {}",
                admin.email, admin.role, admin.admin_id
            );
            if generated {
                println!("password: {password}");
                println!("(shown only now; sign in at /console)");
            }
        }
        AdminCommand::Grant { email, site } => {
            let granted = app
                .admins()
                .grant(&Actor::command_line(), &email, &site)
                .await?;
            let state = if granted {
                "may now manage"
            } else {
                "could already manage"
            };
            println!("{email} {state} {site}");
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

async fn push(app: &App, paths: &[PathBuf], site_id: &str, publish: bool) -> anyhow::Result<()> {
    let site = app.sites().get(site_id).await?;
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
        let mut version = app
            .publishing()
            .save_draft(&Actor::command_line(), &site, &slug, &source, &name)
            .await?;
        if publish {
            version = app
                .publishing()
                .publish(&Actor::command_line(), &site, &slug, version.version)
                .await?;
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
