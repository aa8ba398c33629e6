//! Sites and their settings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::rows::{SITE_COLUMNS, SiteRow, to_json};
use super::{Connection, Db, Row, SqlStore};
use crate::model::{Site, WidgetSettings};
use crate::store::{Dialect, SiteStore, StoreError};

impl<D> SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    for<'q> <Db<D> as Database>::Arguments<'q>: IntoArguments<'q, Db<D>>,
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
    async fn site_where(&self, column: &str, value: &str) -> Result<Option<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE {column} = $1");
        let row: Option<SiteRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Site::try_from).transpose()
    }
}

#[async_trait]
impl<D> SiteStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Connection<D>: Executor<'c, Database = Db<D>>,
    for<'q> <Db<D> as Database>::Arguments<'q>: IntoArguments<'q, Db<D>>,
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
        sqlx::query(
            "INSERT INTO sites (site_id, name, publishable_key, secret_key_hash, identity_secret, \
             allowed_origins, widget_settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(site.site_id.as_str())
        .bind(site.name.as_str())
        .bind(site.publishable_key.as_str())
        .bind(secret_key_hash)
        .bind(site.identity_secret.as_str())
        .bind(Json(&to_json(&site.allowed_origins)))
        .bind(Json(&to_json(&site.widget_settings)))
        .bind(D::timestamp(site.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn site(&self, site_id: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("site_id", site_id).await
    }

    async fn site_by_publishable_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("publishable_key", key).await
    }

    async fn site_by_secret_key_hash(&self, hash: &str) -> Result<Option<Site>, StoreError> {
        self.site_where("secret_key_hash", hash).await
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

    async fn origin_allowed_by_any_site(&self, origin: &str) -> Result<bool, StoreError> {
        let found = sqlx::query(D::SITE_WITH_ORIGIN)
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }
}
