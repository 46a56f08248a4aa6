//! Electronic certificates (电子证照): the issuing authorities' licence
//! service answers, with the holder's authorisation, a vocational
//! certificate (职业资格 / 职业技能等级证书), a business licence (营业执照)
//! or the ID card's electronic licence (居民身份证电子证照), so that a
//! worker references a certificate instead of photographing it.
//!
//! Only the sandbox exists in this build, for development and tests, and
//! production refuses it (`SHIMINHUA_CERTIFICATE_PROVIDER`); the licence
//! service of a province implements the same trait.
//!
//! The sandbox answers the same certificates for the same ID number, every
//! time, from the number's 16th digit `d` (the second digit of the sequence
//! code):
//!
//! | kind | what the sandbox answers |
//! |---|---|
//! | `vocational` | none when `d` is 0; otherwise 职业技能等级证书, level `(d − 1) mod 5 + 1` (d = 1 or 6: 一级 … d = 5: 五级), number `SBX-ZY-{ID number}-{level}`, issued by 人力资源和社会保障部职业技能鉴定中心（沙箱） on 2024-06-30 |
//! | `business_licence` | none when `d` is 0; otherwise 营业执照（个体工商户）, number `SBX-YYZZ-{ID number}`, issued by the market regulation bureau of the number's county (its first six digits) on 2023-03-15 |
//! | `id_card` | always: 居民身份证电子证照, number `SBX-SFZ-{ID number}`, issued by the public security bureau of the number's county |
//!
//! Asked by number, the sandbox answers the certificate the number names
//! (whoever holds it: the service compares the holder with the worker) and
//! nothing for a number it never issued.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::{IdNumber, TextType};

crate::text_enum! {
    /// Which certificate.
    CertificateKind {
        /// 职业资格证书 / 职业技能等级证书, with a level 1 to 5.
        Vocational => "vocational",
        /// 营业执照 of a business the holder runs.
        BusinessLicence => "business_licence",
        /// 居民身份证电子证照.
        IdCard => "id_card",
    }
}

/// What the worker asks for: a kind, for the holder of `holder`, or the
/// certificate a number names.
pub struct CertificateQuery<'a> {
    pub kind: CertificateKind,
    pub holder: &'a IdNumber,
    pub number: Option<&'a str>,
}

/// A certificate as the licence service answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub kind: CertificateKind,
    pub number: String,
    pub title: String,
    /// A vocational certificate's level, 1 (高级技师) to 5 (初级工).
    pub level: Option<u8>,
    pub issuer: String,
    /// The holder's ID number, as the service answers it.
    pub holder: String,
    pub issued_on: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
#[error("the licence service did not answer: {0}")]
pub struct ProviderUnavailable(pub String);

#[async_trait]
pub trait CertificateProvider: Send + Sync {
    /// The name recorded with each certificate it answered, e.g. `sandbox`.
    fn name(&self) -> &'static str;

    /// The certificate asked for; `None` when the service holds none.
    async fn fetch(&self, query: &CertificateQuery<'_>) -> Result<Option<IssuedCertificate>, ProviderUnavailable>;
}

/// Development only: deterministic certificates derived from the ID number.
pub struct SandboxCertificates;

const VOCATIONAL_PREFIX: &str = "SBX-ZY-";
const LICENCE_PREFIX: &str = "SBX-YYZZ-";
const ID_CARD_PREFIX: &str = "SBX-SFZ-";

impl SandboxCertificates {
    /// The certificate of `kind` the holder of `id` holds in the sandbox.
    fn held(kind: CertificateKind, id: &IdNumber) -> Option<IssuedCertificate> {
        let number = id.as_str();
        let digit = number.as_bytes()[15] - b'0';
        let county = &number[..6];
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let issued = |title: &str, number: String, level, issuer: String, issued_on| IssuedCertificate {
            kind,
            number,
            title: title.to_owned(),
            level,
            issuer,
            holder: id.as_str().to_owned(),
            issued_on,
        };
        match kind {
            CertificateKind::Vocational if digit > 0 => {
                let level = (digit - 1) % 5 + 1;
                Some(issued(
                    "职业技能等级证书",
                    format!("{VOCATIONAL_PREFIX}{number}-{level}"),
                    Some(level),
                    "人力资源和社会保障部职业技能鉴定中心（沙箱）".to_owned(),
                    day(2024, 6, 30),
                ))
            }
            CertificateKind::BusinessLicence if digit > 0 => Some(issued(
                "营业执照（个体工商户）",
                format!("{LICENCE_PREFIX}{number}"),
                None,
                format!("{county}市场监督管理局（沙箱）"),
                day(2023, 3, 15),
            )),
            CertificateKind::IdCard => Some(issued(
                "居民身份证电子证照",
                format!("{ID_CARD_PREFIX}{number}"),
                None,
                format!("{county}公安局（沙箱）"),
                None,
            )),
            _ => None,
        }
    }

    /// The holder a sandbox number names, for its kind.
    fn holder_named(kind: CertificateKind, number: &str) -> Option<IdNumber> {
        let rest = match kind {
            CertificateKind::Vocational => number.strip_prefix(VOCATIONAL_PREFIX)?.get(..18)?,
            CertificateKind::BusinessLicence => number.strip_prefix(LICENCE_PREFIX)?,
            CertificateKind::IdCard => number.strip_prefix(ID_CARD_PREFIX)?,
        };
        IdNumber::parse(rest).ok()
    }
}

#[async_trait]
impl CertificateProvider for SandboxCertificates {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn fetch(&self, query: &CertificateQuery<'_>) -> Result<Option<IssuedCertificate>, ProviderUnavailable> {
        Ok(match query.number {
            None => Self::held(query.kind, query.holder),
            Some(number) => Self::holder_named(query.kind, number.trim())
                .and_then(|holder| Self::held(query.kind, &holder))
                .filter(|certificate| certificate.number == number.trim()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> IdNumber {
        IdNumber::parse(text).unwrap()
    }

    #[tokio::test]
    async fn the_sandbox_answers_the_same_certificates_every_time() {
        // 16th digit 3: level 3; 16th digit 0: no vocational certificate.
        let holder = id("450103199002022342");
        let asked = CertificateQuery {
            kind: CertificateKind::Vocational,
            holder: &holder,
            number: None,
        };
        let first = SandboxCertificates.fetch(&asked).await.unwrap().unwrap();
        assert_eq!(first.level, Some(3));
        assert_eq!(first.number, "SBX-ZY-450103199002022342-3");
        assert_eq!(SandboxCertificates.fetch(&asked).await.unwrap(), Some(first.clone()));

        let stranger = id("450102199001010132");
        let by_number = CertificateQuery {
            kind: CertificateKind::Vocational,
            holder: &stranger,
            number: Some(&first.number),
        };
        let named = SandboxCertificates.fetch(&by_number).await.unwrap().unwrap();
        assert_eq!(named.holder, holder.as_str(), "a number names its own holder");
        let forged = CertificateQuery {
            number: Some("SBX-ZY-450103199002022342-1"),
            ..by_number
        };
        assert_eq!(SandboxCertificates.fetch(&forged).await.unwrap(), None);
    }
}
