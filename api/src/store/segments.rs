//! Saved segments: named conditions over a site's users (implemented once in
//! `sql/segments.rs`).

use async_trait::async_trait;
use serde_json::Value;

use super::StoreError;
use crate::model::segment::Segment;

/// What storing a segment did.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentWrite {
    /// A new segment.
    Created(Segment),
    /// The segment of that name, replaced (its `created_at` kept).
    Replaced(Segment),
    /// Not stored: the site already keeps the most segments it may.
    TooMany,
}

/// Saved segments, by name within a site.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// Creates or replaces a segment (the condition as validated JSON).
    async fn put_segment(
        &self,
        site_id: &str,
        name: &str,
        description: &str,
        condition: &Value,
    ) -> Result<SegmentWrite, StoreError>;
    /// The site's segments by name.
    async fn segments(&self, site_id: &str) -> Result<Vec<Segment>, StoreError>;
    /// One segment.
    async fn segment(&self, site_id: &str, name: &str) -> Result<Option<Segment>, StoreError>;
    /// Deletes a segment; whether there was one.
    async fn delete_segment(&self, site_id: &str, name: &str) -> Result<bool, StoreError>;
}
