//! Access tokens: HS256 JWTs, 15 minutes, one audience each. Only HS256 is
//! accepted, so `alg: none` and algorithm-confusion tokens are refused.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{Audience, Principal, Role, Scope};
use crate::domain::RegionCode;

pub const ISSUER: &str = "shiminhua";
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
const TOKEN_TYPE: &str = "access";
/// Tolerated clock difference between instances.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    exp: u64,
    iat: u64,
    jti: String,
    typ: String,
    sid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<RegionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Expired,
    Invalid,
}

impl TokenIssuer {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    pub fn issue(&self, principal: &Principal) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: principal.audience.as_str().to_owned(),
            sub: principal.subject.clone(),
            exp: now + ACCESS_TOKEN_LIFETIME.as_secs(),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: TOKEN_TYPE.to_owned(),
            sid: principal.session_id.clone(),
            roles: principal.roles.clone(),
            region: principal.region,
            scope: (!principal.scopes.is_empty()).then(|| {
                principal
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// Verifies signature, issuer, audience (one of `audiences`), expiry and type.
    pub fn verify(&self, token: &str, audiences: &[Audience]) -> Result<Principal, TokenRefusal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&audiences.iter().map(|a| a.as_str()).collect::<Vec<_>>());
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRefusal::Expired,
                _ => TokenRefusal::Invalid,
            })?
            .claims;
        let audience = audiences
            .iter()
            .copied()
            .find(|a| a.as_str() == claims.aud)
            .ok_or(TokenRefusal::Invalid)?;
        if claims.typ != TOKEN_TYPE || claims.jti.is_empty() || claims.sid.is_empty() {
            return Err(TokenRefusal::Invalid);
        }
        let scopes = match claims.scope.as_deref() {
            Some(scope) => scope
                .split(' ')
                .map(Scope::parse)
                .collect::<Option<Vec<_>>>()
                .ok_or(TokenRefusal::Invalid)?,
            None => Vec::new(),
        };
        Ok(Principal {
            audience,
            subject: claims.sub,
            session_id: claims.sid,
            roles: claims.roles,
            region: claims.region,
            scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn issuer(secret: &str) -> TokenIssuer {
        TokenIssuer::new(&SecretString::from(secret.to_owned()))
    }

    fn worker() -> Principal {
        Principal {
            audience: Audience::Worker,
            subject: "w-1".to_owned(),
            session_id: "s-1".to_owned(),
            roles: vec![],
            region: None,
            scopes: vec![],
        }
    }

    #[test]
    fn a_token_verifies_for_its_own_audience_only() {
        let tokens = issuer("0123456789abcdef0123456789abcdef");
        let token = tokens.issue(&worker());
        assert_eq!(tokens.verify(&token, &[Audience::Worker]).unwrap(), worker());
        assert_eq!(tokens.verify(&token, &[Audience::Staff]), Err(TokenRefusal::Invalid));
        assert_eq!(
            tokens
                .verify(&token, &[Audience::Staff, Audience::Worker])
                .unwrap()
                .audience,
            Audience::Worker
        );
    }

    #[test]
    fn foreign_keys_and_alg_none_are_refused() {
        let token = issuer("another-secret-another-secret-0000").issue(&worker());
        let tokens = issuer("0123456789abcdef0123456789abcdef");
        assert_eq!(tokens.verify(&token, &[Audience::Worker]), Err(TokenRefusal::Invalid));
        let payload = token.split('.').nth(1).unwrap();
        let unsigned = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert_eq!(
            tokens.verify(&unsigned, &[Audience::Worker]),
            Err(TokenRefusal::Invalid)
        );
        assert_eq!(
            tokens.verify("not-a-token", &[Audience::Worker]),
            Err(TokenRefusal::Invalid)
        );
    }
}
