//! Shared helpers for integration tests.
pub mod loki_server;
