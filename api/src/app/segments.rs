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
use crate::questions::{Condition, parse_condition_json};
use crate::store::SegmentWrite;

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

fn parse_where(value: &serde_json::Value) -> Result<Condition> {
    parse_condition_json(value).map_err(|m| Error::invalid("invalid_where", "where", m))
}
