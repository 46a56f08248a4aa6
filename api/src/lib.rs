//! The Shiminhua application: configuration, start-up, routes, services, infrastructure.

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod infra;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
