//! logsleuth: a terminal log explorer (Kibana Discover / Grafana Explore in an SSH session).
//!
//! The crate is layered so that each layer knows only the ones below it:
//!
//! - [`model`]: records, values, time ranges and aggregation results shared by everything.
//! - [`time`]: durations, RFC 3339 and date math (`now-15m/m`).
//! - [`text`]: making hostile log text safe to draw.
//! - [`kql`]: the Kibana Query Language: parse → AST → translate (ES DSL, LogQL) / evaluate.
//!   Knows nothing of sources or the UI.
//! - [`formats`]: log-line parsers (access logs, JSON, logfmt, syslog) and format detection.
//! - [`sources`]: the [`sources::Source`] trait and one submodule per backend
//!   (local files, Loki, Elasticsearch). Knows nothing of rendering.
//! - [`ui`]: the TUI, a state machine (input → action → state update → render).
//! - [`config`]: the configuration file (named sources, secrets, defaults, saved searches).
//! - [`cli`]: command-line parsing and the non-interactive subcommands.

pub mod cli;
pub mod config;
pub mod export;
pub mod formats;
pub mod kql;
pub mod model;
pub mod sources;
pub mod text;
pub mod time;
pub mod ui;
