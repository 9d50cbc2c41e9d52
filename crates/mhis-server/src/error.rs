//! The one error shape of the JSON API:
//! `{"error": kind, "field": path-or-null, "message": text}`.
//!
//! Invalid input is 422 and names the field; a missing record is 404; a
//! conflict with stored state is 409. Internal failures are logged with
//! their detail and answered with a bare 500: no database text reaches a
//! client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mhis_domain::{DomainError, FieldError};
use mhis_store::StoreError;
use serde::Serialize;

/// A failed request, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable kind.
    pub kind: &'static str,
    /// The offending field, as a dotted path.
    pub field: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `invalid`, `not_found`, `conflict`, `unsupported_media_type`,
    /// `payload_too_large`, `bad_request` or `internal`.
    pub error: String,
    /// The offending field, when there is one.
    pub field: Option<String>,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl ApiError {
    /// 422 on a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "invalid",
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(entity: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "not_found",
            field: None,
            message: format!("{entity} not found"),
        }
    }

    /// Any other status, with no field.
    pub fn status(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            field: None,
            message: message.into(),
        }
    }

    /// 500, logging the detail.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::invalid(e.field, e.message)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(f) => f.into(),
            DomainError::Conflict { field, message } => Self {
                status: StatusCode::CONFLICT,
                kind: "conflict",
                field: Some(field),
                message,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => Self::not_found(entity),
            StoreError::Conflict { field, message } => Self {
                status: StatusCode::CONFLICT,
                kind: "conflict",
                field: Some(field),
                message,
            },
            StoreError::MissingReference { field, entity } => {
                Self::invalid(field, format!("no such {entity}"))
            }
            StoreError::Database(detail) => Self::internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorBody {
            error: self.kind.to_owned(),
            field: self.field,
            message: self.message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body was never read, so the connection cannot
            // carry another request: tell the client not to reuse it.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
