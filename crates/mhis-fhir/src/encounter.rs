//! Assessment → `Encounter`.
//!
//! `id` and an identifier (`urn:mhis:assessment`) are the assessment's
//! UUID; `status` is `in-progress` while results are recorded or the
//! physician's sign-off is awaited (`open`, `complete`) and `finished` once
//! finalised; `class` is `AMB` (ambulatory, HL7 v3 ActCode); `type` is the
//! purpose (`urn:mhis:assessment-purpose`); `subject` the migrant;
//! `serviceProvider` the site's Organization and `location` its Location;
//! `period` starts on the assessment date and ends when it was finalised.
//! mhis extensions carry the destination country, the protocol and, once
//! finalised, the physician's outcome.
//!
//! **Not mapped:** participants (the physician who finalised is a user
//! name, not a Practitioner), the engine's outcome and the reason a
//! physician raised it (they are in the audit trail), and the reverse
//! direction: assessments are opened through the mhis API, not imported.

use crate::uri;
use crate::util::{self, string};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::EncounterStatus;
use fhir::r4::resources::Encounter;
use fhir::r4::resources::encounter::EncounterLocation;
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{self, Extension, Identifier, Period};
use mhis_domain::assessment::{Assessment, AssessmentStatus};

/// The FHIR status of an assessment's status.
pub fn status(s: AssessmentStatus) -> EncounterStatus {
    match s {
        AssessmentStatus::Open | AssessmentStatus::Complete => EncounterStatus::InProgress,
        AssessmentStatus::Finalised => EncounterStatus::Finished,
    }
}

/// An assessment as an `Encounter`.
pub fn from_assessment(a: &Assessment) -> Encounter {
    let mut extension = vec![
        Extension {
            url: string(uri::EXT_DESTINATION),
            value: Some(ExtensionValue::CodeableConcept(Box::new(util::concept(
                vec![util::coding(
                    uri::ISO_3166,
                    a.destination.as_str(),
                    Some(a.destination.name()),
                )],
                None,
            )))),
            ..Default::default()
        },
        Extension {
            url: string(uri::EXT_PROTOCOL),
            value: Some(ExtensionValue::Code(Primitive::new(util::code(
                a.protocol.as_str(),
            )))),
            ..Default::default()
        },
    ];
    if let Some(outcome) = &a.final_outcome {
        extension.push(Extension {
            url: string(uri::EXT_OUTCOME),
            value: Some(ExtensionValue::Code(Primitive::new(util::code(outcome)))),
            ..Default::default()
        });
    }
    Encounter {
        id: Some(string(a.id.to_string())),
        extension,
        identifier: vec![Identifier {
            system: Some(util::uri(uri::ASSESSMENT)),
            value: Some(string(a.id.to_string())),
            ..Default::default()
        }],
        status: Coded::Known(status(a.status)),
        class: util::coding(uri::V3_ACT_CODE, "AMB", Some("ambulatory")),
        r#type: vec![util::concept(
            vec![util::coding(
                uri::ASSESSMENT_PURPOSE,
                a.purpose.as_str(),
                None,
            )],
            Some("Migration health assessment"),
        )],
        subject: Some(util::reference("Patient", a.migrant_id)),
        period: Some(Period {
            start: Some(types::DateTime(util::date(&a.assessment_date))),
            end: a.finalised_at.as_ref().map(util::date_time),
            ..Default::default()
        }),
        location: vec![EncounterLocation {
            location: util::reference("Location", crate::site::location_id(&a.site_id)),
            ..Default::default()
        }],
        service_provider: Some(util::reference("Organization", a.site_id)),
        ..Default::default()
    }
}
