//! Saved segments: a condition under a name per site, counted and listed in the
//! database. Every save and delete is written to the audit log.

use super::App;
use super::audit::Actor;
use crate::error::{Error, Result};
use crate::model::segment::{
    MAX_SEGMENT_DESCRIPTION, MAX_SEGMENTS_PER_SITE, SEGMENT_NAME_PATTERN, Segment, SegmentCount,
    SegmentInput, is_segment_name,
};
use crate::model::{Site, UserPage, UserQuery, now};
use crate::questions::{Condition, ProfilePath, QuestionType, parse_condition_json};
use crate::store::SegmentWrite;

/// A profile path a segment's condition may test, as the console's builder offers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The path as conditions write it (`role`, `app_metadata.enrichment.geoip.`).
    pub key: String,
    /// What it holds: a question type (`date`, `multi_choice`, …), `number` for the
    /// login history, `enrichment` for a provider's results (a prefix to complete).
    pub kind: &'static str,
    /// Where it comes from: a question set's slug, a provider's name, or `logins`.
    pub source: String,
    /// The options of a choice question, as stored.
    pub options: Vec<String>,
}

/// A live question set whose `when` conditions read some of a segment's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedSet {
    pub slug: String,
    pub version: i64,
    /// The shared keys, in full (`user_metadata.role`).
    pub keys: Vec<String>,
}

/// Whether a save made a new segment or replaced one.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    Created(Segment),
    Replaced(Segment),
}

/// The segments of a site.
pub struct Segments<'a> {
    pub(crate) app: &'a App,
}

impl Segments<'_> {
    /// Creates or replaces the segment `name`, its condition checked as `where=` is.
    pub async fn save(
        &self,
        by: &Actor,
        site: &Site,
        name: &str,
        input: SegmentInput,
    ) -> Result<Saved> {
        check_name(name)?;
        if input.description.chars().count() > MAX_SEGMENT_DESCRIPTION {
            return Err(Error::invalid(
                "invalid_field",
                "description",
                format!("description is over {MAX_SEGMENT_DESCRIPTION} characters"),
            ));
        }
        parse_where(&input.r#where)?;
        let write = self
            .app
            .store
            .put_segment(&site.site_id, name, &input.description, &input.r#where)
            .await?;
        let saved = match write {
            SegmentWrite::Created(segment) => Saved::Created(segment),
            SegmentWrite::Replaced(segment) => Saved::Replaced(segment),
            SegmentWrite::TooMany => {
                return Err(Error::Conflict {
                    code: "too_many_segments",
                    message: format!("a site keeps at most {MAX_SEGMENTS_PER_SITE} segments"),
                });
            }
        };
        let detail = serde_json::to_string(&input.r#where).expect("JSON serialises");
        self.app
            .audit()
            .record_on(by, "segment.save", site, name, &detail)
            .await?;
        Ok(saved)
    }

    /// The site's segments by name.
    pub async fn list(&self, site: &Site) -> Result<Vec<Segment>> {
        Ok(self.app.store.segments(&site.site_id).await?)
    }

    /// One segment; 404 `segment_not_found` when there is none.
    pub async fn get(&self, site: &Site, name: &str) -> Result<Segment> {
        check_name(name)?;
        self.app
            .store
            .segment(&site.site_id, name)
            .await?
            .ok_or(Error::NotFound { what: "segment" })
    }

    /// How many users the segment holds now.
    pub async fn count(&self, site: &Site, name: &str) -> Result<SegmentCount> {
        let condition = self.condition(site, name).await?;
        let counted_at = now();
        let users = self
            .app
            .store
            .count_users(&site.site_id, Some(&condition), counted_at)
            .await?;
        Ok(SegmentCount {
            name: name.to_owned(),
            users,
            counted_at,
        })
    }

    /// A page of the segment's users, in user-id order.
    pub async fn users(
        &self,
        site: &Site,
        name: &str,
        after: Option<String>,
        limit: u32,
    ) -> Result<UserPage> {
        let condition = self.condition(site, name).await?;
        let query = UserQuery {
            filter: Some(condition),
            after,
            limit,
        };
        self.app.profiles().list(site, &query).await
    }

    /// Deletes a segment; 404 when there is none.
    pub async fn delete(&self, by: &Actor, site: &Site, name: &str) -> Result<()> {
        check_name(name)?;
        if !self.app.store.delete_segment(&site.site_id, name).await? {
            return Err(Error::NotFound { what: "segment" });
        }
        self.app
            .audit()
            .record_on(by, "segment.delete", site, name, "")
            .await
    }

    /// How many users of the site the unsaved condition `where` holds for now: the
    /// count `GET /v1/users?where=` pages through, refused as it refuses it (400
    /// `invalid_where`).
    pub async fn count_where(&self, site: &Site, r#where: &serde_json::Value) -> Result<i64> {
        let condition = parse_where(r#where)?;
        Ok(self
            .app
            .store
            .count_users(&site.site_id, Some(&condition), now())
            .await?)
    }

    /// What a condition can test on this site: the login history, the answer keys of
    /// the live question sets (with their types), and each configured provider's
    /// results (`app_metadata.enrichment.<name>.`).
    pub async fn fields(&self, site: &Site) -> Result<Vec<Field>> {
        let built_in = |key: &str| Field {
            key: key.to_owned(),
            kind: "number",
            source: "logins".into(),
            options: Vec::new(),
        };
        let mut fields: Vec<Field> = crate::questions::paths::BUILT_IN_PATHS
            .iter()
            .copied()
            .map(built_in)
            .collect();
        let sets = self.app.live_sets(&site.site_id).await?;
        for live in sets.as_slice() {
            for question in live.set.stages.iter().flat_map(|s| &s.questions) {
                if fields.iter().any(|f| f.key == question.key) {
                    continue;
                }
                let options = match &question.kind {
                    QuestionType::SingleChoice(r) => {
                        r.options.iter().map(|o| o.value.clone()).collect()
                    }
                    QuestionType::MultiChoice(r) => {
                        r.options.iter().map(|o| o.value.clone()).collect()
                    }
                    _ => Vec::new(),
                };
                fields.push(Field {
                    key: question.key.clone(),
                    kind: question.kind.name(),
                    source: live.set.slug.clone(),
                    options,
                });
            }
        }
        fields.extend(self.app.providers.iter().map(|p| Field {
            key: format!("app_metadata.enrichment.{}.", p.name()),
            kind: "enrichment",
            source: p.name().to_owned(),
            options: Vec::new(),
        }));
        Ok(fields)
    }

    /// The live question sets whose questions' `when` conditions read a key the
    /// condition `where` reads. Question sets cannot refer to a segment by name; this
    /// is what they share with it.
    pub async fn related_sets(
        &self,
        site: &Site,
        r#where: &serde_json::Value,
    ) -> Result<Vec<RelatedSet>> {
        let Ok(condition) = parse_condition_json(r#where) else {
            return Ok(Vec::new());
        };
        let mut wanted = Vec::new();
        condition.for_each_key(&mut |k| wanted.extend(full_path(k)));
        let sets = self.app.live_sets(&site.site_id).await?;
        let mut related = Vec::new();
        for live in sets.as_slice() {
            let mut keys = Vec::new();
            let whens = live
                .set
                .stages
                .iter()
                .flat_map(|s| &s.questions)
                .filter_map(|q| q.when.as_ref());
            for when in whens {
                when.for_each_key(&mut |k| {
                    if let Some(full) = full_path(k).filter(|f| wanted.contains(f))
                        && !keys.contains(&full)
                    {
                        keys.push(full);
                    }
                });
            }
            if !keys.is_empty() {
                related.push(RelatedSet {
                    slug: live.set.slug.clone(),
                    version: live.version,
                    keys,
                });
            }
        }
        Ok(related)
    }

    async fn condition(&self, site: &Site, name: &str) -> Result<Condition> {
        let segment = self.get(site, name).await?;
        // Stored conditions were checked when saved; a stored one the current parser
        // refuses (a rule tightened since) is reported, not guessed at.
        parse_where(&segment.r#where)
    }
}

fn check_name(name: &str) -> Result<()> {
    if is_segment_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_field",
            "name",
            format!("a segment name matches {SEGMENT_NAME_PATTERN}"),
        ))
    }
}

fn full_path(key: &str) -> Option<String> {
    ProfilePath::parse(key).map(ProfilePath::full)
}

fn parse_where(value: &serde_json::Value) -> Result<Condition> {
    parse_condition_json(value).map_err(|m| Error::invalid("invalid_where", "where", m))
}

/// A users filter as its JSON text (the `where` of `GET /v1/users` and of a question
/// set's results), refused as `invalid_where` when it is not JSON or not a condition.
pub fn parse_where_text(text: &str) -> Result<Condition> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid("invalid_where", "where", format!("where is not JSON: {e}")))?;
    parse_where(&json)
}
