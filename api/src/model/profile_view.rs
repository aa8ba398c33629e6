//! The whole profile as `GET /v1/users/{id}` returns it: the user, their answers and
//! enrichment, and where each value came from.

use serde::Serialize;
use utoipa::ToSchema;

use super::user::{AnswerRecord, EnrichmentRecord, User};
use super::value_sources::ValueSource;

/// `GET /v1/users/{id}`: the profile with where each value came from: answers (in
/// `user_metadata`) with their question set and version, enrichment (in
/// `app_metadata.enrichment`) with its provider and time, and every value's source
/// (`sources`, including values set over the API). Enrichment never writes
/// `user_metadata`, so an answer always wins over enrichment for the same fact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub user: User,
    pub answers: Vec<AnswerRecord>,
    pub enrichment: Vec<EnrichmentRecord>,
    /// Every value of `user_metadata` and `app_metadata` with where it came from: an
    /// answer, an enrichment provider, the identity provider, or the API.
    pub sources: Vec<ValueSource>,
}
