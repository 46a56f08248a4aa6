//! Sessions in the key-value store, and the tokens that stand for them.
//!
//! A session lives at `sess:{slot}:{sid}` with its absolute expiry, its
//! creation time and the principal. Access tokens (JWT, 15 min) name the
//! session; every request checks it in the same store round trip as the rate
//! limit, so a revoked session's token stops working at once. Refresh tokens
//! (`{sid}.{random}`) are stored only as a SHA-256 hash and rotate on every use.
//!
//! Every key of one principal carries the same hash tag, the principal's
//! slot (see [`slot`]), so the scripts that read several of them at once run
//! on one node of a Redis Cluster. A session id begins with its principal's
//! slot, which is how a refresh token, which names only the session, finds it.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{
    Audience, Principal,
    tokens::{ACCESS_TOKEN_LIFETIME, TokenIssuer},
};
use crate::{
    config::RateLimits,
    infra::store::{
        CURRENT, KeyValueStore, RateDecision, Rotation, RotationOutcome, SessionCheck, StoreError, StoredSession,
        wall_clock_ms,
    },
};

/// A worker or staff session ends 30 days after sign-in whatever happens.
pub const ABSOLUTE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// A refresh token unused for 7 days is dead.
pub const REFRESH_IDLE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Staff sessions end after 30 minutes without a request.
pub const STAFF_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The tokens handed to a client at sign-in or refresh.
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    /// None for integrators, who sign in again with their credentials.
    pub refresh_token: Option<String>,
    pub expires_in: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Unknown, malformed, idle too long, or its session ended.
    Invalid,
    /// A rotated token came back; the session family is revoked.
    Reused,
}

pub struct Sessions {
    store: Arc<dyn KeyValueStore>,
    tokens: TokenIssuer,
    limits: RateLimits,
}

/// Hex digits of the principal's hash tag at the start of a session id.
const SLOT_LENGTH: usize = 8;

/// The hash tag of every key of one principal: a digest of who they are,
/// so principals spread over the cluster's slots while each one's session,
/// refresh tokens, revocation mark and rate counter share a slot.
fn slot(audience: Audience, subject: &str) -> String {
    let digest = Sha256::digest(format!("{}:{subject}", audience.as_str()).as_bytes());
    hex::encode(digest)[..SLOT_LENGTH].to_owned()
}

/// A new session id: the principal's slot, then 96 random bits (32 hex digits in all).
fn new_session_id(audience: Audience, subject: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}{}", slot(audience, subject), &random[SLOT_LENGTH..])
}

/// The slot a session id carries.
fn slot_of(session_id: &str) -> &str {
    session_id.get(..SLOT_LENGTH).unwrap_or(session_id)
}

fn session_key(session_id: &str) -> String {
    format!("sess:{{{}}}:{session_id}", slot_of(session_id))
}

fn refresh_key(session_id: &str, token: &str) -> String {
    format!(
        "rt:{{{}}}:{}",
        slot_of(session_id),
        hex::encode(Sha256::digest(token.as_bytes()))
    )
}

fn revocation_key(audience: Audience, subject: &str) -> String {
    format!(
        "revoked:{{{}}}:{}:{subject}",
        slot(audience, subject),
        audience.as_str()
    )
}

fn rate_key(audience: Audience, subject: &str) -> String {
    format!("rl:{{{}}}:{}:{subject}", slot(audience, subject), audience.as_str())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    pub fn new(store: Arc<dyn KeyValueStore>, tokens: TokenIssuer, limits: RateLimits) -> Self {
        Self { store, tokens, limits }
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// The session's lifetime in the store, and whether requests slide it.
    fn lifetimes(audience: Audience) -> (Duration, Option<Duration>) {
        match audience {
            Audience::Worker => (ABSOLUTE_LIFETIME, None),
            Audience::Staff => (ABSOLUTE_LIFETIME, Some(STAFF_IDLE_TIMEOUT)),
            Audience::Integrator => (ACCESS_TOKEN_LIFETIME, None),
        }
    }

    pub fn quota(&self, audience: Audience) -> crate::infra::store::Quota {
        match audience {
            Audience::Worker => self.limits.worker,
            Audience::Staff => self.limits.staff,
            Audience::Integrator => self.limits.integrator,
        }
    }

    /// Starts a session for `principal` (its `session_id` is assigned here).
    pub async fn open(&self, mut principal: Principal) -> Result<(Principal, Issued), StoreError> {
        principal.session_id = new_session_id(principal.audience, &principal.subject);
        let (lifetime, idle) = Self::lifetimes(principal.audience);
        let now = wall_clock_ms();
        let stored = StoredSession {
            absolute_expiry_ms: now + lifetime.as_millis() as u64,
            created_ms: now,
            payload: serde_json::to_string(&principal).expect("a principal serializes"),
        };
        self.store
            .set(
                &session_key(&principal.session_id),
                &stored.encode(),
                idle.unwrap_or(lifetime),
            )
            .await?;
        let refresh_token = match principal.audience {
            Audience::Integrator => None,
            Audience::Worker | Audience::Staff => {
                let token = format!("{}.{}", principal.session_id, random_token());
                self.store
                    .set(
                        &refresh_key(&principal.session_id, &token),
                        CURRENT,
                        REFRESH_IDLE_LIFETIME,
                    )
                    .await?;
                Some(token)
            }
        };
        let issued = Issued {
            access_token: self.tokens.issue(&principal),
            refresh_token,
            expires_in: ACCESS_TOKEN_LIFETIME.as_secs(),
        };
        Ok((principal, issued))
    }

    /// Rotates a refresh token: the principal of its session and the
    /// replacement refresh token. The caller mints the access token, after
    /// refreshing what it must (a staff member's roles may have changed).
    pub async fn refresh(&self, presented: &str) -> Result<Result<(Principal, String), RefreshRefusal>, StoreError> {
        let Some((session_id, _)) = presented.split_once('.').filter(|(sid, secret)| {
            sid.len() == 32 && sid.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty() && secret.len() <= 64
        }) else {
            return Ok(Err(RefreshRefusal::Invalid));
        };
        let replacement = format!("{session_id}.{}", random_token());
        let (presented_key, replacement_key) = (
            refresh_key(session_id, presented),
            refresh_key(session_id, &replacement),
        );
        let session = session_key(session_id);
        // Whether the session slides depends on its audience, which only the
        // session names: read it first, so the rotation itself slides it and
        // nothing writes the session afterwards (that write would undo a
        // logout or a reuse-revocation landing in between).
        let slide_to = self
            .store
            .get(&session)
            .await?
            .and_then(|value| StoredSession::decode(&value))
            .and_then(|stored| serde_json::from_str::<Principal>(&stored.payload).ok())
            .and_then(|principal| Self::lifetimes(principal.audience).1);
        let outcome = self
            .store
            .rotate_refresh(Rotation {
                presented_key: &presented_key,
                replacement_key: &replacement_key,
                session_key: &session,
                slide_to,
                idle: REFRESH_IDLE_LIFETIME,
                remember_rotated: ABSOLUTE_LIFETIME,
            })
            .await?;
        let stored = match outcome {
            RotationOutcome::Rotated { session } => session,
            RotationOutcome::Reused => return Ok(Err(RefreshRefusal::Reused)),
            RotationOutcome::Unknown | RotationOutcome::Ended => return Ok(Err(RefreshRefusal::Invalid)),
        };
        let Ok(principal) = serde_json::from_str::<Principal>(&stored.payload) else {
            return Ok(Err(RefreshRefusal::Invalid));
        };
        // Revocation is keyed by the principal, which only the session names,
        // so it is checked once the session has been read.
        let revoked_before = self
            .store
            .get(&revocation_key(principal.audience, &principal.subject))
            .await?
            .and_then(|mark| mark.parse().ok());
        if !stored.valid_at(wall_clock_ms(), revoked_before) {
            self.close(&principal.session_id).await?;
            return Ok(Err(RefreshRefusal::Invalid));
        }
        Ok(Ok((principal, replacement)))
    }

    /// A fresh access token for a principal whose session is alive.
    pub fn access_token(&self, principal: &Principal) -> String {
        self.tokens.issue(principal)
    }

    /// Checks the session of `principal` and counts the request against its quota.
    /// `Ok(None)`: the session ended or was revoked.
    pub async fn authorize(&self, principal: &Principal) -> Result<Option<RateDecision>, StoreError> {
        let (_, idle) = Self::lifetimes(principal.audience);
        let session = session_key(&principal.session_id);
        let revocation = revocation_key(principal.audience, &principal.subject);
        let rate = rate_key(principal.audience, &principal.subject);
        let verdict = self
            .store
            .authorize(SessionCheck {
                session_key: &session,
                slide_to: idle,
                revocation_key: &revocation,
                rate_key: &rate,
                quota: self.quota(principal.audience),
            })
            .await?;
        Ok(verdict.payload.map(|_| verdict.rate))
    }

    pub async fn close(&self, session_id: &str) -> Result<(), StoreError> {
        self.store.delete(&session_key(session_id)).await.map(|_| ())
    }

    /// Ends every session of a principal at once (disabled staff, revoked client).
    pub async fn revoke_all(&self, audience: Audience, subject: &str) -> Result<(), StoreError> {
        self.store
            .set(
                &revocation_key(audience, subject),
                &wall_clock_ms().to_string(),
                ABSOLUTE_LIFETIME,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::infra::{
        memory_store::MemoryStore,
        store::{Quota, SessionVerdict},
    };

    /// The in-process store, where a logout lands right after every refresh
    /// token rotation: the gap a concurrent logout or reuse-revocation finds.
    #[derive(Default)]
    struct LogoutAfterRotation(MemoryStore);

    #[async_trait]
    impl KeyValueStore for LogoutAfterRotation {
        fn kind(&self) -> &'static str {
            "test"
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.0.ping().await
        }
        async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
            self.0.get(key).await
        }
        async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
            self.0.set(key, value, ttl).await
        }
        async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
            self.0.set_if_absent(key, value, ttl).await
        }
        async fn delete(&self, key: &str) -> Result<bool, StoreError> {
            self.0.delete(key).await
        }
        async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
            self.0.increment(key, ttl).await
        }
        async fn count_in_window(&self, key: &str, window: Duration) -> Result<(i64, Duration), StoreError> {
            self.0.count_in_window(key, window).await
        }
        async fn decrement(&self, key: &str) -> Result<i64, StoreError> {
            self.0.decrement(key).await
        }
        async fn compare_and_set(
            &self,
            key: &str,
            expected: Option<&str>,
            new: &str,
            ttl: Duration,
        ) -> Result<bool, StoreError> {
            self.0.compare_and_set(key, expected, new, ttl).await
        }
        async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool, StoreError> {
            self.0.delete_if_equals(key, expected).await
        }
        async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, StoreError> {
            self.0.rate_limit(key, quota).await
        }
        async fn authorize(&self, check: SessionCheck<'_>) -> Result<SessionVerdict, StoreError> {
            self.0.authorize(check).await
        }
        async fn rotate_refresh(&self, rotation: Rotation<'_>) -> Result<RotationOutcome, StoreError> {
            let outcome = self.0.rotate_refresh(rotation).await?;
            self.0.delete(rotation.session_key).await?;
            Ok(outcome)
        }
    }

    #[tokio::test]
    async fn a_logout_during_a_staff_refresh_stays_in_force() {
        let store: Arc<dyn KeyValueStore> = Arc::new(LogoutAfterRotation::default());
        let limits = RateLimits {
            public_read: Quota::per_minute(10),
            public_write: Quota::per_minute(10),
            worker: Quota::per_minute(10),
            staff: Quota::per_minute(10),
            integrator: Quota::per_minute(10),
        };
        let secret = "a test secret of at least thirty-two bytes".to_owned().into();
        let sessions = Sessions::new(store.clone(), TokenIssuer::new(&secret), limits);
        let staff = Principal {
            audience: Audience::Staff,
            subject: "staff-1".to_owned(),
            session_id: String::new(),
            roles: Vec::new(),
            region: None,
            scopes: Vec::new(),
            acting: None,
        };
        let (principal, issued) = sessions.open(staff).await.unwrap();
        let refresh_token = issued.refresh_token.unwrap();

        let refreshed = sessions.refresh(&refresh_token).await.unwrap();
        assert!(refreshed.is_ok(), "the rotation itself went through");
        assert_eq!(store.get(&session_key(&principal.session_id)).await.unwrap(), None);
        assert_eq!(sessions.authorize(&principal).await.unwrap(), None);
    }
}
