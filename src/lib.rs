//! logsleuth: a terminal log explorer (Kibana Discover / Grafana Explore in an SSH session).
//!
//! This crate is the binary's own part: the command line ([`cli`]: clap → [`sources::spec::SourceSpec`]
//! and the non-interactive subcommands) and the configuration file ([`config`]: TOML → specs,
//! secrets, themes and keys → the TUI's types). Everything else lives in the workspace's
//! crates, each importing only those below it (docs/architecture.md):
//!
//! - `logsleuth-core` ([`model`], [`time`], [`text`]): records, time, safe text, shared rules;
//! - `logsleuth-kql` ([`kql`]) and `logsleuth-formats` ([`formats`]), on core;
//! - `logsleuth-sources` ([`sources`]): the `Source` trait, `SourceSpec`, the backends;
//! - `logsleuth-tui` ([`ui`], [`export`]): the TUI and the postmortem report.
//!
//! The re-exports let scripts, tests and benches name every layer through one crate.

pub mod cli;
pub mod config;

pub use logsleuth_core::{agg, model, text, time};
pub use logsleuth_formats as formats;
pub use logsleuth_kql as kql;
pub use logsleuth_sources as sources;
pub use logsleuth_tui as ui;
pub use logsleuth_tui::export;
