//! User profiles: read, merge-patch, erase, and list (segments and export).

use serde_json::Value;

use super::App;
use super::logins::check_user_id;
use crate::error::{Error, Result};
use crate::model::user::{MAX_PAGE, enrichment_records};
use crate::model::value_sources::value_sources;
use crate::model::{ProfileView, Site, User, UserPage, UserPatch, UserQuery, now};
use crate::questions::Condition;

fn user_not_found() -> Error {
    Error::NotFound { what: "user" }
}

/// User profiles: read, merge-patch, erase, list.
pub struct Profiles<'a> {
    pub(crate) app: &'a App,
}

impl Profiles<'_> {
    /// The whole profile of a user.
    pub async fn get(&self, site: &Site, user_id: &str) -> Result<ProfileView> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let user = self
            .app
            .store
            .user(&site.site_id, user_id)
            .await?
            .ok_or_else(user_not_found)?;
        let answers = self.app.store.answers(&site.site_id, user_id).await?;
        let enrichment = enrichment_records(&user.app_metadata);
        let sources = value_sources(&user.user_metadata, &user.app_metadata, &answers);
        Ok(ProfileView {
            user,
            answers,
            enrichment,
            sources,
        })
    }

    /// Applies merge patches to the metadata, atomically; the results must stay objects.
    pub async fn patch(&self, site: &Site, user_id: &str, patch: UserPatch) -> Result<User> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        for (field, value) in [
            ("user_metadata", &patch.user_metadata),
            ("app_metadata", &patch.app_metadata),
        ] {
            if value.as_ref().is_some_and(|v| !v.is_object()) {
                return Err(Error::invalid(
                    "invalid_field",
                    field,
                    format!("{field} must be a JSON object"),
                ));
            }
        }
        let edit = |user_metadata: &mut Value, app_metadata: &mut Value| {
            if let Some(p) = &patch.user_metadata {
                json_patch::merge(user_metadata, p);
            }
            if let Some(p) = &patch.app_metadata {
                json_patch::merge(app_metadata, p);
            }
        };
        self.app
            .store
            .edit_user(&site.site_id, user_id, &edit, self.app.limits.metadata, &[])
            .await
            .map_err(Error::metadata_too_large)?
            .ok_or_else(user_not_found)
    }

    /// Erases a user and everything about them, in one transaction: profile, answers,
    /// prompt and login events, and every job and webhook delivery about them (queued,
    /// done or dead); then emits `user.deleted`.
    pub async fn delete(&self, site: &Site, user_id: &str) -> Result<()> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let wanted = self.app.webhooks().events_wanted(&site.site_id).await?;
        // The one record naming the user that outlives the erasure: subscribers need the
        // id to erase their copies. It carries nothing else, belongs to no user (a later
        // erasure of a new user with the same id leaves it), and retention purges it.
        let event = self.app.webhooks().event_job(
            &wanted,
            "user.deleted",
            serde_json::json!({ "user_id": user_id }),
        );
        let follow_ups: Vec<_> = event.map(|job| job.about_user(None)).into_iter().collect();
        if self
            .app
            .store
            .delete_user(&site.site_id, user_id, &follow_ups)
            .await?
        {
            if !follow_ups.is_empty() {
                self.app.jobs_enqueued.notify_one();
            }
            Ok(())
        } else {
            Err(user_not_found())
        }
    }

    /// A page of users matching the query, in user-id order; the filter is evaluated
    /// in the database. `next_cursor` is set when the page is full (more may follow).
    pub async fn list(&self, site: &Site, query: &UserQuery) -> Result<UserPage> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let users = self
            .app
            .store
            .list_users(
                &site.site_id,
                query.filter.as_ref(),
                now(),
                query.after.as_deref(),
                limit,
            )
            .await?;
        let next_cursor = (users.len() == limit as usize)
            .then(|| users.last().map(|u| u.user_id.clone()))
            .flatten();
        Ok(UserPage { users, next_cursor })
    }

    /// How many users of the site the condition holds for (every user without one).
    pub async fn count(&self, site: &Site, filter: Option<&Condition>) -> Result<i64> {
        Ok(self
            .app
            .store
            .count_users(&site.site_id, filter, now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enrichment_records_say_who_found_what_and_when() {
        let app = json!({ "crm": 1, "enrichment": {
            "geoip": { "city": "Berlin", "fetched_at": "2026-05-01T10:00:00Z" },
            "company": { "found": false, "fetched_at": "2026-05-01T10:00:00Z" },
            "broken": 3 } });
        let records = enrichment_records(&app);
        assert_eq!(records.len(), 2);
        let company = records.iter().find(|r| r.provider == "company").unwrap();
        assert!(!company.found && company.fields.is_empty());
        let geoip = records.iter().find(|r| r.provider == "geoip").unwrap();
        assert_eq!(geoip.fields["city"], "Berlin");
        assert_eq!(
            geoip.fetched_at.unwrap().to_rfc3339(),
            "2026-05-01T10:00:00+00:00"
        );
        assert!(enrichment_records(&json!({})).is_empty());
    }
}
