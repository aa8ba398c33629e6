//! What each configured provider has done for a site: `GET /v1/enrichment/providers`
//! and the console's enrichment page.

use serde::Serialize;
use utoipa::ToSchema;

use super::Enrichment;
use crate::error::Result;
use crate::model::enrichment::day_key;
use crate::model::{ProviderUsage, Site, now};

/// One configured provider, its quotas and what it did for the site.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderStatus {
    /// Where its results land: `app_metadata.enrichment.<name>`.
    pub name: String,
    /// `geoip`, `user_agent`, `email` or `http`.
    pub kind: String,
    /// The inputs it reads, as configured (`ip`, `{domain}`, `{app_metadata.idp.location}`).
    pub inputs: Vec<String>,
    /// Whether results are cached by their input values.
    pub cache: bool,
    /// Calls per second at most, per process.
    pub rate_per_second: Option<f64>,
    /// Calls per UTC day at most, over the deployment (every site).
    pub daily_budget: Option<u64>,
    /// Calls left of today's budget (UTC), over the deployment; null without a budget.
    pub budget_left: Option<i64>,
    /// What one call costs.
    pub cost_per_call: Option<f64>,
    /// This site's calls today times the cost of a call; null without a cost.
    pub spend_today: Option<f64>,
    /// Calls made today (UTC) for this site, failed ones included.
    pub calls_today: i64,
    /// Results taken from the cache today for this site, with no call.
    pub cache_hits_today: i64,
    /// Calls that failed today for this site.
    pub failures_today: i64,
    /// Jobs of this site moved to the next UTC day today because the budget was spent.
    pub deferrals_today: i64,
    /// When a call last succeeded for this site.
    pub last_success_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a call last failed for this site.
    pub last_error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last failure said.
    pub last_error: Option<String>,
}

/// The configured providers, in the order they run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderStatusList {
    pub providers: Vec<ProviderStatus>,
}

impl Enrichment<'_> {
    /// Every configured provider with its quotas and what it did for `site` today.
    pub async fn status(&self, site: &Site) -> Result<ProviderStatusList> {
        let day = day_key(now().date_naive());
        let usage = self.app.store.usage(&site.site_id, &day).await?;
        let mut providers = Vec::with_capacity(self.app.providers.len());
        for provider in self.app.providers.iter() {
            let name = provider.name();
            let used = usage
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, u)| u.clone())
                .unwrap_or_default();
            let quotas = provider.quotas();
            let daily_budget = quotas.and_then(|q| q.daily_budget);
            let budget_left = match daily_budget {
                Some(budget) => {
                    let spent = self.app.store.budget_used(name, &day).await?;
                    Some((i64::try_from(budget).unwrap_or(i64::MAX) - spent).max(0))
                }
                None => None,
            };
            let cost_per_call = quotas.and_then(|q| q.cost_per_call);
            let ProviderUsage {
                calls_today,
                cache_hits_today,
                failures_today,
                deferrals_today,
                last_success_at,
                last_error_at,
                last_error,
            } = used;
            providers.push(ProviderStatus {
                name: name.to_owned(),
                kind: provider.kind().to_owned(),
                inputs: provider.input_names(),
                cache: quotas.is_some_and(|q| q.cache),
                rate_per_second: quotas.and_then(|q| q.rate_per_second),
                daily_budget,
                budget_left,
                cost_per_call,
                spend_today: cost_per_call.map(|cost| cost * calls_today as f64),
                calls_today,
                cache_hits_today,
                failures_today,
                deferrals_today,
                last_success_at,
                last_error_at,
                last_error,
            });
        }
        Ok(ProviderStatusList { providers })
    }
}
