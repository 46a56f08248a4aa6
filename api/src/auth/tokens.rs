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
        if claims.typ != TOKEN_TYPE || claims.sub.is_empty() || claims.jti.is_empty() || claims.sid.is_empty() {
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
            acting: None,
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
            acting: None,
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

    /// The library only asks that `sub` be there; an empty one names nobody,
    /// like an empty session, and no issued token has one.
    #[test]
    fn a_signed_token_with_an_empty_subject_is_refused() {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: "worker".to_owned(),
            sub: String::new(),
            exp: now + 60,
            iat: now,
            jti: "j-1".to_owned(),
            typ: TOKEN_TYPE.to_owned(),
            sid: "s-1".to_owned(),
            roles: vec![],
            region: None,
            scope: None,
        };
        let secret = "0123456789abcdef0123456789abcdef";
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            issuer(secret).verify(&token, &[Audience::Worker]),
            Err(TokenRefusal::Invalid)
        );
    }
}

#[cfg(test)]
mod properties {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::TextType;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const ALL_AUDIENCES: &[Audience] = &[Audience::Worker, Audience::Staff, Audience::Integrator];

    fn tokens() -> TokenIssuer {
        TokenIssuer::new(&SecretString::from(SECRET.to_owned()))
    }

    fn principal() -> impl Strategy<Value = Principal> {
        (
            prop::sample::select(ALL_AUDIENCES.to_vec()),
            "\\PC{1,40}",
            "\\PC{1,40}",
            prop::collection::vec(prop::sample::select(Role::ALL.to_vec()), 0..4),
            prop::option::of("[0-9]{6}".prop_map(|code| RegionCode::parse(&code).unwrap())),
            prop::collection::vec(prop::sample::select(Scope::ALL.to_vec()), 0..3),
        )
            .prop_map(|(audience, subject, session_id, roles, region, scopes)| Principal {
                audience,
                subject,
                session_id,
                roles,
                region,
                scopes,
                acting: None,
            })
    }

    fn segment() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A claim as a forger might write it: mostly the value the issuer writes,
    /// so that most tokens get past the library's checks to ours, else a near
    /// miss of the same kind, a value of another type, or nothing.
    fn claim(expected: Value, near_misses: Vec<Value>) -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            24 => Just(Some(expected)),
            2 => prop::sample::select(near_misses).prop_map(Some),
            1 => prop_oneof![
                "\\PC{0,20}".prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                Just(json!([])),
                Just(Value::Null),
            ]
            .prop_map(Some),
            1 => Just(None),
        ]
    }

    /// Claims signed with the right key, so that everything after the
    /// signature check is reached: types, audience, session, roles, scopes.
    fn signed_claims() -> impl Strategy<Value = (serde_json::Map<String, Value>, String)> {
        let now = jsonwebtoken::get_current_timestamp();
        let fields = [
            ("iss", json!(ISSUER), vec![json!(""), json!("shiminhua ")]),
            (
                "aud",
                json!("worker"),
                vec![json!("staff"), json!("Worker"), json!(["worker"])],
            ),
            ("sub", json!("w-1"), vec![json!("")]),
            (
                "exp",
                json!(now + 600),
                vec![json!(now - 600), json!(u64::MAX), json!(-1), json!(1.5)],
            ),
            ("iat", json!(now), vec![json!(now + 600), json!(-1)]),
            ("jti", json!("j-1"), vec![json!("")]),
            ("typ", json!(TOKEN_TYPE), vec![json!("refresh"), json!("")]),
            ("sid", json!("s-1"), vec![json!("")]),
            (
                "roles",
                json!(["admin", "reviewer"]),
                vec![json!([]), json!(["root"]), json!("admin")],
            ),
            (
                "region",
                json!("320115"),
                vec![json!("32011"), json!("３２０１１５"), json!(320115)],
            ),
            (
                "scope",
                json!("si_transfer:read si_transfer:write"),
                vec![json!(""), json!("si_transfer:read  si_transfer:write"), json!("admin")],
            ),
        ];
        let strategies: Vec<_> = fields
            .into_iter()
            .map(|(name, expected, near_misses)| claim(expected, near_misses).prop_map(move |value| (name, value)))
            .collect();
        strategies.prop_map(|claims| {
            let claims: serde_json::Map<String, Value> = claims
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?)))
                .collect();
            let key = EncodingKey::from_secret(SECRET.as_bytes());
            let token = encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
            (claims, token)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_fresh_token_verifies_to_the_principal_it_was_issued_for(principal in principal()) {
            let tokens = tokens();
            let token = tokens.issue(&principal);
            prop_assert_eq!(tokens.verify(&token, ALL_AUDIENCES), Ok(principal));
        }

        #[test]
        fn any_text_is_refused_without_a_panic(text in "\\PC*") {
            prop_assert_eq!(tokens().verify(&text, ALL_AUDIENCES), Err(TokenRefusal::Invalid));
        }

        #[test]
        fn three_base64url_segments_of_any_bytes_are_refused(
            header in segment(),
            payload in segment(),
            signature in segment(),
        ) {
            let token = format!("{header}.{payload}.{signature}");
            prop_assert_eq!(tokens().verify(&token, ALL_AUDIENCES), Err(TokenRefusal::Invalid));
        }

        /// The header is the one the issuer writes, so only the signature can
        /// refuse a payload of the forger's choosing.
        #[test]
        fn an_hs256_header_over_any_payload_with_a_guessed_signature_is_refused(
            payload in prop::collection::btree_map("\\PC{0,8}", "\\PC{0,20}", 0..8),
            signature in prop::collection::vec(any::<u8>(), 32),
        ) {
            let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
            let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature));
            prop_assert_eq!(tokens().verify(&token, ALL_AUDIENCES), Err(TokenRefusal::Invalid));
        }

        /// The signature covers the encoded header and payload, and its own
        /// last character has spare bits that a strict decoder refuses to
        /// ignore, so no character anywhere is free to change.
        #[test]
        fn a_token_with_any_one_character_changed_is_refused(
            principal in principal(),
            position in any::<prop::sample::Index>(),
            replacement in any::<char>(),
        ) {
            let tokens = tokens();
            let mut chars: Vec<char> = tokens.issue(&principal).chars().collect();
            let position = position.index(chars.len());
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(tokens.verify(&changed, ALL_AUDIENCES), Err(TokenRefusal::Invalid), "{}", changed);
        }

        /// Whatever a holder of the key signs, a principal comes only from an
        /// access token naming a subject and a session, and says what the
        /// claims say.
        #[test]
        fn signed_claims_of_any_shape_are_answered_without_a_panic((claims, token) in signed_claims()) {
            if let Ok(principal) = tokens().verify(&token, ALL_AUDIENCES) {
                prop_assert_eq!(&claims["typ"], &json!(TOKEN_TYPE));
                prop_assert_eq!(&claims["aud"], &json!(principal.audience.as_str()));
                prop_assert_eq!(&claims["sub"], &json!(&principal.subject));
                prop_assert_eq!(&claims["sid"], &json!(&principal.session_id));
                prop_assert!(!principal.subject.is_empty());
                prop_assert!(!principal.session_id.is_empty());
            }
        }
    }
}
