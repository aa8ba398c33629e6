//! The due-question engine: which question, if any, a user is asked next.
//!
//! For a user with login count L, the next question is the first — sets by
//! priority (highest first, then slug), stages by `at_login` (file order on
//! ties), questions in file order — whose stage is reached (`at_login ≤ L`
//! and `after_days` met), that is not known (its key has no value in
//! `user_metadata` and its `skip_if_known` path has none), not dismissed, not
//! skipped recently (skipped at login S ⇒ due again from S + reask on; the
//! latest skip counts), whose `when` holds, and whose set's
//! `max_prompts_per_login` is not used up at login L. The checks run in that
//! order; the first failing one is the verdict. A user without a known first
//! login counts as 0 days since it.
//!
//! Above the per-question verdicts sits the site's pacing ([`Pacing`]): a new
//! page view gets no prompt until `min_hours_between_prompts` have passed since
//! the user was last prompted ("held until …"); a prompt that follows an answer
//! or a skip in the widget already open continues the same visit and is not held.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::format::{Question, QuestionSet, Stage};
use super::paths::Profile;

/// One published version of a question set.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedSet {
    /// The set.
    pub set: QuestionSet,
    /// Its published version number.
    pub version: i64,
}

/// What became of a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered.
    Answered,
    /// Skipped; asked again later.
    Skipped,
    /// "Don't ask again".
    Dismissed,
}

/// One past prompt outcome of the user (history is chronological).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptRecord {
    /// Slug of the question set.
    pub question_set: String,
    /// Question key.
    pub key: String,
    /// What happened.
    pub outcome: Outcome,
    /// The user's login count when it happened.
    pub login_count: i64,
}

/// "2 of 3" progress of a prompt within its set at this login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Prompts of the set already used at this login, plus one.
    pub index: u32,
    /// `index - 1` plus the set's questions due now, capped by the set's max.
    pub of: u32,
}

/// The question that is due, borrowed from the published sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Due<'a> {
    /// The set it belongs to.
    pub set: &'a QuestionSet,
    /// The set's published version.
    pub version: i64,
    /// The `at_login` of its stage.
    pub stage: u32,
    /// The question.
    pub question: &'a Question,
    /// Progress within the set at this login.
    pub position: Position,
}

/// Why a question was or was not due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// It is due.
    Due,
    /// The user has fewer logins than the stage needs.
    StageNotReached {
        /// The stage's `at_login`.
        at_login: u32,
    },
    /// Not enough days since the first login.
    AfterDaysNotMet {
        /// Days the stage needs.
        after_days: u32,
        /// Days so far.
        days: i64,
    },
    /// The key already has a value.
    Known,
    /// The `skip_if_known` path has a value.
    KnownViaSkipIfKnown {
        /// That path.
        path: String,
    },
    /// The user chose "don't ask again".
    Dismissed,
    /// Skipped too recently.
    SkippedRecently {
        /// The login from which it is due again.
        due_again_at_login: i64,
    },
    /// Its `when` does not hold.
    ConditionFalse,
    /// The set's prompts for this login are used up.
    CapReached {
        /// The set's `max_prompts_per_login`.
        max: u32,
    },
}

/// One question considered, with its verdict (for `?explain=true`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Slug of the set.
    pub question_set: String,
    /// Version of the set.
    pub version: i64,
    /// `at_login` of the stage.
    pub stage: u32,
    /// Question key.
    pub key: String,
    /// Why it was or was not due.
    pub verdict: Verdict,
}

/// The due question (if any) and every decision up to and including it.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation<'a> {
    /// The due question; `None` when nothing is due or the pacing holds prompts back.
    pub due: Option<Due<'a>>,
    /// Decisions in evaluation order.
    pub decisions: Vec<Decision>,
    /// Set while the pacing holds prompts back: no new page view gets one before then.
    pub held_until: Option<DateTime<Utc>>,
}

/// Whether a prompt is asked for by a new page view or follows an answer or skip in
/// the widget that is already open (the same visit: the minimum interval does not apply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Visit {
    /// A page view asks for a prompt.
    #[default]
    NewPage,
    /// The open widget asks for the next prompt after an answer or a skip.
    Continued,
}

/// The site's minimum interval between prompts, and this user's last prompt.
/// The default holds nothing back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pacing {
    /// The site's `widget_settings.min_hours_between_prompts` (0: no minimum).
    pub min_hours_between_prompts: u32,
    /// When the user was last shown a prompt.
    pub last_prompted_at: Option<DateTime<Utc>>,
    /// What asks for the prompt.
    pub visit: Visit,
}

impl Pacing {
    /// Until when a new page view gets no prompt: `None` when one may be shown at
    /// `now`. Holds whatever the [`Visit`]; [`Pacing::holds`] applies it.
    pub fn held_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.min_hours_between_prompts == 0 {
            // Not even a clock a little ahead on another replica may hold prompts back.
            return None;
        }
        let gap = chrono::Duration::hours(self.min_hours_between_prompts.into());
        let until = self.last_prompted_at? + gap;
        (until > now).then_some(until)
    }

    /// Whether this visit gets no prompt at `now`.
    pub fn holds(&self, now: DateTime<Utc>) -> bool {
        self.visit == Visit::NewPage && self.held_until(now).is_some()
    }
}

/// Sorts sets into asking order (priority desc, slug, version) and each
/// set's stages by `at_login` (stable). Callers that cache sets do this once;
/// the engine then only checks the order.
pub fn sort_published(sets: &mut [PublishedSet]) {
    sets.sort_by(|a, b| set_order(a).cmp(&set_order(b)));
    for ps in sets {
        ps.set.stages.sort_by_key(|s| s.at_login);
    }
}

fn set_order(ps: &PublishedSet) -> (Reverse<i32>, &str, i64) {
    (Reverse(ps.set.priority), ps.set.slug.as_str(), ps.version)
}

/// The next due question, or `None` when nothing is due or `pacing` holds it back.
pub fn next_due<'a>(
    sets: &'a [PublishedSet],
    profile: &Profile<'_>,
    history: &[PromptRecord],
    pacing: Pacing,
    now: DateTime<Utc>,
) -> Option<Due<'a>> {
    if pacing.holds(now) {
        return None;
    }
    walk(sets, profile, history, now, None)
}

/// Like [`next_due`], plus the verdict of every question considered before
/// (and including) the one that would be due — all of them when none is —
/// and until when the pacing holds prompts back.
pub fn explain<'a>(
    sets: &'a [PublishedSet],
    profile: &Profile<'_>,
    history: &[PromptRecord],
    pacing: Pacing,
    now: DateTime<Utc>,
) -> Explanation<'a> {
    let mut decisions = Vec::new();
    let due = walk(sets, profile, history, now, Some(&mut decisions));
    let held_until = pacing.held_until(now);
    Explanation {
        due: due.filter(|_| !pacing.holds(now)),
        decisions,
        held_until,
    }
}

/// Facts from the history, indexed once per call.
struct Facts<'h> {
    login: i64,
    days: i64,
    keys: HashMap<(&'h str, &'h str), KeyState>,
    used: HashMap<&'h str, u32>,
}

#[derive(Default)]
struct KeyState {
    dismissed: bool,
    last_skip: Option<i64>,
}

impl<'h> Facts<'h> {
    fn new(profile: &Profile<'_>, history: &'h [PromptRecord], now: DateTime<Utc>) -> Self {
        let login = profile.login_count;
        let mut keys: HashMap<_, KeyState> = HashMap::new();
        let mut used: HashMap<&str, u32> = HashMap::new();
        for r in history {
            let state = keys
                .entry((r.question_set.as_str(), r.key.as_str()))
                .or_default();
            match r.outcome {
                Outcome::Dismissed => state.dismissed = true,
                Outcome::Skipped => state.last_skip = Some(r.login_count),
                Outcome::Answered => {}
            }
            if r.login_count == login {
                *used.entry(r.question_set.as_str()).or_default() += 1;
            }
        }
        let days = profile.days_since_first_login(now).unwrap_or(0);
        Facts {
            login,
            days,
            keys,
            used,
        }
    }

    fn used(&self, slug: &str) -> u32 {
        self.used.get(slug).copied().unwrap_or(0)
    }
}

/// The verdict for one question, cap not considered.
fn verdict(
    set: &QuestionSet,
    stage: &Stage,
    q: &Question,
    facts: &Facts<'_>,
    profile: &Profile<'_>,
    now: DateTime<Utc>,
) -> Verdict {
    if i64::from(stage.at_login) > facts.login {
        return Verdict::StageNotReached {
            at_login: stage.at_login,
        };
    }
    if let Some(after_days) = stage.after_days.filter(|d| facts.days < i64::from(*d)) {
        let days = facts.days;
        return Verdict::AfterDaysNotMet { after_days, days };
    }
    if profile.has_value(&q.key, now) {
        return Verdict::Known;
    }
    if let Some(path) = q
        .skip_if_known
        .as_ref()
        .filter(|p| profile.has_value(p, now))
    {
        return Verdict::KnownViaSkipIfKnown { path: path.clone() };
    }
    if let Some(state) = facts.keys.get(&(set.slug.as_str(), q.key.as_str())) {
        if state.dismissed {
            return Verdict::Dismissed;
        }
        let reask = i64::from(set.settings.reask_skipped_after_logins);
        if let Some(again) = state
            .last_skip
            .map(|s| s + reask)
            .filter(|a| facts.login < *a)
        {
            return Verdict::SkippedRecently {
                due_again_at_login: again,
            };
        }
    }
    if q.when.as_ref().is_some_and(|c| !c.holds(profile, now)) {
        return Verdict::ConditionFalse;
    }
    Verdict::Due
}

/// Sets in asking order; no allocation beyond a vector of references.
fn ordered_sets(sets: &[PublishedSet]) -> Vec<&PublishedSet> {
    let mut order: Vec<&PublishedSet> = sets.iter().collect();
    if !order.is_sorted_by(|a, b| set_order(a) <= set_order(b)) {
        order.sort_by(|a, b| set_order(a).cmp(&set_order(b)));
    }
    order
}

fn ordered_stages(set: &QuestionSet) -> Vec<&Stage> {
    let mut stages: Vec<&Stage> = set.stages.iter().collect();
    if !stages.is_sorted_by_key(|s| s.at_login) {
        stages.sort_by_key(|s| s.at_login);
    }
    stages
}

fn walk<'a>(
    sets: &'a [PublishedSet],
    profile: &Profile<'_>,
    history: &[PromptRecord],
    now: DateTime<Utc>,
    mut decisions: Option<&mut Vec<Decision>>,
) -> Option<Due<'a>> {
    let facts = Facts::new(profile, history, now);
    for ps in ordered_sets(sets) {
        let set = &ps.set;
        let max = set.settings.max_prompts_per_login;
        let used = facts.used(&set.slug);
        let capped = used >= max;
        if capped && decisions.is_none() {
            continue;
        }
        let stages = ordered_stages(set);
        for (si, stage) in stages.iter().enumerate() {
            for (qi, q) in stage.questions.iter().enumerate() {
                let mut v = verdict(set, stage, q, &facts, profile, now);
                if capped && v == Verdict::Due {
                    v = Verdict::CapReached { max };
                }
                if let Some(d) = decisions.as_deref_mut() {
                    d.push(Decision {
                        question_set: set.slug.clone(),
                        version: ps.version,
                        stage: stage.at_login,
                        key: q.key.clone(),
                        verdict: v.clone(),
                    });
                }
                if v == Verdict::Due {
                    let rest = due_count(set, &stages[si..], qi, &facts, profile, now);
                    let position = Position {
                        index: used + 1,
                        of: (used + rest).min(max),
                    };
                    let stage = stage.at_login;
                    let version = ps.version;
                    return Some(Due {
                        set,
                        version,
                        stage,
                        question: q,
                        position,
                    });
                }
            }
        }
    }
    None
}

/// Questions of the set due now, from question `qi` of the first given stage on.
fn due_count(
    set: &QuestionSet,
    stages: &[&Stage],
    qi: usize,
    facts: &Facts<'_>,
    profile: &Profile<'_>,
    now: DateTime<Utc>,
) -> u32 {
    let mut n = 0u32;
    for (i, stage) in stages.iter().enumerate() {
        let skip = if i == 0 { qi } else { 0 };
        for q in stage.questions.iter().skip(skip) {
            if verdict(set, stage, q, facts, profile, now) == Verdict::Due {
                n = n.saturating_add(1);
            }
        }
    }
    n
}
