//! Bulk interactions: `Patient/$everything`, transaction Bundle import,
//! NDJSON export (for `mhis export fhir`) and the synthetic load of
//! `mhis bench fhir`.
//!
//! **Import** (`POST /fhir/R4` with a `transaction` Bundle) accepts
//! `POST Patient` (matched to a migrant with the same travel document in the
//! user's sites, else registered at `managingOrganization` or the user's
//! only site), `POST Encounter` (opens an assessment: `subject`,
//! `serviceProvider` = `Organization/<site id>`, the mhis destination and
//! protocol extensions, `type` in `urn:mhis:assessment-purpose`,
//! `period.start`) and `POST Observation` (`encounter` naming an existing
//! assessment or an Encounter of the Bundle by its `fullUrl`). Every entry
//! is read and checked before anything is written, and every problem is
//! reported in one `OperationOutcome` naming its entry
//! (`Bundle.entry[2].resource.valueQuantity.value`); a Bundle with a
//! problem writes nothing. The writes are then one store transaction
//! ([`mhis_store::ImportStore::import`]): every migrant, assessment,
//! observation and audit entry of the Bundle, so a failure only the
//! database detects (a result recorded meanwhile by someone else, a
//! constraint, a lost connection) also leaves nothing stored.

use super::resources::{
    assessments_of, conditions, missing, observations_of, registering_site, reports,
};
use super::{Base, Failure, Fhir, FhirBody, FhirResult, FhirUser, reference_id};
use crate::api::assessments::{refresh_progress, visible_assessment};
use crate::api::migrants::visible_migrant;
use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use mhis_domain::access::{Permission, permission_to_record};
use mhis_domain::assessment::{AssessmentInput, NewAssessment};
use mhis_domain::ids::{AssessmentId, MigrantId, SiteId};
use mhis_domain::migrant::{MigrantDetails, NewMigrant};
use mhis_domain::observation::NewObservation;
use mhis_domain::page::PageRequest;
use mhis_fhir::bundle::{EntryResponse, IntoResource, parse_requests, to_json};
use mhis_fhir::model::codes::{BundleType, HttpVerb, IssueType};
use mhis_fhir::model::resources::{Encounter, Resource};
use mhis_fhir::model::types::extension::ExtensionValue;
use mhis_fhir::{FhirError, IssueKind, encounter, observation, patient, site, uri};
use mhis_store::{
    Actor, AssessmentFilter, AssessmentSlot, Import, ImportAssessment, ImportBatch, ImportMigrant,
    MigrantQuery, MigrantSlot, StoreError,
};
use std::collections::BTreeMap;
use std::io::Write;

/// `GET /Patient/{id}/$everything`: the Patient, its registering site,
/// every assessment with its results, chest X-ray reports and conditions.
pub(super) async fn everything(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
    Path(id): Path<String>,
) -> FhirResult {
    user.require(Permission::MigrantRead)?;
    let m = visible_migrant(&state, &user, &id)
        .await
        .map_err(missing("Patient"))?;
    let mut matches = vec![patient::from_migrant(&m).into_resource()];
    let site = state.store.get_site(m.registered_at).await?;
    matches.push(site::organization(&site).into_resource());
    user.audit_read(
        &state,
        "migrant.everything",
        "migrant",
        Some(m.id.to_string()),
    )
    .await?;
    if user.user.can(Permission::AssessmentRead) {
        let assessments = assessments_of(&state, &user, m.id).await?;
        let obs = observations_of(&state, &assessments, true).await?;
        for a in &assessments {
            matches.push(encounter::from_assessment(a).into_resource());
        }
        for (o, subject) in &obs {
            matches.push(
                observation::from_observation(o, &state.vocabulary, *subject)
                    .map_err(|e| crate::error::ApiError::internal(e.to_string()))?
                    .into_resource(),
            );
        }
        matches.extend(reports(&state, &obs)?);
        matches.extend(conditions(&state, &assessments).await?);
        let catalogue = mhis_domain::vaccination::VaccineCatalogue::built_in();
        for v in state.store.vaccinations_of(m.id).await? {
            if user.user.scope.covers(v.content.site_id) {
                matches
                    .push(mhis_fhir::immunization::from_vaccination(&v, catalogue).into_resource());
            }
        }
    }
    let total = matches.len() as u32;
    let b = mhis_fhir::bundle::searchset(
        &base.url,
        &format!("{}{}", base.url, base.path),
        None,
        Some(total),
        matches,
    );
    Ok(Fhir::ok(b))
}

// ---------------------------------------------------------------- import

/// Who an imported Observation or Encounter is about.
#[derive(Debug, Clone, Copy)]
enum PatientSlot {
    Existing(MigrantId),
    New(usize),
}

/// Which assessment an imported Observation belongs to.
#[derive(Debug, Clone, Copy)]
enum EncounterSlot {
    Existing(AssessmentId),
    New(usize),
}

enum Step {
    Match(usize, MigrantId),
    CreatePatient(usize, SiteId, MigrantDetails),
    OpenAssessment(usize, PatientSlot, AssessmentInput),
    Record(usize, EncounterSlot, NewObservation),
}

fn extension_code(e: &Encounter, url: &str) -> Option<String> {
    e.extension
        .iter()
        .find(|x| x.url.0 == url)
        .and_then(|x| match &x.value {
            Some(ExtensionValue::Code(c)) => Some(c.value.0.clone()),
            Some(ExtensionValue::CodeableConcept(cc)) => cc
                .coding
                .iter()
                .find_map(|c| c.code.as_ref().map(|k| k.0.clone())),
            _ => None,
        })
}

/// `POST /fhir/R4` with a `transaction` Bundle.
pub(super) async fn transaction(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
    FhirBody(json): FhirBody,
) -> FhirResult {
    let (kind, entries) = parse_requests(&json)?;
    if kind != BundleType::Transaction {
        return Err(Failure::at(
            StatusCode::BAD_REQUEST,
            IssueType::NotSupported,
            "Bundle.type",
            "mhis imports transaction Bundles only (all or nothing)",
        ));
    }
    let today = state.today();
    let now = state.now();
    let mut problems: Vec<FhirError> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    // fullUrl → slot of a Patient or Encounter of this Bundle.
    let mut patients: BTreeMap<String, PatientSlot> = BTreeMap::new();
    let mut encounters: BTreeMap<String, (EncounterSlot, PatientSlot)> = BTreeMap::new();
    let mut new_patients = 0usize;
    let mut new_encounters = 0usize;
    // Codes recorded per assessment by this Bundle, and already there.
    let mut codes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("Bundle.entry[{i}].resource");
        if entry.method != HttpVerb::Post {
            problems.push(FhirError::new(
                format!("Bundle.entry[{i}].request.method"),
                IssueKind::NotSupported,
                "mhis imports by POST (create or match) only",
            ));
            continue;
        }
        match &entry.resource {
            Some(Resource::Patient(p)) => {
                user.require(Permission::MigrantWrite)?;
                let details = patient::to_migrant_details(p, today).map_err(|e| e.within(&at));
                let site = registering_site(&user, p, "Patient").map_err(|e| e.within(&at));
                let (details, site) = match (details, site) {
                    (Ok(d), Ok(s)) => (d, s),
                    (d, s) => {
                        problems.extend(d.err());
                        problems.extend(s.err());
                        continue;
                    }
                };
                let matched = match &details.document {
                    Some(doc) => {
                        let query = MigrantQuery {
                            document_number: Some(doc.number.clone()),
                            sites: crate::api::migrants::scoped_sites(&user, None)?,
                            ..Default::default()
                        };
                        state
                            .store
                            .search_migrants(&query, PageRequest::default())
                            .await?
                            .items
                            .into_iter()
                            .find(|m| {
                                m.details
                                    .document
                                    .as_ref()
                                    .is_some_and(|d| d.issuing_country == doc.issuing_country)
                            })
                    }
                    None => None,
                };
                let slot = match matched {
                    Some(m) => {
                        steps.push(Step::Match(i, m.id));
                        PatientSlot::Existing(m.id)
                    }
                    None => {
                        steps.push(Step::CreatePatient(i, site, details));
                        new_patients += 1;
                        PatientSlot::New(steps.len() - 1)
                    }
                };
                if let Some(url) = &entry.full_url {
                    patients.insert(url.clone(), slot);
                }
            }
            Some(Resource::Encounter(e)) => {
                user.require(Permission::AssessmentOpen)?;
                let subject = match resolve_patient(
                    &state,
                    &user,
                    &patients,
                    e.subject
                        .as_ref()
                        .and_then(|r| r.reference.as_ref())
                        .map(|r| r.0.as_str()),
                    &format!("{at}.subject"),
                )
                .await?
                {
                    Ok(s) => s,
                    Err(err) => {
                        problems.push(err);
                        continue;
                    }
                };
                let site = e
                    .service_provider
                    .as_ref()
                    .and_then(|r| r.reference.as_ref())
                    .and_then(|r| reference_id(&r.0, "Organization"))
                    .map(SiteId)
                    .filter(|s| user.user.scope.covers(*s));
                let Some(site) = site else {
                    problems.push(FhirError::new(
                        format!("{at}.serviceProvider"),
                        IssueKind::Required,
                        "is required: Organization/<site id> of one of your sites",
                    ));
                    continue;
                };
                let input = AssessmentInput {
                    migrant_id: uuid::Uuid::nil().to_string(),
                    site_id: site.to_string(),
                    purpose: e
                        .r#type
                        .iter()
                        .flat_map(|t| t.coding.iter())
                        .find(|c| {
                            c.system
                                .as_ref()
                                .is_some_and(|s| s.0 == uri::ASSESSMENT_PURPOSE)
                        })
                        .and_then(|c| c.code.as_ref().map(|k| k.0.clone()))
                        .unwrap_or_default(),
                    destination: extension_code(e, uri::EXT_DESTINATION).unwrap_or_default(),
                    protocol: extension_code(e, uri::EXT_PROTOCOL).unwrap_or_default(),
                    assessment_date: e
                        .period
                        .as_ref()
                        .and_then(|p| p.start.as_ref())
                        .map(|s| s.0.chars().take(10).collect()),
                };
                if let Err(err) = NewAssessment::parse(&input, state.protocols.ids(), today) {
                    let path = match err.field.as_str() {
                        "purpose" => format!("{at}.type"),
                        "destination" => format!("{at}.extension('{}')", uri::EXT_DESTINATION),
                        "protocol" => format!("{at}.extension('{}')", uri::EXT_PROTOCOL),
                        "assessment_date" => format!("{at}.period.start"),
                        _ => at.clone(),
                    };
                    problems.push(FhirError::value(path, err.message));
                    continue;
                }
                steps.push(Step::OpenAssessment(i, subject, input));
                new_encounters += 1;
                if let Some(url) = &entry.full_url {
                    encounters.insert(url.clone(), (EncounterSlot::New(steps.len() - 1), subject));
                }
            }
            Some(Resource::Observation(o)) => {
                let new = match observation::to_new_observation(o, &state.vocabulary, now) {
                    Ok(n) => n,
                    Err(e) => {
                        problems.push(e.within(&at));
                        continue;
                    }
                };
                if let Some(def) = state.vocabulary.get(&new.code) {
                    user.require(permission_to_record(def.section))?;
                }
                let enc = o
                    .encounter
                    .as_ref()
                    .and_then(|r| r.reference.as_ref())
                    .map(|r| r.0.clone());
                let subject = o
                    .subject
                    .as_ref()
                    .and_then(|r| r.reference.as_ref())
                    .map(|r| r.0.clone());
                let target = match enc {
                    None => Err(FhirError::new(
                        format!("{at}.encounter"),
                        IssueKind::Required,
                        "is required: Encounter/<assessment id> or the fullUrl of an Encounter in this Bundle",
                    )),
                    Some(r) => match encounters.get(&r) {
                        Some((slot, _)) => Ok((*slot, format!("new:{r}"))),
                        None => match reference_id(&r, "Encounter") {
                            None => Err(FhirError::new(
                                format!("{at}.encounter.reference"),
                                IssueKind::NotFound,
                                format!(
                                    "'{r}' is neither an Encounter of this Bundle nor Encounter/<assessment id>"
                                ),
                            )),
                            Some(id) => match visible_assessment(&state, &user, &id.to_string())
                                .await
                            {
                                Ok(a) if !a.status.accepts_results() => Err(FhirError::value(
                                    format!("{at}.encounter.reference"),
                                    "the assessment is finalised; amend it to change its results",
                                )),
                                Ok(a) => {
                                    if subject.as_deref().is_some_and(|s| {
                                        reference_id(s, "Patient") != Some(a.migrant_id.0)
                                            && !patients.contains_key(s)
                                    }) {
                                        Err(FhirError::value(
                                            format!("{at}.subject.reference"),
                                            "is not the Patient of the Encounter",
                                        ))
                                    } else {
                                        let key = a.id.to_string();
                                        if !codes.contains_key(&key) {
                                            let taken = state
                                                .store
                                                .list_observations(a.id, false)
                                                .await?
                                                .into_iter()
                                                .map(|o| o.code)
                                                .collect();
                                            codes.insert(key.clone(), taken);
                                        }
                                        Ok((EncounterSlot::Existing(a.id), key))
                                    }
                                }
                                Err(e) if e.status == StatusCode::NOT_FOUND => Err(FhirError::new(
                                    format!("{at}.encounter.reference"),
                                    IssueKind::NotFound,
                                    format!("no such Encounter: {r}"),
                                )),
                                Err(e) => return Err(e.into()),
                            },
                        },
                    },
                };
                match target {
                    Err(e) => problems.push(e),
                    Ok((slot, key)) => {
                        let taken = codes.entry(key).or_default();
                        if taken.contains(&new.code) {
                            problems.push(FhirError::value(
                                format!("{at}.code"),
                                format!(
                                    "'{}' already has a value on this assessment; correct that observation instead",
                                    new.code
                                ),
                            ));
                            continue;
                        }
                        taken.push(new.code.clone());
                        steps.push(Step::Record(i, slot, new));
                    }
                }
            }
            Some(other) => problems.push(FhirError::new(
                format!("{at}.resourceType"),
                IssueKind::NotSupported,
                format!(
                    "mhis imports Patient, Encounter and Observation, not {}",
                    mhis_fhir::bundle::resource_type(other)
                ),
            )),
            None => problems.push(FhirError::required(at)),
        }
    }
    if let Some(e) = FhirError::merge(problems) {
        let mut f = Failure::from(e);
        f.status = StatusCode::UNPROCESSABLE_ENTITY;
        return Err(f);
    }
    let _ = (new_patients, new_encounters);
    // Every check passed: write everything in one store transaction.
    let mut import = Import {
        migrants: Vec::new(),
        assessments: Vec::new(),
        batches: Vec::new(),
        actor: Actor(user.user.username.clone()),
    };
    let mut responses: BTreeMap<usize, EntryResponse> = BTreeMap::new();
    // Step index → index in `import.migrants` / `import.assessments`.
    let mut migrant_of_step: BTreeMap<usize, usize> = BTreeMap::new();
    let mut assessment_of_step: BTreeMap<usize, usize> = BTreeMap::new();
    // Entry index of each new migrant and assessment, in import order.
    let mut migrant_entries: Vec<usize> = Vec::new();
    let mut assessment_entries: Vec<usize> = Vec::new();
    // Per batch, the entry index of each observation.
    let mut batch_entries: Vec<Vec<usize>> = Vec::new();
    let mut batch_of: BTreeMap<AssessmentSlot, usize> = BTreeMap::new();
    for (index, step) in steps.into_iter().enumerate() {
        match step {
            Step::Match(i, id) => {
                let m = state.store.get_migrant(id).await?;
                responses.insert(
                    i,
                    EntryResponse {
                        status: "200 OK".into(),
                        location: Some(format!("Patient/{}/_history/{}", m.id, m.version)),
                        etag: Some(format!("W/\"{}\"", m.version)),
                        ..Default::default()
                    },
                );
            }
            Step::CreatePatient(i, site, details) => {
                migrant_of_step.insert(index, import.migrants.len());
                migrant_entries.push(i);
                import.migrants.push(ImportMigrant {
                    site,
                    details,
                    audit: user.event("migrant.create", "migrant", None),
                });
            }
            Step::OpenAssessment(i, subject, mut input) => {
                let migrant = match subject {
                    PatientSlot::Existing(m) => MigrantSlot::Existing(m),
                    PatientSlot::New(s) => MigrantSlot::New(migrant_of_step[&s]),
                };
                // Parsed with a stand-in migrant; the store puts in the new
                // migrant's id.
                input.migrant_id = match migrant {
                    MigrantSlot::Existing(m) => m.to_string(),
                    MigrantSlot::New(_) => uuid::Uuid::nil().to_string(),
                };
                let new = NewAssessment::parse(&input, state.protocols.ids(), today)?;
                assessment_of_step.insert(index, import.assessments.len());
                assessment_entries.push(i);
                import.assessments.push(ImportAssessment {
                    migrant,
                    assessment: new,
                    audit: user.event("assessment.create", "assessment", None),
                });
            }
            Step::Record(i, slot, new) => {
                let slot = match slot {
                    EncounterSlot::Existing(a) => AssessmentSlot::Existing(a),
                    EncounterSlot::New(s) => AssessmentSlot::New(assessment_of_step[&s]),
                };
                let b = *batch_of.entry(slot).or_insert_with(|| {
                    import.batches.push(ImportBatch {
                        assessment: slot,
                        observations: Vec::new(),
                        audit: user.event("observation.record", "assessment", None),
                    });
                    batch_entries.push(Vec::new());
                    import.batches.len() - 1
                });
                import.batches[b].observations.push(new);
                batch_entries[b].push(i);
            }
        }
    }
    let stored = state.store.import(&import, now).await?;
    for (i, m) in migrant_entries.iter().zip(&stored.migrants) {
        responses.insert(
            *i,
            EntryResponse {
                status: "201 Created".into(),
                location: Some(format!("Patient/{}/_history/{}", m.id, m.version)),
                etag: Some(format!("W/\"{}\"", m.version)),
                ..Default::default()
            },
        );
    }
    for (i, a) in assessment_entries.iter().zip(&stored.assessments) {
        responses.insert(
            *i,
            EntryResponse {
                status: "201 Created".into(),
                location: Some(format!("Encounter/{}/_history/1", a.id)),
                etag: Some("W/\"1\"".into()),
                ..Default::default()
            },
        );
    }
    let mut touched: Vec<AssessmentId> = stored.assessments.iter().map(|a| a.id).collect();
    for (entries, observations) in batch_entries.iter().zip(&stored.observations) {
        for (i, o) in entries.iter().zip(observations) {
            if !touched.contains(&o.assessment_id) {
                touched.push(o.assessment_id);
            }
            responses.insert(
                *i,
                EntryResponse {
                    status: "201 Created".into(),
                    location: Some(format!("Observation/{}/_history/1", o.id)),
                    etag: Some("W/\"1\"".into()),
                    ..Default::default()
                },
            );
        }
    }
    for a in touched {
        refresh_progress(&state, a).await;
    }
    let _ = &base;
    Ok(Fhir::ok(mhis_fhir::bundle::transaction_response(
        responses.into_values().collect(),
    )))
}

/// The Patient a reference names: one of this Bundle (by `fullUrl`) or a
/// stored migrant in the user's scope.
async fn resolve_patient(
    state: &AppState,
    user: &CurrentUser,
    patients: &BTreeMap<String, PatientSlot>,
    reference: Option<&str>,
    at: &str,
) -> FhirResult<Result<PatientSlot, FhirError>> {
    let Some(r) = reference else {
        return Ok(Err(FhirError::required(at.to_owned())));
    };
    if let Some(slot) = patients.get(r) {
        return Ok(Ok(*slot));
    }
    let Some(id) = reference_id(r, "Patient") else {
        return Ok(Err(FhirError::new(
            format!("{at}.reference"),
            IssueKind::NotFound,
            format!("'{r}' is neither a Patient of this Bundle nor Patient/<id>"),
        )));
    };
    match visible_migrant(state, user, &id.to_string()).await {
        Ok(m) => Ok(Ok(PatientSlot::Existing(m.id))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Ok(Err(FhirError::new(
            format!("{at}.reference"),
            IssueKind::NotFound,
            format!("no such Patient: {r}"),
        ))),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- export

/// What `mhis export fhir` writes.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only this site (by code).
    pub site: Option<String>,
    /// Only assessments on or after this date (and their patients).
    pub since: Option<NaiveDate>,
    /// Only assessments on or before this date (and their patients).
    pub until: Option<NaiveDate>,
}

/// How many resources of each type were written.
pub type ExportSummary = BTreeMap<String, usize>;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed.
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No site has the code asked for.
    #[error("no site has the code '{0}'")]
    NoSuchSite(String),
    /// A stored record could not be mapped.
    #[error("mapping: {0}")]
    Mapping(String),
}

struct Writers {
    dir: std::path::PathBuf,
    files: BTreeMap<String, std::io::BufWriter<std::fs::File>>,
    counts: ExportSummary,
}

impl Writers {
    fn write(&mut self, r: &Resource) -> Result<(), ExportError> {
        let t = mhis_fhir::bundle::resource_type(r);
        let path = self.dir.join(format!("{t}.ndjson"));
        let io = |e| ExportError::Io(path.display().to_string(), e);
        if !self.files.contains_key(&t) {
            let f = std::fs::File::create(&path).map_err(io)?;
            self.files.insert(t.clone(), std::io::BufWriter::new(f));
        }
        let Some(w) = self.files.get_mut(&t) else {
            return Ok(());
        };
        let line = serde_json::to_string(&to_json(r)).unwrap_or_default();
        w.write_all(line.as_bytes()).map_err(io)?;
        w.write_all(b"\n").map_err(io)?;
        *self.counts.entry(t).or_default() += 1;
        Ok(())
    }
}

/// Writes every resource of the deployment (or of one site or period) into
/// `dir` as NDJSON, one file per resource type (`Patient.ndjson`, …).
/// A period selects assessments by date and the patients assessed in it;
/// without one every migrant of the site(s) is written.
pub async fn export_ndjson(
    state: &AppState,
    dir: &std::path::Path,
    filter: &ExportFilter,
) -> Result<ExportSummary, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::Io(dir.display().to_string(), e))?;
    let mut out = Writers {
        dir: dir.to_owned(),
        files: BTreeMap::new(),
        counts: BTreeMap::new(),
    };
    let mut sites = state.store.list_sites().await?;
    if let Some(code) = &filter.site {
        sites.retain(|s| s.code.as_str() == code);
        if sites.is_empty() {
            return Err(ExportError::NoSuchSite(code.clone()));
        }
    }
    let site_ids: Vec<SiteId> = sites.iter().map(|s| s.id).collect();
    for s in &sites {
        out.write(&site::organization(s).into_resource())?;
        out.write(&site::location(s).into_resource())?;
    }
    let map = |e: FhirError| ExportError::Mapping(e.to_string());
    let periodic = filter.since.is_some() || filter.until.is_some();
    let in_period =
        |d: NaiveDate| filter.since.is_none_or(|s| d >= s) && filter.until.is_none_or(|u| d <= u);
    let mut patients: Vec<MigrantId> = Vec::new();
    let mut page = 1;
    loop {
        let found = state
            .store
            .list_assessments(
                &AssessmentFilter {
                    sites: Some(site_ids.clone()),
                    ..Default::default()
                },
                PageRequest::parse(Some(page), Some(200))
                    .map_err(|e| ExportError::Mapping(e.to_string()))?,
            )
            .await?;
        let n = found.items.len();
        for a in found.items.iter().filter(|a| in_period(a.assessment_date)) {
            if periodic && !patients.contains(&a.migrant_id) {
                patients.push(a.migrant_id);
            }
            out.write(&encounter::from_assessment(a).into_resource())?;
            let obs: Vec<_> = state
                .store
                .list_observations(a.id, true)
                .await?
                .into_iter()
                .map(|o| (o, a.migrant_id))
                .collect();
            for (o, m) in &obs {
                out.write(
                    &observation::from_observation(o, &state.vocabulary, *m)
                        .map_err(map)?
                        .into_resource(),
                )?;
                if o.code == mhis_fhir::diagnostic_report::CXR_CODE {
                    out.write(
                        &mhis_fhir::diagnostic_report::chest_xray(o, &state.vocabulary, *m)
                            .map_err(map)?
                            .into_resource(),
                    )?;
                }
            }
            if let Ok(Ok(conds)) = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                conditions(state, std::slice::from_ref(a)),
            )
            .await
            {
                for c in conds {
                    out.write(&c)?;
                }
            }
        }
        if n < 200 {
            break;
        }
        page += 1;
    }
    let catalogue = mhis_domain::vaccination::VaccineCatalogue::built_in();
    if periodic {
        for id in patients {
            let m = state.store.get_migrant(id).await?;
            out.write(&patient::from_migrant(&m).into_resource())?;
            for v in state.store.vaccinations_of(m.id).await? {
                if in_period(v.content.date) && site_ids.contains(&v.content.site_id) {
                    out.write(
                        &mhis_fhir::immunization::from_vaccination(&v, catalogue).into_resource(),
                    )?;
                }
            }
        }
    } else {
        let mut page = 1;
        loop {
            let found = state
                .store
                .search_migrants(
                    &MigrantQuery {
                        sites: Some(site_ids.clone()),
                        ..Default::default()
                    },
                    PageRequest::parse(Some(page), Some(200))
                        .map_err(|e| ExportError::Mapping(e.to_string()))?,
                )
                .await?;
            for m in &found.items {
                out.write(&patient::from_migrant(m).into_resource())?;
                for v in state.store.vaccinations_of(m.id).await? {
                    if site_ids.contains(&v.content.site_id) {
                        out.write(
                            &mhis_fhir::immunization::from_vaccination(&v, catalogue)
                                .into_resource(),
                        )?;
                    }
                }
            }
            if found.items.len() < 200 {
                break;
            }
            page += 1;
        }
    }
    for (t, mut w) in std::mem::take(&mut out.files) {
        w.flush().map_err(|e| ExportError::Io(t, e))?;
    }
    Ok(out.counts)
}

/// Writes a sample of what the API emits besides stored records — the
/// CapabilityStatement, a searchset Bundle, a referral as ServiceRequest
/// and Task, and an OperationOutcome — into `dir` as NDJSON
/// (`CapabilityStatement.ndjson`, `Bundle.ndjson`, …), so that an
/// independent validator can check every resource type mhis emits (`mhis
/// export fhir --demo`).
pub async fn write_api_samples(
    state: &AppState,
    dir: &std::path::Path,
) -> Result<ExportSummary, ExportError> {
    let mut out = Writers {
        dir: dir.to_owned(),
        files: BTreeMap::new(),
        counts: BTreeMap::new(),
    };
    let now = state.now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    out.write(&Resource::CapabilityStatement(Box::new(
        super::resources::capability_statement(&now),
    )))?;
    let found = state
        .store
        .search_migrants(&MigrantQuery::default(), PageRequest::default())
        .await?;
    let mut matches: Vec<Resource> = found
        .items
        .iter()
        .take(3)
        .map(|m| patient::from_migrant(m).into_resource())
        .collect();
    if let Some(m) = found.items.first() {
        let site = state.store.get_site(m.registered_at).await?;
        matches.push(site::organization(&site).into_resource());
    }
    out.write(
        &mhis_fhir::bundle::searchset(
            "http://localhost/fhir/R4",
            "http://localhost/fhir/R4/Patient?_count=3",
            Some("http://localhost/fhir/R4/Patient?_count=3&_page=2"),
            Some(u32::try_from(found.total).unwrap_or(u32::MAX)),
            matches,
        )
        .into_resource(),
    )?;
    // A referral of the first migrant as ServiceRequest and Task (the demo
    // data holds no referrals; these are the API's mappings of one).
    if let Some(m) = found.items.first() {
        use mhis_domain::referral::{
            PersonSummary, Referral, ReferralKind, ReferralState, Urgency,
        };
        let now = state.now();
        let d = &m.details;
        let r = Referral {
            id: mhis_domain::ids::ReferralId::new(),
            kind: ReferralKind::Referral,
            state: ReferralState::Sent,
            site_id: m.registered_at,
            to_site_id: Some(m.registered_at),
            to_peer: None,
            to_peer_site_code: None,
            from_peer: None,
            from_label: "Demo centre".into(),
            assessment_id: None,
            migrant_id: Some(m.id),
            reason: "tb_evaluation".into(),
            urgency: Urgency::Urgent,
            due_date: state.today(),
            note: Some("sample".into()),
            person: PersonSummary {
                family_name: d.family_name.clone(),
                given_names: d.given_names.clone(),
                sex: d.sex.as_str().into(),
                birth_date: d.birth_date.to_string(),
                nationality: d.nationality.as_str().into(),
                document_number: None,
                document_country: None,
                contact: None,
            },
            observations: Vec::new(),
            conditions: Vec::new(),
            outcome: None,
            outcome_date: None,
            outcome_note: None,
            created_by: "demo".into(),
            created_at: now,
            updated_at: now,
        };
        out.write(&mhis_fhir::referral::service_request_of(&r).into_resource())?;
        out.write(&mhis_fhir::referral::task_of(&r).into_resource())?;
    }
    let empty = mhis_fhir::model::resources::Patient::default();
    if let Err(e) = patient::to_migrant_details(&empty, state.today()) {
        out.write(&mhis_fhir::outcome::from_error(&e).into_resource())?;
    }
    for (t, mut w) in std::mem::take(&mut out.files) {
        w.flush().map_err(|e| ExportError::Io(t, e))?;
    }
    Ok(out.counts)
}

// ---------------------------------------------------------------- benchmark support

/// Migrants per [`mhis_store::ImportStore::bulk_register`] transaction of
/// the benchmark loader.
const BULK_BATCH: usize = 20_000;

/// Registers `n` synthetic migrants at `site` straight through the store's
/// bulk loader (batches of 20,000 in one transaction each, one audit entry
/// per batch; people are generated on a blocking thread while the previous
/// batch is written) and returns their travel document numbers (for
/// identifier searches). Used by `mhis bench fhir`; `progress` is told how
/// many are stored after each batch.
pub async fn bench_load_patients(
    state: &AppState,
    site: SiteId,
    n: usize,
    seed: u64,
    progress: impl Fn(usize),
) -> Result<Vec<String>, StoreError> {
    let today = state.today();
    let now = state.now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<MigrantDetails>>(2);
    let producer = tokio::task::spawn_blocking(move || {
        let mut generator = mhis_synth::Generator::new(seed, today);
        let mut left = n;
        while left > 0 {
            let size = left.min(BULK_BATCH);
            let mut batch = Vec::with_capacity(size);
            while batch.len() < size {
                let (input, _) = generator.migrant();
                if let Ok(parsed) = NewMigrant::parse(&input, today) {
                    batch.push(MigrantDetails::from(parsed));
                }
            }
            left -= size;
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    let audit =
        mhis_domain::audit::AuditEvent::new("bench", "migrant.bulk_register", "site", None, None);
    let mut numbers = Vec::with_capacity(n);
    let mut stored = 0;
    while let Some(batch) = rx.recv().await {
        stored += state.store.bulk_register(site, &batch, now, &audit).await?;
        numbers.extend(
            batch
                .into_iter()
                .filter_map(|d| d.document.map(|d| d.number)),
        );
        progress(stored);
    }
    producer
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(numbers)
}

/// A transaction Bundle of one synthetic Patient registered at `site`, an
/// Encounter opening an assessment for it under `protocol`, and
/// `observations` results, drawn from `seed`: what `mhis bench fhir`
/// imports. Built through the same mappings the API serves.
pub fn synthetic_transaction(
    state: &AppState,
    site: SiteId,
    observations: usize,
    seed: u64,
) -> Option<serde_json::Value> {
    use mhis_domain::assessment::{Assessment, AssessmentStatus};
    use mhis_domain::observation::ObservationInput;
    use mhis_fhir::model::resources::Bundle;
    use mhis_fhir::model::resources::bundle::{BundleEntry, BundleEntryRequest};
    use mhis_fhir::model::types;
    let vocabulary = &state.vocabulary;
    let now = state.now();
    let today = now.date_naive();
    let mut generator = mhis_synth::Generator::new(seed, today);
    let (input, _) = generator.migrant();
    let parsed = NewMigrant::parse(&input, today).ok()?;
    let age = parsed.birth_date.age_on(today).unwrap_or(30);
    let details = MigrantDetails::from(parsed);
    let migrant = mhis_domain::migrant::Migrant {
        id: MigrantId::new(),
        registration_number: String::new(),
        registered_at: site,
        details,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut p = patient::from_migrant(&migrant);
    p.id = None;
    p.meta = None;
    p.identifier.retain(|i| {
        i.system
            .as_ref()
            .is_some_and(|s| s.0.starts_with("urn:mhis:travel-document:"))
    });
    let mut plan = generator.assessment(&input.sex, age);
    plan.assessment.migrant_id = migrant.id.to_string();
    plan.assessment.site_id = site.to_string();
    let new = NewAssessment::parse(&plan.assessment, state.protocols.ids(), today).ok()?;
    let assessment = Assessment {
        id: AssessmentId::new(),
        migrant_id: migrant.id,
        site_id: site,
        purpose: new.purpose,
        destination: new.destination,
        protocol: new.protocol,
        status: AssessmentStatus::Open,
        assessment_date: today,
        opened_at: now,
        finalised_at: None,
        final_outcome: None,
        engine_outcome: None,
        final_reason: None,
        finalised_by: None,
        updated_at: now,
    };
    let mut e = encounter::from_assessment(&assessment);
    e.id = None;
    e.identifier.clear();
    let patient_url = format!("urn:uuid:{}", migrant.id);
    let encounter_url = format!("urn:uuid:{}", assessment.id);
    e.subject = Some(reference(&patient_url));
    let inputs: Vec<ObservationInput> = generator.benchmark_observations(observations);
    let mut entries = vec![
        entry(&patient_url, "Patient", p.into_resource()),
        entry(&encounter_url, "Encounter", e.into_resource()),
    ];
    for input in inputs {
        let Ok(new) = NewObservation::parse(vocabulary, &input, now) else {
            continue;
        };
        let stored = mhis_store::new_observation(assessment.id, &new, &Actor("bench".into()), now);
        let mut o = observation::from_observation(&stored, vocabulary, migrant.id).ok()?;
        o.id = None;
        o.subject = Some(reference(&patient_url));
        o.encounter = Some(reference(&encounter_url));
        entries.push(entry(
            &format!("urn:uuid:{}", uuid::Uuid::now_v7()),
            "Observation",
            o.into_resource(),
        ));
    }
    fn reference<T>(url: &str) -> mhis_fhir::model::types::Reference<T> {
        mhis_fhir::model::types::Reference {
            reference: Some(types::String(url.to_owned())),
            ..Default::default()
        }
    }
    fn entry(full_url: &str, t: &str, r: Resource) -> BundleEntry {
        BundleEntry {
            full_url: Some(types::Uri(full_url.to_owned())),
            resource: Some(to_json(&r)),
            request: Some(BundleEntryRequest {
                method: mhis_fhir::model::coded::Coded::Known(HttpVerb::Post),
                url: types::Uri(t.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    let b = Bundle {
        r#type: mhis_fhir::model::coded::Coded::Known(BundleType::Transaction),
        entry: entries,
        ..Default::default()
    };
    Some(to_json(&b.into_resource()))
}
