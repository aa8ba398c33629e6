//! The widget's flow: which prompt is due, answers, skips, dismissals, impressions.
//! The whole due rule (stages, conditions, skips, caps, the minimum interval between
//! prompts) lives in `questions::due`; this module feeds it stored data.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::App;
use super::logins::check_user_id;
use crate::error::{Error, Result};
use crate::model::json_size;
use crate::model::question_set::find_question;
use crate::model::{NewAnswer, PromptEventKind, Site, User, WidgetSettings, now};
use crate::questions::{
    Decision, Outcome, Pacing, Prompt, PromptRecord, PublishedSet, Question, Visit, build_prompt,
    explain, next_due, preview_prompt, sample_prompt, validate_answer,
};
use crate::store::{AnswerWrite, AskedUser, RecordedEvent};

/// Names one question of one version of a set.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRef {
    /// The set's slug.
    #[schema(example = "onboarding")]
    pub question_set: String,
    /// The set version the prompt came from.
    #[schema(example = 1)]
    pub version: i64,
    /// The question's key.
    #[schema(example = "role")]
    pub key: String,
}

/// `POST /v1/widget/answers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"question_set": "onboarding", "version": 1, "key": "role", "value": "founder"}))]
pub struct AnswerRequest {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    /// The answer, by the question's type: a string, number, boolean, array of option
    /// values, or `{"other": "…"}` (at most 4 KiB).
    #[schema(value_type = Value)]
    pub value: Value,
}

/// `POST /v1/widget/skips`: `forever` dismisses the question for good.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipRequest {
    pub question_set: String,
    pub version: i64,
    pub key: String,
    #[serde(default)]
    pub forever: bool,
}

/// `GET /v1/users/{id}/next?explain=true`: the prompt and why each earlier question was
/// passed over.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Explanation {
    #[schema(value_type = Option<Object>)]
    pub prompt: Option<Prompt>,
    /// Why each earlier question was passed over; only with `explain=true`.
    #[schema(value_type = Vec<Object>, required = false)]
    pub decisions: Vec<Decision>,
    /// Set while the site's `min_hours_between_prompts` holds prompts back: no new
    /// page view gets one before this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_until: Option<DateTime<Utc>>,
}

/// `{"prompt": …, "settings": …}`: the body of `GET /v1/widget/next` — the due
/// prompt, and where and when the widget shows it (the site's widget settings, so the
/// loader needs no second request). The console's preview renders the same body.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuePrompt<'a> {
    /// `{question_set, version, stage, position: {index, of}, question: {key, type,
    /// title, …}, locale}`, texts in the chosen locale (see SPEC "A prompt").
    #[schema(value_type = Object)]
    pub prompt: Prompt,
    #[schema(value_type = WidgetSettings)]
    pub settings: &'a WidgetSettings,
}

impl<'a> DuePrompt<'a> {
    /// The body for a prompt of `site`.
    pub fn new(prompt: Prompt, site: &'a Site) -> Self {
        DuePrompt {
            prompt,
            settings: &site.widget_settings,
        }
    }
}

/// The widget's flow: the due prompt, answers, skips, impressions.
pub struct Prompts<'a> {
    pub(crate) app: &'a App,
}

impl Prompts<'_> {
    /// The prompt for a new page view, if any. Nothing is due while the site's
    /// `min_hours_between_prompts` holds since the last prompt shown, nor for unknown users.
    pub async fn next(
        &self,
        site: &Site,
        user_id: &str,
        locale: Option<&str>,
    ) -> Result<Option<Prompt>> {
        self.prompt_for(site, user_id, locale, Visit::NewPage).await
    }

    async fn prompt_for(
        &self,
        site: &Site,
        user_id: &str,
        locale: Option<&str>,
        visit: Visit,
    ) -> Result<Option<Prompt>> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let Some((user, history)) = self
            .app
            .store
            .user_with_history(&site.site_id, user_id)
            .await?
        else {
            return Ok(None);
        };
        self.due_prompt(site, &user, &history, locale, visit).await
    }

    /// The prompt due for a user as just read or written.
    async fn due_prompt(
        &self,
        site: &Site,
        user: &User,
        history: &[PromptRecord],
        locale: Option<&str>,
        visit: Visit,
    ) -> Result<Option<Prompt>> {
        let sets = self.app.live_sets(&site.site_id).await?;
        let now = now();
        let profile = user.profile();
        let pacing = pacing(site, user, visit);
        Ok(next_due(sets.as_slice(), &profile, history, pacing, now)
            .map(|due| build_prompt(&due, &profile, locale, now)))
    }

    /// A prompt to preview the widget with: the first question of the site's first live
    /// set (in the order the widget asks them), else a built-in sample. It is for no
    /// user: nothing is read about anyone and nothing is recorded.
    pub async fn sample(&self, site: &Site, locale: Option<&str>) -> Result<Prompt> {
        let sets = self.app.live_sets(&site.site_id).await?;
        let now = now();
        Ok(sets
            .as_slice()
            .iter()
            .find_map(|live| preview_prompt(&live.set, live.version, None, locale, now))
            .unwrap_or_else(|| sample_prompt(locale, now)))
    }

    /// The due prompt with the engine's reasons.
    pub async fn explain(
        &self,
        site: &Site,
        user_id: &str,
        locale: Option<&str>,
    ) -> Result<Explanation> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let (user, history) = self
            .app
            .store
            .user_with_history(&site.site_id, user_id)
            .await?
            .ok_or(Error::NotFound { what: "user" })?;
        let sets = self.app.live_sets(&site.site_id).await?;
        let now = now();
        let profile = user.profile();
        let pacing = pacing(site, &user, Visit::NewPage);
        let explained = explain(sets.as_slice(), &profile, &history, pacing, now);
        let prompt = explained
            .due
            .map(|d| build_prompt(&d, &profile, locale, now));
        Ok(Explanation {
            prompt,
            decisions: explained.decisions,
            held_until: explained.held_until,
        })
    }

    /// Validates and stores an answer, then returns the next prompt.
    pub async fn answer(
        &self,
        site: &Site,
        user_id: &str,
        request: AnswerRequest,
        locale: Option<&str>,
    ) -> Result<Option<Prompt>> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let size = json_size(&request.value);
        if size > self.app.limits.answer_bytes {
            return Err(Error::TooLarge {
                code: "answer_too_large",
                message: format!(
                    "the answer is {size} bytes, over the limit of {}",
                    self.app.limits.answer_bytes
                ),
                field: Some("value".into()),
            });
        }
        let (question, asked) = self
            .question_being_asked(
                site,
                user_id,
                &request.question_set,
                request.version,
                &request.key,
            )
            .await?;
        let value =
            validate_answer(&question, &request.value, now().date_naive()).map_err(|e| {
                Error::AnswerInvalid {
                    rule: e.rule,
                    message: e.message,
                }
            })?;
        let answer = NewAnswer {
            question_set: request.question_set,
            version: request.version,
            key: request.key,
            value,
        };
        let wanted = self.app.webhooks().events_wanted(&site.site_id).await?;
        let data = serde_json::json!({
            "user_id": user_id, "question_set": answer.question_set, "version": answer.version,
            "key": answer.key, "value": answer.value,
        });
        let mut follow_ups: Vec<_> = self
            .app
            .webhooks()
            .event_job(&wanted, "profile.answered", data)
            .into_iter()
            .collect();
        follow_ups.extend(
            self.app
                .enrichment()
                .jobs_after_answer(user_id, &answer.key),
        );
        let has_jobs = !follow_ups.is_empty();
        let answered = (answer.question_set.clone(), answer.key.clone());
        let write = AnswerWrite {
            site_id: site.site_id.clone(),
            user_id: user_id.to_owned(),
            answer,
            limits: self.app.limits.metadata,
            follow_ups,
        };
        let user = self
            .app
            .store
            .record_answer(write)
            .await
            .map_err(Error::metadata_too_large)?
            .ok_or(Error::NotFound { what: "user" })?;
        metrics::counter!("trickle_prompt_outcomes_total", "outcome" => "answered").increment(1);
        if has_jobs {
            self.app.jobs_enqueued.notify_one();
        }
        // The user as written comes back from the store, and the history is the one read
        // before with this answer added as the store recorded it (at the user's login
        // count): no second read.
        let mut history = asked.history;
        let (question_set, key) = answered;
        history.push(PromptRecord {
            question_set,
            key,
            outcome: Outcome::Answered,
            login_count: user.login_count,
        });
        self.due_prompt(site, &user, &history, locale, Visit::Continued)
            .await
    }

    /// Records a skip (asked again later) or a dismissal (never again); returns the next prompt.
    pub async fn skip(
        &self,
        site: &Site,
        user_id: &str,
        request: SkipRequest,
        locale: Option<&str>,
    ) -> Result<Option<Prompt>> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        let (_, asked) = self
            .question_being_asked(
                site,
                user_id,
                &request.question_set,
                request.version,
                &request.key,
            )
            .await?;
        let AskedUser {
            user, mut history, ..
        } = asked;
        let (kind, outcome) = if request.forever {
            (PromptEventKind::Dismissed, Outcome::Dismissed)
        } else {
            (PromptEventKind::Skipped, Outcome::Skipped)
        };
        let target = QuestionRef {
            question_set: request.question_set,
            version: request.version,
            key: request.key,
        };
        let recorded = self.record_event(site, user_id, &target, kind).await?;
        metrics::counter!("trickle_prompt_outcomes_total", "outcome" => kind.as_str()).increment(1);
        if !recorded.new || recorded.login_count != user.login_count {
            // A repeat (nothing written), or a login came in between: read afresh.
            return self
                .prompt_for(site, user_id, locale, Visit::Continued)
                .await;
        }
        // A skip or dismissal changes no column of the user's row; the history read
        // before gains the outcome as the store recorded it.
        history.push(PromptRecord {
            question_set: target.question_set,
            key: target.key,
            outcome,
            login_count: recorded.login_count,
        });
        self.due_prompt(site, &user, &history, locale, Visit::Continued)
            .await
    }

    /// Records that a prompt was shown (once per question and login: a repeat changes
    /// nothing).
    pub async fn record_impression(
        &self,
        site: &Site,
        user_id: &str,
        target: QuestionRef,
    ) -> Result<()> {
        check_user_id(user_id, self.app.limits.user_id_bytes)?;
        self.published_question(site, &target.question_set, target.version, &target.key)
            .await?;
        self.record_event(site, user_id, &target, PromptEventKind::Impression)
            .await
            .map(drop)
    }

    /// The published question a widget answers or skips, and the user as read; refused
    /// unless it exists and the user is being asked it ([`Self::ensure_asked`]).
    async fn question_being_asked(
        &self,
        site: &Site,
        user_id: &str,
        slug: &str,
        version: i64,
        key: &str,
    ) -> Result<(Question, AskedUser)> {
        let question = self.published_question(site, slug, version, key).await?;
        let asked = self.ensure_asked(site, user_id, slug, version, key).await?;
        Ok((question, asked))
    }

    /// Refuses a question the user is not being asked. It must be due now (as the open
    /// widget sees it: the minimum interval between prompts does not apply), or have been
    /// shown and not answered since, so that an answer queued in the widget's outbox
    /// and sent at a later page view still lands. Returns the user as read, with their
    /// history, in one round trip.
    async fn ensure_asked(
        &self,
        site: &Site,
        user_id: &str,
        slug: &str,
        version: i64,
        key: &str,
    ) -> Result<AskedUser> {
        let asked = self
            .app
            .store
            .user_being_asked(&site.site_id, user_id, slug, version, key)
            .await?
            .ok_or(Error::NotFound { what: "user" })?;
        if asked.shown_unanswered {
            return Ok(asked);
        }
        let sets = self.app.live_sets(&site.site_id).await?;
        let pacing = pacing(site, &asked.user, Visit::Continued);
        let due = next_due(
            sets.as_slice(),
            &asked.user.profile(),
            &asked.history,
            pacing,
            now(),
        );
        if due.is_some_and(|d| d.set.slug == slug && d.version == version && d.question.key == key)
        {
            return Ok(asked);
        }
        Err(Error::QuestionNotDue {
            question_set: slug.to_owned(),
            version,
            key: key.to_owned(),
        })
    }

    async fn record_event(
        &self,
        site: &Site,
        user_id: &str,
        target: &QuestionRef,
        kind: PromptEventKind,
    ) -> Result<RecordedEvent> {
        self.app
            .store
            .record_prompt_event(
                &site.site_id,
                user_id,
                &target.question_set,
                target.version,
                &target.key,
                kind,
            )
            .await?
            .ok_or(Error::NotFound { what: "user" })
    }

    /// A question of a published version (live or earlier: a widget may hold an older prompt).
    async fn published_question(
        &self,
        site: &Site,
        slug: &str,
        version: i64,
        key: &str,
    ) -> Result<Question> {
        let live = self.app.live_sets(&site.site_id).await?;
        let question = match live.find(slug, version) {
            Some(set) => find_question(&set.set, key).cloned(),
            None => {
                let set = self.published_version(site, slug, version).await?;
                find_question(&set.set, key).cloned()
            }
        };
        question.ok_or(Error::NotFound { what: "question" })
    }

    /// A published version that is not live, parsed once and then served from
    /// [`App::published_versions`] (published versions never change).
    async fn published_version(
        &self,
        site: &Site,
        slug: &str,
        version: i64,
    ) -> Result<Arc<PublishedSet>> {
        let cache_key = (site.site_id.clone(), slug.to_owned(), version);
        if let Some(set) = self.app.published_versions.get(&cache_key).await {
            return Ok(set);
        }
        match self
            .app
            .store
            .question_set_version(&site.site_id, slug, version)
            .await?
        {
            Some(stored) if stored.published => {
                let set = Arc::new(stored.into_published()?);
                self.app
                    .published_versions
                    .insert(cache_key, set.clone())
                    .await;
                Ok(set)
            }
            _ => Err(Error::NotFound {
                what: "question set version",
            }),
        }
    }
}

/// The site's minimum interval between prompts as the due rule reads it.
fn pacing(site: &Site, user: &User, visit: Visit) -> Pacing {
    Pacing {
        min_hours_between_prompts: site.widget_settings.min_hours_between_prompts,
        last_prompted_at: user.last_prompted_at,
        visit,
    }
}
