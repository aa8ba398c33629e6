//! A user's history: their logins and what happened to the questions shown to them,
//! newest first, paged by an opaque cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// What happened: a login, or a question shown, answered, skipped or dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    Login,
    Shown,
    Answered,
    Skipped,
    Dismissed,
}

impl HistoryKind {
    /// The kind of a stored prompt event (`impression` is `shown`).
    pub fn of_prompt_event(stored: &str) -> Option<HistoryKind> {
        Some(match stored {
            "impression" => HistoryKind::Shown,
            "answered" => HistoryKind::Answered,
            "skipped" => HistoryKind::Skipped,
            "dismissed" => HistoryKind::Dismissed,
            _ => return None,
        })
    }

    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::Login => "login",
            HistoryKind::Shown => "shown",
            HistoryKind::Answered => "answered",
            HistoryKind::Skipped => "skipped",
            HistoryKind::Dismissed => "dismissed",
        }
    }
}

/// One event of a user's history. Logins carry `ip` and `user_agent`; prompt events
/// carry `question_set`, `version` and `key`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryEvent {
    pub kind: HistoryKind,
    /// When it happened (a login's `occurred_at`).
    pub at: DateTime<Utc>,
    /// The user's login count: the count this login made, or the count when the
    /// question was shown, answered, skipped or dismissed.
    pub login_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_set: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where the event sits in the order (not serialised): the login's event id or the
    /// prompt event's row id.
    #[serde(skip)]
    pub position: HistoryPosition,
}

/// A total order of history events, newest first: by time, then prompt events before
/// logins of the same instant, then by row (event id for logins, row id for prompts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPosition {
    pub at: DateTime<Utc>,
    pub row: HistoryRow,
}

/// The row an event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryRow {
    /// `login_events.event_id`.
    Login(String),
    /// `prompt_events.id`.
    Prompt(i64),
}

impl Default for HistoryPosition {
    fn default() -> Self {
        HistoryPosition {
            at: DateTime::<Utc>::MIN_UTC,
            row: HistoryRow::Prompt(0),
        }
    }
}

impl HistoryPosition {
    /// The sort key, larger = newer: prompts rank above logins at the same instant.
    fn key(&self) -> (DateTime<Utc>, u8, &str, i64) {
        match &self.row {
            HistoryRow::Login(event_id) => (self.at, 0, event_id.as_str(), 0),
            HistoryRow::Prompt(id) => (self.at, 1, "", *id),
        }
    }

    /// The opaque cursor that continues after this event.
    pub fn cursor(&self) -> String {
        let text = match &self.row {
            HistoryRow::Login(event_id) => format!("{}:l:{event_id}", self.at.timestamp_micros()),
            HistoryRow::Prompt(id) => format!("{}:p:{id}", self.at.timestamp_micros()),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a cursor made by [`HistoryPosition::cursor`]; `None` when it is not one.
    pub fn from_cursor(cursor: &str) -> Option<HistoryPosition> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = text.splitn(3, ':');
        let micros: i64 = parts.next()?.parse().ok()?;
        let at = DateTime::<Utc>::from_timestamp_micros(micros)?;
        let row = match (parts.next()?, parts.next()?) {
            ("l", event_id) => HistoryRow::Login(event_id.to_owned()),
            ("p", id) => HistoryRow::Prompt(id.parse().ok()?),
            _ => return None,
        };
        Some(HistoryPosition { at, row })
    }
}

impl Ord for HistoryPosition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for HistoryPosition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// `GET /v1/users/{id}/history`: a page of events, newest first; `next_cursor` is
/// null on the last page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPage {
    pub events: Vec<HistoryEvent>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let at = "2026-12-01T09:30:00.123456Z".parse().unwrap();
        for row in [
            HistoryRow::Login("evt:with/odd chars ü".into()),
            HistoryRow::Prompt(42),
        ] {
            let position = HistoryPosition { at, row };
            assert_eq!(
                HistoryPosition::from_cursor(&position.cursor()),
                Some(position)
            );
        }
        for junk in ["", "!!", "bm9wZQ", &URL_SAFE_NO_PAD.encode("1:x:2")] {
            assert_eq!(HistoryPosition::from_cursor(junk), None, "{junk}");
        }
    }

    #[test]
    fn prompts_sort_after_logins_of_the_same_instant() {
        let at = "2026-12-01T09:30:00Z".parse().unwrap();
        let login = HistoryPosition {
            at,
            row: HistoryRow::Login("zzz".into()),
        };
        let prompt = HistoryPosition {
            at,
            row: HistoryRow::Prompt(1),
        };
        assert!(prompt > login);
    }
}
