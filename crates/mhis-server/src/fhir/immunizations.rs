//! Vaccinations as `Immunization`: read, vread (current version), search
//! (`patient`/`subject` or `_id`, `date`, `_count`, `_page`), create and
//! update (version-aware), mapped by `mhis_fhir::immunization`.
//!
//! A vaccination belongs to the site that recorded it: outside the user's
//! sites it answers 404 like a missing one. Reading needs `AssessmentRead`
//! (vaccinations are clinical records, like results); recording or changing
//! one needs `RecordClinical`. Every read and write is audited
//! (`vaccination.read`, `vaccination.search`, `vaccination.create`,
//! `vaccination.update`). The site of a new vaccination is its Encounter's,
//! else its `location`'s (a Location of one of the user's sites), else the
//! user's only site.

use super::params::{DateFilter, Params};
use super::resources::{bundle, paged, searched_patient, typed};
use super::{Base, Failure, Fhir, FhirBody, FhirResult, FhirUser, if_match, reference_id};
use crate::api::assessments::visible_assessment;
use crate::api::migrants::visible_migrant;
use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use mhis_domain::access::Permission;
use mhis_domain::ids::SiteId;
use mhis_domain::vaccination::{NewVaccination, Vaccination, VaccinationId, VaccineCatalogue};
use mhis_fhir::bundle::IntoResource;
use mhis_fhir::immunization::{self, ImmunizationParts};
use mhis_fhir::model::codes::IssueType;
use mhis_fhir::model::resources::Resource;
use mhis_fhir::{FhirError, IssueKind, site};
use mhis_store::StoreError;

fn catalogue() -> &'static VaccineCatalogue {
    VaccineCatalogue::built_in()
}

fn render(v: &Vaccination) -> Fhir {
    Fhir::ok(immunization::from_vaccination(v, catalogue())).etag(v.version)
}

/// The vaccination with this path id, if one of the user's sites recorded
/// it.
async fn visible(state: &AppState, user: &CurrentUser, id: &str) -> FhirResult<Vaccination> {
    let id = id
        .parse()
        .map(VaccinationId)
        .map_err(|_| Failure::not_found("Immunization"))?;
    match state.store.get_vaccination(id).await {
        Ok(v) if user.user.scope.covers(v.content.site_id) => Ok(v),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(Failure::not_found("Immunization")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /Immunization/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::AssessmentRead)?;
    let v = visible(&state, &user, &id).await?;
    user.audit_read(
        &state,
        "vaccination.read",
        "vaccination",
        Some(v.id.to_string()),
    )
    .await?;
    Ok(render(&v))
}

/// `GET /Immunization/{id}/_history/{vid}`: the current version only.
pub(super) async fn vread(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path((id, vid)): Path<(String, String)>,
) -> FhirResult {
    user.require(Permission::AssessmentRead)?;
    let v = visible(&state, &user, &id).await?;
    if vid != v.version.to_string() {
        return Err(Failure::not_found("version"));
    }
    user.audit_read(
        &state,
        "vaccination.read",
        "vaccination",
        Some(v.id.to_string()),
    )
    .await?;
    Ok(render(&v))
}

/// `GET /Immunization?…`: needs `patient`/`subject` or `_id`.
pub(super) async fn search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(&base, &["_id", "patient", "subject", "date"])?;
    user.require(Permission::AssessmentRead)?;
    let dates = DateFilter::all(&params, "date")?;
    let found: Vec<Vaccination> = if let Some(id) = params.get("_id") {
        match visible(&state, &user, id).await {
            Ok(v) => vec![v],
            Err(f) if f.status == StatusCode::NOT_FOUND => Vec::new(),
            Err(f) => return Err(f),
        }
    } else if let Some(pid) = params.patient()? {
        match searched_patient(&state, &user, pid).await? {
            Some(m) => state.store.vaccinations_of(m.id).await?,
            None => Vec::new(),
        }
    } else {
        return Err(Failure::param(
            "patient",
            "an Immunization search needs patient, subject or _id",
        ));
    };
    let found: Vec<Vaccination> = found
        .into_iter()
        .filter(|v| user.user.scope.covers(v.content.site_id))
        .filter(|v| dates.iter().all(|d| d.matches(v.content.date)))
        .collect();
    let patient = found.first().map(|v| v.content.migrant_id.to_string());
    user.audit_read(&state, "vaccination.search", "migrant", patient)
        .await?;
    let (total, items) = paged(found, params.page);
    let matches: Vec<Resource> = items
        .iter()
        .map(|v| immunization::from_vaccination(v, catalogue()).into_resource())
        .collect();
    Ok(bundle(&base, &params, total, matches, Vec::new()))
}

/// An Immunization's content as a checked vaccination: the patient, the
/// encounter and the site resolved within the user's scope.
async fn parse(
    state: &AppState,
    user: &CurrentUser,
    json: &serde_json::Value,
) -> FhirResult<(NewVaccination, Option<i64>)> {
    let Resource::Immunization(i) = typed(json, "Immunization")? else {
        return Err(Failure::not_found("Immunization"));
    };
    let parts: ImmunizationParts = immunization::read(&i, catalogue())?;
    let unresolved = |path: &str, message: String| {
        Failure::from(FhirError::new(path, IssueKind::NotFound, message))
    };
    let migrant = match reference_id(&parts.patient, "Patient") {
        Some(id) => visible_migrant(state, user, &id.to_string())
            .await
            .map_err(|e| {
                if e.status == StatusCode::NOT_FOUND {
                    unresolved(
                        "Immunization.patient.reference",
                        format!("no such Patient: {}", parts.patient),
                    )
                } else {
                    e.into()
                }
            })?,
        None => {
            return Err(unresolved(
                "Immunization.patient.reference",
                format!("'{}' is not Patient/<id>", parts.patient),
            ));
        }
    };
    let assessment = match &parts.encounter {
        None => None,
        Some(r) => {
            let bad = |m: String| unresolved("Immunization.encounter.reference", m);
            let id = reference_id(r, "Encounter")
                .ok_or_else(|| bad(format!("'{r}' is not Encounter/<id>")))?;
            let a = visible_assessment(state, user, &id.to_string())
                .await
                .map_err(|e| {
                    if e.status == StatusCode::NOT_FOUND {
                        bad(format!("no such Encounter: {r}"))
                    } else {
                        e.into()
                    }
                })?;
            if a.migrant_id != migrant.id {
                return Err(Failure::at(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    IssueType::Invalid,
                    "Immunization.encounter.reference",
                    "is not an Encounter of the Patient",
                ));
            }
            Some(a)
        }
    };
    let site: SiteId = match (&assessment, &parts.location) {
        (Some(a), _) => a.site_id,
        (None, Some(r)) => {
            let sites = state.store.list_sites().await?;
            let id = reference_id(r, "Location");
            sites
                .iter()
                .find(|s| Some(site::location_id(&s.id)) == id && user.user.scope.covers(s.id))
                .map(|s| s.id)
                .ok_or_else(|| {
                    unresolved(
                        "Immunization.location.reference",
                        format!("'{r}' is not the Location of one of your sites"),
                    )
                })?
        }
        (None, None) => match user.user.scope.filter() {
            Some([one]) => *one,
            _ => {
                return Err(Failure::from(FhirError::new(
                    "Immunization.location",
                    IssueKind::Required,
                    "name the site as its Location, or the Encounter it was given at",
                )));
            }
        },
    };
    let new = NewVaccination::parse(
        &parts.input,
        migrant.id,
        assessment.map(|a| a.id),
        site,
        catalogue(),
        state.today(),
    )
    .map_err(|e| {
        Failure::from(FhirError::value(
            immunization::element_of(&e.field),
            e.message,
        ))
    })?;
    Ok((new, parts.version))
}

/// `POST /Immunization`: records a vaccination.
pub(super) async fn create(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
    FhirBody(json): FhirBody,
) -> FhirResult {
    user.require(Permission::RecordClinical)?;
    let (new, _) = parse(&state, &user, &json).await?;
    let audit = user.event("vaccination.create", "vaccination", None);
    let v = state
        .store
        .record_vaccination(&new, &user.user.username, state.now(), &audit)
        .await?;
    Ok(Fhir::with_status(
        StatusCode::CREATED,
        immunization::from_vaccination(&v, catalogue()),
    )
    .etag(v.version)
    .location(format!(
        "{}/Immunization/{}/_history/{}",
        base.url, v.id, v.version
    )))
}

/// `PUT /Immunization/{id}`: replaces a vaccination; the version read must
/// be named by `If-Match` (412 when stale) or `meta.versionId` (409).
pub(super) async fn update(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    FhirBody(json): FhirBody,
) -> FhirResult {
    user.require(Permission::RecordClinical)?;
    let current = visible(&state, &user, &id).await?;
    if let Some(body_id) = json.get("id").and_then(|v| v.as_str())
        && body_id != current.id.to_string()
    {
        return Err(Failure::at(
            StatusCode::BAD_REQUEST,
            IssueType::Invalid,
            "Immunization.id",
            &format!("'{body_id}' is not the id in the URL ({})", current.id),
        ));
    }
    let (new, body_version) = parse(&state, &user, &json).await?;
    let (version, precondition) = match (if_match(&headers)?, body_version) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => {
            return Err(Failure::at(
                StatusCode::PRECONDITION_REQUIRED,
                IssueType::Required,
                "Immunization.meta.versionId",
                "name the version you read: If-Match: W/\"<version>\" or meta.versionId",
            ));
        }
    };
    let audit = user.event(
        "vaccination.update",
        "vaccination",
        Some(current.id.to_string()),
    );
    match state
        .store
        .update_vaccination(current.id, version, &new, state.now(), &audit)
        .await
    {
        Ok(v) => Ok(render(&v)),
        Err(StoreError::Conflict { message, .. }) => Err(Failure::at(
            if precondition {
                StatusCode::PRECONDITION_FAILED
            } else {
                StatusCode::CONFLICT
            },
            IssueType::Conflict,
            "Immunization.meta.versionId",
            &message,
        )),
        Err(e) => Err(e.into()),
    }
}
