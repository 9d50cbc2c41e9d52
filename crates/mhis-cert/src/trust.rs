//! Trust list and revocation list: signed documents a verifier loads to
//! decide which site keys to accept and which certificates are revoked.
//!
//! # Format
//!
//! Both lists are CBOR maps (RFC 8949), field names as in the Rust structs
//! below (byte fields are CBOR byte strings), carried as the payload of a
//! tagged COSE_Sign1 (RFC 9052 §4.2) signed with ES256 by the trust anchor
//! of the country or organisation, with the anchor's `kid` (first 8 bytes
//! of SHA-256 over its SPKI DER) in the protected header. The content type
//! (label 3) is [`TRUST_LIST_CONTENT_TYPE`] or
//! [`REVOCATION_LIST_CONTENT_TYPE`], so one list can never be passed off as
//! the other.
//!
//! Each site signs with its own short-lived key (one year at most), named
//! in the trust list with the protocols it may sign and its validity
//! window. Verifiers refuse a list older than a configurable freshness
//! limit, since stale lists kept accepting forged certificates after the
//! 2021 leaked-key episode.
//!
//! Revocation entries are the first 16 bytes of SHA-256 over
//! `country ‖ certificate id` (UTF-8), never the ids themselves.

use coset::{CoseSign1Builder, HeaderBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CertError, Result};
use crate::hcert::parse_cose_sign1;
use crate::keys::{DscCertificate, SignatureAlgorithm, SigningKey, VerificationKey, kid_of_der};

/// COSE content type of a signed trust list.
pub const TRUST_LIST_CONTENT_TYPE: &str = "application/mhis-trust-list+cbor";
/// COSE content type of a signed revocation list.
pub const REVOCATION_LIST_CONTENT_TYPE: &str = "application/mhis-revocation-list+cbor";
/// Length of a revocation hash in bytes.
pub const REVOCATION_HASH_LEN: usize = 16;
/// Protocol name a trust-list key must list to sign EU DCCs (`HC1:`).
pub const DCC_PROTOCOL: &str = "dcc";

/// A key the trust anchor vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    /// Key identifier (8 bytes).
    #[serde(with = "bytes")]
    pub kid: Vec<u8>,
    /// Public key, DER `SubjectPublicKeyInfo`.
    #[serde(with = "bytes")]
    pub public_key: Vec<u8>,
    /// Issuing site identifier.
    pub site: String,
    /// Country of the site, ISO 3166-1 alpha-2; must equal the
    /// certificate's `iss`.
    pub country: String,
    /// Protocol ids this key may sign ([`DCC_PROTOCOL`] for EU DCC keys).
    pub protocols: Vec<String>,
    /// Start of the key's validity, Unix seconds.
    pub valid_from: i64,
    /// End of the key's validity, Unix seconds.
    pub valid_until: i64,
}

impl TrustedKey {
    /// Describes an ES256 site key.
    pub fn for_site_key(
        key: &SigningKey,
        site: &str,
        country: &str,
        protocols: &[&str],
        valid_from: i64,
        valid_until: i64,
    ) -> Self {
        Self {
            kid: key.kid(),
            public_key: key.public_spki_der(),
            site: site.to_owned(),
            country: country.to_owned(),
            protocols: protocols.iter().map(|p| (*p).to_owned()).collect(),
            valid_from,
            valid_until,
        }
    }

    /// Describes an EU DCC Document Signer Certificate (DER), allowed to
    /// sign [`DCC_PROTOCOL`], valid for the certificate's validity.
    pub fn for_dsc(der: &[u8], site: &str, country: &str) -> Result<Self> {
        let dsc = DscCertificate::from_der(der)?;
        Ok(Self {
            kid: kid_of_der(der),
            public_key: dsc.key.to_spki_der()?,
            site: site.to_owned(),
            country: country.to_owned(),
            protocols: vec![DCC_PROTOCOL.to_owned()],
            valid_from: dsc.not_before,
            valid_until: dsc.not_after,
        })
    }

    /// The parsed public key.
    pub fn verification_key(&self) -> Result<VerificationKey> {
        VerificationKey::from_spki_der(&self.public_key)
    }
}

/// The trust list content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustList {
    /// Country or organisation whose anchor signs the list.
    pub issuer: String,
    /// When the list was issued, Unix seconds; verifiers refuse lists older
    /// than their freshness limit.
    pub issued_at: i64,
    /// Keys vouched for.
    pub keys: Vec<TrustedKey>,
}

impl TrustList {
    /// Signs the list with the trust anchor's key.
    pub fn sign(&self, anchor: &SigningKey) -> Result<Vec<u8>> {
        sign_document(self, TRUST_LIST_CONTENT_TYPE, anchor)
    }

    /// Verifies a signed list against the trust anchor(s) and returns it.
    pub fn verify(signed: &[u8], anchors: &[VerificationKey]) -> Result<Self> {
        verify_document(signed, TRUST_LIST_CONTENT_TYPE, anchors)
    }

    /// All keys sharing `kid` (several may, hcert spec v1.0.8 §3.3.1).
    pub fn keys_with_kid<'a>(&'a self, kid: &'a [u8]) -> impl Iterator<Item = &'a TrustedKey> {
        self.keys.iter().filter(move |k| k.kid == kid)
    }
}

/// The revocation list content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationList {
    /// Country or organisation whose anchor signs the list.
    pub issuer: String,
    /// When the list was issued, Unix seconds.
    pub issued_at: i64,
    /// Revocation hashes, see [`revocation_hash`].
    pub entries: Vec<RevocationHash>,
}

/// One revocation entry: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RevocationHash(#[serde(with = "bytes16")] pub [u8; REVOCATION_HASH_LEN]);

/// First 16 bytes of SHA-256 over `country ‖ certificate_id` (UTF-8).
pub fn revocation_hash(country: &str, certificate_id: &str) -> RevocationHash {
    let mut h = Sha256::new();
    h.update(country.as_bytes());
    h.update(certificate_id.as_bytes());
    let digest = h.finalize();
    let mut out = [0u8; REVOCATION_HASH_LEN];
    out.copy_from_slice(&digest[..REVOCATION_HASH_LEN]);
    RevocationHash(out)
}

impl RevocationList {
    /// Builds a list from (country, certificate id) pairs; only hashes are
    /// kept.
    pub fn from_ids<'a>(
        issuer: &str,
        issued_at: i64,
        ids: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut entries: Vec<_> = ids
            .into_iter()
            .map(|(c, id)| revocation_hash(c, id))
            .collect();
        entries.sort();
        entries.dedup();
        Self {
            issuer: issuer.to_owned(),
            issued_at,
            entries,
        }
    }

    /// Whether the certificate is revoked.
    pub fn is_revoked(&self, country: &str, certificate_id: &str) -> bool {
        let h = revocation_hash(country, certificate_id);
        self.entries.contains(&h)
    }

    /// Signs the list with the trust anchor's key.
    pub fn sign(&self, anchor: &SigningKey) -> Result<Vec<u8>> {
        sign_document(self, REVOCATION_LIST_CONTENT_TYPE, anchor)
    }

    /// Verifies a signed list against the trust anchor(s) and returns it.
    pub fn verify(signed: &[u8], anchors: &[VerificationKey]) -> Result<Self> {
        verify_document(signed, REVOCATION_LIST_CONTENT_TYPE, anchors)
    }
}

fn sign_document<T: Serialize>(
    doc: &T,
    content_type: &str,
    anchor: &SigningKey,
) -> Result<Vec<u8>> {
    let mut payload = Vec::new();
    ciborium::into_writer(doc, &mut payload).map_err(|e| CertError::Encoding(e.to_string()))?;
    let protected = HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::ES256)
        .key_id(anchor.kid())
        .content_type(content_type.to_owned())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |data| anchor.sign(data))
        .build();
    coset::TaggedCborSerializable::to_tagged_vec(sign1)
        .map_err(|e| CertError::Encoding(format!("COSE: {e}")))
}

fn verify_document<T: serde::de::DeserializeOwned>(
    signed: &[u8],
    content_type: &str,
    anchors: &[VerificationKey],
) -> Result<T> {
    let bad = |m: &str| CertError::SignedList(m.to_owned());
    let cose = parse_cose_sign1(signed).map_err(|e| bad(&e.to_string()))?;
    let ct_ok = matches!(
        &cose.protected.header.content_type,
        Some(coset::ContentType::Text(t)) if t == content_type
    );
    if !ct_ok {
        return Err(bad("wrong content type"));
    }
    let alg = cose
        .protected
        .header
        .alg
        .as_ref()
        .and_then(SignatureAlgorithm::from_cose)
        .ok_or_else(|| bad("unsupported algorithm"))?;
    let signed_ok = anchors.iter().any(|k| {
        k.supports(alg)
            && cose
                .verify_signature(b"", |sig, data| k.verify(alg, data, sig))
                .is_ok()
    });
    if !signed_ok {
        return Err(bad("not signed by a trust anchor"));
    }
    let payload = cose.payload.as_deref().ok_or_else(|| bad("no payload"))?;
    ciborium::from_reader(payload).map_err(|e| bad(&format!("bad content: {e}")))
}

/// Serde helper: `Vec<u8>` as a CBOR byte string.
mod bytes {
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Serde helper: `[u8; 16]` as a CBOR byte string.
mod bytes16 {
    use serde::{Deserializer, Serializer, de};

    use super::REVOCATION_HASH_LEN;

    pub fn serialize<S: Serializer>(
        v: &[u8; REVOCATION_HASH_LEN],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; REVOCATION_HASH_LEN], D::Error> {
        let v = super::bytes::deserialize(d)?;
        v.try_into()
            .map_err(|_| de::Error::custom("revocation hash must be 16 bytes"))
    }
}
