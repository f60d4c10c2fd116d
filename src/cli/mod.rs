//! The command line: argument definitions and the non-interactive subcommands.

pub mod args;
pub mod cloudwatch_cmd;
pub mod commands;
pub mod compare_cmd;
pub mod kql_cmd;
pub mod patterns_cmd;
pub mod report_cmd;
pub mod source;
pub mod thread_cmd;
pub mod tui;
pub mod watch_cmd;

use std::io::Write;

pub use args::Cli;
use args::Command;

/// An error that ends the program with a status: 2 for usage/query errors, 1 for source errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// Exit status.
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
}

impl CliError {
    /// A usage or query error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError { code: 2, message: message.into() }
    }

    /// A source error (exit 1).
    pub fn source(message: impl Into<String>) -> Self {
        CliError { code: 1, message: message.into() }
    }
}

impl From<crate::sources::SourceError> for CliError {
    fn from(e: crate::sources::SourceError) -> Self {
        CliError { code: e.exit_code(), message: e.to_string() }
    }
}

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    set_memory_budget(&cli);
    let result = match cli.command {
        None => tui::tui(&cli.source, &cli.time, cli.kql.clone(), &cli.ui),
        Some(Command::Demo(args)) => tui::demo(&args),
        Some(Command::Kql(args)) => kql_cmd::run(&args),
        Some(Command::Query(args)) => commands::query(args),
        Some(Command::Top(args)) => commands::top(args),
        Some(Command::Histogram(args)) => commands::histogram(args),
        Some(Command::Tail(args)) => commands::tail(args),
        Some(Command::Patterns(args)) => patterns_cmd::run(args),
        Some(Command::Compare(args)) => compare_cmd::run(args),
        Some(Command::Cloudwatch(args::CloudwatchCommand::Groups(args))) => cloudwatch_cmd::groups(&args),
        Some(Command::Report(args)) => report_cmd::run(args, cli.source.config.as_deref()),
        Some(Command::Config(args::ConfigCommand::Check)) => crate::config::command::run(cli.source.config.as_deref()),
        Some(Command::Watch(args)) => watch_cmd::run(args),
        Some(Command::Thread(args)) => thread_cmd::run(args, cli.source.config.as_deref()),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            // Line by line, so multi-line messages (a KQL caret display) keep their layout.
            let text: Vec<std::borrow::Cow<str>> = e.message.split('\n').map(crate::text::sanitize).collect();
            let _ = writeln!(std::io::stderr(), "logsleuth: {}", text.join("\n"));
            e.code
        }
    }
}

/// The memory budget of local sources: `--max-memory`, else `max_memory` in the
/// configuration, else the default (10% of the machine's memory).
fn set_memory_budget(cli: &Cli) {
    let config = match &cli.command {
        Some(Command::Query(a)) => a.source.config.as_deref(),
        Some(Command::Top(a)) => a.source.config.as_deref(),
        Some(Command::Histogram(a)) => a.source.config.as_deref(),
        Some(Command::Tail(a)) => a.source.config.as_deref(),
        Some(Command::Watch(a)) => a.source.config.as_deref(),
        Some(Command::Patterns(a)) => a.source.config.as_deref(),
        Some(Command::Compare(a)) => a.source.config.as_deref(),
        _ => cli.source.config.as_deref(),
    };
    let from_config = || {
        // An unusable file is reported by the command itself.
        let loaded = crate::config::load_optional(config).ok().flatten()?;
        crate::sources::local::parse_size(loaded.config.max_memory.as_deref()?).ok()
    };
    if let Some(bytes) = cli.max_memory.or_else(from_config) {
        crate::sources::local::set_default_max_memory(bytes);
    }
    // This process is logsleuth's own: the budget holds its private memory too.
    crate::sources::local::watch_process_memory(true);
}
