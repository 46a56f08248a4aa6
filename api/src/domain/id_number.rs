use chrono::NaiveDate;
use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A mainland resident identity number (GB 11643-1999): 17 digits and a
/// check character, with a real birth date that is not in the future.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

impl IdNumber {
    pub fn check_char(first17: &[u8]) -> u8 {
        let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        CHECK_CHARS[(sum % 11) as usize]
    }

    pub fn birth_date(&self) -> NaiveDate {
        let digits = &self.0[6..14];
        NaiveDate::parse_from_str(digits, "%Y%m%d").expect("checked when parsed")
    }

    /// 3201**********123X: region prefix and the last four, nothing between.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never prints the number itself, so it cannot reach a log by accident.
impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TextType for IdNumber {
    const SCHEMA_NAME: &'static str = "IdNumber";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let upper = text.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(FieldIssue::IdNumberFormat);
        }
        let birth = NaiveDate::parse_from_str(&upper[6..14], "%Y%m%d").map_err(|_| FieldIssue::IdNumberBirthDate)?;
        let today = crate::domain::china_time::today();
        if birth > today || birth < NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date") {
            return Err(FieldIssue::IdNumberBirthDate);
        }
        if Self::check_char(&bytes[..17]) != bytes[17] {
            return Err(FieldIssue::IdNumberCheckDigit);
        }
        Ok(IdNumber(upper))
    }

    fn as_text(&self) -> &str {
        &self.0
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("Resident identity number (GB 11643): 17 digits and a check digit or X"),
            pattern: Some("^[0-9]{17}[0-9Xx]$".to_owned()),
            min_length: Some(18),
            max_length: Some(18),
            example: Some(serde_json::json!("11010519491231002X")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(IdNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_is_valid_and_masks() {
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.masked(), "1101**********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn check_digit_birth_date_and_form_are_checked() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(FieldIssue::IdNumberCheckDigit)
        );
        assert_eq!(
            IdNumber::parse("110105194913310020"),
            Err(FieldIssue::IdNumberBirthDate)
        );
        assert_eq!(
            IdNumber::parse("110105299912310020"),
            Err(FieldIssue::IdNumberBirthDate)
        );
        for bad in [
            "",
            " 11010519491231002X",
            "1101051949123100",
            "11010519491231002Y",
            "１１0105194912310020",
        ] {
            assert_eq!(IdNumber::parse(bad), Err(FieldIssue::IdNumberFormat), "{bad}");
        }
    }

    #[test]
    fn every_generated_number_with_its_check_char_parses() {
        for seed in 0u64..500 {
            let body = format!("320115{}{:03}", 19800101 + (seed % 28), seed * 7 % 1000);
            let mut text = body.clone();
            text.push(IdNumber::check_char(body.as_bytes()) as char);
            assert!(IdNumber::parse(&text).is_ok(), "{text}");
        }
    }
}
