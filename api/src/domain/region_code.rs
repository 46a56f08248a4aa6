use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A GB/T 2260 six-digit administrative-division code, or `000000` for national.
///
/// Whether a code names an existing region is the region directory's answer;
/// this type only guarantees the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    pub const NATIONAL: RegionCode = RegionCode(*b"000000");

    pub fn is_national(&self) -> bool {
        *self == Self::NATIONAL
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a region code holds ASCII digits only")
    }

    /// The province the region lies in: GB/T 2260 gives it the region's
    /// first two digits (450103 lies in 450000). National stays national.
    pub fn province(&self) -> RegionCode {
        let mut code = self.0;
        code[PROVINCE_DIGITS..].fill(b'0');
        RegionCode(code)
    }

    /// The digits every code of the region's province starts with (`45`
    /// for 450103), to select a province's rows in SQL.
    pub fn province_prefix(&self) -> &str {
        &self.as_str()[..PROVINCE_DIGITS]
    }
}

/// How many leading digits of a code name its province.
const PROVINCE_DIGITS: usize = 2;

impl TextType for RegionCode {
    const SCHEMA_NAME: &'static str = "RegionCode";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let bytes: [u8; 6] = text.as_bytes().try_into().map_err(|_| FieldIssue::RegionCodeFormat)?;
        if bytes.iter().all(u8::is_ascii_digit) {
            Ok(RegionCode(bytes))
        } else {
            Err(FieldIssue::RegionCodeFormat)
        }
    }

    fn as_text(&self) -> &str {
        self.as_str()
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("GB/T 2260 six-digit region code; 000000 means national"),
            pattern: Some("^[0-9]{6}$".to_owned()),
            min_length: Some(6),
            max_length: Some(6),
            example: Some(serde_json::json!("320115")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(RegionCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_ascii_digits_and_nothing_else() {
        assert_eq!(RegionCode::parse("320115").unwrap().as_str(), "320115");
        assert!(RegionCode::parse("000000").unwrap().is_national());
        for bad in ["", "32011", "3201150", "32011a", "３２０１１５", "32011\u{0}", " 32011"] {
            assert_eq!(RegionCode::parse(bad), Err(FieldIssue::RegionCodeFormat), "{bad:?}");
        }
    }

    #[test]
    fn a_region_lies_in_the_province_of_its_first_two_digits() {
        let province = |text: &str| RegionCode::parse(text).unwrap().province().to_string();
        assert_eq!(province("450103"), "450000");
        assert_eq!(province("450100"), "450000");
        assert_eq!(province("450000"), "450000");
        assert_eq!(province("000000"), "000000");
        assert_eq!(RegionCode::parse("450103").unwrap().province_prefix(), "45");
    }

    #[test]
    fn serde_round_trip_refuses_bad_codes() {
        let code: RegionCode = serde_json::from_str("\"450100\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"450100\"");
        let err = serde_json::from_str::<RegionCode>("\"45x100\"").unwrap_err();
        assert_eq!(
            FieldIssue::find_in(&err.to_string()),
            Some(FieldIssue::RegionCodeFormat)
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn six_ascii_digits(text: &str) -> bool {
        text.chars().count() == 6 && text.chars().all(|c| c.is_ascii_digit())
    }

    /// Near misses rather than noise: five to seven characters, mostly digits,
    /// with the look-alikes that are numeric to Unicode but not ASCII.
    fn almost_a_code() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '３', '٣', '三', 'a', ' ', '\u{0}', '-',
        ]);
        prop::collection::vec(chars, 5..=7).prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_answered_without_a_panic(text in "\\PC*") {
            prop_assert_eq!(RegionCode::parse(&text).is_ok(), six_ascii_digits(&text));
        }

        #[test]
        fn six_ascii_digits_parse_and_come_back_unchanged(text in "[0-9]{6}") {
            let code = RegionCode::parse(&text).unwrap();
            prop_assert_eq!(code.as_text(), &text);
            prop_assert_eq!(code.to_string(), text.clone());
            prop_assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(text));
            prop_assert_eq!(code.is_national(), text == "000000");
        }

        #[test]
        fn anything_but_six_ascii_digits_is_refused(text in almost_a_code()) {
            let parsed = RegionCode::parse(&text);
            if six_ascii_digits(&text) {
                prop_assert_eq!(parsed.map(|code| code.to_string()), Ok(text));
            } else {
                prop_assert_eq!(parsed, Err(FieldIssue::RegionCodeFormat), "{:?}", text);
            }
        }
    }
}
