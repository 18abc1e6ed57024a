//! Passwords of users: argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, 1 lane), PHC
//! strings with a fresh salt each. Hashing and verifying are slow on purpose and run on a blocking
//! thread ([`hash`], [`verify`]), never on the async workers.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::HttpError;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes (hashing cost grows with it).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Check a new password against the rules.
pub fn check_new(password: &str) -> Result<(), PasswordRule> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordRule::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRule::TooLong);
    }
    Ok(())
}

impl From<PasswordRule> for HttpError {
    fn from(rule: PasswordRule) -> Self {
        let code = match rule {
            PasswordRule::TooShort => "weak_password",
            PasswordRule::TooLong => "invalid_password",
        };
        HttpError::bad_request(code, rule.to_string())
    }
}

/// Hash a password (blocking: call it from a blocking thread, or use [`hash`]).
pub fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `stored` (blocking). A malformed hash matches nothing.
pub fn verify_now(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password, verified against when the user does not exist, so an unknown
/// name costs the same time as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now("landfall: no such user, decoy").unwrap_or_default())
}

/// Hash a password on a blocking thread.
pub async fn hash(password: String) -> Result<String, HttpError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(HttpError::internal)?
        .map_err(HttpError::internal)
}

/// Verify on a blocking thread; `stored = None` (unknown user) verifies against a decoy and is
/// always false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, HttpError> {
    tokio::task::spawn_blocking(move || match stored {
        Some(h) => verify_now(&password, &h),
        None => {
            verify_now(&password, decoy());
            false
        }
    })
    .await
    .map_err(HttpError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_now("correct horse battery").unwrap();
        let b = hash_now("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "every hash has its own salt");
        assert!(verify_now("correct horse battery", &a));
        assert!(!verify_now("correct horse batterY", &a));
        assert!(!verify_now("anything", "not a phc string"));
    }

    #[test]
    fn the_rules() {
        assert_eq!(check_new("123456789"), Err(PasswordRule::TooShort));
        // Characters, not bytes: ten CJK characters are enough.
        assert_eq!(check_new("一二三四五六七八九十"), Ok(()));
        assert_eq!(check_new(&"x".repeat(1025)), Err(PasswordRule::TooLong));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify("landfall: no such user, decoy".into(), None)
            .await
            .unwrap());
    }
}
