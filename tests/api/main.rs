//! Black-box tests of the whole service over HTTP: a real server on a random
//! port with a fresh database each. `SHIMINHUA_TEST_BACKEND=external` runs
//! them on PostgreSQL + Redis; the default is SQLite + the in-process store.

mod support;

mod accounts;
mod administration;
mod agency_transfers;
mod applications;
mod authorization;
mod body_limits;
mod calendar;
mod case_writes;
mod certificates;
mod cli;
mod console;
mod documents;
mod errors;
mod examples;
mod exports;
mod health;
mod inspection;
mod integrators;
mod integrators_guide;
mod keyset;
mod notifications;
mod openapi;
mod outages;
mod payments;
mod policies;
mod protection;
mod rate_limits;
mod ratings;
mod recommendations;
mod redis_cluster;
mod regions;
mod relatives;
mod retention;
mod staff;
mod statistics;
mod subsidies;
mod tokens;
mod transfer_steps;
mod transfers;
mod wage_reports;
mod webhooks;
mod window_filing;
mod workers;
