//! What one signed-in admin may do with sites: owners reach every site, members the
//! sites granted to them; only owners manage admins. Every change made here is written
//! to the audit log.
//!
//! A member asking for a site not granted to them gets "site not found", as for a site
//! that does not exist: the console reveals nothing about other tenants.

use super::App;
use super::audit::Actor;
use crate::error::{Error, Result};
use crate::model::site::{KeyRotationRequest, RotatedKeys, SiteKey};
use crate::model::{
    Admin, AdminOverview, AuditEntry, CreatedSubscription, Delivery, NewSubscription, Role, Site,
    SiteKeys, SitePatch, Subscription,
};

/// The sites an admin may manage and the changes they may make.
pub struct Access<'a> {
    pub(crate) app: &'a App,
    pub(crate) admin: &'a Admin,
}

impl Access<'_> {
    fn actor(&self) -> Actor {
        Actor::admin(self.admin)
    }

    /// Refuses members: for what only owners may do.
    pub fn require_owner(&self) -> Result<()> {
        match self.admin.role {
            Role::Owner => Ok(()),
            Role::Member => Err(Error::Forbidden {
                code: "owner_only",
                message: "only an owner may do this".into(),
            }),
        }
    }

    /// Whether this admin may manage the site.
    pub async fn may_manage(&self, site_id: &str) -> Result<bool> {
        Ok(match self.admin.role {
            Role::Owner => true,
            Role::Member => self
                .app
                .store
                .granted_sites(&self.admin.admin_id)
                .await?
                .iter()
                .any(|granted| granted == site_id),
        })
    }

    /// The sites this admin may manage, by name.
    pub async fn sites(&self) -> Result<Vec<Site>> {
        let all = self.app.store.all_sites().await?;
        if self.admin.role == Role::Owner {
            return Ok(all);
        }
        let granted = self.app.store.granted_sites(&self.admin.admin_id).await?;
        Ok(all
            .into_iter()
            .filter(|site| granted.contains(&site.site_id))
            .collect())
    }

    /// A site this admin may manage; any other is "not found".
    pub async fn site(&self, site_id: &str) -> Result<Site> {
        if !self.may_manage(site_id).await? {
            return Err(Error::NotFound { what: "site" });
        }
        self.app.sites().get(site_id).await
    }

    /// Creates a site (owners only); the keys are shown once.
    pub async fn create_site(&self, name: &str, allowed_origins: Vec<String>) -> Result<SiteKeys> {
        self.require_owner()?;
        let keys = self.app.sites().create(name, allowed_origins).await?;
        self.app.audit().site_created(&self.actor(), &keys).await?;
        Ok(keys)
    }

    /// Changes a site's origins or widget settings, checked as the API checks them.
    pub async fn update_site(&self, site_id: &str, patch: SitePatch) -> Result<Site> {
        let site = self.site(site_id).await?;
        self.app.sites().update(&self.actor(), &site, patch).await
    }

    /// Replaces the named keys of a site as `POST /v1/site/rotate-keys` does (the old
    /// ones stay valid for the deployment's grace period); the new ones are in the
    /// result, the only time they are shown. The log names the keys, never their values.
    pub async fn rotate_keys(&self, site_id: &str, keys: Vec<SiteKey>) -> Result<RotatedKeys> {
        let site = self.site(site_id).await?;
        let request = KeyRotationRequest {
            keys,
            grace_seconds: None,
        };
        self.app
            .sites()
            .rotate_keys(&self.actor(), &site, None, request)
            .await
    }

    /// The audit log (owners only), newest first.
    pub async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.require_owner()?;
        self.app.audit().list(before, limit).await
    }
}

/// Webhooks of a site the admin may manage: the same use cases as `/v1/webhooks`.
impl Access<'_> {
    /// The site's webhooks, each with its newest delivery.
    pub async fn webhooks(
        &self,
        site_id: &str,
    ) -> Result<(Site, Vec<(Subscription, Option<Delivery>)>)> {
        let site = self.site(site_id).await?;
        let webhooks = self.app.webhooks().list_with_latest(&site).await?;
        Ok((site, webhooks))
    }

    /// One webhook of the site, with its latest deliveries (newest first).
    pub async fn webhook_deliveries(
        &self,
        site_id: &str,
        id: &str,
        limit: u32,
    ) -> Result<(Site, Subscription, Vec<Delivery>)> {
        let site = self.site(site_id).await?;
        let subscription = self.app.webhooks().get(&site, id).await?;
        let deliveries = self.app.webhooks().deliveries(&site, id, limit).await?;
        Ok((site, subscription, deliveries))
    }

    /// Subscribes a URL, checked as `POST /v1/webhooks` checks it; the secret is in the
    /// result (shown once) and never in the log.
    pub async fn create_webhook(
        &self,
        site_id: &str,
        request: NewSubscription,
    ) -> Result<CreatedSubscription> {
        let site = self.site(site_id).await?;
        self.app
            .webhooks()
            .create(&self.actor(), &site, request)
            .await
    }

    /// Unsubscribes.
    pub async fn delete_webhook(&self, site_id: &str, id: &str) -> Result<Subscription> {
        let site = self.site(site_id).await?;
        self.app.webhooks().delete(&self.actor(), &site, id).await
    }

    /// Sends a finished delivery again (see `Webhooks::redeliver`).
    pub async fn redeliver(&self, site_id: &str, id: &str, delivery_id: &str) -> Result<Delivery> {
        let site = self.site(site_id).await?;
        self.app
            .webhooks()
            .redeliver(&self.actor(), &site, id, delivery_id)
            .await
    }
}

/// Admin management: owners only, each change audited by `Admins`.
impl Access<'_> {
    /// Every admin with their grants and last sign-in.
    pub async fn admins(&self) -> Result<Vec<AdminOverview>> {
        self.require_owner()?;
        self.app.admins().overview().await
    }

    /// Creates an admin with a generated password, shown once.
    pub async fn create_admin(&self, email: &str, role: Role) -> Result<(Admin, String)> {
        self.require_owner()?;
        self.app
            .admins()
            .create_with_generated_password(&self.actor(), email, role)
            .await
    }

    /// Lets a member manage a site; false if they already could.
    pub async fn grant_site(&self, admin_id: &str, site_id: &str) -> Result<bool> {
        self.require_owner()?;
        let admin = self.app.admins().get(admin_id).await?;
        self.app
            .admins()
            .grant(&self.actor(), &admin.email, site_id)
            .await
    }

    /// Takes a site away from a member; false if it was not granted.
    pub async fn revoke_site(&self, admin_id: &str, site_id: &str) -> Result<bool> {
        self.require_owner()?;
        self.app
            .admins()
            .revoke(&self.actor(), admin_id, site_id)
            .await
    }

    /// Makes an admin an owner or a member (never the last owner a member).
    pub async fn set_role(&self, admin_id: &str, role: Role) -> Result<Admin> {
        self.require_owner()?;
        self.app
            .admins()
            .set_role(&self.actor(), admin_id, role)
            .await
    }

    /// Removes an admin and ends their sessions (never yourself, never the last owner).
    pub async fn remove_admin(&self, admin_id: &str) -> Result<Admin> {
        self.require_owner()?;
        self.app.admins().remove(&self.actor(), admin_id).await
    }
}
