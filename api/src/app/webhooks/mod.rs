//! Webhooks: per-site subscriptions to profile events, delivered at least once.
//!
//! An event is written as a `webhook_event` job in the same transaction as the change it
//! reports (no event lost, none invented). The worker fans it out into one delivery per
//! subscription wanting that type, and delivers each with Standard Webhooks signatures,
//! retrying with the queue's back-off. A subscription whose deliveries keep failing is
//! disabled after `disable_after_failures` failed attempts in a row.

pub mod delivery;
pub mod signing;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

use super::audit::Actor;
use super::{App, unwrap_shared};
use crate::error::{Error, Result};
use crate::model::job::{WEBHOOK_DELIVERY, WEBHOOK_EVENT};
use crate::model::webhook::EVENT_TYPES;
use crate::model::{
    CreatedSubscription, Delivery, NewJob, NewSubscription, Site, Subscription, now,
};

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

/// Webhook subscriptions and events.
pub struct Webhooks<'a> {
    pub(crate) app: &'a App,
}

impl Webhooks<'_> {
    /// Subscribes a URL; returns the subscription with its `whsec_…` secret.
    pub async fn create(
        &self,
        by: &Actor,
        site: &Site,
        request: NewSubscription,
    ) -> Result<CreatedSubscription> {
        validate(&request)?;
        if self.app.store.subscriptions(&site.site_id).await?.len() >= 50 {
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
        self.app
            .store
            .insert_subscription(&site.site_id, &subscription)
            .await?;
        self.app
            .webhook_events_wanted
            .invalidate(&site.site_id)
            .await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        self.app
            .audit()
            .webhook_created(by, site, &subscription)
            .await?;
        let secret = subscription.secret.clone();
        Ok(CreatedSubscription {
            subscription,
            secret,
        })
    }

    /// The site's subscriptions (without secrets).
    pub async fn list(&self, site: &Site) -> Result<Vec<Subscription>> {
        Ok(self.app.store.subscriptions(&site.site_id).await?)
    }

    /// The site's subscriptions, each with its newest delivery if any (one indexed
    /// query per subscription; a site has at most 50).
    pub async fn list_with_latest(
        &self,
        site: &Site,
    ) -> Result<Vec<(Subscription, Option<Delivery>)>> {
        let mut listed = Vec::new();
        for subscription in self.list(site).await? {
            let latest = self
                .app
                .store
                .deliveries(&site.site_id, &subscription.id, 1)
                .await?
                .pop();
            listed.push((subscription, latest));
        }
        Ok(listed)
    }

    /// One subscription of the site (without its secret in any output).
    pub async fn get(&self, site: &Site, id: &str) -> Result<Subscription> {
        self.list(site)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(Error::NotFound { what: "webhook" })
    }

    /// Unsubscribes; pending deliveries to it are cancelled when their turn comes.
    pub async fn delete(&self, by: &Actor, site: &Site, id: &str) -> Result<Subscription> {
        let subscription = self.get(site, id).await?;
        if !self
            .app
            .store
            .delete_subscription(&site.site_id, id)
            .await?
        {
            return Err(Error::NotFound { what: "webhook" });
        }
        self.app
            .webhook_events_wanted
            .invalidate(&site.site_id)
            .await;
        self.app.store.notify_invalidation(&site.site_id).await?;
        self.app
            .audit()
            .webhook_deleted(by, site, &subscription)
            .await?;
        Ok(subscription)
    }

    /// The latest deliveries of one subscription, newest first.
    pub async fn deliveries(&self, site: &Site, id: &str, limit: u32) -> Result<Vec<Delivery>> {
        if !self
            .app
            .store
            .subscriptions(&site.site_id)
            .await?
            .iter()
            .any(|s| s.id == id)
        {
            return Err(Error::NotFound { what: "webhook" });
        }
        Ok(self
            .app
            .store
            .deliveries(&site.site_id, id, limit.clamp(1, 500))
            .await?)
    }

    /// Sends a finished delivery of the subscription `id` again (after a fix on the
    /// receiver's side, or to replay an event): the same row, the same `msg_…` id (the
    /// `webhook-id` header, which Standard Webhooks keeps when a message is resent, so
    /// receivers' de-duplication holds) and the same payload, signed afresh. The row goes
    /// back to `pending` (its attempts keep counting; its last status and error stay
    /// until the next attempt) and a new delivery job with the full retry budget goes
    /// through the outbox in the same transaction. Refused while the delivery is still
    /// pending (its own job will send it) and while the subscription is disabled.
    pub async fn redeliver(
        &self,
        by: &Actor,
        site: &Site,
        id: &str,
        delivery_id: &str,
    ) -> Result<Delivery> {
        let subscriptions = self.app.store.subscriptions(&site.site_id).await?;
        let subscription = subscriptions
            .iter()
            .find(|s| s.id == id)
            .ok_or(Error::NotFound { what: "webhook" })?;
        let delivery = self
            .app
            .store
            .delivery(&site.site_id, delivery_id)
            .await?
            .filter(|d| d.subscription_id == subscription.id)
            .ok_or(Error::NotFound { what: "delivery" })?;
        if !subscription.enabled {
            return Err(Error::Conflict {
                code: "webhook_disabled",
                message: "the webhook is disabled; nothing is delivered to it".into(),
            });
        }
        let pending = || Error::Conflict {
            code: "delivery_pending",
            message: "the delivery is still pending; it is sent (and retried) already".into(),
        };
        if delivery.status == "pending" {
            return Err(pending());
        }
        let user_id = delivery.payload["data"]["user_id"]
            .as_str()
            .map(str::to_owned);
        let job = NewJob::now(
            WEBHOOK_DELIVERY,
            json!({ "delivery_id": delivery.id }),
            self.app.job_settings.max_attempts,
        )
        .about_user(user_id);
        if !self
            .app
            .store
            .requeue_delivery(&site.site_id, &delivery.id, &job)
            .await?
        {
            return Err(pending());
        }
        self.app.jobs_enqueued.notify_one();
        let delivery = self
            .app
            .store
            .delivery(&site.site_id, &delivery.id)
            .await?
            .ok_or(Error::NotFound { what: "delivery" })?;
        self.app
            .audit()
            .webhook_redelivered(by, site, &delivery)
            .await?;
        Ok(delivery)
    }

    /// Event types some enabled subscription of the site wants (cached).
    pub(crate) async fn events_wanted(&self, site_id: &str) -> Result<Arc<BTreeSet<String>>> {
        let store = self.app.store.clone();
        let id = site_id.to_owned();
        self.app
            .webhook_events_wanted
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

    /// The outbox job for an event, if any subscription of the site wants its type. The
    /// job is about the user its `data.user_id` names (every event names one), so erasing
    /// that user deletes the job and its deliveries.
    pub(crate) fn event_job(
        &self,
        wanted: &BTreeSet<String>,
        event_type: &str,
        data: Value,
    ) -> Option<NewJob> {
        if !wanted.contains(event_type) {
            return None;
        }
        let user_id = data["user_id"].as_str().map(str::to_owned);
        let event = json!({ "type": event_type, "timestamp": now(), "data": data });
        let job = NewJob::now(WEBHOOK_EVENT, event, self.app.job_settings.max_attempts);
        Some(job.about_user(user_id))
    }
}
