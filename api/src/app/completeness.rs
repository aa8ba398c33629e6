//! Profile completeness by login number (`GET /v1/stats/completeness`, the console's
//! completeness page): for each question key of the live sets, and each enrichment
//! provider that found something, the share of users who had reached login k and held
//! a value by the end of login k.

use serde::Serialize;
use std::collections::BTreeSet;
use utoipa::ToSchema;

use super::Stats;
use crate::error::Result;
use crate::model::Site;
use crate::model::insights::HeldCount;
use crate::model::question_set::questions_by_stage;

/// Login numbers reported at most.
pub const MAX_LOGINS: u32 = 10;
/// Login numbers reported beyond the live sets' last stage.
const LOGINS_AFTER_LAST_STAGE: u32 = 2;

/// Where the values of a row come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    /// A question of a live set: the user's current answer in `user_metadata`.
    Answer,
    /// An enrichment provider's result in `app_metadata.enrichment.<provider>`.
    Enrichment,
}

/// One key's completeness per login number.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CompletenessRow {
    /// The question's `user_metadata` key, or `enrichment.<provider>`.
    pub key: String,
    pub source: ValueSource,
    /// Per login number k (from 1): users who reached login k and held a value by its end.
    pub held: Vec<i64>,
    /// Per login number k (from 1): `held / reached`; null where no user reached login k.
    pub share: Vec<Option<f64>>,
}

/// `GET /v1/stats/completeness`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Completeness {
    /// The login numbers reported: 1 to this (the live sets' last stage plus 2, at most 10).
    pub logins: u32,
    /// Per login number k (from 1): users whose login count has reached k (the denominator).
    pub reached: Vec<i64>,
    pub rows: Vec<CompletenessRow>,
}

impl Stats<'_> {
    /// The site's profile completeness, counted in the database. An answer is held
    /// from the login at which the current answer was given (a changed answer counts
    /// from the login it was changed at); an enrichment result from the user's login
    /// count less the logins that occurred after its `fetched_at`.
    pub async fn completeness(&self, site: &Site) -> Result<Completeness> {
        let sets = self.app.live_sets(&site.site_id).await?;
        let mut keys: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut last_stage = 1;
        for published in sets.as_slice() {
            for (stage, question) in questions_by_stage(&published.set) {
                last_stage = last_stage.max(stage);
                if seen.insert(question.key.clone()) {
                    keys.push(question.key.clone());
                }
            }
        }
        let logins = (last_stage.saturating_add(LOGINS_AFTER_LAST_STAGE)).min(MAX_LOGINS);
        let cap = i64::from(logins);
        let histogram = self.app.store.login_count_histogram(&site.site_id).await?;
        let reached: Vec<i64> = (1..=cap)
            .map(|k| {
                histogram
                    .iter()
                    .filter(|(count, _)| *count >= k)
                    .map(|(_, users)| users)
                    .sum()
            })
            .collect();
        let answers = self.app.store.answers_held(&site.site_id, cap).await?;
        let mut rows: Vec<CompletenessRow> = keys
            .into_iter()
            .map(|key| {
                let counts: Vec<&HeldCount> = answers.iter().filter(|h| h.key == key).collect();
                row(key, ValueSource::Answer, &counts, &reached)
            })
            .collect();
        for provider in self.app.providers.iter() {
            let counts = self
                .app
                .store
                .enrichment_held(&site.site_id, provider.name(), cap)
                .await?;
            if counts.iter().any(|h| h.users > 0) {
                let counts: Vec<&HeldCount> = counts.iter().collect();
                let key = format!("enrichment.{}", provider.name());
                rows.push(row(key, ValueSource::Enrichment, &counts, &reached));
            }
        }
        Ok(Completeness {
            logins,
            reached,
            rows,
        })
    }
}

/// Users holding the value at login k are those who hold it from a login ≤ k and have
/// reached login k.
fn row(
    key: String,
    source: ValueSource,
    counts: &[&HeldCount],
    reached: &[i64],
) -> CompletenessRow {
    let held: Vec<i64> = (1..=reached.len() as i64)
        .map(|k| {
            counts
                .iter()
                .filter(|h| h.held_from <= k && h.reached >= k)
                .map(|h| h.users)
                .sum()
        })
        .collect();
    let share = held
        .iter()
        .zip(reached)
        .map(|(&held, &reached)| (reached > 0).then(|| held as f64 / reached as f64))
        .collect();
    CompletenessRow {
        key,
        source,
        held,
        share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(held_from: i64, reached: i64, users: i64) -> HeldCount {
        HeldCount {
            key: "role".into(),
            held_from,
            reached,
            users,
        }
    }

    #[test]
    fn a_value_counts_from_its_login_among_users_who_reached_each_login() {
        // 4 users reached login 1, 2 reached login 2, 1 reached login 3.
        let reached = [4, 2, 1];
        let counts = [count(1, 1, 1), count(1, 3, 1), count(2, 2, 1)];
        let counts: Vec<&HeldCount> = counts.iter().collect();
        let row = row("role".into(), ValueSource::Answer, &counts, &reached);
        assert_eq!(row.held, vec![2, 2, 1]);
        assert_eq!(row.share, vec![Some(0.5), Some(1.0), Some(1.0)]);
        let nobody = super::row("role".into(), ValueSource::Answer, &[], &[0]);
        assert_eq!(nobody.share, vec![None]);
    }
}
