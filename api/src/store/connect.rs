//! Opening a store from a database URL: SQLite or PostgreSQL, directly or through a
//! transaction pooler, with or without a key for the secrets at rest.

use std::sync::Arc;

use super::secrets::{self, SecretsKey};
use super::{PostgresStore, SqliteStore, Store, StoreError};

/// Opens the database named by the URL, creating an SQLite file when missing; secrets
/// are stored as plaintext.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with_secrets(url, None).await
}

/// Opens the database named by the URL; with `secrets_key` (64 hex digits or base64 of
/// 32 bytes) identity and webhook secrets are encrypted at rest.
pub async fn connect_with_secrets(
    url: &str,
    secrets_key: Option<&str>,
) -> Result<Arc<dyn Store>, StoreError> {
    let options = ConnectOptions {
        secrets_key,
        ..ConnectOptions::default()
    };
    connect_with(url, options).await
}

/// How to open the database, beyond its URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions<'a> {
    /// The same PostgreSQL database without the transaction-pooling proxy (pgbouncer)
    /// that the URL goes through: what needs a session of its own (migrations' lock,
    /// `LISTEN`) connects there.
    pub direct_url: Option<&'a str>,
    /// 64 hex digits or base64 of 32 bytes: identity and webhook secrets are encrypted
    /// at rest with it.
    pub secrets_key: Option<&'a str>,
}

/// Opens the database named by the URL as `options` say.
pub async fn connect_with(
    url: &str,
    options: ConnectOptions<'_>,
) -> Result<Arc<dyn Store>, StoreError> {
    let ConnectOptions {
        direct_url,
        secrets_key,
    } = options;
    let key = secrets_key.map(SecretsKey::parse).transpose()?;
    let sealer = secrets::Sealer::new(key.as_ref());
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if url.starts_with("sqlite:") {
        if direct_url.is_some() {
            return Err(StoreError::DirectUrlWithoutPostgres(url.to_owned()));
        }
        Ok(Arc::new(SqliteStore::connect(url).await?.sealing(sealer)))
    } else if postgres {
        let store = match direct_url {
            Some(direct) => PostgresStore::connect_through_pooler(url, direct).await?,
            None => PostgresStore::connect(url).await?,
        };
        Ok(Arc::new(store.sealing(sealer)))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
