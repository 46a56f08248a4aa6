//! `JsonBody<T>`: the JSON request payload of every operation.
//!
//! The OpenAPI document gets `T`'s schema, as with poem-openapi's `Json`; the
//! body is parsed with serde, so a refusal names the field it concerns
//! (`items[0].name`) and never a Rust type, and a malformed document is told
//! apart from a well-formed one with a wrong value.

use poem::{Request, RequestBody, Result};
use poem_openapi::{
    impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde::de::DeserializeOwned;

use super::problem::invalid_input;
use crate::{
    domain::FieldIssue,
    error::{AppError, ErrorCode, Localized},
};

pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(mime)
            if mime.type_() == "application" && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: DeserializeOwned + ParseFromJSON + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> Result<Self> {
        // The body limit (`http::body_limit`) has already bounded what this reads.
        let bytes = body.take()?.into_bytes().await?;
        parse(&bytes).map(JsonBody).map_err(Into::into)
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: DeserializeOwned + ParseFromJSON + Send);

fn parse<T: DeserializeOwned + ParseFromJSON>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::new(ErrorCode::MalformedJson).with_message(Localized::fixed(
            "没有收到要提交的内容，请重新提交。",
            "The request body is empty.",
        )));
    }
    // Read once: a syntax error is malformed JSON; then serde names any value
    // of the wrong type, and poem-openapi's validators check the schema's own
    // limits (list lengths, unique items, numeric bounds) on the same tree.
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| AppError::new(ErrorCode::MalformedJson))?;
    let value = serde_path_to_error::deserialize(&json).map_err(refusal)?;
    T::parse_from_json(Some(json)).map_err(|error| {
        let message = error.into_message();
        invalid_input(between_backticks(&message).unwrap_or("body"), &message)
    })?;
    Ok(value)
}

/// For optional fields of request bodies: left out means `None`, but an
/// explicit `null` is refused like any other wrong value, as the schemas
/// (where no field is nullable) say. Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn refusal(error: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = error.path().to_string();
    let text = error.into_inner().to_string();
    if let Some(issue) = FieldIssue::find_in(&text) {
        return AppError::invalid_field(&path, issue.message());
    }
    if let Some(missing) = between_backticks(&text).filter(|_| text.starts_with("missing field")) {
        let field = if path == "." {
            missing.to_owned()
        } else {
            format!("{path}.{missing}")
        };
        return AppError::invalid_field(
            &field,
            Localized::new(format!("请填写“{missing}”。"), format!("“{missing}” is required.")),
        );
    }
    if path == "." {
        return AppError::new(ErrorCode::ValidationFailed).with_message(Localized::fixed(
            "提交的内容应为一个 JSON 对象。",
            "The request body must be a JSON object.",
        ));
    }
    AppError::invalid_field(
        &path,
        Localized::new(
            format!("“{path}”的格式或取值不正确，请检查后重试。"),
            format!("The value of “{path}” is missing or not valid."),
        ),
    )
}

fn between_backticks(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let end = start + text[start..].find('`')?;
    Some(&text[start..end])
}

/// Implements `Example` for a request body from the JSON a caller would
/// send, read the way the server reads a body: an example its own type
/// refuses panics the first time the document is built, and so fails the
/// suite, rather than being published. Whether the server then accepts it
/// is `tests/api/examples.rs`'s question.
#[macro_export]
macro_rules! body_example {
    ($body:ty, $($json:tt)+) => {
        impl poem_openapi::types::Example for $body {
            fn example() -> Self {
                serde_json::from_value(serde_json::json!($($json)+))
                    .unwrap_or_else(|error| panic!("the example of {} is refused: {error}", stringify!($body)))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::domain::RegionCode;

    #[derive(Debug, Deserialize, poem_openapi::Object)]
    #[allow(dead_code)]
    struct Form {
        code: String,
        #[serde(default, deserialize_with = "present")]
        region: Option<RegionCode>,
        #[oai(validator(max_items = 2))]
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Deserialize, poem_openapi::Object)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    fn field_of(error: &AppError) -> String {
        error.details.as_ref().unwrap()["fields"][0]["field"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn malformed_and_empty_bodies_are_malformed_json() {
        for body in ["", "  ", "{", "{\"code\": \"a\",}", "{\"code\": \"a\"} trailing"] {
            assert_eq!(
                parse::<Form>(body.as_bytes()).unwrap_err().code,
                ErrorCode::MalformedJson,
                "{body:?}"
            );
        }
    }

    #[test]
    fn refusals_name_the_field_and_never_a_type() {
        let missing = parse::<Form>(b"{}").unwrap_err();
        assert_eq!(field_of(&missing), "code");
        let region = parse::<Form>(br#"{"code": "a", "region": "32x"}"#).unwrap_err();
        assert_eq!(field_of(&region), "region");
        assert!(region.message.unwrap().zh.contains("6位数字"));
        let nested = parse::<Form>(br#"{"code": "a", "items": [{"count": 1}, {"count": -1}]}"#).unwrap_err();
        assert_eq!(field_of(&nested), "items[1].count");
        let null = parse::<Form>(br#"{"code": "a", "region": null}"#).unwrap_err();
        assert_eq!(field_of(&null), "region");
        let root = parse::<Form>(b"[1, 2]").unwrap_err();
        assert_eq!(root.code, ErrorCode::ValidationFailed);
        let shown = format!("{:?}{:?}", root.message, root.details);
        assert!(!shown.contains("Form"), "{shown}");
    }

    #[test]
    fn the_schemas_own_limits_are_enforced_and_name_the_field() {
        let too_many = parse::<Form>(br#"{"code": "a", "items": [{"count": 1}, {"count": 2}, {"count": 3}]}"#);
        let refused = too_many.unwrap_err();
        assert_eq!(field_of(&refused), "items");
        assert!(!format!("{:?}", refused.message).contains("Form"));
        assert!(parse::<Form>(br#"{"code": "a", "items": [{"count": 1}]}"#).is_ok());
    }
}
