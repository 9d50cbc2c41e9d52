//! Site → `Organization` and `Location`.
//!
//! A site is both: the Organization that registers migrants, runs
//! assessments and sends messages (`id` the site's UUID, identifier
//! `urn:mhis:site` with the site code, `type` the site kind in
//! `urn:mhis:site-kind` plus the HL7 organization type where one fits,
//! `address.country`), and the Location where assessments happen (`id`
//! derived from the site's UUID, so that both can sit in one Bundle,
//! `managingOrganization` the site's Organization).
//!
//! **Not mapped:** addresses beyond the country, telecoms, contacts,
//! positions and opening hours: the domain records none. Sites are created
//! through mhis administration, not imported from FHIR.

use crate::uri;
use crate::util::{self, string};
use fhir::r4::coded::Coded;
use fhir::r4::codes::{LocationMode, LocationStatus};
use fhir::r4::resources::{Location, Organization};
use fhir::r4::types::{self, Address, Identifier};
use mhis_domain::ids::SiteId;
use mhis_domain::site::{Site, SiteKind};

/// The namespace of Location ids derived from site ids (UUIDv5).
const LOCATION_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d68_6973_2d6c_6f63_6174_696f_6e00_0001);

/// The id of a site's Location: a UUIDv5 of the site's id, stable and
/// distinct from the Organization's.
pub fn location_id(site: &SiteId) -> uuid::Uuid {
    uuid::Uuid::new_v5(&LOCATION_NAMESPACE, site.0.as_bytes())
}

fn identifier(site: &Site) -> Identifier {
    Identifier {
        system: Some(util::uri(uri::SITE)),
        value: Some(string(site.code.as_str())),
        ..Default::default()
    }
}

fn kind_label(kind: SiteKind) -> &'static str {
    match kind {
        SiteKind::AssessmentCentre => "Assessment centre",
        SiteKind::Laboratory => "Laboratory",
        SiteKind::Radiology => "Radiology",
        SiteKind::PointOfEntry => "Point of entry",
        SiteKind::HealthAuthority => "Health authority",
        SiteKind::TreatmentCentre => "Treatment centre",
    }
}

/// A site as an `Organization`.
pub fn organization(site: &Site) -> Organization {
    let mut coding = vec![util::coding(
        uri::SITE_KIND,
        site.kind.as_str(),
        Some(kind_label(site.kind)),
    )];
    let hl7 = match site.kind {
        SiteKind::HealthAuthority => Some(("govt", "Government")),
        SiteKind::AssessmentCentre
        | SiteKind::Laboratory
        | SiteKind::Radiology
        | SiteKind::TreatmentCentre => Some(("prov", "Healthcare Provider")),
        SiteKind::PointOfEntry => None,
    };
    if let Some((code, display)) = hl7 {
        coding.push(util::coding(uri::ORGANIZATION_TYPE, code, Some(display)));
    }
    Organization {
        id: Some(string(site.id.to_string())),
        identifier: vec![identifier(site)],
        active: Some(types::Boolean(true)),
        r#type: vec![util::concept(coding, Some(kind_label(site.kind)))],
        name: Some(string(&site.name)),
        address: vec![Address {
            country: Some(string(site.country.as_str())),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A site as a `Location`.
pub fn location(site: &Site) -> Location {
    Location {
        id: Some(string(location_id(&site.id).to_string())),
        identifier: vec![identifier(site)],
        status: Some(Coded::Known(LocationStatus::Active)),
        name: Some(string(&site.name)),
        mode: Some(Coded::Known(LocationMode::Instance)),
        r#type: vec![util::concept(
            vec![util::coding(
                uri::SITE_KIND,
                site.kind.as_str(),
                Some(kind_label(site.kind)),
            )],
            Some(kind_label(site.kind)),
        )],
        address: Some(Address {
            country: Some(string(site.country.as_str())),
            ..Default::default()
        }),
        managing_organization: Some(util::reference("Organization", site.id)),
        ..Default::default()
    }
}
