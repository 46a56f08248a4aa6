pub mod app;
pub mod fake_wechat;
pub mod proxy;
pub mod raw_http;
pub mod stored_files;

pub use app::{TestApp, assert_problem};
