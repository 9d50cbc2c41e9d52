//! The JSON API under `/api/v1`: one module per resource, each holding its
//! request and response types and its handlers.

pub mod assessments;
pub mod certificates;
pub mod indicators;
pub mod mhpss;
pub mod migrants;
pub mod observations;
pub mod referrals;
pub mod sites;
pub mod vocabulary;

use crate::error::ApiError;
use uuid::Uuid;

/// Parses a path identifier; a malformed one is as unknown as a missing one.
pub fn path_id(raw: &str, entity: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(entity))
}
