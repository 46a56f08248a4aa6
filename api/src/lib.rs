//! The Shiminhua application: configuration, start-up, routes, services, infrastructure.

pub mod access;
pub mod auth;
pub mod cli;
pub mod config;
pub mod context;
pub mod domain;
pub mod error;
pub mod http;
pub mod infra;
pub mod regions;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
