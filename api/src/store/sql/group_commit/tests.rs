//! The writers' queues: how many batches run at once, of each kind, on a store that only
//! records the batches it is handed and holds each until enough are in flight.

use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::model::{MetadataLimits, NewAnswer, PromptEventKind};

/// Writes answers apart and prompt events itself. Holds each batch until `hold` batches
/// are in flight or `patience` has passed, so that batches that can run side by side do;
/// records each batch's kinds (`true`: apart), the most batches in flight at once, in
/// all and of answers, and whether batches of both kinds were ever in flight together.
struct Recording {
    hold: usize,
    patience: Duration,
    batches: Mutex<Vec<Vec<bool>>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    apart_in_flight: AtomicUsize,
    most_apart_in_flight: AtomicUsize,
    kinds_together: AtomicBool,
}

impl Recording {
    fn holding(hold: usize, patience: Duration) -> Arc<Self> {
        Arc::new(Recording {
            hold,
            patience,
            batches: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
            apart_in_flight: AtomicUsize::new(0),
            most_apart_in_flight: AtomicUsize::new(0),
            kinds_together: AtomicBool::new(false),
        })
    }

    fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    fn most_apart_in_flight(&self) -> usize {
        self.most_apart_in_flight.load(Ordering::SeqCst)
    }

    fn kinds_together(&self) -> bool {
        self.kinds_together.load(Ordering::SeqCst)
    }

    /// Answers and prompt events written, and batches of answers.
    fn written(&self) -> (usize, usize, usize) {
        let batches = self.batches.lock().unwrap();
        let answers = batches.iter().flatten().filter(|&&apart| apart).count();
        let events = batches.iter().flatten().count() - answers;
        let answer_batches = batches.iter().filter(|b| b.contains(&true)).count();
        (answers, events, answer_batches)
    }
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
        let began = Instant::now();
        loop {
            let answers = self.apart_in_flight.load(Ordering::SeqCst);
            let all = self.in_flight.load(Ordering::SeqCst);
            if answers > 0 && all > answers {
                self.kinds_together.store(true, Ordering::SeqCst);
            }
            if all >= self.hold || began.elapsed() > self.patience {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
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

/// Queues 100 answers and 100 prompt events at once on `store`'s writers and checks each
/// is answered with its own kind's outcome.
async fn write_both_kinds(store: &Arc<Recording>, writers: Writers) {
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
}

/// Queues three answers a millisecond apart (each after the one before was taken) on
/// `store`'s writers.
async fn write_answers_apart(store: &Arc<Recording>, writers: Writers) {
    let queue = Arc::new(WriteQueue::start(store.clone(), writers));
    let mut waiting = Vec::new();
    for user in 0..3 {
        let queue = queue.clone();
        waiting.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(user as u64)).await;
            queue.write(answer(user)).await.unwrap()
        }));
    }
    for task in waiting {
        assert!(matches!(task.await.unwrap(), Written::Answer(None)));
    }
}

#[tokio::test]
async fn writes_apart_with_a_lane_of_their_own_run_beside_the_others() {
    let store = Recording::holding(2, Duration::from_millis(500));
    let writers = Writers {
        own: 4,
        apart: Some(1),
    };
    write_both_kinds(&store, writers).await;
    let (answers, events, _) = store.written();
    assert_eq!((answers, events), (100, 100));
    assert!(store.kinds_together());
}

#[tokio::test]
async fn one_apart_writer_takes_one_batch_at_a_time() {
    let store = Recording::holding(2, Duration::from_millis(50));
    let writers = Writers {
        own: 1,
        apart: Some(1),
    };
    write_answers_apart(&store, writers).await;
    let (answers, _, answer_batches) = store.written();
    assert_eq!(answers, 3);
    assert!(answer_batches > 1, "{answer_batches} batch");
    assert_eq!(store.most_apart_in_flight(), 1);
}

#[tokio::test]
async fn several_apart_writers_take_batches_side_by_side() {
    let store = Recording::holding(3, Duration::from_millis(500));
    let writers = Writers {
        own: 1,
        apart: Some(3),
    };
    write_answers_apart(&store, writers).await;
    assert!(store.most_apart_in_flight() > 1);
}

#[tokio::test]
async fn one_writer_without_a_lane_writes_one_batch_at_a_time_whatever_its_kind() {
    let store = Recording::holding(2, Duration::from_millis(50));
    let writers = Writers {
        own: 1,
        apart: None,
    };
    write_both_kinds(&store, writers).await;
    let (answers, events, _) = store.written();
    assert_eq!((answers, events), (100, 100));
    assert_eq!(store.most_in_flight(), 1);
    assert!(!store.kinds_together());
}
