//! Question-set versions: every `PUT` stores a new draft; `publish` makes one live.
//! Published versions are never modified.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::questions::{
    Problem, PublishedSet, Question, QuestionSet, QuestionType, parse_question_set, sort_published,
};
use crate::service::Trickle;
use crate::sites::Site;
use crate::store::{PublishOutcome, StoreError, rows::SummaryRow};

/// One stored version of a question set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetVersion {
    pub slug: String,
    pub version: i64,
    pub published: bool,
    /// The parsed set, as canonical JSON.
    #[schema(value_type = Object)]
    pub definition: Value,
    /// The YAML or JSON as submitted.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl QuestionSetVersion {
    /// The parsed set, for the engine.
    pub fn into_published(self) -> Result<PublishedSet> {
        let set: QuestionSet = serde_json::from_value(self.definition).map_err(|e| {
            StoreError::Corrupt(format!("question set {} v{}: {e}", self.slug, self.version))
        })?;
        Ok(PublishedSet {
            set,
            version: self.version,
        })
    }
}

/// The live sets of a site in asking order (sorted once, when cached).
#[derive(Debug, Default)]
pub struct PublishedSets(Vec<PublishedSet>);

impl PublishedSets {
    /// Sorts the sets for the engine.
    pub fn new(mut sets: Vec<PublishedSet>) -> Self {
        sort_published(&mut sets);
        PublishedSets(sets)
    }

    /// The sets in asking order.
    pub fn as_slice(&self) -> &[PublishedSet] {
        &self.0
    }

    /// A live set by slug and version.
    pub fn find(&self, slug: &str, version: i64) -> Option<&PublishedSet> {
        self.0
            .iter()
            .find(|s| s.set.slug == slug && s.version == version)
    }
}

/// A question of a set by key.
pub fn find_question<'a>(set: &'a QuestionSet, key: &str) -> Option<&'a Question> {
    set.stages
        .iter()
        .flat_map(|s| &s.questions)
        .find(|q| q.key == key)
}

/// Every question of a set with its stage's `at_login`, in asking order.
pub fn questions_by_stage(set: &QuestionSet) -> impl Iterator<Item = (u32, &Question)> {
    set.stages
        .iter()
        .flat_map(|s| s.questions.iter().map(move |q| (s.at_login, q)))
}

/// Closed questions have a small set of answers worth counting in stats.
pub fn is_closed(question: &Question) -> bool {
    matches!(
        question.kind,
        QuestionType::SingleChoice(_)
            | QuestionType::MultiChoice(_)
            | QuestionType::Boolean(_)
            | QuestionType::Scale(_)
            | QuestionType::Country
    )
}

/// A question set in the list: its latest and live versions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetSummary {
    pub slug: String,
    pub title: String,
    pub priority: i64,
    pub latest_version: i64,
    pub live_version: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl QuestionSetSummary {
    pub(crate) fn from_row(row: SummaryRow) -> Self {
        let definition = row.definition.0;
        QuestionSetSummary {
            title: definition["title"].as_str().unwrap_or_default().to_owned(),
            priority: definition["priority"].as_i64().unwrap_or(0),
            slug: row.slug,
            latest_version: row.latest_version,
            live_version: row.live_version,
            updated_at: row.updated_at,
        }
    }
}

/// A set with all its versions (`GET /v1/question-sets/{slug}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionSetHistory {
    pub slug: String,
    pub live_version: Option<i64>,
    pub versions: Vec<QuestionSetVersion>,
}

/// Parses a question-set document and checks it is the one the URL names.
pub fn parse_for_slug(slug: &str, source: &str, file_name: &str) -> Result<QuestionSet> {
    let set = parse_question_set(source, file_name).map_err(Error::QuestionSetInvalid)?;
    if set.slug != slug {
        return Err(Error::QuestionSetInvalid(vec![Problem {
            file: file_name.to_owned(),
            line: 1,
            column: 1,
            message: format!("slug {:?} does not match {:?} in the URL", set.slug, slug),
        }]));
    }
    Ok(set)
}

impl Trickle {
    /// Stores a new draft version from YAML or JSON; 422 with every problem otherwise.
    /// `file_name` names the source in problem reports.
    pub async fn save_draft(
        &self,
        site: &Site,
        slug: &str,
        source: &str,
        file_name: &str,
    ) -> Result<QuestionSetVersion> {
        let set = parse_for_slug(slug, source, file_name)?;
        let definition = serde_json::to_value(&set).expect("question sets serialise");
        Ok(self
            .store
            .insert_draft(&site.site_id, slug, &definition, source)
            .await?)
    }

    /// Makes a version live (publishing an already published version rolls back to it).
    pub async fn publish(
        &self,
        site: &Site,
        slug: &str,
        version: i64,
    ) -> Result<QuestionSetVersion> {
        match self.store.publish(&site.site_id, slug, version).await? {
            PublishOutcome::NotFound => {
                return Err(Error::NotFound {
                    what: "question set version",
                });
            }
            PublishOutcome::Published | PublishOutcome::AlreadyPublished => {}
        }
        self.invalidate_site(&site.site_id).await;
        metrics::counter!("trickle_question_sets_published_total").increment(1);
        self.store
            .question_set_version(&site.site_id, slug, version)
            .await?
            .ok_or(Error::NotFound {
                what: "question set version",
            })
    }

    /// Every question set of the site.
    pub async fn question_sets(&self, site: &Site) -> Result<Vec<QuestionSetSummary>> {
        Ok(self.store.question_sets(&site.site_id).await?)
    }

    /// One set with all its versions.
    pub async fn question_set(&self, site: &Site, slug: &str) -> Result<QuestionSetHistory> {
        let versions = self
            .store
            .question_set_versions(&site.site_id, slug)
            .await?;
        if versions.is_empty() {
            return Err(Error::NotFound {
                what: "question set",
            });
        }
        let live_version = self
            .store
            .question_sets(&site.site_id)
            .await?
            .into_iter()
            .find(|s| s.slug == slug)
            .and_then(|s| s.live_version);
        Ok(QuestionSetHistory {
            slug: slug.to_owned(),
            live_version,
            versions,
        })
    }
}
