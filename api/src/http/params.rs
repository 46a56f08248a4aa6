//! The parameters most operations share: record ids, versions, pages and
//! idempotency keys. Each is a type whose schema carries its bounds and whose
//! parser enforces the same bounds, so a route names the type instead of
//! repeating validators, and an out-of-range value is a 400 naming the field.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::{
    domain::{FieldIssue, TextType},
    error::{AppError, AppResult, ErrorCode},
};

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// How deep a list pages: its pages reach the first 10,000 rows. A deeper
/// page makes the database step over every row before it; narrower filters
/// reach the same rows for the cost of page 1.
pub const MAX_PAGED_ROWS: u64 = 10_000;

/// The range of the `page` parameter alone. Wider than any page a list
/// serves, so that a page past `MAX_PAGED_ROWS` is told `PAGE_TOO_DEEP` by
/// [`Paging::new`] rather than a bare range error.
const MAX_PAGE_NUMBER: u32 = 100_000;

/// A string of 1 to `MAX_LENGTH` characters, nothing else asked of it.
macro_rules! bounded_string {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            const MAX_LENGTH: usize = $max;

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl TextType for $name {
            const SCHEMA_NAME: &'static str = stringify!($name);

            fn parse(text: &str) -> Result<Self, FieldIssue> {
                match text.chars().count() {
                    0 => Err(FieldIssue::TextTooShort),
                    length if length > Self::MAX_LENGTH => Err(FieldIssue::TextTooLong),
                    _ => Ok(Self(text.to_owned())),
                }
            }

            fn as_text(&self) -> &str {
                &self.0
            }

            fn schema() -> MetaSchema {
                MetaSchema {
                    min_length: Some(1),
                    max_length: Some(Self::MAX_LENGTH),
                    ..MetaSchema::new("string")
                }
            }
        }

        crate::text_type_traits!($name);

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_string!(
    /// The id of a stored record (an application, a policy, a staff member,
    /// …). Whether it names a record is the service's answer.
    RecordId,
    36
);

bounded_string!(
    /// The `Idempotency-Key` header of a create, new for every new request
    /// (e.g. a UUID).
    IdempotencyKey,
    255
);

bounded_string!(
    /// Where a long queue goes on: the `next_cursor` of the page before,
    /// opaque. With it, `page` is ignored, and the page costs what the first
    /// costs however deep it is (keyset paging). Good only for the queue,
    /// filters and caller it came from: otherwise, or edited, 400
    /// `CURSOR_INVALID`.
    PageCursor,
    1024
);

/// An integer parameter or field with a range, and for query parameters a
/// default that applies when it is left out.
macro_rules! bounded_integer {
    ($(#[$doc:meta])* $name:ident($int:ty, $format:literal), $min:expr, $max:expr, $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name($int);

        impl $name {
            const MIN: $int = $min;
            const MAX: $int = $max;
            const DEFAULT: Option<$int> = $default;

            pub fn get(self) -> $int {
                self.0
            }

            fn parse(number: i64) -> Result<Self, String> {
                <$int>::try_from(number)
                    .ok()
                    .filter(|n| (Self::MIN..=Self::MAX).contains(n))
                    .map(Self)
                    .ok_or_else(|| format!("{number} is outside {}..={}", Self::MIN, Self::MAX))
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = Self::DEFAULT.is_none();
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    format: Some($format),
                    minimum: Some(f64::from(Self::MIN)),
                    maximum: Some(f64::from(Self::MAX)),
                    default: Self::DEFAULT.map(Value::from),
                    ..MetaSchema::new("integer")
                }))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::Number(number)) if number.is_i64() || number.is_u64() => {
                        Self::parse(number.as_i64().unwrap_or(i64::MAX)).map_err(ParseError::custom)
                    }
                    other => Err(ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(text: &str) -> ParseResult<Self> {
                let number = text.parse::<i64>().map_err(ParseError::custom)?;
                Self::parse(number).map_err(ParseError::custom)
            }

            /// Left out, a parameter with a default takes it.
            fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(iter: I) -> ParseResult<Self> {
                match (iter.into_iter().next(), Self::DEFAULT) {
                    (Some(text), _) => Self::parse_from_parameter(text.as_ref()),
                    (None, Some(default)) => Ok(Self(default)),
                    (None, None) => Err(ParseError::expected_input()),
                }
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::from(self.0))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let number = i64::deserialize(deserializer)?;
                Self::parse(number).map_err(serde::de::Error::custom)
            }
        }
    };
}

bounded_integer!(
    /// The version of a record a change was based on (`expected_version`);
    /// a stale one is 409 `VERSION_CONFLICT`.
    Version(i32, "int32"),
    1,
    i32::MAX,
    None
);

bounded_integer!(
    /// The page of a list, from 1.
    PageNumber(u32, "uint32"),
    1,
    MAX_PAGE_NUMBER,
    Some(1)
);

bounded_integer!(
    /// Items per page.
    PageSize(u32, "uint32"),
    1,
    MAX_PAGE_SIZE,
    Some(DEFAULT_PAGE_SIZE)
);

/// A page of a list that is within reach: page and size as asked, checked
/// together against `MAX_PAGED_ROWS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl Paging {
    /// 400 `PAGE_TOO_DEEP` when the page ends past the first `MAX_PAGED_ROWS` rows.
    pub fn new(page: PageNumber, page_size: PageSize) -> AppResult<Self> {
        let (page, page_size) = (page.get(), page_size.get());
        if u64::from(page) * u64::from(page_size) > MAX_PAGED_ROWS {
            return Err(AppError::new(ErrorCode::PageTooDeep).with_details(serde_json::json!({
                "max_rows": MAX_PAGED_ROWS,
                "page": page,
                "page_size": page_size,
            })));
        }
        Ok(Paging { page, page_size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_have_one_to_thirty_six_characters() {
        assert_eq!(&*RecordId::parse("a").unwrap(), "a");
        assert!(RecordId::parse(&"字".repeat(36)).is_ok());
        assert_eq!(RecordId::parse(""), Err(FieldIssue::TextTooShort));
        assert_eq!(RecordId::parse(&"a".repeat(37)), Err(FieldIssue::TextTooLong));
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(FieldIssue::TextTooLong));
    }

    #[test]
    fn integers_keep_their_range_on_every_path() {
        assert_eq!(Version::parse_from_parameter("1").unwrap().get(), 1);
        assert!(Version::parse_from_parameter("0").is_err());
        assert!(Version::parse_from_json(Some(serde_json::json!(2_147_483_648_i64))).is_err());
        assert!(Version::parse_from_json(Some(serde_json::json!(1.5))).is_err());
        assert!(serde_json::from_str::<Version>("0").is_err());
        assert_eq!(serde_json::from_str::<Version>("2147483647").unwrap().get(), i32::MAX);
        assert!(PageSize::parse_from_parameter("101").is_err());
        assert!(PageNumber::parse_from_parameter("-1").is_err());
    }

    #[test]
    fn pages_left_out_take_their_defaults() {
        let none = std::iter::empty::<&str>;
        assert_eq!(PageNumber::parse_from_parameters(none()).unwrap().get(), 1);
        assert_eq!(
            PageSize::parse_from_parameters(none()).unwrap().get(),
            DEFAULT_PAGE_SIZE
        );
        assert!(Version::parse_from_parameters(none()).is_err());
    }

    #[test]
    fn pages_reach_the_first_ten_thousand_rows() {
        let paging = |page, size| Paging::new(PageNumber(page), PageSize(size));
        assert!(paging(100, 100).is_ok());
        assert_eq!(paging(101, 100).unwrap_err().code, ErrorCode::PageTooDeep);
        assert_eq!(paging(10_001, 1).unwrap_err().code, ErrorCode::PageTooDeep);
    }
}
