//! What one signed-in admin may do with sites: owners reach every site, members the
//! sites granted to them. Every change made here is written to the audit log.
//!
//! A member asking for a site not granted to them gets "site not found", as for a site
//! that does not exist: the console reveals nothing about other tenants.

use super::App;
use super::audit::Actor;
use crate::error::{Error, Result};
use crate::model::site::{KeyRotationRequest, RotatedKeys, SiteKey};
use crate::model::{Admin, AuditEntry, Role, Site, SiteKeys, SitePatch};

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
