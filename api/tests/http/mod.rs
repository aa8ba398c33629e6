/// Generates `sqlite::<test>` and `postgres::<test>` for each test function
/// (`async fn test(backend: Backend)`) of the module it is invoked in: every HTTP test
/// runs on both databases. A function left out of the list is dead code, which the
/// lints refuse.
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

mod auth;
mod console;
mod demo_seed;
mod enrichment;
mod enrichment_chains;
mod enrichment_examples;
mod enrichment_quotas;
mod logins;
mod openapi;
mod ops;
pub mod overview;
mod question_sets;
mod rate_limits;
mod results;
mod results_by_version;
mod segments;
mod site;
mod user_history;
mod user_ids;
mod users;
mod webhooks;
mod webhooks_redelivery;
mod widget;

/// A set used across the HTTP tests: two stages, a choice and a text question.
pub const SET: &str = r#"
slug: profile
title: Profile
default_locale: en
settings: { max_prompts_per_login: 3 }
stages:
  - at_login: 1
    questions:
      - key: role
        type: single_choice
        title: { en: "Your role?", de: "Ihre Rolle?" }
        options: [dev, pm, student]
      - { key: nickname, type: text, title: "Nickname?", max_length: 20 }
  - at_login: 2
    questions:
      - { key: address.city, type: text, title: "City?" }
"#;
