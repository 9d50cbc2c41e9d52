//! Conditions the protocol found → `Condition`.
//!
//! The domain records no diagnoses as such: what an assessment finds is the
//! protocol engine's classes (`tb` → `B1_pulmonary`), confirmed by the
//! physician when the assessment is finalised. [`from_class`] maps one class
//! to a `Condition`: `code` in the protocol's class system
//! (`urn:mhis:protocol:<protocol>:class:<key>`), `verificationStatus`
//! `provisional` until the assessment is finalised and `confirmed` after,
//! `clinicalStatus` `active`, `category` `encounter-diagnosis`, `subject`
//! the migrant, `encounter` the assessment, `recordedDate` when it was
//! finalised.
//!
//! **Gap:** the classes have no SNOMED CT or ICD-10 coding yet (the
//! protocol files would need one per class), so a receiver that does not
//! know mhis protocols reads only the text. The resource has no id: the
//! caller gives one, or [`crate::message::MessageBundle`] assigns a UUID.

use crate::uri;
use crate::util;
use fhir::r4::resources::Condition;
use mhis_domain::assessment::{Assessment, AssessmentStatus};

/// One class decided for `assessment` (`key` → `class`) as a `Condition`.
pub fn from_class(assessment: &Assessment, key: &str, class: &str) -> Condition {
    let finalised = assessment.status == AssessmentStatus::Finalised;
    let (ver, ver_display) = if finalised {
        ("confirmed", "Confirmed")
    } else {
        ("provisional", "Provisional")
    };
    Condition {
        clinical_status: Some(util::concept(
            vec![util::coding(
                uri::CONDITION_CLINICAL,
                "active",
                Some("Active"),
            )],
            None,
        )),
        verification_status: Some(util::concept(
            vec![util::coding(
                uri::CONDITION_VERIFICATION,
                ver,
                Some(ver_display),
            )],
            None,
        )),
        category: vec![util::concept(
            vec![util::coding(
                uri::CONDITION_CATEGORY,
                "encounter-diagnosis",
                Some("Encounter Diagnosis"),
            )],
            None,
        )],
        code: Some(util::concept(
            vec![util::coding(
                &uri::protocol_class_system(assessment.protocol.as_str(), key),
                class,
                None,
            )],
            Some(&format!("{key}: {class}")),
        )),
        subject: util::reference("Patient", assessment.migrant_id),
        encounter: Some(util::reference("Encounter", assessment.id)),
        recorded_date: assessment.finalised_at.as_ref().map(util::date_time),
        ..Default::default()
    }
}
