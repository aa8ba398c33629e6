//! The console's administrators, their sessions, and the audit log (implemented once in
//! `sql/admins.rs` and `sql/audit.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::model::{Admin, AdminChange, AdminSession, AuditEntry, NewAuditEntry, Role};

/// Console admins, the sites granted to members, and server-side sessions. These are
/// deployment-wide, not per site: the console checks each admin's role and grants.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Stores a new admin with their password hash; false (and nothing written) when
    /// the e-mail is taken.
    async fn insert_admin(&self, admin: &Admin, password_hash: &str) -> Result<bool, StoreError>;
    async fn admin(&self, admin_id: &str) -> Result<Option<Admin>, StoreError>;
    /// The admin with this (lower-cased) e-mail, with their password hash.
    async fn admin_by_email(&self, email: &str) -> Result<Option<(Admin, String)>, StoreError>;
    /// Every admin, by e-mail.
    async fn admins(&self) -> Result<Vec<Admin>, StoreError>;
    /// Lets an admin manage a site; false if it already could.
    async fn grant_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError>;
    /// The ids of the sites granted to an admin, in order.
    async fn granted_sites(&self, admin_id: &str) -> Result<Vec<String>, StoreError>;
    /// Every grant as `(admin_id, site_id)`, in order.
    async fn all_grants(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Takes a site away from an admin; false if it was not granted.
    async fn revoke_site(&self, admin_id: &str, site_id: &str) -> Result<bool, StoreError>;
    /// Changes an admin's role, unless that leaves no owner (checked with the owners'
    /// rows locked, so two demotions at once cannot both pass).
    async fn set_admin_role(&self, admin_id: &str, role: Role) -> Result<AdminChange, StoreError>;
    /// Deletes an admin with their sessions and grants, unless they are the last owner.
    async fn delete_admin(&self, admin_id: &str) -> Result<AdminChange, StoreError>;
    /// Stores a session under the SHA-256 of its token.
    async fn insert_session(
        &self,
        token_hash: &str,
        session: &AdminSession,
    ) -> Result<(), StoreError>;
    /// The session with this token hash if it has not expired at `now`, with its admin.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AdminSession, Admin)>, StoreError>;
    /// Records that the session was used at `at`.
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Ends one session; false if there was none.
    async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Ends every session of an admin ("sign out everywhere"); how many there were.
    async fn delete_sessions_of(&self, admin_id: &str) -> Result<u64, StoreError>;
    /// Deletes sessions that expired at or before `now`; how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The console's audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry, stamped now.
    async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError>;
    /// Entries newest first, those with an id below `before` when given, at most `limit`.
    async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// When each admin last did `action` (e.g. `admin.sign_in`), as `(admin_id, at)`.
    async fn last_audit_by_admin(
        &self,
        action: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;
    /// The newest entry of each subject of a site among the actions starting with
    /// `action_prefix` (e.g. `question_set.`), by subject.
    async fn latest_audit_by_subject(
        &self,
        site_id: &str,
        action_prefix: &str,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
