//! Node keys: the Ed25519 key (RFC 8032) with which a deployment signs the
//! federation messages it sends and the acknowledgements it returns, and the
//! check of a peer's signature. Backed by `ring`, whose Ed25519 is audited
//! and fast enough to sign and verify every message on one core.
//!
//! A public key travels as 43 characters of unpadded base64url (32 bytes),
//! the form `mhis node init` prints and `mhis peer add --key` takes.

use crate::error::{CertError, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// Length of an Ed25519 public key, in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;

/// A deployment's signing key.
pub struct NodeKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey")
            .field("public_key", &encode_public_key(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl NodeKey {
    /// A fresh key from the system's random source.
    pub fn generate() -> Result<Self> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CertError::Key("cannot generate an Ed25519 key".into()))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// A key from its PKCS#8 (v2) document.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .map_err(|e| CertError::Key(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        Ok(Self {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    /// The PKCS#8 document, to be sealed before it is stored.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key, 32 bytes.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// Signs `data`; the signature is 64 bytes.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.pair.sign(data).as_ref().to_vec()
    }
}

/// Checks a peer's signature over `data`.
pub fn verify_node_signature(public_key: &[u8], data: &[u8], signature: &[u8]) -> Result<()> {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(data, signature)
        .map_err(|_| CertError::BadSignature)
}

/// A public key as text (unpadded base64url).
pub fn encode_public_key(key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// Parses a public key written by [`encode_public_key`].
pub fn decode_public_key(text: &str) -> Result<Vec<u8>> {
    let key = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|e| CertError::Key(format!("not base64url: {e}")))?;
    if key.len() != PUBLIC_KEY_LEN {
        return Err(CertError::Key(format!(
            "an Ed25519 public key is {PUBLIC_KEY_LEN} bytes, this one is {}",
            key.len()
        )));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_tampering() {
        let key = NodeKey::generate().unwrap();
        let again = NodeKey::from_pkcs8(key.pkcs8()).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        let sig = key.sign(b"bundle");
        verify_node_signature(key.public_key(), b"bundle", &sig).unwrap();
        assert!(verify_node_signature(key.public_key(), b"bundlf", &sig).is_err());
        let other = NodeKey::generate().unwrap();
        assert!(verify_node_signature(other.public_key(), b"bundle", &sig).is_err());
        let text = encode_public_key(key.public_key());
        assert_eq!(text.len(), 43);
        assert_eq!(decode_public_key(&text).unwrap(), key.public_key());
        assert!(decode_public_key("abc").is_err());
        assert!(decode_public_key("!!!").is_err());
    }
}
