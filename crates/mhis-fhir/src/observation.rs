//! Observation ⇄ FHIR `Observation`, coded from the vocabulary.
//!
//! **To FHIR** ([`from_observation`]): `code` carries the vocabulary's LOINC
//! or SNOMED CT coding where it has one, then the mhis code
//! (`urn:mhis:vocabulary:observation`), with the code's label as text;
//! `category` follows the code's section (history → `survey`, examination
//! → `exam`, plus `vital-signs` for temperature, height and weight,
//! radiology → `imaging`, laboratory → `laboratory`). The typed value
//! becomes `valueBoolean`; `valueCodeableConcept` (the value's SNOMED CT
//! coding where the vocabulary has one, then the mhis value in
//! `urn:mhis:vocabulary:value`); `valueQuantity` for numbers with a unit
//! (UCUM) and for decimals; `valueInteger` for whole numbers without one;
//! `valueString`; `valueDateTime` for dates. `subject` is the migrant,
//! `encounter` the assessment, `effectiveDateTime` when it was observed,
//! `issued` when it was recorded, `performer` who recorded it (display
//! only). History maps onto `status`: an observation never corrected is
//! `final`; a correction is `corrected`, with the reason as a `note` and
//! the extension `urn:mhis:fhir:extension:supersedes`; a superseded
//! observation (history, no longer a fact) is `amended` with
//! `urn:mhis:fhir:extension:superseded-by` naming its correction.
//!
//! **From FHIR** ([`to_new_observation`], [`to_input`]): the code is found
//! by its mhis coding, else by the vocabulary's LOINC/SNOMED CT coding when
//! exactly one mhis code has it (the three sputum cultures share LOINC
//! 543-9, so such an Observation needs the mhis coding); the value is read
//! back from the same value types and checked by the domain against the
//! code (type, range, unit). Only `final`, `amended` and `corrected`
//! Observations are accepted: mhis records results, not orders or drafts.
//!
//! **Not mapped:** components (a blood-pressure panel must arrive as two
//! Observations), `valueRange`, `valueRatio`, `valueSampledData`,
//! `valueTime`, `valuePeriod`, `dataAbsentReason`, reference ranges,
//! interpretations, specimens, devices and methods: the domain has no place
//! for them. A correction imported from FHIR is a new observation: linking
//! it to the one it corrects is the caller's business (the store's
//! correction API).

use crate::error::FhirError;
use crate::error::IssueKind;
use crate::uri;
use crate::util::{self, code_of, find_coding, string, system_of};
use chrono::{DateTime, Utc};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::ObservationStatus;
use fhir::r4::resources::Observation as FhirObservation;
use fhir::r4::resources::observation::{ObservationEffective, ObservationValue as FhirValue};
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{self, Annotation, CodeableConcept, Coding, Extension, Quantity, Reference};
use mhis_domain::ids::{MigrantId, ObservationId};
use mhis_domain::observation::{NewObservation, Observation, ObservationInput, ObservationValue};
use mhis_domain::vocabulary::{CodeDefinition, Section, ValueType, Vocabulary};
use serde_json::Value as Json;

/// LOINC codes of vital signs in the vocabulary that get the `vital-signs`
/// category.
const VITAL_SIGNS: [&str; 3] = ["8310-5", "8302-2", "29463-7"];

/// The FHIR status of a stored observation (see the module doc).
pub fn status(obs: &Observation) -> ObservationStatus {
    if obs.superseded_by.is_some() {
        ObservationStatus::Amended
    } else if obs.supersedes.is_some() {
        ObservationStatus::Corrected
    } else {
        ObservationStatus::Final
    }
}

/// The `code` of an observation of `def`: its LOINC/SNOMED CT coding where
/// the vocabulary has one, then the mhis code.
pub fn code_concept(def: &CodeDefinition) -> CodeableConcept {
    let mut coding: Vec<Coding> = def
        .coding
        .iter()
        .map(|c| util::coding(&c.system, &c.code, Some(&c.display)))
        .collect();
    coding.push(util::coding(
        uri::OBSERVATION_CODE,
        &def.code,
        Some(&def.label),
    ));
    util::concept(coding, Some(&def.label))
}

/// The `valueCodeableConcept` of the coded value `value` of `def`.
pub fn value_concept(def: &CodeDefinition, value: &str) -> CodeableConcept {
    let mut coding: Vec<Coding> = def
        .value_codings
        .get(value)
        .iter()
        .map(|c| util::coding(&c.system, &c.code, Some(&c.display)))
        .collect();
    coding.push(util::coding(uri::OBSERVATION_VALUE, value, None));
    util::concept(coding, Some(value))
}

fn category(def: &CodeDefinition) -> Vec<CodeableConcept> {
    let one = |code: &str, display: &str| {
        util::concept(
            vec![util::coding(uri::OBSERVATION_CATEGORY, code, Some(display))],
            None,
        )
    };
    let mut out = Vec::new();
    match def.section {
        Section::History => out.push(one("survey", "Survey")),
        Section::Examination => out.push(one("exam", "Exam")),
        Section::Radiology => out.push(one("imaging", "Imaging")),
        Section::Laboratory => out.push(one("laboratory", "Laboratory")),
        Section::Context => {}
    }
    if def
        .coding
        .as_ref()
        .is_some_and(|c| c.system == uri::LOINC && VITAL_SIGNS.contains(&c.code.as_str()))
    {
        out.push(one("vital-signs", "Vital Signs"));
    }
    out
}

fn decimal(path: &str, v: f64) -> Result<types::Decimal, FhirError> {
    types::Decimal::new(v.to_string())
        .map_err(|e| FhirError::value(path, format!("{v} is not a FHIR decimal: {e}")))
}

fn quantity(path: &str, v: f64, unit: Option<&str>) -> Result<Quantity, FhirError> {
    Ok(Quantity {
        value: Some(decimal(path, v)?),
        unit: unit.map(string),
        system: unit.map(|_| util::uri(uri::UCUM)),
        code: unit.map(util::code),
        ..Default::default()
    })
}

fn observation_ref(id: &ObservationId) -> Box<Reference> {
    Box::new(util::reference("Observation", id))
}

/// A stored observation as a FHIR `Observation` about the migrant
/// `subject`. Fails only when the observation's code is not in
/// `vocabulary` or a whole number does not fit FHIR's 32-bit `integer`.
pub fn from_observation(
    obs: &Observation,
    vocabulary: &Vocabulary,
    subject: MigrantId,
) -> Result<FhirObservation, FhirError> {
    let def = vocabulary.get(&obs.code).ok_or_else(|| {
        FhirError::new(
            "Observation.code",
            IssueKind::CodeInvalid,
            format!("'{}' is not a code of the vocabulary", obs.code),
        )
    })?;
    let unit = obs.unit.as_deref().or(def.unit.as_deref());
    let value = match &obs.value {
        ObservationValue::Boolean(b) => FhirValue::Boolean(Primitive::new(types::Boolean(*b))),
        ObservationValue::Coded(v) => FhirValue::CodeableConcept(Box::new(value_concept(def, v))),
        ObservationValue::Integer(i) if unit.is_some() => FhirValue::Quantity(Box::new(quantity(
            "Observation.valueQuantity",
            *i as f64,
            unit,
        )?)),
        ObservationValue::Integer(i) => {
            let v = i32::try_from(*i).map_err(|_| {
                FhirError::value(
                    "Observation.valueInteger",
                    format!("{i} does not fit a FHIR integer"),
                )
            })?;
            FhirValue::Integer(Primitive::new(types::Integer(v)))
        }
        ObservationValue::Decimal(d) => {
            FhirValue::Quantity(Box::new(quantity("Observation.valueQuantity", *d, unit)?))
        }
        ObservationValue::Text(t) => FhirValue::String(Primitive::new(string(t))),
        ObservationValue::Date(d) => {
            FhirValue::DateTime(Primitive::new(types::DateTime(util::date(d))))
        }
    };
    let mut extension = Vec::new();
    if let Some(old) = &obs.supersedes {
        extension.push(Extension {
            url: string(uri::EXT_SUPERSEDES),
            value: Some(ExtensionValue::Reference(observation_ref(old))),
            ..Default::default()
        });
    }
    if let Some(new) = &obs.superseded_by {
        extension.push(Extension {
            url: string(uri::EXT_SUPERSEDED_BY),
            value: Some(ExtensionValue::Reference(observation_ref(new))),
            ..Default::default()
        });
    }
    Ok(FhirObservation {
        id: Some(string(obs.id.to_string())),
        extension,
        status: Coded::Known(status(obs)),
        category: category(def),
        code: code_concept(def),
        subject: Some(util::reference("Patient", subject)),
        encounter: Some(util::reference("Encounter", obs.assessment_id)),
        effective: Some(ObservationEffective::DateTime(Primitive::new(
            util::date_time(&obs.observed_at),
        ))),
        issued: Some(util::instant(&obs.recorded_at)),
        performer: vec![Reference {
            display: Some(string(&obs.recorded_by)),
            ..Default::default()
        }],
        value: Some(value),
        note: obs
            .correction_reason
            .iter()
            .map(|r| Annotation {
                text: types::Markdown(r.clone()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
}

/// The vocabulary code a FHIR `Observation.code` stands for.
pub fn find_code<'v>(
    concept: &CodeableConcept,
    vocabulary: &'v Vocabulary,
) -> Result<&'v CodeDefinition, FhirError> {
    if let Some((i, c)) = find_coding(concept, uri::OBSERVATION_CODE) {
        return vocabulary.get(code_of(c)).ok_or_else(|| {
            FhirError::new(
                format!("Observation.code.coding[{i}].code"),
                IssueKind::CodeInvalid,
                format!("'{}' is not a code of the vocabulary", code_of(c)),
            )
        });
    }
    for (i, c) in concept.coding.iter().enumerate() {
        let matches: Vec<&CodeDefinition> = vocabulary
            .iter()
            .filter(|d| {
                d.coding
                    .as_ref()
                    .is_some_and(|k| k.system == system_of(c) && k.code == code_of(c))
            })
            .collect();
        match matches.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            several => {
                return Err(FhirError::value(
                    format!("Observation.code.coding[{i}]"),
                    format!(
                        "{} {} stands for several mhis codes ({}); add a coding in {}",
                        system_of(c),
                        code_of(c),
                        several
                            .iter()
                            .map(|d| d.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        uri::OBSERVATION_CODE
                    ),
                ));
            }
        }
    }
    Err(FhirError::new(
        "Observation.code",
        IssueKind::CodeInvalid,
        "no coding names a code of the mhis vocabulary",
    ))
}

/// Reads a FHIR `Observation` into the raw input of one observation
/// (code, value, unit, time), not yet checked against the code: see
/// [`to_new_observation`] for the checked form.
pub fn to_input(
    obs: &FhirObservation,
    vocabulary: &Vocabulary,
) -> Result<ObservationInput, FhirError> {
    match &obs.status {
        Coded::Known(
            ObservationStatus::Final | ObservationStatus::Amended | ObservationStatus::Corrected,
        ) => {}
        Coded::Known(other) => {
            return Err(FhirError::new(
                "Observation.status",
                IssueKind::NotSupported,
                format!(
                    "'{}' is not accepted: mhis records results that are final, amended or corrected",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            ));
        }
        Coded::Unknown(raw) => {
            return Err(FhirError::new(
                "Observation.status",
                IssueKind::CodeInvalid,
                format!("'{raw}' is not an Observation status"),
            ));
        }
    }
    let def = find_code(&obs.code, vocabulary)?;
    let (value, unit) = match &obs.value {
        None if !obs.component.is_empty() => {
            return Err(FhirError::new(
                "Observation.component",
                IssueKind::NotSupported,
                "mhis records one value per observation: send each component as its own Observation",
            ));
        }
        None => return Err(FhirError::required("Observation.value[x]")),
        Some(FhirValue::Boolean(b)) => (Json::Bool(b.value.0), None),
        Some(FhirValue::Integer(i)) => (Json::from(i.value.0), None),
        Some(FhirValue::String(s)) => (Json::String(s.value.0.clone()), None),
        Some(FhirValue::DateTime(d)) => (Json::String(d.value.0.clone()), None),
        Some(FhirValue::Quantity(q)) => {
            let n = q
                .value
                .as_ref()
                .ok_or_else(|| FhirError::required("Observation.valueQuantity.value"))?;
            let unit = match (&q.system, &q.code) {
                (Some(s), Some(c)) if s.0 == uri::UCUM => Some(c.0.clone()),
                _ => q.unit.as_ref().map(|u| u.0.clone()),
            };
            (Json::Number(n.as_number().clone()), unit)
        }
        Some(FhirValue::CodeableConcept(cc)) => (Json::String(read_coded_value(def, cc)?), None),
        Some(_) => {
            return Err(FhirError::new(
                "Observation.value[x]",
                IssueKind::NotSupported,
                "mhis records booleans, coded values, quantities, integers, strings and dates",
            ));
        }
    };
    let observed_at = match &obs.effective {
        None => None,
        Some(ObservationEffective::DateTime(d)) => Some(util::read_date_time(
            "Observation.effectiveDateTime",
            &d.value.0,
        )?),
        Some(ObservationEffective::Instant(d)) => Some(util::read_date_time(
            "Observation.effectiveInstant",
            &d.value.0,
        )?),
        Some(ObservationEffective::Period(p)) => match &p.start {
            Some(s) => Some(util::read_date_time(
                "Observation.effectivePeriod.start",
                &s.0,
            )?),
            None => return Err(FhirError::required("Observation.effectivePeriod.start")),
        },
        Some(ObservationEffective::Timing(_)) => {
            return Err(FhirError::new(
                "Observation.effectiveTiming",
                IssueKind::NotSupported,
                "mhis records when an observation was made as a date-time",
            ));
        }
    };
    Ok(ObservationInput {
        code: def.code.clone(),
        value,
        unit,
        observed_at,
    })
}

fn read_coded_value(def: &CodeDefinition, cc: &CodeableConcept) -> Result<String, FhirError> {
    if let Some((_, c)) = find_coding(cc, uri::OBSERVATION_VALUE) {
        return Ok(code_of(c).to_owned());
    }
    for c in &cc.coding {
        if let Some((value, _)) = def
            .value_codings
            .iter()
            .find(|(_, k)| k.system == system_of(c) && k.code == code_of(c))
        {
            return Ok(value.clone());
        }
    }
    let expected = match &def.value_type {
        ValueType::Coded { values } => values.join(", "),
        _ => String::from("no coded value"),
    };
    Err(FhirError::new(
        "Observation.valueCodeableConcept",
        IssueKind::CodeInvalid,
        format!(
            "no coding names a value of '{}' (expected one of: {expected})",
            def.code
        ),
    ))
}

/// Reads and checks a FHIR `Observation` against the vocabulary, as the
/// domain checks any observation. `now` is the time of recording.
pub fn to_new_observation(
    obs: &FhirObservation,
    vocabulary: &Vocabulary,
    now: DateTime<Utc>,
) -> Result<NewObservation, FhirError> {
    let input = to_input(obs, vocabulary)?;
    let value_path = match &obs.value {
        Some(FhirValue::Boolean(_)) => "Observation.valueBoolean",
        Some(FhirValue::Integer(_)) => "Observation.valueInteger",
        Some(FhirValue::String(_)) => "Observation.valueString",
        Some(FhirValue::DateTime(_)) => "Observation.valueDateTime",
        Some(FhirValue::Quantity(_)) => "Observation.valueQuantity.value",
        Some(FhirValue::CodeableConcept(_)) => "Observation.valueCodeableConcept",
        _ => "Observation.value[x]",
    };
    NewObservation::parse(vocabulary, &input, now).map_err(|e| {
        let path = match e.field.as_str() {
            "code" => "Observation.code",
            "unit" => "Observation.valueQuantity.code",
            "observed_at" => "Observation.effective[x]",
            _ => value_path,
        };
        FhirError::value(path, e.message)
    })
}
