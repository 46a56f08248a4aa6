use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18
/// characters from a 31-character alphabet (no I, O, S, V, Z), the last a
/// check character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl CreditCode {
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        let mut sum = 0;
        for (c, weight) in first17.iter().zip(WEIGHTS) {
            sum += ALPHABET.iter().position(|a| a == c)? as u32 * weight;
        }
        Some(ALPHABET[((31 - sum % 31) % 31) as usize])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TextType for CreditCode {
    const SCHEMA_NAME: &'static str = "CreditCode";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let bytes = text.as_bytes();
        if bytes.len() != 18 || !bytes.iter().all(|b| ALPHABET.contains(b)) {
            return Err(FieldIssue::CreditCodeFormat);
        }
        if Self::check_char(&bytes[..17]) != Some(bytes[17]) {
            return Err(FieldIssue::CreditCodeCheck);
        }
        Ok(CreditCode(text.to_owned()))
    }

    fn as_text(&self) -> &str {
        &self.0
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("Unified social credit code (GB 32100): 18 characters, the last a check character"),
            pattern: Some("^[0-9A-HJ-NP-RTUW-Y]{18}$".to_owned()),
            min_length: Some(18),
            max_length: Some(18),
            example: Some(serde_json::json!("91320115MA1MXXXX0X")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(CreditCode);

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(body: &str) -> String {
        format!("{body}{}", CreditCode::check_char(body.as_bytes()).unwrap() as char)
    }

    #[test]
    fn the_check_character_is_validated() {
        let valid = with_check("91350100M000100Y4");
        assert!(CreditCode::parse(&valid).is_ok(), "{valid}");
        let mut wrong = valid.clone().into_bytes();
        wrong[17] = if wrong[17] == b'1' { b'2' } else { b'1' };
        assert_eq!(
            CreditCode::parse(std::str::from_utf8(&wrong).unwrap()),
            Err(FieldIssue::CreditCodeCheck)
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y4I"),
            Err(FieldIssue::CreditCodeFormat)
        );
        assert_eq!(CreditCode::parse("short"), Err(FieldIssue::CreditCodeFormat));
    }
}
