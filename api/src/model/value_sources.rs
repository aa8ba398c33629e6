//! Where each value of a profile came from: an answer, an enrichment provider, the
//! identity provider's claims at login, or the site's backend over the API.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::idp::RECEIVED_AT;
use super::user::AnswerRecord;

/// Who set a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The user answered a question (`question_set`, `version`, `at`).
    Answer,
    /// An enrichment provider found it (`provider`, `at` = its `fetched_at`).
    Enrichment,
    /// The identity provider's claims sent with a login (`at` = `received_at`).
    IdentityProvider,
    /// Set over the API (`PATCH /v1/users/{id}`) or by nothing Trickle keeps a record
    /// of: no answer with this value, not under `enrichment` or `idp`.
    Api,
}

/// One value of the profile and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValueSource {
    /// The value's profile path, e.g. `user_metadata.address.city` or
    /// `app_metadata.enrichment.geoip.city`. Arrays and answers' values are one value.
    pub path: String,
    #[schema(value_type = Value)]
    pub value: Value,
    pub source: SourceKind,
    /// Answers: the question set and version it was answered in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_set: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Enrichment: the provider's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// When: answered, fetched by the provider, or received from the identity provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl ValueSource {
    fn new(path: String, value: &Value, source: SourceKind) -> ValueSource {
        ValueSource {
            path,
            value: value.clone(),
            source,
            question_set: None,
            version: None,
            provider: None,
            at: None,
        }
    }
}

/// Every value of the two metadata objects with its source, in path order. An answer
/// is the source only while the stored value is the one answered; a value changed since
/// (by a merge patch) counts as set over the API.
pub fn value_sources(
    user_metadata: &Value,
    app_metadata: &Value,
    answers: &[AnswerRecord],
) -> Vec<ValueSource> {
    let mut out = Vec::new();
    let answer_of = |path: &str| answers.iter().find(|a| a.key == path);
    walk(
        user_metadata,
        "",
        &mut |path, value| {
            let dotted = format!("user_metadata.{path}");
            match answer_of(path).filter(|a| &a.value == value) {
                Some(answer) => out.push(ValueSource {
                    question_set: Some(answer.question_set.clone()),
                    version: Some(answer.version),
                    at: Some(answer.answered_at),
                    ..ValueSource::new(dotted, value, SourceKind::Answer)
                }),
                None => out.push(ValueSource::new(dotted, value, SourceKind::Api)),
            }
        },
        &|path| answer_of(path).is_some(),
    );
    let Some(app) = app_metadata.as_object() else {
        return out;
    };
    for (key, entry) in app {
        match (key.as_str(), entry) {
            ("enrichment", Value::Object(providers)) => {
                for (provider, record) in providers {
                    enrichment_values(provider, record, &mut out);
                }
            }
            ("idp", Value::Object(claims)) => {
                let at = time_of(claims.get(RECEIVED_AT));
                for (claim, value) in claims.iter().filter(|(k, _)| *k != RECEIVED_AT) {
                    leaves(
                        value,
                        &format!("app_metadata.idp.{claim}"),
                        &mut |path, v| {
                            out.push(ValueSource {
                                at,
                                ..ValueSource::new(path, v, SourceKind::IdentityProvider)
                            })
                        },
                    );
                }
            }
            _ => leaves(entry, &format!("app_metadata.{key}"), &mut |path, v| {
                out.push(ValueSource::new(path, v, SourceKind::Api))
            }),
        }
    }
    out
}

/// A provider's record: every field but the bookkeeping (`fetched_at`, `found`,
/// `inputs_hash`), with the provider and its time.
fn enrichment_values(provider: &str, record: &Value, out: &mut Vec<ValueSource>) {
    let base = format!("app_metadata.enrichment.{provider}");
    let Value::Object(fields) = record else {
        out.push(ValueSource::new(base, record, SourceKind::Api));
        return;
    };
    let at = time_of(fields.get("fetched_at"));
    let bookkeeping = ["fetched_at", "found", "inputs_hash"];
    for (field, value) in fields
        .iter()
        .filter(|(k, _)| !bookkeeping.contains(&k.as_str()))
    {
        leaves(value, &format!("{base}.{field}"), &mut |path, v| {
            out.push(ValueSource {
                provider: Some(provider.to_owned()),
                at,
                ..ValueSource::new(path, v, SourceKind::Enrichment)
            })
        });
    }
}

fn time_of(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value.and_then(Value::as_str).and_then(|t| t.parse().ok())
}

/// Calls `found` with every leaf under `value` (objects are walked, anything else is
/// one value), with its dotted path from `prefix`.
fn leaves(value: &Value, prefix: &str, found: &mut dyn FnMut(String, &Value)) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                leaves(inner, &format!("{prefix}.{key}"), found);
            }
        }
        other => found(prefix.to_owned(), other),
    }
}

/// Walks `user_metadata`: a node whose path `whole` names (an answer's key) is one
/// value even when it is an object (`{"other": …}`); other objects are walked.
fn walk(
    value: &Value,
    prefix: &str,
    found: &mut dyn FnMut(&str, &Value),
    whole: &dyn Fn(&str) -> bool,
) {
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, inner) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match inner {
            Value::Object(_) if !whole(&path) => walk(inner, &path, found, whole),
            _ => found(&path, inner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_value_names_its_source() {
        let answered_at = "2026-12-01T10:00:00Z".parse().unwrap();
        let answer = |key: &str, value: Value| AnswerRecord {
            key: key.into(),
            question_set: "profile".into(),
            version: 2,
            value,
            login_count: 1,
            answered_at,
        };
        let answers = [
            answer("role", json!({"other": "cook"})),
            answer("address.city", json!("Berlin")),
            answer("nickname", json!("old")),
        ];
        let user = json!({"role": {"other": "cook"}, "address": {"city": "Berlin", "zip": "10115"},
            "nickname": "patched"});
        let app = json!({"plan": "pro", "idp": {"locale": "de", "received_at": "2026-12-01T09:00:00Z"},
            "enrichment": {"geoip": {"city": "Bonn", "fetched_at": "2026-12-01T11:00:00Z",
                "inputs_hash": "h", "found": true}}});
        let sources = value_sources(&user, &app, &answers);
        let by_path = |p: &str| sources.iter().find(|s| s.path == p).unwrap();
        assert_eq!(by_path("user_metadata.role").source, SourceKind::Answer);
        assert_eq!(
            by_path("user_metadata.role").value,
            json!({"other": "cook"})
        );
        let city = by_path("user_metadata.address.city");
        assert_eq!((city.source, city.version), (SourceKind::Answer, Some(2)));
        assert_eq!(by_path("user_metadata.address.zip").source, SourceKind::Api);
        assert_eq!(
            by_path("user_metadata.nickname").source,
            SourceKind::Api,
            "a patched answer is no longer the answer"
        );
        assert_eq!(by_path("app_metadata.plan").source, SourceKind::Api);
        let locale = by_path("app_metadata.idp.locale");
        assert_eq!(locale.source, SourceKind::IdentityProvider);
        assert!(locale.at.is_some());
        let geo = by_path("app_metadata.enrichment.geoip.city");
        assert_eq!(geo.provider.as_deref(), Some("geoip"));
        assert_eq!(sources.len(), 7, "{sources:?}");
    }
}
