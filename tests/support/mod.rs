//! Shared test helpers.
pub mod es_server;
