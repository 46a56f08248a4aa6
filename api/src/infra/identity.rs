//! Identity checks (人脸核身 / 实名核验): whether the person holding the
//! phone is the one an ID number and name belong to. The mini-program runs
//! the check on the device (e.g. `wx.startFacialRecognitionVerify`) and
//! hands the server the provider's result token; a verifier asks the
//! provider whether that token confirms the name and number.
//!
//! Only the sandbox exists in this build, for development and tests, and
//! production refuses it (`SHIMINHUA_IDENTITY_VERIFIER`); a provider's
//! adapter implements the same trait.

use async_trait::async_trait;

use crate::domain::IdNumber;

/// Who the worker claims to be, and the provider's token for the check.
pub struct IdentityClaim<'a> {
    pub real_name: &'a str,
    pub id_number: &'a IdNumber,
    pub result_token: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The check confirmed this name and number for this person.
    Confirmed,
    /// It did not (another person, another number, a failed or stale check).
    Refused,
}

#[derive(Debug, thiserror::Error)]
#[error("the identity-check provider did not answer: {0}")]
pub struct VerifierUnavailable(pub String);

#[async_trait]
pub trait IdentityVerifier: Send + Sync {
    async fn verify(&self, claim: &IdentityClaim<'_>) -> Result<Verdict, VerifierUnavailable>;
}

/// Development only: the token `sandbox-pass` confirms, anything else refuses.
pub struct SandboxVerifier;

pub const SANDBOX_PASS: &str = "sandbox-pass";

#[async_trait]
impl IdentityVerifier for SandboxVerifier {
    async fn verify(&self, claim: &IdentityClaim<'_>) -> Result<Verdict, VerifierUnavailable> {
        Ok(if claim.result_token == SANDBOX_PASS {
            Verdict::Confirmed
        } else {
            Verdict::Refused
        })
    }
}
