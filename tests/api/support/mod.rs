pub mod app;
pub mod fake_wechat;
pub mod proxy;

pub use app::{TestApp, assert_problem};
