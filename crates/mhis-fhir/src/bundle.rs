//! Bundles other than messages, and helpers on resources of any type.
//!
//! [`searchset`] answers a search; [`batch_response`] and
//! [`transaction_response`] answer a `batch` or `transaction` read with
//! [`parse_requests`]. [`IntoResource`] turns a typed resource into the
//! model's polymorphic [`Resource`]; [`resource_type`] and [`resource_id`]
//! read any resource's type and id. Reference handling shared with
//! [`crate::message`] (finding every `Reference.reference` in a resource)
//! lives here too.

use crate::error::{FhirError, IssueKind, Problems};
use crate::util::{self, string};
use fhir::r4::coded::Coded;
use fhir::r4::codes::{BundleType, HttpVerb, SearchEntryMode};
use fhir::r4::resources::bundle::{
    BundleEntry, BundleEntryResponse, BundleEntrySearch, BundleLink,
};
use fhir::r4::resources::{self as r, Bundle, OperationOutcome, Resource};
use fhir::r4::types;
use serde_json::Value as Json;

/// A typed resource that can become a [`Resource`].
pub trait IntoResource {
    /// The resource, tagged with its type.
    fn into_resource(self) -> Resource;
}

impl IntoResource for Resource {
    fn into_resource(self) -> Resource {
        self
    }
}

macro_rules! into_resource {
    ($($t:ident),* $(,)?) => {$(
        impl IntoResource for r::$t {
            fn into_resource(self) -> Resource {
                Resource::$t(Box::new(self))
            }
        }
    )*};
}

into_resource!(
    Patient,
    Encounter,
    Observation,
    DiagnosticReport,
    Condition,
    Immunization,
    Organization,
    Location,
    ServiceRequest,
    Task,
    MessageHeader,
    OperationOutcome,
    Bundle,
    Practitioner,
    PractitionerRole,
    Endpoint,
    Communication,
    DocumentReference,
    Provenance,
);

/// A resource as JSON, with its `resourceType`.
pub fn to_json(resource: &Resource) -> Json {
    // Serialising the model's own types cannot fail: every map key is a
    // string and every number finite.
    serde_json::to_value(resource).unwrap_or(Json::Null)
}

/// Reads a resource of any type from JSON; the error names `path`.
pub fn parse_resource(path: &str, json: &Json) -> Result<Resource, FhirError> {
    match json.get("resourceType").and_then(Json::as_str) {
        None => Err(FhirError::required(format!("{path}.resourceType"))),
        Some(_) => serde_json::from_value(json.clone()).map_err(|e| FhirError::json(path, &e)),
    }
}

/// The `resourceType` of a resource (`Patient`).
pub fn resource_type(resource: &Resource) -> String {
    to_json(resource)
        .get("resourceType")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The `id` of a resource, when it has one.
pub fn resource_id(resource: &Resource) -> Option<String> {
    to_json(resource)
        .get("id")
        .and_then(Json::as_str)
        .map(str::to_owned)
}

/// A `searchset` Bundle of `matches`: each entry's `fullUrl` is
/// `<base>/<type>/<id>` and its `search.mode` `match`. `total` is the
/// number of matches of the whole search (not of this page), when known;
/// `self_url` is the search as asked, `next_url` the next page.
pub fn searchset(
    base: &str,
    self_url: &str,
    next_url: Option<&str>,
    total: Option<u32>,
    matches: impl IntoIterator<Item = Resource>,
) -> Bundle {
    let base = base.trim_end_matches('/');
    let mut link = vec![BundleLink {
        relation: string("self"),
        url: util::uri(self_url),
        ..Default::default()
    }];
    if let Some(next) = next_url {
        link.push(BundleLink {
            relation: string("next"),
            url: util::uri(next),
            ..Default::default()
        });
    }
    Bundle {
        r#type: Coded::Known(BundleType::Searchset),
        total: total.map(types::UnsignedInt),
        link,
        entry: matches
            .into_iter()
            .map(|res| {
                let full_url = resource_id(&res)
                    .map(|id| util::uri(format!("{base}/{}/{id}", resource_type(&res))));
                BundleEntry {
                    full_url,
                    resource: Some(to_json(&res)),
                    search: Some(BundleEntrySearch {
                        mode: Some(Coded::Known(SearchEntryMode::Match)),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            })
            .collect(),
        ..Default::default()
    }
}

/// The answer to one entry of a `batch` or `transaction`.
#[derive(Debug, Clone, Default)]
pub struct EntryResponse {
    /// The HTTP status line, starting with the code (`201 Created`).
    pub status: String,
    /// Where the created or updated resource lives (`Patient/<id>/_history/1`).
    pub location: Option<String>,
    /// Its version as an ETag (`W/"1"`).
    pub etag: Option<String>,
    /// The resource, when the client asked for it.
    pub resource: Option<Resource>,
    /// Why the entry failed, or warnings.
    pub outcome: Option<OperationOutcome>,
}

fn response_bundle(kind: BundleType, entries: Vec<EntryResponse>) -> Bundle {
    Bundle {
        r#type: Coded::Known(kind),
        entry: entries
            .into_iter()
            .map(|e| BundleEntry {
                resource: e.resource.as_ref().map(to_json),
                response: Some(BundleEntryResponse {
                    status: string(e.status),
                    location: e.location.map(util::uri),
                    etag: e.etag.map(string),
                    outcome: e
                        .outcome
                        .map(|o| to_json(&Resource::OperationOutcome(Box::new(o)))),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// A `batch-response` Bundle: one entry per request, in the same order.
pub fn batch_response(entries: Vec<EntryResponse>) -> Bundle {
    response_bundle(BundleType::BatchResponse, entries)
}

/// A `transaction-response` Bundle: one entry per request, in the same
/// order.
pub fn transaction_response(entries: Vec<EntryResponse>) -> Bundle {
    response_bundle(BundleType::TransactionResponse, entries)
}

/// One entry of a `batch` or `transaction`, read.
#[derive(Debug, Clone)]
pub struct RequestEntry {
    /// The entry's `fullUrl` (`urn:uuid:…` for a resource to create).
    pub full_url: Option<String>,
    /// The HTTP method.
    pub method: HttpVerb,
    /// The URL, relative to the server's base (`Patient`, `Patient/<id>`).
    pub url: String,
    /// `ifMatch` (`W/"3"`), for a version-aware update.
    pub if_match: Option<String>,
    /// The resource to create or update.
    pub resource: Option<Resource>,
}

/// Reads a `batch` or `transaction` Bundle: its type and its requests.
/// Every entry needs a `request` with a known method and a URL, and a
/// resource when the method is POST or PUT; every problem is reported with
/// its path.
pub fn parse_requests(json: &Json) -> Result<(BundleType, Vec<RequestEntry>), FhirError> {
    if json.get("resourceType").and_then(Json::as_str) != Some("Bundle") {
        return Err(FhirError::structure(
            "Bundle.resourceType",
            "must be 'Bundle'",
        ));
    }
    let bundle: Bundle =
        serde_json::from_value(json.clone()).map_err(|e| FhirError::json("Bundle", &e))?;
    let kind = match &bundle.r#type {
        Coded::Known(k @ (BundleType::Batch | BundleType::Transaction)) => k.clone(),
        other => {
            return Err(FhirError::structure(
                "Bundle.type",
                format!(
                    "is '{}'; expected 'batch' or 'transaction'",
                    type_name(other)
                ),
            ));
        }
    };
    let mut problems = Problems::default();
    let mut out = Vec::new();
    for (i, entry) in bundle.entry.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let Some(req) = &entry.request else {
            problems.push(FhirError::required(format!("{path}.request")));
            continue;
        };
        let method = match &req.method {
            Coded::Known(m) => m.clone(),
            Coded::Unknown(m) => {
                problems.push(FhirError::new(
                    format!("{path}.request.method"),
                    IssueKind::CodeInvalid,
                    format!("'{m}' is not an HTTP verb of FHIR"),
                ));
                continue;
            }
        };
        let resource = match &entry.resource {
            Some(json) => problems.take(parse_resource(&format!("{path}.resource"), json)),
            None if matches!(method, HttpVerb::Post | HttpVerb::Put) => {
                problems.push(FhirError::required(format!("{path}.resource")));
                None
            }
            None => None,
        };
        out.push(RequestEntry {
            full_url: entry.full_url.as_ref().map(|u| u.0.clone()),
            method,
            url: req.url.0.clone(),
            if_match: req.if_match.as_ref().map(|s| s.0.clone()),
            resource,
        });
    }
    problems.finish()?;
    Ok((kind, out))
}

/// The wire name of a Bundle type.
pub(crate) fn type_name(t: &Coded<BundleType>) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The keys a `Reference` may have; an object with a string `reference`
/// and no other key is a Reference.
const REFERENCE_KEYS: [&str; 9] = [
    "id",
    "extension",
    "reference",
    "_reference",
    "type",
    "_type",
    "identifier",
    "display",
    "_display",
];

/// Elements named `reference` that are not References (R4:
/// `Immunization.education.reference` is a uri).
const NOT_REFERENCES: [&str; 1] = ["education"];

/// Every `Reference.reference` in `json` (a resource or part of one), with
/// its path under `path`.
pub(crate) fn references(json: &Json, path: &str, out: &mut Vec<(String, String)>) {
    walk(json, path, "", out);
}

fn walk(json: &Json, path: &str, key: &str, out: &mut Vec<(String, String)>) {
    match json {
        Json::Object(map) => {
            if let Some(Json::String(r)) = map.get("reference")
                && map.keys().all(|k| REFERENCE_KEYS.contains(&k.as_str()))
                && !NOT_REFERENCES.contains(&key)
            {
                out.push((format!("{path}.reference"), r.clone()));
            }
            for (k, v) in map {
                if k == "resourceType" || k.starts_with('_') {
                    continue;
                }
                walk(v, &format!("{path}.{k}"), k, out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), key, out);
            }
        }
        _ => {}
    }
}

/// Rewrites every `Reference.reference` in `json` for which `map` gives a
/// replacement.
pub(crate) fn rewrite_references(json: &mut Json, key: &str, map: &dyn Fn(&str) -> Option<String>) {
    match json {
        Json::Object(obj) => {
            let is_ref = matches!(obj.get("reference"), Some(Json::String(_)))
                && obj.keys().all(|k| REFERENCE_KEYS.contains(&k.as_str()))
                && !NOT_REFERENCES.contains(&key);
            if is_ref
                && let Some(Json::String(r)) = obj.get_mut("reference")
                && let Some(new) = map(r)
            {
                *r = new;
            }
            for (k, v) in obj.iter_mut() {
                if k == "resourceType" || k.starts_with('_') {
                    continue;
                }
                rewrite_references(v, k, map);
            }
        }
        Json::Array(items) => {
            for v in items {
                rewrite_references(v, key, map);
            }
        }
        _ => {}
    }
}
