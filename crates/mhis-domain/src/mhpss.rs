//! Mental health and psychosocial support (MHPSS): screenings scored by the
//! one instrument engine ([`crate::instrument`]), cases (an episode of
//! support at one site), counselling sessions and closure.
//!
//! MHPSS records are a **restricted category**: only roles with
//! [`Permission::MhpssRead`](crate::access::Permission::MhpssRead)
//! (counsellors and clinicians) of the record's site see them; registrars,
//! data managers and every other role never do, and referrals for a
//! `restricted` reason (`referrals/reasons.toml`) are hidden from them too
//! ([`may_see_referral`]). Every read is audited by the server.
//!
//! A screening stores the answers as given and the engine's result at the
//! time ([`Scored`]), with the instrument's version, so a later change of
//! an instrument file never rewrites a past score. A missing answer is never
//! scored as zero: the screening is stored as incomplete, without a score or
//! band, and its flags (the PHQ-9 item 9 safety flag) still count.

use crate::access::{Permission, User};
use crate::error::FieldError;
use crate::ids::{AssessmentId, MhpssCaseId, MigrantId, ScreeningId, SessionId, SiteId};
use crate::instrument::{Answer, Answers, InstrumentSet, Scored};
use crate::referral::{ReasonCatalogue, Referral};
use crate::site::one_of;
use crate::text;
use chrono::{DateTime, NaiveDate, Utc};
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
                    .find(|v| v.as_str() == raw.trim())
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
    /// Where a screening was done.
    ScreeningContext {
        /// During a health assessment (the screening names it).
        Assessment = "assessment",
        /// In protection work (counter-trafficking, assistance to
        /// vulnerable migrants).
        Protection = "protection",
        /// In a return and reintegration programme.
        Return = "return",
        /// Elsewhere (community outreach, a stand-alone consultation).
        Other = "other",
    }
);

wire_enum!(
    /// The form of a counselling session.
    SessionKind {
        /// One person, in person.
        Individual = "individual",
        /// With family members.
        Family = "family",
        /// A group session.
        Group = "group",
        /// By telephone or video.
        Remote = "remote",
    }
);

wire_enum!(
    /// Whether a case is open.
    CaseStatus {
        /// Support is going on.
        Open = "open",
        /// Closed with a reason.
        Closed = "closed",
    }
);

wire_enum!(
    /// Why a case was closed.
    ClosureReason {
        /// The goals agreed with the person were met.
        GoalsMet = "goals_met",
        /// Handed over to specialist care (after a referral).
        ReferredOn = "referred_on",
        /// The person declined further support.
        Declined = "declined",
        /// No contact despite attempts.
        LostToFollowUp = "lost_to_follow_up",
        /// The person left the area or the country.
        MovedAway = "moved_away",
    }
);

/// Longest session note, in characters.
pub const NOTES_MAX: usize = 4000;
/// Longest next step or closure note, in characters.
pub const SHORT_NOTE_MAX: usize = 1000;

/// One screening with one instrument, as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    /// Identifier.
    pub id: ScreeningId,
    /// The case it belongs to.
    pub case_id: MhpssCaseId,
    /// The person screened.
    pub migrant_id: MigrantId,
    /// The site where it was done (whose counsellors and clinicians see it).
    pub site_id: SiteId,
    /// The assessment it was part of, if any.
    pub assessment_id: Option<AssessmentId>,
    /// Where it was done.
    pub context: ScreeningContext,
    /// The instrument id (`phq9`).
    pub instrument: String,
    /// The instrument file's version at the time.
    pub version: String,
    /// The answers as given, by item id; unanswered items are absent.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Answers,
    /// The engine's result at the time.
    pub result: Scored,
    /// Who screened.
    pub screened_by: String,
    /// When.
    pub screened_at: DateTime<Utc>,
}

impl Screening {
    /// Whether an immediate flag (PHQ-9 item 9) was raised.
    pub fn has_immediate_flag(&self) -> bool {
        self.result.flags.iter().any(|f| f.immediate)
    }

    /// What may be shown of it to someone who may read the flag but must
    /// not see the answers: the flags, without answers or scores.
    pub fn flag_notice(&self) -> FlagNotice {
        FlagNotice {
            screening_id: self.id,
            instrument: self.instrument.clone(),
            screened_at: self.screened_at,
            flags: self
                .result
                .flags
                .iter()
                .map(|f| FlagSummary {
                    id: f.id.clone(),
                    immediate: f.immediate,
                    message: f.message.clone(),
                })
                .collect(),
        }
    }
}

/// A raised flag, without the answers that raised it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagSummary {
    /// The flag id (`safety`).
    pub id: String,
    /// Whether it calls for action before the person leaves.
    pub immediate: bool,
    /// What to do.
    pub message: String,
}

/// The flags of one screening, without answers or scores: what the
/// assessment page shows a clinician.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagNotice {
    /// The screening.
    pub screening_id: ScreeningId,
    /// The instrument id.
    pub instrument: String,
    /// When it was done.
    pub screened_at: DateTime<Utc>,
    /// The flags raised.
    pub flags: Vec<FlagSummary>,
}

/// An MHPSS case: one episode of support for one person at one site.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MhpssCase {
    /// Identifier.
    pub id: MhpssCaseId,
    /// The person.
    pub migrant_id: MigrantId,
    /// The site that holds it.
    pub site_id: SiteId,
    /// Open or closed.
    pub status: CaseStatus,
    /// Who opened it (with its first screening).
    pub opened_by: String,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// Why.
    pub closure_reason: Option<ClosureReason>,
    /// A note on the closure.
    pub closure_note: Option<String>,
}

impl MhpssCase {
    /// A case opened now by `by`.
    pub fn open(migrant_id: MigrantId, site_id: SiteId, by: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: MhpssCaseId::new(),
            migrant_id,
            site_id,
            status: CaseStatus::Open,
            opened_by: by.to_owned(),
            opened_at: now,
            closed_at: None,
            closed_by: None,
            closure_reason: None,
            closure_note: None,
        }
    }
}

/// One counselling session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounsellingSession {
    /// Identifier.
    pub id: SessionId,
    /// The case.
    pub case_id: MhpssCaseId,
    /// The day it took place.
    pub date: NaiveDate,
    /// Its form.
    pub kind: SessionKind,
    /// What happened.
    pub notes: String,
    /// What comes next.
    pub next_step: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// A screening as a client sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningInput {
    /// The instrument id (`phq9`, `gad7`, `rhs15`, `wgss`).
    pub instrument: String,
    /// Answers by item id: an option code or a whole number; `null` or
    /// absent for an unanswered item.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: serde_json::Value,
    /// The assessment it is part of.
    pub assessment_id: Option<AssessmentId>,
    /// The site; by default the assessment's, else the person's
    /// registering site.
    pub site_id: Option<SiteId>,
    /// `assessment`, `protection`, `return` or `other`; `assessment` when
    /// an assessment is named, else `other`.
    pub context: Option<String>,
}

/// A checked and scored screening, not yet placed at a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScreening {
    /// The instrument id.
    pub instrument: String,
    /// The answers.
    pub answers: Answers,
    /// The engine's result.
    pub result: Scored,
    /// Where it was done.
    pub context: ScreeningContext,
}

impl NewScreening {
    /// Checks the instrument, reads and scores the answers, and the
    /// context. Errors name the field (`instrument`, `answers.phq9_3`,
    /// `context`).
    pub fn parse(input: &ScreeningInput, set: &InstrumentSet) -> Result<Self, FieldError> {
        let id = input.instrument.trim();
        let instrument = set
            .get(id)
            .ok_or_else(|| FieldError::new("instrument", one_of(id, set.ids())))?;
        let answers = Answer::map_from_json(&input.answers)?;
        let result = instrument.score(&answers)?;
        let context = match (input.context.as_deref().map(str::trim), input.assessment_id) {
            (None | Some(""), Some(_)) => ScreeningContext::Assessment,
            (None | Some(""), None) => ScreeningContext::Other,
            (Some(raw), assessment) => {
                let c = ScreeningContext::parse("context", raw)?;
                if c == ScreeningContext::Assessment && assessment.is_none() {
                    return Err(FieldError::new(
                        "assessment_id",
                        "is required when the context is 'assessment'",
                    ));
                }
                c
            }
        };
        Ok(Self {
            instrument: instrument.id.clone(),
            answers,
            result,
            context,
        })
    }
}

/// A counselling session as a client sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// `YYYY-MM-DD`, today if absent; not in the future.
    pub date: Option<String>,
    /// `individual`, `family`, `group` or `remote`.
    pub kind: String,
    /// What happened (required).
    pub notes: String,
    /// What comes next.
    pub next_step: Option<String>,
}

/// A checked session, before it is placed in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The day.
    pub date: NaiveDate,
    /// Its form.
    pub kind: SessionKind,
    /// What happened.
    pub notes: String,
    /// What comes next.
    pub next_step: Option<String>,
}

impl NewSession {
    /// Checks a session; its date may not be in the future.
    pub fn parse(input: &SessionInput, today: NaiveDate) -> Result<Self, FieldError> {
        let date = match input.date.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                FieldError::new("date", format!("'{raw}' is not a YYYY-MM-DD date"))
            })?,
        };
        if date > today {
            return Err(FieldError::new("date", format!("{date} is in the future")));
        }
        Ok(Self {
            date,
            kind: SessionKind::parse("kind", &input.kind)?,
            notes: text::required("notes", &input.notes, NOTES_MAX)?,
            next_step: text::optional("next_step", input.next_step.as_deref(), SHORT_NOTE_MAX)?,
        })
    }
}

/// Closing a case, as a client sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// `goals_met`, `referred_on`, `declined`, `lost_to_follow_up` or
    /// `moved_away`.
    pub reason: String,
    /// A note.
    pub note: Option<String>,
}

/// A checked closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// Why.
    pub reason: ClosureReason,
    /// A note.
    pub note: Option<String>,
}

impl Closure {
    /// Checks a closure.
    pub fn parse(input: &CloseInput) -> Result<Self, FieldError> {
        Ok(Self {
            reason: ClosureReason::parse("reason", &input.reason)?,
            note: text::optional("note", input.note.as_deref(), SHORT_NOTE_MAX)?,
        })
    }
}

/// Whether `user` may see `referral`: every referral their scope allows,
/// except those for a restricted (MHPSS) reason, which need `MhpssRead`.
pub fn may_see_referral(user: &User, reasons: &ReasonCatalogue, referral: &Referral) -> bool {
    !is_restricted(reasons, &referral.reason) || user.can(Permission::MhpssRead)
}

/// Whether referrals for `reason` are MHPSS records.
pub fn is_restricted(reasons: &ReasonCatalogue, reason: &str) -> bool {
    reasons.get(reason).is_some_and(|r| r.restricted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(instrument: &str, answers: serde_json::Value) -> ScreeningInput {
        ScreeningInput {
            instrument: instrument.into(),
            answers,
            assessment_id: None,
            site_id: None,
            context: None,
        }
    }

    #[test]
    fn every_instrument_referral_is_a_restricted_reason() {
        let reasons = ReasonCatalogue::built_in();
        for instrument in InstrumentSet::built_in().iter() {
            for id in instrument.referrals.keys() {
                let reason = reasons
                    .get(id)
                    .unwrap_or_else(|| panic!("{}: '{id}' is not in reasons.toml", instrument.id));
                assert!(reason.restricted, "'{id}' must be restricted");
            }
        }
        assert!(!is_restricted(&reasons, "tb_treatment"));
    }

    #[test]
    fn a_screening_is_scored_and_an_unknown_instrument_names_the_field() {
        let set = InstrumentSet::built_in();
        let answers = json!({"gad7_1": 3, "gad7_2": 3, "gad7_3": 3, "gad7_4": 1,
            "gad7_5": 0, "gad7_6": 0, "gad7_7": 0});
        let s = NewScreening::parse(&input("gad7", answers), &set).unwrap();
        assert!(s.result.complete);
        assert_eq!(s.result.scores["total"], 10);
        assert_eq!(s.context, ScreeningContext::Other);
        let e = NewScreening::parse(&input("phq99", json!({})), &set).unwrap_err();
        assert_eq!(e.field, "instrument");
        let e = NewScreening::parse(&input("phq9", json!({"phq9_1": 7})), &set).unwrap_err();
        assert_eq!(e.field, "answers.phq9_1");
        let mut i = input("phq9", json!({}));
        i.context = Some("assessment".into());
        assert_eq!(
            NewScreening::parse(&i, &set).unwrap_err().field,
            "assessment_id"
        );
        i.context = Some("clinic".into());
        assert_eq!(NewScreening::parse(&i, &set).unwrap_err().field, "context");
    }

    #[test]
    fn an_incomplete_screening_has_no_score_but_keeps_its_flag() {
        let set = InstrumentSet::built_in();
        let s = NewScreening::parse(&input("phq9", json!({"phq9_9": 1})), &set).unwrap();
        assert!(!s.result.complete);
        assert!(s.result.scores.is_empty());
        assert_eq!(s.result.band, None);
        assert_eq!(s.result.flags[0].id, "safety");
        assert!(s.result.flags[0].immediate);
    }

    #[test]
    fn sessions_and_closures_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let ok = SessionInput {
            date: Some("2026-04-30".into()),
            kind: "individual".into(),
            notes: "Talked about sleep.\nAgreed a plan.".into(),
            next_step: Some("Follow up in a week".into()),
        };
        let s = NewSession::parse(&ok, today).unwrap();
        assert_eq!(s.kind, SessionKind::Individual);
        let bad = |f: fn(&mut SessionInput)| {
            let mut i = ok.clone();
            f(&mut i);
            NewSession::parse(&i, today).unwrap_err().field
        };
        assert_eq!(bad(|i| i.date = Some("2026-05-02".into())), "date");
        assert_eq!(bad(|i| i.date = Some("May 1".into())), "date");
        assert_eq!(bad(|i| i.kind = "chat".into()), "kind");
        assert_eq!(bad(|i| i.notes = "  ".into()), "notes");
        let e = Closure::parse(&CloseInput {
            reason: "bored".into(),
            note: None,
        })
        .unwrap_err();
        assert_eq!(e.field, "reason");
        assert_eq!(
            Closure::parse(&CloseInput {
                reason: "referred_on".into(),
                note: Some(" ok ".into()),
            })
            .unwrap(),
            Closure {
                reason: ClosureReason::ReferredOn,
                note: Some("ok".into())
            }
        );
    }
}
