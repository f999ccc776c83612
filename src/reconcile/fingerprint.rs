//! Password change detection without storing the password (docs/design.md §3.3).
//!
//! The status keeps `hmac-sha256:<key id>:<hex>` where the HMAC key lives in a Secret of
//! the operator's namespace that `kubectl get dashboarduser` readers cannot see. The object
//! UID is mixed in so two users with the same password get unrelated fingerprints. The key
//! id (a hash prefix of the key) tells "the key was replaced" apart from "the password
//! changed", so losing the key never re-sends an unchanged password (Tyk refuses reuse).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const SCHEME: &str = "hmac-sha256";

/// The operator's fingerprint key (32 random bytes kept in a Secret).
#[derive(Clone)]
pub struct FingerprintKey {
    bytes: Vec<u8>,
    id: String,
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FingerprintKey({})", self.id)
    }
}

impl FingerprintKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        let digest = Sha256::digest(&bytes);
        let id = hex::encode(&digest[..4]);
        Self { bytes, id }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Fingerprint of `password` for the object with `uid`.
    pub fn fingerprint(&self, uid: &str, password: &[u8]) -> Fingerprint {
        // new_from_slice only fails for fixed-size-key MACs; HMAC takes any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.bytes).expect("hmac accepts any key");
        mac.update(uid.as_bytes());
        mac.update(&[0]);
        mac.update(password);
        Fingerprint(format!(
            "{SCHEME}:{}:{}",
            self.id,
            hex::encode(mac.finalize().into_bytes())
        ))
    }
}

/// A keyed password fingerprint as stored in status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The key id the fingerprint was made with, if it is in the expected format.
    pub fn key_id(&self) -> Option<&str> {
        let mut parts = self.0.splitn(3, ':');
        (parts.next()? == SCHEME).then_some(())?;
        parts.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_fingerprint_and_key_id_is_embedded() {
        let k = FingerprintKey::new(vec![7; 32]);
        let a = k.fingerprint("uid-1", b"s3cret-pw");
        assert_eq!(a, k.fingerprint("uid-1", b"s3cret-pw"));
        assert_eq!(a.key_id(), Some(k.id()));
        assert!(!a.0.contains("s3cret-pw"));
    }

    #[test]
    fn differs_by_password_uid_and_key() {
        let k = FingerprintKey::new(vec![7; 32]);
        let other = FingerprintKey::new(vec![8; 32]);
        let base = k.fingerprint("uid-1", b"pw-one");
        assert_ne!(base, k.fingerprint("uid-1", b"pw-two"));
        assert_ne!(base, k.fingerprint("uid-2", b"pw-one"));
        assert_ne!(base, other.fingerprint("uid-1", b"pw-one"));
        assert_ne!(k.id(), other.id());
    }

    #[test]
    fn foreign_formats_have_no_key_id() {
        assert_eq!(Fingerprint("sha256:abc".into()).key_id(), None);
    }
}
