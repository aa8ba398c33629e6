//! How each database keeps a user's metadata (decision 0008): SQLite as JSONB, written
//! by every path that stores it; rows a migration left as text read and match the same.

use serde_json::{Value, json};

use super::{login, service};
use crate::common::TestStore;
use trickle::app::logins::LoginRequest;
use trickle::model::MetadataLimits;
use trickle::questions::parse_condition_json;

const LIMITS: MetadataLimits = MetadataLimits {
    user_metadata_bytes: 16_384,
    app_metadata_bytes: 16_384,
};

/// The storage form of both metadata columns of every user (SQLite's `typeof`,
/// PostgreSQL's `pg_typeof`).
async fn stored_forms(url: &str) -> Vec<(String, String, String)> {
    let sql_sqlite = "SELECT user_id, typeof(user_metadata), typeof(app_metadata) \
                      FROM users ORDER BY user_id";
    let sql_postgres = "SELECT user_id, pg_typeof(user_metadata)::text, \
                        pg_typeof(app_metadata)::text FROM users ORDER BY user_id";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as(sql_sqlite).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_as(sql_postgres).fetch_all(&pool).await.unwrap()
    }
}

/// A user made by a login, one whose login carried claims, and one edited: every
/// metadata column is in the database's binary form, and reads back as written.
async fn metadata_is_stored_in_binary_json(db: &TestStore) {
    let store = &db.store;
    let (trickle, site) = service(store).await;
    trickle
        .logins()
        .record(&site, login("plain"))
        .await
        .unwrap();
    let with_claims = LoginRequest {
        profile: Some(json!({ "given_name": "Ada" }).as_object().unwrap().clone()),
        ..login("claims")
    };
    trickle.logins().record(&site, with_claims).await.unwrap();
    trickle
        .logins()
        .record(&site, login("edited"))
        .await
        .unwrap();
    let edit = |user: &mut Value, _app: &mut Value| {
        user["gender"] = json!("female");
        user["interests"] = json!(["fitness", "ünïcode \"quoted\""]);
    };
    store
        .edit_user(&site.site_id, "edited", &edit, LIMITS, &[])
        .await
        .unwrap()
        .unwrap();

    let binary = if db.url.starts_with("sqlite:") {
        "blob"
    } else {
        "jsonb"
    };
    for (user, user_form, app_form) in stored_forms(&db.url).await {
        assert_eq!(
            (user_form.as_str(), app_form.as_str()),
            (binary, binary),
            "{user}"
        );
    }
    let edited = store.user(&site.site_id, "edited").await.unwrap().unwrap();
    assert_eq!(
        edited.user_metadata,
        json!({ "gender": "female", "interests": ["fitness", "ünïcode \"quoted\""] })
    );
    let claims = store.user(&site.site_id, "claims").await.unwrap().unwrap();
    assert_eq!(claims.app_metadata["idp"]["given_name"], "Ada");
    let plain = store.user(&site.site_id, "plain").await.unwrap().unwrap();
    assert_eq!(
        (plain.user_metadata, plain.app_metadata),
        (json!({}), json!({}))
    );
}

/// On SQLite, metadata stored as text (as before the migration to JSONB) reads back and
/// matches conditions exactly like JSONB does. (PostgreSQL's columns were always jsonb.)
#[tokio::test]
async fn sqlite_metadata_left_as_text_still_reads_and_matches() {
    let db = crate::common::sqlite_store().await;
    let store = &db.store;
    let (trickle, site) = service(store).await;
    for user in ["as-text", "as-jsonb"] {
        trickle.logins().record(&site, login(user)).await.unwrap();
    }
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let metadata = r#"{"gender":"male","interests":["fitness"]}"#;
    sqlx::query(
        "UPDATE users SET user_metadata = $1, app_metadata = '{}' WHERE user_id = 'as-text'",
    )
    .bind(metadata)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE users SET user_metadata = jsonb($1) WHERE user_id = 'as-jsonb'")
        .bind(metadata)
        .execute(&pool)
        .await
        .unwrap();
    let forms: Vec<(String,)> =
        sqlx::query_as("SELECT typeof(user_metadata) FROM users ORDER BY user_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(forms, [("blob".to_owned(),), ("text".to_owned(),)]);

    for user in ["as-text", "as-jsonb"] {
        let read = store.user(&site.site_id, user).await.unwrap().unwrap();
        assert_eq!(
            read.user_metadata,
            json!({ "gender": "male", "interests": ["fitness"] })
        );
    }
    let condition = parse_condition_json(&json!({ "all": [
        { "key": "gender", "equals": "male" },
        { "key": "interests", "contains": "fitness" },
    ] }))
    .unwrap();
    let now = chrono::Utc::now();
    let matched = store
        .list_users(&site.site_id, Some(&condition), now, None, 10)
        .await
        .unwrap();
    let ids: Vec<_> = matched.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(ids, ["as-jsonb", "as-text"]);
}

conformance_on_database!(metadata_is_stored_in_binary_json);
