//! User profiles: read, merge-patch, erase, and list (segments and export).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::logins::check_user_id;
use crate::questions::{Condition, Profile};
use crate::service::{Trickle, now};
use crate::sites::Site;
use crate::store::StoreError;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub user_id: String,
    pub login_count: i64,
    pub first_login_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
    pub last_ip: Option<String>,
    pub last_user_agent: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Answers and site-provided data: a JSON object.
    #[schema(value_type = Object)]
    pub user_metadata: Value,
    /// Enrichment and other data the user cannot edit: a JSON object.
    #[schema(value_type = Object)]
    pub app_metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the widget last showed this user a prompt (the site's
    /// `min_hours_between_prompts` counts from here); absent when never.
    pub last_prompted_at: Option<DateTime<Utc>>,
}

impl User {
    /// The view the question engine evaluates conditions against.
    pub fn profile(&self) -> Profile<'_> {
        Profile {
            user_metadata: &self.user_metadata,
            app_metadata: &self.app_metadata,
            login_count: self.login_count,
            first_login_at: Some(self.first_login_at),
        }
    }
}

/// Where an answer in `user_metadata` came from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AnswerRecord {
    pub key: String,
    pub question_set: String,
    pub version: i64,
    #[schema(value_type = Object)]
    pub value: Value,
    /// The user's login count when they answered.
    pub login_count: i64,
    pub answered_at: DateTime<Utc>,
}

/// What one enrichment provider found (from `app_metadata.enrichment.<provider>`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EnrichmentRecord {
    pub provider: String,
    pub fetched_at: Option<DateTime<Utc>>,
    /// False when the provider knew nothing about the user.
    pub found: bool,
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
}

/// `GET /v1/users/{id}`: the profile with where each value came from: answers (in
/// `user_metadata`) with their question set and version, enrichment (in
/// `app_metadata.enrichment`) with its provider and time. Enrichment never writes
/// `user_metadata`, so an answer always wins over enrichment for the same fact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub user: User,
    pub answers: Vec<AnswerRecord>,
    pub enrichment: Vec<EnrichmentRecord>,
}

/// The provider entries of `app_metadata.enrichment`, by provider name.
pub fn enrichment_records(app_metadata: &Value) -> Vec<EnrichmentRecord> {
    let Some(entries) = app_metadata.get("enrichment").and_then(Value::as_object) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(provider, entry)| {
            let mut fields = entry.as_object()?.clone();
            let fetched_at = fields
                .remove("fetched_at")
                .and_then(|t| t.as_str().and_then(|t| t.parse().ok()));
            let found = fields
                .remove("found")
                .and_then(|f| f.as_bool())
                .unwrap_or(true);
            Some(EnrichmentRecord {
                provider: provider.clone(),
                fetched_at,
                found,
                fields,
            })
        })
        .collect()
}

/// `PATCH /v1/users/{id}`: JSON merge patches (RFC 7396) of each metadata object.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(value_type = Object)]
    pub user_metadata: Option<Value>,
    #[schema(value_type = Object)]
    pub app_metadata: Option<Value>,
}

/// `GET /v1/users`: a page of users matching a condition.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A condition in the question-set `when` language, e.g.
    /// `{"all":[{"key":"login_count","equals":1},{"key":"days_since_first_login","gte":7}]}`.
    pub filter: Option<Condition>,
    pub after: Option<String>,
    pub limit: u32,
}

/// One page of users; `next_cursor` is set while more users may follow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<String>,
}

/// Most users returned in one page.
pub const MAX_PAGE: u32 = 1000;
/// Most users examined for one page, so a rare filter cannot make a request unbounded.
const MAX_SCANNED: usize = 20_000;
const SCAN_BATCH: u32 = 500;

fn user_not_found() -> Error {
    Error::NotFound { what: "user" }
}

/// Maps a store refusal over a size limit to the 413 the client should see.
pub(crate) fn too_large(error: StoreError) -> Error {
    match error {
        StoreError::TooLarge { field, size, limit } => Error::TooLarge {
            code: "metadata_too_large",
            message: format!("{field} would be {size} bytes, over the limit of {limit}"),
            field: Some(field.to_owned()),
        },
        other => other.into(),
    }
}

impl Trickle {
    /// The whole profile of a user.
    pub async fn profile(&self, site: &Site, user_id: &str) -> Result<ProfileView> {
        check_user_id(user_id, self.limits.user_id_bytes)?;
        let user = self
            .store
            .user(&site.site_id, user_id)
            .await?
            .ok_or_else(user_not_found)?;
        let answers = self.store.answers(&site.site_id, user_id).await?;
        let enrichment = enrichment_records(&user.app_metadata);
        Ok(ProfileView {
            user,
            answers,
            enrichment,
        })
    }

    /// Applies merge patches to the metadata, atomically; the results must stay objects.
    pub async fn patch_user(&self, site: &Site, user_id: &str, patch: UserPatch) -> Result<User> {
        check_user_id(user_id, self.limits.user_id_bytes)?;
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
        self.store
            .edit_user(&site.site_id, user_id, &edit, self.limits.metadata, &[])
            .await
            .map_err(too_large)?
            .ok_or_else(user_not_found)
    }

    /// Erases a user and everything about them.
    pub async fn delete_user(&self, site: &Site, user_id: &str) -> Result<()> {
        check_user_id(user_id, self.limits.user_id_bytes)?;
        let wanted = self.events_wanted(&site.site_id).await?;
        let event = self.event_job(
            &wanted,
            "user.deleted",
            serde_json::json!({ "user_id": user_id }),
        );
        let follow_ups: Vec<_> = event.into_iter().collect();
        if self
            .store
            .delete_user(&site.site_id, user_id, &follow_ups)
            .await?
        {
            if !follow_ups.is_empty() {
                self.jobs_enqueued.notify_one();
            }
            Ok(())
        } else {
            Err(user_not_found())
        }
    }

    /// A page of users matching the query, in user-id order.
    pub async fn list_users(&self, site: &Site, query: &UserQuery) -> Result<UserPage> {
        let limit = query.limit.clamp(1, MAX_PAGE) as usize;
        let now = now();
        let mut cursor = query.after.clone();
        let mut users = Vec::new();
        let mut scanned = 0;
        loop {
            let batch = self
                .store
                .list_users(&site.site_id, cursor.as_deref(), SCAN_BATCH)
                .await?;
            let exhausted = batch.len() < SCAN_BATCH as usize;
            for user in batch {
                scanned += 1;
                cursor = Some(user.user_id.clone());
                let keep = match &query.filter {
                    Some(filter) => filter.holds(&user.profile(), now),
                    None => true,
                };
                if keep {
                    users.push(user);
                    if users.len() == limit {
                        return Ok(UserPage {
                            users,
                            next_cursor: cursor,
                        });
                    }
                }
            }
            if exhausted {
                return Ok(UserPage {
                    users,
                    next_cursor: None,
                });
            }
            if scanned >= MAX_SCANNED {
                return Ok(UserPage {
                    users,
                    next_cursor: cursor,
                });
            }
        }
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
