//! When each version of a question set was live (`question_set_live_periods`): a
//! publish or a rollback ends the open period and opens the next; the migration that
//! made the table rebuilds the same sequence from what was stored before it.

use super::{SET, by, service};
use crate::common::TestStore;
use trickle::App;
use trickle::model::Site;

/// `(version, live_from, live_until)` of the set's periods in order, times as text.
type Periods = Vec<(i64, String, Option<String>)>;

async fn periods(db: &TestStore) -> Periods {
    let sql = "SELECT version, CAST(live_from AS TEXT), CAST(live_until AS TEXT) \
               FROM question_set_live_periods WHERE slug = 'profile' \
               ORDER BY live_from, version";
    db.rows(sql).await
}

/// Deletes every period, then runs the migration's backfill (its statements after the
/// table's creation) as a database upgraded from before it would.
async fn backfill_again(db: &TestStore) {
    let (migration, sqlite) = if db.url.starts_with("sqlite:") {
        (
            include_str!("../../../migrations/sqlite/20261208000100_live_periods.sql"),
            true,
        )
    } else {
        (
            include_str!("../../../migrations/postgres/20261208000100_live_periods.sql"),
            false,
        )
    };
    let start = migration
        .find("-- The periods before this table existed")
        .expect("the backfill's comment");
    let sql = format!(
        "DELETE FROM question_set_live_periods; {}",
        &migration[start..]
    );
    if sqlite {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
}

async fn publish(trickle: &App, site: &Site, source: &str) -> i64 {
    let draft = trickle
        .publishing()
        .save_draft(&by(), site, "profile", source, "profile.yaml")
        .await
        .unwrap();
    rollback(trickle, site, draft.version).await
}

async fn rollback(trickle: &App, site: &Site, version: i64) -> i64 {
    trickle
        .publishing()
        .publish(&by(), site, "profile", version)
        .await
        .unwrap()
        .version
}

/// Each period ends where the next begins, and only the last is open.
fn assert_chained(periods: &Periods) {
    for pair in periods.windows(2) {
        assert_eq!(
            pair[0].2.as_deref(),
            Some(pair[1].1.as_str()),
            "{periods:?}"
        );
    }
    assert_eq!(periods.last().unwrap().2, None, "{periods:?}");
}

async fn publishes_and_rollbacks_chain_the_live_periods(db: &TestStore) {
    let (trickle, site) = service(&db.store).await;
    assert!(periods(db).await.is_empty(), "a draft is never live");
    assert_eq!(publish(&trickle, &site, SET).await, 1);
    let v2 = SET.replace("Nickname?", "Your nickname?");
    assert_eq!(publish(&trickle, &site, &v2).await, 2);
    assert_eq!(rollback(&trickle, &site, 1).await, 1);
    assert_eq!(rollback(&trickle, &site, 1).await, 1, "already live");

    let written = periods(db).await;
    let versions: Vec<i64> = written.iter().map(|p| p.0).collect();
    assert_eq!(versions, [1, 2, 1]);
    assert_chained(&written);

    // Rebuilt from publication times and the set's last change, the same sequence.
    backfill_again(db).await;
    let rebuilt = periods(db).await;
    let versions: Vec<i64> = rebuilt.iter().map(|p| p.0).collect();
    assert_eq!(versions, [1, 2, 1], "{rebuilt:?}");
    assert_chained(&rebuilt);
    let sql = "SELECT COUNT(*) FROM question_set_live_periods p \
               JOIN question_set_versions v ON v.site_id = p.site_id AND v.slug = p.slug \
               AND v.version = p.version AND v.published_at = p.live_from";
    let from_publication: i64 = if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    };
    assert_eq!(
        from_publication, 2,
        "v1's first period and v2's begin at their publication; the rollback's does not"
    );
}

conformance_on_database!(publishes_and_rollbacks_chain_the_live_periods);
