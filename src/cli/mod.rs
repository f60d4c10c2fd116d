//! The command line: argument definitions and the non-interactive subcommands.

pub mod args;
pub mod commands;
pub mod kql_cmd;
pub mod source;

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

/// `logsleuth FILE...` / server flags: the TUI on that source.
fn tui(source: &args::SourceArgs, time: &args::TimeArgs, kql: Option<String>, ui: &args::UiArgs) -> Result<(), CliError> {
    // The configuration's defaults apply where the flags say nothing.
    let defaults = crate::config::open::ui_defaults(source.config.as_deref())?;
    let src = source::open_source(source)?;
    let given = time.since.is_some() || time.from.is_some() || time.to.is_some();
    let now = crate::time::now_nanos();
    let range = if given {
        Some(source::resolve_range(time, src.info().is_remote, now)?)
    } else if src.info().is_remote {
        defaults.range.map(|d| crate::model::TimeRange::between(now.saturating_sub(d), now))
    } else {
        None
    };
    let theme = ui.theme.clone().or(defaults.theme);
    run_ui(src, crate::ui::UiOptions {
        theme,
        query: kql,
        range,
        history_path: None,
        max_lines: ui.max_lines.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        keys: defaults.keys,
        saved_searches: defaults.saved_searches,
    })
}

/// `logsleuth demo`: the TUI on the bundled sample data.
fn demo(args: &args::DemoArgs) -> Result<(), CliError> {
    let src = std::sync::Arc::new(crate::sources::local::LocalSource::demo(!args.no_generator));
    run_ui(src, crate::ui::UiOptions {
        theme: args.ui.theme.clone(),
        max_lines: args.ui.max_lines.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..Default::default()
    })
}

fn run_ui(src: std::sync::Arc<dyn crate::sources::Source>, options: crate::ui::UiOptions) -> Result<(), CliError> {
    // An unknown theme is a usage error, reported before the terminal is taken over.
    crate::ui::Theme::load(options.theme.as_deref(), crate::ui::theme::default_config_dir().as_deref(), false)
        .map_err(|e| CliError::usage(e.to_string()))?;
    crate::ui::run(src, options).map_err(|e| CliError::source(e.to_string()))
}

/// Runs the parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        None => tui(&cli.source, &cli.time, cli.kql.clone(), &cli.ui),
        Some(Command::Demo(args)) => demo(&args),
        Some(Command::Kql(args)) => kql_cmd::run(&args),
        Some(Command::Query(args)) => commands::query(args),
        Some(Command::Top(args)) => commands::top(args),
        Some(Command::Histogram(args)) => commands::histogram(args),
        Some(Command::Tail(args)) => commands::tail(args),
        Some(Command::Config(args::ConfigCommand::Check)) => crate::config::command::run(cli.source.config.as_deref()),
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
