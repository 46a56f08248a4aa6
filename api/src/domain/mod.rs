//! Parse-don't-validate types: a value of one of these types is valid by construction.

mod account_number;
mod bounded_text;
mod case_type;
pub mod china_time;
mod client_network;
mod credit_code;
mod field_issue;
mod hukou;
mod id_number;
mod person_name;
mod phone;
mod region_code;
mod sector;
mod text_enum;
mod text_type;
mod username;
mod yuan;

pub use account_number::AccountNumber;
pub use bounded_text::BoundedText;
pub use case_type::CaseType;
pub use client_network::client_network;
pub use credit_code::CreditCode;
pub use field_issue::FieldIssue;
pub use hukou::HukouType;
pub use id_number::IdNumber;
pub use person_name::masked_name;
pub use phone::PhoneNumber;
pub use region_code::RegionCode;
pub use sector::Sector;
pub use text_type::TextType;
pub use username::Username;
pub use yuan::{fen_from_yuan, yuan_text};
