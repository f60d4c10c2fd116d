//! Grafana Loki: HTTP API and tail websocket.
//!
//! SKELETON: implemented with the Loki issue.
