//! Password storage and policy (docs/tyk-dashboard-api.md §3.6, §7).
//!
//! Only a salted SHA-256 is kept: the emulator must be able to say whether a password matches
//! (`/__emulator/check-password`) without ever holding or printing the plaintext.

use sha2::{Digest, Sha256};

use crate::model::{User, now};
use crate::settings::Settings;

#[derive(Clone)]
pub struct PasswordHash {
    salt: [u8; 16],
    digest: [u8; 32],
}

// Hand-written so a stray `{:?}` can never print hash material.
impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    pub fn new(password: &str) -> PasswordHash {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        PasswordHash {
            salt,
            digest: digest(&salt, password),
        }
    }

    pub fn matches(&self, password: &str) -> bool {
        // Constant-time comparison is irrelevant for a test double; equality is enough.
        digest(&self.salt, password) == self.digest
    }
}

fn digest(salt: &[u8], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Why a new password was refused. The Dashboard's status and wording for policy violations
/// are [?] (docs/tyk-dashboard-api.md §3.6, §13.4); these are the emulator's documented choices
/// (crate README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    TooShort(usize),
    Reused(usize),
}

impl PolicyError {
    /// 403: the one refusal status every password-setting route documents (DASH-SW reset:
    /// "Malformed request body or you don't have permission…"; ADMIN-SW create and PUT), where
    /// 400 is documented on none of the reset, the admin create or the admin PUT.
    pub fn status(&self) -> u16 {
        403
    }

    pub fn message(&self) -> String {
        match self {
            PolicyError::TooShort(n) => format!("Password must be at least {n} characters long."),
            PolicyError::Reused(n) => {
                format!("Password must not match any of the last {n} passwords.")
            }
        }
    }
}

/// Checks `new` against the policy without changing anything.
pub fn check(user: &User, new: &str, s: &Settings) -> Result<(), PolicyError> {
    if new.chars().count() < s.password_min_length {
        return Err(PolicyError::TooShort(s.password_min_length));
    }
    if s.password_history > 0 {
        // `enforce_password_history: N` — the current password counts as one of the N.
        let recent = user
            .password
            .iter()
            .chain(user.pw_history.iter())
            .take(s.password_history);
        if recent.into_iter().any(|h| h.matches(new)) {
            return Err(PolicyError::Reused(s.password_history));
        }
    }
    Ok(())
}

/// Checks and stores `new`, moving the old hash into the history and stamping
/// `password_updated` (docs/tyk-dashboard-api.md §5: it stays the zero time until a password is
/// set).
pub fn set(user: &mut User, new: &str, s: &Settings) -> Result<(), PolicyError> {
    check(user, new, s)?;
    if let Some(old) = user.password.take() {
        user.pw_history.insert(0, old);
        // Keep a bounded history; enough for any history setting a test would use.
        user.pw_history.truncate(s.password_history.max(1) + 8);
    }
    user.password = Some(PasswordHash::new(new));
    user.password_sets += 1;
    user.password_updated = now();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User::new(String::new(), "a@b.c")
    }

    #[test]
    fn hash_matches_only_its_password_and_is_salted() {
        let a = PasswordHash::new("secret-1");
        let b = PasswordHash::new("secret-1");
        assert!(a.matches("secret-1") && !a.matches("secret-2"));
        assert_ne!(a.digest, b.digest, "same password, different salt");
        assert_eq!(format!("{a:?}"), "PasswordHash(..)");
    }

    #[test]
    fn length_counts_characters() {
        let s = Settings::default();
        assert_eq!(check(&user(), "12345", &s), Err(PolicyError::TooShort(6)));
        assert_eq!(check(&user(), "éééééé", &s), Ok(()));
    }

    #[test]
    fn history_covers_the_current_and_previous_passwords() {
        let s = Settings {
            password_history: 2,
            ..Settings::default()
        };
        let mut u = user();
        for p in ["one-one", "two-two", "three-three"] {
            set(&mut u, p, &s).unwrap();
        }
        assert_eq!(check(&u, "three-three", &s), Err(PolicyError::Reused(2)));
        assert_eq!(check(&u, "two-two", &s), Err(PolicyError::Reused(2)));
        assert_eq!(check(&u, "one-one", &s), Ok(()));
        assert_ne!(u.password_updated, crate::model::ZERO_TIME);
    }
}
