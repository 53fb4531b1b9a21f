//! Password hashing and strength rules.
//!
//! Argon2id with m = 19456 KiB, t = 2, p = 1 (OWASP's minimum recommendation), stored as a PHC
//! string so parameters can be raised later and old hashes still verify. Passwords must be at
//! least 12 characters and not guessable (zxcvbn score ≥ 3, which also rejects common
//! passwords and ones built from the person's own name or email).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::FieldError;

/// Shortest accepted password, in characters.
pub const MIN_LENGTH: usize = 12;
/// Longest accepted password, in bytes (bounds hashing work per request).
pub const MAX_LENGTH: usize = 256;

/// The Argon2id instance with Tend's parameters.
fn argon2() -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(19_456, 2, 1, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let hasher = argon2().map_err(|e| e.to_string())?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string. Malformed hashes verify as false.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(hasher) = argon2() else { return false };
    hasher.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// A hash to verify against when the account does not exist, so a wrong email takes as long
/// as a wrong password and timing does not reveal who has an account.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Qb+3Jd1zU6cQvHkP8q7D9HSqWq8VxBvC3V2vS0h0uYc"
}

/// Checks length and strength; `inputs` are words the person's own details suggest.
pub fn check_strength(field: &str, password: &str, inputs: &[&str]) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(FieldError::new(
            field,
            format!(
                "Please use at least {MIN_LENGTH} characters. A few unrelated words make a strong, memorable password."
            ),
        ));
    }
    if password.len() > MAX_LENGTH {
        return Err(FieldError::new(
            field,
            format!("Please use at most {MAX_LENGTH} characters."),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, inputs);
    if (estimate.score() as u8) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "This password would be easy to guess.".to_string());
        return Err(FieldError::new(
            field,
            format!("{hint} Try a few unrelated words together."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_with_the_required_parameters() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stable", &phc));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_common_and_personal_passwords_are_refused() {
        assert!(check_strength("password", "short", &[]).is_err());
        assert!(check_strength("password", "password1234", &[]).is_err());
        assert!(
            check_strength(
                "password",
                "maya.rivera@example.org",
                &["maya.rivera@example.org", "Maya Rivera"]
            )
            .is_err()
        );
        assert!(check_strength("password", "quiet-harbour-lantern-7", &[]).is_ok());
    }
}
