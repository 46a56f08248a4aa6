//! One implementation of the OpenAPI and serde traits for every domain type
//! that travels as a JSON string or a query parameter.

use poem_openapi::registry::MetaSchema;

use super::FieldIssue;

/// A domain value written as a string on the wire.
pub trait TextType: Sized + Send + Sync {
    /// The name of the schema in the OpenAPI document.
    const SCHEMA_NAME: &'static str;

    fn parse(text: &str) -> Result<Self, FieldIssue>;

    fn as_text(&self) -> &str;

    /// The JSON schema of the wire form (type, pattern, lengths, example).
    fn schema() -> MetaSchema;
}

/// Implements poem-openapi's `Type`, `ParseFromJSON`, `ParseFromParameter`,
/// `ToJSON` and serde's traits for a [`TextType`].
#[macro_export]
macro_rules! text_type_traits {
    ($ty:ty) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                <$ty as $crate::domain::TextType>::SCHEMA_NAME.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new(<$ty as $crate::domain::TextType>::schema()))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
                match value {
                    Some(serde_json::Value::String(text)) => {
                        <$ty as $crate::domain::TextType>::parse(&text).map_err(poem_openapi::types::ParseError::custom)
                    }
                    other => Err(poem_openapi::types::ParseError::expected_type(
                        other.unwrap_or_default(),
                    )),
                }
            }
        }

        impl poem_openapi::types::ParseFromParameter for $ty {
            fn parse_from_parameter(text: &str) -> poem_openapi::types::ParseResult<Self> {
                <$ty as $crate::domain::TextType>::parse(text).map_err(poem_openapi::types::ParseError::custom)
            }
        }

        impl poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(
                    <$ty as $crate::domain::TextType>::as_text(self).to_owned(),
                ))
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(<$ty as $crate::domain::TextType>::as_text(self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                <$ty as $crate::domain::TextType>::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(<$ty as $crate::domain::TextType>::as_text(self))
            }
        }
    };
}
