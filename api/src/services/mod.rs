//! Domain rules, one module per domain. Services know nothing of HTTP.

pub mod health;
pub mod regions;
