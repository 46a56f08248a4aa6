//! Staff passwords: argon2id with the crate's recommended parameters, and the
//! rules a new password must meet.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::Localized;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, verified against when the username is
/// unknown, so a failed login takes as long whether or not the account exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()))
}

/// Why a new password is refused, if it is.
pub fn weakness(password: &str, username: &str) -> Option<Localized> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Some(Localized::fixed(
            "密码至少需要10个字符。",
            "A password needs at least 10 characters.",
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Some(Localized::fixed(
            "密码不能超过128个字符。",
            "A password has at most 128 characters.",
        ));
    }
    if password.trim().to_lowercase() == username.trim().to_lowercase() {
        return Some(Localized::fixed(
            "密码不能和用户名相同。",
            "The password must differ from the username.",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterx", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_named() {
        assert!(weakness("short", "alice").is_some());
        assert!(weakness("alice.admin", "Alice.Admin").is_some());
        assert!(weakness("a long enough passphrase", "alice").is_none());
    }
}
