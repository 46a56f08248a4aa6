//! Free text with a length range, counted in characters as JSON Schema counts
//! them: the schema the document shows and the check the server makes are the
//! same rule.

use std::borrow::Cow;

use poem::web::Field;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromMultipartField, ParseResult, ToJSON, Type},
};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::FieldIssue;

/// Text of `MIN..=MAX` characters with no control characters (line breaks
/// and tabs allowed).
#[derive(Clone, PartialEq, Eq)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    fn check(text: &str) -> Result<(), FieldIssue> {
        let length = text.chars().count();
        if length < MIN {
            return Err(FieldIssue::TextTooShort);
        }
        if length > MAX {
            return Err(FieldIssue::TextTooLong);
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(FieldIssue::TextControlCharacter);
        }
        Ok(())
    }

    pub fn parse(text: &str) -> Result<Self, FieldIssue> {
        Self::check(text).map(|()| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn into_strings(items: Vec<Self>) -> Vec<String> {
        items.into_iter().map(Self::into_inner).collect()
    }
}

impl<const MIN: usize, const MAX: usize> std::fmt::Debug for BoundedText<MIN, MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BoundedText({} chars)", self.0.chars().count())
    }
}

impl<const MIN: usize, const MAX: usize> Type for BoundedText<MIN, MAX> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        format!("string({MIN}..{MAX})").into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: Some(MIN),
            max_length: Some(MAX),
            pattern: Some("^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$".to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<const MIN: usize, const MAX: usize> ParseFromJSON for BoundedText<MIN, MAX> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Self::parse(&text).map_err(ParseError::custom),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

/// A text field of a multipart form is read up to the most bytes `MAX`
/// characters can take, and refused beyond: never held whole, whatever its size.
impl<const MIN: usize, const MAX: usize> ParseFromMultipartField for BoundedText<MIN, MAX> {
    async fn parse_from_multipart(field: Option<Field>) -> ParseResult<Self> {
        let field = field.ok_or_else(ParseError::expected_input)?;
        // A character takes at most four bytes of UTF-8.
        let most_bytes = MAX * 4;
        let mut bytes = Vec::new();
        let reader = field.into_async_read();
        tokio::pin!(reader);
        reader
            .take(most_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(ParseError::custom)?;
        if bytes.len() > most_bytes {
            return Err(ParseError::custom(FieldIssue::TextTooLong));
        }
        let text = String::from_utf8(bytes).map_err(ParseError::custom)?;
        Self::parse(&text).map_err(ParseError::custom)
    }
}

impl<const MIN: usize, const MAX: usize> ToJSON for BoundedText<MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<const MIN: usize, const MAX: usize> serde::Serialize for BoundedText<MIN, MAX> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const MIN: usize, const MAX: usize> serde::Deserialize<'de> for BoundedText<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(BoundedText::<1, 4>::parse("江宁区人").is_ok());
        assert_eq!(BoundedText::<1, 3>::parse("江宁区人"), Err(FieldIssue::TextTooLong));
        assert_eq!(BoundedText::<1, 3>::parse(""), Err(FieldIssue::TextTooShort));
        assert_eq!(
            BoundedText::<0, 9>::parse("a\u{0}b"),
            Err(FieldIssue::TextControlCharacter)
        );
        assert!(BoundedText::<0, 9>::parse("a\nb").is_ok());
    }
}
