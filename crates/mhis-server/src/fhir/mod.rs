//! The HL7 FHIR R4 (4.0.1) API under `/fhir/R4`.
//!
//! Every resource is built and read by `mhis_fhir` on the typed models of
//! the `fhir` crate; this module only routes, checks access, calls the store
//! and renders. Responses are `application/fhir+json`; request bodies are
//! accepted as `application/fhir+json` or `application/json`.
//!
//! | resource | interactions |
//! |---|---|
//! | `CapabilityStatement` | `GET /metadata` (no login) |
//! | `Patient` (migrant) | read, vread, search (`_id`, `identifier`, `name`, `birthdate`, `_include=Patient:organization`), create, update (version-aware), `$everything` |
//! | `Encounter` (assessment) | read, vread, search (`_id`, `patient`/`subject`, `date`, `_include=Encounter:patient`) |
//! | `Observation` | read, vread, search (`patient`/`subject` or `encounter`, `code`, `date`, `_include=Observation:patient`/`:encounter`), create on an assessment (`encounter` → `Encounter/<assessment id>`) |
//! | `DiagnosticReport` (chest X-ray) | search (`patient`/`subject`) |
//! | `Condition` (protocol classes) | search (`patient`/`subject`) |
//! | `Organization`, `Location` (sites) | read, search (`_id`, `identifier`) |
//! | `Immunization` (vaccination) | read, vread (current version), search (`_id`, `patient`/`subject`, `date`), create, update (version-aware); coded by CVX from `vaccines/vaccines.toml` |
//! | `ServiceRequest`, `Task` (referral) | read, search (`_id`, `patient`/`subject`); both have the referral's id |
//! | transaction `Bundle` | `POST /` : imports Patients (matched by travel document, else created), Encounters and Observations, all or nothing: checked first, then written in one store transaction |
//!
//! Every search takes `_count` (1–200, default 50) and `_page` (from 1);
//! the Bundle's `next` link names the following page. Unknown search
//! parameters are refused (400), so that a filter is never silently
//! ignored.
//!
//! **Access control and audit** are the JSON API's: the same
//! [`CurrentUser`] extractor and permissions (`MigrantRead` for Patient,
//! `AssessmentRead` for Encounter/Observation/DiagnosticReport/Condition/
//! Immunization, `ReferralRead` for ServiceRequest/Task, `SiteRead` for
//! Organization/Location, `MigrantWrite` and the recording permission of
//! each code for writes, `RecordClinical` for vaccinations); a record
//! outside the user's sites answers 404; every read of personal data is
//! audited with [`CurrentUser::audit_read`]. Every refusal is an
//! `OperationOutcome`.
//!
//! **History:** mhis keeps only the current version of a migrant (the
//! version number counts updates), so `vread` answers the current version
//! and 404 for an earlier one. Observations are never changed (a correction
//! is a new Observation), so their only version is `1`; assessments are
//! not versioned either, so an Encounter's only version is `1`, the current
//! one.
//!
//! Vaccinations count their updates like migrants, with the same `vread`
//! rule. Referrals are not versioned: their `meta` has `lastUpdated` only.
//!
//! **Not done:** `_history`, `_revinclude`, reading a `DiagnosticReport` or
//! `Condition` by id, searching Patients by their registration number (the
//! store has no query for it), writing referrals through FHIR (they are
//! written through `/api/v1` and travel between deployments as messages),
//! and Immunizations in transaction Bundles.

mod bulk;
mod immunizations;
mod params;
mod referrals;
mod resources;

pub use bulk::{
    ExportError, ExportFilter, ExportSummary, bench_load_patients, export_ndjson,
    synthetic_transaction, write_api_samples,
};
pub use resources::capability_statement;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mhis_fhir::FhirError;
use mhis_fhir::bundle::{IntoResource, to_json};
use mhis_fhir::model::codes::{IssueSeverity, IssueType};
use mhis_fhir::model::resources::{OperationOutcome, Resource};
use mhis_fhir::outcome;
use serde_json::Value as Json;

/// The media type of every FHIR response.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The FHIR routes, to be nested under `/fhir/R4`.
pub fn router() -> Router<AppState> {
    use resources as r;
    Router::new()
        .route("/", axum::routing::post(bulk::transaction))
        .route("/metadata", get(r::metadata))
        .route("/Patient", get(r::patient_search).post(r::patient_create))
        .route("/Patient/{id}", get(r::patient_read).put(r::patient_update))
        .route("/Patient/{id}/_history/{vid}", get(r::patient_vread))
        .route("/Patient/{id}/$everything", get(bulk::everything))
        .route("/Encounter", get(r::encounter_search))
        .route("/Encounter/{id}", get(r::encounter_read))
        .route("/Encounter/{id}/_history/{vid}", get(r::encounter_vread))
        .route(
            "/Observation",
            get(r::observation_search).post(r::observation_create),
        )
        .route("/Observation/{id}", get(r::observation_read))
        .route(
            "/Observation/{id}/_history/{vid}",
            get(r::observation_vread),
        )
        .route("/DiagnosticReport", get(r::report_search))
        .route("/Condition", get(r::condition_search))
        .route("/Organization", get(r::organization_search))
        .route("/Organization/{id}", get(r::organization_read))
        .route("/Location", get(r::location_search))
        .route("/Location/{id}", get(r::location_read))
        .route(
            "/Immunization",
            get(immunizations::search).post(immunizations::create),
        )
        .route(
            "/Immunization/{id}",
            get(immunizations::read).put(immunizations::update),
        )
        .route(
            "/Immunization/{id}/_history/{vid}",
            get(immunizations::vread),
        )
        .route("/ServiceRequest", get(referrals::service_request_search))
        .route("/ServiceRequest/{id}", get(referrals::service_request_read))
        .route("/Task", get(referrals::task_search))
        .route("/Task/{id}", get(referrals::task_read))
        .fallback(|| async {
            Failure::new(
                StatusCode::NOT_FOUND,
                IssueType::NotSupported,
                "no such FHIR interaction on this server; see /fhir/R4/metadata",
            )
        })
}

/// A FHIR answer: a status, a resource and the headers FHIR asks for.
#[derive(Debug)]
pub struct Fhir {
    status: StatusCode,
    body: Json,
    headers: Vec<(header::HeaderName, String)>,
}

impl Fhir {
    /// 200 with `resource`.
    pub fn ok(resource: impl IntoResource) -> Self {
        Self::with_status(StatusCode::OK, resource)
    }

    /// `status` with `resource`.
    pub fn with_status(status: StatusCode, resource: impl IntoResource) -> Self {
        Self {
            status,
            body: to_json(&resource.into_resource()),
            headers: Vec::new(),
        }
    }

    /// Adds `ETag: W/"<version>"`.
    pub fn etag(mut self, version: impl std::fmt::Display) -> Self {
        self.headers
            .push((header::ETAG, format!("W/\"{version}\"")));
        self
    }

    /// Adds a `Location` header.
    pub fn location(mut self, url: String) -> Self {
        self.headers.push((header::LOCATION, url));
        self
    }
}

impl IntoResponse for Fhir {
    fn into_response(self) -> Response {
        let bytes = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        response
    }
}

/// A refused FHIR request: an HTTP status and the `OperationOutcome` saying
/// why.
#[derive(Debug)]
pub struct Failure {
    /// HTTP status.
    pub status: StatusCode,
    /// Why.
    pub outcome: Box<OperationOutcome>,
}

impl Failure {
    /// One issue without an element.
    pub fn new(status: StatusCode, code: IssueType, diagnostics: &str) -> Self {
        Self {
            status,
            outcome: Box::new(outcome::error(code, diagnostics)),
        }
    }

    /// One issue about the element `expression`.
    pub fn at(status: StatusCode, code: IssueType, expression: &str, diagnostics: &str) -> Self {
        Self {
            status,
            outcome: Box::new(outcome::outcome(
                outcome::issue(IssueSeverity::Error, code, Some(expression), diagnostics),
                [],
            )),
        }
    }

    /// 400: a search parameter mhis cannot use.
    pub fn param(name: &str, diagnostics: &str) -> Self {
        Self::at(
            StatusCode::BAD_REQUEST,
            IssueType::NotSupported,
            name,
            diagnostics,
        )
    }

    /// 404 for a resource type.
    pub fn not_found(resource_type: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            IssueType::NotFound,
            &format!("{resource_type} not found"),
        )
    }
}

impl From<FhirError> for Failure {
    /// Unreadable content is 400; content mhis cannot accept is 422.
    fn from(e: FhirError) -> Self {
        let structural = e
            .issues()
            .iter()
            .any(|i| i.kind == mhis_fhir::IssueKind::Structure);
        Self {
            status: if structural {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            outcome: Box::new(outcome::from_error(&e)),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        let code = match e.status {
            StatusCode::UNAUTHORIZED => IssueType::Login,
            StatusCode::FORBIDDEN => IssueType::Forbidden,
            StatusCode::NOT_FOUND => IssueType::NotFound,
            StatusCode::CONFLICT => IssueType::Conflict,
            StatusCode::UNPROCESSABLE_ENTITY => IssueType::Invalid,
            StatusCode::PAYLOAD_TOO_LARGE => IssueType::TooLong,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => IssueType::NotSupported,
            s if s.is_server_error() => IssueType::Exception,
            _ => IssueType::Structure,
        };
        Self {
            status: e.status,
            outcome: Box::new(outcome::outcome(
                outcome::issue(IssueSeverity::Error, code, e.field.as_deref(), &e.message),
                [],
            )),
        }
    }
}

impl From<mhis_store::StoreError> for Failure {
    fn from(e: mhis_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<mhis_domain::FieldError> for Failure {
    fn from(e: mhis_domain::FieldError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            outcome: Box::new(outcome::from_field_error(&e)),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = Fhir {
            status: self.status,
            body: to_json(&Resource::OperationOutcome(self.outcome)),
            headers: Vec::new(),
        }
        .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result of a FHIR handler.
pub type FhirResult<T = Fhir> = Result<T, Failure>;

/// The authenticated user, refused with an `OperationOutcome`.
pub struct FhirUser(pub CurrentUser);

impl FromRequestParts<AppState> for FhirUser {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        CurrentUser::from_request_parts(parts, state)
            .await
            .map(FhirUser)
            .map_err(Failure::from)
    }
}

/// The server's FHIR base URL as the client addressed it
/// (`http://host/fhir/R4`), and the request's path and query below it.
pub struct Base {
    /// `http://host/fhir/R4`.
    pub url: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The path below the base (`/Patient`).
    pub path: String,
}

impl Base {
    fn from_headers(headers: &HeaderMap, path: &str, query: Option<&str>) -> Self {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|s| *s == "https")
            .unwrap_or("http");
        Self {
            url: format!("{scheme}://{host}/fhir/R4"),
            query: query.map(str::to_owned),
            path: path.to_owned(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Failure> {
        // Nested routers see the path below the nest point.
        Ok(Self::from_headers(
            &parts.headers,
            parts.uri.path(),
            parts.uri.query(),
        ))
    }
}

/// A JSON request body (`application/fhir+json` or `application/json`).
pub struct FhirBody(pub Json);

impl<S: Send + Sync> FromRequest<S> for FhirBody {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .is_some_and(|m| m == "application/json" || m == "application/fhir+json");
        if !is_json {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                IssueType::NotSupported,
                "send the resource as application/fhir+json (or application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                IssueType::TooLong,
                "the request body is too large",
            ),
            other => Failure::new(
                StatusCode::BAD_REQUEST,
                IssueType::Structure,
                &other.body_text(),
            ),
        })?;
        serde_json::from_slice(&bytes).map(FhirBody).map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                IssueType::Structure,
                &format!("the body is not JSON: {e}"),
            )
        })
    }
}

/// The version a client names in `If-Match: W/"3"`, if any.
pub fn if_match(headers: &HeaderMap) -> FhirResult<Option<i64>> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or("");
    let inner = text
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .trim();
    inner.parse().map(Some).map_err(|_| {
        Failure::at(
            StatusCode::BAD_REQUEST,
            IssueType::Value,
            "If-Match",
            &format!("'{text}' is not a version (W/\"3\")"),
        )
    })
}

/// The id at the end of a reference (`Patient/<id>`, a full URL, or a bare
/// id) when it is of `resource_type` or untyped.
pub fn reference_id(reference: &str, resource_type: &str) -> Option<uuid::Uuid> {
    let trimmed = reference.trim().trim_end_matches('/');
    let mut parts = trimmed.rsplit('/');
    let id = parts.next()?;
    match parts.next() {
        Some(t) if t != resource_type => None,
        _ => id.parse().ok(),
    }
}
