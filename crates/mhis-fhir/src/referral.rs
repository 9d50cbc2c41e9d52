//! Referral messages ⇄ FHIR R4 message Bundles: what one deployment sends
//! another about a referral (or an arrival notification), both directions.
//!
//! This module owns [`to_bundle`] and [`from_bundle`]; the message envelope
//! (fullUrls, reference rewriting, structural checks) is
//! [`crate::message`]'s. A [`ReferralMessage`] becomes a `message` Bundle:
//!
//! | mhis | FHIR |
//! |---|---|
//! | `id` (message id) | `Bundle.id` (a UUID: the receiver applies it once) |
//! | `sent_at` | `Bundle.timestamp`, and `Task.lastModified` |
//! | `event` | `MessageHeader.eventCoding` `urn:mhis:message-event` `referral-<event>` |
//! | `source` | `MessageHeader.source.endpoint` (url), `.name` |
//! | `destination` | `MessageHeader.destination[0].endpoint` (url), `.name` |
//! | `referral.id` | `ServiceRequest.id` (and its `fullUrl` `urn:uuid:<id>`) |
//! | `referral.state` | `ServiceRequest.extension` `urn:mhis:fhir:extension:referral-state` (`valueCode`), `Task.businessStatus` (`urn:mhis:referral-state`); also `ServiceRequest.status` (draft → `draft`, cancelled → `revoked`, closed → `completed`, others → `active`) |
//! | `referral.kind` | `ServiceRequest.category` (`urn:mhis:referral-kind`) |
//! | `referral.reason` | `ServiceRequest.code` (`urn:mhis:referral-reason`) |
//! | `referral.urgency` | `ServiceRequest.priority` (same wire names) |
//! | `referral.due_date` | `ServiceRequest.occurrencePeriod.end` |
//! | `referral.note` | `ServiceRequest.note[0].text` |
//! | `referral.from_label` | `ServiceRequest.requester.display` |
//! | `referral.to_site_code` | `ServiceRequest.performer[0].identifier` (`urn:mhis:site`) |
//! | `referral.created_at` | `ServiceRequest.authoredOn` |
//! | `referral.person` | `Patient` (`ServiceRequest.subject`): `name[0]`, `gender`, `birthDate` (as recorded, partial or not), `patient-nationality` extension, `identifier` (type `PPN`, issuing state as `assigner.identifier` in ISO 3166), `telecom[0]` (`phone`, or `other` for what is not a phone number) |
//! | `referral.observations` | `Observation`s (`ServiceRequest.supportingInfo`, in order): code and value per the vocabulary, `effectiveDateTime`, status `final` |
//! | `referral.conditions` | `Condition`s (`ServiceRequest.reasonReference`, in order): `code.text`, clinical status `active` |
//! | `referral.outcome` | `Task.output` typed `urn:mhis:referral-output#outcome`, `valueCodeableConcept` (`urn:mhis:referral-outcome`) |
//! | `referral.outcome_date` | `Task.output` typed `…#outcome-date`, `valueDate` |
//! | `referral.outcome_note` | `Task.note[0].text` |
//!
//! The focus is the `ServiceRequest` for `send`, `cancel` and `close` and a
//! `Task` (`focus` → the ServiceRequest, `intent` `order`, `status`
//! `accepted` after acceptance, `in-progress` once an outcome is reported,
//! `completed` when closed) for `accept` and `report_outcome`. A Task is
//! also added, not as focus, to any other message whose referral has an
//! outcome, so that a `close` after an outcome report keeps it. Every
//! resource's id is derived (UUID v5) from the referral or message id, so the
//! same message always gives the same JSON.
//!
//! **Reading** ([`from_bundle`]) checks the structure with
//! [`crate::message::parse`], then reads the same elements back; every
//! missing or unreadable element is a [`FhirError`] naming its path
//! (`Bundle.id`, `MessageHeader.eventCoding.code`, `ServiceRequest.code`,
//! `Task.output`, …), all of them in one error. The state is read from the
//! extension, else from `Task.businessStatus`, else from the
//! ServiceRequest's status and the event. The event `receive` is refused:
//! delivery is confirmed by the acknowledgement, never by a message.
//!
//! **Lost or normalised in the round trip:** an observation whose code is not
//! in the vocabulary, or whose value is not a boolean, number or string, is
//! left out of the Bundle (the rest of the message still travels); a unit on
//! an observation whose value is not a number is dropped (a Quantity is the
//! only value with a unit); a `sex` outside `female`/`male`/`other`/`unknown`
//! travels as an unknown gender code, and an empty one is read back as
//! `unknown`; empty strings of the person (family or given name, contact)
//! travel as absent and read back empty. The travel document's kind is not
//! in a summary, so the identifier carries no mhis document system, only the
//! `PPN` type and the issuing state.

use crate::bundle::IntoResource;
use crate::error::{FhirError, IssueKind, Problems};
use crate::message::{self, MessageBundle, ParsedMessage};
use crate::observation;
use crate::uri;
use crate::util::{self, code_of, find_coding, string};
use chrono::{DateTime, NaiveDate, Utc};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{
    AdministrativeGender, ContactPointSystem, NameUse, ObservationStatus, RequestIntent,
    RequestPriority, RequestStatus, TaskIntent, TaskStatus,
};
use fhir::r4::resources::observation::{ObservationEffective, ObservationValue as FhirValue};
use fhir::r4::resources::service_request::ServiceRequestOccurrence;
use fhir::r4::resources::task::{TaskOutput, TaskOutputValue};
use fhir::r4::resources::{
    Bundle, Condition, Observation, Patient, Resource, ServiceRequest, Task,
};
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{
    self, Annotation, CodeableConcept, ContactPoint, Extension, HumanName, Identifier, Period,
    Reference,
};
use mhis_domain::country::CountryCode;
use mhis_domain::ids::{MessageId, ReferralId};
use mhis_domain::referral::{
    NodeRef, PersonSummary, Referral, ReferralContent, ReferralEvent, ReferralKind,
    ReferralMessage, ReferralOutcome, ReferralState, SummaryObservation, Urgency,
};
use mhis_domain::vocabulary::{ValueType, Vocabulary};
use serde_json::Value as Json;
use uuid::Uuid;

/// Extension on ServiceRequest: the sender's referral state after the event
/// (`valueCode`, a [`ReferralState`] wire name).
pub const EXT_REFERRAL_STATE: &str = "urn:mhis:fhir:extension:referral-state";
/// The system of referral kinds (`referral`, `arrival_notification`).
pub const REFERRAL_KIND: &str = "urn:mhis:referral-kind";
/// The system of referral reasons (`tb_treatment`).
pub const REFERRAL_REASON: &str = "urn:mhis:referral-reason";
/// The system of referral states (`Task.businessStatus`).
pub const REFERRAL_STATE: &str = "urn:mhis:referral-state";
/// The system of referral outcomes (`treatment_started`).
pub const REFERRAL_OUTCOME: &str = "urn:mhis:referral-outcome";
/// The system of the types of a referral Task's outputs (`outcome`,
/// `outcome-date`).
pub const REFERRAL_OUTPUT: &str = "urn:mhis:referral-output";

const OUTPUT_OUTCOME: &str = "outcome";
const OUTPUT_OUTCOME_DATE: &str = "outcome-date";

/// The code of a referral event in `urn:mhis:message-event`
/// (`referral-send`).
pub fn event_code(event: ReferralEvent) -> String {
    format!("referral-{}", event.as_str())
}

fn event_label(event: ReferralEvent) -> &'static str {
    match event {
        ReferralEvent::Send => "Referral sent",
        ReferralEvent::Receive => "Referral received",
        ReferralEvent::Accept => "Referral accepted",
        ReferralEvent::ReportOutcome => "Referral outcome reported",
        ReferralEvent::Close => "Referral closed",
        ReferralEvent::Cancel => "Referral cancelled",
    }
}

fn kind_label(kind: ReferralKind) -> &'static str {
    match kind {
        ReferralKind::Referral => "Referral",
        ReferralKind::ArrivalNotification => "Arrival notification",
    }
}

/// Whether the Task is the message's focus for this event.
fn task_is_focus(event: ReferralEvent) -> bool {
    matches!(event, ReferralEvent::Accept | ReferralEvent::ReportOutcome)
}

/// A stable id for a resource of a referral: UUID v5 of `name` under the
/// referral's (or message's) UUID.
fn derived(namespace: &Uuid, name: &str) -> String {
    Uuid::new_v5(namespace, name.as_bytes()).to_string()
}

/// The wire name of a coded element (`Coded<…>` serialises as its code).
macro_rules! wire {
    ($v:expr) => {
        serde_json::to_value($v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
}

fn annotation(text: &str) -> Annotation {
    Annotation {
        text: types::Markdown(text.to_owned()),
        ..Default::default()
    }
}

fn non_empty(s: &str) -> Option<types::String> {
    (!s.is_empty()).then(|| string(s))
}

// ---------------------------------------------------------------- stored referrals

/// The subject of a stored referral: `Patient/<migrant id>` when the person
/// is registered here, else the person's name as a display (a referral
/// received from a peer names someone this deployment has not registered).
fn stored_subject(r: &Referral) -> Reference {
    match r.migrant_id {
        Some(m) => util::reference("Patient", m),
        None => Reference {
            display: non_empty(format!("{} {}", r.person.given_names, r.person.family_name).trim()),
            ..Default::default()
        },
    }
}

/// A stored referral as the API's `ServiceRequest` (id = the referral id):
/// the message mapping of the module doc, with the subject as
/// `Patient/<migrant id>` (else the person's name), `requester` the
/// referring site (`Organization/<site id>`) when it is local, the
/// receiving site as `performer` when it is local, and the clinical
/// summary left to the Patient's own Observations and Conditions.
pub fn service_request_of(r: &Referral) -> ServiceRequest {
    let content = ReferralContent::of(r);
    let mut request = service_request(&content, "", &[], &[]);
    request.subject = stored_subject(r);
    if r.from_peer.is_none()
        && let Some(requester) = request.requester.as_mut()
    {
        requester.reference = Some(string(format!("Organization/{}", r.site_id)));
    }
    if let Some(site) = r.to_site_id {
        request.performer = vec![util::reference("Organization", site)];
    }
    request.meta = Some(last_updated(&r.updated_at));
    request
}

/// A stored referral's `Task`, with the referral's id (a Task in a message
/// has an id derived from it instead, so that the message's JSON is the
/// same every time): its state as status and business status, the outcome
/// and outcome date as outputs, `lastModified` the last change.
pub fn task_of(r: &Referral) -> Task {
    let content = ReferralContent::of(r);
    let mut t = task(
        &content,
        None,
        &r.id.to_string(),
        stored_subject(r),
        &r.updated_at,
    );
    t.authored_on = Some(util::date_time(&r.created_at));
    t.meta = Some(last_updated(&r.updated_at));
    t
}

/// `meta.lastUpdated` only: referrals keep no version history.
fn last_updated(at: &DateTime<Utc>) -> types::Meta {
    types::Meta {
        last_updated: Some(util::instant(at)),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- to FHIR

/// A referral message as a FHIR R4 message Bundle (JSON with
/// `resourceType`), ready to sign and send. See the module doc for the
/// mapping; an observation that cannot be mapped (code not in `vocabulary`,
/// value neither boolean, number nor string) is left out.
///
/// # Panics
///
/// Only when `message.source.url` is blank: a message needs a source
/// endpoint, and a node always has one.
pub fn to_bundle(message: &ReferralMessage, vocabulary: &Vocabulary) -> Json {
    let r = &message.referral;
    let ns = r.id.0;
    let patient_id = derived(&ns, "Patient");
    let patient = person_to_patient(&r.person, &patient_id);

    let mut observations = Vec::new();
    for (i, o) in r.observations.iter().enumerate() {
        if let Some(obs) =
            summary_to_observation(o, vocabulary, &derived(&ns, &format!("Observation/{i}")))
        {
            observations.push(obs);
        }
    }
    let conditions: Vec<Condition> = r
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| Condition {
            id: Some(string(derived(&ns, &format!("Condition/{i}")))),
            clinical_status: Some(util::concept(
                vec![util::coding(
                    uri::CONDITION_CLINICAL,
                    "active",
                    Some("Active"),
                )],
                None,
            )),
            code: Some(util::concept(Vec::new(), Some(c))),
            subject: util::reference("Patient", &patient_id),
            ..Default::default()
        })
        .collect();

    let request = service_request(r, &patient_id, &observations, &conditions);
    let has_outcome = r.outcome.is_some() || r.outcome_date.is_some() || r.outcome_note.is_some();
    let task = (task_is_focus(message.event) || has_outcome)
        .then(|| referral_task(message, &derived(&ns, "Task"), &patient_id));

    let mut builder = MessageBundle::new(
        message::event(&event_code(message.event), event_label(message.event)),
        &message.source.url,
        &message.destination.url,
    )
    .ids(
        message.id.to_string(),
        derived(&message.id.0, "MessageHeader"),
    )
    .timestamp(message.sent_at);
    builder = match task {
        Some(task) if task_is_focus(message.event) => builder.focus(task).add(request),
        Some(task) => builder.focus(request).add(task),
        None => builder.focus(request),
    };
    builder = builder.add(patient);
    for o in observations {
        builder = builder.add(o);
    }
    for c in conditions {
        builder = builder.add(c);
    }
    let mut bundle = builder
        .build()
        .expect("a referral message with a source endpoint is a valid message");
    name_nodes(&mut bundle, &message.source, &message.destination);
    crate::bundle::to_json(&bundle.into_resource())
}

/// Writes the nodes' names into the built header (`MessageBundle` knows
/// only their endpoints).
fn name_nodes(bundle: &mut Bundle, source: &NodeRef, destination: &NodeRef) {
    let Some(entry) = bundle.entry.first_mut() else {
        return;
    };
    let Some(json) = entry.resource.as_ref() else {
        return;
    };
    let Ok(Resource::MessageHeader(mut header)) = serde_json::from_value::<Resource>(json.clone())
    else {
        return;
    };
    header.source.name = non_empty(&source.name);
    if let Some(d) = header.destination.first_mut() {
        d.name = non_empty(&destination.name);
    }
    entry.resource = Some(crate::bundle::to_json(&header.into_resource()));
}

fn service_request(
    r: &ReferralContent,
    patient_id: &str,
    observations: &[Observation],
    conditions: &[Condition],
) -> ServiceRequest {
    let id_of = |id: &Option<types::String>| id.as_ref().map(|s| s.0.clone()).unwrap_or_default();
    ServiceRequest {
        id: Some(string(r.id.to_string())),
        extension: vec![Extension {
            url: string(EXT_REFERRAL_STATE),
            value: Some(ExtensionValue::Code(Primitive::new(util::code(
                r.state.as_str(),
            )))),
            ..Default::default()
        }],
        status: Coded::Known(match r.state {
            ReferralState::Draft => RequestStatus::Draft,
            ReferralState::Cancelled => RequestStatus::Revoked,
            ReferralState::Closed => RequestStatus::Completed,
            _ => RequestStatus::Active,
        }),
        intent: Coded::Known(RequestIntent::Order),
        category: vec![util::concept(
            vec![util::coding(
                REFERRAL_KIND,
                r.kind.as_str(),
                Some(kind_label(r.kind)),
            )],
            None,
        )],
        priority: Some(Coded::Known(match r.urgency {
            Urgency::Routine => RequestPriority::Routine,
            Urgency::Urgent => RequestPriority::Urgent,
            Urgency::Asap => RequestPriority::Asap,
            Urgency::Stat => RequestPriority::Stat,
        })),
        code: Some(util::concept(
            vec![util::coding(REFERRAL_REASON, &r.reason, None)],
            None,
        )),
        subject: util::reference("Patient", patient_id),
        occurrence: Some(ServiceRequestOccurrence::Period(Box::new(Period {
            end: Some(types::DateTime(util::date(&r.due_date))),
            ..Default::default()
        }))),
        authored_on: Some(util::date_time(&r.created_at)),
        requester: Some(Reference {
            display: Some(string(&r.from_label)),
            ..Default::default()
        }),
        performer: r
            .to_site_code
            .iter()
            .map(|code| Reference {
                identifier: Some(Identifier {
                    system: Some(util::uri(uri::SITE)),
                    value: Some(string(code)),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
        reason_reference: conditions
            .iter()
            .map(|c| util::reference("Condition", id_of(&c.id)))
            .collect(),
        supporting_info: observations
            .iter()
            .map(|o| util::reference("Observation", id_of(&o.id)))
            .collect(),
        note: r.note.iter().map(|n| annotation(n)).collect(),
        ..Default::default()
    }
}

fn referral_task(message: &ReferralMessage, id: &str, patient_id: &str) -> Task {
    task(
        &message.referral,
        Some(message.event),
        id,
        util::reference("Patient", patient_id),
        &message.sent_at,
    )
}

/// The Task of a referral: its state, outcome and outcome date; `event` is
/// the message's, when there is one.
fn task(
    r: &ReferralContent,
    event: Option<ReferralEvent>,
    id: &str,
    subject: Reference,
    last_modified: &DateTime<Utc>,
) -> Task {
    let status = match (r.state, event) {
        (ReferralState::Accepted, _) => TaskStatus::Accepted,
        (ReferralState::OutcomeReported, _) => TaskStatus::InProgress,
        (ReferralState::Closed, _) => TaskStatus::Completed,
        (ReferralState::Cancelled, _) => TaskStatus::Cancelled,
        (ReferralState::Draft, _) => TaskStatus::Draft,
        (_, Some(ReferralEvent::Accept)) => TaskStatus::Accepted,
        (_, Some(ReferralEvent::ReportOutcome)) => TaskStatus::InProgress,
        (ReferralState::Received, None) => TaskStatus::Received,
        _ => TaskStatus::Requested,
    };
    let output_type = |code: &str, display: &str| {
        util::concept(
            vec![util::coding(REFERRAL_OUTPUT, code, Some(display))],
            None,
        )
    };
    let mut output = Vec::new();
    if let Some(outcome) = r.outcome {
        output.push(TaskOutput {
            r#type: output_type(OUTPUT_OUTCOME, "Outcome"),
            value: Some(TaskOutputValue::CodeableConcept(Box::new(util::concept(
                vec![util::coding(REFERRAL_OUTCOME, outcome.as_str(), None)],
                None,
            )))),
            ..Default::default()
        });
    }
    if let Some(date) = &r.outcome_date {
        output.push(TaskOutput {
            r#type: output_type(OUTPUT_OUTCOME_DATE, "Outcome date"),
            value: Some(TaskOutputValue::Date(Primitive::new(types::Date(
                util::date(date),
            )))),
            ..Default::default()
        });
    }
    Task {
        id: Some(string(id)),
        status: Coded::Known(status),
        business_status: Some(util::concept(
            vec![util::coding(REFERRAL_STATE, r.state.as_str(), None)],
            None,
        )),
        intent: Coded::Known(TaskIntent::Order),
        focus: Some(util::reference("ServiceRequest", r.id)),
        r#for: Some(subject),
        last_modified: Some(util::date_time(last_modified)),
        note: r.outcome_note.iter().map(|n| annotation(n)).collect(),
        output,
        ..Default::default()
    }
}

/// Whether `s` reads as a phone number (digits, `+`, spaces, dashes,
/// parentheses, with at least one digit).
fn looks_like_phone(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || "+ -().".contains(c))
}

fn person_to_patient(p: &PersonSummary, id: &str) -> Patient {
    // Given names split at spaces when that loses nothing; else one element.
    let words: Vec<&str> = p.given_names.split_whitespace().collect();
    let given = if words.join(" ") == p.given_names {
        words.into_iter().map(string).collect()
    } else {
        std::iter::once(string(&p.given_names)).collect()
    };
    let gender = match p.sex.as_str() {
        "" => None,
        "female" => Some(Coded::Known(AdministrativeGender::Female)),
        "male" => Some(Coded::Known(AdministrativeGender::Male)),
        "other" => Some(Coded::Known(AdministrativeGender::Other)),
        "unknown" => Some(Coded::Known(AdministrativeGender::Unknown)),
        raw => Some(Coded::Unknown(raw.to_owned())),
    };
    let mut identifier = Vec::new();
    if p.document_number.is_some() || p.document_country.is_some() {
        identifier.push(Identifier {
            r#type: Some(util::concept(
                vec![util::coding(
                    uri::V2_IDENTIFIER_TYPE,
                    "PPN",
                    Some("Passport number"),
                )],
                Some("Travel document"),
            )),
            value: p.document_number.as_deref().map(string),
            assigner: p.document_country.as_ref().map(|c| {
                Box::new(Reference {
                    identifier: Some(Identifier {
                        system: Some(util::uri(uri::ISO_3166)),
                        value: Some(string(c)),
                        ..Default::default()
                    }),
                    display: CountryCode::parse("country", c)
                        .ok()
                        .map(|c| string(c.name())),
                    ..Default::default()
                })
            }),
            ..Default::default()
        });
    }
    let nationality_display = CountryCode::parse("nationality", &p.nationality)
        .ok()
        .map(|c| c.name().to_owned());
    Patient {
        id: Some(string(id)),
        extension: vec![Extension {
            url: string(uri::PATIENT_NATIONALITY),
            extension: vec![Extension {
                url: string("code"),
                value: Some(ExtensionValue::CodeableConcept(Box::new(util::concept(
                    vec![util::coding(
                        uri::ISO_3166,
                        &p.nationality,
                        nationality_display.as_deref(),
                    )],
                    None,
                )))),
                ..Default::default()
            }],
            ..Default::default()
        }],
        identifier,
        name: vec![HumanName {
            r#use: Some(Coded::Known(NameUse::Official)),
            family: non_empty(&p.family_name),
            given,
            ..Default::default()
        }],
        telecom: p
            .contact
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| ContactPoint {
                system: Some(Coded::Known(if looks_like_phone(c) {
                    ContactPointSystem::Phone
                } else {
                    ContactPointSystem::Other
                })),
                value: Some(string(c)),
                ..Default::default()
            })
            .collect(),
        gender,
        birth_date: (!p.birth_date.is_empty()).then(|| types::Date(p.birth_date.clone())),
        ..Default::default()
    }
}

/// One summary observation as an `Observation`, or `None` when it cannot
/// be mapped (see [`to_bundle`]).
fn summary_to_observation(
    o: &SummaryObservation,
    vocabulary: &Vocabulary,
    id: &str,
) -> Option<Observation> {
    let def = vocabulary.get(&o.code)?;
    let value = match &o.value {
        Json::Bool(b) => FhirValue::Boolean(Primitive::new(types::Boolean(*b))),
        Json::Number(n) => {
            let as_int = n
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .filter(|i| i.to_string() == n.to_string());
            match (&def.value_type, &o.unit, as_int) {
                (ValueType::Integer { .. }, None, Some(i)) => {
                    FhirValue::Integer(Primitive::new(types::Integer(i)))
                }
                _ => FhirValue::Quantity(Box::new(types::Quantity {
                    value: Some(types::Decimal::from_json_number(n)),
                    unit: o.unit.as_deref().map(string),
                    system: o.unit.as_ref().map(|_| util::uri(uri::UCUM)),
                    code: o.unit.as_deref().map(util::code),
                    ..Default::default()
                })),
            }
        }
        Json::String(s) => match &def.value_type {
            ValueType::Coded { .. } => {
                FhirValue::CodeableConcept(Box::new(observation::value_concept(def, s)))
            }
            ValueType::Date if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
                FhirValue::DateTime(Primitive::new(types::DateTime(s.clone())))
            }
            _ => FhirValue::String(Primitive::new(string(s))),
        },
        _ => return None,
    };
    Some(Observation {
        id: Some(string(id)),
        status: Coded::Known(ObservationStatus::Final),
        code: observation::code_concept(def),
        value: Some(value),
        effective: Some(ObservationEffective::DateTime(Primitive::new(
            util::date_time(&o.observed_at),
        ))),
        ..Default::default()
    })
}

// -------------------------------------------------------------- from FHIR

/// Reads a referral message Bundle (see the module doc), checking its
/// structure and every element mhis needs; every problem found is reported,
/// each with its path.
pub fn from_bundle(json: &Json, vocabulary: &Vocabulary) -> Result<ReferralMessage, FhirError> {
    let parsed = message::parse(json)?;
    let mut problems = Problems::default();

    let id = problems.take(read_message_id(&parsed));
    let sent_at = problems.take(match &parsed.timestamp {
        None => Err(FhirError::required("Bundle.timestamp")),
        Some(t) => util::read_date_time("Bundle.timestamp", t),
    });
    let event = problems.take(read_event(&parsed));
    let source = NodeRef {
        name: parsed
            .header
            .source
            .name
            .as_ref()
            .map(|n| n.0.clone())
            .unwrap_or_default(),
        url: parsed.source().to_owned(),
    };
    let destination = problems.take(
        parsed
            .header
            .destination
            .first()
            .map(|d| NodeRef {
                name: d.name.as_ref().map(|n| n.0.clone()).unwrap_or_default(),
                url: d.endpoint.0.clone(),
            })
            .ok_or_else(|| FhirError::required("MessageHeader.destination")),
    );

    let (request, task) = find_focus(&parsed);
    let referral = match request {
        None => {
            problems.push(FhirError::structure(
                "MessageHeader.focus",
                "must be the referral's ServiceRequest, or a Task whose focus is it",
            ));
            None
        }
        Some(sr) => {
            if task.is_none() && event.is_some_and(task_is_focus) {
                problems.push(FhirError::required("Task").with_message(format!(
                    "is required: a '{}' message carries the referral's Task",
                    event.map(event_code).unwrap_or_default()
                )));
            }
            problems.take(read_referral(&parsed, sr, task, event, vocabulary))
        }
    };
    problems.finish()?;
    match (id, sent_at, event, destination, referral) {
        (Some(id), Some(sent_at), Some(event), Some(destination), Some(referral)) => {
            Ok(ReferralMessage {
                id,
                event,
                referral,
                source,
                destination,
                sent_at,
            })
        }
        // Unreachable: every `None` above recorded a problem.
        _ => Err(FhirError::structure("Bundle", "could not be read")),
    }
}

fn read_message_id(parsed: &ParsedMessage) -> Result<MessageId, FhirError> {
    let raw = parsed
        .id
        .as_deref()
        .ok_or_else(|| FhirError::required("Bundle.id"))?;
    raw.parse().map_err(|_| {
        FhirError::value(
            "Bundle.id",
            format!("'{raw}' is not a UUID: a referral message's id is its message id"),
        )
    })
}

fn read_event(parsed: &ParsedMessage) -> Result<ReferralEvent, FhirError> {
    let coding = parsed
        .event
        .as_ref()
        .ok_or_else(|| FhirError::required("MessageHeader.eventCoding"))?;
    if util::system_of(coding) != uri::MESSAGE_EVENT {
        return Err(FhirError::new(
            "MessageHeader.eventCoding.system",
            IssueKind::CodeInvalid,
            format!(
                "'{}' is not {}, the system of mhis message events",
                util::system_of(coding),
                uri::MESSAGE_EVENT
            ),
        ));
    }
    let code = code_of(coding);
    let expected = || {
        ReferralEvent::ALL
            .iter()
            .filter(|e| **e != ReferralEvent::Receive)
            .map(|e| event_code(*e))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let event = code
        .strip_prefix("referral-")
        .and_then(|e| ReferralEvent::parse("event", e).ok())
        .ok_or_else(|| {
            FhirError::new(
                "MessageHeader.eventCoding.code",
                IssueKind::CodeInvalid,
                format!(
                    "'{code}' is not a referral event (expected one of: {})",
                    expected()
                ),
            )
        })?;
    if event == ReferralEvent::Receive {
        return Err(FhirError::new(
            "MessageHeader.eventCoding.code",
            IssueKind::NotSupported,
            "'referral-receive' is not a message: delivery is confirmed by the acknowledgement",
        ));
    }
    Ok(event)
}

/// The referral's ServiceRequest and Task (if any): the focus, or what a
/// focus Task points at; a Task that is not focus is taken from the entries.
fn find_focus(parsed: &ParsedMessage) -> (Option<&ServiceRequest>, Option<&Task>) {
    let mut request = None;
    let mut task = None;
    for res in parsed.focus() {
        match res {
            Resource::ServiceRequest(sr) if request.is_none() => request = Some(&**sr),
            Resource::Task(t) if task.is_none() => task = Some(&**t),
            _ => {}
        }
    }
    if request.is_none()
        && let Some(Resource::ServiceRequest(sr)) = task
            .and_then(|t| t.focus.as_ref())
            .and_then(|f| f.reference.as_ref())
            .and_then(|r| parsed.resolve(&r.0))
    {
        request = Some(&**sr);
    }
    if task.is_none() {
        task = parsed.entries.iter().find_map(|e| match &e.resource {
            Resource::Task(t) => Some(&**t),
            _ => None,
        });
    }
    (request, task)
}

/// The code of the first coding of `concept` in `system`, or an error
/// naming `path`.
fn coded<'a>(
    concept: Option<&'a CodeableConcept>,
    system: &str,
    path: &str,
) -> Result<&'a str, FhirError> {
    let concept = concept.ok_or_else(|| FhirError::required(path))?;
    find_coding(concept, system)
        .map(|(_, c)| code_of(c))
        .ok_or_else(|| {
            FhirError::new(
                format!("{path}.coding"),
                IssueKind::CodeInvalid,
                format!("needs a coding in {system}"),
            )
        })
}

fn code_error(path: &str, e: mhis_domain::FieldError) -> FhirError {
    FhirError::new(path, IssueKind::CodeInvalid, e.message)
}

fn read_referral(
    parsed: &ParsedMessage,
    sr: &ServiceRequest,
    task: Option<&Task>,
    event: Option<ReferralEvent>,
    vocabulary: &Vocabulary,
) -> Result<ReferralContent, FhirError> {
    let mut problems = Problems::default();
    let id = problems.take(read_referral_id(sr));
    let state = problems.take(read_state(sr, task, event));
    let kind = problems.take(
        coded(
            sr.category.first(),
            REFERRAL_KIND,
            "ServiceRequest.category",
        )
        .and_then(|c| {
            ReferralKind::parse("kind", c)
                .map_err(|e| code_error("ServiceRequest.category.coding.code", e))
        }),
    );
    let reason = problems
        .take(coded(sr.code.as_ref(), REFERRAL_REASON, "ServiceRequest.code").map(str::to_owned));
    let urgency = problems.take(match &sr.priority {
        None => Err(FhirError::required("ServiceRequest.priority")),
        Some(p) => Urgency::parse("priority", &wire!(p))
            .map_err(|e| code_error("ServiceRequest.priority", e)),
    });
    let due_date = problems.take(read_due_date(sr));
    let created_at = problems.take(match &sr.authored_on {
        None => Err(FhirError::required("ServiceRequest.authoredOn")),
        Some(t) => util::read_date_time("ServiceRequest.authoredOn", &t.0),
    });
    let from_label = problems.take(
        sr.requester
            .as_ref()
            .and_then(|r| r.display.as_ref())
            .map(|d| d.0.clone())
            .ok_or_else(|| FhirError::required("ServiceRequest.requester.display")),
    );
    let to_site_code = sr
        .performer
        .iter()
        .filter_map(|p| p.identifier.as_ref())
        .find(|i| i.system.as_ref().is_some_and(|s| s.0 == uri::SITE))
        .and_then(|i| i.value.as_ref())
        .map(|v| v.0.clone());
    let note = sr.note.first().map(|n| n.text.0.clone());
    let person = problems.take(read_subject(parsed, sr));

    let mut observations = Vec::new();
    for (i, info) in sr.supporting_info.iter().enumerate() {
        let path = format!("ServiceRequest.supportingInfo[{i}]");
        match resolve(parsed, info, &path) {
            Ok(Resource::Observation(o)) => {
                if let Some(o) = problems.take(observation_to_summary(o, vocabulary)) {
                    observations.push(o);
                }
            }
            Ok(_) => problems.push(FhirError::structure(
                format!("{path}.reference"),
                "must reference an Observation",
            )),
            Err(e) => problems.push(e),
        }
    }
    let mut conditions = Vec::new();
    for (i, reason) in sr.reason_reference.iter().enumerate() {
        let path = format!("ServiceRequest.reasonReference[{i}]");
        match resolve(parsed, reason, &path) {
            Ok(Resource::Condition(c)) => match c.code.as_ref().and_then(|c| c.text.as_ref()) {
                Some(text) => conditions.push(text.0.clone()),
                None => problems.push(FhirError::required("Condition.code.text")),
            },
            Ok(_) => problems.push(FhirError::structure(
                format!("{path}.reference"),
                "must reference a Condition",
            )),
            Err(e) => problems.push(e),
        }
    }

    let (outcome, outcome_date, outcome_note) = match task {
        None => (None, None, None),
        Some(t) => problems
            .take(read_outcome(t, event))
            .unwrap_or((None, None, None)),
    };
    problems.finish()?;
    match (
        id, state, kind, reason, urgency, due_date, created_at, from_label, person,
    ) {
        (
            Some(id),
            Some(state),
            Some(kind),
            Some(reason),
            Some(urgency),
            Some(due_date),
            Some(created_at),
            Some(from_label),
            Some(person),
        ) => Ok(ReferralContent {
            id,
            kind,
            state,
            reason,
            urgency,
            due_date,
            note,
            from_label,
            to_site_code,
            person,
            observations,
            conditions,
            outcome,
            outcome_date,
            outcome_note,
            created_at,
        }),
        // Unreachable: every `None` above recorded a problem.
        _ => Err(FhirError::structure("ServiceRequest", "could not be read")),
    }
}

fn resolve<'a>(
    parsed: &'a ParsedMessage,
    reference: &Reference,
    path: &str,
) -> Result<&'a Resource, FhirError> {
    let r = reference
        .reference
        .as_ref()
        .ok_or_else(|| FhirError::required(format!("{path}.reference")))?;
    parsed.resolve(&r.0).ok_or_else(|| {
        FhirError::new(
            format!("{path}.reference"),
            IssueKind::NotFound,
            format!("'{}' does not resolve to an entry of the message", r.0),
        )
    })
}

fn read_referral_id(sr: &ServiceRequest) -> Result<ReferralId, FhirError> {
    let raw = sr
        .id
        .as_ref()
        .ok_or_else(|| FhirError::required("ServiceRequest.id"))?;
    raw.0.parse().map_err(|_| {
        FhirError::value(
            "ServiceRequest.id",
            format!("'{}' is not a UUID: it is the referral's id", raw.0),
        )
    })
}

fn read_state(
    sr: &ServiceRequest,
    task: Option<&Task>,
    event: Option<ReferralEvent>,
) -> Result<ReferralState, FhirError> {
    let path = format!("ServiceRequest.extension('{EXT_REFERRAL_STATE}').valueCode");
    if let Some(ext) = sr.extension.iter().find(|e| e.url.0 == EXT_REFERRAL_STATE) {
        return match &ext.value {
            Some(ExtensionValue::Code(c)) => {
                ReferralState::parse("state", &c.value.0).map_err(|e| code_error(&path, e))
            }
            _ => Err(FhirError::required(path)),
        };
    }
    if let Some(bs) = task.and_then(|t| t.business_status.as_ref()) {
        let code = coded(Some(bs), REFERRAL_STATE, "Task.businessStatus")?;
        return ReferralState::parse("state", code)
            .map_err(|e| code_error("Task.businessStatus.coding.code", e));
    }
    // Neither: the request's status and the event tell the state.
    match (&sr.status, event) {
        (Coded::Known(RequestStatus::Draft), _) => Ok(ReferralState::Draft),
        (Coded::Known(RequestStatus::Revoked), _) => Ok(ReferralState::Cancelled),
        (Coded::Known(RequestStatus::Completed), _) => Ok(ReferralState::Closed),
        (_, Some(ReferralEvent::Send)) => Ok(ReferralState::Sent),
        (_, Some(ReferralEvent::Accept)) => Ok(ReferralState::Accepted),
        (_, Some(ReferralEvent::ReportOutcome)) => Ok(ReferralState::OutcomeReported),
        (_, Some(ReferralEvent::Close)) => Ok(ReferralState::Closed),
        (_, Some(ReferralEvent::Cancel)) => Ok(ReferralState::Cancelled),
        _ => Err(FhirError::required(path)),
    }
}

fn read_due_date(sr: &ServiceRequest) -> Result<NaiveDate, FhirError> {
    let path = "ServiceRequest.occurrencePeriod.end";
    let end = match &sr.occurrence {
        Some(ServiceRequestOccurrence::Period(p)) => p.end.as_ref(),
        _ => None,
    }
    .ok_or_else(|| FhirError::required(path))?;
    NaiveDate::parse_from_str(&end.0, "%Y-%m-%d")
        .or_else(|_| util::read_date_time(path, &end.0).map(|t| t.date_naive()))
}

/// A referral's outcome, its date and the receiver's note.
type OutcomeFields = (Option<ReferralOutcome>, Option<NaiveDate>, Option<String>);

fn read_outcome(task: &Task, event: Option<ReferralEvent>) -> Result<OutcomeFields, FhirError> {
    let mut problems = Problems::default();
    let mut outcome = None;
    let mut outcome_seen = false;
    let mut date = None;
    for (i, out) in task.output.iter().enumerate() {
        let path = format!("Task.output[{i}]");
        let Some((_, ty)) = find_coding(&out.r#type, REFERRAL_OUTPUT) else {
            continue;
        };
        match (code_of(ty), &out.value) {
            (OUTPUT_OUTCOME, Some(TaskOutputValue::CodeableConcept(cc))) => {
                outcome_seen = true;
                outcome = problems.take(
                    coded(
                        Some(cc),
                        REFERRAL_OUTCOME,
                        &format!("{path}.valueCodeableConcept"),
                    )
                    .and_then(|c| {
                        ReferralOutcome::parse("outcome", c).map_err(|e| {
                            code_error(&format!("{path}.valueCodeableConcept.coding.code"), e)
                        })
                    }),
                );
            }
            (OUTPUT_OUTCOME, _) => {
                outcome_seen = true;
                problems.push(FhirError::required(format!("{path}.valueCodeableConcept")));
            }
            (OUTPUT_OUTCOME_DATE, Some(TaskOutputValue::Date(d))) => {
                date = problems.take(NaiveDate::parse_from_str(&d.value.0, "%Y-%m-%d").map_err(
                    |_| {
                        FhirError::value(
                            format!("{path}.valueDate"),
                            format!("'{}' is not a full date (YYYY-MM-DD)", d.value.0),
                        )
                    },
                ));
            }
            (OUTPUT_OUTCOME_DATE, _) => {
                problems.push(FhirError::required(format!("{path}.valueDate")))
            }
            _ => {}
        }
    }
    if !outcome_seen && event == Some(ReferralEvent::ReportOutcome) {
        problems.push(FhirError::required("Task.output").with_message(format!(
            "is required: a 'referral-report_outcome' message carries the outcome as an output typed {REFERRAL_OUTPUT}#{OUTPUT_OUTCOME}"
        )));
    }
    problems.finish()?;
    let note = task.note.first().map(|n| n.text.0.clone());
    Ok((outcome, date, note))
}

fn read_subject(parsed: &ParsedMessage, sr: &ServiceRequest) -> Result<PersonSummary, FhirError> {
    match resolve(parsed, &sr.subject, "ServiceRequest.subject")? {
        Resource::Patient(p) => read_person(p),
        _ => Err(FhirError::structure(
            "ServiceRequest.subject.reference",
            "must reference a Patient",
        )),
    }
}

fn read_person(p: &Patient) -> Result<PersonSummary, FhirError> {
    let mut problems = Problems::default();
    let name = p
        .name
        .iter()
        .find(|n| matches!(n.r#use, Some(Coded::Known(NameUse::Official))))
        .or(p.name.first());
    if name.is_none() {
        problems.push(FhirError::required("Patient.name"));
    }
    let family_name = name
        .and_then(|n| n.family.as_ref())
        .map(|f| f.0.clone())
        .unwrap_or_default();
    let given_names = name
        .map(|n| {
            n.given
                .values()
                .map(|g| g.0.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let sex = match &p.gender {
        None => "unknown".to_owned(),
        Some(g) => wire!(g),
    };
    let birth_date = p.birth_date.as_ref().map(|d| d.0.clone());
    if birth_date.is_none() {
        problems.push(FhirError::required("Patient.birthDate"));
    }
    let nationality = problems.take(read_nationality(p));
    let document = p.identifier.iter().find(|i| {
        i.r#type
            .as_ref()
            .and_then(|t| find_coding(t, uri::V2_IDENTIFIER_TYPE))
            .is_some_and(|(_, c)| code_of(c) == "PPN")
    });
    let contact = p
        .telecom
        .iter()
        .filter(|t| {
            matches!(
                t.system,
                Some(Coded::Known(
                    ContactPointSystem::Phone | ContactPointSystem::Other
                ))
            )
        })
        .find_map(|t| t.value.as_ref())
        .map(|v| v.0.clone());
    problems.finish()?;
    Ok(PersonSummary {
        family_name,
        given_names,
        sex,
        birth_date: birth_date.unwrap_or_default(),
        nationality: nationality.unwrap_or_default(),
        document_number: document.and_then(|d| d.value.as_ref()).map(|v| v.0.clone()),
        document_country: document
            .and_then(|d| d.assigner.as_ref())
            .and_then(|a| a.identifier.as_ref())
            .and_then(|i| i.value.as_ref())
            .map(|v| v.0.clone()),
        contact,
    })
}

fn read_nationality(p: &Patient) -> Result<String, FhirError> {
    let path = crate::patient::NATIONALITY_PATH;
    let ext = p
        .extension
        .iter()
        .find(|e| e.url.0 == uri::PATIENT_NATIONALITY)
        .ok_or_else(|| FhirError::required(path))?;
    let concept = ext
        .extension
        .iter()
        .find(|e| e.url.0 == "code")
        .and_then(|e| match &e.value {
            Some(ExtensionValue::CodeableConcept(c)) => Some(&**c),
            _ => None,
        });
    coded(
        concept,
        uri::ISO_3166,
        &format!("{path}.extension('code').value"),
    )
    .map(str::to_owned)
}

/// An `Observation` of the message back into a summary observation, its
/// value rebuilt as the JSON it was (numbers keep their exact lexeme).
fn observation_to_summary(
    o: &Observation,
    vocabulary: &Vocabulary,
) -> Result<SummaryObservation, FhirError> {
    let def = observation::find_code(&o.code, vocabulary)?;
    let (value, unit) = match &o.value {
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
        Some(FhirValue::CodeableConcept(cc)) => {
            let value = find_coding(cc, uri::OBSERVATION_VALUE)
                .map(|(_, c)| code_of(c).to_owned())
                .or_else(|| {
                    cc.coding.iter().find_map(|c| {
                        def.value_codings
                            .iter()
                            .find(|(_, k)| k.system == util::system_of(c) && k.code == code_of(c))
                            .map(|(v, _)| v.clone())
                    })
                })
                .ok_or_else(|| {
                    FhirError::new(
                        "Observation.valueCodeableConcept",
                        IssueKind::CodeInvalid,
                        format!("no coding names a value of '{}'", def.code),
                    )
                })?;
            (Json::String(value), None)
        }
        Some(_) => {
            return Err(FhirError::new(
                "Observation.value[x]",
                IssueKind::NotSupported,
                "a referral's observation is a boolean, coded value, quantity, integer, string or date",
            ));
        }
    };
    let observed_at: DateTime<Utc> = match &o.effective {
        Some(ObservationEffective::DateTime(d)) => {
            util::read_date_time("Observation.effectiveDateTime", &d.value.0)?
        }
        Some(ObservationEffective::Instant(d)) => {
            util::read_date_time("Observation.effectiveInstant", &d.value.0)?
        }
        _ => return Err(FhirError::required("Observation.effectiveDateTime")),
    };
    Ok(SummaryObservation {
        code: def.code.clone(),
        value,
        unit,
        observed_at,
    })
}
