//! Parse-don't-validate types: a value of one of these types is valid by construction.

mod field_issue;
mod id_number;
mod phone;
mod region_code;
mod text_type;

pub use field_issue::FieldIssue;
pub use id_number::IdNumber;
pub use phone::PhoneNumber;
pub use region_code::RegionCode;
pub use text_type::TextType;
