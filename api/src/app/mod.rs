//! The use cases, one module per concept, and [`App`], which wires them.
//!
//! A handler reaches a use case in one hop: `app.logins().record(…)` is in
//! `logins.rs`, `app.prompts().answer(…)` in `prompts.rs`, and so on. Each use case
//! imports the model, the store and the pure engine; none sees HTTP.

pub mod access;
pub mod admins;
pub mod audit;
pub mod authoring;
pub mod completeness;
pub mod enrichment;
pub mod jobs;
pub mod logins;
pub mod overview;
pub mod profiles;
pub mod prompts;
pub mod publishing;
pub mod results;
pub mod retention;
pub mod segments;
pub mod sessions;
pub mod sites;
pub mod stats;
pub mod user_history;
pub mod webhooks;

use moka::future::Cache;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use crate::config::{
    ConsoleSettings, JobSettings, OutboundSettings, RetentionSettings, Settings, WebhookSettings,
};
use crate::error::{Error, Result};
use crate::model::{Admin, MetadataLimits, PublishedSets, Site};
use crate::outbound::OutboundClient;
use crate::providers::{ConfigError, Provider, build_providers};
use crate::questions::PublishedSet;
use crate::store::{Store, StoreError};

pub use access::Access;
pub use admins::Admins;
pub use audit::{Actor, Audit};
pub use authoring::Authoring;
pub use enrichment::Enrichment;
pub use jobs::{JobError, Jobs};
pub use logins::Logins;
pub use profiles::Profiles;
pub use prompts::Prompts;
pub use publishing::Publishing;
pub use results::Results;
pub use retention::Retention;
pub use segments::Segments;
pub use sessions::{Sessions, SignInLimiter};
pub use sites::Sites;
pub use stats::Stats;
pub use webhooks::Webhooks;

/// How many unknown keys are remembered at most (about 100 bytes each).
pub const UNKNOWN_KEYS_CACHED: u64 = 50_000;

/// Input limits of the spec.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub user_id_bytes: usize,
    pub answer_bytes: usize,
    pub metadata: MetadataLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            user_id_bytes: 255,
            answer_bytes: 4096,
            metadata: MetadataLimits {
                user_metadata_bytes: 64 * 1024,
                app_metadata_bytes: 256 * 1024,
            },
        }
    }
}

/// How many parsed question-set versions that are not live [`App`] keeps.
const PUBLISHED_VERSIONS_CACHED: u64 = 512;

/// Everything the use cases share: the store, the caches and the deployment's
/// settings. One per process; a clone is one reference count (every request takes
/// one).
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
}

impl std::ops::Deref for App {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// What an [`App`] holds.
#[derive(Clone)]
pub struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) limits: Limits,
    /// Sites by publishable key and by secret-key hash.
    pub(crate) sites_by_key: Cache<String, Arc<Site>>,
    /// Keys no site has (same cache keys as `sites_by_key`): a flood of made-up keys
    /// costs one query each per TTL at most, and the bounded size caps the memory.
    pub(crate) unknown_keys: Cache<String, ()>,
    /// Every origin some site allows, for CORS preflights (one entry, key `()`).
    pub(crate) allowed_origins: Cache<(), Arc<HashSet<String>>>,
    /// How long keys replaced by a rotation stay valid by default.
    pub(crate) key_grace: Duration,
    /// Live question sets per site id, pre-sorted for the engine.
    pub(crate) live_sets: Cache<String, Arc<PublishedSets>>,
    /// Published versions by (site id, slug, version), parsed once: answers may name a
    /// version that is no longer live. Versions never change once published.
    pub(crate) published_versions: Cache<(String, String, i64), Arc<PublishedSet>>,
    /// Event types some enabled webhook of a site wants, per site id.
    pub(crate) webhook_events_wanted: Cache<String, Arc<BTreeSet<String>>>,
    /// Enrichment providers configured for this deployment.
    pub(crate) providers: Arc<[Arc<dyn Provider>]>,
    pub(crate) job_settings: JobSettings,
    pub(crate) webhook_settings: WebhookSettings,
    /// Guarded client for webhook deliveries (no redirects: a receiver answers itself).
    pub(crate) http: OutboundClient,
    /// Wakes this process's worker when it enqueues jobs.
    pub(crate) jobs_enqueued: Arc<Notify>,
    pub(crate) retention_settings: RetentionSettings,
    /// When this process last ran the retention purge.
    pub(crate) last_purge: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// Console sessions and sign-in limits.
    pub(crate) console: ConsoleSettings,
    pub(crate) sign_in_limiter: Arc<SignInLimiter>,
    /// Cached providers' calls in flight, by site, provider and cache key: jobs with the
    /// same inputs wait for the first one's result instead of calling too.
    pub(crate) enrichment_in_flight: Arc<enrichment::InFlight>,
}

impl App {
    /// An app over a migrated store; cached entries live at most `cache_ttl`.
    pub fn new(store: Arc<dyn Store>, cache_ttl: Duration) -> Self {
        let shared = Shared {
            store,
            limits: Limits::default(),
            sites_by_key: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(100_000)
                .support_invalidation_closures()
                .build(),
            unknown_keys: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(UNKNOWN_KEYS_CACHED)
                .build(),
            allowed_origins: Cache::builder().time_to_live(cache_ttl).build(),
            key_grace: Duration::from_secs(24 * 60 * 60),
            live_sets: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(100_000)
                .build(),
            published_versions: Cache::builder()
                .time_to_idle(Duration::from_secs(3600))
                .max_capacity(PUBLISHED_VERSIONS_CACHED)
                .build(),
            webhook_events_wanted: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(100_000)
                .build(),
            providers: Arc::new([]),
            job_settings: JobSettings::default(),
            webhook_settings: WebhookSettings::default(),
            http: webhook_client(&OutboundSettings::default()),
            jobs_enqueued: Arc::new(Notify::new()),
            retention_settings: RetentionSettings::default(),
            last_purge: Arc::default(),
            console: ConsoleSettings::default(),
            sign_in_limiter: Arc::new(SignInLimiter::new(&ConsoleSettings::default())),
            enrichment_in_flight: Arc::default(),
        };
        App {
            shared: Arc::new(shared),
        }
    }

    /// The settings to replace, before the app is shared.
    fn settings_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.shared)
    }

    /// An app configured by `settings`: cache TTL, queue, webhooks, enrichment providers.
    pub fn from_settings(store: Arc<dyn Store>, settings: &Settings) -> Result<Self, ConfigError> {
        let providers = build_providers(&settings.enrichment, &settings.outbound)?;
        Ok(
            App::new(store, Duration::from_secs(settings.cache_ttl_seconds))
                .with_outbound(&settings.outbound)
                .with_providers(providers)
                .with_job_settings(settings.jobs.clone())
                .with_webhook_settings(settings.webhooks.clone())
                .with_retention_settings(settings.retention.clone())
                .with_key_grace(Duration::from_secs(settings.key_grace_seconds))
                .with_console_settings(settings.console.clone()),
        )
    }

    /// Replaces the default grace period of rotated keys.
    pub fn with_key_grace(mut self, grace: Duration) -> Self {
        self.settings_mut().key_grace = grace;
        self
    }

    /// Replaces the console's session length and sign-in limits.
    pub fn with_console_settings(mut self, settings: ConsoleSettings) -> Self {
        self.settings_mut().sign_in_limiter = Arc::new(SignInLimiter::new(&settings));
        self.settings_mut().console = settings;
        self
    }

    /// Replaces which addresses webhooks may be delivered to (providers get theirs
    /// when built).
    pub fn with_outbound(mut self, settings: &OutboundSettings) -> Self {
        self.settings_mut().http = webhook_client(settings);
        self
    }

    /// Replaces the enrichment providers.
    pub fn with_providers(mut self, providers: Vec<Arc<dyn Provider>>) -> Self {
        self.settings_mut().providers = providers.into();
        self
    }

    /// Replaces the queue tuning.
    pub fn with_job_settings(mut self, settings: JobSettings) -> Self {
        self.settings_mut().job_settings = settings;
        self
    }

    /// Replaces the webhook tuning.
    pub fn with_webhook_settings(mut self, settings: WebhookSettings) -> Self {
        self.settings_mut().webhook_settings = settings;
        self
    }

    /// Replaces how long history is kept.
    pub fn with_retention_settings(mut self, settings: RetentionSettings) -> Self {
        self.settings_mut().retention_settings = settings;
        self
    }

    /// Sites, their keys, settings and user hashes.
    pub fn sites(&self) -> Sites<'_> {
        Sites { app: self }
    }

    /// Login counting.
    pub fn logins(&self) -> Logins<'_> {
        Logins { app: self }
    }

    /// User profiles: read, patch, erase, list.
    pub fn profiles(&self) -> Profiles<'_> {
        Profiles { app: self }
    }

    /// The widget's flow: the due prompt, answers, skips, impressions.
    pub fn prompts(&self) -> Prompts<'_> {
        Prompts { app: self }
    }

    /// Question-set drafts, publishing and history.
    pub fn publishing(&self) -> Publishing<'_> {
        Publishing { app: self }
    }

    /// Answer statistics.
    pub fn stats(&self) -> Stats<'_> {
        Stats { app: self }
    }

    /// Webhook subscriptions, events and deliveries.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { app: self }
    }

    /// Enrichment runs.
    pub fn enrichment(&self) -> Enrichment<'_> {
        Enrichment { app: self }
    }

    /// The job queue's worker.
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { app: self }
    }

    /// The retention purge.
    pub fn retention(&self) -> Retention<'_> {
        Retention { app: self }
    }

    /// Console accounts.
    pub fn admins(&self) -> Admins<'_> {
        Admins { app: self }
    }

    /// Console sign-in and sessions.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { app: self }
    }

    /// The audit log.
    pub fn audit(&self) -> Audit<'_> {
        Audit { app: self }
    }

    /// Saved segments.
    pub fn segments(&self) -> Segments<'_> {
        Segments { app: self }
    }

    /// What a signed-in admin may do with sites.
    pub fn access<'a>(&'a self, admin: &'a Admin) -> Access<'a> {
        Access { app: self, admin }
    }

    /// A question set's results under filters.
    pub fn results(&self) -> Results<'_> {
        Results { app: self }
    }

    /// A signed-in admin's question-set authoring (the console's editor).
    pub fn authoring<'a>(&'a self, admin: &'a Admin) -> Authoring<'a> {
        Authoring { app: self, admin }
    }

    /// The store, for operations and the CLI.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// Drops everything cached about a site (after a change here or on another replica).
    pub async fn invalidate_site(&self, site_id: &str) {
        self.live_sets.invalidate(site_id).await;
        self.allowed_origins.invalidate(&()).await;
        self.webhook_events_wanted.invalidate(site_id).await;
        let site_id = site_id.to_owned();
        // Keyed by credentials, so scan; sites change rarely.
        self.sites_by_key
            .invalidate_entries_if(move |_, site| site.site_id == site_id)
            .expect("the cache is built with support_invalidation_closures");
    }

    /// Follows other replicas' changes (PostgreSQL) until the process ends.
    pub async fn spawn_invalidation_listener(&self) -> Result<()> {
        if let Some(mut changes) = self.store.subscribe_invalidations().await? {
            let this = self.clone();
            tokio::spawn(async move {
                while let Some(site_id) = changes.recv().await {
                    this.invalidate_site(&site_id).await;
                }
            });
        }
        Ok(())
    }

    /// The live question sets of a site, from the cache or the database.
    pub(crate) async fn live_sets(&self, site_id: &str) -> Result<Arc<PublishedSets>> {
        let store = self.store.clone();
        let id = site_id.to_owned();
        self.live_sets
            .try_get_with(site_id.to_owned(), async move {
                let versions = store.live_question_sets(&id).await?;
                let sets = versions
                    .into_iter()
                    .map(|v| v.into_published())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok::<_, Error>(Arc::new(PublishedSets::new(sets)))
            })
            .await
            .map_err(unwrap_shared)
    }
}

/// The guarded client webhooks are delivered with.
fn webhook_client(settings: &OutboundSettings) -> OutboundClient {
    let user_agent = concat!("Trickle-Webhooks/", env!("CARGO_PKG_VERSION"));
    OutboundClient::new(settings, user_agent, None).expect("the HTTP client builds")
}

/// moka shares one loader error between all waiters; rebuild an owned one.
pub(crate) fn unwrap_shared(error: Arc<Error>) -> Error {
    match Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => match &*shared {
            Error::NotFound { what } => Error::NotFound { what },
            Error::Unauthorized { code, message } => Error::Unauthorized {
                code,
                message: message.clone(),
            },
            other => Error::Store(StoreError::Shared(other.to_string())),
        },
    }
}
