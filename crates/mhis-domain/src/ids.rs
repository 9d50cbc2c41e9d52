//! Identifiers: UUIDv7 keys, which sort by creation time and so keep
//! B-tree indexes append-mostly on both backends.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a site.
    SiteId
);
id_type!(
    /// Identifies a migrant.
    MigrantId
);
id_type!(
    /// Identifies an assessment.
    AssessmentId
);
id_type!(
    /// Identifies one recorded observation (one version of a fact).
    ObservationId
);
id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies an API token.
    TokenId
);
id_type!(
    /// Identifies a referral or arrival notification, the same on every
    /// deployment that holds a copy.
    ReferralId
);
id_type!(
    /// Identifies one federation message (the FHIR Bundle id).
    MessageId
);
id_type!(
    /// Identifies one mental-health screening (MHPSS).
    ScreeningId
);
id_type!(
    /// Identifies an MHPSS case: one episode of psychosocial support.
    MhpssCaseId
);
id_type!(
    /// Identifies one counselling session of an MHPSS case.
    SessionId
);
