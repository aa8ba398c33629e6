//! The audit log: who changed what, and when: in the console, through the API with a
//! site's secret key, or from the command line.

use super::App;
use crate::error::Result;
use crate::model::site::RotatedKeys;
use crate::model::{Admin, AuditEntry, Delivery, NewAuditEntry, Site, SiteKeys, Subscription};

/// Who makes a change: a signed-in admin, a caller of the API holding the site's
/// secret key, or the command line (someone with shell access to the deployment).
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

    /// A caller of the API, with the site's secret key.
    pub fn secret_key() -> Actor {
        Actor {
            admin_id: None,
            name: "secret key".into(),
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

    /// Records `action` on `subject` (a set's slug, a segment's name, the site's name)
    /// of `site`, with the new values in `detail`.
    pub async fn record_on(
        &self,
        by: &Actor,
        action: &str,
        site: &Site,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        let change = Change {
            action,
            site_id: Some(&site.site_id),
            subject,
            detail,
        };
        self.record(by, change).await
    }

    /// A site was created (the keys are never written).
    pub async fn site_created(&self, by: &Actor, keys: &SiteKeys) -> Result<()> {
        let change = Change {
            action: "site.create",
            site_id: Some(&keys.site_id),
            subject: &keys.name,
            detail: &format!("origins: {}", keys.allowed_origins.join(" ")),
        };
        self.record(by, change).await
    }

    /// A site's origins (`origins`) and/or widget settings (`settings`) were changed:
    /// one entry for each, with the new values.
    pub async fn site_updated(
        &self,
        by: &Actor,
        site: &Site,
        origins: bool,
        settings: bool,
    ) -> Result<()> {
        if origins {
            let detail = site.allowed_origins.join(" ");
            self.record_on(by, "site.origins", site, &site.name, &detail)
                .await?;
        }
        if settings {
            let detail = serde_json::to_string(&site.widget_settings).expect("settings serialise");
            self.record_on(by, "site.widget_settings", site, &site.name, &detail)
                .await?;
        }
        Ok(())
    }

    /// A site's keys were rotated: which ones and until when the old ones work, never
    /// their values.
    pub async fn keys_rotated(&self, by: &Actor, site: &Site, rotated: &RotatedKeys) -> Result<()> {
        let names: Vec<&str> = rotated.rotated.iter().map(|k| k.as_str()).collect();
        let detail = format!(
            "rotated: {}; the old ones valid until {}",
            names.join(", "),
            rotated.previous_valid_until.to_rfc3339()
        );
        self.record_on(by, "site.rotate_keys", site, &site.name, &detail)
            .await
    }

    /// A webhook subscription was created (never its secret).
    pub async fn webhook_created(
        &self,
        by: &Actor,
        site: &Site,
        hook: &Subscription,
    ) -> Result<()> {
        let detail = format!("{} ({}): {}", hook.url, hook.id, hook.events.join(", "));
        self.record_on(by, "webhook.create", site, &site.name, &detail)
            .await
    }

    /// A webhook subscription was deleted.
    pub async fn webhook_deleted(
        &self,
        by: &Actor,
        site: &Site,
        hook: &Subscription,
    ) -> Result<()> {
        let detail = format!("{} ({})", hook.url, hook.id);
        self.record_on(by, "webhook.delete", site, &site.name, &detail)
            .await
    }

    /// A delivery was queued again.
    pub async fn webhook_redelivered(
        &self,
        by: &Actor,
        site: &Site,
        delivery: &Delivery,
    ) -> Result<()> {
        let detail = format!(
            "{} ({}) to webhook {}",
            delivery.id, delivery.event_type, delivery.subscription_id
        );
        self.record_on(by, "webhook.redeliver", site, &site.name, &detail)
            .await
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
