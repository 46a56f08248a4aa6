//! sea-orm entities: the tables, nothing about HTTP.

pub mod region;
