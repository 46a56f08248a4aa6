//! Adapters to what lives outside the process: database, key-value store.

pub mod certificates;
pub mod crypto;
pub mod db;
pub mod files;
pub mod identity;
pub mod memory_store;
pub mod object_store;
pub mod outbound;
pub mod redis_store;
pub mod spreadsheet;
pub mod store;
pub mod subscribe_message;
pub mod wechat;

#[cfg(test)]
mod store_conformance;
