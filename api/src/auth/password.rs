//! Staff passwords: argon2id with the crate's recommended parameters, the
//! bounded pool every hash and verification runs in, and the rules a new
//! password must meet.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, Salt, SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult, Localized};

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// argon2's working memory: 19 MiB with the default parameters.
pub type WorkingMemory = Vec<Block>;

pub fn hash(password: &str) -> String {
    hash_in(password, &mut WorkingMemory::new())
}

pub fn verify(password: &str, stored: &str) -> bool {
    verify_in(password, stored, &mut WorkingMemory::new())
}

/// Hashes with argon2id and the crate's recommended parameters, in `memory`.
pub fn hash_in(password: &str, memory: &mut WorkingMemory) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::default();
    let output = compute(&argon2, password, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN, memory)
        .expect("argon2 hashing with default parameters cannot fail");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).expect("the default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

/// Whether `password` matches a stored PHC string, computed in `memory`.
pub fn verify_in(password: &str, stored: &str, memory: &mut WorkingMemory) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.version.map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    // `Output`'s equality is constant-time.
    compute(&argon2, password, salt, expected.len(), memory).is_some_and(|computed| computed == expected)
}

/// argon2 into `memory`, grown once to what the parameters need and then
/// reused, instead of 19 MiB allocated and freed every time.
fn compute(
    argon2: &Argon2,
    password: &str,
    salt: Salt,
    output_len: usize,
    memory: &mut WorkingMemory,
) -> Option<Output> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes).ok()?;
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Output::init_with(output_len, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..])
            .map_err(Into::into)
    })
    .ok()
}

/// A hash of a random password, verified against when the username is
/// unknown, so a failed login takes as long whether or not the account exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()))
}

/// Where argon2 runs: off the async workers, at most `concurrency` at a time,
/// each in a working memory the pool keeps and reuses. A flood of sign-ins
/// waits here; memory stays at `concurrency` × 19 MiB however many arrive.
pub struct PasswordPool {
    permits: Arc<Semaphore>,
    /// Working memories not in use; there are never more than `concurrency`.
    idle: Arc<Mutex<Vec<WorkingMemory>>>,
}

impl PasswordPool {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move |memory| hash_in(&password, memory)).await
    }

    pub async fn verify(&self, password: String, stored: String) -> AppResult<bool> {
        self.run(move |memory| verify_in(&password, &stored, memory)).await
    }

    /// Verifies against [`decoy_hash`], costing what a real verification costs.
    pub async fn verify_decoy(&self, password: String) -> AppResult<bool> {
        self.run(move |memory| verify_in(&password, decoy_hash(), memory)).await
    }

    /// The permit moves into the blocking task, so a request abandoned by
    /// its client still counts until its argon2 has finished.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut WorkingMemory) -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self.permits.clone().acquire_owned().await.map_err(AppError::internal)?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()
                .unwrap_or_default();
            let answer = work(&mut memory);
            idle.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
            drop(permit);
            answer
        })
        .await
        .map_err(AppError::internal)
    }
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
    fn hashes_agree_with_the_crates_own_hasher() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"stored before the pool", &salt)
            .unwrap()
            .to_string();
        let mut memory = WorkingMemory::new();
        assert!(verify_in("stored before the pool", &theirs, &mut memory));
        assert!(!verify_in("stored before the poo1", &theirs, &mut memory));
        let ours = hash_in("hashed in the pool", &mut memory);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"hashed in the pool", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_pool_runs_no_more_than_its_size_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = Arc::new(PasswordPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move |memory| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        let verified = verify_in("a guess", decoy_hash(), memory);
                        running.fetch_sub(1, Ordering::SeqCst);
                        verified
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        for task in tasks {
            assert!(!task.await.unwrap());
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn weak_passwords_are_named() {
        assert!(weakness("short", "alice").is_some());
        assert!(weakness("alice.admin", "Alice.Admin").is_some());
        assert!(weakness("a long enough passphrase", "alice").is_none());
    }
}
