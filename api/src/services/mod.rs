//! Domain rules, one module per domain. Services know nothing of HTTP.

pub mod accounts;
pub mod allowances;
pub mod applications;
pub mod audit;
pub mod calendar;
pub mod case_log;
pub mod clients;
pub mod counters;
pub mod documents;
pub mod export_slots;
pub mod exports;
pub mod health;
pub mod idempotency;
pub mod notifications;
pub mod policies;
pub mod programs;
pub mod rekey;
pub mod retention;
pub mod sessions;
pub mod staff;
pub mod stats;
pub mod transfers;
pub mod uploads;
pub mod wage_reports;
pub mod webhooks;
pub mod workers;
