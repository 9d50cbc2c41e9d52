//! Migrant ⇄ `Patient`.
//!
//! **To FHIR** ([`from_migrant`]): `id` is the migrant's UUID and
//! `meta.versionId` its version; `identifier` holds the registration number
//! (system `urn:mhis:site:<site>:registration`, assigned by the registering
//! site's Organization) and the travel document (system
//! `urn:mhis:travel-document:<kind>:<country>`, type `PPN` for a passport,
//! `assigner` naming the issuing state by its ISO 3166 code); `name[0]` is
//! the name as written in the document (`use` official, given names split at
//! spaces) and `name[1]`, when it differs, the Latin transliteration marked
//! with the `iso21090-EN-representation` extension `ABC`; `gender` is
//! male/female/other (ICAO's F/M/X); `birthDate` keeps a partial date as
//! partial (`1990`, `1990-06`); nationality is the standard
//! `patient-nationality` extension; the phone is a `telecom` of system
//! `phone` and the preferred language a preferred `communication`;
//! `managingOrganization` is the registering site.
//!
//! **From FHIR** ([`to_migrant_details`]): reads the same elements back into
//! [`MigrantDetails`], checked by the domain's own parsers. mhis *requires*
//! a family name, given names, gender (male, female or other: FHIR's
//! `unknown` is refused, since mhis records sex as the document states it),
//! a birth date and a nationality; every missing or unreadable one is
//! reported with its path. The written name is the first `official` name
//! that is not a Latin representation, else the first `usual` or use-less
//! one; without a Latin representation, the Latin form is computed by ICAO
//! 9303 transliteration. A travel document is read from an mhis
//! travel-document identifier, or from a `PPN` identifier whose `assigner`
//! names the issuing state in `urn:iso:std:iso:3166`; a `PPN` identifier
//! without an issuing state is refused.
//!
//! **Not kept** (mhis has no place for it): other identifiers, other names
//! (maiden, old, nicknames), other telecoms and contacts, addresses,
//! marital status, deceased, multiple birth, photos, links. Telecoms that
//! are not phone numbers in international form (`+` and 7–15 digits) and
//! languages that are not ISO 639 tags are skipped, not refused: they are
//! contact preferences, not identity.

use crate::error::{FhirError, Problems};
use crate::uri;
use crate::util::{self, code_of, find_coding, string};
use chrono::NaiveDate;
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{AdministrativeGender, ContactPointSystem, IdentifierUse, NameUse};
use fhir::r4::resources::Patient;
use fhir::r4::resources::patient::PatientCommunication;
use fhir::r4::types::{
    self, ContactPoint, Extension, HumanName, Identifier, Meta, Reference,
    extension::ExtensionValue,
};
use mhis_domain::FieldError;
use mhis_domain::country::CountryCode;
use mhis_domain::migrant::{
    DocumentInput, DocumentKind, Language, Migrant, MigrantDetails, PartialDate, PersonName, Phone,
    Sex, TravelDocument,
};

/// The FHIRPath of the nationality extension.
pub const NATIONALITY_PATH: &str =
    "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-nationality')";

const DOCUMENT_PREFIX: &str = "urn:mhis:travel-document:";

/// A stored migrant as a `Patient`.
pub fn from_migrant(m: &Migrant) -> Patient {
    let d = &m.details;
    let mut identifier = vec![Identifier {
        r#use: Some(Coded::Known(IdentifierUse::Official)),
        system: Some(util::uri(uri::registration_system(&m.registered_at))),
        value: Some(string(&m.registration_number)),
        assigner: Some(Box::new(util::reference("Organization", m.registered_at))),
        ..Default::default()
    }];
    if let Some(doc) = &d.document {
        identifier.push(document_identifier(doc));
    }
    let mut name = vec![human_name(&d.family_name, &d.given_names, false)];
    if d.family_name_latin != d.family_name || d.given_names_latin != d.given_names {
        name.push(human_name(&d.family_name_latin, &d.given_names_latin, true));
    }
    Patient {
        id: Some(string(m.id.to_string())),
        meta: Some(Meta {
            version_id: Some(types::Id(m.version.to_string())),
            last_updated: Some(util::instant(&m.updated_at)),
            ..Default::default()
        }),
        extension: vec![nationality_extension(&d.nationality)],
        identifier,
        name,
        telecom: d
            .phone
            .iter()
            .map(|p| ContactPoint {
                system: Some(Coded::Known(ContactPointSystem::Phone)),
                value: Some(string(p.as_str())),
                ..Default::default()
            })
            .collect(),
        gender: Some(Coded::Known(match d.sex {
            Sex::Female => AdministrativeGender::Female,
            Sex::Male => AdministrativeGender::Male,
            Sex::Other => AdministrativeGender::Other,
        })),
        birth_date: Some(types::Date(d.birth_date.to_string())),
        communication: d
            .preferred_language
            .iter()
            .map(|l| PatientCommunication {
                language: util::concept(vec![util::coding(uri::BCP_47, l.as_str(), None)], None),
                preferred: Some(types::Boolean(true)),
                ..Default::default()
            })
            .collect(),
        managing_organization: Some(util::reference("Organization", m.registered_at)),
        ..Default::default()
    }
}

fn human_name(family: &str, given: &str, latin: bool) -> HumanName {
    HumanName {
        extension: if latin {
            vec![Extension {
                url: string(uri::NAME_REPRESENTATION),
                value: Some(ExtensionValue::Code(Primitive::new(util::code("ABC")))),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        r#use: Some(Coded::Known(NameUse::Official)),
        family: Some(string(family)),
        given: given.split_whitespace().map(string).collect(),
        ..Default::default()
    }
}

fn document_identifier(doc: &TravelDocument) -> Identifier {
    let (type_coding, text) = match doc.kind {
        DocumentKind::Passport => (
            vec![util::coding(
                uri::V2_IDENTIFIER_TYPE,
                "PPN",
                Some("Passport number"),
            )],
            "Passport",
        ),
        DocumentKind::NationalId => (Vec::new(), "National identity card"),
        DocumentKind::RefugeeTravelDocument => (Vec::new(), "Refugee travel document"),
        DocumentKind::Other => (Vec::new(), "Identity document"),
    };
    Identifier {
        r#use: Some(Coded::Known(IdentifierUse::Official)),
        r#type: Some(util::concept(type_coding, Some(text))),
        system: Some(util::uri(uri::travel_document_system(
            doc.kind,
            &doc.issuing_country,
        ))),
        value: Some(string(&doc.number)),
        assigner: Some(Box::new(Reference {
            identifier: Some(Identifier {
                system: Some(util::uri(uri::ISO_3166)),
                value: Some(string(doc.issuing_country.as_str())),
                ..Default::default()
            }),
            display: Some(string(doc.issuing_country.name())),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn nationality_extension(country: &CountryCode) -> Extension {
    Extension {
        url: string(uri::PATIENT_NATIONALITY),
        extension: vec![Extension {
            url: string("code"),
            value: Some(ExtensionValue::CodeableConcept(Box::new(util::concept(
                vec![util::coding(
                    uri::ISO_3166,
                    country.as_str(),
                    Some(country.name()),
                )],
                None,
            )))),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The version a client read, from `meta.versionId`, when it sent one.
pub fn version(p: &Patient) -> Result<Option<i64>, FhirError> {
    let Some(id) = p.meta.as_ref().and_then(|m| m.version_id.as_ref()) else {
        return Ok(None);
    };
    id.0.parse().map(Some).map_err(|_| {
        FhirError::value(
            "Patient.meta.versionId",
            format!("'{}' is not a version of an mhis record", id.0),
        )
    })
}

/// Reads a `Patient` into the details of a migrant, reporting every
/// missing or unreadable element mhis requires. `today` bounds the birth
/// date.
pub fn to_migrant_details(p: &Patient, today: NaiveDate) -> Result<MigrantDetails, FhirError> {
    let mut problems = Problems::default();
    let name = problems.take(read_name(p));
    let sex = problems.take(read_gender(p));
    let birth_date = problems.take(read_birth_date(p, today));
    let nationality = problems.take(read_nationality(p));
    let document = problems.take(read_document(p));
    problems.finish()?;
    let (Some(name), Some(sex), Some(birth_date), Some(nationality), Some(document)) =
        (name, sex, birth_date, nationality, document)
    else {
        // Unreachable: every `None` above recorded a problem.
        return Err(FhirError::structure("Patient", "could not be read"));
    };
    Ok(MigrantDetails {
        family_name: name.family,
        given_names: name.given,
        family_name_latin: name.family_latin,
        given_names_latin: name.given_latin,
        sex,
        birth_date,
        nationality,
        document,
        phone: read_phone(p),
        preferred_language: read_language(p),
    })
}

fn is_latin_representation(n: &HumanName) -> bool {
    n.extension.iter().any(|e| {
        e.url.0 == uri::NAME_REPRESENTATION
            && matches!(&e.value, Some(ExtensionValue::Code(c)) if c.value.0 == "ABC")
    })
}

fn name_use(n: &HumanName) -> Option<NameUse> {
    match &n.r#use {
        Some(Coded::Known(u)) => Some(u.clone()),
        _ => None,
    }
}

fn read_name(p: &Patient) -> Result<PersonName, FhirError> {
    if p.name.is_empty() {
        return Err(FhirError::required("Patient.name"));
    }
    let written = p
        .name
        .iter()
        .enumerate()
        .filter(|(_, n)| !is_latin_representation(n))
        .min_by_key(|(_, n)| match name_use(n) {
            Some(NameUse::Official) => 0,
            Some(NameUse::Usual) | None => 1,
            _ => 2,
        })
        .filter(|(_, n)| matches!(name_use(n), Some(NameUse::Official | NameUse::Usual) | None));
    let Some((i, written)) = written else {
        return Err(FhirError::required("Patient.name").with_message(
            "needs an official or usual name (old, maiden, temporary and nick names are not the person's name)",
        ));
    };
    let latin = p
        .name
        .iter()
        .enumerate()
        .find(|(_, n)| is_latin_representation(n));
    let path = format!("Patient.name[{i}]");
    let family = written.family.as_ref().map(|f| f.0.as_str()).unwrap_or("");
    let given = joined_given(written);
    let mut problems = Problems::default();
    if family.trim().is_empty() {
        problems.push(FhirError::required(format!("{path}.family")));
    }
    if given.is_empty() {
        problems.push(FhirError::required(format!("{path}.given")));
    }
    problems.finish()?;
    let latin_path = latin.map(|(j, _)| format!("Patient.name[{j}]"));
    let latin_family = latin.and_then(|(_, n)| n.family.as_ref().map(|f| f.0.clone()));
    let latin_given = latin.map(|(_, n)| joined_given(n));
    PersonName::parse(
        family,
        &given,
        latin_family.as_deref(),
        latin_given.as_deref().filter(|g| !g.is_empty()),
    )
    .map_err(|e| {
        let lp = latin_path.clone().unwrap_or_else(|| path.clone());
        let at = match e.field.as_str() {
            "family_name" => format!("{path}.family"),
            "given_names" => format!("{path}.given"),
            "family_name_latin" => format!("{lp}.family"),
            "given_names_latin" => format!("{lp}.given"),
            _ => path.clone(),
        };
        FhirError::value(at, e.message)
    })
}

fn joined_given(n: &HumanName) -> String {
    n.given
        .values()
        .map(|g| g.0.trim())
        .filter(|g| !g.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_gender(p: &Patient) -> Result<Sex, FhirError> {
    match &p.gender {
        None => Err(FhirError::required("Patient.gender")),
        Some(Coded::Known(AdministrativeGender::Female)) => Ok(Sex::Female),
        Some(Coded::Known(AdministrativeGender::Male)) => Ok(Sex::Male),
        Some(Coded::Known(AdministrativeGender::Other)) => Ok(Sex::Other),
        Some(Coded::Known(AdministrativeGender::Unknown)) => Err(FhirError::value(
            "Patient.gender",
            "'unknown' cannot be recorded: mhis records sex as the travel document states it (male, female or other)",
        )),
        Some(Coded::Unknown(raw)) => Err(FhirError::new(
            "Patient.gender",
            crate::IssueKind::CodeInvalid,
            format!("'{raw}' is not one of: male, female, other"),
        )),
    }
}

fn read_birth_date(p: &Patient, today: NaiveDate) -> Result<PartialDate, FhirError> {
    let raw = p
        .birth_date
        .as_ref()
        .ok_or_else(|| FhirError::required("Patient.birthDate"))?;
    PartialDate::parse("birthDate", &raw.0, today)
        .map_err(|e| FhirError::value("Patient.birthDate", e.message))
}

fn read_nationality(p: &Patient) -> Result<CountryCode, FhirError> {
    let ext = p
        .extension
        .iter()
        .find(|e| e.url.0 == uri::PATIENT_NATIONALITY)
        .ok_or_else(|| {
            FhirError::required(NATIONALITY_PATH)
                .with_message("is required: mhis records every migrant's nationality")
        })?;
    let path = format!("{NATIONALITY_PATH}.extension('code').value");
    let concept = ext
        .extension
        .iter()
        .find(|e| e.url.0 == "code")
        .and_then(|e| match &e.value {
            Some(ExtensionValue::CodeableConcept(c)) => Some(c),
            _ => None,
        })
        .ok_or_else(|| FhirError::required(&path))?;
    let Some((_, coding)) = find_coding(concept, uri::ISO_3166) else {
        return Err(FhirError::new(
            format!("{path}.coding"),
            crate::IssueKind::CodeInvalid,
            format!("needs a coding in {}", uri::ISO_3166),
        ));
    };
    CountryCode::parse("code", code_of(coding)).map_err(|e| {
        FhirError::value(
            format!("{path}.coding.code"),
            format!("{} (mhis records ISO 3166-1 alpha-2 codes)", e.message),
        )
    })
}

fn read_document(p: &Patient) -> Result<Option<TravelDocument>, FhirError> {
    for (i, id) in p.identifier.iter().enumerate() {
        let path = format!("Patient.identifier[{i}]");
        let system = id.system.as_ref().map(|s| s.0.as_str()).unwrap_or("");
        let number = id.value.as_ref().map(|v| v.0.as_str()).unwrap_or("");
        let input = if let Some(rest) = system.strip_prefix(DOCUMENT_PREFIX) {
            let Some((kind, country)) = rest.rsplit_once(':') else {
                return Err(FhirError::value(
                    format!("{path}.system"),
                    format!("'{system}' is not {DOCUMENT_PREFIX}<kind>:<country>"),
                ));
            };
            DocumentInput {
                kind: kind.to_owned(),
                number: number.to_owned(),
                issuing_country: country.to_owned(),
            }
        } else if id
            .r#type
            .as_ref()
            .and_then(|t| find_coding(t, uri::V2_IDENTIFIER_TYPE))
            .is_some_and(|(_, c)| code_of(c) == "PPN")
        {
            let country = id
                .assigner
                .as_ref()
                .and_then(|a| a.identifier.as_ref())
                .filter(|i| i.system.as_ref().is_some_and(|s| s.0 == uri::ISO_3166))
                .and_then(|i| i.value.as_ref())
                .ok_or_else(|| {
                    FhirError::required(format!("{path}.assigner.identifier.value")).with_message(
                        format!(
                            "is required: a passport is kept with its issuing state, an identifier in {}",
                            uri::ISO_3166
                        ),
                    )
                })?;
            DocumentInput {
                kind: DocumentKind::Passport.as_str().to_owned(),
                number: number.to_owned(),
                issuing_country: country.0.clone(),
            }
        } else {
            continue;
        };
        return TravelDocument::parse(&input)
            .map(Some)
            .map_err(|e: FieldError| {
                let at = match e.field.as_str() {
                    "number" => format!("{path}.value"),
                    "issuing_country" if system.starts_with(DOCUMENT_PREFIX) => {
                        format!("{path}.system")
                    }
                    "issuing_country" => format!("{path}.assigner.identifier.value"),
                    _ => format!("{path}.system"),
                };
                FhirError::value(at, e.message)
            });
    }
    Ok(None)
}

fn read_phone(p: &Patient) -> Option<Phone> {
    p.telecom
        .iter()
        .filter(|t| matches!(t.system, Some(Coded::Known(ContactPointSystem::Phone))))
        .filter_map(|t| t.value.as_ref())
        .find_map(|v| Phone::parse("phone", &v.0).ok())
}

fn read_language(p: &Patient) -> Option<Language> {
    let preferred = |c: &&PatientCommunication| c.preferred.as_ref().is_some_and(|b| b.0);
    let comm = p
        .communication
        .iter()
        .find(preferred)
        .or(p.communication.first())?;
    comm.language
        .coding
        .iter()
        .filter(|c| util::system_of(c) == uri::BCP_47)
        .find_map(|c| Language::parse("language", code_of(c)).ok())
}
