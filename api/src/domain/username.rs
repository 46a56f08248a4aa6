use poem_openapi::registry::MetaSchema;

use super::{FieldIssue, TextType};

/// A staff login name: 3 to 64 lowercase letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl TextType for Username {
    const SCHEMA_NAME: &'static str = "Username";

    fn parse(text: &str) -> Result<Self, FieldIssue> {
        let valid = (3..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b));
        if valid {
            Ok(Username(text.to_owned()))
        } else {
            Err(FieldIssue::UsernameFormat)
        }
    }

    fn as_text(&self) -> &str {
        &self.0
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("Staff login name"),
            pattern: Some("^[a-z0-9._-]{3,64}$".to_owned()),
            min_length: Some(3),
            max_length: Some(64),
            example: Some(serde_json::json!("jiangning.reviewer")),
            ..MetaSchema::new("string")
        }
    }
}

crate::text_type_traits!(Username);

impl Username {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
