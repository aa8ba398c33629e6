//! Profile paths: how `when` keys, `prefill` and `skip_if_known` name a value
//! of the user's profile, and how answers are written into `user_metadata`.
//!
//! A path is `user_metadata.<key>` (the prefix may be left out),
//! `app_metadata.<key>`, or one of the [`BUILT_IN_PATHS`] (`login_count`,
//! `days_since_first_login`, `days_since_last_login`), where a key is
//! dot-separated segments of `[A-Za-z0-9_-]+`, at most 200 bytes.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Longest key or path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 200;

/// The paths the engine computes from the login history rather than reads from
/// metadata.
pub const BUILT_IN_PATHS: [&str; 3] = [
    "login_count",
    "days_since_first_login",
    "days_since_last_login",
];

/// The parts of a user's profile that questions and conditions look at.
#[derive(Clone, Copy, Debug)]
pub struct Profile<'a> {
    /// Answers (a JSON object).
    pub user_metadata: &'a Value,
    /// Enrichment and other data the user cannot edit (a JSON object).
    pub app_metadata: &'a Value,
    /// Logins counted so far.
    pub login_count: i64,
    /// Time of the first login, if any.
    pub first_login_at: Option<DateTime<Utc>>,
    /// Time of the latest login, if any.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A syntactically valid profile path, split by where it points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfilePath<'p> {
    /// A key in `user_metadata` (prefix removed).
    User(&'p str),
    /// A key in `app_metadata` (prefix removed).
    App(&'p str),
    /// The user's login count.
    LoginCount,
    /// Whole days since the first login.
    DaysSinceFirstLogin,
    /// Whole days since the latest login.
    DaysSinceLastLogin,
}

impl<'p> ProfilePath<'p> {
    /// Classifies a path, or `None` when it is not a valid profile path.
    pub fn parse(path: &'p str) -> Option<ProfilePath<'p>> {
        if path.len() > MAX_PATH_BYTES {
            return None;
        }
        match path {
            "login_count" => return Some(ProfilePath::LoginCount),
            "days_since_first_login" => return Some(ProfilePath::DaysSinceFirstLogin),
            "days_since_last_login" => return Some(ProfilePath::DaysSinceLastLogin),
            "user_metadata" | "app_metadata" => return None,
            _ => {}
        }
        let parsed = if let Some(rest) = path.strip_prefix("user_metadata.") {
            ProfilePath::User(rest)
        } else if let Some(rest) = path.strip_prefix("app_metadata.") {
            ProfilePath::App(rest)
        } else {
            ProfilePath::User(path)
        };
        match parsed {
            ProfilePath::User(k) | ProfilePath::App(k) if is_key_path(k) => Some(parsed),
            _ => None,
        }
    }

    /// Whether the path is computed from the login history (a number), not read
    /// from metadata.
    pub fn is_built_in(self) -> bool {
        !matches!(self, ProfilePath::User(_) | ProfilePath::App(_))
    }

    /// The path in full, with the `user_metadata.` prefix a bare key leaves out.
    pub fn full(self) -> String {
        match self {
            ProfilePath::User(k) => format!("user_metadata.{k}"),
            ProfilePath::App(k) => format!("app_metadata.{k}"),
            ProfilePath::LoginCount => BUILT_IN_PATHS[0].to_owned(),
            ProfilePath::DaysSinceFirstLogin => BUILT_IN_PATHS[1].to_owned(),
            ProfilePath::DaysSinceLastLogin => BUILT_IN_PATHS[2].to_owned(),
        }
    }
}

/// Whether `s` is dot-separated segments of `[A-Za-z0-9_-]+`.
pub fn is_key_path(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PATH_BYTES
        && s.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Whether `s` is a valid question key: a key path that does not start with
/// `user_metadata`/`app_metadata` and is not a built-in (`login_count`, …).
pub fn is_question_key(s: &str) -> bool {
    matches!(ProfilePath::parse(s), Some(ProfilePath::User(k)) if k.len() == s.len())
        && s.split('.').next() != Some("user_metadata")
        && s.split('.').next() != Some("app_metadata")
}

/// Whether a value counts as "no value": missing, null or an empty string.
pub fn is_empty_value(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Follows a dotted key through nested objects.
pub fn get_path<'v>(root: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted
        .split('.')
        .try_fold(root, |node, seg| node.as_object()?.get(seg))
}

impl<'a> Profile<'a> {
    /// The value at a profile path, or `None` when it has no value (missing,
    /// null or empty string) or the path is invalid.
    pub fn value(&self, path: &str, now: DateTime<Utc>) -> Option<Cow<'a, Value>> {
        let found = match ProfilePath::parse(path)? {
            ProfilePath::User(k) => Cow::Borrowed(get_path(self.user_metadata, k)?),
            ProfilePath::App(k) => Cow::Borrowed(get_path(self.app_metadata, k)?),
            ProfilePath::LoginCount => Cow::Owned(Value::from(self.login_count)),
            ProfilePath::DaysSinceFirstLogin => {
                Cow::Owned(Value::from(self.days_since_first_login(now)?))
            }
            ProfilePath::DaysSinceLastLogin => {
                Cow::Owned(Value::from(whole_days_since(self.last_login_at?, now)))
            }
        };
        (!is_empty_value(Some(&found))).then_some(found)
    }

    /// Whether the path has a value.
    pub fn has_value(&self, path: &str, now: DateTime<Utc>) -> bool {
        self.value(path, now).is_some()
    }

    /// Whole days since the first login (never negative), if known.
    pub fn days_since_first_login(&self, now: DateTime<Utc>) -> Option<i64> {
        self.first_login_at
            .map(|first| whole_days_since(first, now))
    }
}

/// Whole 24-hour days from `then` until `now`, never negative.
fn whole_days_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days().max(0)
}

/// Writes `value` at a dotted key, creating intermediate objects and
/// replacing any non-object in the way.
pub fn set_path(target: &mut Map<String, Value>, dotted: &str, value: Value) {
    match dotted.split_once('.') {
        None => {
            target.insert(dotted.to_owned(), value);
        }
        Some((head, rest)) => {
            let slot = target
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn paths_resolve_and_empty_means_no_value() {
        let user = json!({"a": {"b": "x", "e": ""}, "n": null});
        let app = json!({"enrichment": {"geoip": {"city": "Berlin"}}});
        let first = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2024, 1, 11, 11, 0, 0).unwrap();
        let p = Profile {
            user_metadata: &user,
            app_metadata: &app,
            login_count: 4,
            first_login_at: Some(first),
            last_login_at: Some(now - chrono::Duration::hours(49)),
        };
        assert_eq!(p.value("a.b", now).unwrap().as_ref(), &json!("x"));
        assert_eq!(
            p.value("user_metadata.a.b", now).unwrap().as_ref(),
            &json!("x")
        );
        assert_eq!(
            p.value("app_metadata.enrichment.geoip.city", now)
                .unwrap()
                .as_ref(),
            &json!("Berlin")
        );
        assert!(p.value("a.e", now).is_none());
        assert!(p.value("n", now).is_none());
        assert!(p.value("a.b.c", now).is_none());
        assert_eq!(p.value("login_count", now).unwrap().as_ref(), &json!(4));
        assert_eq!(
            p.value("days_since_first_login", now).unwrap().as_ref(),
            &json!(9)
        );
        assert_eq!(
            p.value("days_since_last_login", now).unwrap().as_ref(),
            &json!(2)
        );
        assert!(p.value("bad path", now).is_none());
    }

    #[test]
    fn path_syntax() {
        assert!(is_question_key("company.name"));
        assert!(is_question_key("a_b-c.D9"));
        assert!(!is_question_key("user_metadata.x"));
        assert!(!is_question_key("app_metadata.x"));
        assert!(!is_question_key("login_count"));
        assert!(!is_question_key("a..b"));
        assert!(!is_question_key("a b"));
        assert!(!is_question_key(&"a".repeat(201)));
        assert_eq!(ProfilePath::parse("app_metadata"), None);
        assert_eq!(ProfilePath::parse("app_metadata."), None);
    }

    #[test]
    fn set_path_creates_and_replaces() {
        let mut m = Map::new();
        set_path(&mut m, "company.name", json!("ACME"));
        set_path(&mut m, "company.size", json!("1-10"));
        m.insert("x".into(), json!(5));
        set_path(&mut m, "x.y", json!(true));
        assert_eq!(
            Value::Object(m),
            json!({"company": {"name": "ACME", "size": "1-10"}, "x": {"y": true}})
        );
    }
}
