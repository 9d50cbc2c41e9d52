//! Row decoding shared by the SQL backends of the mhis store.
//!
//! Both backends store the same columns under the same names, so reading a
//! row back into a domain value is written once here, generic over the
//! driver. Stored values were parsed before they were written, so a value
//! that fails to parse here means a damaged database, reported as a
//! database error. This crate holds no SQL statements beyond column lists:
//! each backend keeps its own queries next to its own migrations.

use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::access::{Role, Scope, User};
use mhis_domain::assessment::{Assessment, AssessmentStatus, ProtocolId, Purpose};
use mhis_domain::audit::{AuditEntry, AuditEvent};
use mhis_domain::country::CountryCode;
use mhis_domain::ids::{AssessmentId, MigrantId, ObservationId, SiteId, UserId};
use mhis_domain::ids::{MessageId, ReferralId};
use mhis_domain::migrant::{
    DocumentKind, Language, Migrant, MigrantDetails, PartialDate, Phone, Sex, TravelDocument,
};
use mhis_domain::observation::{Observation, ObservationValue};
use mhis_domain::referral::{
    Referral, ReferralEvent, ReferralKind, ReferralOutcome, ReferralState, TimelineEntry, Urgency,
};
use mhis_domain::site::{Site, SiteCode, SiteKind};
use mhis_domain::vocabulary::Vocabulary;
use mhis_store::{
    Departure, NodeIdentity, OutboxMessage, Peer, StoreError, StoreResult, StoredCertificate,
    value_from_stored,
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

/// The columns of `sites` that [`site_from_row`] reads.
pub const SITE_COLUMNS: &str = "id, code, kind, country, name";

/// The columns of `migrants` that [`migrant_from_row`] reads.
pub const MIGRANT_COLUMNS: &str = "id, registration_number, registered_at, family_name, \
    given_names, family_name_latin, given_names_latin, sex, birth_date, nationality, \
    document_kind, document_number, document_country, phone, preferred_language, version, \
    created_at, updated_at";

/// The columns of `assessments` that [`assessment_from_row`] reads.
pub const ASSESSMENT_COLUMNS: &str = "id, migrant_id, site_id, purpose, destination, protocol, \
    status, assessment_date, opened_at, finalised_at, updated_at, final_outcome, engine_outcome, \
    final_reason, finalised_by";

/// The columns of `observations`, in the order inserts bind them.
pub const OBSERVATION_COLUMNS: &str = "id, assessment_id, code, value, unit, observed_at, \
    recorded_by, recorded_at, supersedes, superseded_by, correction_reason";

/// The columns of `users` that [`user_from_row`] reads.
pub const USER_COLUMNS: &str = "id, username, display_name, role, national, language";

/// The columns of `audit_log`, in the order inserts bind them.
pub const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, entity, entity_id, origin, prev_hash, hash";

/// The columns of `certificates` that [`certificate_from_row`] reads.
pub const CERTIFICATE_COLUMNS: &str = "id, assessment_id, site_id, country, kid, payload, qr_text, \
    issued_at, valid_until, revoked_at, revocation_reason";

/// The columns of `referrals`, in the order inserts bind them.
pub const REFERRAL_COLUMNS: &str = "id, kind, state, site_id, to_site_id, to_peer, \
    to_peer_site_code, from_peer, from_label, assessment_id, migrant_id, reason, urgency, \
    due_date, note, person, observations, conditions, outcome, outcome_date, outcome_note, \
    created_by, created_at, updated_at";

/// The columns of `referral_events` that [`timeline_from_row`] reads.
pub const TIMELINE_COLUMNS: &str = "at, event, state, actor, detail";

/// The columns of `outbox` that [`outbox_from_row`] reads.
pub const OUTBOX_COLUMNS: &str = "id, peer, referral_id, event, body, signature, created_at, \
    attempts, next_attempt_at, last_error, delivered_at, result";

/// The columns of `peers`, in the order inserts bind them.
pub const PEER_COLUMNS: &str = "name, url, public_key, country, created_at";

/// The columns of `node_identity` (after `singleton`), in insert order.
pub const NODE_COLUMNS: &str =
    "name, url, public_key, private_key_sealed, inbox_site_id, created_at";

/// The columns of `departures`, in the order inserts bind them.
pub const DEPARTURE_COLUMNS: &str =
    "assessment_id, departed_on, recorded_by, recorded_at, notification_id";

/// Serialises a JSON column of a referral (person, observations,
/// conditions) for storage.
pub fn json_column(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("referral parts serialise")
}

fn json_from_column<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("stored JSON: {e}")))
}

/// Wraps any driver or decoding error.
pub fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn damaged(e: mhis_domain::FieldError) -> StoreError {
    StoreError::Database(format!("stored value does not parse: {e}"))
}

/// Reads one column, mapping errors.
fn get<'r, T, R>(row: &'r R, column: &str) -> StoreResult<T>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(column).map_err(db_err)
}

macro_rules! row_fn {
    ($(#[$doc:meta])* fn $name:ident($row:ident $(, $arg:ident: $argty:ty)*) -> $ret:ty $body:block) => {
        $(#[$doc])*
        pub fn $name<R>($row: &R $(, $arg: $argty)*) -> StoreResult<$ret>
        where
            R: Row,
            for<'c> &'c str: ColumnIndex<R>,
            for<'r> Uuid: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> NaiveDate: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
            for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
        $body
    };
}

row_fn! {
    /// Reads a site.
    fn site_from_row(row) -> Site {
        Ok(Site {
            id: SiteId(get(row, "id")?),
            code: SiteCode::parse("code", &get::<String, _>(row, "code")?).map_err(damaged)?,
            kind: SiteKind::parse("kind", &get::<String, _>(row, "kind")?).map_err(damaged)?,
            country: CountryCode::parse("country", &get::<String, _>(row, "country")?)
                .map_err(damaged)?,
            name: get(row, "name")?,
        })
    }
}

row_fn! {
    /// Reads a migrant.
    fn migrant_from_row(row) -> Migrant {
        let text = |c: &str| get::<String, _>(row, c);
        let opt = |c: &str| get::<Option<String>, _>(row, c);
        let document = match (opt("document_kind")?, opt("document_number")?, opt("document_country")?) {
            (Some(kind), Some(number), Some(country)) => Some(TravelDocument {
                kind: DocumentKind::parse("document_kind", &kind).map_err(damaged)?,
                number,
                issuing_country: CountryCode::parse("document_country", &country)
                    .map_err(damaged)?,
            }),
            _ => None,
        };
        Ok(Migrant {
            id: MigrantId(get(row, "id")?),
            registration_number: text("registration_number")?,
            registered_at: SiteId(get(row, "registered_at")?),
            details: MigrantDetails {
                family_name: text("family_name")?,
                given_names: text("given_names")?,
                family_name_latin: text("family_name_latin")?,
                given_names_latin: text("given_names_latin")?,
                sex: Sex::parse("sex", &text("sex")?).map_err(damaged)?,
                birth_date: PartialDate::from_stored(&text("birth_date")?).map_err(damaged)?,
                nationality: CountryCode::parse("nationality", &text("nationality")?)
                    .map_err(damaged)?,
                document,
                phone: opt("phone")?
                    .map(|p| Phone::parse("phone", &p))
                    .transpose()
                    .map_err(damaged)?,
                preferred_language: opt("preferred_language")?
                    .map(|l| Language::parse("preferred_language", &l))
                    .transpose()
                    .map_err(damaged)?,
            },
            version: get(row, "version")?,
            created_at: get(row, "created_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }
}

row_fn! {
    /// Reads an assessment.
    fn assessment_from_row(row) -> Assessment {
        let text = |c: &str| get::<String, _>(row, c);
        Ok(Assessment {
            id: AssessmentId(get(row, "id")?),
            migrant_id: MigrantId(get(row, "migrant_id")?),
            site_id: SiteId(get(row, "site_id")?),
            purpose: Purpose::parse("purpose", &text("purpose")?).map_err(damaged)?,
            destination: CountryCode::parse("destination", &text("destination")?)
                .map_err(damaged)?,
            protocol: ProtocolId::from_stored(text("protocol")?),
            status: AssessmentStatus::parse("status", &text("status")?).map_err(damaged)?,
            assessment_date: get(row, "assessment_date")?,
            opened_at: get(row, "opened_at")?,
            finalised_at: get(row, "finalised_at")?,
            updated_at: get(row, "updated_at")?,
            final_outcome: get(row, "final_outcome")?,
            engine_outcome: get(row, "engine_outcome")?,
            final_reason: get(row, "final_reason")?,
            finalised_by: get(row, "finalised_by")?,
        })
    }
}

row_fn! {
    /// Reads an observation; `vocabulary` tells text from coded values.
    fn observation_from_row(row, vocabulary: &Vocabulary) -> Observation {
        let code: String = get(row, "code")?;
        let stored: String = get(row, "value")?;
        let value =
            ObservationValue::from_stored(vocabulary.get(&code), &value_from_stored(&stored)?);
        let id = |c: &str| -> StoreResult<Option<ObservationId>> {
            Ok(get::<Option<Uuid>, _>(row, c)?.map(ObservationId))
        };
        Ok(Observation {
            id: ObservationId(get(row, "id")?),
            assessment_id: AssessmentId(get(row, "assessment_id")?),
            code,
            value,
            unit: get(row, "unit")?,
            observed_at: get(row, "observed_at")?,
            recorded_by: get(row, "recorded_by")?,
            recorded_at: get(row, "recorded_at")?,
            supersedes: id("supersedes")?,
            superseded_by: id("superseded_by")?,
            correction_reason: get(row, "correction_reason")?,
        })
    }
}

row_fn! {
    /// Reads a user; `sites` are the user's sites (ignored with national
    /// scope).
    fn user_from_row(row, sites: Vec<SiteId>) -> User {
        let national: bool = get(row, "national")?;
        Ok(User {
            id: UserId(get(row, "id")?),
            username: get(row, "username")?,
            display_name: get(row, "display_name")?,
            role: Role::parse("role", &get::<String, _>(row, "role")?).map_err(damaged)?,
            scope: if national { Scope::National } else { Scope::Sites(sites) },
            language: get(row, "language")?,
        })
    }
}

row_fn! {
    /// Reads an audit entry.
    fn audit_from_row(row) -> AuditEntry {
        Ok(AuditEntry {
            seq: get(row, "seq")?,
            at: get(row, "at")?,
            event: AuditEvent {
                actor: get(row, "actor")?,
                action: get(row, "action")?,
                entity: get(row, "entity")?,
                entity_id: get(row, "entity_id")?,
                origin: get(row, "origin")?,
            },
            prev_hash: get(row, "prev_hash")?,
            hash: get(row, "hash")?,
        })
    }
}

row_fn! {
    /// Reads an issued certificate.
    fn certificate_from_row(row) -> StoredCertificate {
        Ok(StoredCertificate {
            id: get(row, "id")?,
            assessment_id: AssessmentId(get(row, "assessment_id")?),
            site_id: SiteId(get(row, "site_id")?),
            country: get(row, "country")?,
            kid: get(row, "kid")?,
            payload: get(row, "payload")?,
            qr_text: get(row, "qr_text")?,
            issued_at: get(row, "issued_at")?,
            valid_until: get(row, "valid_until")?,
            revoked_at: get(row, "revoked_at")?,
            revocation_reason: get(row, "revocation_reason")?,
        })
    }
}

row_fn! {
    /// Reads a referral.
    fn referral_from_row(row) -> Referral {
        let text = |c: &str| get::<String, _>(row, c);
        Ok(Referral {
            id: ReferralId(get(row, "id")?),
            kind: ReferralKind::parse("kind", &text("kind")?).map_err(damaged)?,
            state: ReferralState::parse("state", &text("state")?).map_err(damaged)?,
            site_id: SiteId(get(row, "site_id")?),
            to_site_id: get::<Option<Uuid>, _>(row, "to_site_id")?.map(SiteId),
            to_peer: get(row, "to_peer")?,
            to_peer_site_code: get(row, "to_peer_site_code")?,
            from_peer: get(row, "from_peer")?,
            from_label: text("from_label")?,
            assessment_id: get::<Option<Uuid>, _>(row, "assessment_id")?.map(AssessmentId),
            migrant_id: get::<Option<Uuid>, _>(row, "migrant_id")?.map(MigrantId),
            reason: text("reason")?,
            urgency: Urgency::parse("urgency", &text("urgency")?).map_err(damaged)?,
            due_date: get(row, "due_date")?,
            note: get(row, "note")?,
            person: json_from_column(&text("person")?)?,
            observations: json_from_column(&text("observations")?)?,
            conditions: json_from_column(&text("conditions")?)?,
            outcome: get::<Option<String>, _>(row, "outcome")?
                .map(|o| ReferralOutcome::parse("outcome", &o).map_err(damaged))
                .transpose()?,
            outcome_date: get(row, "outcome_date")?,
            outcome_note: get(row, "outcome_note")?,
            created_by: text("created_by")?,
            created_at: get(row, "created_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }
}

row_fn! {
    /// Reads a timeline entry.
    fn timeline_from_row(row) -> TimelineEntry {
        Ok(TimelineEntry {
            at: get(row, "at")?,
            event: ReferralEvent::parse("event", &get::<String, _>(row, "event")?)
                .map_err(damaged)?,
            state: ReferralState::parse("state", &get::<String, _>(row, "state")?)
                .map_err(damaged)?,
            actor: get(row, "actor")?,
            detail: get(row, "detail")?,
        })
    }
}

row_fn! {
    /// Reads an outbox message.
    fn outbox_from_row(row) -> OutboxMessage {
        Ok(OutboxMessage {
            id: MessageId(get(row, "id")?),
            peer: get(row, "peer")?,
            referral_id: ReferralId(get(row, "referral_id")?),
            event: get(row, "event")?,
            body: get(row, "body")?,
            signature: get(row, "signature")?,
            created_at: get(row, "created_at")?,
            attempts: get(row, "attempts")?,
            next_attempt_at: get(row, "next_attempt_at")?,
            last_error: get(row, "last_error")?,
            delivered_at: get(row, "delivered_at")?,
            result: get(row, "result")?,
        })
    }
}

row_fn! {
    /// Reads a peer.
    fn peer_from_row(row) -> Peer {
        Ok(Peer {
            name: get(row, "name")?,
            url: get(row, "url")?,
            public_key: get(row, "public_key")?,
            country: get(row, "country")?,
            created_at: get(row, "created_at")?,
        })
    }
}

row_fn! {
    /// Reads the node identity.
    fn node_from_row(row) -> NodeIdentity {
        Ok(NodeIdentity {
            name: get(row, "name")?,
            url: get(row, "url")?,
            public_key: get(row, "public_key")?,
            private_key_sealed: get(row, "private_key_sealed")?,
            inbox_site_id: SiteId(get(row, "inbox_site_id")?),
            created_at: get(row, "created_at")?,
        })
    }
}

row_fn! {
    /// Reads a departure.
    fn departure_from_row(row) -> Departure {
        Ok(Departure {
            assessment_id: AssessmentId(get(row, "assessment_id")?),
            departed_on: get(row, "departed_on")?,
            recorded_by: get(row, "recorded_by")?,
            recorded_at: get(row, "recorded_at")?,
            notification_id: get::<Option<Uuid>, _>(row, "notification_id")?.map(ReferralId),
        })
    }
}

mod vaccination;
pub use vaccination::{VACCINATION_COLUMNS, vaccination_from_row};
pub mod mhpss;
pub mod training;
