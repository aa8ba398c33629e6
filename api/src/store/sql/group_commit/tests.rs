//! The writers' queues: how many batches run at once, of each kind, on a store that only
//! records the batches it is handed.

use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::model::{MetadataLimits, NewAnswer, PromptEventKind};

/// Writes answers apart and prompt events itself; records each batch's kinds (`true`:
/// apart) and the most batches in flight at once, in all and of answers.
#[derive(Default)]
struct Recording {
    batches: Mutex<Vec<Vec<bool>>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    apart_in_flight: AtomicUsize,
    most_apart_in_flight: AtomicUsize,
}

/// One more in flight on `now`, kept in `most` if it is the most yet.
fn start(now: &AtomicUsize, most: &AtomicUsize) {
    let now = now.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(now, Ordering::SeqCst);
}

#[async_trait]
impl WriteBatches for Recording {
    async fn write_batch(&self, batch: &[Write]) -> Result<BatchOutcome, StoreError> {
        let kinds: Vec<bool> = batch.iter().map(|w| self.writes_apart(w)).collect();
        let apart = kinds.contains(&true);
        start(&self.in_flight, &self.most_in_flight);
        if apart {
            start(&self.apart_in_flight, &self.most_apart_in_flight);
        }
        // Long enough for the other writers to take batches meanwhile.
        tokio::time::sleep(Duration::from_millis(5)).await;
        if apart {
            self.apart_in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.batches.lock().unwrap().push(kinds);
        Ok(batch
            .iter()
            .map(|write| match write {
                Write::Answer(_) => Ok(Written::Answer(None)),
                Write::PromptEvent(_) => Ok(Written::PromptEvent(None)),
                Write::Login(_) => Err(StoreError::Shared("no logins here".into())),
            })
            .collect())
    }

    fn writes_apart(&self, write: &Write) -> bool {
        matches!(write, Write::Answer(_))
    }
}

fn answer(user: usize) -> Write {
    Write::Answer(AnswerWrite {
        site_id: "site".into(),
        user_id: format!("u{user}"),
        answer: NewAnswer {
            question_set: "onboarding".into(),
            version: 1,
            key: "role".into(),
            value: serde_json::json!("founder"),
        },
        limits: MetadataLimits {
            user_metadata_bytes: 1 << 16,
            app_metadata_bytes: 1 << 16,
        },
        follow_ups: Vec::new(),
    })
}

fn prompt_event(user: usize) -> Write {
    Write::PromptEvent(PromptEventWrite {
        site_id: "site".into(),
        user_id: format!("u{user}"),
        question_set: "onboarding".into(),
        version: 1,
        key: "role".into(),
        kind: PromptEventKind::Impression,
    })
}

/// Queues 100 answers and 100 prompt events at once, checks each is answered with its
/// own kind's outcome, and returns the store's record.
async fn write_both_kinds(writers: Writers) -> Arc<Recording> {
    let store = Arc::new(Recording::default());
    let queue = Arc::new(WriteQueue::start(store.clone(), writers));
    let mut waiting = Vec::new();
    for user in 0..100 {
        for write in [answer(user), prompt_event(user)] {
            let queue = queue.clone();
            waiting.push(tokio::spawn(async move { queue.write(write).await }));
        }
    }
    for (at, written) in waiting.into_iter().enumerate() {
        let written = written.await.unwrap().unwrap();
        if at % 2 == 0 {
            assert!(matches!(written, Written::Answer(None)), "{written:?}");
        } else {
            assert!(matches!(written, Written::PromptEvent(None)), "{written:?}");
        }
    }
    store
}

#[tokio::test]
async fn writes_apart_with_a_lane_of_their_own_go_one_batch_at_a_time_beside_the_others() {
    let store = write_both_kinds(Writers {
        own: 4,
        apart: Some(1),
    })
    .await;
    let batches = store.batches.lock().unwrap();
    let answers: usize = batches.iter().flatten().filter(|&&apart| apart).count();
    assert_eq!((answers, batches.iter().flatten().count()), (100, 200));
    assert_eq!(store.most_apart_in_flight.load(Ordering::SeqCst), 1);
    assert!(store.most_in_flight.load(Ordering::SeqCst) > 1);
}

#[tokio::test]
async fn one_writer_without_a_lane_writes_one_batch_at_a_time_whatever_its_kind() {
    let store = write_both_kinds(Writers {
        own: 1,
        apart: None,
    })
    .await;
    assert_eq!(store.most_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(store.batches.lock().unwrap().iter().flatten().count(), 200);
}

#[tokio::test]
async fn several_apart_writers_run_batches_side_by_side() {
    let store = Arc::new(Recording::default());
    let queue = Arc::new(WriteQueue::start(
        store.clone(),
        Writers {
            own: 1,
            apart: Some(3),
        },
    ));
    // Answers a millisecond apart, each while the batch before is still writing (5 ms),
    // so that each waits for a writer of its own.
    let mut waiting = Vec::new();
    for user in 0..3 {
        let queue = queue.clone();
        waiting.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(user as u64)).await;
            queue.write(answer(user)).await.unwrap();
        }));
    }
    for task in waiting {
        task.await.unwrap();
    }
    assert!(store.most_apart_in_flight.load(Ordering::SeqCst) > 1);
}
