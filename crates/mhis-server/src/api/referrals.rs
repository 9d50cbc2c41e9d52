//! Referrals and arrival notifications: suggestions from the protocol
//! engine, writing, sending, the receiver's acceptance and outcomes,
//! closing and cancelling; inbox, outbox and overdue lists; departures.
//!
//! Who may act: the referrer's events (`send`, `close`, `cancel`) at the
//! referring site, the receiver's (`accept`, `report_outcome`) at the
//! receiving site. A referral to a peer deployment queues a signed message
//! in the same transaction as the change (see `crate::federation`).

use crate::api::assessments::{decide, visible_assessment};
use crate::api::migrants::scoped_sites;
use crate::api::path_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::federation::outgoing;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use mhis_domain::access::Permission;
use mhis_domain::assessment::Assessment;
use mhis_domain::ids::{ReferralId, SiteId};
use mhis_domain::mhpss::may_see_referral;
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::referral::{
    NewReferral, OutcomeReport, PersonSummary, Recipient, Referral, ReferralEvent, ReferralInput,
    ReferralKind, ReferralState, SummaryObservation, TimelineEntry, Urgency,
};
use mhis_store::{Departure, ReferralChange, ReferralFilter, ReferralView, StoreError};
use serde::{Deserialize, Serialize};

/// A referral the protocol engine suggests for an assessment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// The reason code.
    pub reason: String,
    /// Its label.
    pub label: String,
    /// The pre-filled urgency.
    pub urgency: Urgency,
    /// The pre-filled due date.
    pub due_date: NaiveDate,
    /// The observations the summary would carry.
    pub summary_codes: Vec<String>,
    /// Whether a referral for this reason already exists on the assessment
    /// (not cancelled).
    pub already_referred: bool,
}

/// The engine's suggested referrals for an assessment, pre-filled from the
/// reason catalogue, for a clinician to confirm.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/referral-suggestions", tag = "referrals",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = [Suggestion]), (status = 404, body = ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    user.require(Permission::ReferralRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    Ok(Json(suggest(&state, &assessment).await?))
}

/// The suggestions for an assessment (also shown on its page).
pub async fn suggest(state: &AppState, assessment: &Assessment) -> ApiResult<Vec<Suggestion>> {
    let decision = decide(state, assessment).await?;
    let existing = referrals_of(state, assessment).await?;
    let observations = state.store.list_observations(assessment.id, false).await?;
    let today = state.today();
    Ok(decision["referrals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .filter_map(|code| state.reasons.get(code))
        .map(|reason| Suggestion {
            reason: reason.code.clone(),
            label: reason.label.clone(),
            urgency: reason.urgency,
            due_date: today + Days::new(reason.due_days.into()),
            summary_codes: observations
                .iter()
                .filter(|o| reason.includes(&o.code))
                .map(|o| o.code.clone())
                .collect(),
            already_referred: existing
                .iter()
                .any(|r| r.reason == reason.code && r.state != ReferralState::Cancelled),
        })
        .collect())
}

/// Every referral of an assessment, newest first.
pub async fn referrals_of(state: &AppState, assessment: &Assessment) -> ApiResult<Vec<Referral>> {
    let filter = ReferralFilter {
        view: ReferralView::All,
        sites: None,
        assessment_id: Some(assessment.id),
        today: state.today(),
        hidden_reasons: Vec::new(),
    };
    Ok(state
        .store
        .list_referrals(&filter, PageRequest::parse(Some(1), Some(200))?)
        .await?
        .items)
}

/// Writes a referral from an assessment: a draft, or sent at once with
/// `"send": true`.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/referrals", tag = "referrals",
    params(("id" = String, Path, description = "Assessment id")),
    request_body = ReferralInput,
    responses((status = 201, body = Referral), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> ApiResult<(StatusCode, Json<Referral>)> {
    user.require(Permission::ReferralManage)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let new = NewReferral::parse(&input, assessment.id, &state.reasons, state.today())?;
    let referral = write_referral(&state, &user.user.username, &assessment, &new).await?;
    let audit = user.event("referral.create", "referral", None);
    state
        .store
        .create_referral(&referral, &[], None, &audit)
        .await?;
    let mut referral = referral;
    if input.send == Some(true) {
        referral = apply(&state, &user, referral, ReferralEvent::Send, None, None).await?;
    }
    Ok((StatusCode::CREATED, Json(referral)))
}

fn entry(
    state: &AppState,
    user: &CurrentUser,
    event: ReferralEvent,
    to: ReferralState,
    detail: Option<String>,
) -> TimelineEntry {
    TimelineEntry {
        at: state.now(),
        event,
        state: to,
        actor: user.user.username.clone(),
        detail,
    }
}

/// The stored form of a new referral (a draft): the person, the chosen
/// observations and the conditions found, copied from the assessment.
async fn write_referral(
    state: &AppState,
    actor: &str,
    assessment: &Assessment,
    new: &NewReferral,
) -> ApiResult<Referral> {
    let (to_site_id, to_peer, to_peer_site_code) = match &new.recipient {
        Recipient::Site(site) => match state.store.get_site(*site).await {
            Ok(_) => (Some(*site), None, None),
            Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::invalid("to_site_id", "no such site"));
            }
            Err(e) => return Err(e.into()),
        },
        Recipient::Peer { peer, site_code } => {
            outgoing::peer_named(state, "to_peer", peer).await?;
            (None, Some(peer.clone()), site_code.clone())
        }
    };
    let reason = state
        .reasons
        .get(&new.reason)
        .ok_or_else(|| ApiError::invalid("reason", "unknown reason"))?;
    let migrant = state.store.get_migrant(assessment.migrant_id).await?;
    let site = state.store.get_site(assessment.site_id).await?;
    let observations = state.store.list_observations(assessment.id, false).await?;
    for (i, code) in new.summary_codes.iter().enumerate() {
        if !observations.iter().any(|o| &o.code == code) {
            return Err(ApiError::invalid(
                format!("summary_codes[{i}]"),
                format!("'{code}' has no current value on this assessment"),
            ));
        }
    }
    let chosen = |code: &str| {
        if new.summary_codes.is_empty() {
            reason.includes(code)
        } else {
            new.summary_codes.iter().any(|c| c == code)
        }
    };
    let decision = decide(state, assessment).await?;
    let conditions = decision["classes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, class)| Some(format!("{key}: {}", class.as_str()?)))
        .collect();
    let d = &migrant.details;
    let now = state.now();
    Ok(Referral {
        id: ReferralId::new(),
        kind: new.kind,
        state: ReferralState::Draft,
        site_id: assessment.site_id,
        to_site_id,
        to_peer,
        to_peer_site_code,
        from_peer: None,
        from_label: site.name.clone(),
        assessment_id: Some(assessment.id),
        migrant_id: Some(migrant.id),
        reason: new.reason.clone(),
        urgency: new.urgency,
        due_date: new.due_date,
        note: new.note.clone(),
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
        observations: observations
            .iter()
            .filter(|o| chosen(&o.code))
            .map(|o| SummaryObservation {
                code: o.code.clone(),
                value: o.value.to_json(),
                unit: o.unit.clone(),
                observed_at: o.observed_at,
            })
            .collect(),
        conditions,
        outcome: None,
        outcome_date: None,
        outcome_note: None,
        created_by: actor.to_owned(),
        created_at: now,
        updated_at: now,
    })
}

/// Applies `event` by `user` to `referral`: checks the user's side and the
/// state machine, and queues the message for the other side when it is a
/// peer. Returns the referral as stored.
async fn apply(
    state: &AppState,
    user: &CurrentUser,
    referral: Referral,
    event: ReferralEvent,
    outcome: Option<OutcomeReport>,
    detail: Option<String>,
) -> ApiResult<Referral> {
    // The side that may take the event, and the site that acts for it.
    let acting_site = if event.sent_by_referrer() {
        referral.referred_here().then_some(referral.site_id)
    } else {
        referral
            .received_here()
            .then_some(referral.to_site_id)
            .flatten()
    };
    let allowed = acting_site.is_some_and(|site| user.user.scope.covers(site));
    if !allowed {
        return Err(ApiError::status(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "'{event}' is for the {} side of this referral",
                if event.sent_by_referrer() {
                    "referring"
                } else {
                    "receiving"
                }
            ),
        ));
    }
    let refused = |e: mhis_domain::referral::TransitionRefused| {
        ApiError::from(StoreError::conflict("state", e.to_string()))
    };
    let detail = detail.or_else(|| {
        outcome
            .as_ref()
            .map(|o| format!("{} on {}", o.outcome, o.date))
    });
    let mut entries = vec![entry(
        state,
        user,
        event,
        referral.state.apply(event).map_err(refused)?,
        detail,
    )];
    // A referral to a site of this deployment is delivered on sending.
    if event == ReferralEvent::Send && referral.to_site_id.is_some() {
        let received = entries[0]
            .state
            .apply(ReferralEvent::Receive)
            .map_err(refused)?;
        entries.push(entry(state, user, ReferralEvent::Receive, received, None));
    }
    let mut updated = referral.clone();
    updated.state = entries.last().map_or(referral.state, |e| e.state);
    updated.updated_at = state.now();
    if let Some(o) = &outcome {
        updated.outcome = Some(o.outcome);
        updated.outcome_date = Some(o.date);
        updated.outcome_note = o.note.clone();
    }
    // The other side, when it is a peer and has (or gets) a copy.
    let peer = if event.sent_by_referrer() {
        // A draft was never sent: cancelling it tells nobody.
        referral
            .to_peer
            .clone()
            .filter(|_| event == ReferralEvent::Send || referral.state != ReferralState::Draft)
    } else {
        referral.from_peer.clone()
    };
    let message = match peer {
        Some(name) => {
            let node = state.federation.node(state).await?;
            let peer = outgoing::peer_named(state, "to_peer", &name).await?;
            Some(outgoing::message(state, &node, &peer, &updated, event))
        }
        None => None,
    };
    let change = ReferralChange {
        id: referral.id,
        from: referral.state,
        entries,
        outcome: outcome.map(|o| (o.outcome, o.date, o.note)),
    };
    let audit = user.event(
        &format!("referral.{}", event.as_str()),
        "referral",
        Some(referral.id.to_string()),
    );
    let stored = state
        .store
        .change_referral(&change, message.as_ref(), state.now(), &audit)
        .await?;
    if message.is_some() {
        state.federation.wake.notify_one();
    }
    Ok(stored)
}

/// The referral with this path id, if the user's sites hold or receive it.
pub async fn visible_referral(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Referral> {
    let id = ReferralId(path_id(id, "referral")?);
    let referral = state.store.get_referral(id).await?;
    let visible = user.user.scope.covers(referral.site_id)
        || referral
            .to_site_id
            .is_some_and(|s| user.user.scope.covers(s));
    // A referral for a restricted (MHPSS) reason is as unknown as a
    // missing one to a user who may not read MHPSS records.
    if !visible || !may_see_referral(&user.user, &state.reasons, &referral) {
        return Err(ApiError::not_found("referral"));
    }
    Ok(referral)
}

/// A referral with its timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralDetail {
    /// The referral.
    #[serde(flatten)]
    pub referral: Referral,
    /// What happened to it, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Due date passed with no outcome.
    pub overdue: bool,
}

/// One referral with its timeline.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    responses((status = 200, body = ReferralDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferralDetail>> {
    user.require(Permission::ReferralRead)?;
    let referral = visible_referral(&state, &user, &id).await?;
    let timeline = state.store.referral_timeline(referral.id).await?;
    user.audit_read(
        &state,
        "referral.read",
        "referral",
        Some(referral.id.to_string()),
    )
    .await?;
    Ok(Json(ReferralDetail {
        overdue: referral.is_overdue(state.today()),
        referral,
        timeline,
    }))
}

/// List parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// `inbox`, `outbox`, `overdue` or `all` (default).
    pub view: Option<String>,
    /// At one site.
    pub site_id: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1 to 200.
    pub per_page: Option<u32>,
}

/// Parses a view name.
pub fn parse_view(raw: Option<&str>) -> Result<ReferralView, ApiError> {
    match raw.unwrap_or("all") {
        "inbox" => Ok(ReferralView::Inbox),
        "outbox" => Ok(ReferralView::Outbox),
        "overdue" => Ok(ReferralView::Overdue),
        "all" => Ok(ReferralView::All),
        other => Err(ApiError::invalid(
            "view",
            format!("'{other}' is not one of: inbox, outbox, overdue, all"),
        )),
    }
}

/// Referrals of the user's sites: inbox, outbox, overdue or all.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", params(ListParams),
    responses((status = 200, body = Page<Referral>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Referral>>> {
    user.require(Permission::ReferralRead)?;
    let filter = ReferralFilter {
        view: parse_view(params.view.as_deref())?,
        sites: scoped_sites(&user, params.site_id.as_deref())?,
        assessment_id: None,
        today: state.today(),
        hidden_reasons: crate::api::mhpss::hidden_reasons(&state, &user),
    };
    let page = PageRequest::parse(params.page, params.per_page)?;
    let found = state.store.list_referrals(&filter, page).await?;
    user.audit_read(&state, "referral.list", "referral", None)
        .await?;
    Ok(Json(found))
}

/// The referrals of one assessment, with their outcomes.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/referrals", tag = "referrals",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, body = [Referral]), (status = 404, body = ErrorBody)))]
pub async fn list_for_assessment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Referral>>> {
    user.require(Permission::ReferralRead)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let referrals = referrals_of(&state, &assessment)
        .await?
        .into_iter()
        .filter(|r| may_see_referral(&user.user, &state.reasons, r))
        .collect();
    user.audit_read(
        &state,
        "referral.list",
        "assessment",
        Some(assessment.id.to_string()),
    )
    .await?;
    Ok(Json(referrals))
}

/// An action's optional note.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// Why (for a cancellation) or a remark.
    pub note: Option<String>,
}

/// An outcome report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// `treatment_started`, `treatment_completed`, `lost_to_follow_up`,
    /// `not_found`, `declined` or `moved_away`.
    pub outcome: String,
    /// `YYYY-MM-DD`, today if absent; not in the future.
    pub date: Option<String>,
    /// A note for the referrer.
    pub note: Option<String>,
}

/// Applies an action by its name from the path (`send`, `accept`,
/// `close`, `cancel`).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/{action}", tag = "referrals",
    params(("id" = String, Path, description = "Referral id"),
           ("action" = String, Path, description = "send, accept, close or cancel")),
    request_body = ActionInput,
    responses((status = 200, body = Referral), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(input): ApiJson<ActionInput>,
) -> ApiResult<Json<Referral>> {
    user.require(Permission::ReferralManage)?;
    let event = match action.as_str() {
        "send" => ReferralEvent::Send,
        "accept" => ReferralEvent::Accept,
        "close" => ReferralEvent::Close,
        "cancel" => ReferralEvent::Cancel,
        _ => return Err(ApiError::not_found("route")),
    };
    let referral = visible_referral(&state, &user, &id).await?;
    let note = mhis_domain::text::optional("note", input.note.as_deref(), 1000)?;
    Ok(Json(
        apply(&state, &user, referral, event, None, note).await?,
    ))
}

/// The receiver reports an outcome (again, for a later one).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/outcome", tag = "referrals",
    params(("id" = String, Path, description = "Referral id")),
    request_body = OutcomeInput,
    responses((status = 200, body = Referral), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn outcome(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> ApiResult<Json<Referral>> {
    user.require(Permission::ReferralManage)?;
    let referral = visible_referral(&state, &user, &id).await?;
    let report = OutcomeReport::parse(
        &input.outcome,
        input.date.as_deref(),
        input.note.as_deref(),
        state.today(),
    )?;
    Ok(Json(
        apply(
            &state,
            &user,
            referral,
            ReferralEvent::ReportOutcome,
            Some(report),
            None,
        )
        .await?,
    ))
}

/// A departure as a client records it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartureInput {
    /// `YYYY-MM-DD`; not in the future.
    pub departed_on: String,
    /// The destination health authority's peer; by default the peer
    /// configured for the assessment's destination country.
    pub to_peer: Option<String>,
}

/// What recording a departure did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartureRecorded {
    /// The departure.
    #[schema(value_type = Object)]
    pub departure: Departure,
    /// The arrival notification sent, when the person was cleared with
    /// follow-up and a destination peer is known.
    pub notification: Option<Referral>,
    /// Why no notification was sent, when none was.
    pub note: Option<String>,
}

/// Records that the person departed. A person cleared with follow-up gets
/// an arrival notification to the destination health authority's peer, in
/// the same transaction.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/departure", tag = "referrals",
    params(("id" = String, Path, description = "Assessment id")),
    request_body = DepartureInput,
    responses((status = 201, body = DepartureRecorded), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_departure(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DepartureInput>,
) -> ApiResult<(StatusCode, Json<DepartureRecorded>)> {
    user.require(Permission::ReferralManage)?;
    let assessment = visible_assessment(&state, &user, &id).await?;
    let today = state.today();
    let departed_on =
        NaiveDate::parse_from_str(input.departed_on.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(
                "departed_on",
                format!("'{}' is not a YYYY-MM-DD date", input.departed_on),
            )
        })?;
    if departed_on > today {
        return Err(ApiError::invalid(
            "departed_on",
            format!("{departed_on} is in the future"),
        ));
    }
    if departed_on < assessment.assessment_date {
        return Err(ApiError::invalid("departed_on", "is before the assessment"));
    }
    let follow_up = assessment.final_outcome.as_deref() == Some("cleared_with_follow_up");
    let peer = match (&input.to_peer, follow_up) {
        (Some(name), _) => Some(outgoing::peer_named(&state, "to_peer", name).await?),
        (None, true) => state
            .store
            .list_peers()
            .await?
            .into_iter()
            .find(|p| p.country.as_deref() == Some(assessment.destination.as_str())),
        (None, false) => None,
    };
    let mut departure = Departure {
        assessment_id: assessment.id,
        departed_on,
        recorded_by: user.user.username.clone(),
        recorded_at: state.now(),
        notification_id: None,
    };
    let audit = user.event(
        "assessment.departure",
        "assessment",
        Some(assessment.id.to_string()),
    );
    let (notification, note) = match (follow_up, peer) {
        (false, _) => (
            None,
            Some("no arrival notification: the final outcome is not cleared with follow-up".into()),
        ),
        (true, None) => (
            None,
            Some(format!(
                "no arrival notification: no peer is configured for {}",
                assessment.destination.as_str()
            )),
        ),
        (true, Some(peer)) => {
            // The protocol's own follow-up reason when it names one.
            let decision = decide(&state, &assessment).await?;
            let reason = decision["referrals"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
                .find(|r| state.reasons.get(r).is_some_and(|r| r.on_arrival))
                .unwrap_or("arrival_follow_up");
            let due_days = state.reasons.get(reason).map_or(30, |r| r.due_days);
            let new = NewReferral {
                kind: ReferralKind::ArrivalNotification,
                assessment_id: assessment.id,
                reason: reason.to_owned(),
                urgency: Urgency::Routine,
                due_date: departed_on + Days::new(due_days.into()),
                recipient: Recipient::Peer {
                    peer: peer.name.clone(),
                    site_code: None,
                },
                note: None,
                summary_codes: Vec::new(),
            };
            let mut referral =
                write_referral(&state, &user.user.username, &assessment, &new).await?;
            let node = state.federation.node(&state).await?;
            referral.state = ReferralState::Sent;
            let history = [entry(
                &state,
                &user,
                ReferralEvent::Send,
                ReferralState::Sent,
                Some(format!("departed on {departed_on}")),
            )];
            let message = outgoing::message(&state, &node, &peer, &referral, ReferralEvent::Send);
            departure.notification_id = Some(referral.id);
            state
                .store
                .record_departure(&departure, Some((&referral, &history, &message)), &audit)
                .await?;
            state.federation.wake.notify_one();
            return Ok((
                StatusCode::CREATED,
                Json(DepartureRecorded {
                    departure,
                    notification: Some(referral),
                    note: None,
                }),
            ));
        }
    };
    state
        .store
        .record_departure(&departure, None, &audit)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DepartureRecorded {
            departure,
            notification,
            note,
        }),
    ))
}

/// The overdue count of the user's sites.
pub async fn overdue_count(state: &AppState, sites: Option<&[SiteId]>) -> ApiResult<i64> {
    Ok(state.store.count_overdue(sites, state.today()).await?)
}
