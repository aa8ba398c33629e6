//! Question-set authoring in the console: the sets of a site with who last changed
//! them, drafts, publishing and rolling back (each written to the audit log), what a
//! publish would orphan, version comparison, the preview of any question and the
//! rehearsal of a login. Every use case starts from a [`ManagedSite`], which only
//! [`Authoring::site`] hands out after the admin's access is checked.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::App;
use super::audit::Actor;
use super::logins::check_user_id;
use super::prompts::DuePrompt;
use crate::error::{Error, Result};
use crate::model::{
    Admin, AnswerProbe, PublishedSets, QuestionSetHistory, QuestionSetSummary, QuestionSetVersion,
    Site, json_size, now,
};
use crate::questions::{
    Decision, Profile, PublishedSet, QuestionSet, SetChanges, Verdict, compare, preview_prompt,
    rehearse,
};

/// Highest login number a rehearsal takes.
pub const MAX_LOGIN: i64 = 1_000_000;
/// Most days since the first login a made-up profile takes (a century).
pub const MAX_DAYS: i64 = 36_500;

/// A site the admin may manage (only [`Authoring::site`] makes one).
pub struct ManagedSite(Site);

impl ManagedSite {
    /// The site.
    pub fn site(&self) -> &Site {
        &self.0
    }
}

/// A set in the list: its versions and its last change.
#[derive(Debug, Clone)]
pub struct SetListing {
    pub summary: QuestionSetSummary,
    /// Draft versions newer than the live one.
    pub drafts: i64,
    /// When the set last changed.
    pub changed_at: DateTime<Utc>,
    /// Who changed it: the actor of its audit entry (an admin's e-mail, `secret key`
    /// or `command line`), or `API or command line` for a change without one (made
    /// before every change was recorded).
    pub changed_by: String,
}

/// Answers a publish would leave without their question, with how many users hold one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub key: String,
    /// The option value removed; `None`: the whole question is removed.
    pub option: Option<String>,
    pub users: i64,
}

/// Whose profile a rehearsal uses.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A profile typed in the console.
    MadeUp {
        user_metadata: Value,
        app_metadata: Value,
        days_since_first_login: i64,
    },
    /// A stored user of the site, with their history.
    User(String),
}

/// What a login would ask, in order, and why each other question is passed over.
#[derive(Debug, Clone)]
pub struct Rehearsed {
    /// The questions shown, first to last (verdict `due`).
    pub shown: Vec<Decision>,
    /// The others with the engine's verdict.
    pub passed_over: Vec<Decision>,
}

/// The console's question-set use cases for one admin.
pub struct Authoring<'a> {
    pub(crate) app: &'a App,
    pub(crate) admin: &'a Admin,
}

impl Authoring<'_> {
    /// A site this admin may manage; any other is "site not found".
    pub async fn site(&self, site_id: &str) -> Result<ManagedSite> {
        Ok(ManagedSite(
            self.app.access(self.admin).site(site_id).await?,
        ))
    }

    fn actor(&self) -> Actor {
        Actor::admin(self.admin)
    }

    /// The site's sets by slug, each with its last change and who made it.
    pub async fn sets(&self, site: &ManagedSite) -> Result<Vec<SetListing>> {
        let site = site.site();
        let summaries = self.app.publishing().list(site).await?;
        let changes = self
            .app
            .store
            .latest_audit_by_subject(&site.site_id, "question_set.")
            .await?;
        Ok(summaries
            .into_iter()
            .map(|summary| {
                // An entry is written just after its change; a later change without
                // one came through the API or the command line.
                let by = changes
                    .iter()
                    .find(|e| e.subject == summary.slug)
                    .filter(|e| e.at + Duration::seconds(1) >= summary.updated_at)
                    .map_or_else(|| "API or command line".to_owned(), |e| e.actor.clone());
                SetListing {
                    drafts: summary.latest_version - summary.live_version.unwrap_or(0),
                    changed_at: summary.updated_at,
                    changed_by: by,
                    summary,
                }
            })
            .collect())
    }

    /// One set with all its versions.
    pub async fn history(&self, site: &ManagedSite, slug: &str) -> Result<QuestionSetHistory> {
        self.app.publishing().history(site.site(), slug).await
    }

    /// One version of a set.
    pub async fn version(
        &self,
        site: &ManagedSite,
        slug: &str,
        version: i64,
    ) -> Result<QuestionSetVersion> {
        self.app
            .store
            .question_set_version(&site.site().site_id, slug, version)
            .await?
            .ok_or(Error::NotFound {
                what: "question set version",
            })
    }

    /// Stores a new draft (of `slug`, or of the set the document names when `None`),
    /// checked as `PUT /v1/question-sets/{slug}` checks it.
    pub async fn save_draft(
        &self,
        site: &ManagedSite,
        slug: Option<&str>,
        source: &str,
    ) -> Result<QuestionSetVersion> {
        let publishing = self.app.publishing();
        let slug = match slug {
            Some(slug) => slug.to_owned(),
            None => publishing.lint(None, source, "draft.yaml").await?.slug,
        };
        let file_name = format!("{slug}.yaml");
        publishing
            .save_draft(&self.actor(), site.site(), &slug, source, &file_name)
            .await
    }

    /// Makes `version` live. Publishing a version older than the live one is a roll
    /// back, recorded as such.
    pub async fn publish(
        &self,
        site: &ManagedSite,
        slug: &str,
        version: i64,
    ) -> Result<QuestionSetVersion> {
        self.app
            .publishing()
            .publish(&self.actor(), site.site(), slug, version)
            .await
    }

    /// What publishing `version` would orphan: questions and options of the live
    /// version that it drops, with how many users answered them (none without a live
    /// version).
    pub async fn orphans(
        &self,
        site: &ManagedSite,
        slug: &str,
        version: i64,
    ) -> Result<Vec<Orphan>> {
        let Some(live) = self.history(site, slug).await?.live_version else {
            return Ok(Vec::new());
        };
        let (_, _, changes) = self.compare(site, slug, live, version).await?;
        let probes: Vec<AnswerProbe> = changes
            .removed
            .iter()
            .map(|key| AnswerProbe {
                key: key.clone(),
                option: None,
            })
            .chain(changes.options_removed.iter().map(|o| AnswerProbe {
                key: o.key.clone(),
                option: Some(o.value.clone()),
            }))
            .collect();
        let users = self
            .app
            .store
            .answering_users(&site.site().site_id, slug, &probes)
            .await?;
        Ok(probes
            .into_iter()
            .zip(users)
            .map(|(probe, users)| Orphan {
                key: probe.key,
                option: probe.option,
                users,
            })
            .collect())
    }

    /// Two versions and what changed from the first to the second.
    pub async fn compare(
        &self,
        site: &ManagedSite,
        slug: &str,
        from: i64,
        to: i64,
    ) -> Result<(QuestionSetVersion, QuestionSetVersion, SetChanges)> {
        let old = self.version(site, slug, from).await?;
        let new = self.version(site, slug, to).await?;
        let changes = compare(&parsed(&old)?, &parsed(&new)?);
        Ok((old, new, changes))
    }

    /// What `subject` would be asked at login `login`, with `draft` in place of the
    /// live version of its set (the site's other live sets as they are).
    pub async fn rehearse(
        &self,
        site: &ManagedSite,
        draft: PublishedSet,
        subject: Subject,
        login: i64,
    ) -> Result<Rehearsed> {
        if !(1..=MAX_LOGIN).contains(&login) {
            let message = format!("must be a login number from 1 to {MAX_LOGIN}");
            return Err(Error::invalid("invalid_login", "login", message));
        }
        let site = site.site();
        let live = self.app.live_sets(&site.site_id).await?;
        let mut sets: Vec<PublishedSet> = live
            .as_slice()
            .iter()
            .filter(|s| s.set.slug != draft.set.slug)
            .cloned()
            .collect();
        sets.push(draft);
        let sets = PublishedSets::new(sets);
        let now = now();
        let (user_metadata, app_metadata, first_login_at, history) = match subject {
            Subject::MadeUp {
                user_metadata,
                app_metadata,
                days_since_first_login,
            } => {
                self.check_made_up(&user_metadata, &app_metadata, days_since_first_login)?;
                let first = now - Duration::days(days_since_first_login);
                (user_metadata, app_metadata, first, Vec::new())
            }
            Subject::User(user_id) => {
                check_user_id(&user_id, self.app.limits.user_id_bytes)?;
                let (user, history) = self
                    .app
                    .store
                    .user_with_history(&site.site_id, &user_id)
                    .await?
                    .ok_or(Error::NotFound { what: "user" })?;
                let first = user.first_login_at;
                (user.user_metadata, user.app_metadata, first, history)
            }
        };
        let profile = Profile {
            user_metadata: &user_metadata,
            app_metadata: &app_metadata,
            login_count: login,
            first_login_at: Some(first_login_at),
            // The simulated login happens now.
            last_login_at: Some(now),
        };
        let rehearsal = rehearse(sets.as_slice(), &profile, &history, now);
        let shown = rehearsal
            .shown
            .iter()
            .map(|due| Decision {
                question_set: due.set.slug.clone(),
                version: due.version,
                stage: due.stage,
                key: due.question.key.clone(),
                verdict: Verdict::Due,
            })
            .collect();
        Ok(Rehearsed {
            shown,
            passed_over: rehearsal.passed_over,
        })
    }

    fn check_made_up(&self, user_metadata: &Value, app_metadata: &Value, days: i64) -> Result<()> {
        let limits = self.app.limits.metadata;
        for (field, value, limit) in [
            ("user_metadata", user_metadata, limits.user_metadata_bytes),
            ("app_metadata", app_metadata, limits.app_metadata_bytes),
        ] {
            if !value.is_object() {
                return Err(Error::invalid(
                    "invalid_field",
                    field,
                    "must be a JSON object",
                ));
            }
            let size = json_size(value);
            if size > limit {
                return Err(Error::TooLarge {
                    code: "metadata_too_large",
                    message: format!("{field} is {size} bytes, over the limit of {limit}"),
                    field: Some(field.to_owned()),
                });
            }
        }
        if !(0..=MAX_DAYS).contains(&days) {
            let message = format!("must be a number of days from 0 to {MAX_DAYS}");
            return Err(Error::invalid(
                "invalid_field",
                "days_since_first_login",
                message,
            ));
        }
        Ok(())
    }
}

/// A stored version's set.
fn parsed(version: &QuestionSetVersion) -> Result<QuestionSet> {
    Ok(version.clone().into_published()?.set)
}

/// The body `GET /v1/widget/next` would carry for question `key` of `set` (as
/// version `version`) on `site`, for a user with an empty profile; `None` when the set
/// has no such question.
pub fn preview<'s>(
    site: &'s Site,
    set: &QuestionSet,
    version: i64,
    key: &str,
    locale: Option<&str>,
) -> Option<DuePrompt<'s>> {
    let prompt = preview_prompt(set, version, Some(key), locale, now())?;
    Some(DuePrompt::new(prompt, site))
}
