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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// GB 11643 reckoned again from the standard's own terms (weights 2^(17-i)
    /// mod 11, check value (12 - sum) mod 11, ten written X), so that a slip in
    /// the tables of the production code cannot hide behind itself.
    fn gb11643_check(first17: &str) -> char {
        let sum: u32 = first17
            .chars()
            .enumerate()
            .map(|(i, c)| c.to_digit(10).unwrap() * (2u32.pow(17 - i as u32) % 11))
            .sum();
        match (12 - sum % 11) % 11 {
            10 => 'X',
            value => char::from_digit(value, 10).unwrap(),
        }
    }

    /// Valid numbers: any region prefix and sequence, a birth date from 1900
    /// to today, the check character, and an X sometimes written small.
    fn valid_id() -> impl Strategy<Value = (String, NaiveDate)> {
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let days = (crate::domain::china_time::today() - first).num_days();
        ("[0-9]{6}", 0..=days, "[0-9]{3}", any::<bool>()).prop_map(move |(region, day, sequence, small_x)| {
            let birth = first + chrono::Duration::days(day);
            let first17 = format!("{region}{}{sequence}", birth.format("%Y%m%d"));
            let check = gb11643_check(&first17);
            let check = if small_x { check.to_ascii_lowercase() } else { check };
            (format!("{first17}{check}"), birth)
        })
    }

    /// Near misses rather than noise: the right length give or take one, from
    /// digits, X, and characters a phone keyboard or a form paste brings in.
    fn almost_an_id() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', 'x', '中', '国', '１', '９', 'Ｘ', ' ', '\u{0}', 'é',
        ]);
        prop::collection::vec(chars, 17..=19).prop_map(|chars| chars.into_iter().collect())
    }

    fn check_accepted(text: &str, id: &IdNumber) -> Result<(), TestCaseError> {
        prop_assert_eq!(id.as_str(), text.to_ascii_uppercase());
        prop_assert_eq!(id.masked().chars().count(), 18);
        // `birth_date` trusts what `parse` checked and panics otherwise.
        let _ = id.birth_date();
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_answered_without_a_panic(text in "\\PC*") {
            if let Ok(id) = IdNumber::parse(&text) {
                check_accepted(&text, &id)?;
            }
        }

        #[test]
        fn near_misses_of_mixed_width_and_script_are_answered_without_a_panic(text in almost_an_id()) {
            if let Ok(id) = IdNumber::parse(&text) {
                check_accepted(&text, &id)?;
            }
        }

        #[test]
        fn every_number_with_a_real_birth_date_and_its_check_character_parses((text, birth) in valid_id()) {
            let id = IdNumber::parse(&text).unwrap();
            prop_assert_eq!(id.as_str(), text.to_ascii_uppercase());
            prop_assert_eq!(id.birth_date(), birth);
        }

        /// What reaches a screen or a log shows the region prefix and the last
        /// four, never the birth date.
        #[test]
        fn masking_keeps_the_first_four_and_last_four_and_hides_ten((text, _) in valid_id()) {
            let id = IdNumber::parse(&text).unwrap();
            let masked = id.masked();
            prop_assert_eq!(&masked[..4], &id.as_str()[..4]);
            prop_assert_eq!(&masked[4..14], "**********");
            prop_assert_eq!(&masked[14..], &id.as_str()[14..]);
            let debug = format!("{id:?}");
            prop_assert!(!debug.contains(&text[6..14]), "{}", debug);
        }

        /// The weights are all non-zero modulo the prime 11, so one wrong digit
        /// always moves the sum; a digit of the birth date may instead make the
        /// date impossible, which is refused as well.
        #[test]
        fn one_changed_digit_is_refused(
            (text, _) in valid_id(),
            position in 0..18usize,
            replacement in prop::sample::select(b"0123456789X".to_vec()),
        ) {
            let mut bytes = text.to_ascii_uppercase().into_bytes();
            prop_assume!(bytes[position] != replacement);
            prop_assume!(position == 17 || replacement != b'X');
            bytes[position] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            let refusal = IdNumber::parse(&changed).unwrap_err();
            if (6..14).contains(&position) {
                prop_assert!(
                    matches!(refusal, FieldIssue::IdNumberCheckDigit | FieldIssue::IdNumberBirthDate),
                    "{changed}: {refusal:?}"
                );
            } else {
                prop_assert_eq!(refusal, FieldIssue::IdNumberCheckDigit, "{}", changed);
            }
        }
    }
}
