//! Referrals and arrival notifications: what they carry, the states they
//! move through, and the rules that move them.
//!
//! A referral sends a person found with a condition to a receiving
//! organisation for treatment; an arrival notification tells the
//! destination health authority that a person cleared *with follow-up* has
//! departed. Both are the same record with a different [`ReferralKind`] and
//! follow one state machine ([`ReferralState::apply`]):
//!
//! ```text
//! draft ─send→ sent ─receive→ received ─accept→ accepted ─report_outcome→ outcome_reported ─close→ closed
//!   └──────────────┴──────────────┴─cancel→ cancelled       (report_outcome again: a later outcome)
//! ```
//!
//! Cancelling is possible only before acceptance. The receiver reports one
//! of the [`ReferralOutcome`]s; a later outcome (treatment started, then
//! completed) replaces the earlier one until the referrer closes the loop.
//!
//! The 30-day default for an arrival follow-up follows the CDC Electronic
//! Disease Notification practice summarised in the federation issue: the
//! destination health department reports the follow-up outcome, typically
//! within 30 days of arrival. Reasons, their default urgency, due days and the
//! observations their clinical summary carries are data
//! (`referrals/reasons.toml`), read by [`ReasonCatalogue`].

use crate::error::FieldError;
use crate::ids::{AssessmentId, MessageId, MigrantId, ReferralId, SiteId};
use crate::site::one_of;
use crate::text;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Declares a closed set of wire names with `ALL`, `as_str` and `parse`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            /// The wire name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// Parses a wire name; the error names `field` and the choices.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == raw)
                    .ok_or_else(|| {
                        FieldError::new(field, one_of(raw, Self::ALL.iter().map(|v| v.as_str())))
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What the record is for.
    ReferralKind {
        /// A referral for evaluation or treatment.
        Referral = "referral",
        /// A notice to the destination health authority that a person
        /// cleared with follow-up has departed.
        ArrivalNotification = "arrival_notification",
    }
);

wire_enum!(
    /// Where a referral is in its life.
    ReferralState {
        /// Written, not yet sent; only the referrer sees it.
        Draft = "draft",
        /// Sent; delivery to the receiver not yet confirmed.
        Sent = "sent",
        /// The receiver has it.
        Received = "received",
        /// The receiver has taken the person on.
        Accepted = "accepted",
        /// The receiver has reported an outcome.
        OutcomeReported = "outcome_reported",
        /// The referrer has seen the outcome and closed the loop.
        Closed = "closed",
        /// Withdrawn before acceptance.
        Cancelled = "cancelled",
    }
);

wire_enum!(
    /// What moves a referral from one state to the next.
    ReferralEvent {
        /// The referrer sends the draft.
        Send = "send",
        /// Delivery is confirmed.
        Receive = "receive",
        /// The receiver takes the person on.
        Accept = "accept",
        /// The receiver reports an outcome (again, for a later one).
        ReportOutcome = "report_outcome",
        /// The referrer closes the loop.
        Close = "close",
        /// The referrer withdraws it.
        Cancel = "cancel",
    }
);

wire_enum!(
    /// The follow-up outcome a receiver reports.
    ReferralOutcome {
        /// Treatment has started.
        TreatmentStarted = "treatment_started",
        /// Treatment is completed.
        TreatmentCompleted = "treatment_completed",
        /// Started, then lost.
        LostToFollowUp = "lost_to_follow_up",
        /// The person could not be found.
        NotFound = "not_found",
        /// The person declined.
        Declined = "declined",
        /// The person moved out of the receiver's area.
        MovedAway = "moved_away",
    }
);

wire_enum!(
    /// How soon the receiver should act: the FHIR `request-priority` codes
    /// (<http://hl7.org/fhir/R4/valueset-request-priority.html>).
    Urgency {
        /// Normal priority.
        Routine = "routine",
        /// Sooner than routine.
        Urgent = "urgent",
        /// As soon as possible.
        Asap = "asap",
        /// Immediately.
        Stat = "stat",
    }
);

/// A transition the state machine forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {from} cannot take the event '{event}'")]
pub struct TransitionRefused {
    /// The current state.
    pub from: ReferralState,
    /// The refused event.
    pub event: ReferralEvent,
}

impl ReferralState {
    /// The state after `event`, or the refusal.
    pub fn apply(self, event: ReferralEvent) -> Result<ReferralState, TransitionRefused> {
        use ReferralEvent as E;
        use ReferralState as S;
        match (self, event) {
            (S::Draft, E::Send) => Ok(S::Sent),
            (S::Sent, E::Receive) => Ok(S::Received),
            (S::Received, E::Accept) => Ok(S::Accepted),
            (S::Accepted | S::OutcomeReported, E::ReportOutcome) => Ok(S::OutcomeReported),
            (S::OutcomeReported, E::Close) => Ok(S::Closed),
            (S::Draft | S::Sent | S::Received, E::Cancel) => Ok(S::Cancelled),
            (from, event) => Err(TransitionRefused { from, event }),
        }
    }

    /// Whether the receiver still owes an outcome: sent, received or
    /// accepted.
    pub fn awaits_outcome(self) -> bool {
        matches!(self, Self::Sent | Self::Received | Self::Accepted)
    }
}

/// Whether a referral in `state` due on `due` is overdue on `today`: its due
/// date has passed and no outcome has been reported.
pub fn is_overdue(state: ReferralState, due: NaiveDate, today: NaiveDate) -> bool {
    state.awaits_outcome() && due < today
}

/// One referral reason of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The code protocols name in their `referrals` (`tb_treatment`).
    pub code: String,
    /// A label for people.
    pub label: String,
    /// The urgency pre-filled for it.
    pub urgency: Urgency,
    /// Days from the referral to its due date, pre-filled.
    pub due_days: u32,
    /// The observations the clinical summary carries: exact codes, or
    /// prefixes ending in `.` (`sputum.`).
    pub summary: Vec<String>,
    /// Where the rule comes from.
    pub source: String,
    /// Whether an arrival notification may carry it (a follow-up at the
    /// destination).
    #[serde(default)]
    pub on_arrival: bool,
    /// Whether referrals for it are MHPSS records, a restricted category:
    /// shown only to roles with `MhpssRead` (see `mhpss`).
    #[serde(default)]
    pub restricted: bool,
}

impl Reason {
    /// Whether the observation `code` belongs in this reason's summary.
    pub fn includes(&self, code: &str) -> bool {
        self.summary
            .iter()
            .any(|s| s == code || (s.ends_with('.') && code.starts_with(s.as_str())))
    }
}

/// The referral reasons a deployment knows, from `referrals/reasons.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCatalogue {
    reasons: Vec<Reason>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonFile {
    #[serde(rename = "reason")]
    reasons: Vec<Reason>,
}

/// The reason catalogue shipped with mhis.
pub const BUILT_IN_REASONS: &str = include_str!("../../../referrals/reasons.toml");

impl ReasonCatalogue {
    /// The catalogue shipped with mhis.
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN_REASONS).expect("the built-in referral reasons parse")
    }

    /// Parses a catalogue; codes must be unique.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let file: ReasonFile =
            toml::from_str(text).map_err(|e| FieldError::new("reasons", e.message()))?;
        for (i, r) in file.reasons.iter().enumerate() {
            if file.reasons[..i].iter().any(|o| o.code == r.code) {
                return Err(FieldError::new(
                    format!("reason[{i}].code"),
                    format!("'{}' is listed twice", r.code),
                ));
            }
        }
        Ok(Self {
            reasons: file.reasons,
        })
    }

    /// The reason with this code.
    pub fn get(&self, code: &str) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// Every reason, in file order.
    pub fn all(&self) -> &[Reason] {
        &self.reasons
    }

    /// Parses a reason code against the catalogue.
    pub fn parse_code(&self, field: &str, raw: &str) -> Result<&Reason, FieldError> {
        self.get(raw.trim()).ok_or_else(|| {
            FieldError::new(
                field,
                one_of(raw, self.reasons.iter().map(|r| r.code.as_str())),
            )
        })
    }
}

/// Who receives a referral: a site of this deployment, or a peer deployment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// A site of this deployment.
    Site(SiteId),
    /// A peer deployment, by its configured name, optionally naming the
    /// peer's site by code.
    Peer {
        /// The peer's name (`mhis peer add`).
        peer: String,
        /// The receiving site's code at the peer, if known.
        site_code: Option<String>,
    },
}

/// Longest free-text note, in characters.
pub const NOTE_MAX: usize = 2000;

/// A referral as the referrer writes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    /// What it is.
    pub kind: ReferralKind,
    /// The assessment it comes from.
    pub assessment_id: AssessmentId,
    /// The reason code (from the catalogue).
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// When the receiver should have reported an outcome.
    pub due_date: NaiveDate,
    /// The receiver.
    pub recipient: Recipient,
    /// A note for the receiver.
    pub note: Option<String>,
    /// The observation codes the clinical summary carries.
    pub summary_codes: Vec<String>,
}

/// What a client sends to create a referral; every field but the
/// assessment and the reason has a default from the reason catalogue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// `referral` (default) or `arrival_notification`.
    pub kind: Option<String>,
    /// A reason code of the catalogue (`tb_treatment`).
    pub reason: String,
    /// `routine`, `urgent`, `asap` or `stat`; the reason's default if absent.
    pub urgency: Option<String>,
    /// `YYYY-MM-DD`; the reason's due days after today if absent.
    pub due_date: Option<String>,
    /// A site of this deployment.
    pub to_site_id: Option<SiteId>,
    /// A peer deployment's name.
    pub to_peer: Option<String>,
    /// The receiving site's code at the peer.
    pub to_peer_site_code: Option<String>,
    /// A note for the receiver.
    pub note: Option<String>,
    /// Observation codes for the summary; the reason's default if absent.
    pub summary_codes: Option<Vec<String>>,
    /// Send at once instead of keeping a draft.
    pub send: Option<bool>,
}

impl NewReferral {
    /// Checks a client's input for assessment `assessment_id`, filling
    /// defaults from `catalogue` and refusing a due date before `today`.
    pub fn parse(
        input: &ReferralInput,
        assessment_id: AssessmentId,
        catalogue: &ReasonCatalogue,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let kind = match input.kind.as_deref() {
            None => ReferralKind::Referral,
            Some(raw) => ReferralKind::parse("kind", raw)?,
        };
        let reason = catalogue.parse_code("reason", &input.reason)?;
        let urgency = match input.urgency.as_deref() {
            None | Some("") => reason.urgency,
            Some(raw) => Urgency::parse("urgency", raw)?,
        };
        let due_date = match input.due_date.as_deref().map(str::trim) {
            None | Some("") => today
                .checked_add_days(Days::new(reason.due_days.into()))
                .ok_or_else(|| FieldError::new("due_date", "is out of range"))?,
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                FieldError::new("due_date", format!("'{raw}' is not a YYYY-MM-DD date"))
            })?,
        };
        if due_date < today {
            return Err(FieldError::new(
                "due_date",
                format!("{due_date} is in the past; a referral is due today or later"),
            ));
        }
        let recipient = match (&input.to_site_id, input.to_peer.as_deref().map(str::trim)) {
            (Some(site), None | Some("")) => Recipient::Site(*site),
            (None, Some(peer)) if !peer.is_empty() => Recipient::Peer {
                peer: text::required("to_peer", peer, 64)?,
                site_code: text::optional(
                    "to_peer_site_code",
                    input.to_peer_site_code.as_deref(),
                    32,
                )?,
            },
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    "to_peer",
                    "give either to_site_id or to_peer, not both",
                ));
            }
            _ => {
                return Err(FieldError::new(
                    "to_site_id",
                    "is required: the receiving site, or to_peer for another deployment",
                ));
            }
        };
        let summary_codes = match &input.summary_codes {
            Some(codes) => codes
                .iter()
                .enumerate()
                .map(|(i, c)| text::required(&format!("summary_codes[{i}]"), c, 64))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            kind,
            assessment_id,
            reason: reason.code.clone(),
            urgency,
            due_date,
            recipient,
            note: text::optional("note", input.note.as_deref(), NOTE_MAX)?,
            summary_codes,
        })
    }
}

/// What a receiver reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeReport {
    /// The outcome.
    pub outcome: ReferralOutcome,
    /// When it happened.
    pub date: NaiveDate,
    /// A note for the referrer.
    pub note: Option<String>,
}

impl OutcomeReport {
    /// Checks an outcome; its date may not be in the future.
    pub fn parse(
        outcome: &str,
        date: Option<&str>,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let outcome = ReferralOutcome::parse("outcome", outcome.trim())?;
        let date = match date.map(str::trim) {
            None | Some("") => today,
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                FieldError::new("date", format!("'{raw}' is not a YYYY-MM-DD date"))
            })?,
        };
        if date > today {
            return Err(FieldError::new("date", format!("{date} is in the future")));
        }
        Ok(Self {
            outcome,
            date,
            note: text::optional("note", note, NOTE_MAX)?,
        })
    }
}

/// The person as a referral carries them: what the receiver needs to find
/// and follow them up, nothing more.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    /// Family name.
    pub family_name: String,
    /// Given names.
    pub given_names: String,
    /// `male`, `female`, `other` or `unknown` (FHIR administrative gender).
    pub sex: String,
    /// Birth date as recorded (`1990`, `1990-04` or `1990-04-12`).
    pub birth_date: String,
    /// Nationality (ISO 3166-1 alpha-2).
    pub nationality: String,
    /// Travel document number, if any.
    pub document_number: Option<String>,
    /// Issuing country of the document.
    pub document_country: Option<String>,
    /// Phone or address at destination, if recorded.
    pub contact: Option<String>,
}

/// One observation in a clinical summary.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryObservation {
    /// The mhis code.
    pub code: String,
    /// The value as JSON (number, string, boolean).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: serde_json::Value,
    /// Unit, if any.
    pub unit: Option<String>,
    /// When observed.
    pub observed_at: DateTime<Utc>,
}

/// One step in a referral's timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: ReferralEvent,
    /// The state after it.
    pub state: ReferralState,
    /// Who (a user, or `peer:<name>` for a message from a peer).
    pub actor: String,
    /// A note (the outcome, a cancel reason).
    pub detail: Option<String>,
}

/// A referral as stored by one deployment. Each side of a cross-deployment
/// referral keeps its own copy under the same id.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// Identifier, the same on every deployment that holds it.
    pub id: ReferralId,
    /// What it is.
    pub kind: ReferralKind,
    /// Where it is.
    pub state: ReferralState,
    /// The site of this deployment that holds it: the referring site, or
    /// for one received from a peer, the receiving site.
    pub site_id: SiteId,
    /// The receiving site when it is on this deployment.
    pub to_site_id: Option<SiteId>,
    /// The receiving peer, for one sent to another deployment.
    pub to_peer: Option<String>,
    /// The receiving site's code at that peer.
    pub to_peer_site_code: Option<String>,
    /// The peer it came from, for one received from another deployment.
    pub from_peer: Option<String>,
    /// The referring organisation, for people (`Dushanbe panel clinic`).
    pub from_label: String,
    /// The assessment it comes from (on the referring deployment).
    pub assessment_id: Option<AssessmentId>,
    /// The person (on the referring deployment).
    pub migrant_id: Option<MigrantId>,
    /// The reason code.
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// When an outcome is due.
    pub due_date: NaiveDate,
    /// The referrer's note.
    pub note: Option<String>,
    /// The person.
    pub person: PersonSummary,
    /// The clinical summary.
    pub observations: Vec<SummaryObservation>,
    /// Conditions found (protocol classes and reasons, as text).
    pub conditions: Vec<String>,
    /// The latest outcome.
    pub outcome: Option<ReferralOutcome>,
    /// When it happened.
    pub outcome_date: Option<NaiveDate>,
    /// The receiver's note.
    pub outcome_note: Option<String>,
    /// Who wrote it.
    pub created_by: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Referral {
    /// Whether it is overdue on `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        is_overdue(self.state, self.due_date, today)
    }

    /// Whether this copy was received from another deployment.
    pub fn is_incoming(&self) -> bool {
        self.from_peer.is_some()
    }

    /// Whether this deployment acts as the receiver (accept, report
    /// outcomes): received from a peer, or addressed to one of its sites.
    pub fn received_here(&self) -> bool {
        self.from_peer.is_some() || self.to_site_id.is_some()
    }

    /// Whether this deployment acts as the referrer (send, cancel, close).
    pub fn referred_here(&self) -> bool {
        self.from_peer.is_none()
    }
}

/// A deployment as a message names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRef {
    /// The node's name.
    pub name: String,
    /// Its base URL.
    pub url: String,
}

/// What a referral message carries about the referral: the shared part of
/// both sides' copies, without either side's local record ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralContent {
    /// The referral id, the same on both sides.
    pub id: ReferralId,
    /// What it is.
    pub kind: ReferralKind,
    /// The sender's state after the event.
    pub state: ReferralState,
    /// The reason code.
    pub reason: String,
    /// How soon.
    pub urgency: Urgency,
    /// When an outcome is due.
    pub due_date: NaiveDate,
    /// The referrer's note.
    pub note: Option<String>,
    /// The referring organisation.
    pub from_label: String,
    /// The receiving site's code at the receiver, if the referrer named one.
    pub to_site_code: Option<String>,
    /// The person.
    pub person: PersonSummary,
    /// The clinical summary.
    pub observations: Vec<SummaryObservation>,
    /// Conditions found.
    pub conditions: Vec<String>,
    /// The latest outcome.
    pub outcome: Option<ReferralOutcome>,
    /// When it happened.
    pub outcome_date: Option<NaiveDate>,
    /// The receiver's note.
    pub outcome_note: Option<String>,
    /// When the referral was written.
    pub created_at: DateTime<Utc>,
}

impl ReferralContent {
    /// The shareable part of a stored referral.
    pub fn of(r: &Referral) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            state: r.state,
            reason: r.reason.clone(),
            urgency: r.urgency,
            due_date: r.due_date,
            note: r.note.clone(),
            from_label: r.from_label.clone(),
            to_site_code: r.to_peer_site_code.clone(),
            person: r.person.clone(),
            observations: r.observations.clone(),
            conditions: r.conditions.clone(),
            outcome: r.outcome,
            outcome_date: r.outcome_date,
            outcome_note: r.outcome_note.clone(),
            created_at: r.created_at,
        }
    }
}

/// One federation message about a referral: the event that happened on
/// the sending side, and the referral as it stands after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralMessage {
    /// The message id; the receiver applies a message id once.
    pub id: MessageId,
    /// What happened: `send` (a new referral), `accept`,
    /// `report_outcome`, `close` or `cancel`.
    pub event: ReferralEvent,
    /// The referral after the event.
    pub referral: ReferralContent,
    /// The sending node.
    pub source: NodeRef,
    /// The receiving node.
    pub destination: NodeRef,
    /// When it was written.
    pub sent_at: DateTime<Utc>,
}

impl ReferralEvent {
    /// Whether the referring side sends this event (otherwise the
    /// receiving side does; `receive` is never sent: the acknowledgement
    /// carries it).
    pub fn sent_by_referrer(self) -> bool {
        matches!(self, Self::Send | Self::Close | Self::Cancel)
    }
}

impl ReferralState {
    /// The state after an event reported by the other side. A referrer that
    /// has not yet seen the acknowledgement of its referral (`sent`) takes
    /// any message from the receiver as proof of receipt first.
    pub fn apply_remote(
        self,
        event: ReferralEvent,
    ) -> Result<Vec<(ReferralEvent, ReferralState)>, TransitionRefused> {
        let mut steps = Vec::new();
        let mut state = self;
        if state == Self::Sent && !event.sent_by_referrer() {
            state = state.apply(ReferralEvent::Receive)?;
            steps.push((ReferralEvent::Receive, state));
        }
        steps.push((event, state.apply(event)?));
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every (state, event) pair: the allowed ones are listed, every other
    /// pair must be refused with the state and event named.
    #[test]
    fn state_machine_every_pair() {
        use ReferralEvent as E;
        use ReferralState as S;
        let allowed = [
            (S::Draft, E::Send, S::Sent),
            (S::Sent, E::Receive, S::Received),
            (S::Received, E::Accept, S::Accepted),
            (S::Accepted, E::ReportOutcome, S::OutcomeReported),
            (S::OutcomeReported, E::ReportOutcome, S::OutcomeReported),
            (S::OutcomeReported, E::Close, S::Closed),
            (S::Draft, E::Cancel, S::Cancelled),
            (S::Sent, E::Cancel, S::Cancelled),
            (S::Received, E::Cancel, S::Cancelled),
        ];
        let mut checked = 0;
        for &state in S::ALL {
            for &event in E::ALL {
                let expected = allowed
                    .iter()
                    .find(|(s, e, _)| *s == state && *e == event)
                    .map(|(_, _, to)| *to);
                match (state.apply(event), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{state} + {event}"),
                    (Err(refused), None) => {
                        assert_eq!(refused, TransitionRefused { from: state, event });
                        assert!(refused.to_string().contains(state.as_str()));
                    }
                    (got, want) => panic!("{state} + {event}: got {got:?}, expected {want:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 7 * 6);
    }

    #[test]
    fn a_referrer_takes_a_receivers_message_as_receipt() {
        use ReferralEvent as E;
        use ReferralState as S;
        assert_eq!(
            S::Sent.apply_remote(E::Accept).unwrap(),
            vec![(E::Receive, S::Received), (E::Accept, S::Accepted)]
        );
        assert_eq!(
            S::Accepted.apply_remote(E::ReportOutcome).unwrap(),
            vec![(E::ReportOutcome, S::OutcomeReported)]
        );
        // A referrer's own events get no implicit receipt.
        assert!(S::Sent.apply_remote(E::Close).is_err());
        assert_eq!(
            S::Received.apply_remote(E::Cancel).unwrap(),
            vec![(E::Cancel, S::Cancelled)]
        );
        assert!(S::Cancelled.apply_remote(E::Accept).is_err());
    }

    #[test]
    fn cancel_only_before_acceptance_and_terminal_states_stay() {
        for state in [
            ReferralState::Accepted,
            ReferralState::OutcomeReported,
            ReferralState::Closed,
            ReferralState::Cancelled,
        ] {
            assert!(state.apply(ReferralEvent::Cancel).is_err(), "{state}");
        }
        for &event in ReferralEvent::ALL {
            assert!(ReferralState::Closed.apply(event).is_err());
            assert!(ReferralState::Cancelled.apply(event).is_err());
        }
    }

    #[test]
    fn overdue_needs_a_passed_due_date_and_no_outcome() {
        let due = day("2026-03-10");
        let today = day("2026-03-11");
        assert!(is_overdue(ReferralState::Sent, due, today));
        assert!(is_overdue(ReferralState::Accepted, due, today));
        assert!(
            !is_overdue(ReferralState::Accepted, due, due),
            "due today is not overdue"
        );
        for s in [
            ReferralState::Draft,
            ReferralState::OutcomeReported,
            ReferralState::Closed,
            ReferralState::Cancelled,
        ] {
            assert!(!is_overdue(s, due, today), "{s}");
        }
    }

    #[test]
    fn built_in_reasons_cover_every_protocol_referral() {
        let catalogue = ReasonCatalogue::built_in();
        let set = crate::protocol::ProtocolSet::built_in();
        for protocol in set.iter() {
            for code in protocol.referral_codes() {
                assert!(
                    catalogue.get(code).is_some(),
                    "{}: {code} has no reason",
                    protocol.id()
                );
            }
        }
        // A departure falls back to this reason: it must exist and be one
        // an arrival notification may carry; treatment is not.
        assert!(catalogue.get("arrival_follow_up").unwrap().on_arrival);
        assert!(!catalogue.get("tb_treatment").unwrap().on_arrival);
        let tb = catalogue.get("tb_treatment").unwrap();
        assert!(tb.includes("sputum.culture.1"));
        assert!(tb.includes("cxr"));
        assert!(!tb.includes("hbsag"));
        assert!(!tb.includes("cxr.extra"), "an exact code is not a prefix");
    }

    #[test]
    fn parse_fills_defaults_and_names_bad_fields() {
        let catalogue = ReasonCatalogue::built_in();
        let today = day("2026-03-01");
        let a = AssessmentId::new();
        let site = SiteId::new();
        let input = ReferralInput {
            reason: "tb_treatment".into(),
            to_site_id: Some(site),
            ..Default::default()
        };
        let r = NewReferral::parse(&input, a, &catalogue, today).unwrap();
        let reason = catalogue.get("tb_treatment").unwrap();
        assert_eq!(r.urgency, reason.urgency);
        assert_eq!(
            r.due_date,
            today + chrono::Duration::days(reason.due_days.into())
        );
        assert_eq!(r.recipient, Recipient::Site(site));

        let bad = |f: &dyn Fn(&mut ReferralInput)| {
            let mut i = input.clone();
            f(&mut i);
            NewReferral::parse(&i, a, &catalogue, today).unwrap_err()
        };
        assert_eq!(bad(&|i| i.reason = "magic".into()).field, "reason");
        assert_eq!(bad(&|i| i.urgency = Some("soon".into())).field, "urgency");
        assert_eq!(
            bad(&|i| i.due_date = Some("2026-02-28".into())).field,
            "due_date"
        );
        assert_eq!(
            bad(&|i| i.due_date = Some("next week".into())).field,
            "due_date"
        );
        assert_eq!(bad(&|i| i.to_site_id = None).field, "to_site_id");
        assert_eq!(bad(&|i| i.to_peer = Some("uz-moh".into())).field, "to_peer");
        assert_eq!(bad(&|i| i.kind = Some("letter".into())).field, "kind");
        assert_eq!(
            bad(&|i| i.note = Some("x".repeat(NOTE_MAX + 1))).field,
            "note"
        );
    }

    #[test]
    fn outcomes_parse_and_refuse_future_dates() {
        let today = day("2026-03-01");
        let r = OutcomeReport::parse("treatment_started", None, Some(" on DOTS "), today).unwrap();
        assert_eq!(r.outcome, ReferralOutcome::TreatmentStarted);
        assert_eq!(r.date, today);
        assert_eq!(r.note.as_deref(), Some("on DOTS"));
        assert_eq!(
            OutcomeReport::parse("cured", None, None, today)
                .unwrap_err()
                .field,
            "outcome"
        );
        assert_eq!(
            OutcomeReport::parse("declined", Some("2026-03-02"), None, today)
                .unwrap_err()
                .field,
            "date"
        );
    }
}
