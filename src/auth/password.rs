//! Password hashing: argon2id (the `argon2` crate's defaults, OWASP's recommendation:
//! 19 MiB of memory, 2 passes, 1 lane) with a random 16-byte salt per hash, stored as a PHC
//! string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so the parameters travel with each
//! hash and can be raised later without breaking stored ones. Verifying costs tens of
//! milliseconds on purpose; [`super::cache`] keeps requests from paying it each time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use password_hash::rand_core::OsRng;

use super::AuthError;

/// Hash `password` with a new random salt.
pub fn hash(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AuthError::Hash)
}

/// Whether `password` matches the PHC string `stored` (false for a string that does not
/// parse; [`super::store`] checks every stored hash parses when it loads the catalog).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Whether `stored` is a PHC string argon2 can verify against.
pub fn is_valid_hash(stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|p| p.algorithm.as_str().starts_with("argon2"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_and_verify() {
        let a = hash("secret").unwrap();
        let b = hash("secret").unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(verify("secret", &a) && verify("secret", &b));
        assert!(!verify("Secret", &a));
        assert!(!verify("secret", "not a hash"));
        assert!(is_valid_hash(&a));
        assert!(!is_valid_hash("$2a$10$abcdefghijklmnopqrstuv"));
    }
}
