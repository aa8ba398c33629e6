//! Console records: admins and their roles, sessions, and the audit log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

/// What an admin may do: an owner manages every site and the admins; a member manages
/// the sites granted to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    /// A role by its stored name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A console account. The password hash is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub admin_id: String,
    /// Lower-cased; unique.
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// What became of a change to an admin that must leave at least one owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    Done,
    /// No admin with that id.
    NotFound,
    /// Refused, nothing written: it would leave no owner.
    LastOwner,
}

/// An admin as the console's admin list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminOverview {
    pub admin: Admin,
    /// Ids of the sites granted to them (a member's; owners manage every site).
    pub granted_sites: Vec<String>,
    /// Their latest sign-in recorded in the audit log, if any.
    pub last_sign_in: Option<DateTime<Utc>>,
}

/// A signed-in browser, found by the SHA-256 of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    pub admin_id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A change to record in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// The admin who made it; `None` for the command line.
    pub admin_id: Option<String>,
    /// Who, in words (an e-mail, or `command line`).
    pub actor: String,
    /// What happened, as `thing.verb`: `site.create`, `admin.sign_in`, ….
    pub action: String,
    /// The site it concerns, if one.
    pub site_id: Option<String>,
    /// What was changed (a site id, an admin's e-mail, …).
    pub subject: String,
    /// The change itself, briefly (new values, never a secret).
    pub detail: String,
}

/// A recorded change, with its position and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub admin_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub site_id: Option<String>,
    pub subject: String,
    pub detail: String,
}
