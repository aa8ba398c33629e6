//! The audit log: who changed what in the console (or from the command line), and when.

use super::App;
use crate::error::Result;
use crate::model::{Admin, AuditEntry, NewAuditEntry};

/// Who makes a change: a signed-in admin, or the command line (someone with shell
/// access to the deployment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub admin_id: Option<String>,
    pub name: String,
}

impl Actor {
    /// The `trickle` command line.
    pub fn command_line() -> Actor {
        Actor {
            admin_id: None,
            name: "command line".into(),
        }
    }

    /// A signed-in admin.
    pub fn admin(admin: &Admin) -> Actor {
        Actor {
            admin_id: Some(admin.admin_id.clone()),
            name: admin.email.clone(),
        }
    }
}

/// A change about to be recorded: what, on which site, to what.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// `thing.verb`, e.g. `site.create`.
    pub action: &'a str,
    pub site_id: Option<&'a str>,
    pub subject: &'a str,
    /// New values, briefly; never a secret.
    pub detail: &'a str,
}

/// The audit log's use cases.
pub struct Audit<'a> {
    pub(crate) app: &'a App,
}

impl Audit<'_> {
    /// Records a change made by `actor`.
    pub async fn record(&self, actor: &Actor, change: Change<'_>) -> Result<()> {
        let entry = NewAuditEntry {
            admin_id: actor.admin_id.clone(),
            actor: actor.name.clone(),
            action: change.action.to_owned(),
            site_id: change.site_id.map(str::to_owned),
            subject: change.subject.to_owned(),
            detail: change.detail.to_owned(),
        };
        Ok(self.app.store.record_audit(&entry).await?)
    }

    /// Entries newest first, below `before` when given; at most 200.
    pub async fn list(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        Ok(self
            .app
            .store
            .audit_entries(before, limit.clamp(1, 200))
            .await?)
    }
}
