//! Rows of the shared SQL as `rusqlite` reads them, for the writer and the reader: the
//! same columns the pool's row types decode (`store/sql/rows.rs`).

use rusqlite::Row;
use serde_json::Value;

use crate::model::User;

/// A user's row (`user_columns`).
pub(super) fn user_of(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        user_id: row.get("user_id")?,
        login_count: row.get("login_count")?,
        first_login_at: row.get("first_login_at")?,
        last_login_at: row.get("last_login_at")?,
        last_ip: row.get("last_ip")?,
        last_user_agent: row.get("last_user_agent")?,
        email: row.get("email")?,
        name: row.get("name")?,
        user_metadata: row.get::<_, Value>("user_metadata")?,
        app_metadata: row.get::<_, Value>("app_metadata")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        last_prompted_at: row.get("last_prompted_at")?,
    })
}
