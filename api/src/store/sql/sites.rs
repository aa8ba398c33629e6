//! Sites, their keys and settings. Identity secrets (current and previous) are sealed
//! on the way in and opened on the way out (`store/secrets.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::rows::{from_json, to_json};
use super::{Connection, Db, Row, SqlStore};
use crate::model::site::{IdentitySecret, KeyRotation, Retired};
use crate::model::{Site, WidgetSettings};
use crate::store::secrets::{Sealer, identity_secret_owner};
use crate::store::{Dialect, SiteStore, StoreError};

/// Columns selected for a site everywhere.
const SITE_COLUMNS: &str = "site_id, name, publishable_key, identity_secret, allowed_origins, \
     widget_settings, created_at, previous_publishable_key, previous_publishable_key_expires_at, \
     previous_secret_key_hash, previous_secret_key_expires_at, previous_identity_secret, \
     previous_identity_secret_expires_at";

#[derive(sqlx::FromRow)]
struct SiteRow {
    site_id: String,
    name: String,
    publishable_key: String,
    identity_secret: String,
    allowed_origins: Json<Value>,
    widget_settings: Json<Value>,
    created_at: DateTime<Utc>,
    previous_publishable_key: Option<String>,
    previous_publishable_key_expires_at: Option<DateTime<Utc>>,
    previous_secret_key_hash: Option<String>,
    previous_secret_key_expires_at: Option<DateTime<Utc>>,
    previous_identity_secret: Option<String>,
    previous_identity_secret_expires_at: Option<DateTime<Utc>>,
}

/// A previous key and its expiry, when both are set.
fn retired(value: Option<String>, expires_at: Option<DateTime<Utc>>) -> Option<Retired> {
    Some(Retired {
        value: value?,
        expires_at: expires_at?,
    })
}

impl SiteRow {
    /// The site, with its identity secrets opened.
    fn into_site(self, sealer: &Sealer) -> Result<Site, StoreError> {
        let owner = identity_secret_owner(&self.site_id);
        let previous_identity = match retired(
            self.previous_identity_secret,
            self.previous_identity_secret_expires_at,
        ) {
            Some(r) => Some(Retired {
                value: sealer.open(&owner, &r.value)?,
                expires_at: r.expires_at,
            }),
            None => None,
        };
        Ok(Site {
            allowed_origins: from_json("sites.allowed_origins", self.allowed_origins)?,
            widget_settings: from_json::<WidgetSettings>(
                "sites.widget_settings",
                self.widget_settings,
            )?,
            identity_secret: IdentitySecret {
                current: sealer.open(&owner, &self.identity_secret)?,
                previous: previous_identity,
            },
            previous_publishable_key: retired(
                self.previous_publishable_key,
                self.previous_publishable_key_expires_at,
            ),
            previous_secret_key_hash: retired(
                self.previous_secret_key_hash,
                self.previous_secret_key_expires_at,
            ),
            site_id: self.site_id,
            name: self.name,
            publishable_key: self.publishable_key,
            created_at: self.created_at,
        })
    }
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
    /// The site whose `column` or `previous_column` is `value`, a current match first.
    async fn site_by_key(
        &self,
        column: &str,
        previous_column: &str,
        value: &str,
    ) -> Result<Option<Site>, StoreError> {
        let sql = format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE {column} = $1 OR {previous_column} = $1 \
             ORDER BY CASE WHEN {column} = $1 THEN 0 ELSE 1 END LIMIT 1"
        );
        let row: Option<SiteRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.into_site(&self.sealer)).transpose()
    }
}

#[async_trait]
impl<D> SiteStore for SqlStore<D>
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
    async fn insert_site(&self, site: &Site, secret_key_hash: &str) -> Result<(), StoreError> {
        let identity_secret = self.sealer.seal(
            &identity_secret_owner(&site.site_id),
            &site.identity_secret.current,
        );
        sqlx::query(
            "INSERT INTO sites (site_id, name, publishable_key, secret_key_hash, identity_secret, \
             allowed_origins, widget_settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(site.site_id.as_str())
        .bind(site.name.as_str())
        .bind(site.publishable_key.as_str())
        .bind(secret_key_hash)
        .bind(identity_secret.as_str())
        .bind(Json(&to_json(&site.allowed_origins)))
        .bind(Json(&to_json(&site.widget_settings)))
        .bind(D::timestamp(site.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn site(&self, site_id: &str) -> Result<Option<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE site_id = $1");
        let row: Option<SiteRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.into_site(&self.sealer)).transpose()
    }

    async fn site_by_publishable_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        self.site_by_key("publishable_key", "previous_publishable_key", key)
            .await
    }

    async fn site_by_secret_key_hash(&self, hash: &str) -> Result<Option<Site>, StoreError> {
        self.site_by_key("secret_key_hash", "previous_secret_key_hash", hash)
            .await
    }

    async fn update_site(
        &self,
        site_id: &str,
        allowed_origins: &[String],
        widget_settings: &WidgetSettings,
    ) -> Result<Option<Site>, StoreError> {
        sqlx::query(
            "UPDATE sites SET allowed_origins = $1, widget_settings = $2, updated_at = $3 \
             WHERE site_id = $4",
        )
        .bind(Json(&to_json(&allowed_origins)))
        .bind(Json(&to_json(widget_settings)))
        .bind(Self::now())
        .bind(site_id)
        .execute(&self.pool)
        .await?;
        self.site(site_id).await
    }

    async fn rotate_site_keys(
        &self,
        site_id: &str,
        rotation: &KeyRotation,
    ) -> Result<Option<Site>, StoreError> {
        let sealed_identity = rotation
            .identity_secret
            .as_deref()
            .map(|secret| self.sealer.seal(&identity_secret_owner(site_id), secret));
        // `$1` = when the replaced keys expire, `$2` = now, `$3` = the site; then one
        // value per replaced key. On both databases SET reads the row as it was.
        let replaced = [
            (
                "publishable_key",
                "previous_publishable_key",
                "previous_publishable_key_expires_at",
                rotation.publishable_key.as_deref(),
            ),
            (
                "secret_key_hash",
                "previous_secret_key_hash",
                "previous_secret_key_expires_at",
                rotation.secret_key_hash.as_deref(),
            ),
            (
                "identity_secret",
                "previous_identity_secret",
                "previous_identity_secret_expires_at",
                sealed_identity.as_deref(),
            ),
        ];
        let mut sets = vec!["updated_at = $2".to_owned()];
        let mut values = Vec::new();
        for (column, previous, expires, value) in replaced {
            if let Some(value) = value {
                values.push(value);
                let n = values.len() + 3;
                sets.push(format!(
                    "{previous} = {column}, {expires} = $1, {column} = ${n}"
                ));
            }
        }
        let sql = format!("UPDATE sites SET {} WHERE site_id = $3", sets.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(&*sql))
            .bind(D::timestamp(rotation.previous_expire_at))
            .bind(Self::now())
            .bind(site_id);
        for value in values {
            query = query.bind(value);
        }
        query.execute(&self.pool).await?;
        self.site(site_id).await
    }

    async fn all_sites(&self) -> Result<Vec<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY name, site_id");
        let rows: Vec<SiteRow> = sqlx::query_as(sqlx::AssertSqlSafe(&*sql))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.into_site(&self.sealer))
            .collect()
    }

    async fn allowed_origins_of_all_sites(&self) -> Result<Vec<String>, StoreError> {
        let lists: Vec<(Json<Value>,)> = sqlx::query_as("SELECT allowed_origins FROM sites")
            .fetch_all(&self.pool)
            .await?;
        let mut origins = Vec::new();
        for (list,) in lists {
            origins.extend(from_json::<Vec<String>>("sites.allowed_origins", list)?);
        }
        Ok(origins)
    }
}
