use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A bank card number, or the financial account of a social-security card
/// (社保卡金融账户, itself a bank card number): 16 to 19 digits whose last
/// is the Luhn check digit. Spaces as printed on the card are allowed and
/// dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// 622202******1234: the issuer and the last four, as a bank prints it.
    pub fn masked(&self) -> String {
        let digits = &self.0;
        format!(
            "{}{}{}",
            &digits[..6],
            "*".repeat(digits.len() - 10),
            &digits[digits.len() - 4..]
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Luhn check: from the right, every second digit doubled (less 9 past
/// 9), the sum a multiple of ten.
fn luhn_holds(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            match (position % 2, digit * 2) {
                (0, _) => digit,
                (_, doubled) if doubled > 9 => doubled - 9,
                (_, doubled) => doubled,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl std::fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountNumber({})", self.masked())
    }
}

impl TextType for AccountNumber {
    const SCHEMA_NAME: &'static str = "AccountNumber";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let digits: String = text.chars().filter(|c| *c != ' ').collect();
        if !(16..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldIssue::AccountNumberFormat);
        }
        if !luhn_holds(&digits) {
            return Err(FieldIssue::AccountNumberCheckDigit);
        }
        Ok(AccountNumber(digits))
    }

    fn as_text(&self) -> &str {
        &self.0
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("Bank card number, 16 to 19 digits with a valid Luhn check digit; spaces are ignored"),
            pattern: Some("^[0-9 ]{16,23}$".to_owned()),
            min_length: Some(16),
            max_length: Some(23),
            example: Some(serde_json::json!("6222021234567890128")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(AccountNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_parse_check_and_mask() {
        let card = AccountNumber::parse("6222 0212 3456 7890 128").unwrap();
        assert_eq!(card.as_str(), "6222021234567890128");
        assert_eq!(card.masked(), "622202*********0128");
        assert_eq!(
            AccountNumber::parse("4111111111111111").unwrap().masked(),
            "411111******1111"
        );
        assert_eq!(format!("{card:?}"), "AccountNumber(622202*********0128)");
    }

    #[test]
    fn a_wrong_digit_or_length_is_refused_by_name() {
        assert_eq!(
            AccountNumber::parse("6222021234567890127"),
            Err(FieldIssue::AccountNumberCheckDigit)
        );
        assert_eq!(
            AccountNumber::parse("4111111111111112"),
            Err(FieldIssue::AccountNumberCheckDigit)
        );
        for bad in [
            "",
            "411111111111111",
            "41111111111111111111",
            "4111-1111-1111-1111",
            "411111111111111a",
        ] {
            assert_eq!(AccountNumber::parse(bad), Err(FieldIssue::AccountNumberFormat), "{bad}");
        }
    }
}
