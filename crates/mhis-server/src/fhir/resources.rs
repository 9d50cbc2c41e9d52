//! Read, vread, search, create and update of single resources.

use super::params::{DateFilter, Params, token};
use super::{Base, Failure, Fhir, FhirBody, FhirResult, FhirUser, if_match, reference_id};
use crate::api::assessments::{refresh_progress, visible_assessment};
use crate::api::migrants::{scoped_sites, visible_migrant};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use mhis_domain::access::{Permission, permission_to_record};
use mhis_domain::assessment::Assessment;
use mhis_domain::ids::{AssessmentId, MigrantId, ObservationId, SiteId};
use mhis_domain::migrant::{Migrant, PartialDate, normalise_document_number};
use mhis_domain::observation::Observation;
use mhis_domain::page::{Page, PageRequest};
use mhis_domain::transliteration::search_key;
use mhis_fhir::bundle::{IntoResource, parse_resource, searchset, to_json};
use mhis_fhir::model::coded::Coded;
use mhis_fhir::model::codes::{
    CapabilityStatementKind, FhirVersion, IssueType, PublicationStatus, ResourceTypes,
    RestfulCapabilityMode, SearchEntryMode, SearchParamType, VersioningPolicy,
};
use mhis_fhir::model::resources::bundle::{BundleEntry, BundleEntrySearch};
use mhis_fhir::model::resources::capability_statement::{
    CapabilityStatementRest, CapabilityStatementRestResource,
    CapabilityStatementRestResourceInteraction, CapabilityStatementRestResourceOperation,
    CapabilityStatementRestResourceSearchParam, CapabilityStatementSoftware,
};
use mhis_fhir::model::resources::{
    Bundle, CapabilityStatement, Condition, Observation as FhirObservation, Patient, Resource,
};
use mhis_fhir::model::types;
use mhis_fhir::{condition, diagnostic_report, encounter, observation, patient, site, uri};
use mhis_store::{AssessmentFilter, MigrantQuery, StoreError};

/// Maps a 404 of the JSON API onto FHIR's wording for `resource_type`.
pub(super) fn missing(resource_type: &'static str) -> impl Fn(ApiError) -> Failure {
    move |e| {
        if e.status == StatusCode::NOT_FOUND {
            Failure::not_found(resource_type)
        } else {
            e.into()
        }
    }
}

/// Reads a body as a resource of `resource_type`.
pub(super) fn typed(json: &serde_json::Value, resource_type: &str) -> FhirResult<Resource> {
    let found = json.get("resourceType").and_then(|t| t.as_str());
    if found != Some(resource_type) {
        return Err(Failure::at(
            StatusCode::BAD_REQUEST,
            IssueType::Structure,
            &format!("{resource_type}.resourceType"),
            &format!("must be '{resource_type}'"),
        ));
    }
    Ok(parse_resource(resource_type, json)?)
}

/// A searchset Bundle of one page of matches, with included resources.
pub(super) fn bundle(
    base: &Base,
    params: &Params,
    total: u64,
    matches: Vec<Resource>,
    included: Vec<Resource>,
) -> Fhir {
    let next = params.next_url(base, total);
    let mut b = searchset(
        &base.url,
        &params.self_url(base),
        next.as_deref(),
        Some(u32::try_from(total).unwrap_or(u32::MAX)),
        matches,
    );
    add_entries(&mut b, &base.url, included, SearchEntryMode::Include);
    Fhir::ok(b)
}

/// Appends `resources` to a searchset with the search mode `mode`.
pub(super) fn add_entries(
    b: &mut Bundle,
    base: &str,
    resources: Vec<Resource>,
    mode: SearchEntryMode,
) {
    for res in resources {
        let json = to_json(&res);
        let full_url = match (json["resourceType"].as_str(), json["id"].as_str()) {
            (Some(t), Some(id)) => Some(types::Uri(format!("{base}/{t}/{id}"))),
            _ => None,
        };
        b.entry.push(BundleEntry {
            full_url,
            resource: Some(json),
            search: Some(BundleEntrySearch {
                mode: Some(Coded::Known(mode.clone())),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
}

/// One page of `items` (already filtered), and their number.
pub(super) fn paged<T>(items: Vec<T>, page: PageRequest) -> (u64, Vec<T>) {
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(page.per_page() as usize)
        .collect();
    (total, items)
}

fn version_param(vid: &str) -> FhirResult<i64> {
    vid.parse().map_err(|_| Failure::not_found("version"))
}

// ---------------------------------------------------------------- metadata

fn interaction(code: &str) -> CapabilityStatementRestResourceInteraction {
    CapabilityStatementRestResourceInteraction {
        code: types::Code(code.to_owned()),
        ..Default::default()
    }
}

fn search_param(
    name: &str,
    kind: SearchParamType,
    doc: &str,
) -> CapabilityStatementRestResourceSearchParam {
    CapabilityStatementRestResourceSearchParam {
        name: types::String(name.to_owned()),
        r#type: Coded::Known(kind),
        documentation: Some(types::Markdown(doc.to_owned())),
        ..Default::default()
    }
}

fn rest_resource(
    kind: ResourceTypes,
    interactions: &[&str],
    params: Vec<CapabilityStatementRestResourceSearchParam>,
    includes: &[&str],
    doc: &str,
) -> CapabilityStatementRestResource {
    CapabilityStatementRestResource {
        r#type: Coded::Known(kind),
        documentation: Some(types::Markdown(doc.to_owned())),
        interaction: interactions.iter().map(|c| interaction(c)).collect(),
        versioning: Some(Coded::Known(VersioningPolicy::Versioned)),
        read_history: Some(types::Boolean(false)),
        update_create: Some(types::Boolean(false)),
        search_include: includes
            .iter()
            .map(|i| types::String((*i).to_owned()))
            .collect(),
        search_param: params,
        ..Default::default()
    }
}

/// What this server can do.
pub fn capability_statement(now: &str) -> CapabilityStatement {
    use SearchParamType::{Date, Reference, String as Str, Token};
    let patient_ref = || search_param("patient", Reference, "Patient/<migrant id>");
    let subject_ref = || search_param("subject", Reference, "Patient/<migrant id>");
    let resources = vec![
        {
            let mut r = rest_resource(
                ResourceTypes::Patient,
                &["read", "vread", "search-type", "create", "update"],
                vec![
                    search_param("_id", Token, "the migrant's id"),
                    search_param(
                        "identifier",
                        Token,
                        "a travel document number, optionally with its mhis system (urn:mhis:travel-document:<kind>:<country>)",
                    ),
                    search_param("name", Str, "names in any script, each word a prefix"),
                    search_param("birthdate", Date, "YYYY, YYYY-MM or YYYY-MM-DD"),
                ],
                &["Patient:organization"],
                "Migrants. Update needs If-Match or meta.versionId; vread answers the current version only.",
            );
            r.operation = vec![CapabilityStatementRestResourceOperation {
                name: types::String("everything".into()),
                definition: types::Canonical(
                    "http://hl7.org/fhir/OperationDefinition/Patient-everything".into(),
                ),
                ..Default::default()
            }];
            r
        },
        rest_resource(
            ResourceTypes::Encounter,
            &["read", "vread", "search-type"],
            vec![
                search_param("_id", Token, "the assessment's id"),
                patient_ref(),
                subject_ref(),
                search_param("date", Date, "the assessment date (with patient)"),
            ],
            &["Encounter:patient", "Encounter:subject"],
            "Assessments.",
        ),
        rest_resource(
            ResourceTypes::Observation,
            &["read", "vread", "search-type", "create"],
            vec![
                patient_ref(),
                subject_ref(),
                search_param("encounter", Reference, "Encounter/<assessment id>"),
                search_param("code", Token, "LOINC, SNOMED CT or mhis code"),
                search_param("date", Date, "when observed"),
            ],
            &[
                "Observation:patient",
                "Observation:subject",
                "Observation:encounter",
            ],
            "Results. Create needs encounter = Encounter/<assessment id>. Search needs patient, subject or encounter.",
        ),
        rest_resource(
            ResourceTypes::DiagnosticReport,
            &["search-type"],
            vec![patient_ref(), subject_ref()],
            &[],
            "Chest X-ray readings.",
        ),
        rest_resource(
            ResourceTypes::Condition,
            &["search-type"],
            vec![patient_ref(), subject_ref()],
            &[],
            "Classes the destination protocol found.",
        ),
        rest_resource(
            ResourceTypes::Organization,
            &["read", "search-type"],
            vec![
                search_param("_id", Token, "the site's id"),
                search_param("identifier", Token, "the site code"),
            ],
            &[],
            "Sites.",
        ),
        rest_resource(
            ResourceTypes::Location,
            &["read", "search-type"],
            vec![
                search_param("_id", Token, "derived from the site's id"),
                search_param("identifier", Token, "the site code"),
            ],
            &[],
            "Sites as places.",
        ),
        rest_resource(
            ResourceTypes::Immunization,
            &["read", "vread", "search-type", "create", "update"],
            vec![
                search_param("_id", Token, "the vaccination's id"),
                patient_ref(),
                subject_ref(),
                search_param("date", Date, "the day given (with patient)"),
            ],
            &[],
            "Vaccinations, coded by CVX (http://hl7.org/fhir/sid/cvx) from mhis's vaccine catalogue. Search needs patient, subject or _id; update needs If-Match or meta.versionId; vread answers the current version only.",
        ),
        rest_resource(
            ResourceTypes::ServiceRequest,
            &["read", "search-type"],
            vec![
                search_param("_id", Token, "the referral's id"),
                patient_ref(),
                subject_ref(),
            ],
            &[],
            "Referrals and arrival notifications (ReferralRead).",
        ),
        rest_resource(
            ResourceTypes::Task,
            &["read", "search-type"],
            vec![
                search_param("_id", Token, "the referral's id"),
                patient_ref(),
                subject_ref(),
            ],
            &[],
            "The progress of each referral: state, outcome and outcome date; its id is the referral's (ReferralRead).",
        ),
    ];
    let rest = CapabilityStatementRest {
        mode: Coded::Known(RestfulCapabilityMode::Server),
        documentation: Some(types::Markdown(
            "Bearer API tokens as for /api/v1; records outside the user's sites answer 404. Every search takes _count (1-200) and _page.".into(),
        )),
        resource: resources,
        interaction: vec![mhis_fhir::model::resources::capability_statement::CapabilityStatementRestInteraction {
            code: types::Code("transaction".into()),
            documentation: Some(types::Markdown(
                "Imports Patients, Encounters and Observations, all or nothing.".into(),
            )),
            ..Default::default()
        }],
        ..Default::default()
    };
    CapabilityStatement::builder()
        .status(Coded::Known(PublicationStatus::Active))
        .date(types::DateTime(now.to_owned()))
        .kind(Coded::Known(CapabilityStatementKind::Instance))
        .fhir_version(Coded::Known(FhirVersion::N401))
        // `format` is a non-empty list (`Vec1`), read from its JSON form.
        .format(
            serde_json::from_value(serde_json::json!(["application/fhir+json", "json"]))
                .expect("a non-empty list of codes"),
        )
        .software(CapabilityStatementSoftware {
            name: types::String("mhis".into()),
            version: Some(types::String(env!("CARGO_PKG_VERSION").into())),
            ..Default::default()
        })
        .rest(vec![rest])
        .build()
        .expect("every required element of the CapabilityStatement is set")
}

/// `GET /metadata`: readable without login.
pub(super) async fn metadata(State(state): State<AppState>) -> Fhir {
    let now = state.now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Fhir::ok(Resource::CapabilityStatement(Box::new(
        capability_statement(&now),
    )))
}

// ---------------------------------------------------------------- Patient

/// `GET /Patient/{id}`.
pub(super) async fn patient_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::MigrantRead)?;
    let m = visible_migrant(&state, &user, &id)
        .await
        .map_err(missing("Patient"))?;
    user.audit_read(&state, "migrant.read", "migrant", Some(m.id.to_string()))
        .await?;
    Ok(Fhir::ok(patient::from_migrant(&m)).etag(m.version))
}

/// `GET /Patient/{id}/_history/{vid}`: the current version only.
pub(super) async fn patient_vread(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path((id, vid)): Path<(String, String)>,
) -> FhirResult {
    user.require(Permission::MigrantRead)?;
    let m = visible_migrant(&state, &user, &id)
        .await
        .map_err(missing("Patient"))?;
    let vid = version_param(&vid)?;
    if vid != m.version {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            IssueType::NotFound,
            &format!(
                "version {vid} of Patient/{} is not kept: mhis keeps only the current version ({})",
                m.id, m.version
            ),
        ));
    }
    user.audit_read(&state, "migrant.read", "migrant", Some(m.id.to_string()))
        .await?;
    Ok(Fhir::ok(patient::from_migrant(&m)).etag(m.version))
}

/// The sites of migrants, as Organizations (for `_include`).
async fn organizations(state: &AppState, sites: Vec<SiteId>) -> FhirResult<Vec<Resource>> {
    let mut seen: Vec<SiteId> = Vec::new();
    let mut out = Vec::new();
    for s in sites {
        if seen.contains(&s) {
            continue;
        }
        seen.push(s);
        out.push(site::organization(&state.store.get_site(s).await?).into_resource());
    }
    Ok(out)
}

/// `GET /Patient?…`.
pub(super) async fn patient_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(
        &base,
        &["_id", "identifier", "name", "birthdate", "_include"],
    )?;
    params.check_includes(&["Patient:organization"])?;
    user.require(Permission::MigrantRead)?;
    let page: Page<Migrant> = if let Some(id) = params.get("_id") {
        let found = match visible_migrant(&state, &user, id).await {
            Ok(m) => vec![m],
            Err(e) if e.status == StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let (total, items) = paged(found, params.page);
        Page {
            items,
            page: params.page.page(),
            per_page: params.page.per_page(),
            total,
        }
    } else {
        let mut query = MigrantQuery {
            sites: scoped_sites(&user, None)?,
            ..Default::default()
        };
        let mut document_system = None;
        let mut nothing = false;
        if let Some(raw) = params.get("identifier") {
            let (system, value) = token(raw);
            match system {
                None => {}
                Some(s) if s.starts_with("urn:mhis:travel-document:") => {
                    document_system = Some(s.to_owned());
                }
                Some(s) if s.starts_with("urn:mhis:site:") && s.ends_with(":registration") => {
                    return Err(Failure::param(
                        "identifier",
                        "searching by registration number is not supported; search by travel document number",
                    ));
                }
                Some(_) => nothing = true,
            }
            let number = normalise_document_number(value);
            if number.is_empty() {
                return Err(Failure::param("identifier", "holds no document number"));
            }
            query.document_number = Some(number);
        }
        if let Some(name) = params.get("name") {
            query.name_tokens = search_key(name)
                .split_whitespace()
                .map(String::from)
                .collect();
            if query.name_tokens.is_empty() {
                return Err(Failure::param("name", "holds no letters to search for"));
            }
        }
        if let Some(b) = params.get("birthdate") {
            let b = b.strip_prefix("eq").unwrap_or(b);
            query.birth_date = Some(
                PartialDate::parse("birthdate", b, state.today())
                    .map_err(|e| Failure::param("birthdate", &e.message))?,
            );
        }
        if nothing {
            Page {
                items: Vec::new(),
                page: params.page.page(),
                per_page: params.page.per_page(),
                total: 0,
            }
        } else {
            let mut found = state.store.search_migrants(&query, params.page).await?;
            if let Some(system) = document_system {
                let before = found.items.len();
                found.items.retain(|m| {
                    m.details.document.as_ref().is_some_and(|d| {
                        uri::travel_document_system(d.kind, &d.issuing_country) == system
                    })
                });
                found.total -= (before - found.items.len()) as u64;
            }
            found
        }
    };
    user.audit_read(&state, "migrant.search", "migrant", None)
        .await?;
    let included = if params.includes("Patient:organization") {
        organizations(&state, page.items.iter().map(|m| m.registered_at).collect()).await?
    } else {
        Vec::new()
    };
    let matches = page
        .items
        .iter()
        .map(|m| patient::from_migrant(m).into_resource())
        .collect();
    Ok(bundle(&base, &params, page.total, matches, included))
}

/// The registering site a Patient names in `managingOrganization`, else
/// the user's only site.
pub(super) fn registering_site(
    user: &CurrentUser,
    p: &Patient,
    path: &str,
) -> Result<SiteId, mhis_fhir::FhirError> {
    let at = format!("{path}.managingOrganization");
    match p
        .managing_organization
        .as_ref()
        .and_then(|r| r.reference.as_ref())
    {
        Some(r) => {
            let id = reference_id(&r.0, "Organization").ok_or_else(|| {
                mhis_fhir::FhirError::value(
                    format!("{at}.reference"),
                    format!("'{}' is not Organization/<site id>", r.0),
                )
            })?;
            let site = SiteId(id);
            if user.user.scope.covers(site) {
                Ok(site)
            } else {
                Err(mhis_fhir::FhirError::value(
                    format!("{at}.reference"),
                    "no such Organization among your sites",
                ))
            }
        }
        None => match user.user.scope.filter() {
            Some([one]) => Ok(*one),
            _ => Err(mhis_fhir::FhirError::required(at).within(path)),
        },
    }
}

/// `POST /Patient`: registers a migrant.
pub(super) async fn patient_create(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
    FhirBody(json): FhirBody,
) -> FhirResult {
    user.require(Permission::MigrantWrite)?;
    let Resource::Patient(p) = typed(&json, "Patient")? else {
        return Err(Failure::not_found("Patient"));
    };
    let details = patient::to_migrant_details(&p, state.today());
    let site = registering_site(&user, &p, "Patient");
    let (details, site) = match (details, site) {
        (Ok(d), Ok(s)) => (d, s),
        (d, s) => {
            return Err(
                mhis_fhir::FhirError::merge(d.err().into_iter().chain(s.err()))
                    .map(Failure::from)
                    .unwrap_or_else(|| Failure::not_found("Patient")),
            );
        }
    };
    let audit = user.event("migrant.create", "migrant", None);
    let (m, _) = state
        .store
        .create_migrant(site, &details, state.now(), &audit)
        .await?;
    Ok(
        Fhir::with_status(StatusCode::CREATED, patient::from_migrant(&m))
            .etag(m.version)
            .location(format!(
                "{}/Patient/{}/_history/{}",
                base.url, m.id, m.version
            )),
    )
}

/// `PUT /Patient/{id}`: replaces a migrant's details; the version read must
/// be named by `If-Match` (412 when stale) or `meta.versionId` (409).
pub(super) async fn patient_update(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    FhirBody(json): FhirBody,
) -> FhirResult {
    user.require(Permission::MigrantWrite)?;
    let current = visible_migrant(&state, &user, &id)
        .await
        .map_err(missing("Patient"))?;
    let Resource::Patient(p) = typed(&json, "Patient")? else {
        return Err(Failure::not_found("Patient"));
    };
    if let Some(body_id) = &p.id
        && body_id.0 != current.id.to_string()
    {
        return Err(Failure::at(
            StatusCode::BAD_REQUEST,
            IssueType::Invalid,
            "Patient.id",
            &format!("'{}' is not the id in the URL ({})", body_id.0, current.id),
        ));
    }
    let (version, precondition) = match (if_match(&headers)?, patient::version(&p)?) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => {
            return Err(Failure::at(
                StatusCode::PRECONDITION_REQUIRED,
                IssueType::Required,
                "Patient.meta.versionId",
                "name the version you read: If-Match: W/\"<version>\" or meta.versionId",
            ));
        }
    };
    let details = patient::to_migrant_details(&p, state.today())?;
    let audit = user.event("migrant.update", "migrant", Some(current.id.to_string()));
    match state
        .store
        .update_migrant(current.id, version, &details, state.now(), &audit)
        .await
    {
        Ok(m) => Ok(Fhir::ok(patient::from_migrant(&m)).etag(m.version)),
        Err(StoreError::Conflict { .. }) => Err(Failure::at(
            if precondition {
                StatusCode::PRECONDITION_FAILED
            } else {
                StatusCode::CONFLICT
            },
            IssueType::Conflict,
            if precondition {
                "If-Match"
            } else {
                "Patient.meta.versionId"
            },
            &format!(
                "Patient/{} changed since version {version}; read it again and apply the change to the current version",
                current.id
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- Encounter

/// `GET /Encounter/{id}`.
pub(super) async fn encounter_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::AssessmentRead)?;
    let a = visible_assessment(&state, &user, &id)
        .await
        .map_err(missing("Encounter"))?;
    user.audit_read(
        &state,
        "assessment.read",
        "assessment",
        Some(a.id.to_string()),
    )
    .await?;
    Ok(Fhir::ok(encounter::from_assessment(&a)).etag(1))
}

/// `GET /Encounter/{id}/_history/1`: assessments are not versioned; `1`
/// is the current one.
pub(super) async fn encounter_vread(
    state: State<AppState>,
    user: FhirUser,
    Path((id, vid)): Path<(String, String)>,
) -> FhirResult {
    if vid != "1" {
        return Err(Failure::not_found("version"));
    }
    encounter_read(state, user, Path(id)).await
}

/// Every assessment of a migrant within the user's scope.
pub(super) async fn assessments_of(
    state: &AppState,
    user: &CurrentUser,
    migrant: MigrantId,
) -> FhirResult<Vec<Assessment>> {
    let mut out = Vec::new();
    let filter = AssessmentFilter {
        migrant_id: Some(migrant),
        sites: scoped_sites(user, None)?,
        status: None,
    };
    let mut page = 1;
    loop {
        let found = state
            .store
            .list_assessments(&filter, PageRequest::parse(Some(page), Some(200))?)
            .await?;
        let n = found.items.len();
        out.extend(found.items);
        if n < 200 {
            return Ok(out);
        }
        page += 1;
    }
}

/// The migrant a `patient`/`subject` search names, when visible.
pub(super) async fn searched_patient(
    state: &AppState,
    user: &CurrentUser,
    id: uuid::Uuid,
) -> FhirResult<Option<Migrant>> {
    match visible_migrant(state, user, &id.to_string()).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.status == StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `GET /Encounter?…`.
pub(super) async fn encounter_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(&base, &["_id", "patient", "subject", "date", "_include"])?;
    params.check_includes(&["Encounter:patient", "Encounter:subject"])?;
    user.require(Permission::AssessmentRead)?;
    let dates = DateFilter::all(&params, "date")?;
    let (total, items): (u64, Vec<Assessment>) = if let Some(id) = params.get("_id") {
        let found = match visible_assessment(&state, &user, id).await {
            Ok(a) => vec![a],
            Err(e) if e.status == StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        paged(found, params.page)
    } else if let Some(pid) = params.patient()? {
        let all = match searched_patient(&state, &user, pid).await? {
            Some(m) => assessments_of(&state, &user, m.id).await?,
            None => Vec::new(),
        };
        let all = all
            .into_iter()
            .filter(|a| dates.iter().all(|d| d.matches(a.assessment_date)))
            .collect();
        paged(all, params.page)
    } else {
        if !dates.is_empty() {
            return Err(Failure::param(
                "date",
                "searching by date needs patient or subject",
            ));
        }
        let filter = AssessmentFilter {
            sites: scoped_sites(&user, None)?,
            ..Default::default()
        };
        let page = state.store.list_assessments(&filter, params.page).await?;
        (page.total, page.items)
    };
    user.audit_read(&state, "assessment.search", "assessment", None)
        .await?;
    let included = if params.includes("Encounter:patient") || params.includes("Encounter:subject") {
        patients(&state, items.iter().map(|a| a.migrant_id).collect()).await?
    } else {
        Vec::new()
    };
    let matches = items
        .iter()
        .map(|a| encounter::from_assessment(a).into_resource())
        .collect();
    Ok(bundle(&base, &params, total, matches, included))
}

/// Migrants as Patients, each once (for `_include`).
async fn patients(state: &AppState, ids: Vec<MigrantId>) -> FhirResult<Vec<Resource>> {
    let mut seen: Vec<MigrantId> = Vec::new();
    let mut out = Vec::new();
    for id in ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        out.push(patient::from_migrant(&state.store.get_migrant(id).await?).into_resource());
    }
    Ok(out)
}

// ---------------------------------------------------------------- Observation

/// An observation with its assessment, when in the user's scope.
async fn visible_observation(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> FhirResult<(Observation, Assessment)> {
    let id = ObservationId(id.parse().map_err(|_| Failure::not_found("Observation"))?);
    let o = match state.store.get_observation(id).await {
        Err(StoreError::NotFound { .. }) => return Err(Failure::not_found("Observation")),
        other => other?,
    };
    let a = state.store.get_assessment(o.assessment_id).await?;
    if !user.user.scope.covers(a.site_id) {
        return Err(Failure::not_found("Observation"));
    }
    Ok((o, a))
}

fn observation_resource(
    state: &AppState,
    o: &Observation,
    subject: MigrantId,
) -> FhirResult<Resource> {
    Ok(observation::from_observation(o, &state.vocabulary, subject)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .into_resource())
}

/// `GET /Observation/{id}`.
pub(super) async fn observation_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::AssessmentRead)?;
    let (o, a) = visible_observation(&state, &user, &id).await?;
    user.audit_read(
        &state,
        "observation.read",
        "observation",
        Some(o.id.to_string()),
    )
    .await?;
    Ok(Fhir::ok(observation_resource(&state, &o, a.migrant_id)?).etag(1))
}

/// `GET /Observation/{id}/_history/1`: an observation is never changed (a
/// correction is a new one), so `1` is its only version.
pub(super) async fn observation_vread(
    state: State<AppState>,
    user: FhirUser,
    Path((id, vid)): Path<(String, String)>,
) -> FhirResult {
    if vid != "1" {
        return Err(Failure::not_found("version"));
    }
    observation_read(state, user, Path(id)).await
}

/// Whether an observation's code matches a `code` token search.
fn code_matches(state: &AppState, o: &Observation, tokens: &[(Option<&str>, &str)]) -> bool {
    let Some(def) = state.vocabulary.get(&o.code) else {
        return false;
    };
    let concept = observation::code_concept(def);
    tokens.iter().any(|(system, code)| {
        concept.coding.iter().any(|c| {
            c.code.as_ref().is_some_and(|k| k.0 == *code)
                && system.is_none_or(|s| c.system.as_ref().is_some_and(|cs| cs.0 == s))
        })
    })
}

/// The observations (current, and superseded when `history`) of the
/// assessments given, as (observation, migrant) pairs.
pub(super) async fn observations_of(
    state: &AppState,
    assessments: &[Assessment],
    history: bool,
) -> FhirResult<Vec<(Observation, MigrantId)>> {
    let mut out = Vec::new();
    for a in assessments {
        for o in state.store.list_observations(a.id, history).await? {
            out.push((o, a.migrant_id));
        }
    }
    Ok(out)
}

/// `GET /Observation?…`: needs `patient`, `subject` or `encounter`.
pub(super) async fn observation_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(
        &base,
        &[
            "patient",
            "subject",
            "encounter",
            "code",
            "date",
            "_include",
        ],
    )?;
    params.check_includes(&[
        "Observation:patient",
        "Observation:subject",
        "Observation:encounter",
    ])?;
    user.require(Permission::AssessmentRead)?;
    let dates = DateFilter::all(&params, "date")?;
    let codes: Vec<(Option<&str>, &str)> = params
        .all("code")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(token)
        .collect();
    let assessments = if let Some(enc) = params.get("encounter") {
        let id = reference_id(enc, "Encounter").ok_or_else(|| {
            Failure::param(
                "encounter",
                &format!("'{enc}' is not a reference to an Encounter"),
            )
        })?;
        let found = match visible_assessment(&state, &user, &id.to_string()).await {
            Ok(a) => vec![a],
            Err(e) if e.status == StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        match params.patient()? {
            Some(p) => found.into_iter().filter(|a| a.migrant_id.0 == p).collect(),
            None => found,
        }
    } else if let Some(pid) = params.patient()? {
        match searched_patient(&state, &user, pid).await? {
            Some(m) => assessments_of(&state, &user, m.id).await?,
            None => Vec::new(),
        }
    } else {
        return Err(Failure::param(
            "patient",
            "an Observation search needs patient, subject or encounter",
        ));
    };
    let mut all: Vec<(Observation, MigrantId)> = observations_of(&state, &assessments, false)
        .await?
        .into_iter()
        .filter(|(o, _)| codes.is_empty() || code_matches(&state, o, &codes))
        .filter(|(o, _)| dates.iter().all(|d| d.matches(o.observed_at.date_naive())))
        .collect();
    all.sort_by_key(|(o, _)| std::cmp::Reverse(o.observed_at));
    let (total, items) = paged(all, params.page);
    for a in &assessments {
        user.audit_read(
            &state,
            "observation.list",
            "assessment",
            Some(a.id.to_string()),
        )
        .await?;
    }
    let mut included = Vec::new();
    if params.includes("Observation:patient") || params.includes("Observation:subject") {
        included.extend(patients(&state, items.iter().map(|(_, m)| *m).collect()).await?);
    }
    if params.includes("Observation:encounter") {
        let mut seen: Vec<AssessmentId> = Vec::new();
        for (o, _) in &items {
            if !seen.contains(&o.assessment_id)
                && let Some(a) = assessments.iter().find(|a| a.id == o.assessment_id)
            {
                seen.push(a.id);
                included.push(encounter::from_assessment(a).into_resource());
            }
        }
    }
    let matches = items
        .iter()
        .map(|(o, m)| observation_resource(&state, o, *m))
        .collect::<FhirResult<Vec<_>>>()?;
    Ok(bundle(&base, &params, total, matches, included))
}

/// `POST /Observation`: records one result on the assessment its
/// `encounter` names.
pub(super) async fn observation_create(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
    FhirBody(json): FhirBody,
) -> FhirResult {
    let Resource::Observation(fo) = typed(&json, "Observation")? else {
        return Err(Failure::not_found("Observation"));
    };
    let a = observation_target(&state, &user, &fo, "Observation").await?;
    let now = state.now();
    let new = observation::to_new_observation(&fo, &state.vocabulary, now)?;
    if let Some(def) = state.vocabulary.get(&new.code) {
        user.require(permission_to_record(def.section))?;
    }
    let audit = user.event("observation.record", "assessment", Some(a.id.to_string()));
    let stored = state
        .store
        .record_observations(
            a.id,
            std::slice::from_ref(&new),
            &mhis_store::Actor(user.user.username.clone()),
            now,
            &audit,
        )
        .await?;
    refresh_progress(&state, a.id).await;
    let o = stored
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("record_observations stored nothing"))?;
    Ok(Fhir::with_status(
        StatusCode::CREATED,
        observation_resource(&state, &o, a.migrant_id)?,
    )
    .etag(1)
    .location(format!("{}/Observation/{}/_history/1", base.url, o.id)))
}

/// The assessment an Observation's `encounter` names (in the user's
/// scope), checking that `subject`, when given, is its migrant. `path`
/// prefixes the element paths in errors.
async fn observation_target(
    state: &AppState,
    user: &CurrentUser,
    fo: &FhirObservation,
    path: &str,
) -> FhirResult<Assessment> {
    let enc = fo
        .encounter
        .as_ref()
        .and_then(|r| r.reference.as_ref())
        .ok_or_else(|| {
            Failure::from(mhis_fhir::FhirError::new(
                format!("{path}.encounter"),
                mhis_fhir::IssueKind::Required,
                "is required: name the assessment as Encounter/<assessment id>",
            ))
        })?;
    let bad = |msg: &str| {
        Failure::at(
            StatusCode::UNPROCESSABLE_ENTITY,
            IssueType::NotFound,
            &format!("{path}.encounter.reference"),
            msg,
        )
    };
    let id = reference_id(&enc.0, "Encounter")
        .ok_or_else(|| bad(&format!("'{}' is not Encounter/<assessment id>", enc.0)))?;
    let a = visible_assessment(state, user, &id.to_string())
        .await
        .map_err(|e| {
            if e.status == StatusCode::NOT_FOUND {
                bad(&format!("no such Encounter: {}", enc.0))
            } else {
                e.into()
            }
        })?;
    if let Some(subject) = fo.subject.as_ref().and_then(|r| r.reference.as_ref())
        && reference_id(&subject.0, "Patient") != Some(a.migrant_id.0)
    {
        return Err(Failure::at(
            StatusCode::UNPROCESSABLE_ENTITY,
            IssueType::Invalid,
            &format!("{path}.subject.reference"),
            &format!(
                "'{}' is not the Patient of the Encounter (Patient/{})",
                subject.0, a.migrant_id
            ),
        ));
    }
    Ok(a)
}

// ---------------------------------------------------------------- reports and conditions

/// Chest X-ray readings of `items` as DiagnosticReports.
pub(super) fn reports(
    state: &AppState,
    items: &[(Observation, MigrantId)],
) -> FhirResult<Vec<Resource>> {
    items
        .iter()
        .filter(|(o, _)| o.code == diagnostic_report::CXR_CODE)
        .map(|(o, m)| {
            diagnostic_report::chest_xray(o, &state.vocabulary, *m)
                .map(IntoResource::into_resource)
                .map_err(|e| ApiError::internal(e.to_string()).into())
        })
        .collect()
}

/// The classes the protocol decides for each assessment, as Conditions
/// with ids derived from the assessment and the class key.
pub(super) async fn conditions(
    state: &AppState,
    assessments: &[Assessment],
) -> FhirResult<Vec<Resource>> {
    let mut out = Vec::new();
    for a in assessments {
        let case = crate::api::assessments::case_of(state, a).await?;
        // A protocol no longer loaded decides nothing here.
        let Ok(decision) = state.protocols.classify(a.protocol.as_str(), &case) else {
            continue;
        };
        for (key, class) in &decision.classes.0 {
            let mut c: Condition = condition::from_class(a, key, class);
            c.id = Some(types::String(
                uuid::Uuid::new_v5(&a.id.0, key.as_bytes()).to_string(),
            ));
            out.push(c.into_resource());
        }
    }
    Ok(out)
}

/// The assessments of the patient a search names (`patient`/`subject`,
/// required).
async fn patient_assessments(
    state: &AppState,
    user: &CurrentUser,
    params: &Params,
    resource_type: &str,
) -> FhirResult<Vec<Assessment>> {
    let Some(pid) = params.patient()? else {
        return Err(Failure::param(
            "patient",
            &format!("a {resource_type} search needs patient or subject"),
        ));
    };
    Ok(match searched_patient(state, user, pid).await? {
        Some(m) => assessments_of(state, user, m.id).await?,
        None => Vec::new(),
    })
}

/// `GET /DiagnosticReport?patient=…`.
pub(super) async fn report_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(&base, &["patient", "subject"])?;
    user.require(Permission::AssessmentRead)?;
    let assessments = patient_assessments(&state, &user, &params, "DiagnosticReport").await?;
    let obs = observations_of(&state, &assessments, false).await?;
    for a in &assessments {
        user.audit_read(
            &state,
            "observation.list",
            "assessment",
            Some(a.id.to_string()),
        )
        .await?;
    }
    let (total, items) = paged(reports(&state, &obs)?, params.page);
    Ok(bundle(&base, &params, total, items, Vec::new()))
}

/// `GET /Condition?patient=…`.
pub(super) async fn condition_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    let params = Params::parse(&base, &["patient", "subject"])?;
    user.require(Permission::AssessmentRead)?;
    let assessments = patient_assessments(&state, &user, &params, "Condition").await?;
    for a in &assessments {
        user.audit_read(
            &state,
            "assessment.decision",
            "assessment",
            Some(a.id.to_string()),
        )
        .await?;
    }
    let (total, items) = paged(conditions(&state, &assessments).await?, params.page);
    Ok(bundle(&base, &params, total, items, Vec::new()))
}

// ---------------------------------------------------------------- sites

async fn site_search(
    state: &AppState,
    user: &CurrentUser,
    base: &Base,
    location: bool,
) -> FhirResult {
    let params = Params::parse(base, &["_id", "identifier"])?;
    user.require(Permission::SiteRead)?;
    let sites = state.store.list_sites().await?;
    let wanted_id = params.get("_id");
    let wanted_code = params.get("identifier").map(|t| token(t).1);
    let all: Vec<Resource> = sites
        .iter()
        .filter(|s| wanted_code.is_none_or(|c| c == s.code.as_str()))
        .filter_map(|s| {
            let r = if location {
                site::location(s).into_resource()
            } else {
                site::organization(s).into_resource()
            };
            let id = if location {
                site::location_id(&s.id).to_string()
            } else {
                s.id.to_string()
            };
            wanted_id.is_none_or(|w| w == id).then_some(r)
        })
        .collect();
    let (total, items) = paged(all, params.page);
    Ok(bundle(base, &params, total, items, Vec::new()))
}

/// `GET /Organization?…`.
pub(super) async fn organization_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    site_search(&state, &user, &base, false).await
}

/// `GET /Location?…`.
pub(super) async fn location_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    site_search(&state, &user, &base, true).await
}

/// `GET /Organization/{id}`.
pub(super) async fn organization_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::SiteRead)?;
    let id = id.parse().map_err(|_| Failure::not_found("Organization"))?;
    match state.store.get_site(SiteId(id)).await {
        Ok(s) => Ok(Fhir::ok(site::organization(&s))),
        Err(StoreError::NotFound { .. }) => Err(Failure::not_found("Organization")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /Location/{id}`.
pub(super) async fn location_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::SiteRead)?;
    let sites = state.store.list_sites().await?;
    sites
        .iter()
        .find(|s| site::location_id(&s.id).to_string() == id)
        .map(|s| Fhir::ok(site::location(s)))
        .ok_or_else(|| Failure::not_found("Location"))
}
