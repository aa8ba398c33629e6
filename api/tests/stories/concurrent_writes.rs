//! Write transactions that read before they write, many at once and beside the
//! group-commit writer: each waits its turn, none fails. On SQLite a transaction begun
//! deferred fails at its first write with "database is locked", without waiting, when
//! another connection committed after its first read; the store begins every write
//! transaction with the write lock taken.

use futures::future::join_all;
use serde_json::json;
use std::sync::Arc;
use trickle::store::{SegmentWrite, Store};

use super::{login_event, service};

async fn writes_that_read_first_wait_their_turn(store: Arc<dyn Store>) {
    let (trickle, site) = service(&store).await;
    let condition = json!({"key": "login_count", "gte": 1});
    let segments = (0..40).map(|i| {
        let (store, site_id, condition) = (store.clone(), site.site_id.clone(), condition.clone());
        tokio::spawn(async move {
            // Twice each: a new segment, then a replacement of it.
            for _ in 0..2 {
                let written = store
                    .put_segment(&site_id, &format!("s{i}"), "", &condition)
                    .await;
                assert!(
                    matches!(
                        written,
                        Ok(SegmentWrite::Created(_) | SegmentWrite::Replaced(_))
                    ),
                    "segment s{i}: {written:?}"
                );
            }
        })
    });
    let logins = (0..40).map(|i| {
        let (trickle, site) = (trickle.clone(), site.clone());
        tokio::spawn(async move {
            trickle
                .logins()
                .record(&site, login_event(&format!("u{i}"), &format!("e{i}")))
                .await
                .expect("a login is counted")
        })
    });
    let (segments, logins) = tokio::join!(join_all(segments), join_all(logins));
    for outcome in segments
        .into_iter()
        .chain(logins.into_iter().map(|l| l.map(drop)))
    {
        outcome.expect("no task panicked");
    }
    assert_eq!(store.segments(&site.site_id).await.unwrap().len(), 40);
}

conformance!(writes_that_read_first_wait_their_turn);
