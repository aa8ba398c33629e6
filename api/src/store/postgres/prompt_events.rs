//! PostgreSQL's prompt events (impressions, skips, dismissals) of a batch, in one
//! statement: the events, once per user, question, login and kind as one at a time
//! (`prompt_events_once_per_login`), and the `last_prompted_at` of each user with a new
//! impression. Part of the widget's batch ([`super::widget_writes`]), whose users are
//! already read and locked.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

use crate::model::User;
use crate::store::sql::PromptEventWrite;
use crate::store::{RecordedEvent, StoreError};

/// A user's key in a batch: site and user id.
pub(super) type UserKey = (String, String);

/// Writes the events; for each, in order, what was recorded (`None`: no such user). An
/// event repeated in the batch (same user, question and kind) is written once, and only
/// its first is new, as the second of two one at a time would not be.
pub(super) async fn write_events(
    tx: &mut PgConnection,
    users: &HashMap<UserKey, User>,
    events: &[&PromptEventWrite],
    now: DateTime<Utc>,
) -> Result<Vec<Option<RecordedEvent>>, StoreError> {
    // Per event: `None` for no such user, else the user's login count and, for the
    // first of its kind in the batch (the one sent), its identity.
    let mut firsts = HashSet::new();
    let mut found = Vec::with_capacity(events.len());
    let mut columns = EventColumns::default();
    for event in events {
        let Some(user) = users.get(&(event.site_id.clone(), event.user_id.clone())) else {
            found.push(None);
            continue;
        };
        let identity = identity(event);
        let first = firsts.insert(identity.clone()).then(|| {
            columns.push(event, user);
            identity
        });
        found.push(Some((user.login_count, first)));
    }
    let inserted: HashSet<EventIdentity> = if columns.site_ids.is_empty() {
        HashSet::new()
    } else {
        let rows: Vec<EventIdentity> = sqlx::query_as(WRITE_PROMPT_EVENTS)
            .bind(now)
            .bind(columns.site_ids)
            .bind(columns.user_ids)
            .bind(columns.question_sets)
            .bind(columns.versions)
            .bind(columns.keys)
            .bind(columns.kinds)
            .bind(columns.login_counts)
            .bind(columns.login_at)
            .fetch_all(&mut *tx)
            .await?;
        rows.into_iter().collect()
    };
    Ok(found
        .into_iter()
        .map(|found| {
            found.map(|(login_count, first)| RecordedEvent {
                login_count,
                new: first.is_some_and(|identity| inserted.contains(&identity)),
            })
        })
        .collect())
}

/// What makes an event once per login within a batch (whose users' login counts do not
/// change): site, user, question set, key, kind.
type EventIdentity = (String, String, String, String, String);

fn identity(event: &PromptEventWrite) -> EventIdentity {
    (
        event.site_id.clone(),
        event.user_id.clone(),
        event.question_set.clone(),
        event.key.clone(),
        event.kind.as_str().to_owned(),
    )
}

/// The events to insert, a column each.
#[derive(Default)]
struct EventColumns<'a> {
    site_ids: Vec<&'a str>,
    user_ids: Vec<&'a str>,
    question_sets: Vec<&'a str>,
    versions: Vec<i64>,
    keys: Vec<&'a str>,
    kinds: Vec<&'static str>,
    login_counts: Vec<i64>,
    login_at: Vec<DateTime<Utc>>,
}

impl<'a> EventColumns<'a> {
    fn push(&mut self, event: &'a PromptEventWrite, user: &User) {
        self.site_ids.push(&event.site_id);
        self.user_ids.push(&event.user_id);
        self.question_sets.push(&event.question_set);
        self.versions.push(event.version);
        self.keys.push(&event.key);
        self.kinds.push(event.kind.as_str());
        self.login_counts.push(user.login_count);
        self.login_at.push(user.last_login_at);
    }
}

/// A batch's prompt events (`$1` now; `$2`–`$9`: site, user, set, version, key, kind,
/// login count, login time; as `INSERT_PROMPT_EVENT`), a repeat of one already recorded
/// at that login changing nothing, and `last_prompted_at` (as `SET_LAST_PROMPTED`) of
/// each user with a new impression. Returns the events inserted.
const WRITE_PROMPT_EVENTS: &str = "WITH inserted AS (\
       INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, \
         login_count, created_at, login_at) \
       SELECT site_id, user_id, question_set, version, key, kind, login_count, $1, login_at \
       FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[], \
         $8::int8[], $9::timestamptz[]) WITH ORDINALITY \
         AS e(site_id, user_id, question_set, version, key, kind, login_count, login_at, n) \
       ORDER BY n \
       ON CONFLICT DO NOTHING \
       RETURNING site_id, user_id, question_set, key, kind), \
     prompted AS (\
       UPDATE users SET last_prompted_at = $1 \
       FROM (SELECT DISTINCT site_id, user_id FROM inserted WHERE kind = 'impression') AS i \
       WHERE users.site_id = i.site_id AND users.user_id = i.user_id) \
     SELECT site_id, user_id, question_set, key, kind FROM inserted";
