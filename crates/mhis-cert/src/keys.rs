//! Signing and verification keys, key identifiers and DSC certificates.
//!
//! * Issuing uses ES256 only (ECDSA P-256 with SHA-256, COSE alg −7).
//! * Verification accepts ES256, PS256 (RSASSA-PSS with SHA-256, salt 32,
//!   COSE alg −37) and EdDSA (Ed25519, COSE alg −8), as allowed by hcert
//!   spec v1.0.8 §3.3.1 (ES256, PS256) and RFC 9053 §2.2 (EdDSA).
//! * The key identifier (`kid`) is the first 8 bytes of the SHA-256 hash of
//!   the signer's DER certificate (hcert spec v1.0.8 §3.3.1); for our own
//!   site keys, which have no X.509 certificate, the hash is taken over the
//!   DER `SubjectPublicKeyInfo` of the public key.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

use crate::error::{CertError, Result};

/// Length of a key identifier in bytes (hcert spec v1.0.8 §3.3.1).
pub const KID_LEN: usize = 8;

/// Key identifier: first 8 bytes of SHA-256 over the given DER bytes
/// (a DSC certificate, or a public key's `SubjectPublicKeyInfo`).
pub fn kid_of_der(der: &[u8]) -> Vec<u8> {
    Sha256::digest(der)[..KID_LEN].to_vec()
}

/// OID of `id-ecPublicKey` (RFC 5480).
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// OID of `rsaEncryption` (RFC 8017).
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// OID of `id-RSASSA-PSS` (RFC 4055), which some DSCs use for their key.
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
/// OID of `id-Ed25519` (RFC 8410).
const OID_ED25519: &str = "1.3.101.112";

/// COSE signature algorithms this layer knows (RFC 9053, RFC 8230).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// ECDSA P-256 with SHA-256, COSE alg −7.
    Es256,
    /// RSASSA-PSS with SHA-256, COSE alg −37.
    Ps256,
    /// EdDSA (Ed25519), COSE alg −8.
    EdDsa,
}

impl SignatureAlgorithm {
    /// Maps a COSE algorithm to one we verify, if any.
    pub fn from_cose(alg: &coset::Algorithm) -> Option<Self> {
        use coset::iana::Algorithm as A;
        match alg {
            coset::RegisteredLabelWithPrivate::Assigned(A::ES256) => Some(Self::Es256),
            coset::RegisteredLabelWithPrivate::Assigned(A::PS256) => Some(Self::Ps256),
            coset::RegisteredLabelWithPrivate::Assigned(A::EdDSA) => Some(Self::EdDsa),
            _ => None,
        }
    }
}

/// Verifies an ES256 signature (`r ‖ s`, 64 bytes) with `ring`, whose
/// P-256 arithmetic is several times faster than the pure-Rust `p256`
/// verifier: a border desk checks certificates one after another. The key
/// is parsed and checked on the curve by `p256` first; `ring` sees its
/// uncompressed SEC1 form.
pub fn es256_verify(key: &p256::ecdsa::VerifyingKey, data: &[u8], signature: &[u8]) -> Result<()> {
    let point = key.to_encoded_point(false);
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        point.as_bytes(),
    )
    .verify(data, signature)
    .map_err(|_| CertError::BadSignature)
}

/// A public key able to verify COSE signatures.
#[derive(Clone, Debug)]
pub enum VerificationKey {
    /// ECDSA P-256 (ES256).
    P256(p256::ecdsa::VerifyingKey),
    /// RSA (PS256).
    Rsa(Box<rsa::RsaPublicKey>),
    /// Ed25519 (EdDSA).
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl VerificationKey {
    /// Parses a DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| CertError::Key(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let oid = spki.algorithm.oid.to_string();
        match oid.as_str() {
            OID_EC_PUBLIC_KEY => p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .map(Self::P256)
                .map_err(|e| CertError::Key(format!("EC key is not a P-256 key ({e})"))),
            OID_RSA_ENCRYPTION | OID_RSA_PSS => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                let bits = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| CertError::Key("RSA key bit string not octet aligned".into()))?;
                rsa::RsaPublicKey::from_pkcs1_der(bits)
                    .map(|k| Self::Rsa(Box::new(k)))
                    .map_err(|e| CertError::Key(format!("bad RSA key: {e}")))
            }
            OID_ED25519 => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(Self::Ed25519)
                .map_err(|e| CertError::Key(format!("bad Ed25519 key: {e}"))),
            other => Err(CertError::Key(format!("unsupported key algorithm {other}"))),
        }
    }

    /// Parses a PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_spki_pem(pem: &str) -> Result<Self> {
        let (label, der) = x509_cert::der::pem::decode_vec(pem.as_bytes())
            .map_err(|e| CertError::Key(format!("bad PEM: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(CertError::Key(format!(
                "expected PUBLIC KEY PEM, got {label}"
            )));
        }
        Self::from_spki_der(&der)
    }

    /// The PEM `PUBLIC KEY` form of this key.
    pub fn to_spki_pem(&self) -> Result<String> {
        let der = self.to_spki_der()?;
        x509_cert::der::pem::encode_string("PUBLIC KEY", x509_cert::der::pem::LineEnding::LF, &der)
            .map_err(|e| CertError::Key(format!("cannot encode PEM: {e}")))
    }

    /// The DER `SubjectPublicKeyInfo` of this key.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        let doc = match self {
            Self::P256(k) => k.to_public_key_der(),
            Self::Rsa(k) => k.to_public_key_der(),
            Self::Ed25519(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| CertError::Key(format!("cannot encode public key: {e}")))
    }

    /// Whether this key can verify signatures of `alg`.
    pub fn supports(&self, alg: SignatureAlgorithm) -> bool {
        matches!(
            (self, alg),
            (Self::P256(_), SignatureAlgorithm::Es256)
                | (Self::Rsa(_), SignatureAlgorithm::Ps256)
                | (Self::Ed25519(_), SignatureAlgorithm::EdDsa)
        )
    }

    /// Verifies a raw COSE signature over `data` (the `Sig_structure`,
    /// RFC 9052 §4.4). ES256 signatures are the 64-byte `r ‖ s` form
    /// (RFC 9053 §2.1), not DER.
    pub fn verify(&self, alg: SignatureAlgorithm, data: &[u8], signature: &[u8]) -> Result<()> {
        match (self, alg) {
            (Self::P256(k), SignatureAlgorithm::Es256) => es256_verify(k, data, signature),
            (Self::Rsa(k), SignatureAlgorithm::Ps256) => {
                let vk = rsa::pss::VerifyingKey::<Sha256>::new((**k).clone());
                let sig = rsa::pss::Signature::try_from(signature)
                    .map_err(|_| CertError::BadSignature)?;
                vk.verify(data, &sig).map_err(|_| CertError::BadSignature)
            }
            (Self::Ed25519(k), SignatureAlgorithm::EdDsa) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| CertError::BadSignature)?;
                k.verify_strict(data, &sig)
                    .map_err(|_| CertError::BadSignature)
            }
            _ => Err(CertError::BadSignature),
        }
    }
}

/// An ES256 signing key of an issuing site (or of a trust anchor).
#[derive(Clone)]
pub struct SigningKey {
    inner: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &hex(&self.kid()))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh P-256 key from the operating system's RNG.
    pub fn generate() -> Self {
        Self {
            inner: p256::ecdsa::SigningKey::random(&mut rand_core::OsRng),
        }
    }

    /// Builds a key from a 32-byte big-endian secret scalar (useful for
    /// deterministic test keys).
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        p256::ecdsa::SigningKey::from_slice(bytes)
            .map(|inner| Self { inner })
            .map_err(|e| CertError::Key(format!("bad P-256 secret: {e}")))
    }

    /// Parses a PKCS#8 DER private key (RFC 5208).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        p256::ecdsa::SigningKey::from_pkcs8_der(der)
            .map(|inner| Self { inner })
            .map_err(|e| CertError::Key(format!("bad PKCS#8 P-256 key: {e}")))
    }

    /// Parses a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .map(|inner| Self { inner })
            .map_err(|e| CertError::Key(format!("bad PKCS#8 PEM P-256 key: {e}")))
    }

    /// Serialises the private key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        self.inner
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .map(|z| z.to_string())
            .map_err(|e| CertError::Key(format!("cannot encode key: {e}")))
    }

    /// Serialises the private key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        self.inner
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| CertError::Key(format!("cannot encode key: {e}")))
    }

    /// The public half.
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::P256(*self.inner.verifying_key())
    }

    /// DER `SubjectPublicKeyInfo` of the public key.
    pub fn public_spki_der(&self) -> Vec<u8> {
        self.inner
            .verifying_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    }

    /// Key identifier: first 8 bytes of SHA-256 over the SPKI DER.
    pub fn kid(&self) -> Vec<u8> {
        kid_of_der(&self.public_spki_der())
    }

    /// Signs `data` with ES256, returning the 64-byte `r ‖ s` signature.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.inner.sign(data);
        sig.to_bytes().to_vec()
    }
}

/// The facts of an X.509 Document Signer Certificate (DSC) that matter to
/// verification (hcert spec v1.0.8 §5).
#[derive(Clone, Debug)]
pub struct DscCertificate {
    /// `kid` of the certificate: first 8 bytes of SHA-256 over its DER.
    pub kid: Vec<u8>,
    /// The public key.
    pub key: VerificationKey,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// Extended key usage OIDs in dotted form (empty when the extension is
    /// absent).
    pub extended_key_usages: Vec<String>,
}

impl DscCertificate {
    /// Parses a DER X.509 certificate (RFC 5280).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| CertError::Key(format!("not an X.509 certificate: {e}")))?;
        let tbs = &cert.tbs_certificate;
        let spki = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| CertError::Key(format!("cannot encode SPKI: {e}")))?;
        let key = VerificationKey::from_spki_der(&spki)?;
        let secs = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
        let mut extended_key_usages = Vec::new();
        for ext in tbs.extensions.iter().flatten() {
            if ext.extn_id.to_string() == "2.5.29.37" {
                let eku =
                    x509_cert::ext::pkix::ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| CertError::Key(format!("bad extended key usage: {e}")))?;
                extended_key_usages.extend(eku.0.iter().map(|o| o.to_string()));
            }
        }
        Ok(Self {
            kid: kid_of_der(der),
            key,
            not_before: secs(&tbs.validity.not_before),
            not_after: secs(&tbs.validity.not_after),
            extended_key_usages,
        })
    }
}

/// OID of the X.520 `countryName` attribute.
const OID_COUNTRY_NAME: &str = "2.5.4.6";

/// The country (`C`, ISO 3166-1 alpha-2) in the subject of a DER X.509
/// certificate, if it names one. A DSC's subject country is the country
/// whose certificates it may sign.
pub fn subject_country(der: &[u8]) -> Option<String> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == OID_COUNTRY_NAME)
        .and_then(|atv| std::str::from_utf8(atv.value.value()).ok())
        .map(str::to_owned)
}

/// Lower-case hex of bytes (for diagnostics).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
