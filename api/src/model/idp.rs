//! The identity provider's profile sent with a login (`profile`): its limits and how
//! it lands at `app_metadata.idp` (SPEC.md, "Enrichment").

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Most claims (top-level keys) in one profile.
pub const MAX_CLAIMS: usize = 64;
/// Longest claim key (at any level), in bytes.
pub const MAX_CLAIM_KEY_BYTES: usize = 64;
/// Deepest nesting: the profile object is level 1, an object or array in it level 2, …
pub const MAX_DEPTH: usize = 3;
/// Largest serialised profile, in bytes.
pub const MAX_PROFILE_BYTES: usize = 16 * 1024;
/// Where the claims land in `app_metadata`.
pub const IDP_KEY: &str = "idp";
/// The stamp Trickle adds beside the claims; a claim may not use this name.
pub const RECEIVED_AT: &str = "received_at";

/// Why a profile is refused: the field (`profile` or `profile.<key>…`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileProblem {
    /// `profile`, or the dotted path of the offending claim.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// Whether `key` matches `[A-Za-z0-9_-]{1,64}` (a profile path segment).
pub fn is_claim_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_CLAIM_KEY_BYTES
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a profile against the limits: at most [`MAX_CLAIMS`] claims, keys
/// `[A-Za-z0-9_-]{1,64}` at every level, nesting at most [`MAX_DEPTH`], at most
/// [`MAX_PROFILE_BYTES`] serialised, and no claim named `received_at`.
pub fn check_profile(profile: &Map<String, Value>) -> Result<(), ProfileProblem> {
    let problem = |field: String, message: String| ProfileProblem { field, message };
    if profile.len() > MAX_CLAIMS {
        return Err(problem(
            "profile".into(),
            format!(
                "profile has {} claims; at most {MAX_CLAIMS} are allowed",
                profile.len()
            ),
        ));
    }
    if profile.contains_key(RECEIVED_AT) {
        return Err(problem(
            format!("profile.{RECEIVED_AT}"),
            format!("`{RECEIVED_AT}` is set by Trickle and cannot be a claim"),
        ));
    }
    check_level(profile, "profile", 1)?;
    let size = super::json_size(&Value::Object(profile.clone()));
    if size > MAX_PROFILE_BYTES {
        return Err(problem(
            "profile".into(),
            format!("profile is {size} bytes serialised; at most {MAX_PROFILE_BYTES} are allowed"),
        ));
    }
    Ok(())
}

/// Checks the keys of one object at nesting `depth` and everything below it.
fn check_level(
    object: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<(), ProfileProblem> {
    for (key, value) in object {
        if !is_claim_key(key) {
            return Err(ProfileProblem {
                field: path.to_owned(),
                message: format!(
                    "{key:?} is not a claim key: use 1 to {MAX_CLAIM_KEY_BYTES} of A-Z a-z 0-9 _ -"
                ),
            });
        }
        check_value(value, &format!("{path}.{key}"), depth)?;
    }
    Ok(())
}

/// Checks a value found inside a container at nesting `depth`.
fn check_value(value: &Value, path: &str, depth: usize) -> Result<(), ProfileProblem> {
    let too_deep = || ProfileProblem {
        field: path.to_owned(),
        message: format!("profile claims may nest at most {MAX_DEPTH} levels deep"),
    };
    match value {
        Value::Object(_) | Value::Array(_) if depth >= MAX_DEPTH => Err(too_deep()),
        Value::Object(inner) => check_level(inner, path, depth + 1),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_value(item, &format!("{path}.{i}"), depth + 1)),
        _ => Ok(()),
    }
}

/// Merges checked `claims` into `app_metadata.idp`: each claim replaces the stored one
/// of that name, a null claim removes it, others are kept; `received_at` is stamped.
pub fn merge_claims(app_metadata: &mut Value, claims: &Map<String, Value>, at: DateTime<Utc>) {
    if !app_metadata.is_object() {
        *app_metadata = Value::Object(Map::new());
    }
    let root = app_metadata.as_object_mut().expect("just made an object");
    let idp = root
        .entry(IDP_KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    if !idp.is_object() {
        *idp = Value::Object(Map::new());
    }
    let idp = idp.as_object_mut().expect("just made an object");
    for (key, value) in claims {
        if value.is_null() {
            idp.remove(key);
        } else {
            idp.insert(key.clone(), value.clone());
        }
    }
    idp.insert(RECEIVED_AT.into(), json!(at));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn field_of(value: Value) -> String {
        check_profile(&object(value)).unwrap_err().field
    }

    #[test]
    fn ordinary_social_profiles_pass() {
        let profile = json!({
            "given_name": "Ada", "family_name": "Lovelace", "locale": "en-GB",
            "birthdate": "1990-12-10", "gender": "female", "picture": "https://x.example/a.png",
            "location": { "name": "London", "geo": { "lat": 51.5, "lon": -0.12 } },
            "handles": ["@ada", "@countess"], "email_verified": true, "age": 35, "nickname": null
        });
        assert_eq!(check_profile(&object(profile)), Ok(()));
    }

    #[test]
    fn limits_name_the_offending_field() {
        assert_eq!(field_of(json!({ "bad key": 1 })), "profile");
        assert_eq!(
            field_of(json!({ "location": { "géo": 1 } })),
            "profile.location"
        );
        assert_eq!(
            field_of(json!({ "received_at": "x" })),
            "profile.received_at"
        );
        assert_eq!(
            field_of(json!({ "a": { "b": { "c": { "d": 1 } } } })),
            "profile.a.b.c"
        );
        assert_eq!(field_of(json!({ "a": [[[1]]] })), "profile.a.0.0");
        assert_eq!(field_of(json!({ "a": { "b": [[1]] } })), "profile.a.b.0");
        assert_eq!(
            check_profile(&object(json!({ "a": { "b": [1] }, "c": [[1]] }))),
            Ok(())
        );
        assert_eq!(
            field_of(json!({ "k": "x".repeat(MAX_PROFILE_BYTES) })),
            "profile"
        );
        let many: Map<String, Value> = (0..=MAX_CLAIMS)
            .map(|i| (format!("c{i}"), json!(i)))
            .collect();
        assert_eq!(check_profile(&many).unwrap_err().field, "profile");
        let sixty_four: Map<String, Value> = (0..MAX_CLAIMS)
            .map(|i| (format!("c{i}"), json!(i)))
            .collect();
        assert_eq!(check_profile(&sixty_four), Ok(()));
        assert!(is_claim_key(&"k".repeat(64)));
        assert!(!is_claim_key(&"k".repeat(65)));
    }

    #[test]
    fn claims_merge_shallowly_and_null_removes() {
        let at: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut app = json!({ "crm": 1, "idp": { "locale": "de", "gender": "f", "location": { "name": "Bonn" } } });
        let claims = object(
            json!({ "gender": null, "location": { "name": "Köln" }, "birthdate": "1990-01-02" }),
        );
        merge_claims(&mut app, &claims, at);
        assert_eq!(
            app,
            json!({ "crm": 1, "idp": { "locale": "de", "location": { "name": "Köln" },
                    "birthdate": "1990-01-02", "received_at": "2026-12-01T10:00:00Z" } })
        );
        let mut odd = json!({ "idp": 3 });
        merge_claims(&mut odd, &object(json!({ "a": 1 })), at);
        assert_eq!(odd["idp"]["a"], 1);
    }
}
