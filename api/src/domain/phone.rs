use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A mainland mobile number: 11 digits starting with 1.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// 138****5678
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl TextType for PhoneNumber {
    const SCHEMA_NAME: &'static str = "PhoneNumber";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let digits = text;
        let valid = digits.len() == 11
            && digits.starts_with('1')
            && digits.as_bytes()[1] >= b'3'
            && digits.bytes().all(|b| b.is_ascii_digit());
        if valid {
            Ok(PhoneNumber(digits.to_owned()))
        } else {
            Err(FieldIssue::PhoneFormat)
        }
    }

    fn as_text(&self) -> &str {
        &self.0
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("Mainland mobile number, 11 digits"),
            pattern: Some("^1[3-9][0-9]{9}$".to_owned()),
            min_length: Some(11),
            max_length: Some(11),
            example: Some(serde_json::json!("13812345678")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(PhoneNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_parse_and_mask() {
        let phone = PhoneNumber::parse("13812345678").unwrap();
        assert_eq!(phone.as_str(), "13812345678");
        assert_eq!(phone.masked(), "138****5678");
        for bad in [
            "",
            "+8613812345678",
            " 13812345678",
            "1381234567",
            "23812345678",
            "12812345678",
            "1381234567a",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(FieldIssue::PhoneFormat), "{bad}");
        }
    }
}
