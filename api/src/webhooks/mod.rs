//! Webhooks: per-site subscriptions to profile events, delivered at least once.
//!
//! An event is written as a `webhook_event` job in the same transaction as the change it
//! reports (no event lost, none invented). The worker fans it out into one delivery per
//! subscription wanting that type, and delivers each with Standard Webhooks signatures,
//! retrying with the queue's back-off. A subscription whose deliveries keep failing is
//! disabled after `disable_after_failures` failed attempts in a row.

pub mod delivery;
pub mod signing;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::jobs::{NewJob, WEBHOOK_EVENT};
use crate::service::{Trickle, now, unwrap_shared};
use crate::sites::Site;

/// Event types a subscription can ask for.
pub const EVENT_TYPES: [&str; 5] = [
    "user.signed_up",
    "user.logged_in",
    "profile.answered",
    "profile.enriched",
    "user.deleted",
];

/// A subscription of a URL to event types.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// `whsec_…`: shown when the subscription is created, never listed.
    #[serde(skip)]
    pub secret: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Failed delivery attempts in a row.
    pub failure_streak: i64,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// An http(s) URL that receives POSTed events.
    pub url: String,
    /// Event types, e.g. `["profile.answered", "user.deleted"]`.
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// The created subscription with its secret (the only time it is shown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    pub secret: String,
}

/// One event for one subscription: the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    /// `msg_…`, sent as `webhook-id`; the same on every retry.
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `delivered`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    /// HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Webhook tuning (`[webhooks]` in trickle.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Failed attempts in a row after which a subscription is disabled.
    pub disable_after_failures: i64,
    /// How long a receiver may take to answer.
    pub timeout_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            disable_after_failures: 50,
            timeout_ms: 10_000,
        }
    }
}

fn validate(request: &NewSubscription) -> Result<()> {
    let url = url::Url::parse(&request.url)
        .map_err(|e| Error::invalid("invalid_url", "url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || request.url.len() > 2048 {
        return Err(Error::invalid(
            "invalid_url",
            "url",
            "url must be http(s) and at most 2048 bytes",
        ));
    }
    if request.events.is_empty() {
        return Err(Error::invalid(
            "invalid_events",
            "events",
            "name at least one event type",
        ));
    }
    if let Some(unknown) = request
        .events
        .iter()
        .find(|e| !EVENT_TYPES.contains(&e.as_str()))
    {
        return Err(Error::invalid(
            "invalid_events",
            "events",
            format!(
                "unknown event type {unknown:?}; known: {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    if request.description.as_ref().is_some_and(|d| d.len() > 500) {
        return Err(Error::invalid(
            "invalid_field",
            "description",
            "at most 500 bytes",
        ));
    }
    Ok(())
}

impl Trickle {
    /// Subscribes a URL; returns the subscription with its `whsec_…` secret.
    pub async fn create_webhook(
        &self,
        site: &Site,
        request: NewSubscription,
    ) -> Result<CreatedSubscription> {
        validate(&request)?;
        if self.store.subscriptions(&site.site_id).await?.len() >= 50 {
            return Err(Error::Conflict {
                code: "too_many_webhooks",
                message: "a site has at most 50 webhooks".into(),
            });
        }
        let at = now();
        let events: BTreeSet<String> = request.events.into_iter().collect();
        let subscription = Subscription {
            id: format!("wh_{}", uuid::Uuid::new_v4().simple()),
            url: request.url,
            secret: signing::generate_secret(),
            events: events.into_iter().collect(),
            description: request.description,
            enabled: true,
            failure_streak: 0,
            disabled_reason: None,
            created_at: at,
            updated_at: at,
        };
        self.store
            .insert_subscription(&site.site_id, &subscription)
            .await?;
        self.webhook_events_wanted.invalidate(&site.site_id).await;
        self.store.notify_invalidation(&site.site_id).await?;
        let secret = subscription.secret.clone();
        Ok(CreatedSubscription {
            subscription,
            secret,
        })
    }

    /// The site's subscriptions (without secrets).
    pub async fn webhooks(&self, site: &Site) -> Result<Vec<Subscription>> {
        Ok(self.store.subscriptions(&site.site_id).await?)
    }

    /// Unsubscribes; pending deliveries to it are cancelled when their turn comes.
    pub async fn delete_webhook(&self, site: &Site, id: &str) -> Result<()> {
        if !self.store.delete_subscription(&site.site_id, id).await? {
            return Err(Error::NotFound { what: "webhook" });
        }
        self.webhook_events_wanted.invalidate(&site.site_id).await;
        self.store.notify_invalidation(&site.site_id).await?;
        Ok(())
    }

    /// The latest deliveries of one subscription, newest first.
    pub async fn webhook_deliveries(
        &self,
        site: &Site,
        id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        if !self
            .store
            .subscriptions(&site.site_id)
            .await?
            .iter()
            .any(|s| s.id == id)
        {
            return Err(Error::NotFound { what: "webhook" });
        }
        Ok(self
            .store
            .deliveries(&site.site_id, id, limit.clamp(1, 500))
            .await?)
    }

    /// Event types some enabled subscription of the site wants (cached).
    pub(crate) async fn events_wanted(&self, site_id: &str) -> Result<Arc<BTreeSet<String>>> {
        let store = self.store.clone();
        let id = site_id.to_owned();
        self.webhook_events_wanted
            .try_get_with(site_id.to_owned(), async move {
                let subscriptions = store.subscriptions(&id).await?;
                let wanted = subscriptions
                    .into_iter()
                    .filter(|s| s.enabled)
                    .flat_map(|s| s.events)
                    .collect();
                Ok::<_, Error>(Arc::new(wanted))
            })
            .await
            .map_err(unwrap_shared)
    }

    /// The outbox job for an event, if any subscription of the site wants its type.
    pub(crate) fn event_job(
        &self,
        wanted: &BTreeSet<String>,
        event_type: &str,
        data: Value,
    ) -> Option<NewJob> {
        if !wanted.contains(event_type) {
            return None;
        }
        let event = json!({ "type": event_type, "timestamp": now(), "data": data });
        Some(NewJob::now(
            WEBHOOK_EVENT,
            event,
            self.job_settings.max_attempts,
        ))
    }
}
