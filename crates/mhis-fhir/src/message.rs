//! FHIR messages: a `message` Bundle whose first entry is a
//! `MessageHeader`, then the focus resource(s) and every resource they
//! reference, each with a `fullUrl` `urn:uuid:…`.
//!
//! [`MessageBundle`] builds one: it gives every resource without an id a
//! fresh UUID, gives every entry the `fullUrl` `urn:uuid:<id>` (a fresh UUID
//! when the id is not one), rewrites every reference `Type/id` to an entry
//! in the message to that entry's `fullUrl`, and refuses a message in which
//! a reference does not resolve. [`parse`] reads one back, checking the
//! structure: the Bundle's type is `message`, its first entry is a
//! `MessageHeader` with an event, a source endpoint and a focus, every entry
//! has a `fullUrl` and a resource of a known type, and every reference (the
//! header's focus included) resolves inside the Bundle. Every problem is
//! reported with its element path.
//!
//! A reference resolves when it equals an entry's `fullUrl`, or when it is
//! `Type/id` (relative or at the end of an absolute URL) and an entry holds
//! a resource of that type and id. References to contained resources
//! (`#id`) are not checked.
//!
//! Referral and notification messages (`ServiceRequest`, `Task`) are
//! built on this by the federation code; signing and transport are not
//! this crate's business.

use crate::bundle::{self, IntoResource, references, resource_id, resource_type};
use crate::error::{FhirError, IssueKind, Problems};
use crate::uri;
use crate::util::{self, string};
use chrono::{DateTime, Utc};
use fhir::r4::coded::Coded;
use fhir::r4::codes::BundleType;
use fhir::r4::resources::bundle::BundleEntry;
use fhir::r4::resources::message_header::{
    MessageHeaderDestination, MessageHeaderEvent, MessageHeaderSource,
};
use fhir::r4::resources::{Bundle, MessageHeader, Resource};
use fhir::r4::types::{self, Coding, Reference};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

/// An event coding in mhis's event system (`urn:mhis:message-event`).
pub fn event(code: &str, display: &str) -> Coding {
    util::coding(uri::MESSAGE_EVENT, code, Some(display))
}

/// A message being built. See the module doc for what [`Self::build`]
/// does.
#[derive(Debug, Clone)]
pub struct MessageBundle {
    event: Coding,
    source: String,
    destination: String,
    sender: Option<String>,
    receiver: Option<String>,
    timestamp: Option<DateTime<Utc>>,
    bundle_id: Option<String>,
    header_id: Option<String>,
    focus: Vec<Resource>,
    others: Vec<Resource>,
}

impl MessageBundle {
    /// A message for `event` from the endpoint `source` to the endpoint
    /// `destination` (URLs of the sending and receiving nodes).
    pub fn new(event: Coding, source: impl Into<String>, destination: impl Into<String>) -> Self {
        Self {
            event,
            source: source.into(),
            destination: destination.into(),
            sender: None,
            receiver: None,
            timestamp: None,
            bundle_id: None,
            header_id: None,
            focus: Vec::new(),
            others: Vec::new(),
        }
    }

    /// Adds a focus resource: what the message is about. The header's
    /// `focus` references it; it follows the header in the Bundle.
    pub fn focus(mut self, resource: impl IntoResource) -> Self {
        self.focus.push(resource.into_resource());
        self
    }

    /// Adds a resource the focus (or another resource) references.
    #[allow(clippy::should_implement_trait)] // the name the referral code asked for
    pub fn add(mut self, resource: impl IntoResource) -> Self {
        self.others.push(resource.into_resource());
        self
    }

    /// `MessageHeader.sender`: a reference (`Organization/<id>`) to a
    /// resource added to the message.
    pub fn sender(mut self, reference: impl Into<String>) -> Self {
        self.sender = Some(reference.into());
        self
    }

    /// `MessageHeader.destination.receiver`: a reference to a resource added
    /// to the message.
    pub fn receiver(mut self, reference: impl Into<String>) -> Self {
        self.receiver = Some(reference.into());
        self
    }

    /// `Bundle.timestamp` (when the message was assembled); absent unless
    /// given.
    pub fn timestamp(mut self, at: DateTime<Utc>) -> Self {
        self.timestamp = Some(at);
        self
    }

    /// Fixes the Bundle's and the header's ids (for idempotent retries:
    /// the receiver deduplicates by the Bundle id); fresh UUIDs otherwise.
    pub fn ids(mut self, bundle_id: impl Into<String>, header_id: impl Into<String>) -> Self {
        self.bundle_id = Some(bundle_id.into());
        self.header_id = Some(header_id.into());
        self
    }

    /// The message as a typed Bundle.
    pub fn build(self) -> Result<Bundle, FhirError> {
        if self.focus.is_empty() {
            return Err(FhirError::required("MessageHeader.focus")
                .with_message("is required: a message needs a focus resource"));
        }
        let fresh = || uuid::Uuid::now_v7().to_string();
        // Every resource as JSON, with an id and a fullUrl.
        let mut resources: Vec<Json> = Vec::new();
        let mut full_urls: Vec<String> = Vec::new();
        let mut by_local: HashMap<String, String> = HashMap::new();
        let header_id = self.header_id.clone().unwrap_or_else(fresh);
        by_local.insert(
            format!("MessageHeader/{header_id}"),
            format!("urn:uuid:{header_id}"),
        );
        for res in self.focus.iter().chain(&self.others) {
            let mut json = bundle::to_json(res);
            let ty = resource_type(res);
            let id = match resource_id(res) {
                Some(id) => id,
                None => {
                    let id = fresh();
                    json["id"] = Json::String(id.clone());
                    id
                }
            };
            let full_url = match uuid::Uuid::parse_str(&id) {
                Ok(u) => format!("urn:uuid:{}", u.hyphenated()),
                Err(_) => format!("urn:uuid:{}", fresh()),
            };
            if full_urls.contains(&full_url) {
                return Err(FhirError::structure(
                    format!("{ty}.id"),
                    format!("'{id}' is in the message twice"),
                ));
            }
            by_local.insert(format!("{ty}/{id}"), full_url.clone());
            full_urls.push(full_url);
            resources.push(json);
        }
        let local = |r: &str| -> Option<String> {
            by_local
                .get(r)
                .or_else(|| {
                    r.rsplit_once("/_history/")
                        .and_then(|(r, _)| by_local.get(r))
                })
                .cloned()
        };
        let focus = full_urls[..self.focus.len()]
            .iter()
            .map(|u| Reference {
                reference: Some(string(u)),
                ..Default::default()
            })
            .collect();
        let as_ref = |r: &Option<String>| {
            r.as_ref().map(|r| Reference {
                reference: Some(string(local(r).unwrap_or_else(|| r.clone()))),
                ..Default::default()
            })
        };
        let header = MessageHeader {
            id: Some(string(&header_id)),
            event: Some(MessageHeaderEvent::Coding(Box::new(self.event.clone()))),
            destination: vec![MessageHeaderDestination {
                endpoint: types::Url(self.destination.clone()),
                receiver: as_ref(&self.receiver),
                ..Default::default()
            }],
            sender: as_ref(&self.sender),
            source: MessageHeaderSource {
                endpoint: types::Url(self.source.clone()),
                software: Some(string("mhis")),
                ..Default::default()
            },
            focus,
            ..Default::default()
        };
        let mut entries = vec![BundleEntry {
            full_url: Some(util::uri(format!("urn:uuid:{header_id}"))),
            resource: Some(bundle::to_json(&Resource::MessageHeader(Box::new(header)))),
            ..Default::default()
        }];
        for (mut json, full_url) in resources.into_iter().zip(full_urls) {
            bundle::rewrite_references(&mut json, "", &local);
            entries.push(BundleEntry {
                full_url: Some(util::uri(full_url)),
                resource: Some(json),
                ..Default::default()
            });
        }
        let bundle = Bundle {
            id: Some(string(self.bundle_id.clone().unwrap_or_else(fresh))),
            r#type: Coded::Known(BundleType::Message),
            timestamp: self.timestamp.as_ref().map(util::instant),
            entry: entries,
            ..Default::default()
        };
        // The same checks a receiver makes: a message mhis sends is one
        // mhis would accept.
        let resource = Resource::Bundle(Box::new(bundle));
        check(&bundle::to_json(&resource))?;
        match resource {
            Resource::Bundle(b) => Ok(*b),
            _ => unreachable!("built as a Bundle"),
        }
    }

    /// The message as JSON (with `resourceType`), ready to send.
    pub fn to_json(self) -> Result<Json, FhirError> {
        let bundle = self.build()?;
        Ok(bundle::to_json(&Resource::Bundle(Box::new(bundle))))
    }
}

/// One entry of a parsed message.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The entry's `fullUrl`.
    pub full_url: String,
    /// Its resource.
    pub resource: Resource,
}

/// A message read and checked by [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// `Bundle.id`: the message's identity, for deduplication.
    pub id: Option<String>,
    /// `Bundle.timestamp`.
    pub timestamp: Option<String>,
    /// The header (entry 0).
    pub header: MessageHeader,
    /// The event, when coded (`eventCoding`).
    pub event: Option<Coding>,
    /// The other entries, in order.
    pub entries: Vec<Entry>,
    /// Indexes into `entries` of the header's focus, in focus order.
    focus: Vec<usize>,
}

impl ParsedMessage {
    /// The focus resources, in the header's order.
    pub fn focus(&self) -> impl Iterator<Item = &Resource> {
        self.focus.iter().map(|&i| &self.entries[i].resource)
    }

    /// The entry a reference in this message resolves to.
    pub fn resolve(&self, reference: &str) -> Option<&Resource> {
        let index = Index::new(
            self.entries
                .iter()
                .map(|e| (e.full_url.clone(), resource_key(&e.resource))),
        );
        index.resolve(reference).map(|i| &self.entries[i].resource)
    }

    /// The source endpoint.
    pub fn source(&self) -> &str {
        &self.header.source.endpoint.0
    }

    /// The destination endpoints.
    pub fn destinations(&self) -> impl Iterator<Item = &str> {
        self.header
            .destination
            .iter()
            .map(|d| d.endpoint.0.as_str())
    }
}

fn resource_key(r: &Resource) -> Option<String> {
    resource_id(r).map(|id| format!("{}/{id}", resource_type(r)))
}

/// Resolution of references among a Bundle's entries.
struct Index {
    by_full_url: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
}

impl Index {
    fn new(entries: impl Iterator<Item = (String, Option<String>)>) -> Self {
        let mut by_full_url = HashMap::new();
        let mut by_key = HashMap::new();
        for (i, (full_url, key)) in entries.enumerate() {
            by_full_url.insert(full_url, i);
            if let Some(k) = key {
                by_key.insert(k, i);
            }
        }
        Self {
            by_full_url,
            by_key,
        }
    }

    fn resolve(&self, reference: &str) -> Option<usize> {
        if let Some(&i) = self.by_full_url.get(reference) {
            return Some(i);
        }
        let plain = reference
            .rsplit_once("/_history/")
            .map_or(reference, |(r, _)| r);
        // `Type/id`, possibly at the end of an absolute URL.
        let mut parts = plain.rsplit('/');
        let (Some(id), Some(ty)) = (parts.next(), parts.next()) else {
            return None;
        };
        self.by_key.get(&format!("{ty}/{id}")).copied()
    }
}

/// Reads a message Bundle, checking its structure (see the module doc).
pub fn parse(json: &Json) -> Result<ParsedMessage, FhirError> {
    check(json)?;
    let bundle: Bundle =
        serde_json::from_value(json.clone()).map_err(|e| FhirError::json("Bundle", &e))?;
    let mut entries = Vec::new();
    let mut header = None;
    for (i, e) in bundle.entry.iter().enumerate() {
        let path = format!("Bundle.entry[{i}].resource");
        let res = bundle::parse_resource(&path, e.resource.as_ref().unwrap_or(&Json::Null))?;
        if i == 0 {
            if let Resource::MessageHeader(h) = res {
                header = Some(*h);
            }
            continue;
        }
        entries.push(Entry {
            full_url: e.full_url.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
            resource: res,
        });
    }
    let header = header.ok_or_else(|| {
        FhirError::structure("Bundle.entry[0].resource", "must be a MessageHeader")
    })?;
    let index = Index::new(
        entries
            .iter()
            .map(|e| (e.full_url.clone(), resource_key(&e.resource))),
    );
    let focus = header
        .focus
        .iter()
        .filter_map(|f| f.reference.as_ref())
        .filter_map(|r| index.resolve(&r.0))
        .collect();
    let event = match &header.event {
        Some(MessageHeaderEvent::Coding(c)) => Some((**c).clone()),
        _ => None,
    };
    Ok(ParsedMessage {
        id: bundle.id.as_ref().map(|s| s.0.clone()),
        timestamp: bundle.timestamp.as_ref().map(|t| t.0.clone()),
        header,
        event,
        entries,
        focus,
    })
}

/// The structural checks of a message, on its JSON.
fn check(json: &Json) -> Result<(), FhirError> {
    if json.get("resourceType").and_then(Json::as_str) != Some("Bundle") {
        return Err(FhirError::structure(
            "Bundle.resourceType",
            "must be 'Bundle': a message is a Bundle of type 'message'",
        ));
    }
    let bundle: Bundle =
        serde_json::from_value(json.clone()).map_err(|e| FhirError::json("Bundle", &e))?;
    if !matches!(bundle.r#type, Coded::Known(BundleType::Message)) {
        return Err(FhirError::structure(
            "Bundle.type",
            format!(
                "is '{}'; a message is a Bundle of type 'message'",
                bundle::type_name(&bundle.r#type)
            ),
        ));
    }
    if bundle.entry.is_empty() {
        return Err(FhirError::required("Bundle.entry")
            .with_message("is required: a message starts with a MessageHeader"));
    }
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    let mut parsed: Vec<Option<Resource>> = Vec::new();
    for (i, e) in bundle.entry.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        match &e.full_url {
            None => problems.push(FhirError::required(format!("{path}.fullUrl"))),
            Some(u) if !seen.insert(u.0.clone()) => problems.push(FhirError::structure(
                format!("{path}.fullUrl"),
                format!("'{}' is the fullUrl of an earlier entry", u.0),
            )),
            Some(_) => {}
        }
        let res = match &e.resource {
            None => {
                problems.push(FhirError::required(format!("{path}.resource")));
                None
            }
            Some(r) => problems.take(bundle::parse_resource(&format!("{path}.resource"), r)),
        };
        keys.push((
            e.full_url.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
            res.as_ref().and_then(resource_key),
        ));
        parsed.push(res);
    }
    let header = match parsed.first() {
        Some(Some(Resource::MessageHeader(h))) => Some(h),
        Some(Some(other)) => {
            problems.push(FhirError::structure(
                "Bundle.entry[0].resource",
                format!(
                    "is a {}; the first entry of a message is its MessageHeader",
                    resource_type(other)
                ),
            ));
            None
        }
        _ => None,
    };
    let index = Index::new(keys.into_iter());
    if let Some(h) = header {
        let hp = "Bundle.entry[0].resource";
        if h.event.is_none() {
            problems.push(FhirError::required(format!("{hp}.event[x]")));
        }
        if h.source.endpoint.0.trim().is_empty() {
            problems.push(FhirError::required(format!("{hp}.source.endpoint")));
        }
        if h.focus.is_empty() {
            problems.push(FhirError::required(format!("{hp}.focus")));
        }
    }
    for (i, e) in bundle.entry.iter().enumerate() {
        let Some(res) = &e.resource else { continue };
        let mut found = Vec::new();
        references(res, &format!("Bundle.entry[{i}].resource"), &mut found);
        for (path, reference) in found {
            if reference.starts_with('#') {
                continue;
            }
            if index.resolve(&reference).is_none() {
                problems.push(FhirError::new(
                    path,
                    IssueKind::NotFound,
                    format!("'{reference}' does not resolve to an entry of the message"),
                ));
            }
        }
    }
    problems.finish()
}
