//! [`Trickle`]: the domain service. One method per use case, implemented in the
//! module named for its concept (`logins`, `profiles`, `prompting`, …). It owns the
//! store and the caches; it never sees HTTP.

use chrono::{DateTime, SubsecRound, Utc};
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::question_sets::PublishedSets;
use crate::sites::Site;
use crate::store::{MetadataLimits, Store};

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

/// The domain service shared by every request.
#[derive(Clone)]
pub struct Trickle {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) limits: Limits,
    /// Sites by publishable key and by secret-key hash.
    pub(crate) sites_by_key: Cache<String, Arc<Site>>,
    /// Live question sets per site id, pre-sorted for the engine.
    pub(crate) live_sets: Cache<String, Arc<PublishedSets>>,
}

impl Trickle {
    /// A service over a migrated store; cached entries live at most `cache_ttl`.
    pub fn new(store: Arc<dyn Store>, cache_ttl: Duration) -> Self {
        Trickle {
            store,
            limits: Limits::default(),
            sites_by_key: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(100_000)
                .support_invalidation_closures()
                .build(),
            live_sets: Cache::builder()
                .time_to_live(cache_ttl)
                .max_capacity(100_000)
                .build(),
        }
    }

    /// The store, for operations (readiness) and the CLI.
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
                    .collect::<Result<Vec<_>>>()?;
                Ok::<_, Error>(Arc::new(PublishedSets::new(sets)))
            })
            .await
            .map_err(unwrap_shared)
    }
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
            other => Error::Store(crate::store::StoreError::Shared(other.to_string())),
        },
    }
}

/// Now, at the microsecond precision both databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
