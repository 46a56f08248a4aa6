//! Domain rules, one module per domain. Services know nothing of HTTP.

pub mod audit;
pub mod clients;
pub mod health;
pub mod policies;
pub mod regions;
pub mod sessions;
pub mod staff;
pub mod workers;
