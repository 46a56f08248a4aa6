//! Personal data at rest: AES-256-GCM with the key id stored beside each
//! ciphertext (so keys can rotate), and a keyed hash (HMAC-SHA256) for exact
//! lookups of values that are stored only encrypted.

use std::collections::HashMap;

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD as BASE64};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::DataKey;

const FORMAT_VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the stored value is not in the v1 format")]
    Format,
    #[error("no configured key has the id {0}")]
    UnknownKey(String),
    #[error("the stored value does not decrypt with its key")]
    Decrypt,
}

/// What a ciphertext protects; bound into it as associated data, so a value
/// copied into another column does not decrypt there.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    IdNumber,
    Phone,
    WebhookSecret,
    /// A username typed at sign-in, counted whether or not the account exists.
    SignInName,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::IdNumber => b"id_number",
            Purpose::Phone => b"phone",
            Purpose::WebhookSecret => b"webhook_secret",
            Purpose::SignInName => b"sign_in_name",
        }
    }
}

pub struct DataProtector {
    active_id: String,
    ciphers: HashMap<String, Aes256Gcm>,
    index_key: [u8; 32],
}

impl DataProtector {
    /// `keys[0]` encrypts; every key decrypts. The lookup-hash key derives from
    /// the last key, the oldest one, which must therefore stay listed: lookups
    /// of rows hashed before a rotation keep working.
    pub fn new(keys: &[DataKey]) -> Self {
        let first = keys.first().expect("the configuration always has a data key");
        let oldest = keys.last().expect("the configuration always has a data key");
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(oldest.key.expose_secret()).expect("HMAC takes any key length");
        mac.update(b"shiminhua lookup hash v1");
        Self {
            active_id: first.id.clone(),
            ciphers: keys
                .iter()
                .map(|k| {
                    (
                        k.id.clone(),
                        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*k.key.expose_secret())),
                    )
                })
                .collect(),
            index_key: mac.finalize().into_bytes().into(),
        }
    }

    /// `v1.<key id>.<base64(nonce ‖ ciphertext)>`
    pub fn encrypt(&self, purpose: Purpose, plaintext: &str) -> String {
        let cipher = &self.ciphers[&self.active_id];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.label(),
                },
            )
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{FORMAT_VERSION}.{}.{}", self.active_id, BASE64.encode(bytes))
    }

    pub fn decrypt(&self, purpose: Purpose, stored: &str) -> Result<String, CryptoError> {
        let mut parts = stored.splitn(3, '.');
        let (Some(FORMAT_VERSION), Some(key_id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Format);
        };
        let cipher = self
            .ciphers
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let bytes = BASE64.decode(encoded).map_err(|_| CryptoError::Format)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(CryptoError::Format);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Format)?;
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.label(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }

    /// A deterministic keyed hash for exact-match lookups (hex).
    pub fn lookup_hash(&self, purpose: Purpose, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC takes any key length");
        mac.update(purpose.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretBox;

    use super::*;

    fn key(id: &str, byte: u8) -> DataKey {
        DataKey {
            id: id.to_owned(),
            key: SecretBox::new(Box::new([byte; 32])),
        }
    }

    #[test]
    fn round_trip_never_shows_the_plaintext() {
        let protector = DataProtector::new(&[key("k1", 1)]);
        let sealed = protector.encrypt(Purpose::IdNumber, "11010519491231002X");
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("19491231"));
        assert_ne!(
            sealed,
            protector.encrypt(Purpose::IdNumber, "11010519491231002X"),
            "nonces differ"
        );
        assert_eq!(
            protector.decrypt(Purpose::IdNumber, &sealed).unwrap(),
            "11010519491231002X"
        );
        assert!(matches!(
            protector.decrypt(Purpose::Phone, &sealed),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn old_rows_stay_readable_and_findable_after_rotation() {
        let before = DataProtector::new(&[key("k1", 1)]);
        let sealed = before.encrypt(Purpose::Phone, "13812345678");
        let after = DataProtector::new(&[key("k2", 2), key("k1", 1)]);
        assert_eq!(after.decrypt(Purpose::Phone, &sealed).unwrap(), "13812345678");
        assert!(after.encrypt(Purpose::Phone, "x").starts_with("v1.k2."));
        assert_eq!(
            before.lookup_hash(Purpose::Phone, "13812345678"),
            after.lookup_hash(Purpose::Phone, "13812345678")
        );
        assert_ne!(
            after.lookup_hash(Purpose::Phone, "13812345678"),
            after.lookup_hash(Purpose::IdNumber, "13812345678")
        );
    }

    #[test]
    fn tampered_or_unknown_values_are_refused() {
        let protector = DataProtector::new(&[key("k1", 1)]);
        let sealed = protector.encrypt(Purpose::Phone, "13812345678");
        // A character well inside the payload carries six whole bits; the
        // last one may carry only padding bits a decoder ignores.
        let at = sealed.len() - 10;
        let replacement = if &sealed[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{replacement}{}", &sealed[..at], &sealed[at + 1..]);
        assert_ne!(tampered, sealed);
        assert!(protector.decrypt(Purpose::Phone, &tampered).is_err());
        assert!(matches!(
            protector.decrypt(Purpose::Phone, "v1.k9.AAAA"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(matches!(
            protector.decrypt(Purpose::Phone, "plain"),
            Err(CryptoError::Format)
        ));
    }
}
