//! Parse-don't-validate types: a value of one of these types is valid by construction.

mod field_issue;
mod region_code;
mod text_type;

pub use field_issue::FieldIssue;
pub use region_code::RegionCode;
pub use text_type::TextType;
