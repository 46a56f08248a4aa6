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
            example: Some(serde_json::json!("91320115MA1MW4RH3T")),
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
    fn the_documented_example_passes_its_own_check() {
        let example = CreditCode::schema().example.unwrap();
        assert!(CreditCode::parse(example.as_str().unwrap()).is_ok(), "{example}");
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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The 31 characters as GB 32100 describes them: digits and capitals
    /// without I, O, S, V and Z.
    fn standard_alphabet() -> Vec<char> {
        ('0'..='9').chain('A'..='Z').filter(|c| !"IOSVZ".contains(*c)).collect()
    }

    /// GB 32100 reckoned again from the standard's own terms (weights 3^i mod
    /// 31, check value 31 - sum mod 31, 31 written 0), so that a slip in the
    /// tables of the production code cannot hide behind itself.
    fn gb32100_check(first17: &str) -> char {
        let alphabet = standard_alphabet();
        let (sum, _) = first17.chars().fold((0, 1), |(sum, weight), c| {
            let value = alphabet.iter().position(|a| *a == c).unwrap() as u32;
            (sum + value * weight, weight * 3 % 31)
        });
        alphabet[((31 - sum % 31) % 31) as usize]
    }

    fn valid_code() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(standard_alphabet()), 17).prop_map(|chars| {
            let first17: String = chars.into_iter().collect();
            let check = gb32100_check(&first17);
            format!("{first17}{check}")
        })
    }

    /// Near misses rather than noise: the right length give or take one, from
    /// the alphabet, the five letters it leaves out, lower case and wide forms.
    fn almost_a_code() -> impl Strategy<Value = String> {
        let mut chars = standard_alphabet();
        chars.extend(['I', 'O', 'S', 'V', 'Z', 'a', 'y', 'Ａ', '０', '统', ' ']);
        prop::collection::vec(prop::sample::select(chars), 17..=19).prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_answered_without_a_panic(text in "\\PC*") {
            let _ = CreditCode::parse(&text);
        }

        /// About one near miss in 31 of the right length carries a correct
        /// check character by chance, so acceptance is exercised too.
        #[test]
        fn a_near_miss_is_accepted_only_with_the_standard_check_character(text in almost_a_code()) {
            if let Ok(code) = CreditCode::parse(&text) {
                prop_assert_eq!(code.as_str(), &text);
                prop_assert_eq!(text.chars().count(), 18);
                prop_assert_eq!(text.chars().last(), Some(gb32100_check(&text[..17])));
            }
        }

        #[test]
        fn every_code_with_its_check_character_parses(text in valid_code()) {
            let code = CreditCode::parse(&text).unwrap();
            prop_assert_eq!(code.as_str(), &text);
        }

        /// The weights are all non-zero modulo the prime 31, so one wrong
        /// character always moves the sum.
        #[test]
        fn one_changed_character_of_the_alphabet_is_refused_by_the_check(
            text in valid_code(),
            position in 0..18usize,
            replacement in prop::sample::select(standard_alphabet()),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(CreditCode::parse(&changed), Err(FieldIssue::CreditCodeCheck), "{}", changed);
        }

        #[test]
        fn one_character_from_outside_the_alphabet_is_refused_as_the_wrong_form(
            text in valid_code(),
            position in 0..18usize,
            replacement in any::<char>().prop_filter("outside the alphabet", |c| !standard_alphabet().contains(c)),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(CreditCode::parse(&changed), Err(FieldIssue::CreditCodeFormat), "{}", changed);
        }
    }
}
