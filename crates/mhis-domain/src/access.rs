//! Who may do what: roles, permissions and site scope.
//!
//! The permission matrix lives here, in one table ([`MATRIX`]), and every
//! route of the server names the permission it needs. Records belong to a
//! site; a user sees records of the sites they belong to, or of every site
//! when they have national scope. A record outside a user's scope is treated
//! as if it did not exist.

use crate::error::FieldError;
use crate::ids::SiteId;
use crate::site::one_of;
use crate::vocabulary::Section;
use serde::{Deserialize, Serialize};

/// A user's role. A user has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages sites, users and reads the audit trail.
    Admin,
    /// Registers migrants and opens assessments.
    Registrar,
    /// Panel physician or nurse: records history, examination and every
    /// result, and finalises assessments.
    Clinician,
    /// Laboratory staff: records laboratory results.
    Lab,
    /// Reads chest X-rays: records radiology results.
    Radiologist,
    /// Sees aggregates only, never names.
    DataManager,
    /// Mental health and psychosocial support.
    Counsellor,
    /// Screens travellers at a point of entry.
    BorderOfficer,
    /// Runs trainings; never sees health records.
    Trainer,
    /// Verifies certificates.
    Verifier,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 10] = [
        Self::Admin,
        Self::Registrar,
        Self::Clinician,
        Self::Lab,
        Self::Radiologist,
        Self::DataManager,
        Self::Counsellor,
        Self::BorderOfficer,
        Self::Trainer,
        Self::Verifier,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Registrar => "registrar",
            Self::Clinician => "clinician",
            Self::Lab => "lab",
            Self::Radiologist => "radiologist",
            Self::DataManager => "data_manager",
            Self::Counsellor => "counsellor",
            Self::BorderOfficer => "border_officer",
            Self::Trainer => "trainer",
            Self::Verifier => "verifier",
        }
    }

    /// Parses a wire name.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, one_of(raw, Self::ALL.map(|r| r.as_str()))))
    }
}

/// Something a route or action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// List and read sites (no personal data).
    SiteRead,
    /// Create and change sites.
    SiteManage,
    /// Create users and tokens.
    UserManage,
    /// Read the audit trail.
    AuditRead,
    /// Read migrants' identities.
    MigrantRead,
    /// Register and update migrants.
    MigrantWrite,
    /// Read assessments and their results.
    AssessmentRead,
    /// Open assessments.
    AssessmentOpen,
    /// Record or correct history and examination findings.
    RecordClinical,
    /// Record or correct radiology results.
    RecordRadiology,
    /// Record or correct laboratory results.
    RecordLaboratory,
    /// Read aggregate indicators.
    AggregateRead,
    /// Finalise or amend an assessment (physicians).
    Finalise,
    /// Read referrals and arrival notifications of the user's sites.
    ReferralRead,
    /// Write, send, cancel and close referrals; accept them and report
    /// outcomes at a receiving site; record departures.
    ReferralManage,
    /// Read training data: needs assessments, sessions, participants,
    /// attendance, test results, attendance certificates.
    TrainingRead,
    /// Record needs assessments, schedule sessions, add participants,
    /// record attendance and tests, issue attendance certificates.
    TrainingManage,
    /// Read mental health and psychosocial support records (screenings,
    /// answers, flags, sessions, MHPSS referrals): a restricted category,
    /// for counsellors and clinicians of the site only.
    MhpssRead,
    /// Screen, record counselling sessions, refer and close MHPSS cases.
    MhpssWrite,
}

use Permission as P;

/// The permission matrix: each role and what it may do. Deny by default:
/// a pair not listed is refused.
pub const MATRIX: &[(Role, &[Permission])] = &[
    (
        Role::Admin,
        &[
            P::SiteRead,
            P::SiteManage,
            P::UserManage,
            P::AuditRead,
            P::MigrantRead,
            P::AssessmentRead,
            P::AggregateRead,
            P::TrainingRead,
        ],
    ),
    (
        Role::Registrar,
        &[
            P::SiteRead,
            P::MigrantRead,
            P::MigrantWrite,
            P::AssessmentRead,
            P::AssessmentOpen,
            P::ReferralRead,
        ],
    ),
    (
        Role::Clinician,
        &[
            P::SiteRead,
            P::MigrantRead,
            P::MigrantWrite,
            P::AssessmentRead,
            P::AssessmentOpen,
            P::RecordClinical,
            P::RecordRadiology,
            P::RecordLaboratory,
            P::Finalise,
            P::ReferralRead,
            P::ReferralManage,
            P::MhpssRead,
            P::MhpssWrite,
        ],
    ),
    (
        Role::Lab,
        &[
            P::SiteRead,
            P::MigrantRead,
            P::AssessmentRead,
            P::RecordLaboratory,
        ],
    ),
    (
        Role::Radiologist,
        &[
            P::SiteRead,
            P::MigrantRead,
            P::AssessmentRead,
            P::RecordRadiology,
        ],
    ),
    (Role::DataManager, &[P::SiteRead, P::AggregateRead]),
    (
        Role::Counsellor,
        &[
            P::SiteRead,
            P::MigrantRead,
            P::AssessmentRead,
            P::ReferralRead,
            P::ReferralManage,
            P::MhpssRead,
            P::MhpssWrite,
        ],
    ),
    (Role::BorderOfficer, &[P::SiteRead]),
    (
        Role::Trainer,
        &[P::SiteRead, P::TrainingRead, P::TrainingManage],
    ),
    (Role::Verifier, &[P::SiteRead]),
];

/// Whether `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    MATRIX
        .iter()
        .find(|(r, _)| *r == role)
        .is_some_and(|(_, perms)| perms.contains(&permission))
}

/// The permission needed to record or correct a result of `section`.
pub fn permission_to_record(section: Section) -> Permission {
    match section {
        Section::History | Section::Examination | Section::Context => P::RecordClinical,
        Section::Radiology => P::RecordRadiology,
        Section::Laboratory => P::RecordLaboratory,
    }
}

/// Which sites' records a user sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every site of the deployment.
    National,
    /// Only these sites.
    Sites(Vec<SiteId>),
}

impl Scope {
    /// Whether records of `site` are visible.
    pub fn covers(&self, site: SiteId) -> bool {
        match self {
            Self::National => true,
            Self::Sites(sites) => sites.contains(&site),
        }
    }

    /// The sites to filter by, or `None` for every site.
    pub fn filter(&self) -> Option<&[SiteId]> {
        match self {
            Self::National => None,
            Self::Sites(sites) => Some(sites),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_in_the_matrix_once() {
        for role in Role::ALL {
            assert_eq!(
                MATRIX.iter().filter(|(r, _)| *r == role).count(),
                1,
                "{role:?}"
            );
        }
    }

    #[test]
    fn data_managers_never_see_names() {
        assert!(allows(Role::DataManager, P::AggregateRead));
        assert!(!allows(Role::DataManager, P::MigrantRead));
        assert!(!allows(Role::DataManager, P::AssessmentRead));
    }

    #[test]
    fn results_need_the_section_permission() {
        assert!(allows(Role::Lab, permission_to_record(Section::Laboratory)));
        assert!(!allows(Role::Lab, permission_to_record(Section::Radiology)));
        assert!(allows(
            Role::Radiologist,
            permission_to_record(Section::Radiology)
        ));
        assert!(!allows(
            Role::Registrar,
            permission_to_record(Section::History)
        ));
        assert!(!allows(Role::Trainer, P::MigrantRead));
    }

    #[test]
    fn trainers_manage_training_and_never_see_health_records() {
        assert!(allows(Role::Trainer, P::TrainingRead));
        assert!(allows(Role::Trainer, P::TrainingManage));
        for p in [
            P::MigrantRead,
            P::MigrantWrite,
            P::AssessmentRead,
            P::AssessmentOpen,
            P::RecordClinical,
            P::RecordLaboratory,
            P::RecordRadiology,
            P::Finalise,
            P::ReferralRead,
            P::ReferralManage,
            P::AuditRead,
        ] {
            assert!(!allows(Role::Trainer, p), "{p:?}");
        }
        // Only trainers manage training.
        for role in Role::ALL {
            assert_eq!(
                allows(role, P::TrainingManage),
                role == Role::Trainer,
                "{role:?}"
            );
        }
    }

    #[test]
    fn mhpss_records_are_for_counsellors_and_clinicians_only() {
        for role in Role::ALL {
            let expected = matches!(role, Role::Counsellor | Role::Clinician);
            assert_eq!(allows(role, P::MhpssRead), expected, "{role:?}");
            assert_eq!(allows(role, P::MhpssWrite), expected, "{role:?}");
        }
    }

    #[test]
    fn scope() {
        let a = SiteId::new();
        let b = SiteId::new();
        assert!(Scope::National.covers(a));
        assert!(Scope::Sites(vec![a]).covers(a));
        assert!(!Scope::Sites(vec![a]).covers(b));
    }
}

/// A user name: 3 to 32 lower-case letters, digits, dots, hyphens or
/// underscores.
pub fn parse_username(field: &str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(FieldError::new(
            field,
            "must be 3 to 32 letters, digits, dots, hyphens or underscores",
        ))
    }
}

/// A password good enough to accept: at least 10 characters (NIST SP
/// 800-63B §5.1.1.2 asks for at least 8 and recommends allowing long
/// passphrases; at most 128 here to bound hashing work).
pub fn check_password(field: &str, raw: &str) -> Result<(), FieldError> {
    let n = raw.chars().count();
    if !(10..=128).contains(&n) {
        return Err(FieldError::new(field, "must be 10 to 128 characters long"));
    }
    Ok(())
}

/// A user account as the rest of the system sees it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Identifier.
    pub id: crate::ids::UserId,
    /// Login name.
    pub username: String,
    /// Name shown in the interface and the audit trail.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Sites whose records the user sees.
    pub scope: Scope,
    /// Preferred interface language (`en`, `ru`, `fr`).
    pub language: Option<String>,
}

impl User {
    /// Whether the user has `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        allows(self.role, permission)
    }
}
