//! Seed data kept apart from the migrations that write it.

pub mod holidays;
