//! Enrichment runs. After a login, each configured provider whose result is missing or
//! older than its TTL gets a job (deduplicated per user and provider), written in the
//! login's transaction. The job looks the user up, off the request path, and stores the
//! result at `app_metadata.enrichment.<provider>` with `fetched_at`, emitting
//! `profile.enriched`. Results are facts about the user that answers never overwrite:
//! answers live in `user_metadata`; prefill and `skip_if_known` read enrichment.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::net::IpAddr;

use super::{App, JobError};
use crate::model::job::ENRICH;
use crate::model::{Job, NewJob, User, now};
use crate::providers::{Lookup, ProviderError, Subject};

/// Whether a stored result is younger than `ttl`.
fn is_fresh(entry: Option<&Value>, ttl: std::time::Duration, now: DateTime<Utc>) -> bool {
    let fetched_at = entry
        .and_then(|e| e.get("fetched_at"))
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<DateTime<Utc>>().ok());
    match (fetched_at, chrono::Duration::from_std(ttl)) {
        (Some(at), Ok(ttl)) => now - at < ttl,
        _ => false,
    }
}

fn subject(user: &User) -> Subject {
    Subject {
        user_id: user.user_id.clone(),
        email: user.email.clone(),
        ip: user
            .last_ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok()),
        user_agent: user.last_user_agent.clone(),
    }
}

/// Enrichment runs.
pub struct Enrichment<'a> {
    pub(crate) app: &'a App,
}

impl Enrichment<'_> {
    /// Jobs for the providers whose results in `enrichment` (the user's stored
    /// `app_metadata.enrichment`) are missing or stale.
    pub(crate) fn enrichment_jobs(&self, user_id: &str, enrichment: Option<&Value>) -> Vec<NewJob> {
        let at = now();
        self.app
            .providers
            .iter()
            .filter(|p| !is_fresh(enrichment.and_then(|e| e.get(p.name())), p.ttl(), at))
            .map(|p| {
                let payload = json!({ "user_id": user_id, "provider": p.name() });
                NewJob::now(ENRICH, payload, self.app.job_settings.max_attempts)
                    .deduplicated(format!("enrich:{}:{user_id}", p.name()))
                    .about_user(Some(user_id.to_owned()))
            })
            .collect()
    }

    /// `enrich` job: one provider for one user.
    pub(crate) async fn enrich(&self, job: &Job) -> Result<(), JobError> {
        let (Some(user_id), Some(name)) = (
            job.payload["user_id"].as_str(),
            job.payload["provider"].as_str(),
        ) else {
            return Err(JobError::Permanent(
                "enrich job without user_id or provider".into(),
            ));
        };
        // A provider removed from the configuration since: nothing to do.
        let Some(provider) = self
            .app
            .providers
            .iter()
            .find(|p| p.name() == name)
            .cloned()
        else {
            return Ok(());
        };
        let Some(user) = self.app.store.user(&job.site_id, user_id).await? else {
            return Ok(()); // erased meanwhile
        };
        let at = now();
        if is_fresh(
            user.app_metadata
                .get("enrichment")
                .and_then(|e| e.get(name)),
            provider.ttl(),
            at,
        ) {
            return Ok(());
        }
        let lookup = provider
            .lookup(&subject(&user))
            .await
            .map_err(|e| match e {
                ProviderError::Retryable(m) => JobError::Retryable(format!("{name}: {m}")),
                ProviderError::Permanent(m) => JobError::Permanent(format!("{name}: {m}")),
            })?;
        let (entry, fields) = match lookup {
            Lookup::Found(mut fields) => {
                let found = fields.clone();
                fields.insert("fetched_at".into(), json!(at));
                (Value::Object(fields), Some(found))
            }
            Lookup::NothingKnown => (json!({ "fetched_at": at, "found": false }), None),
        };
        let wanted = self.app.webhooks().events_wanted(&job.site_id).await?;
        let event = fields.and_then(|fields| {
            let data =
                json!({ "user_id": user_id, "provider": name, "fields": fields, "fetched_at": at });
            self.app
                .webhooks()
                .event_job(&wanted, "profile.enriched", data)
        });
        let edit = |_: &mut Value, app_metadata: &mut Value| {
            store_result(app_metadata, name, entry.clone())
        };
        let follow_ups: Vec<NewJob> = event.into_iter().collect();
        self.app
            .store
            .edit_user(
                &job.site_id,
                user_id,
                &edit,
                self.app.limits.metadata,
                &follow_ups,
            )
            .await
            .map_err(|e| JobError::Permanent(format!("storing {name} result: {e}")))?;
        metrics::counter!("trickle_enrichments_total", "provider" => name.to_owned()).increment(1);
        if !follow_ups.is_empty() {
            self.app.jobs_enqueued.notify_one();
        }
        Ok(())
    }
}

/// Puts a provider's entry at `app_metadata.enrichment.<provider>`.
fn store_result(app_metadata: &mut Value, provider: &str, entry: Value) {
    if !app_metadata.is_object() {
        *app_metadata = Value::Object(Map::new());
    }
    let root = app_metadata.as_object_mut().expect("just made an object");
    let enrichment = root
        .entry("enrichment")
        .or_insert_with(|| Value::Object(Map::new()));
    if !enrichment.is_object() {
        *enrichment = Value::Object(Map::new());
    }
    enrichment
        .as_object_mut()
        .expect("just made an object")
        .insert(provider.to_owned(), entry);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn freshness_follows_the_ttl() {
        let at: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().unwrap();
        let entry = json!({ "fetched_at": "2026-05-01T10:00:00Z" });
        assert!(is_fresh(Some(&entry), Duration::from_secs(3 * 3600), at));
        assert!(!is_fresh(Some(&entry), Duration::from_secs(3600), at));
        assert!(!is_fresh(None, Duration::from_secs(3600), at));
        assert!(!is_fresh(
            Some(&json!({ "fetched_at": "yesterday" })),
            Duration::from_secs(3600),
            at
        ));
    }

    #[test]
    fn results_land_under_enrichment_without_touching_the_rest() {
        let mut app =
            json!({ "crm": { "id": 1 }, "enrichment": { "geoip": { "city": "Berlin" } } });
        store_result(&mut app, "email", json!({ "kind": "free" }));
        assert_eq!(
            app,
            json!({ "crm": { "id": 1 }, "enrichment": { "geoip": { "city": "Berlin" }, "email": { "kind": "free" } } })
        );
        let mut odd = json!({ "enrichment": 5 });
        store_result(&mut odd, "email", json!({}));
        assert_eq!(odd, json!({ "enrichment": { "email": {} } }));
    }
}
