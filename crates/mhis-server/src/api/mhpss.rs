//! Mental health and psychosocial support (MHPSS): instruments and their
//! forms, screenings (in an assessment or stand-alone), the referrals a
//! counsellor confirms from them, cases, counselling sessions and closure.
//!
//! A restricted category: every route needs `MhpssRead` or `MhpssWrite`
//! (counsellors and clinicians only; every other role gets 403), a record
//! of a site outside the user's scope is 404, and every read appends an
//! audit entry (`mhpss.*.read`, `mhpss.*.list`). The assessment's flag
//! route gives the flags only, never answers or scores.

use crate::api::assessments::visible_assessment;
use crate::api::migrants::visible_migrant;
use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use mhis_domain::access::Permission;
use mhis_domain::ids::{MhpssCaseId, ReferralId, ScreeningId, SessionId, SiteId};
use mhis_domain::instrument::Form;
use mhis_domain::mhpss::{
    CloseInput, Closure, CounsellingSession, FlagNotice, MhpssCase, NewScreening, NewSession,
    Screening, ScreeningInput, SessionInput, is_restricted,
};
use mhis_domain::referral::{
    PersonSummary, Referral, ReferralEvent, ReferralKind, ReferralState, TimelineEntry, Urgency,
};
use mhis_store::StoreError;
use serde::{Deserialize, Serialize};

/// The restricted reasons `user` may not see referrals for (none for a
/// counsellor or clinician).
pub fn hidden_reasons(state: &AppState, user: &CurrentUser) -> Vec<String> {
    if user.user.can(Permission::MhpssRead) {
        return Vec::new();
    }
    state
        .reasons
        .all()
        .iter()
        .filter(|r| r.restricted)
        .map(|r| r.code.clone())
        .collect()
}

/// An instrument, as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstrumentSummary {
    /// The id (`phq9`).
    pub id: String,
    /// The file's version.
    pub version: String,
    /// The title.
    pub title: String,
    /// The published source of its scoring.
    pub source: String,
    /// Who licenses the validated wording.
    pub wording_rights: Option<String>,
    /// The languages a licensed wording was supplied in.
    pub languages: Vec<String>,
}

/// The instruments this deployment screens with.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "mhpss",
    responses((status = 200, body = [InstrumentSummary]), (status = 403, body = ErrorBody)))]
pub async fn instruments(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<InstrumentSummary>>> {
    user.require(Permission::MhpssRead)?;
    Ok(Json(
        state
            .instruments
            .iter()
            .map(|i| InstrumentSummary {
                id: i.id.clone(),
                version: i.version.clone(),
                title: i.title.clone(),
                source: i.source.clone(),
                wording_rights: i.wording_rights.clone(),
                languages: state
                    .instruments
                    .languages(&i.id)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
            .collect(),
    ))
}

/// The language of a form.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FormParams {
    /// A language whose licensed wording was supplied; our own labels
    /// otherwise.
    pub language: Option<String>,
}

/// The form of an instrument: its items and options, in the licensed
/// wording of `language` when the deployment supplied it.
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "mhpss",
    params(("id" = String, Path, description = "Instrument id"), FormParams),
    responses((status = 200, body = Form), (status = 404, body = ErrorBody)))]
pub async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<FormParams>,
) -> ApiResult<Json<Form>> {
    user.require(Permission::MhpssRead)?;
    state
        .instruments
        .form(&id, params.language.as_deref())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("instrument"))
}

/// A referral the screening's thresholds or flags suggest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScreeningSuggestion {
    /// The reason code.
    pub reason: String,
    /// Its label.
    pub label: String,
    /// The pre-filled urgency.
    pub urgency: Urgency,
    /// The pre-filled due date.
    pub due_date: NaiveDate,
    /// Whether a referral for it was confirmed already (not cancelled).
    pub already_referred: bool,
}

/// A screening with what follows from it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScreeningDetail {
    /// The screening, its answers and result.
    #[serde(flatten)]
    pub screening: Screening,
    /// The referrals its result suggests, for the counsellor to confirm.
    pub suggestions: Vec<ScreeningSuggestion>,
    /// The referrals confirmed from it.
    pub referrals: Vec<Referral>,
}

/// The suggestions of a screening, pre-filled from the reason catalogue.
pub fn suggestions(
    state: &AppState,
    screening: &Screening,
    referrals: &[Referral],
) -> Vec<ScreeningSuggestion> {
    let today = state.today();
    screening
        .result
        .suggested_referrals
        .iter()
        .filter_map(|code| state.reasons.get(code))
        .map(|r| ScreeningSuggestion {
            reason: r.code.clone(),
            label: r.label.clone(),
            urgency: r.urgency,
            due_date: today + Days::new(r.due_days.into()),
            already_referred: referrals
                .iter()
                .any(|x| x.reason == r.code && x.state != ReferralState::Cancelled),
        })
        .collect()
}

async fn detail(state: &AppState, screening: Screening) -> ApiResult<ScreeningDetail> {
    let referrals = state.store.referrals_of_screening(screening.id).await?;
    Ok(ScreeningDetail {
        suggestions: suggestions(state, &screening, &referrals),
        screening,
        referrals,
    })
}

/// Screens a person with one instrument, in an assessment
/// (`assessment_id`) or stand-alone. The answers are scored at once;
/// missing answers make it incomplete, never zero. The screening joins the
/// person's open case at the site, or opens one.
#[utoipa::path(post, path = "/api/v1/migrants/{id}/screenings", tag = "mhpss",
    params(("id" = String, Path, description = "Migrant id")),
    request_body = ScreeningInput,
    responses((status = 201, body = ScreeningDetail), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn screen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScreeningInput>,
) -> ApiResult<(StatusCode, Json<ScreeningDetail>)> {
    user.require(Permission::MhpssWrite)?;
    let migrant = visible_migrant(&state, &user, &id).await?;
    let new = NewScreening::parse(&input, &state.instruments)?;
    let assessment = match input.assessment_id {
        None => None,
        Some(a) => match state.store.get_assessment(a).await {
            Ok(a) if a.migrant_id == migrant.id && user.user.scope.covers(a.site_id) => Some(a),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::invalid(
                    "assessment_id",
                    "no such assessment of this person",
                ));
            }
            Err(e) => return Err(e.into()),
        },
    };
    let site_id = input
        .site_id
        .or(assessment.as_ref().map(|a| a.site_id))
        .unwrap_or(migrant.registered_at);
    let site_known = match state.store.get_site(site_id).await {
        Ok(_) => true,
        Err(StoreError::NotFound { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    if !site_known || !user.user.scope.covers(site_id) {
        return Err(ApiError::invalid("site_id", "no such site"));
    }
    let now = state.now();
    let by = user.user.username.clone();
    let (case_id, new_case) = match state.store.open_case(migrant.id, site_id).await? {
        Some(open) => (open.id, None),
        None => {
            let case = MhpssCase::open(migrant.id, site_id, &by, now);
            (case.id, Some(case))
        }
    };
    let screening = Screening {
        id: ScreeningId::new(),
        case_id,
        migrant_id: migrant.id,
        site_id,
        assessment_id: assessment.map(|a| a.id),
        context: new.context,
        version: new.result.version.clone(),
        instrument: new.instrument,
        answers: new.answers,
        result: new.result,
        screened_by: by,
        screened_at: now,
    };
    let audit = user.event("mhpss.screening.create", "screening", None);
    state
        .store
        .create_screening(&screening, new_case.as_ref(), &audit)
        .await?;
    Ok((StatusCode::CREATED, Json(detail(&state, screening).await?)))
}

/// The screening with this path id, if its site is the user's.
pub async fn visible_screening(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Screening> {
    let id = ScreeningId(path_id(id, "screening")?);
    let screening = state.store.get_screening(id).await?;
    user.require_site(screening.site_id, "screening")?;
    Ok(screening)
}

/// The case with this path id, if its site is the user's.
pub async fn visible_case(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<MhpssCase> {
    let id = MhpssCaseId(path_id(id, "case")?);
    let case = state.store.get_case(id).await?;
    user.require_site(case.site_id, "case")?;
    Ok(case)
}

/// One screening: answers, result, suggested and confirmed referrals.
#[utoipa::path(get, path = "/api/v1/screenings/{id}", tag = "mhpss",
    params(("id" = String, Path, description = "Screening id")),
    responses((status = 200, body = ScreeningDetail), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_screening(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ScreeningDetail>> {
    user.require(Permission::MhpssRead)?;
    let screening = visible_screening(&state, &user, &id).await?;
    let detail = detail(&state, screening).await?;
    user.audit_read(
        &state,
        "mhpss.screening.read",
        "screening",
        Some(detail.screening.id.to_string()),
    )
    .await?;
    Ok(Json(detail))
}

/// A person's screenings at the user's sites, newest first.
#[utoipa::path(get, path = "/api/v1/migrants/{id}/screenings", tag = "mhpss",
    params(("id" = String, Path, description = "Migrant id")),
    responses((status = 200, body = [Screening]), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn list_screenings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Screening>>> {
    user.require(Permission::MhpssRead)?;
    let migrant = visible_migrant(&state, &user, &id).await?;
    let found = state
        .store
        .screenings_of_migrant(migrant.id)
        .await?
        .into_iter()
        .filter(|s| user.user.scope.covers(s.site_id))
        .collect();
    user.audit_read(
        &state,
        "mhpss.screening.list",
        "migrant",
        Some(migrant.id.to_string()),
    )
    .await?;
    Ok(Json(found))
}

/// A person's MHPSS cases at the user's sites, newest first.
#[utoipa::path(get, path = "/api/v1/migrants/{id}/mhpss-cases", tag = "mhpss",
    params(("id" = String, Path, description = "Migrant id")),
    responses((status = 200, body = [MhpssCase]), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<MhpssCase>>> {
    user.require(Permission::MhpssRead)?;
    let migrant = visible_migrant(&state, &user, &id).await?;
    let found = state
        .store
        .cases_of_migrant(migrant.id)
        .await?
        .into_iter()
        .filter(|c| user.user.scope.covers(c.site_id))
        .collect();
    user.audit_read(
        &state,
        "mhpss.case.list",
        "migrant",
        Some(migrant.id.to_string()),
    )
    .await?;
    Ok(Json(found))
}

/// A case with its screenings and sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: MhpssCase,
    /// Its screenings, newest first.
    pub screenings: Vec<Screening>,
    /// Its counselling sessions, newest first.
    pub sessions: Vec<CounsellingSession>,
}

/// One case with its screenings and sessions.
#[utoipa::path(get, path = "/api/v1/mhpss-cases/{id}", tag = "mhpss",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    user.require(Permission::MhpssRead)?;
    let case = visible_case(&state, &user, &id).await?;
    let screenings = state.store.screenings_of_case(case.id).await?;
    let sessions = state.store.sessions_of(case.id).await?;
    user.audit_read(&state, "mhpss.case.read", "case", Some(case.id.to_string()))
        .await?;
    Ok(Json(CaseDetail {
        case,
        screenings,
        sessions,
    }))
}

/// Records a counselling session on an open case.
#[utoipa::path(post, path = "/api/v1/mhpss-cases/{id}/sessions", tag = "mhpss",
    params(("id" = String, Path, description = "Case id")),
    request_body = SessionInput,
    responses((status = 201, body = CounsellingSession), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SessionInput>,
) -> ApiResult<(StatusCode, Json<CounsellingSession>)> {
    user.require(Permission::MhpssWrite)?;
    let case = visible_case(&state, &user, &id).await?;
    let new = NewSession::parse(&input, state.today())?;
    let session = CounsellingSession {
        id: SessionId::new(),
        case_id: case.id,
        date: new.date,
        kind: new.kind,
        notes: new.notes,
        next_step: new.next_step,
        recorded_by: user.user.username.clone(),
        recorded_at: state.now(),
    };
    let audit = user.event("mhpss.session.create", "case", None);
    state.store.add_session(&session, &audit).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// Closes an open case with a reason.
#[utoipa::path(post, path = "/api/v1/mhpss-cases/{id}/close", tag = "mhpss",
    params(("id" = String, Path, description = "Case id")),
    request_body = CloseInput,
    responses((status = 200, body = MhpssCase), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CloseInput>,
) -> ApiResult<Json<MhpssCase>> {
    user.require(Permission::MhpssWrite)?;
    let case = visible_case(&state, &user, &id).await?;
    let closure = Closure::parse(&input)?;
    let audit = user.event("mhpss.case.close", "case", None);
    Ok(Json(
        state
            .store
            .close_case(case.id, &closure, &user.user.username, state.now(), &audit)
            .await?,
    ))
}

/// A referral confirmed from a screening.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningReferralInput {
    /// An MHPSS reason code (`mental_health_assessment`,
    /// `urgent_safety_assessment`).
    pub reason: String,
    /// The receiving site of this deployment (MHPSS referrals stay within
    /// the deployment).
    pub to_site_id: Option<SiteId>,
    /// `routine`, `urgent`, `asap` or `stat`; the reason's default if absent.
    pub urgency: Option<String>,
    /// `YYYY-MM-DD`; the reason's due days after today if absent.
    pub due_date: Option<String>,
    /// A note for the receiver (no answers are sent).
    pub note: Option<String>,
}

/// Confirms a referral from a screening: to a site of this deployment,
/// sent at once. It carries the person and the reason, never the answers
/// or scores, and is hidden from roles that may not read MHPSS records.
#[utoipa::path(post, path = "/api/v1/screenings/{id}/referrals", tag = "mhpss",
    params(("id" = String, Path, description = "Screening id")),
    request_body = ScreeningReferralInput,
    responses((status = 201, body = Referral), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScreeningReferralInput>,
) -> ApiResult<(StatusCode, Json<Referral>)> {
    user.require(Permission::MhpssWrite)?;
    user.require(Permission::ReferralManage)?;
    let screening = visible_screening(&state, &user, &id).await?;
    let reason = state.reasons.parse_code("reason", &input.reason)?;
    if !is_restricted(&state.reasons, &reason.code) {
        return Err(ApiError::invalid(
            "reason",
            format!("'{}' is not an MHPSS referral reason", reason.code),
        ));
    }
    let urgency = match input.urgency.as_deref().map(str::trim) {
        None | Some("") => reason.urgency,
        Some(raw) => Urgency::parse("urgency", raw)?,
    };
    let today = state.today();
    let due_date = match input.due_date.as_deref().map(str::trim) {
        None | Some("") => today + Days::new(reason.due_days.into()),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            ApiError::invalid("due_date", format!("'{raw}' is not a YYYY-MM-DD date"))
        })?,
    };
    if due_date < today {
        return Err(ApiError::invalid(
            "due_date",
            format!("{due_date} is in the past; a referral is due today or later"),
        ));
    }
    let to_site = input
        .to_site_id
        .ok_or_else(|| ApiError::invalid("to_site_id", "is required: the receiving site"))?;
    match state.store.get_site(to_site).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::invalid("to_site_id", "no such site"));
        }
        Err(e) => return Err(e.into()),
    }
    let note = mhis_domain::text::optional(
        "note",
        input.note.as_deref(),
        mhis_domain::referral::NOTE_MAX,
    )?;
    let migrant = state.store.get_migrant(screening.migrant_id).await?;
    let site = state.store.get_site(screening.site_id).await?;
    let d = &migrant.details;
    let now = state.now();
    let by = user.user.username.clone();
    let referral = Referral {
        id: ReferralId::new(),
        kind: ReferralKind::Referral,
        state: ReferralState::Received,
        site_id: screening.site_id,
        to_site_id: Some(to_site),
        to_peer: None,
        to_peer_site_code: None,
        from_peer: None,
        from_label: site.name.clone(),
        assessment_id: screening.assessment_id,
        migrant_id: Some(migrant.id),
        reason: reason.code.clone(),
        urgency,
        due_date,
        note,
        person: PersonSummary {
            family_name: d.family_name_latin.clone(),
            given_names: d.given_names_latin.clone(),
            sex: d.sex.as_str().to_owned(),
            birth_date: d.birth_date.to_string(),
            nationality: d.nationality.as_str().to_owned(),
            document_number: d.document.as_ref().map(|doc| doc.number.clone()),
            document_country: d
                .document
                .as_ref()
                .map(|doc| doc.issuing_country.as_str().to_owned()),
            contact: d.phone.as_ref().map(|p| p.as_str().to_owned()),
        },
        observations: Vec::new(),
        conditions: Vec::new(),
        outcome: None,
        outcome_date: None,
        outcome_note: None,
        created_by: by.clone(),
        created_at: now,
        updated_at: now,
    };
    let entry = |event, state| TimelineEntry {
        at: now,
        event,
        state,
        actor: by.clone(),
        detail: None,
    };
    // A referral to a site of this deployment is delivered on sending.
    let history = [
        entry(ReferralEvent::Send, ReferralState::Sent),
        entry(ReferralEvent::Receive, ReferralState::Received),
    ];
    let audit = user.event("mhpss.referral.create", "referral", None);
    state
        .store
        .refer_from_screening(screening.id, &referral, &history, &audit)
        .await?;
    Ok((StatusCode::CREATED, Json(referral)))
}

/// The flags raised by screenings of an assessment: which flag, when, and
/// what to do; never the answers or scores.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/mhpss-flags", tag = "mhpss",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = [FlagNotice]), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn assessment_flags(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<FlagNotice>>> {
    user.require(Permission::MhpssRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    Ok(Json(flags_of(&state, &user, assessment.id).await?))
}

/// The flag notices of an assessment's screenings, audited as a read of
/// MHPSS data. The caller has checked `MhpssRead` and the assessment's
/// site.
pub async fn flags_of(
    state: &AppState,
    user: &CurrentUser,
    assessment: mhis_domain::ids::AssessmentId,
) -> ApiResult<Vec<FlagNotice>> {
    let notices = state
        .store
        .screenings_of_assessment(assessment)
        .await?
        .iter()
        .filter(|s| user.user.scope.covers(s.site_id) && !s.result.flags.is_empty())
        .map(Screening::flag_notice)
        .collect();
    user.audit_read(
        state,
        "mhpss.flags.read",
        "assessment",
        Some(assessment.to_string()),
    )
    .await?;
    Ok(notices)
}
