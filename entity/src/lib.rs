//! sea-orm entities: the tables, nothing about HTTP.

pub mod application;
pub mod application_event;
pub mod audit_log;
pub mod calendar_day;
pub mod certificate;
pub mod counter;
pub mod idempotency_record;
pub mod integrator_client;
pub mod notification;
pub mod outbox;
pub mod payment_batch;
pub mod payment_line;
pub mod policy;
pub mod program;
pub mod region;
pub mod si_transfer;
pub mod si_transfer_change;
pub mod si_transfer_step;
pub mod staff_account;
pub mod upload;
pub mod wage_report;
pub mod wage_report_event;
pub mod webhook_delivery;
pub mod window_filing;
pub mod worker;
