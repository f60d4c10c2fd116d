//! Shared helpers for integration tests: in-process replay servers on 127.0.0.1, and the
//! binary in a pseudo-terminal.
// Each test binary compiles this whole module but uses only the server it needs.
#![allow(dead_code)]
pub mod aws;
pub mod es_server;
pub mod loki_server;
pub mod pty;
pub mod replay_eval;
pub mod thread;
pub mod tls;
