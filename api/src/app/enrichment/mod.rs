//! Enrichment runs. A provider is due for a user when its inputs are known, its `when`
//! holds, and its stored result is missing, older than its TTL or made from other input
//! values (a hash of them is kept beside `fetched_at`). Jobs are written in the
//! transaction of what may make a provider due: a login (every provider), an answer
//! (providers reading `user_metadata`), another provider's result (the providers that
//! read it). Each job checks again that its provider is due, looks the user up off the
//! request path, and stores the result at `app_metadata.enrichment.<provider>`,
//! emitting `profile.enriched`. Results are facts about the user that answers never
//! overwrite: answers live in `user_metadata`; prefill and `skip_if_known` read
//! enrichment.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

mod backfill;
mod quota;
mod status;

pub use backfill::{BackfillFilter, BackfillProgress};
pub(crate) use quota::InFlight;
pub use status::{ProviderStatus, ProviderStatusList};

use super::{App, JobError};
use crate::model::job::ENRICH;
use crate::model::{Job, NewJob, User, now};
use crate::providers::{Lookup, Provider, Subject, dependencies};
use crate::questions::Profile;

/// Where the hash of a result's input values is kept in its entry.
const INPUTS_HASH: &str = "inputs_hash";

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

/// A short hash of a provider's input values.
fn inputs_hash(inputs: &[String]) -> String {
    let digest = Sha256::digest(serde_json::to_vec(inputs).expect("strings serialise"));
    hex::encode(&digest[..16])
}

/// Whether the entry was made from other input values (an entry without a hash,
/// stored before hashes were kept, counts as made from these).
fn inputs_changed(entry: Option<&Value>, hash: &str) -> bool {
    entry
        .and_then(|e| e.get(INPUTS_HASH))
        .and_then(Value::as_str)
        .is_some_and(|stored| stored != hash)
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
        user_metadata: user.user_metadata.clone(),
        app_metadata: user.app_metadata.clone(),
    }
}

/// The hash of the provider's inputs when it is due for `user` at `now`, else `None`.
fn due(provider: &dyn Provider, user: &User, now: DateTime<Utc>) -> Option<String> {
    let inputs = provider.inputs(&subject(user))?;
    if let Some(when) = provider.when() {
        let profile = Profile {
            user_metadata: &user.user_metadata,
            app_metadata: &user.app_metadata,
            login_count: user.login_count,
            first_login_at: Some(user.first_login_at),
            last_login_at: Some(user.last_login_at),
        };
        if !when.holds(&profile, now) {
            return None;
        }
    }
    let hash = inputs_hash(&inputs);
    let entry = user
        .app_metadata
        .get("enrichment")
        .and_then(|e| e.get(provider.name()));
    let current = is_fresh(entry, provider.ttl(), now) && !inputs_changed(entry, &hash);
    (!current).then_some(hash)
}

/// Whether a profile path under `user_metadata` and an answered key overlap (one
/// is the other or contains it).
fn overlaps(path: &str, key: &str) -> bool {
    let Some(read) = path.strip_prefix("user_metadata.") else {
        return false;
    };
    let within = |long: &str, short: &str| {
        long == short || long.strip_prefix(short).is_some_and(|r| r.starts_with('.'))
    };
    within(read, key) || within(key, read)
}

/// Enrichment runs.
pub struct Enrichment<'a> {
    pub(crate) app: &'a App,
}

impl Enrichment<'_> {
    fn job(&self, user_id: &str, provider: &str) -> NewJob {
        let payload = json!({ "user_id": user_id, "provider": provider });
        NewJob::now(ENRICH, payload, self.app.job_settings.max_attempts)
            .deduplicated(format!("enrich:{provider}:{user_id}"))
            .about_user(Some(user_id.to_owned()))
    }

    /// Jobs for the providers due for `user` as a login left them.
    pub(crate) fn enrichment_jobs(&self, user: &User) -> Vec<NewJob> {
        let at = now();
        self.app
            .providers
            .iter()
            .filter(|p| due(p.as_ref(), user, at).is_some())
            .map(|p| self.job(&user.user_id, p.name()))
            .collect()
    }

    /// Jobs for the providers that read the answered `key` of `user_metadata` (each
    /// checks whether it is due when it runs).
    pub(crate) fn jobs_after_answer(&self, user_id: &str, key: &str) -> Vec<NewJob> {
        self.app
            .providers
            .iter()
            .filter(|p| p.reads().iter().any(|path| overlaps(path, key)))
            .map(|p| self.job(user_id, p.name()))
            .collect()
    }

    /// Jobs for the providers that read `provider`'s result.
    fn jobs_for_dependants(&self, user_id: &str, provider: &str) -> Vec<NewJob> {
        self.app
            .providers
            .iter()
            .filter(|p| dependencies(p.as_ref()).iter().any(|d| d == provider))
            .map(|p| self.job(user_id, p.name()))
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
        let Some(hash) = due(provider.as_ref(), &user, at) else {
            return Ok(());
        };
        let fetched = self
            .fetch(
                provider.as_ref(),
                &job.site_id,
                user_id,
                &subject(&user),
                &hash,
            )
            .await?;
        let at = fetched.fetched_at;
        let (mut entry, fields) = match fetched.lookup {
            Lookup::Found(mut fields) => {
                let found = fields.clone();
                fields.insert("fetched_at".into(), json!(at));
                (fields, Some(found))
            }
            Lookup::NothingKnown => {
                let mut entry = Map::new();
                entry.insert("fetched_at".into(), json!(at));
                entry.insert("found".into(), json!(false));
                (entry, None)
            }
        };
        entry.insert(INPUTS_HASH.into(), json!(hash));
        let entry = Value::Object(entry);
        let wanted = self.app.webhooks().events_wanted(&job.site_id).await?;
        let event = fields.as_ref().and_then(|fields| {
            let data =
                json!({ "user_id": user_id, "provider": name, "fields": fields, "fetched_at": at });
            self.app
                .webhooks()
                .event_job(&wanted, "profile.enriched", data)
        });
        let edit = |_: &mut Value, app_metadata: &mut Value| {
            store_result(app_metadata, name, entry.clone())
        };
        let mut follow_ups: Vec<NewJob> = event.into_iter().collect();
        if fields.is_some() {
            follow_ups.extend(self.jobs_for_dependants(user_id, name));
        }
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
    fn a_changed_input_makes_a_result_stale() {
        let hash = inputs_hash(&["ada@acme.example".into()]);
        assert_eq!(hash.len(), 32);
        assert_ne!(hash, inputs_hash(&["eve@acme.example".into()]));
        assert_ne!(
            inputs_hash(&["a".into(), "b".into()]),
            inputs_hash(&["ab".into()])
        );
        let entry = json!({ "fetched_at": "2026-05-01T10:00:00Z", "inputs_hash": hash });
        assert!(!inputs_changed(Some(&entry), &hash));
        assert!(inputs_changed(Some(&entry), "other"));
        let legacy = json!({ "fetched_at": "2026-05-01T10:00:00Z" });
        assert!(
            !inputs_changed(Some(&legacy), "other"),
            "no hash kept: unchanged"
        );
        assert!(!inputs_changed(None, "other"));
    }

    #[test]
    fn answered_keys_overlap_the_paths_read() {
        assert!(overlaps("user_metadata.twitter", "twitter"));
        assert!(overlaps("user_metadata.company.name", "company"));
        assert!(overlaps("user_metadata.company", "company.name"));
        assert!(!overlaps("user_metadata.company", "companyx"));
        assert!(!overlaps("user_metadata.twitter", "tw"));
        assert!(!overlaps("app_metadata.twitter", "twitter"));
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
