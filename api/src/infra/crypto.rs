//! Personal data at rest: AES-256-GCM with the key id stored beside each
//! ciphertext (so keys can rotate), and a keyed hash (HMAC-SHA256) for exact
//! lookups of values that are stored only encrypted.
//!
//! A ciphertext is bound to the table, column and row it is stored in (its
//! associated data), so a value copied into another row or column does not
//! decrypt there. Values written before that binding (`v1`, bound to the kind
//! of value only) stay readable; `shiminhua rekey` rewrites them. Lookup
//! hashes have keys of their own, listed apart from the data keys, so either
//! can be rotated without the other.

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

/// Bound to the kind of value only; read, never written.
const LEGACY_VERSION: &str = "v1";
/// Bound to the table, column and row.
const FORMAT_VERSION: &str = "v2";
/// How an encrypted file begins, followed by `<key id>.`, the nonce and the
/// ciphertext. No JPEG, PNG or PDF begins so, which tells the files stored in
/// clear before files were encrypted.
const FILE_MARKER: &[u8] = b"shiminhua-sealed-v2.";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the stored value is not in a known format")]
    Format,
    #[error("no configured key has the id {0}")]
    UnknownKey(String),
    #[error("the stored value does not decrypt with its key")]
    Decrypt,
}

/// A kind of value with a lookup hash; also what `v1` ciphertexts were bound to.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    IdNumber,
    Phone,
    WebhookSecret,
    ClaimCode,
    /// A worker's invitation to a relative (亲情代办).
    RelativeInvitation,
    /// A username typed at sign-in, counted whether or not the account exists.
    SignInName,
    /// A code sent to a worker's account to consent to a window filing.
    ConsentCode,
    /// The MAC of a page cursor (keyset paging), so that a client can
    /// neither forge nor edit one.
    PageCursor,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::IdNumber => b"id_number",
            Purpose::Phone => b"phone",
            Purpose::WebhookSecret => b"webhook_secret",
            Purpose::ClaimCode => b"claim_code",
            Purpose::RelativeInvitation => b"relative_invitation",
            Purpose::SignInName => b"sign_in_name",
            Purpose::ConsentCode => b"consent_code",
            Purpose::PageCursor => b"page_cursor",
        }
    }
}

/// Where a ciphertext is stored. With the row's id it is the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    WorkerIdNumber,
    WorkerPhone,
    WageReportContactPhone,
    /// The phone an agency recorded on a case it opened.
    TransferAgencyPhone,
    /// Bound to the client's `client_id`, the id it signs in with.
    IntegratorWebhookSecret,
    /// The file of an upload, kept in the file store.
    UploadFile,
    /// The account subsidies are paid to, on the worker.
    WorkerPayeeAccount,
    /// The ID number a service window recorded for a case it filed.
    WindowIdNumber,
    /// The phone a service window recorded for a case it filed.
    WindowPhone,
}

impl Field {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Field::WorkerIdNumber => ("worker", "id_number_cipher"),
            Field::WorkerPhone => ("worker", "phone_cipher"),
            Field::WageReportContactPhone => ("wage_report", "contact_phone_cipher"),
            Field::TransferAgencyPhone => ("si_transfer", "phone_cipher"),
            Field::IntegratorWebhookSecret => ("integrator_client", "webhook_secret"),
            Field::UploadFile => ("upload", "file"),
            Field::WorkerPayeeAccount => ("worker", "payee_account_cipher"),
            Field::WindowIdNumber => ("window_filing", "id_number_cipher"),
            Field::WindowPhone => ("window_filing", "phone_cipher"),
        }
    }

    /// What a `v1` ciphertext of this field was bound to; files had no `v1`.
    fn legacy_purpose(self) -> Option<Purpose> {
        match self {
            Field::WorkerIdNumber => Some(Purpose::IdNumber),
            Field::WorkerPhone | Field::WageReportContactPhone => Some(Purpose::Phone),
            Field::IntegratorWebhookSecret => Some(Purpose::WebhookSecret),
            Field::TransferAgencyPhone
            | Field::UploadFile
            | Field::WorkerPayeeAccount
            | Field::WindowIdNumber
            | Field::WindowPhone => None,
        }
    }

    fn associated_data(self, row: &str) -> Vec<u8> {
        let (table, column) = self.table_and_column();
        [
            FORMAT_VERSION.as_bytes(),
            table.as_bytes(),
            column.as_bytes(),
            row.as_bytes(),
        ]
        .join(&0u8)
    }
}

fn cipher_of(key: &DataKey) -> Aes256Gcm {
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.key.expose_secret()))
}

fn hash_key(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length")
}

pub struct DataProtector {
    active_id: String,
    ciphers: HashMap<String, Aes256Gcm>,
    /// The active lookup key first.
    lookup_keys: Vec<[u8; 32]>,
    /// What hashed lookups before lookup keys were configured: a key derived
    /// from the oldest data key. Tried last, until `rekey` leaves no such hash.
    legacy_lookup_key: [u8; 32],
}

impl DataProtector {
    /// `data_keys[0]` encrypts and `lookup_keys[0]` hashes; every key of
    /// either list still reads what it wrote.
    pub fn new(data_keys: &[DataKey], lookup_keys: &[DataKey]) -> Self {
        let first = data_keys.first().expect("the configuration always has a data key");
        let oldest = data_keys.last().expect("the configuration always has a data key");
        assert!(!lookup_keys.is_empty(), "the configuration always has a lookup key");
        let mut legacy = hash_key(oldest.key.expose_secret());
        legacy.update(b"shiminhua lookup hash v1");
        Self {
            active_id: first.id.clone(),
            ciphers: data_keys.iter().map(|k| (k.id.clone(), cipher_of(k))).collect(),
            lookup_keys: lookup_keys.iter().map(|k| *k.key.expose_secret()).collect(),
            legacy_lookup_key: legacy.finalize().into_bytes().into(),
        }
    }

    /// `nonce ‖ ciphertext` under the active key.
    fn seal(&self, field: Field, row: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.ciphers[&self.active_id]
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &field.associated_data(row),
                },
            )
            .expect("AES-GCM encryption within its length limit cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        bytes
    }

    fn open(&self, key_id: &str, aad: &[u8], bytes: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self
            .ciphers
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(CryptoError::Format);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Format)?;
        cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad })
            .map_err(|_| CryptoError::Decrypt)
    }

    /// `v2.<key id>.<base64(nonce ‖ ciphertext)>`, for `field` of the row `row`.
    pub fn encrypt(&self, field: Field, row: &str, plaintext: &str) -> String {
        let bytes = self.seal(field, row, plaintext.as_bytes());
        format!("{FORMAT_VERSION}.{}.{}", self.active_id, BASE64.encode(bytes))
    }

    /// A value stored in `field` of the row `row`, in either format.
    pub fn decrypt(&self, field: Field, row: &str, stored: &str) -> Result<String, CryptoError> {
        let mut parts = stored.splitn(3, '.');
        let (Some(version), Some(key_id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Format);
        };
        let aad = match (version, field.legacy_purpose()) {
            (FORMAT_VERSION, _) => field.associated_data(row),
            (LEGACY_VERSION, Some(purpose)) => purpose.label().to_vec(),
            _ => return Err(CryptoError::Format),
        };
        let bytes = BASE64.decode(encoded).map_err(|_| CryptoError::Format)?;
        let plain = self.open(key_id, &aad, &bytes)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }

    /// True when `stored` is in the current format under the active key:
    /// nothing for `rekey` to do.
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(FORMAT_VERSION)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_prefix(self.active_id.as_str()))
            .is_some_and(|rest| rest.starts_with('.'))
    }

    /// The bytes to keep on disk for the file of the upload `upload_id`.
    pub fn seal_file(&self, upload_id: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut bytes = FILE_MARKER.to_vec();
        bytes.extend_from_slice(self.active_id.as_bytes());
        bytes.push(b'.');
        bytes.extend_from_slice(&self.seal(Field::UploadFile, upload_id, plaintext));
        bytes
    }

    /// The file of the upload `upload_id` from what is on disk; a file stored
    /// in clear before files were encrypted is returned as it is.
    pub fn open_file(&self, upload_id: &str, stored: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        let Some(rest) = stored.strip_prefix(FILE_MARKER) else {
            return Ok(stored);
        };
        let dot = rest.iter().position(|b| *b == b'.').ok_or(CryptoError::Format)?;
        let key_id = std::str::from_utf8(&rest[..dot]).map_err(|_| CryptoError::Format)?;
        self.open(key_id, &Field::UploadFile.associated_data(upload_id), &rest[dot + 1..])
    }

    /// True when a stored file is encrypted under the active key.
    pub fn file_is_current(&self, stored: &[u8]) -> bool {
        stored
            .strip_prefix(FILE_MARKER)
            .and_then(|rest| rest.strip_prefix(self.active_id.as_bytes()))
            .is_some_and(|rest| rest.starts_with(b"."))
    }

    fn hash_with(key: &[u8], purpose: Purpose, value: &str) -> String {
        let mut mac = hash_key(key);
        mac.update(purpose.label());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The deterministic keyed hash to store for exact-match lookups (hex),
    /// under the active lookup key.
    pub fn lookup_hash(&self, purpose: Purpose, value: &str) -> String {
        Self::hash_with(&self.lookup_keys[0], purpose, value)
    }

    /// Every hash a stored row may hold for `value`: under each lookup key,
    /// the active one first, then the one used before lookup keys existed.
    /// Look rows up with all of them, so none is missed during a rotation.
    pub fn lookup_hashes(&self, purpose: Purpose, value: &str) -> Vec<String> {
        self.lookup_keys
            .iter()
            .chain(std::iter::once(&self.legacy_lookup_key))
            .map(|key| Self::hash_with(key, purpose, value))
            .collect()
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

    fn protector(data: &[DataKey]) -> DataProtector {
        DataProtector::new(data, &[key("h1", 9)])
    }

    /// A value as the service wrote it before ciphertexts were bound to rows.
    fn legacy_v1(key: &DataKey, purpose: Purpose, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher_of(key)
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.label(),
                },
            )
            .unwrap();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("v1.{}.{}", key.id, BASE64.encode(bytes))
    }

    #[test]
    fn round_trip_never_shows_the_plaintext() {
        let protector = protector(&[key("k1", 1)]);
        let sealed = protector.encrypt(Field::WorkerIdNumber, "w-1", "11010519491231002X");
        assert!(sealed.starts_with("v2.k1."));
        assert!(!sealed.contains("19491231"));
        assert_ne!(
            sealed,
            protector.encrypt(Field::WorkerIdNumber, "w-1", "11010519491231002X"),
            "nonces differ"
        );
        assert_eq!(
            protector.decrypt(Field::WorkerIdNumber, "w-1", &sealed).unwrap(),
            "11010519491231002X"
        );
        assert!(protector.is_current(&sealed));
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_column_does_not_decrypt() {
        let protector = protector(&[key("k1", 1)]);
        let sealed = protector.encrypt(Field::WorkerPhone, "w-1", "13812345678");
        assert!(matches!(
            protector.decrypt(Field::WorkerPhone, "w-2", &sealed),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            protector.decrypt(Field::WageReportContactPhone, "w-1", &sealed),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            protector.decrypt(Field::WorkerIdNumber, "w-1", &sealed),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn the_old_format_still_decrypts_and_is_due_for_rekey() {
        let k1 = key("k1", 1);
        let old = legacy_v1(&k1, Purpose::Phone, "13812345678");
        let protector = protector(&[key("k2", 2), k1]);
        // Any row: v1 was bound to the kind of value only.
        assert_eq!(
            protector.decrypt(Field::WorkerPhone, "w-1", &old).unwrap(),
            "13812345678"
        );
        assert_eq!(
            protector.decrypt(Field::WageReportContactPhone, "r-1", &old).unwrap(),
            "13812345678"
        );
        assert!(protector.decrypt(Field::WorkerIdNumber, "w-1", &old).is_err());
        assert!(!protector.is_current(&old));
        let v2_under_k1 = DataProtector::new(&[key("k1", 1)], &[key("h1", 9)]).encrypt(Field::WorkerPhone, "w-1", "x");
        assert!(!protector.is_current(&v2_under_k1));
        assert_eq!(protector.decrypt(Field::WorkerPhone, "w-1", &v2_under_k1).unwrap(), "x");
    }

    #[test]
    fn files_are_sealed_to_their_upload_and_clear_files_stay_readable() {
        let protector = protector(&[key("k1", 1)]);
        let jpeg = b"\xFF\xD8\xFF\xE0 a photo of an ID card".to_vec();
        let sealed = protector.seal_file("u-1", &jpeg);
        assert!(!sealed.windows(jpeg.len()).any(|w| w == jpeg.as_slice()));
        assert!(protector.file_is_current(&sealed));
        assert_eq!(protector.open_file("u-1", sealed.clone()).unwrap(), jpeg);
        assert!(matches!(protector.open_file("u-2", sealed), Err(CryptoError::Decrypt)));
        assert!(!protector.file_is_current(&jpeg));
        assert_eq!(protector.open_file("u-1", jpeg.clone()).unwrap(), jpeg);
    }

    #[test]
    fn lookup_hashes_have_their_own_rotating_keys() {
        let data = [key("k1", 1)];
        let before = DataProtector::new(&data, &[key("h1", 9)]);
        let after = DataProtector::new(&data, &[key("h2", 8), key("h1", 9)]);
        let old = before.lookup_hash(Purpose::Phone, "13812345678");
        let new = after.lookup_hash(Purpose::Phone, "13812345678");
        assert_ne!(old, new, "the active lookup key hashes");
        let candidates = after.lookup_hashes(Purpose::Phone, "13812345678");
        assert_eq!(candidates[0], new);
        assert!(
            candidates.contains(&old),
            "rows hashed before the rotation are still found"
        );
        assert_ne!(new, after.lookup_hash(Purpose::IdNumber, "13812345678"));
        // Hashes do not depend on the data keys.
        let other_data = DataProtector::new(&[key("k7", 7)], &[key("h2", 8)]);
        assert_eq!(other_data.lookup_hash(Purpose::Phone, "13812345678"), new);
    }

    #[test]
    fn hashes_from_before_lookup_keys_are_still_found() {
        let data = [key("k2", 2), key("k1", 1)];
        let protector = DataProtector::new(&data, &[key("h1", 9)]);
        let mut mac = hash_key(&[1; 32]);
        mac.update(b"shiminhua lookup hash v1");
        let legacy_key: [u8; 32] = mac.finalize().into_bytes().into();
        let legacy = DataProtector::hash_with(&legacy_key, Purpose::IdNumber, "11010519491231002X");
        assert!(
            protector
                .lookup_hashes(Purpose::IdNumber, "11010519491231002X")
                .contains(&legacy)
        );
    }

    #[test]
    fn tampered_or_unknown_values_are_refused() {
        let protector = protector(&[key("k1", 1)]);
        let sealed = protector.encrypt(Field::WorkerPhone, "w-1", "13812345678");
        // A character well inside the payload carries six whole bits; the
        // last one may carry only padding bits a decoder ignores.
        let at = sealed.len() - 10;
        let replacement = if &sealed[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{replacement}{}", &sealed[..at], &sealed[at + 1..]);
        assert_ne!(tampered, sealed);
        assert!(protector.decrypt(Field::WorkerPhone, "w-1", &tampered).is_err());
        assert!(matches!(
            protector.decrypt(Field::WorkerPhone, "w-1", "v2.k9.AAAA"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(matches!(
            protector.decrypt(Field::WorkerPhone, "w-1", "plain"),
            Err(CryptoError::Format)
        ));
        assert!(matches!(
            protector.decrypt(Field::UploadFile, "u-1", "v1.k1.AAAAAAAAAAAAAAAAAAAAAAAA"),
            Err(CryptoError::Format)
        ));
    }
}
