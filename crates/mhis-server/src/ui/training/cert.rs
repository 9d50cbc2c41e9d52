//! Attendance certificates: a participant present on every day of a
//! session receives one, signed with the site's current key as an mhis
//! certificate of type `ta` (training attendance), printed as a PDF with
//! its QR code, and verified offline by the same verifier as health
//! certificates (`/verify`, `mhis verify`).

use super::{TRAINING, lang, module_title, present_days, visible_session};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::forms::value;
use crate::ui::pages::{FormPairs, see_other};
use crate::ui::session::{OrPage, PageError, PageUser};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Months;
use mhis_cert::{Issuer, MhcPayload, PersonName, TrainingAttendance};
use mhis_domain::access::Permission;
use mhis_domain::audit::AuditEvent;
use mhis_domain::training::session::{
    ATTENDANCE_COURSE_ID, CERTIFICATE_VALIDITY_YEARS, certificate_eligible,
};
use mhis_domain::transliteration::to_latin;
use mhis_store::{AttendanceCertificate, TrainingSession};

/// The fonts of printed certificates, read once.
static FONTS: std::sync::LazyLock<Result<mhis_cert::pdf::CertificateFonts, String>> =
    std::sync::LazyLock::new(|| {
        mhis_cert::pdf::CertificateFonts::dejavu().map_err(|e| e.to_string())
    });

/// The machine-readable form of a name (ICAO 9303 MRZ style), as the
/// health certificates write it.
fn mrz(text: &str) -> String {
    to_latin(text)
        .to_uppercase()
        .chars()
        .map(|c| if c.is_ascii_uppercase() { c } else { '<' })
        .collect::<String>()
        .split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("<")
}

fn conflict(field: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        kind: "conflict",
        field: Some(field.to_owned()),
        message: message.into(),
    }
}

/// Issues a certificate to every participant of `session` present on
/// every day who has none yet, signed with the site's current key; each
/// is stored with a copy of `audit`. Returns how many were issued. A
/// session not yet ended, or a site without a valid key, is a 409.
pub async fn issue_certificates(
    state: &AppState,
    session: &TrainingSession,
    audit: &AuditEvent,
) -> Result<usize, ApiError> {
    let now = state.now();
    if session.ends_on > now.date_naive() {
        return Err(conflict(
            "ends_on",
            "attendance certificates are issued once the session has ended",
        ));
    }
    let kek = state.key_encryption.as_ref().ok_or_else(|| {
        conflict(
            "key",
            "this deployment has no key encryption key configured; set key_encryption_key_file",
        )
    })?;
    let site = state.store.get_site(session.site_id).await?;
    let key = state
        .store
        .signing_keys(Some(site.id))
        .await?
        .into_iter()
        .find(|k| k.retired_at.is_none() && k.valid_from <= now && now < k.valid_until)
        .ok_or_else(|| {
            conflict(
                "key",
                format!(
                    "site {} has no valid signing key; create one with `mhis keys new --site {}`",
                    site.code.as_str(),
                    site.code.as_str()
                ),
            )
        })?;
    let pkcs8 = kek
        .open(&key.kid, &key.private_key_sealed)
        .map_err(ApiError::internal)?;
    let signing_key = mhis_cert::SigningKey::from_pkcs8_der(&pkcs8).map_err(ApiError::internal)?;
    let issuer = Issuer::new(signing_key, site.country.as_str());
    let participants = state.store.participants(session.id).await?;
    let present = present_days(&state.store.attendance(session.id).await?);
    let issued = state.store.attendance_certificates(session.id).await?;
    let days = session.days().len();
    let valid_until = session
        .ends_on
        .checked_add_months(Months::new(12 * CERTIFICATE_VALIDITY_YEARS))
        .unwrap_or(session.ends_on)
        // Never beyond the signing key's own validity.
        .min(key.valid_until.date_naive());
    let mut count = 0;
    for p in &participants {
        let eligible = certificate_eligible(present.get(&p.id).copied().unwrap_or(0), days);
        if !eligible || issued.iter().any(|c| c.participant_id == p.id) {
            continue;
        }
        let d = &p.details;
        let payload = TrainingAttendance {
            name: PersonName {
                family_name: Some(d.family_name.clone()),
                family_name_mrz: mrz(&d.family_name),
                given_name: Some(d.given_names.clone()),
                given_name_mrz: Some(mrz(&d.given_names)),
            },
            certificate_id: format!(
                "{}-TA-{}",
                site.code.as_str(),
                uuid::Uuid::now_v7().simple().to_string().to_uppercase()
            ),
            course_id: ATTENDANCE_COURSE_ID.to_owned(),
            course_version: TRAINING.catalogue_version.clone(),
            completion_date: session.ends_on.format("%Y-%m-%d").to_string(),
            valid_until: valid_until.format("%Y-%m-%d").to_string(),
            issuing_site: site.code.as_str().to_owned(),
            title: Some(session.title.clone()),
            modules: session.modules.clone(),
        };
        let text = issuer
            .issue(
                &MhcPayload::TrainingAttendance(payload.clone()),
                now.timestamp(),
            )
            .map_err(|e| conflict("valid_until", e.to_string()))?;
        let certificate = AttendanceCertificate {
            id: payload.certificate_id.clone(),
            participant_id: p.id,
            session_id: session.id,
            site_id: site.id,
            kid: key.kid.clone(),
            payload: serde_json::to_string(&payload).map_err(ApiError::internal)?,
            qr_text: text,
            issued_at: now,
            valid_until,
        };
        state
            .store
            .add_attendance_certificate(&certificate, audit)
            .await?;
        count += 1;
    }
    Ok(count)
}

/// `POST /training/sessions/{id}/certificates`: issues a certificate to
/// every participant present on every day who has none yet.
pub async fn issue_all(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): FormPairs,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingManage)?;
    u.check_csrf(value(&form, "csrf"))?;
    let session = visible_session(&state, &u, &id).await?;
    let audit = u
        .current
        .event("training_certificate.issue", "attendance_certificate", None);
    let count = issue_certificates(&state, &session, &audit)
        .await
        .or_page(&u.layout)?;
    Ok(see_other(&format!(
        "/training/sessions/{}?issued={count}",
        session.id
    )))
}

/// `GET /training/certificates/{id}/certificate.pdf`: the certificate as a
/// one-page PDF, in English and the reader's language.
pub async fn pdf(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    u.require(Permission::TrainingRead)?;
    let certificate = state
        .store
        .attendance_certificate(&id)
        .await
        .or_page(&u.layout)?;
    if !u.user().scope.covers(certificate.site_id) {
        return Err(u.fail(StatusCode::NOT_FOUND));
    }
    u.current
        .audit_read(
            &state,
            "training_certificate.read",
            "attendance_certificate",
            Some(certificate.id.clone()),
        )
        .await
        .or_page(&u.layout)?;
    let payload: TrainingAttendance = serde_json::from_str(&certificate.payload)
        .map_err(|_| u.fail(StatusCode::INTERNAL_SERVER_ERROR))?;
    let lang = lang(&u);
    let modules: Vec<String> = payload
        .modules
        .iter()
        .map(|m| module_title(m, "en"))
        .collect();
    let fonts = FONTS
        .as_ref()
        .map_err(|_| u.fail(StatusCode::INTERNAL_SERVER_ERROR))?;
    let bytes = mhis_cert::pdf::attendance_pdf_with_fonts(
        &payload,
        &modules,
        &certificate.qr_text,
        lang,
        fonts,
    )
    .map_err(|_| u.fail(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/pdf")],
        bytes,
    )
        .into_response())
}
