//! HTTP concerns shared by every route: problem bodies, the gateway middleware, the route table.

pub mod body_limit;
pub mod client_address;
pub mod console;
pub mod document;
pub mod download;
pub mod gateway;
pub mod json_body;
pub mod params;
pub mod problem;
pub mod rendered_json;
pub mod route_table;
