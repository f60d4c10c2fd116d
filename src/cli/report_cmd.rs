//! `logsleuth report --workspace NAME [--output FILE]`: the postmortem report of a saved
//! workspace, written without the TUI, so a postmortem can be regenerated after the fact. It
//! opens the workspace's panes (source, query, range), asks each for its hits and histogram,
//! takes the marks and notes the workspace keeps, gathers the draft's figures
//! ([`crate::ui::export::postmortem::gather`]) and renders the same report the TUI exports.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::CliError;
use super::commands::{runtime, wait_ready};
use super::tui::range_spec;
use crate::model::Nanos;
use crate::sources::{HistogramRequest, Query, SearchRequest, Source, Split};
use crate::ui::app::RangeSpec;
use crate::ui::export::report::{MarkReport, PaneReport, Report};
use crate::ui::workspace::{self, WorkspaceFile};

/// Buckets of each pane's histogram (about a terminal's width, as in the TUI).
const HISTOGRAM_BUCKETS: usize = 60;

/// `logsleuth report`
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// The workspace: a name (`workspaces/NAME.toml` next to the configuration file) or a
    /// path to its file. Its marks and notes make the timeline and the root-cause headings.
    #[arg(long, value_name = "NAME")]
    pub workspace: String,
    /// Where to write the report (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `logsleuth report`.
pub fn run(args: ReportArgs, config: Option<&std::path::Path>) -> Result<(), CliError> {
    let (_, file) = workspace::load(&args.workspace).map_err(CliError::usage)?;
    let defaults = crate::config::open::ui_defaults(config)?;
    let now = crate::time::now_nanos();
    let mut sources = Vec::new();
    for (i, p) in file.panes.iter().enumerate() {
        let source = super::source::open_spec(&p.source, config)
            .map_err(|e| CliError { code: e.code, message: format!("workspace pane {} ({}): {}", i + 1, p.source.label(), e.message) })?;
        sources.push(source);
    }
    let authors = crate::config::report_authors(&defaults.report_authors);
    let text = runtime()?.block_on(async {
        for s in &sources {
            wait_ready(s).await;
        }
        let mut report = report_of(&args.workspace, &file, &sources, now, authors).await?;
        let with_sources: Vec<Option<Arc<dyn Source>>> = sources.iter().cloned().map(Some).collect();
        report.draft = Some(crate::ui::export::postmortem::gather(&report, &with_sources).await);
        Ok::<_, CliError>(crate::ui::export::report::render(&report))
    })?;
    match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            crate::ui::export::write_atomic(path, text.as_bytes(), false)
                .map_err(|e| CliError::source(format!("could not write {}: {e}", path.display())))?;
            eprintln!("logsleuth: wrote the report ({} lines) to {}", text.lines().count(), path.display());
            Ok(())
        }
        _ => {
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes()).map_err(|e| CliError::source(e.to_string()))
        }
    }
}

/// The report's plain data for a workspace: each pane's hits and histogram over its range,
/// and the workspace's marks.
async fn report_of(name: &str, file: &WorkspaceFile, sources: &[Arc<dyn Source>], now: Nanos, authors: Vec<String>) -> Result<Report, CliError> {
    let mut panes = Vec::new();
    for (i, (p, source)) in file.panes.iter().zip(sources).enumerate() {
        let info = source.info();
        let range_spec = match &p.range {
            Some(r) => range_spec(r, now).map_err(|e| CliError::usage(format!("workspace pane {}: {e}", i + 1)))?,
            None if info.is_remote => RangeSpec::Last(3600 * crate::time::NS_PER_SEC),
            None => RangeSpec::All,
        };
        let range = range_spec.resolve(now);
        let native = p.language.eq_ignore_ascii_case("native");
        let query = if native { Query::native(&p.query) } else { Query::kql(&p.query) };
        let language = crate::ui::app::language_name(query.language, info.kind);
        let page = source.search(SearchRequest { query: query.clone(), range, limit: 1, cursor: None }).await?;
        let histogram = source
            .histogram(HistogramRequest { query, range, interval: None, target_buckets: HISTOGRAM_BUCKETS, split: Split::None })
            .await
            .ok();
        panes.push(PaneReport {
            label: format!("Pane {}", i + 1),
            source_kind: info.kind.to_string(),
            source: info.description.clone(),
            query: p.query.clone(),
            language: language.into(),
            kql: !native,
            command_source: p.source.command_args(),
            range,
            range_label: range_spec.label(),
            hits: page.total,
            loaded: 0,
            histogram,
            charts: Vec::new(),
            comparison: None,
            patterns: None,
        });
    }
    let mut marks = Vec::new();
    for m in &file.marks {
        let (time, end) = m.times().map_err(CliError::usage)?;
        marks.push(MarkReport {
            time,
            end,
            pane: format!("Pane {}", m.pane + 1),
            source: sources.get(m.pane).map(|s| s.info().description).unwrap_or_default(),
            note: m.note.clone(),
            line: m.line.clone(),
            fields: m.fields.clone(),
            count: m.count,
        });
    }
    Ok(Report {
        generated: now,
        title: crate::ui::investigate::report_title(Some(name)),
        authors,
        panes,
        marks,
        request_paths: Vec::new(),
        draft: None,
    })
}
