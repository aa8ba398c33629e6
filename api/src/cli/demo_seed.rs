//! The demo's made-up shoppers: a few hundred users over the last 30 days, so that the
//! console's overview, completeness, results and segments have something to show.
//!
//! Deterministic (a seeded RNG). Logins go through the real use case (`Logins::record`,
//! with past `occurred_at`), so login counts, events and enrichment jobs are as a real
//! backend's would make them. At each login the real engine (`questions::next_due`)
//! picks the due questions; the shopper answers (a value the real validation accepts),
//! skips, dismisses or closes the widget; that past is written in one transaction
//! ([`crate::store::HistoryImport`]), since answers and prompt events through the use
//! cases would all carry the time of the run.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::future::try_join_all;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::app::logins::LoginRequest;
use crate::error::Result;
use crate::model::Site;
use crate::model::insights::{PastAnswer, PastPromptEvent, PastPrompts};
use crate::questions::{
    Outcome, Pacing, Profile, PromptRecord, PublishedSet, Question, QuestionType, Visit, next_due,
    set_path, validate_answer,
};

/// How many shoppers the demo makes.
pub const SHOPPERS: usize = 300;
/// Over how many days before now their first logins are spread: all inside the
/// overview's 30-day window (today and the 29 days before).
const DAYS: i64 = 29;
/// The RNG's seed: every run makes the same shoppers.
const SEED: u64 = 12;

const CITIES: [&str; 8] = [
    "Berlin",
    "Hamburg",
    "Munich",
    "Vienna",
    "Zurich",
    "Amsterdam",
    "Lisbon",
    "Paris",
];
const COMPANIES: [&str; 6] = [
    "Acme Tools",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Hooli",
];
const INDUSTRIES: [&str; 5] = ["Retail", "Software", "Logistics", "Health", "Education"];
const DOMAINS: [&str; 6] = [
    "gmail.com",
    "outlook.com",
    "acme-tools.com",
    "northwind.de",
    "globex.io",
    "mailinator.com",
];
const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

/// One shopper's logins, decided before anything is written.
struct Plan {
    user_id: String,
    email: String,
    user_agent: &'static str,
    logins: Vec<DateTime<Utc>>,
}

/// Makes the shoppers for `site` as of `now`; returns how many. Needs the site's
/// question sets published first (their live versions are the ones asked).
pub async fn seed_shoppers(app: &App, site: &Site, now: DateTime<Utc>) -> Result<usize> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let plans: Vec<Plan> = (0..SHOPPERS).map(|i| plan(&mut rng, i, now)).collect();
    try_join_all(plans.iter().map(|plan| record_logins(app, site, plan))).await?;
    let sets = app.live_sets(&site.site_id).await?;
    let pasts: Vec<PastPrompts> = plans
        .iter()
        .map(|plan| prompt_history(&mut rng, sets.as_slice(), plan))
        .collect();
    app.store
        .import_prompt_history(&site.site_id, &pasts)
        .await?;
    Ok(plans.len())
}

fn plan(rng: &mut StdRng, index: usize, now: DateTime<Utc>) -> Plan {
    let first = now - Duration::minutes(rng.random_range(10..DAYS * 24 * 60));
    let mut logins = vec![first];
    // Most come back a few times; some never do.
    while logins.len() < 9 && rng.random_bool(0.68) {
        let next = *logins.last().expect("one login") + Duration::hours(rng.random_range(6..96));
        if next > now - Duration::minutes(5) {
            break;
        }
        logins.push(next);
    }
    let domain = DOMAINS.choose(rng).expect("domains");
    Plan {
        user_id: format!("shopper-{index:03}"),
        email: format!("shopper{index}@{domain}"),
        user_agent: USER_AGENTS.choose(rng).expect("user agents"),
        logins,
    }
}

async fn record_logins(app: &App, site: &Site, plan: &Plan) -> Result<()> {
    for (n, at) in plan.logins.iter().enumerate() {
        let request = LoginRequest {
            user_id: plan.user_id.clone(),
            event_id: Some(format!("demo-{}-{}", plan.user_id, n + 1)),
            occurred_at: Some(*at),
            ip: Some(format!("198.51.100.{}", 1 + n % 250)),
            user_agent: Some(plan.user_agent.to_owned()),
            email: Some(plan.email.clone()),
            name: None,
            profile: None,
        };
        app.logins().record(site, request).await?;
    }
    Ok(())
}

/// What the engine would have asked at each login and what the shopper did.
fn prompt_history(rng: &mut StdRng, sets: &[PublishedSet], plan: &Plan) -> PastPrompts {
    let mut user_metadata = Value::Object(Map::new());
    let app_metadata = Value::Object(Map::new());
    let mut history: Vec<PromptRecord> = Vec::new();
    let mut events = Vec::new();
    let mut answers: Vec<PastAnswer> = Vec::new();
    for (n, login_at) in plan.logins.iter().enumerate() {
        let login_count = n as i64 + 1;
        let mut at = *login_at;
        // Guards against a question the shopper only closed coming back in a loop.
        for _ in 0..8 {
            let profile = Profile {
                user_metadata: &user_metadata,
                app_metadata: &app_metadata,
                login_count,
                first_login_at: plan.logins.first().copied(),
                last_login_at: Some(*login_at),
            };
            let pacing = Pacing {
                min_hours_between_prompts: 0,
                last_prompted_at: None,
                visit: Visit::Continued,
            };
            let Some(due) = next_due(sets, &profile, &history, pacing, at) else {
                break;
            };
            at += Duration::seconds(rng.random_range(3..40));
            let event = |kind: &'static str, at: DateTime<Utc>| PastPromptEvent {
                question_set: due.set.slug.clone(),
                version: due.version,
                key: due.question.key.clone(),
                kind,
                login_count,
                at,
            };
            events.push(event("impression", at));
            at += Duration::seconds(rng.random_range(2..30));
            let roll: f64 = rng.random();
            let value = (roll < 0.64)
                .then(|| answer_value(rng, due.question, at.date_naive()))
                .flatten();
            let outcome = match value {
                Some(value) => {
                    set_path_in(&mut user_metadata, &due.question.key, value.clone());
                    answers.retain(|a| a.key != due.question.key);
                    answers.push(PastAnswer {
                        question_set: due.set.slug.clone(),
                        version: due.version,
                        key: due.question.key.clone(),
                        value,
                        login_count,
                        at,
                    });
                    events.push(event("answered", at));
                    Outcome::Answered
                }
                None if roll < 0.84 => {
                    events.push(event("skipped", at));
                    Outcome::Skipped
                }
                None if roll < 0.92 => {
                    events.push(event("dismissed", at));
                    Outcome::Dismissed
                }
                None => break, // closed the widget: shown, nothing more this login
            };
            history.push(PromptRecord {
                question_set: due.set.slug.clone(),
                key: due.question.key.clone(),
                outcome,
                login_count,
            });
        }
    }
    PastPrompts {
        user_id: plan.user_id.clone(),
        events,
        answers,
        user_metadata,
    }
}

fn set_path_in(user_metadata: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = user_metadata {
        set_path(map, key, value);
    }
}

/// A plausible answer, as the real validation stores it; `None` if it refuses it.
fn answer_value(rng: &mut StdRng, question: &Question, today: NaiveDate) -> Option<Value> {
    let pick = |rng: &mut StdRng, pool: &[&str]| json!(pool.choose(rng).expect("a pool"));
    let raw = match (question.key.as_str(), &question.kind) {
        ("address.city", _) => pick(rng, &CITIES),
        ("company.name", _) => pick(rng, &COMPANIES),
        ("company.industry", _) => pick(rng, &INDUSTRIES),
        (_, QuestionType::SingleChoice(rules)) => {
            // Earlier options are more popular.
            let weights: Vec<usize> = (0..rules.options.len()).rev().map(|w| w + 1).collect();
            let total: usize = weights.iter().sum();
            let mut roll = rng.random_range(0..total.max(1));
            let index = weights
                .iter()
                .position(|&w| {
                    let hit = roll < w;
                    roll = roll.saturating_sub(w);
                    hit
                })
                .unwrap_or(0);
            json!(rules.options.get(index)?.value)
        }
        (_, QuestionType::MultiChoice(rules)) => {
            let most = rules.max_selected.unwrap_or(3).clamp(1, 3) as usize;
            let least = rules.min_selected.unwrap_or(1).max(1) as usize;
            let count = rng.random_range(least..=most.max(least));
            let chosen: Vec<&str> = rules
                .options
                .choose_multiple(rng, count)
                .map(|o| o.value.as_str())
                .collect();
            json!(chosen)
        }
        (_, QuestionType::Boolean(_)) => json!(rng.random_bool(0.7)),
        (_, QuestionType::Scale(rules)) => {
            // Most are fond of the shop: the upper half, now and then anything.
            let low = if rng.random_bool(0.75) {
                (rules.min + rules.max) / 2
            } else {
                rules.min
            };
            json!(rng.random_range(low..=rules.max))
        }
        (_, QuestionType::Number(rules)) => {
            let low = rules.min.unwrap_or(0.0) as i64;
            let high = rules.max.unwrap_or(100.0) as i64;
            json!(rng.random_range(low..=high.max(low)))
        }
        (_, QuestionType::Date(_)) => {
            let year = rng.random_range(1960..=2004);
            json!(format!(
                "{year}-{:02}-{:02}",
                rng.random_range(1..=12),
                rng.random_range(1..=28)
            ))
        }
        (_, QuestionType::Phone) => json!(format!(
            "+4930{:07}",
            rng.random_range(1_000_000..9_999_999)
        )),
        (_, QuestionType::Email) => json!("shopper@example.com"),
        (_, QuestionType::Url) => json!("https://shop.example.com"),
        (_, QuestionType::Country) => pick(rng, &["DE", "AT", "CH", "NL", "FR"]),
        (_, QuestionType::Text(_) | QuestionType::LongText(_)) => {
            pick(rng, &["Fine", "Good so far"])
        }
    };
    validate_answer(question, &raw, today).ok()
}
