//! The two webhook jobs: fan an event out into deliveries, and deliver one.

use serde_json::json;
use std::time::Duration;

use super::{Webhooks, signing};
use crate::app::JobError;
use crate::model::job::WEBHOOK_DELIVERY;
use crate::model::{AttemptOutcome, Delivery, Job, NewJob, now};
use crate::outbound::{NOT_ALLOWED, OutboundError};

impl Webhooks<'_> {
    /// `webhook_event` job: one delivery per enabled subscription wanting the event type,
    /// written together with their delivery jobs as this job completes.
    pub(crate) async fn fan_out(&self, job: &Job) -> Result<(), JobError> {
        let event_type = job.payload["type"]
            .as_str()
            .ok_or_else(|| JobError::Permanent("event without a type".into()))?;
        let subscriptions = self.app.store.subscriptions(&job.site_id).await?;
        let mut deliveries = Vec::new();
        let mut jobs = Vec::new();
        for subscription in subscriptions
            .iter()
            .filter(|s| s.enabled && s.events.iter().any(|e| e == event_type))
        {
            let at = now();
            let delivery = Delivery {
                id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
                subscription_id: subscription.id.clone(),
                event_type: event_type.to_owned(),
                payload: job.payload.clone(),
                status: "pending".into(),
                attempts: 0,
                last_status: None,
                last_error: None,
                created_at: at,
                updated_at: at,
                delivered_at: None,
            };
            jobs.push(NewJob::now(
                WEBHOOK_DELIVERY,
                json!({ "delivery_id": delivery.id }),
                self.app.job_settings.max_attempts,
            ));
            deliveries.push(delivery);
        }
        self.app
            .store
            .complete_with_deliveries(job, &deliveries, &jobs)
            .await?;
        Ok(())
    }

    /// `webhook_delivery` job: POSTs the signed event; a failure is retried by the queue.
    pub(crate) async fn deliver(&self, job: &Job) -> Result<(), JobError> {
        let delivery_id = job.payload["delivery_id"]
            .as_str()
            .ok_or_else(|| JobError::Permanent("delivery job without delivery_id".into()))?;
        let Some(delivery) = self.app.store.delivery(&job.site_id, delivery_id).await? else {
            return Ok(());
        };
        if delivery.status != "pending" {
            return Ok(());
        }
        let subscriptions = self.app.store.subscriptions(&job.site_id).await?;
        let subscription = subscriptions
            .iter()
            .find(|s| s.id == delivery.subscription_id);
        let outcome = match subscription {
            None => AttemptOutcome::Cancelled("the subscription was deleted".into()),
            Some(s) if !s.enabled => {
                AttemptOutcome::Cancelled("the subscription is disabled".into())
            }
            Some(s) => {
                self.post(
                    &s.url,
                    &s.secret,
                    &delivery,
                    job.attempts >= job.max_attempts,
                )
                .await
            }
        };
        let disable_after = self.app.webhook_settings.disable_after_failures;
        let disabled = self
            .app
            .store
            .record_delivery_attempt(&job.site_id, &delivery, &outcome, disable_after)
            .await?;
        if disabled {
            tracing::warn!(site_id = %job.site_id, subscription = %delivery.subscription_id, "webhook disabled after repeated failures");
            self.app
                .webhook_events_wanted
                .invalidate(&job.site_id)
                .await;
        }
        match outcome {
            AttemptOutcome::Failed { error, .. } => {
                metrics::counter!("trickle_webhook_failures_total").increment(1);
                Err(JobError::Retryable(error))
            }
            AttemptOutcome::Delivered { .. } => {
                metrics::counter!("trickle_webhook_deliveries_total").increment(1);
                Ok(())
            }
            AttemptOutcome::Cancelled(_) => Ok(()),
        }
    }

    async fn post(
        &self,
        url: &str,
        secret: &str,
        delivery: &Delivery,
        final_attempt: bool,
    ) -> AttemptOutcome {
        let body = serde_json::to_vec(&delivery.payload).expect("JSON values serialise");
        let timestamp = now().timestamp();
        let signature = signing::sign(secret, &delivery.id, timestamp, &body);
        let request = self
            .app
            .http
            .post(url)
            .timeout(Duration::from_millis(self.app.webhook_settings.timeout_ms))
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        let sent = self.app.http.send(request).await;
        match sent {
            Ok(response) if response.status().is_success() => AttemptOutcome::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => AttemptOutcome::Failed {
                status: Some(response.status().as_u16()),
                error: format!("receiver answered HTTP {}", response.status().as_u16()),
                final_attempt,
            },
            Err(error) => AttemptOutcome::Failed {
                status: None,
                error: describe(error),
                final_attempt,
            },
        }
    }
}

/// A short reason without URLs' secrets (reqwest errors include the URL); a refused
/// address says only that, so the delivery log cannot map internal ports.
fn describe(error: OutboundError) -> String {
    let error = match error {
        OutboundError::NotAllowed => return NOT_ALLOWED.into(),
        OutboundError::Http(error) => error,
    };
    if error.is_timeout() {
        "the receiver did not answer in time".into()
    } else if error.is_connect() {
        "could not connect to the receiver".into()
    } else {
        format!("request failed: {}", error.without_url())
    }
}
