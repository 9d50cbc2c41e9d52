//! Every URI mhis writes into FHIR content: its own code and identifier
//! systems, its extensions, and the standard systems it uses.
//!
//! mhis's own systems are URNs under `urn:mhis:`. They name mhis concepts,
//! not a web address, so they stay valid whatever host a deployment runs on.
//!
//! | what | URI |
//! |---|---|
//! | a migrant's registration number | `urn:mhis:site:<site uuid>:registration` |
//! | a travel document | `urn:mhis:travel-document:<kind>:<issuing country alpha-2>` |
//! | an observation code of the vocabulary | `urn:mhis:vocabulary:observation` |
//! | a coded value of the vocabulary | `urn:mhis:vocabulary:value` |
//! | an assessment | `urn:mhis:assessment` |
//! | an assessment's purpose | `urn:mhis:assessment-purpose` |
//! | a site's code | `urn:mhis:site` |
//! | a site's kind | `urn:mhis:site-kind` |
//! | a protocol's class (`tb` → `B1_pulmonary`) | `urn:mhis:protocol:<protocol>:class:<key>` |
//! | message events | `urn:mhis:message-event` |
//! | mhis extensions | `urn:mhis:fhir:extension:<name>` |

/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// UCUM, the system of every unit mhis records.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// ISO 3166-1 country codes (alpha-2 in mhis content).
pub const ISO_3166: &str = "urn:iso:std:iso:3166";
/// BCP 47 language tags.
pub const BCP_47: &str = "urn:ietf:bcp:47";
/// HL7 v2 table 0203, identifier types (`PPN` passport number).
pub const V2_IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// HL7 v3 ActCode (`AMB` ambulatory encounter class).
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7 v2 table 0074, diagnostic service sections (`RAD`).
pub const V2_DIAGNOSTIC_SERVICE: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
/// Observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Condition clinical status.
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
/// Condition verification status.
pub const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
/// Condition categories.
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
/// Organization types.
pub const ORGANIZATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/organization-type";

/// The standard extension for a patient's nationality (`code` and
/// `period` sub-extensions).
pub const PATIENT_NATIONALITY: &str = "http://hl7.org/fhir/StructureDefinition/patient-nationality";
/// The standard extension that marks a name's representation; mhis marks
/// the Latin transliteration of a name `ABC` (alphabetic).
pub const NAME_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// The system of mhis's observation codes (`tb.symptoms`, `cxr`).
pub const OBSERVATION_CODE: &str = "urn:mhis:vocabulary:observation";
/// The system of the values of coded observations (`positive`,
/// `suggestive_tb`); read together with the observation's code.
pub const OBSERVATION_VALUE: &str = "urn:mhis:vocabulary:value";
/// The identifier system of assessments (value: the assessment's UUID).
pub const ASSESSMENT: &str = "urn:mhis:assessment";
/// The system of assessment purposes (`labour`, `resettlement`).
pub const ASSESSMENT_PURPOSE: &str = "urn:mhis:assessment-purpose";
/// The identifier system of sites (value: the site code, `TJ-DYU-01`).
pub const SITE: &str = "urn:mhis:site";
/// The system of site kinds (`assessment_centre`).
pub const SITE_KIND: &str = "urn:mhis:site-kind";
/// The system of message events (`referral`, `notification`).
pub const MESSAGE_EVENT: &str = "urn:mhis:message-event";

/// Extension on Encounter: the destination country
/// (`valueCodeableConcept`, ISO 3166 alpha-2).
pub const EXT_DESTINATION: &str = "urn:mhis:fhir:extension:assessment-destination";
/// Extension on Encounter: the destination protocol (`valueCode`).
pub const EXT_PROTOCOL: &str = "urn:mhis:fhir:extension:assessment-protocol";
/// Extension on Encounter: the physician's final outcome (`valueCode`).
pub const EXT_OUTCOME: &str = "urn:mhis:fhir:extension:assessment-outcome";
/// Extension on Observation: the observation this one corrects
/// (`valueReference`).
pub const EXT_SUPERSEDES: &str = "urn:mhis:fhir:extension:supersedes";
/// Extension on Observation: the observation that corrected this one
/// (`valueReference`).
pub const EXT_SUPERSEDED_BY: &str = "urn:mhis:fhir:extension:superseded-by";

/// The identifier system of registration numbers of the site `site`.
pub fn registration_system(site: &mhis_domain::ids::SiteId) -> String {
    format!("urn:mhis:site:{site}:registration")
}

/// The identifier system of a travel document of `kind` issued by
/// `country`.
pub fn travel_document_system(
    kind: mhis_domain::migrant::DocumentKind,
    country: &mhis_domain::country::CountryCode,
) -> String {
    format!("urn:mhis:travel-document:{}:{country}", kind.as_str())
}

/// The code system of the classes of `key` in `protocol`.
pub fn protocol_class_system(protocol: &str, key: &str) -> String {
    format!("urn:mhis:protocol:{protocol}:class:{key}")
}
