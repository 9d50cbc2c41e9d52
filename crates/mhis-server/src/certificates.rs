//! Issuing verifiable certificates: site signing keys sealed at rest, the
//! certificate's minimal claims from a finalised assessment, and the trust
//! and revocation lists a verifier needs.
//!
//! Private keys are never stored in clear: each is sealed with AES-256-GCM
//! under the deployment's key encryption key, which lives in a file outside
//! the database (`key_encryption_key_file`), with the key id as associated
//! data so a sealed key cannot be swapped onto another key's row.

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use axum::http::StatusCode;
use base64::Engine;
use chrono::{DateTime, Duration, Months, Utc};
use mhis_cert::{HealthClearance, Issuer, MhcPayload, Outcome as CertOutcome, PersonName};
use mhis_domain::assessment::{Assessment, AssessmentStatus};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::SiteId;
use mhis_store::{StoredCertificate, StoredKey};
use rand::RngCore;
use std::path::Path;

/// The longest a site key may be valid (certificates.md: one year at most,
/// so one leaked key exposes one site for a bounded time).
pub const MAX_KEY_DAYS: i64 = 366;

/// When a protocol states no certificate validity, certificates are valid
/// this many months from the assessment date (a deployment parameter).
pub const DEFAULT_VALIDITY_MONTHS: u32 = 12;

/// The deployment's key encryption key.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(..)")
    }
}

/// Why a key could not be loaded, sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key encryption key file is unreadable or malformed.
    #[error("key encryption key {0}")]
    Kek(String),
    /// A sealed key failed to open (wrong KEK, or tampered).
    #[error("a sealed signing key could not be opened: wrong key encryption key or damaged data")]
    Open,
    /// The certificate library refused the key.
    #[error(transparent)]
    Cert(#[from] mhis_cert::CertError),
}

impl KeyEncryptionKey {
    /// Reads the key from `path` (32 bytes, base64), creating it with
    /// fresh random bytes and owner-only permissions when `create` and it
    /// does not exist.
    pub fn load(path: &Path, create: bool) -> Result<Self, KeyError> {
        if !path.exists() && create {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| KeyError::Kek(format!("{}: {e}", parent.display())))?;
            }
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            write_private(path, text.as_bytes())
                .map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())))?;
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Kek(format!("{}: {e}", path.display())))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Kek(format!("{}: not base64", path.display())))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Kek(format!("{}: must hold 32 bytes", path.display())))?;
        Ok(Self(key))
    }

    /// Seals a PKCS#8 private key: nonce (12 bytes) then ciphertext.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: kid.as_bytes(),
                },
            )
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens a sealed key.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < 12 {
            return Err(KeyError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| KeyError::Open)?;
        Aes256Gcm::new((&self.0).into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Open)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a signing key for a site, valid from `now` for `days` (at most
/// [`MAX_KEY_DAYS`]); the site's earlier keys are retired (kept for
/// verification only).
pub async fn new_site_key(
    state: &AppState,
    kek: &KeyEncryptionKey,
    site: SiteId,
    days: i64,
    actor: &str,
) -> Result<StoredKey, ApiError> {
    if !(1..=MAX_KEY_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("a site key is valid for 1 to {MAX_KEY_DAYS} days"),
        ));
    }
    let key = mhis_cert::SigningKey::generate();
    let kid = hex(&key.kid());
    let pkcs8 = key.to_pkcs8_der().map_err(ApiError::internal)?;
    let now = state.now();
    let stored = StoredKey {
        private_key_sealed: kek.seal(&kid, &pkcs8),
        kid,
        site_id: site,
        public_key: key.public_spki_der(),
        valid_from: now,
        valid_until: now + Duration::days(days),
        retired_at: None,
        created_at: now,
    };
    let audit = AuditEvent::new(actor, "key.create", "signing_key", None, None);
    state.store.add_signing_key(&stored, &audit).await?;
    Ok(stored)
}

/// The signed trust list of every site key not yet expired at `now`, each
/// allowed to sign every protocol the deployment applies.
pub async fn trust_list(
    state: &AppState,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<mhis_cert::TrustList, ApiError> {
    let sites = state.store.list_sites().await?;
    let mut protocols: Vec<String> = state.protocols.ids().map(String::from).collect();
    // Site keys also sign training attendance certificates.
    protocols.push(mhis_domain::training::session::ATTENDANCE_COURSE_ID.to_owned());
    let mut keys = Vec::new();
    for key in state.store.signing_keys(None).await? {
        if key.valid_until <= now {
            continue;
        }
        let Some(site) = sites.iter().find(|s| s.id == key.site_id) else {
            continue;
        };
        keys.push(mhis_cert::TrustedKey {
            kid: mhis_cert::keys::kid_of_der(&key.public_key),
            public_key: key.public_key.clone(),
            site: site.code.as_str().to_owned(),
            country: site.country.as_str().to_owned(),
            protocols: protocols.clone(),
            valid_from: key.valid_from.timestamp(),
            valid_until: key.valid_until.timestamp(),
        });
    }
    Ok(mhis_cert::TrustList {
        issuer: issuer.to_owned(),
        issued_at: now.timestamp(),
        keys,
    })
}

/// The revocation list: truncated hashes of every revoked certificate.
pub async fn revocation_list(
    state: &AppState,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<mhis_cert::RevocationList, ApiError> {
    let revoked = state.store.revoked_certificates().await?;
    Ok(mhis_cert::RevocationList::from_ids(
        issuer,
        now.timestamp(),
        revoked.iter().map(|(c, id)| (c.as_str(), id.as_str())),
    ))
}

/// Verifies a certificate's QR text as a border officer's device would,
/// offline: first against this deployment's own site keys and revocations,
/// then, for a key it does not know, against the trust and revocation lists
/// imported with `mhis trust import` (checked again against their anchor).
pub async fn verify_text(
    state: &AppState,
    text: &str,
) -> Result<mhis_cert::Verification, ApiError> {
    let now = state.now();
    let own = mhis_cert::Verifier::new(
        trust_list(state, "local", now).await?,
        mhis_cert::verify::DEFAULT_MAX_LIST_AGE_SECS,
    )
    .with_revocations(revocation_list(state, "local", now).await?);
    let verdict = own.verify(text, now.timestamp());
    if verdict.verdict != mhis_cert::Verdict::UnknownKey {
        return Ok(verdict);
    }
    let Some((list, anchor)) = state.store.latest_trust_document("trust_list").await? else {
        return Ok(verdict);
    };
    let Ok(anchor) = mhis_cert::VerificationKey::from_spki_der(&anchor) else {
        return Ok(verdict);
    };
    let revocations = state
        .store
        .latest_trust_document("revocations")
        .await?
        .map(|(signed, _)| signed);
    match mhis_cert::Verifier::from_signed(
        &list,
        revocations.as_deref(),
        &[anchor],
        mhis_cert::verify::DEFAULT_MAX_LIST_AGE_SECS,
    ) {
        Ok(imported) => Ok(imported.verify(text, now.timestamp())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn conflict(field: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        kind: "conflict",
        field: Some(field.to_owned()),
        message: message.into(),
    }
}

/// The machine-readable form of a name (ICAO 9303 MRZ style: upper-case
/// Latin letters, `<` between parts), as the EU DCC `fnt`/`gnt` fields.
fn mrz_name(latin: &str) -> String {
    latin
        .to_uppercase()
        .chars()
        .map(|c| if c.is_ascii_uppercase() { c } else { '<' })
        .collect::<String>()
        .split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("<")
}

/// Issues a certificate for a finalised assessment whose outcome is
/// `cleared` or `cleared_with_follow_up`, signed with the site's current
/// key. Every other case is a clear 409.
pub async fn issue(
    state: &AppState,
    user: &CurrentUser,
    assessment: &Assessment,
) -> Result<StoredCertificate, ApiError> {
    let outcome = match (assessment.status, assessment.final_outcome.as_deref()) {
        (AssessmentStatus::Finalised, Some("cleared")) => CertOutcome::Cleared,
        (AssessmentStatus::Finalised, Some("cleared_with_follow_up")) => {
            CertOutcome::ClearedWithFollowUp
        }
        (AssessmentStatus::Finalised, Some(other)) => {
            return Err(conflict(
                "final_outcome",
                format!(
                    "a certificate is issued only for cleared or cleared_with_follow_up; this assessment is {other}"
                ),
            ));
        }
        _ => {
            return Err(conflict(
                "status",
                "a certificate is issued only for a finalised assessment",
            ));
        }
    };
    let kek = state.key_encryption.as_ref().ok_or_else(|| {
        conflict(
            "key",
            "this deployment has no key encryption key configured; set key_encryption_key_file",
        )
    })?;
    let now = state.now();
    let site = state.store.get_site(assessment.site_id).await?;
    let key = state
        .store
        .signing_keys(Some(site.id))
        .await?
        .into_iter()
        .find(|k| k.retired_at.is_none() && k.valid_from <= now && now < k.valid_until)
        .ok_or_else(|| {
            conflict(
                "key",
                format!(
                    "site {} has no valid signing key; create one with `mhis keys new --site {}`",
                    site.code.as_str(),
                    site.code.as_str()
                ),
            )
        })?;
    let pkcs8 = kek
        .open(&key.kid, &key.private_key_sealed)
        .map_err(ApiError::internal)?;
    let signing_key = mhis_cert::SigningKey::from_pkcs8_der(&pkcs8).map_err(ApiError::internal)?;

    let migrant = state.store.get_migrant(assessment.migrant_id).await?;
    let decision = crate::api::assessments::decide(state, assessment).await?;
    let protocol = state
        .protocols
        .get(assessment.protocol.as_str())
        .map_err(|e| ApiError::invalid("protocol", e.to_string()))?;
    let valid_until = decision["certificate_valid_until"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .or_else(|| {
            assessment
                .assessment_date
                .checked_add_months(Months::new(DEFAULT_VALIDITY_MONTHS))
        })
        .ok_or_else(|| ApiError::internal("no validity date"))?
        // Never beyond the signing key's own validity.
        .min(key.valid_until.date_naive());
    let d = &migrant.details;
    let payload = HealthClearance {
        name: PersonName {
            family_name: Some(d.family_name.clone()),
            family_name_mrz: mrz_name(&d.family_name_latin),
            given_name: Some(d.given_names.clone()),
            given_name_mrz: Some(mrz_name(&d.given_names_latin)),
        },
        date_of_birth: d.birth_date.to_string(),
        certificate_id: format!(
            "{}-{}",
            site.code.as_str(),
            uuid::Uuid::now_v7().simple().to_string().to_uppercase()
        ),
        assessment_date: assessment.assessment_date.format("%Y-%m-%d").to_string(),
        destination_country: assessment.destination.as_str().to_owned(),
        protocol_id: assessment.protocol.as_str().to_owned(),
        protocol_version: protocol.version().to_owned(),
        outcome,
        valid_until: valid_until.format("%Y-%m-%d").to_string(),
        issuing_site: site.code.as_str().to_owned(),
    };
    if valid_until < now.date_naive() {
        return Err(conflict(
            "valid_until",
            format!(
                "a certificate for this assessment would already have expired on {valid_until}"
            ),
        ));
    }
    let claims = MhcPayload::HealthClearance(payload.clone());
    let text = Issuer::new(signing_key, site.country.as_str())
        .issue(&claims, now.timestamp())
        .map_err(|e| conflict("valid_until", e.to_string()))?;
    let certificate = StoredCertificate {
        id: payload.certificate_id.clone(),
        assessment_id: assessment.id,
        site_id: site.id,
        country: site.country.as_str().to_owned(),
        kid: key.kid.clone(),
        payload: serde_json::to_string(&payload).map_err(ApiError::internal)?,
        qr_text: text,
        issued_at: now,
        valid_until,
        revoked_at: None,
        revocation_reason: None,
    };
    let audit = user.event("certificate.issue", "certificate", None);
    state.store.add_certificate(&certificate, &audit).await?;
    Ok(certificate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_kek_and_kid() {
        let kek = KeyEncryptionKey([7; 32]);
        let sealed = kek.seal("abcd", b"secret key bytes");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(kek.open("abcd", &sealed).unwrap(), b"secret key bytes");
        assert!(kek.open("other", &sealed).is_err());
        assert!(KeyEncryptionKey([8; 32]).open("abcd", &sealed).is_err());
        assert!(kek.open("abcd", &sealed[..5]).is_err());
    }

    #[test]
    fn mrz_names() {
        assert_eq!(mrz_name("Rakhimov"), "RAKHIMOV");
        assert_eq!(mrz_name("Shukhrat Alievich"), "SHUKHRAT<ALIEVICH");
        assert_eq!(mrz_name("Al-Farsi  Omar"), "AL<FARSI<OMAR");
    }
}
