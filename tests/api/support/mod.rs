pub mod app;
pub mod proxy;

pub use app::{TestApp, assert_problem};
