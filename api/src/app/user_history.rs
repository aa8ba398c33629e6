//! A user's history (logins and prompt events, newest first), audited erasure, and
//! what the console's users and profile pages read through [`Access`].

use super::audit::Actor;
use super::logins::check_user_id;
use super::prompts::Explanation;
use super::{Access, Profiles};
use crate::error::{Error, Result};
use crate::model::history::{HistoryEvent, HistoryPage, HistoryPosition};
use crate::model::user::MAX_PAGE;
use crate::model::{ProfileView, Site, UserPage, UserQuery};

impl Profiles<'_> {
    /// A page of the user's logins and prompt events, newest first, after the cursor
    /// `after` (a previous page's `next_cursor`; 400 `invalid_cursor` otherwise).
    pub async fn history(
        &self,
        site: &Site,
        user_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<HistoryPage> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let before = match after {
            None => None,
            Some(cursor) => Some(HistoryPosition::from_cursor(cursor).ok_or_else(|| {
                Error::invalid(
                    "invalid_cursor",
                    "after",
                    "after must be a next_cursor of this endpoint",
                )
            })?),
        };
        if self.app.store.user(&site.site_id, user_id).await?.is_none() {
            return Err(Error::NotFound { what: "user" });
        }
        let limit = limit.clamp(1, MAX_PAGE);
        let mut events = self
            .app
            .store
            .user_history(&site.site_id, user_id, before.as_ref(), limit + 1)
            .await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_cursor = more
            .then(|| events.last().map(|e| e.position.cursor()))
            .flatten();
        Ok(HistoryPage {
            events,
            next_cursor,
        })
    }

    /// Erases the user as [`Profiles::delete`] does (`user.deleted` emitted) and
    /// records `user.erase` in the audit log: who erased a user of which site, and
    /// when. Not which user: after erasure no table names them, the audit log included.
    pub async fn erase(&self, by: &Actor, site: &Site, user_id: &str) -> Result<()> {
        self.delete(site, user_id).await?;
        self.app
            .audit()
            .record_on(by, "user.erase", site, "a user", "")
            .await
    }
}

/// A user's page in the console: the profile with its sources, the first page of
/// the history, and the engine's explanation of the next question.
pub struct UserOverview {
    pub site: Site,
    pub profile: ProfileView,
    pub history: HistoryPage,
    pub explanation: Explanation,
}

/// Users of a site the admin may manage: the same use cases as `/v1/users`.
impl Access<'_> {
    /// A page of the site's users in user-id order, after `after`.
    pub async fn users(
        &self,
        site_id: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<(Site, UserPage)> {
        let site = self.site(site_id).await?;
        let query = UserQuery {
            filter: None,
            after,
            limit,
        };
        let page = self.app.profiles().list(&site, &query).await?;
        Ok((site, page))
    }

    /// One user's profile, history (the newest `history_limit` events, or after the
    /// cursor) and explanation, as `GET /v1/users/{id}`, `…/history` and
    /// `…/next?explain=true` answer them.
    pub async fn user(
        &self,
        site_id: &str,
        user_id: &str,
        history_after: Option<&str>,
        history_limit: u32,
    ) -> Result<UserOverview> {
        let site = self.site(site_id).await?;
        let profile = self.app.profiles().get(&site, user_id).await?;
        let history = self
            .app
            .profiles()
            .history(&site, user_id, history_after, history_limit)
            .await?;
        let explanation = self.app.prompts().explain(&site, user_id, None).await?;
        Ok(UserOverview {
            site,
            profile,
            history,
            explanation,
        })
    }

    /// Erases a user of the site, as `DELETE /v1/users/{id}` does; audited.
    pub async fn erase_user(&self, site_id: &str, user_id: &str) -> Result<Site> {
        let site = self.site(site_id).await?;
        self.app
            .profiles()
            .erase(&Actor::admin(self.admin), &site, user_id)
            .await?;
        Ok(site)
    }
}

impl Access<'_> {
    /// The whole profile of a user of the site, as `GET /v1/users/{id}` answers it,
    /// with their whole history (every page of `GET /v1/users/{id}/history`), newest
    /// first.
    pub async fn export_user(
        &self,
        site_id: &str,
        user_id: &str,
    ) -> Result<(ProfileView, Vec<HistoryEvent>)> {
        let site = self.site(site_id).await?;
        let profiles = self.app.profiles();
        let profile = profiles.get(&site, user_id).await?;
        let mut events = Vec::new();
        let mut after = None;
        loop {
            let page = profiles
                .history(&site, user_id, after.as_deref(), MAX_PAGE)
                .await?;
            events.extend(page.events);
            match page.next_cursor {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        Ok((profile, events))
    }
}
