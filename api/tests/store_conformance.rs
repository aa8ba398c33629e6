//! One storage contract, run on SQLite and on a real PostgreSQL: every story in
//! `stories/` is instantiated for both backends by `conformance!`. Each test gets a fresh
//! database (a temp SQLite file, or a new PostgreSQL database).

mod common;

/// Generates `sqlite::<story>` and `postgres::<story>` tests for each story function
/// (`async fn story(store: Arc<dyn Store>)`) of the module it is invoked in.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db: crate::common::TestStore = crate::common::sqlite_store().await;
                    super::$test(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db: crate::common::TestStore = crate::common::postgres_store().await;
                    super::$test(db.store.clone()).await;
                }
            )*
        }
    };
}

/// Like `conformance!`, for stories that need the database itself (`&TestStore`: its
/// URL, to open other stores on it or read columns with plain SQL).
macro_rules! conformance_on_database {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(&crate::common::sqlite_store().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(&crate::common::postgres_store().await).await;
                }
            )*
        }
    };
}

mod stories;
