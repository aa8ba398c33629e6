//! The retention purge deletes the oldest logins first, so that while a purge is under
//! way every login it has deleted is older than every login kept (a dated results page
//! counts on that: `store/sql/results/reach.rs`).

use chrono::{Duration, DurationRound, Utc};
use std::sync::Arc;
use trickle::model::{MetadataLimits, NewLogin};
use trickle::store::{LoginFollowUps, Store};

use super::service;

/// Ten logins on ten days, written in shuffled order over two users, purged three at a
/// time: after each batch what is left is the youngest days.
async fn the_purge_deletes_the_oldest_logins_first(store: Arc<dyn Store>) {
    let (_, site) = service(&store).await;
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
    let day = |n: i64| today - Duration::days(10 + n) + Duration::hours(12);
    let no_jobs: LoginFollowUps = Arc::new(|_, _| Vec::new());
    for (i, n) in [7, 2, 9, 4, 0, 5, 8, 1, 6, 3].into_iter().enumerate() {
        let login = NewLogin {
            user_id: if i % 2 == 0 { "a" } else { "b" }.into(),
            event_id: format!("day-{n}"),
            occurred_at: day(n),
            ip: None,
            user_agent: None,
            email: None,
            name: None,
            profile: None,
        };
        let limits = MetadataLimits {
            user_metadata_bytes: 1000,
            app_metadata_bytes: 1000,
        };
        store
            .record_login(&site.site_id, &login, limits, no_jobs.clone())
            .await
            .unwrap();
    }
    let days_left = || {
        let store = store.clone();
        let site_id = site.site_id.clone();
        async move {
            let counted = store
                .daily_logins(&site_id, today - Duration::days(30))
                .await
                .unwrap();
            counted.into_iter().map(|d| d.day).collect::<Vec<_>>()
        }
    };
    let all = days_left().await;
    assert_eq!(all.len(), 10, "{all:?}");
    let mut purged = 0;
    while purged < 10 {
        let deleted = store.purge_login_events(today, 3).await.unwrap();
        assert!(deleted > 0, "the purge stopped at {purged}");
        purged += deleted as usize;
        // `all` is oldest first: what is left is its youngest days.
        assert_eq!(days_left().await, all[purged..], "after {purged} purged");
    }
}

conformance!(the_purge_deletes_the_oldest_logins_first);
