//! sea-orm entities: the tables, nothing about HTTP.

pub mod audit_log;
pub mod integrator_client;
pub mod policy;
pub mod region;
pub mod staff_account;
pub mod worker;
