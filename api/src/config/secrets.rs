//! Secrets: the JWT signing secret, the data keys and the lookup-hash keys.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};

use super::{DATA_KEY_BYTES, DataKey, MIN_JWT_SECRET_BYTES};

pub(super) struct Secrets {
    pub jwt_secret: String,
    pub data_keys: Vec<DataKey>,
    pub lookup_keys: Vec<DataKey>,
}

pub(super) fn secrets(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Secrets {
    let jwt_secret = jwt_secret(var, production, problems, warnings);
    let data_keys = keys(
        var,
        "SHIMINHUA_DATA_KEY",
        production,
        problems,
        warnings,
        MissingKey {
            problem: format!("SHIMINHUA_DATA_KEY is missing: {DATA_KEY_BYTES} random bytes, base64-encoded"),
            warning: "SHIMINHUA_DATA_KEY is not set: using a generated key; personal data saved now cannot be read after a restart",
        },
    );
    let lookup_keys = keys(
        var,
        "SHIMINHUA_LOOKUP_KEY",
        production,
        problems,
        warnings,
        MissingKey {
            problem: format!(
                "SHIMINHUA_LOOKUP_KEY is missing: {DATA_KEY_BYTES} random bytes, base64-encoded, not one of the data keys"
            ),
            warning: "SHIMINHUA_LOOKUP_KEY is not set: using a generated key; ID and phone numbers saved now cannot be found after a restart",
        },
    );
    if lookup_keys.iter().any(|lookup| {
        data_keys
            .iter()
            .any(|data| data.key.expose_secret() == lookup.key.expose_secret())
    }) {
        problems.push("SHIMINHUA_LOOKUP_KEY reuses a data key: give lookup hashes a key of their own".to_owned());
    }
    Secrets {
        jwt_secret,
        data_keys,
        lookup_keys,
    }
}

fn jwt_secret(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> String {
    match var("SHIMINHUA_JWT_SECRET") {
        Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => secret,
        Some(_) => {
            problems.push(format!(
                "SHIMINHUA_JWT_SECRET is too short: at least {MIN_JWT_SECRET_BYTES} bytes"
            ));
            String::new()
        }
        None if production => {
            problems.push("SHIMINHUA_JWT_SECRET is missing".to_owned());
            String::new()
        }
        None => {
            warnings.push(
                "SHIMINHUA_JWT_SECRET is not set: using a generated one; every token ends when the process stops"
                    .to_owned(),
            );
            BASE64.encode(random_bytes::<48>())
        }
    }
}

/// What to say when a key variable is unset: a problem in production, a warning otherwise.
struct MissingKey {
    problem: String,
    warning: &'static str,
}

fn keys(
    var: &dyn Fn(&str) -> Option<String>,
    name: &str,
    production: bool,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
    missing: MissingKey,
) -> Vec<DataKey> {
    match var(name) {
        Some(text) => parse_keys(name, &text).unwrap_or_else(|problem| {
            problems.push(problem);
            Vec::new()
        }),
        None if production => {
            problems.push(missing.problem);
            Vec::new()
        }
        None => {
            warnings.push(missing.warning.to_owned());
            vec![DataKey {
                id: "dev".to_owned(),
                key: SecretBox::new(Box::new(random_bytes::<DATA_KEY_BYTES>())),
            }]
        }
    }
}

/// `SHIMINHUA_DATA_KEY` and `SHIMINHUA_LOOKUP_KEY` are each either one base64
/// key (id `k1`) or a comma-separated list of `id:base64` entries, the active
/// key first.
fn parse_keys(name: &str, text: &str) -> Result<Vec<DataKey>, String> {
    let mut keys = Vec::new();
    for (index, entry) in text.split(',').map(str::trim).enumerate() {
        let (id, encoded) = match entry.split_once(':') {
            Some((id, encoded)) => (id.to_owned(), encoded),
            None if index == 0 => ("k1".to_owned(), entry),
            None => return Err(format!("{name}: every key after the first needs an id (id:base64)")),
        };
        if id.is_empty() || id.len() > 16 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("{name}: a key id is 1 to 16 letters or digits"));
        }
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| format!("{name}: key {id} is not base64"))?;
        let key: [u8; DATA_KEY_BYTES] = bytes.try_into().map_err(|_| {
            format!("{name}: key {id} must be exactly {DATA_KEY_BYTES} bytes (it is too short or too long)")
        })?;
        if keys.iter().any(|k: &DataKey| k.id == id) {
            return Err(format!("{name}: key id {id} appears twice"));
        }
        keys.push(DataKey {
            id,
            key: SecretBox::new(Box::new(key)),
        });
    }
    Ok(keys)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}
