//! Webhook subscriptions and the delivery log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::jobs::insert_jobs;
use super::rows::{DELIVERY_COLUMNS, DeliveryRow, SUBSCRIPTION_COLUMNS, SubscriptionRow, to_json};
use super::{Connection, Db, Row, SqlStore};
use crate::model::webhook::DeliveryColumns;
use crate::model::{AttemptOutcome, Delivery, Job, NewJob, Subscription};
use crate::store::secrets::webhook_secret_owner;
use crate::store::{Dialect, StoreError, WebhookStore};

#[async_trait]
impl<D> WebhookStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    <Db<D> as Database>::Arguments: IntoArguments<Db<D>>,
    for<'q> &'q str: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Option<&'q str>: Encode<'q, Db<D>>,
    for<'q> Option<i64>: Encode<'q, Db<D>>,
    for<'q> i64: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> bool: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> String: Encode<'q, Db<D>> + Decode<'q, Db<D>> + Type<Db<D>>,
    for<'q> Json<&'q Value>: Encode<'q, Db<D>> + Type<Db<D>>,
    for<'r> Json<Value>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> DateTime<Utc>: Decode<'r, Db<D>> + Type<Db<D>>,
    for<'r> &'r str: ColumnIndex<Row<D>>,
    usize: ColumnIndex<Row<D>>,
{
    async fn insert_subscription(&self, site_id: &str, s: &Subscription) -> Result<(), StoreError> {
        let secret = self
            .sealer
            .seal(&webhook_secret_owner(site_id, &s.id), &s.secret);
        sqlx::query(
            "INSERT INTO webhook_subscriptions (site_id, id, url, secret, events, description, enabled, \
             failure_streak, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        )
        .bind(site_id)
        .bind(&s.id)
        .bind(&s.url)
        .bind(&secret)
        .bind(Json(&to_json(&s.events)))
        .bind(s.description.as_deref())
        .bind(s.enabled)
        .bind(D::timestamp(s.created_at))
        .bind(D::timestamp(s.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn subscriptions(&self, site_id: &str) -> Result<Vec<Subscription>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE site_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<SubscriptionRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut subscription = Subscription::try_from(row)?;
                let owner = webhook_secret_owner(site_id, &subscription.id);
                subscription.secret = self.sealer.open(&owner, &subscription.secret)?;
                Ok(subscription)
            })
            .collect()
    }

    async fn delete_subscription(&self, site_id: &str, id: &str) -> Result<bool, StoreError> {
        let deleted =
            sqlx::query("DELETE FROM webhook_subscriptions WHERE site_id = $1 AND id = $2")
                .bind(site_id)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(D::rows_affected(&deleted) > 0)
    }

    async fn complete_with_deliveries(
        &self,
        job: &Job,
        deliveries: &[Delivery],
        jobs: &[NewJob],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // The event is no longer needed once fanned out (each delivery carries a copy):
        // only its type is kept. No row: the user was erased meanwhile, or this claim
        // expired and another took the job over (`attempts` fences stale claims), so
        // nothing is sent from here.
        let kept = json!({ "type": job.payload["type"] });
        let event: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE jobs SET status = 'done', payload = $1, locked_until = NULL, updated_at = $2 \
             WHERE site_id = $3 AND id = $4 AND status = 'running' AND attempts = $5 RETURNING user_id",
        )
        .bind(Json(&kept))
        .bind(Self::now())
        .bind(&job.site_id)
        .bind(&job.id)
        .bind(job.attempts)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = event else {
            return Ok(());
        };
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (site_id, id, subscription_id, event_type, payload, status, \
                 attempts, created_at, updated_at, user_id) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8)",
            )
            .bind(&job.site_id)
            .bind(&d.id)
            .bind(&d.subscription_id)
            .bind(&d.event_type)
            .bind(Json(&d.payload))
            .bind(D::timestamp(d.created_at))
            .bind(D::timestamp(d.updated_at))
            .bind(user_id.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        insert_jobs::<D>(&mut tx, &job.site_id, jobs).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delivery(&self, site_id: &str, id: &str) -> Result<Option<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE site_id = $1 AND id = $2"
        );
        let row: Option<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn record_delivery_attempt(
        &self,
        site_id: &str,
        delivery: &Delivery,
        outcome: &AttemptOutcome,
        disable_after: i64,
    ) -> Result<bool, StoreError> {
        let DeliveryColumns {
            status,
            http_status,
            error,
            delivered,
        } = outcome.columns();
        let at = Utc::now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status = $2, last_error = $3, \
             updated_at = $4, delivered_at = CASE WHEN $5 THEN $6 ELSE delivered_at END WHERE site_id = $7 AND id = $8",
        )
        .bind(status)
        .bind(http_status)
        .bind(error)
        .bind(D::timestamp(at))
        .bind(delivered)
        .bind(D::timestamp(at))
        .bind(site_id)
        .bind(&delivery.id)
        .execute(&mut *tx)
        .await?;
        let disabled = match outcome {
            AttemptOutcome::Cancelled(_) => false,
            AttemptOutcome::Delivered { .. } => {
                sqlx::query("UPDATE webhook_subscriptions SET failure_streak = 0 WHERE site_id = $1 AND id = $2")
                    .bind(site_id)
                    .bind(&delivery.subscription_id)
                    .execute(&mut *tx)
                    .await?;
                false
            }
            AttemptOutcome::Failed { .. } => {
                let reason = format!("disabled after {disable_after} failed deliveries in a row");
                let disabled: Option<bool> = sqlx::query_scalar(
                    "UPDATE webhook_subscriptions SET failure_streak = failure_streak + 1, \
                     enabled = CASE WHEN failure_streak + 1 >= $1 THEN FALSE ELSE enabled END, \
                     disabled_reason = CASE WHEN enabled AND failure_streak + 1 >= $2 THEN $3 ELSE disabled_reason END, \
                     updated_at = $4 WHERE site_id = $5 AND id = $6 \
                     RETURNING (NOT enabled) AND disabled_reason = $7",
                )
                .bind(disable_after)
                .bind(disable_after)
                .bind(&reason)
                .bind(D::timestamp(at))
                .bind(site_id)
                .bind(&delivery.subscription_id)
                .bind(&reason)
                .fetch_optional(&mut *tx)
                .await?;
                disabled.unwrap_or(false)
            }
        };
        tx.commit().await?;
        Ok(disabled)
    }

    async fn deliveries(
        &self,
        site_id: &str,
        subscription_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE site_id = $1 AND subscription_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .bind(subscription_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn requeue_delivery(
        &self,
        site_id: &str,
        delivery_id: &str,
        job: &NewJob,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let requeued = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL, updated_at = $1 \
             WHERE site_id = $2 AND id = $3 AND status <> 'pending'",
        )
        .bind(Self::now())
        .bind(site_id)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        if D::rows_affected(&requeued) != 1 {
            return Ok(false);
        }
        insert_jobs::<D>(&mut tx, site_id, std::slice::from_ref(job)).await?;
        tx.commit().await?;
        Ok(true)
    }
}
