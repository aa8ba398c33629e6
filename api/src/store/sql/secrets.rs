//! The start-up pass over stored secrets: seals plaintext ones when a secrets key is
//! set (the migration path from a deployment without one) and checks that every sealed
//! one opens, so a wrong or missing key stops the process with a clear error.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::{Connection, Db, Row, SqlStore};
use crate::store::secrets::{identity_secret_owner, webhook_secret_owner};
use crate::store::{Dialect, StoreError};

/// One stored secret: its table, its column, the row's key columns and values, and
/// whom it belongs to (for sealing).
struct StoredSecret {
    update: String,
    keys: Vec<String>,
    owner: String,
    stored: String,
}

impl<D> SqlStore<D>
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
    /// Seals every plaintext secret (with a key) and opens every sealed one.
    pub(super) async fn seal_stored_secrets(&self) -> Result<(), StoreError> {
        let mut sealed = 0u64;
        for secret in self.stored_secrets().await? {
            let plain = self.sealer.open(&secret.owner, &secret.stored)?;
            if !self.sealer.needs_sealing(&secret.stored) {
                continue;
            }
            // Only if unchanged since read: replicas starting together do not race.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(&*secret.update))
                .bind(self.sealer.seal(&secret.owner, &plain));
            for key in &secret.keys {
                query = query.bind(key.as_str());
            }
            query
                .bind(secret.stored.as_str())
                .execute(&self.pool)
                .await?;
            sealed += 1;
        }
        if sealed > 0 {
            tracing::info!(sealed, "encrypted stored secrets with secrets_key");
        }
        Ok(())
    }

    /// Every stored identity secret (current and previous) and webhook secret.
    async fn stored_secrets(&self) -> Result<Vec<StoredSecret>, StoreError> {
        let sites: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT site_id, identity_secret, previous_identity_secret FROM sites")
                .fetch_all(&self.pool)
                .await?;
        let mut secrets = Vec::new();
        for (site_id, current, previous) in sites {
            let owner = identity_secret_owner(&site_id);
            for (column, stored) in [
                ("identity_secret", Some(current)),
                ("previous_identity_secret", previous),
            ] {
                if let Some(stored) = stored {
                    secrets.push(StoredSecret {
                        update: format!(
                            "UPDATE sites SET {column} = $1 WHERE site_id = $2 AND {column} = $3"
                        ),
                        keys: vec![site_id.clone()],
                        owner: owner.clone(),
                        stored,
                    });
                }
            }
        }
        let webhooks: Vec<(String, String, String)> =
            sqlx::query_as("SELECT site_id, id, secret FROM webhook_subscriptions")
                .fetch_all(&self.pool)
                .await?;
        for (site_id, id, stored) in webhooks {
            secrets.push(StoredSecret {
                update: "UPDATE webhook_subscriptions SET secret = $1 \
                         WHERE site_id = $2 AND id = $3 AND secret = $4"
                    .into(),
                owner: webhook_secret_owner(&site_id, &id),
                keys: vec![site_id, id],
                stored,
            });
        }
        Ok(secrets)
    }
}
