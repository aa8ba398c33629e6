//! One batch of the group commit ([`super::group_commit`]) on this store's database: one
//! transaction, a savepoint for each write that needs one, one commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use std::sync::Arc;

use super::group_commit::{
    BatchOutcome, Write, WriteBatches, WriteQueue, Writers, Written, outcome_without_savepoint,
};
use super::logins::count_login;
use super::prompts::{write_answer, write_prompt_event};
use super::{Connection, Db, Row, SqlStore};
use crate::store::{Dialect, StoreError};

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
    /// The queue to this store's writers, started on first use.
    fn writer(&self) -> &WriteQueue {
        self.writes.get_or_init(|| {
            // The writers' own handle on the database; it holds no queue, so the
            // writers stop once the last handle of this store is dropped.
            let writers = SqlStore::<D> {
                pool: self.pool.clone(),
                sealer: self.sealer.clone(),
                writes: Arc::default(),
                writer_apart: self.writer_apart.clone(),
                reader_apart: None,
                sessions: None,
            };
            WriteQueue::start(
                Arc::new(writers),
                Writers {
                    own: D::WRITERS,
                    apart: D::APART_WRITERS,
                },
            )
        })
    }

    /// Writes one login, answer or prompt event through the group-commit writers, and
    /// returns once its batch has committed.
    pub(super) async fn write(&self, write: Write) -> Result<Written, StoreError> {
        self.writer().write(write).await
    }

    /// One write's statements, in a transaction or on a savepoint of one.
    async fn write_one(conn: &mut Connection<D>, write: &Write) -> Result<Written, StoreError> {
        Ok(match write {
            Write::Login(login) => Written::Login(
                count_login::<D>(
                    conn,
                    &login.site_id,
                    &login.login,
                    login.limits,
                    &login.follow_ups,
                )
                .await?,
            ),
            Write::Answer(answer) => Written::Answer(write_answer::<D>(conn, answer).await?),
            Write::PromptEvent(event) => {
                Written::PromptEvent(write_prompt_event::<D>(conn, event).await?)
            }
        })
    }
}

#[async_trait]
impl<D> WriteBatches for SqlStore<D>
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
    async fn write_batch(&self, batch: &[Write]) -> Result<BatchOutcome, StoreError> {
        if let Some(apart) = &self.writer_apart
            && batch.iter().all(|write| self.writes_apart(write))
        {
            return apart.write_apart(batch.to_vec()).await;
        }
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for write in batch {
            // Without a savepoint (two statements fewer): a write refused alone has
            // written nothing; any other error fails the batch, which is then split.
            if !write.needs_savepoint() {
                let written = Self::write_one(&mut tx, write).await;
                outcomes.push(outcome_without_savepoint(write, written)?);
                continue;
            }
            let mut savepoint = <Connection<D> as sqlx::Connection>::begin(&mut *tx).await?;
            match Self::write_one(&mut savepoint, write).await {
                Ok(written) => {
                    savepoint.commit().await?;
                    outcomes.push(Ok(written));
                }
                // Refused on its own: the others of the batch go on.
                Err(refused @ StoreError::TooLarge { .. }) => {
                    savepoint.rollback().await?;
                    outcomes.push(Err(refused));
                }
                Err(error) => return Err(error),
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    fn writes_apart(&self, write: &Write) -> bool {
        self.writer_apart
            .as_ref()
            .is_some_and(|writer| writer.takes(write))
    }
}
