//! Certificates: issue one for a finalised assessment, read it, and get its
//! QR code as an image.

use crate::api::assessments::visible_assessment;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use mhis_domain::access::Permission;
use mhis_store::StoredCertificate;
use serde::Serialize;

/// A certificate as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    /// The certificate id.
    pub id: String,
    /// The assessment it certifies.
    #[schema(value_type = String)]
    pub assessment_id: mhis_domain::ids::AssessmentId,
    /// The QR text (`MHC1:…`), verifiable offline.
    pub qr_text: String,
    /// The signed claims.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The signing key's id (hex).
    pub kid: String,
    /// When it was issued.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// Last day of validity.
    pub valid_until: chrono::NaiveDate,
    /// When it was revoked, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<StoredCertificate> for CertificateView {
    fn from(c: StoredCertificate) -> Self {
        Self {
            payload: serde_json::from_str(&c.payload).unwrap_or_default(),
            id: c.id,
            assessment_id: c.assessment_id,
            qr_text: c.qr_text,
            kid: c.kid,
            issued_at: c.issued_at,
            valid_until: c.valid_until,
            revoked_at: c.revoked_at,
        }
    }
}

/// Issues a certificate for a finalised assessment whose outcome is
/// `cleared` or `cleared_with_follow_up`.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/certificates", tag = "certificates",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 201, body = CertificateView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<CertificateView>)> {
    user.require(Permission::Finalise)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let certificate = crate::certificates::issue(&state, &user, &assessment).await?;
    Ok((StatusCode::CREATED, Json(certificate.into())))
}

/// The certificate with this id, if its site is in the user's scope.
pub async fn visible_certificate(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<StoredCertificate> {
    user.require(Permission::AssessmentRead)?;
    let certificate = state.store.get_certificate(id).await?;
    user.require_site(certificate.site_id, "certificate")?;
    user.audit_read(
        state,
        "certificate.read",
        "certificate",
        Some(certificate.id.clone()),
    )
    .await?;
    Ok(certificate)
}

/// One certificate.
#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "certificates",
    params(("id" = String, Path, description = "Certificate id")),
    responses((status = 200, body = CertificateView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CertificateView>> {
    Ok(Json(visible_certificate(&state, &user, &id).await?.into()))
}

/// The certificate's QR code as a PNG image.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/qr.png", tag = "certificates",
    params(("id" = String, Path, description = "Certificate id")),
    responses((status = 200, content_type = "image/png", description = "QR code"),
              (status = 404, body = ErrorBody)))]
pub async fn qr_png(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let certificate = visible_certificate(&state, &user, &id).await?;
    let png = mhis_cert::qr_png(&certificate.qr_text, 6).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

/// The certificate's QR code as an SVG image.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/qr.svg", tag = "certificates",
    params(("id" = String, Path, description = "Certificate id")),
    responses((status = 200, content_type = "image/svg+xml", description = "QR code"),
              (status = 404, body = ErrorBody)))]
pub async fn qr_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let certificate = visible_certificate(&state, &user, &id).await?;
    let svg = mhis_cert::svg::qr_svg(&certificate.qr_text).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}

/// The fonts of printed certificates (DejaVu Sans, which covers Latin and
/// Cyrillic), read once.
static FONTS: std::sync::LazyLock<Result<mhis_cert::pdf::CertificateFonts, String>> =
    std::sync::LazyLock::new(|| {
        mhis_cert::pdf::CertificateFonts::dejavu().map_err(|e| e.to_string())
    });

/// The certificate as a one-page PDF: the QR code and the claims in
/// English and the migrant's preferred language.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/certificate.pdf", tag = "certificates",
    params(("id" = String, Path, description = "Certificate id")),
    responses((status = 200, content_type = "application/pdf", description = "Printable certificate"),
              (status = 404, body = ErrorBody)))]
pub async fn pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let certificate = visible_certificate(&state, &user, &id).await?;
    let bytes = render_pdf(&state, &certificate).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.pdf\"", certificate.id),
            ),
        ],
        bytes,
    ))
}

/// Renders a certificate as its one-page PDF, in English and the
/// migrant's preferred language.
pub async fn render_pdf(state: &AppState, certificate: &StoredCertificate) -> ApiResult<Vec<u8>> {
    let payload: mhis_cert::HealthClearance =
        serde_json::from_str(&certificate.payload).map_err(ApiError::internal)?;
    let assessment = state
        .store
        .get_assessment(certificate.assessment_id)
        .await?;
    let language = state
        .store
        .get_migrant(assessment.migrant_id)
        .await?
        .details
        .preferred_language
        .map(|l| l.as_str().to_owned())
        .unwrap_or_else(|| "en".into());
    let fonts = FONTS.as_ref().map_err(ApiError::internal)?;
    mhis_cert::pdf::certificate_pdf_with_fonts(&payload, &certificate.qr_text, &language, fonts)
        .map_err(ApiError::internal)
}

/// The certificates of an assessment, newest first.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/certificates", tag = "certificates",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = Vec<CertificateView>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CertificateView>>> {
    user.require(Permission::AssessmentRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let found = state.store.certificates_of(assessment.id).await?;
    user.audit_read(
        &state,
        "certificate.list",
        "assessment",
        Some(assessment.id.to_string()),
    )
    .await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}
