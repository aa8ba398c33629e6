//! Question-set versions: every `PUT` stores a new draft; `publish` makes one live.
//! Published versions are never modified. Every draft and publish is written to the
//! audit log with who made it (an admin, the API's secret key, the command line).

use super::App;
use super::audit::Actor;
use crate::error::{Error, Result};
use crate::model::{
    PublishOutcome, QuestionSetHistory, QuestionSetSummary, QuestionSetVersion, Site,
};
use crate::questions::{Problem, QuestionSet, parse_question_set};

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

/// Runs `work` on tokio's blocking pool. Parsing a question set is bounded
/// (source size, nodes, expanded bytes, regex size) but still CPU work of up
/// to milliseconds, which must not hold up a worker serving other requests.
/// A panic in `work` is re-raised here, as if it had run inline.
async fn off_the_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("blocking work did not finish: {e}"),
    }
}

/// Question-set drafts, publishing and history.
pub struct Publishing<'a> {
    pub(crate) app: &'a App,
}

impl Publishing<'_> {
    /// Parses and validates a set as [`Publishing::save_draft`] would, storing nothing:
    /// the set, or every problem (`QuestionSetInvalid`). `slug: None` takes the
    /// document's own.
    pub async fn lint(
        &self,
        slug: Option<&str>,
        source: &str,
        file_name: &str,
    ) -> Result<QuestionSet> {
        let (slug, source, name) = (
            slug.map(str::to_owned),
            source.to_owned(),
            file_name.to_owned(),
        );
        off_the_runtime(move || match slug {
            Some(slug) => parse_for_slug(&slug, &source, &name),
            None => parse_question_set(&source, &name).map_err(Error::QuestionSetInvalid),
        })
        .await
    }

    /// Stores a new draft version from YAML or JSON; 422 with every problem otherwise.
    /// `file_name` names the source in problem reports.
    pub async fn save_draft(
        &self,
        by: &Actor,
        site: &Site,
        slug: &str,
        source: &str,
        file_name: &str,
    ) -> Result<QuestionSetVersion> {
        let (slug_owned, source_owned, name) =
            (slug.to_owned(), source.to_owned(), file_name.to_owned());
        let set =
            off_the_runtime(move || parse_for_slug(&slug_owned, &source_owned, &name)).await?;
        let definition = serde_json::to_value(&set).expect("question sets serialise");
        let saved = self
            .app
            .store
            .insert_draft(&site.site_id, slug, &definition, source)
            .await?;
        let detail = format!("v{} ({} bytes)", saved.version, source.len());
        self.app
            .audit()
            .record_on(by, "question_set.save_draft", site, slug, &detail)
            .await?;
        Ok(saved)
    }

    /// Makes a version live. Publishing a version older than the live one rolls back
    /// to it, and is recorded as such; publishing the live version again changes
    /// nothing and is not recorded.
    pub async fn publish(
        &self,
        by: &Actor,
        site: &Site,
        slug: &str,
        version: i64,
    ) -> Result<QuestionSetVersion> {
        let live = self.live_version(site, slug).await?;
        match self.app.store.publish(&site.site_id, slug, version).await? {
            PublishOutcome::NotFound => {
                return Err(Error::NotFound {
                    what: "question set version",
                });
            }
            PublishOutcome::Published | PublishOutcome::AlreadyPublished => {}
        }
        self.app.invalidate_site(&site.site_id).await;
        metrics::counter!("trickle_question_sets_published_total").increment(1);
        let (action, detail) = match live {
            Some(live) if version < live => (
                "question_set.roll_back",
                format!("v{version} (was v{live})"),
            ),
            _ => ("question_set.publish", format!("v{version}")),
        };
        if live != Some(version) {
            self.app
                .audit()
                .record_on(by, action, site, slug, &detail)
                .await?;
        }
        self.app
            .store
            .question_set_version(&site.site_id, slug, version)
            .await?
            .ok_or(Error::NotFound {
                what: "question set version",
            })
    }

    /// Every question set of the site.
    pub async fn list(&self, site: &Site) -> Result<Vec<QuestionSetSummary>> {
        Ok(self.app.store.question_sets(&site.site_id).await?)
    }

    /// One set with all its versions.
    pub async fn history(&self, site: &Site, slug: &str) -> Result<QuestionSetHistory> {
        let versions = self
            .app
            .store
            .question_set_versions(&site.site_id, slug)
            .await?;
        if versions.is_empty() {
            return Err(Error::NotFound {
                what: "question set",
            });
        }
        Ok(QuestionSetHistory {
            slug: slug.to_owned(),
            live_version: self.live_version(site, slug).await?,
            versions,
        })
    }

    async fn live_version(&self, site: &Site, slug: &str) -> Result<Option<i64>> {
        Ok(self
            .app
            .store
            .question_sets(&site.site_id)
            .await?
            .into_iter()
            .find(|s| s.slug == slug)
            .and_then(|s| s.live_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn parsing_runs_off_the_runtime_thread() {
        let here = std::thread::current().id();
        let there = off_the_runtime(|| std::thread::current().id()).await;
        assert_ne!(here, there, "a slow parse must not stall this worker");
    }

    #[tokio::test(flavor = "current_thread")]
    #[should_panic(expected = "parser bug")]
    async fn a_panic_in_the_parse_is_not_swallowed() {
        off_the_runtime(|| panic!("parser bug")).await
    }
}
