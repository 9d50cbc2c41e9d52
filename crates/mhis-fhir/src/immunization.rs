//! Vaccination ⇄ `Immunization`.
//!
//! | mhis | FHIR R4 `Immunization` |
//! |---|---|
//! | `id`, `version`, `updated_at` | `id`, `meta.versionId`, `meta.lastUpdated` |
//! | `status` | `status` (`completed`, `entered-in-error`, `not-done`) |
//! | `vaccine` | `vaccineCode`: the CVX coding (`http://hl7.org/fhir/sid/cvx`) and a verified SNOMED CT coding when the catalogue has one; `text` the CVX name |
//! | `migrant_id` | `patient` → `Patient/<id>` |
//! | `assessment_id` | `encounter` → `Encounter/<id>` |
//! | `date` | `occurrenceDateTime` (a date) |
//! | `site_id` | `location` → the site's `Location` |
//! | `lot_number` | `lotNumber` |
//! | `dose_number` | `protocolApplied[0].doseNumberPositiveInt` |
//! | `recorded_by` | extension `urn:mhis:fhir:extension:recorded-by` (`valueString`) |
//! | `recorded_at` | `recorded` |
//!
//! **Reading** ([`read`]) takes the same elements back; the vaccine is
//! found by its CVX coding, else its SNOMED CT coding, in the catalogue
//! (`vaccines/vaccines.toml`). `occurrenceString`, a dose number that is
//! not a positive whole number and a vaccine outside the catalogue are
//! refused naming the element. Everything else an Immunization may carry
//! (performer, route, site of administration, reactions, …) is not kept.
//! References (patient, encounter, location) are returned as written, for
//! the caller to resolve against what the user may see.

use crate::error::{FhirError, IssueKind, Problems};
use crate::site::location_id;
use crate::uri;
use crate::util::{self, string, system_of};
use fhir::r4::choice::Primitive;
use fhir::r4::resources::Immunization;
use fhir::r4::resources::immunization::{
    ImmunizationOccurrence, ImmunizationProtocolApplied, ImmunizationProtocolAppliedDoseNumber,
};
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{self, Extension, Meta};
use mhis_domain::vaccination::{CVX_SYSTEM, Vaccination, VaccinationInput, VaccineCatalogue};

/// Extension on Immunization: the user name of who recorded it.
pub const EXT_RECORDED_BY: &str = "urn:mhis:fhir:extension:recorded-by";

/// A vaccination as an `Immunization`.
pub fn from_vaccination(v: &Vaccination, catalogue: &VaccineCatalogue) -> Immunization {
    let c = &v.content;
    let vaccine = catalogue.get(&c.vaccine);
    let mut coding = Vec::new();
    if let Some(vc) = vaccine {
        coding.push(util::coding(CVX_SYSTEM, &vc.cvx, Some(&vc.name)));
        if let Some(s) = &vc.snomed {
            coding.push(util::coding(uri::SNOMED, s, None));
        }
    }
    Immunization {
        id: Some(string(v.id.to_string())),
        meta: Some(Meta {
            version_id: Some(types::Id(v.version.to_string())),
            last_updated: Some(util::instant(&v.updated_at)),
            ..Default::default()
        }),
        extension: vec![Extension {
            url: string(EXT_RECORDED_BY),
            value: Some(ExtensionValue::String(Primitive::new(string(
                &v.recorded_by,
            )))),
            ..Default::default()
        }],
        status: util::code(c.status.as_str()),
        vaccine_code: util::concept(
            coding,
            Some(vaccine.map_or(c.vaccine.as_str(), |vc| vc.name.as_str())),
        ),
        patient: util::reference("Patient", c.migrant_id),
        encounter: c.assessment_id.map(|a| util::reference("Encounter", a)),
        occurrence: Some(ImmunizationOccurrence::DateTime(Primitive::new(
            types::DateTime(util::date(&c.date)),
        ))),
        recorded: Some(util::date_time(&v.recorded_at)),
        location: Some(util::reference("Location", location_id(&c.site_id))),
        lot_number: c.lot_number.as_deref().map(string),
        protocol_applied: c
            .dose_number
            .map(|n| ImmunizationProtocolApplied {
                dose_number: Some(ImmunizationProtocolAppliedDoseNumber::PositiveInt(
                    Primitive::new(types::PositiveInt(n)),
                )),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        ..Default::default()
    }
}

/// What an Immunization says, before the references are resolved.
#[derive(Debug, Clone, Default)]
pub struct ImmunizationParts {
    /// The vaccination's own fields, for `NewVaccination::parse`.
    pub input: VaccinationInput,
    /// `patient.reference`.
    pub patient: String,
    /// `encounter.reference`, if any.
    pub encounter: Option<String>,
    /// `location.reference`, if any.
    pub location: Option<String>,
    /// `meta.versionId`, if sent.
    pub version: Option<i64>,
}

/// The element of an Immunization that a field of
/// `mhis_domain::vaccination::NewVaccination::parse` comes from.
pub fn element_of(field: &str) -> &'static str {
    match field {
        "vaccine" => "Immunization.vaccineCode",
        "date" => "Immunization.occurrenceDateTime",
        "status" => "Immunization.status",
        "lot_number" => "Immunization.lotNumber",
        "dose_number" => "Immunization.protocolApplied[0].doseNumberPositiveInt",
        _ => "Immunization",
    }
}

/// Reads an Immunization; every problem is reported, each naming its
/// element.
pub fn read(
    i: &Immunization,
    catalogue: &VaccineCatalogue,
) -> Result<ImmunizationParts, FhirError> {
    let mut problems = Problems::default();
    let mut parts = ImmunizationParts {
        input: VaccinationInput {
            status: i.status.0.clone(),
            lot_number: i.lot_number.as_ref().map(|l| l.0.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    if i.status.0.trim().is_empty() {
        problems.push(FhirError::required("Immunization.status"));
    }
    let by_system = |system: &str| {
        i.vaccine_code
            .coding
            .iter()
            .filter(|c| system_of(c) == system)
            .filter_map(|c| c.code.as_ref().map(|k| k.0.trim().to_owned()))
            .collect::<Vec<_>>()
    };
    let cvx = by_system(CVX_SYSTEM);
    let snomed = by_system(uri::SNOMED);
    let found = cvx
        .iter()
        .find_map(|c| catalogue.by_cvx(c))
        .or_else(|| snomed.iter().find_map(|c| catalogue.by_snomed(c)));
    match found {
        Some(v) => parts.input.vaccine = v.code.clone(),
        None if cvx.is_empty() && snomed.is_empty() => problems.push(FhirError::new(
            "Immunization.vaccineCode",
            IssueKind::Required,
            format!("needs a coding in {CVX_SYSTEM} (CVX) or {}", uri::SNOMED),
        )),
        None => problems.push(FhirError::new(
            "Immunization.vaccineCode",
            IssueKind::CodeInvalid,
            format!(
                "'{}' is not a vaccine mhis records (CVX codes: {})",
                cvx.iter()
                    .chain(&snomed)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                catalogue
                    .all()
                    .iter()
                    .map(|v| v.cvx.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
    match &i.occurrence {
        Some(ImmunizationOccurrence::DateTime(d)) => {
            let raw = d.value.0.trim();
            if raw.len() < 10 {
                problems.push(FhirError::value(
                    "Immunization.occurrenceDateTime",
                    format!("'{raw}' is not a full date: mhis records the day a vaccine was given"),
                ));
            } else {
                parts.input.date = raw.chars().take(10).collect();
            }
        }
        Some(ImmunizationOccurrence::String(_)) => problems.push(FhirError::new(
            "Immunization.occurrenceString",
            IssueKind::NotSupported,
            "send the day given as occurrenceDateTime",
        )),
        None => problems.push(FhirError::required("Immunization.occurrenceDateTime")),
    }
    match i.patient.reference.as_ref() {
        Some(r) if !r.0.trim().is_empty() => parts.patient = r.0.clone(),
        _ => problems.push(FhirError::required("Immunization.patient.reference")),
    }
    parts.encounter = i
        .encounter
        .as_ref()
        .and_then(|r| r.reference.as_ref())
        .map(|r| r.0.clone());
    parts.location = i
        .location
        .as_ref()
        .and_then(|r| r.reference.as_ref())
        .map(|r| r.0.clone());
    if i.protocol_applied.len() > 1 {
        problems.push(FhirError::new(
            "Immunization.protocolApplied",
            IssueKind::NotSupported,
            "mhis keeps one dose number per vaccination",
        ));
    }
    match i
        .protocol_applied
        .first()
        .and_then(|p| p.dose_number.as_ref())
    {
        None => {}
        Some(ImmunizationProtocolAppliedDoseNumber::PositiveInt(n)) => {
            parts.input.dose_number = Some(i64::from(n.value.0));
        }
        Some(ImmunizationProtocolAppliedDoseNumber::String(s)) => match s.value.0.trim().parse() {
            Ok(n) => parts.input.dose_number = Some(n),
            Err(_) => problems.push(FhirError::value(
                "Immunization.protocolApplied[0].doseNumberString",
                format!("'{}' is not a dose number", s.value.0),
            )),
        },
    }
    if let Some(v) = i.meta.as_ref().and_then(|m| m.version_id.as_ref()) {
        match v.0.parse() {
            Ok(n) => parts.version = Some(n),
            Err(_) => problems.push(FhirError::value(
                "Immunization.meta.versionId",
                format!("'{}' is not a version", v.0),
            )),
        }
    }
    problems.finish().map(|()| parts)
}
