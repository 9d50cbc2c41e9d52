//! Chest X-ray reading → `DiagnosticReport`.
//!
//! mhis records a chest X-ray reading as an observation of the code `cxr`
//! (normal, suggestive of TB, abnormal not TB, inconclusive). The report
//! wraps it: `category` `RAD` (HL7 v2 table 0074), `code` the mhis code (the
//! vocabulary holds no verified LOINC code for the examination, so none is
//! invented), `result` the reading's Observation, `conclusion` the reading
//! and `conclusionCode` its coding (SNOMED CT where the vocabulary has one,
//! then the mhis value), `status` as the reading's (final, corrected,
//! amended).
//!
//! **Not mapped:** the images (`imagingStudy`, `media`), the radiologist
//! as a Practitioner (mhis has a user name, carried as `performer.display`)
//! and the narrative report: the domain records none of them.

use crate::error::{FhirError, IssueKind};
use crate::observation;
use crate::util::{self, string};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{DiagnosticReportStatus, ObservationStatus};
use fhir::r4::resources::DiagnosticReport;
use fhir::r4::resources::diagnostic_report::DiagnosticReportEffective;
use fhir::r4::types::Reference;
use mhis_domain::ids::{MigrantId, ObservationId};
use mhis_domain::observation::{Observation, ObservationValue};
use mhis_domain::vocabulary::Vocabulary;

/// The vocabulary code of a chest X-ray reading.
pub const CXR_CODE: &str = "cxr";

/// The namespace of report ids derived from observation ids (UUIDv5).
const REPORT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d68_6973_2d72_6570_6f72_7400_0000_0001);

/// The id of the report on a reading: a UUIDv5 of the reading's id, stable
/// and distinct from the reading's Observation, so both fit one Bundle.
pub fn report_id(reading: &ObservationId) -> uuid::Uuid {
    uuid::Uuid::new_v5(&REPORT_NAMESPACE, reading.0.as_bytes())
}

/// A chest X-ray reading as a `DiagnosticReport` about `subject`, its id
/// [`report_id`]; the reading itself is the
/// [`observation::from_observation`] of the same observation.
pub fn chest_xray(
    reading: &Observation,
    vocabulary: &Vocabulary,
    subject: MigrantId,
) -> Result<DiagnosticReport, FhirError> {
    if reading.code != CXR_CODE {
        return Err(FhirError::value(
            "Observation.code",
            format!(
                "'{}' is not a chest X-ray reading ('{CXR_CODE}')",
                reading.code
            ),
        ));
    }
    let def = vocabulary.get(CXR_CODE).ok_or_else(|| {
        FhirError::new(
            "Observation.code",
            IssueKind::CodeInvalid,
            format!("'{CXR_CODE}' is not a code of the vocabulary"),
        )
    })?;
    let (conclusion, conclusion_code) = match &reading.value {
        ObservationValue::Coded(v) => (
            Some(string(v.replace('_', " "))),
            vec![observation::value_concept(def, v)],
        ),
        _ => (None, Vec::new()),
    };
    let status = match observation::status(reading) {
        ObservationStatus::Amended => DiagnosticReportStatus::Amended,
        ObservationStatus::Corrected => DiagnosticReportStatus::Corrected,
        _ => DiagnosticReportStatus::Final,
    };
    Ok(DiagnosticReport {
        id: Some(string(report_id(&reading.id).to_string())),
        status: Coded::Known(status),
        category: vec![util::concept(
            vec![util::coding(
                crate::uri::V2_DIAGNOSTIC_SERVICE,
                "RAD",
                Some("Radiology"),
            )],
            None,
        )],
        code: observation::code_concept(def),
        subject: Some(util::reference("Patient", subject)),
        encounter: Some(util::reference("Encounter", reading.assessment_id)),
        effective: Some(DiagnosticReportEffective::DateTime(Primitive::new(
            util::date_time(&reading.observed_at),
        ))),
        issued: Some(util::instant(&reading.recorded_at)),
        performer: vec![Reference {
            display: Some(string(&reading.recorded_by)),
            ..Default::default()
        }],
        result: vec![util::reference("Observation", reading.id)],
        conclusion,
        conclusion_code,
        ..Default::default()
    })
}
