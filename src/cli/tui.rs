//! Starting the TUI from the command line: one pane on the flags' source, the demo, or a
//! workspace (`--workspace NAME`) of tabs and panes; and the opener that lets the UI open more
//! sources with the same code paths as the flags.

use std::path::PathBuf;
use std::sync::Arc;

use super::CliError;
use super::args::{DemoArgs, SourceArgs, TimeArgs, UiArgs};
use crate::sources::spec::SourceSpec;
use crate::ui::workspace::{self, RangeSpecFile, WorkspaceFile};
use crate::model::{Nanos, TimeRange};
use crate::sources::Source;
use crate::ui::app::RangeSpec;
use crate::ui::runtime::SourceOpener;
use crate::ui::{StartLayout, StartPane, StartWatch, UiOptions};

/// Opens pane sources like the command line does: files, `--loki`, `--es`, a configured
/// `--source NAME` (with the same `--config`), or the demo.
pub struct CliOpener {
    /// The `--config` in effect.
    pub config: Option<PathBuf>,
}

impl SourceOpener for CliOpener {
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        super::source::open_spec(spec, self.config.as_deref()).map_err(|e| crate::text::sanitize(&e.message).into_owned())
    }
}

fn has_source_flags(args: &SourceArgs) -> bool {
    !args.files.is_empty() || args.loki.is_some() || args.es.is_some() || args.source.is_some() || !args.cloudwatch.is_empty()
}

/// `logsleuth FILE...` / server flags / `--workspace NAME`: the TUI.
pub fn tui(source: &SourceArgs, time: &TimeArgs, kql: Option<String>, ui: &UiArgs) -> Result<(), CliError> {
    // The configuration's defaults apply where the flags say nothing.
    let defaults = crate::config::open::ui_defaults(source.config.as_deref())?;
    let opener = Arc::new(CliOpener { config: source.config.clone() });
    let now = crate::time::now_nanos();
    let mut options = UiOptions {
        theme: ui.theme.clone().or(defaults.theme),
        query: kql,
        range: None,
        history_path: None,
        max_lines: ui.max_lines.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        workspace: ui.workspace.clone(),
        named_sources: defaults.sources,
        keys: defaults.keys,
        saved_searches: defaults.saved_searches,
        thread_aliases: defaults.thread_aliases,
        thread_widen_minutes: defaults.thread_widen_minutes,
        report_authors: crate::config::report_authors(&defaults.report_authors),
        watches: Vec::new(),
        watch_every: None,
        alertmanager: Vec::new(),
        webhook: Vec::new(),
    };
    let config_watches = defaults.watches;
    if let Some(start) = saved_workspace(ui, has_source_flags(source), &opener, now)? {
        (options.watches, options.watch_every) = start_watches(ui, &config_watches, &start)?;
        (options.alertmanager, options.webhook) = (ui.alertmanager.clone(), ui.webhook.clone());
        return run_ui(start, options);
    }
    let src = super::source::open_source(source)?;
    let given = time.since.is_some() || time.from.is_some() || time.to.is_some();
    options.range = if given {
        Some(super::source::resolve_range(time, src.info().is_remote, now)?)
    } else if src.info().is_remote {
        defaults.range.map(|d| TimeRange::between(now.saturating_sub(d), now))
    } else {
        None
    };
    let mut start = StartLayout::single(src, super::source::origin_spec(source));
    start.opener = Some(opener);
    (options.watches, options.watch_every) = start_watches(ui, &config_watches, &start)?;
    (options.alertmanager, options.webhook) = (ui.alertmanager.clone(), ui.webhook.clone());
    run_ui(start, options)
}

/// `logsleuth demo`: the TUI on the bundled sample data.
pub fn demo(args: &DemoArgs) -> Result<(), CliError> {
    let opener = Arc::new(CliOpener { config: None });
    // The demo takes the configuration's sources, keys and saved searches, not its theme.
    let defaults = crate::config::open::ui_defaults(None).unwrap_or_default();
    let mut options = UiOptions {
        theme: args.ui.theme.clone(),
        max_lines: args.ui.max_lines.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        workspace: args.ui.workspace.clone(),
        named_sources: defaults.sources,
        keys: defaults.keys,
        saved_searches: defaults.saved_searches,
        thread_aliases: defaults.thread_aliases,
        thread_widen_minutes: defaults.thread_widen_minutes,
        report_authors: crate::config::report_authors(&defaults.report_authors),
        ..Default::default()
    };
    if let Some(start) = saved_workspace(&args.ui, false, &opener, crate::time::now_nanos())? {
        (options.watches, options.watch_every) = start_watches(&args.ui, &[], &start)?;
        (options.alertmanager, options.webhook) = (args.ui.alertmanager.clone(), args.ui.webhook.clone());
        return run_ui(start, options);
    }
    let src = Arc::new(crate::sources::local::LocalSource::demo(!args.no_generator));
    let mut start = StartLayout::single(src, Some(SourceSpec::Demo));
    start.opener = Some(opener);
    (options.watches, options.watch_every) = start_watches(&args.ui, &[], &start)?;
    (options.alertmanager, options.webhook) = (args.ui.alertmanager.clone(), args.ui.webhook.clone());
    run_ui(start, options)
}

/// The TUI's watches: `--watch` rules on the first pane, and the configuration's `[[watches]]`
/// on the pane showing their source (those without a `source`: the first pane; those whose
/// source no pane shows are left to `logsleuth watch`). Bad rules are usage errors with the
/// caret under the mistake, before the terminal is taken over.
pub fn start_watches(
    ui: &UiArgs,
    config: &[crate::config::watches::WatchConfig],
    start: &StartLayout,
) -> Result<(Vec<StartWatch>, Option<Nanos>), CliError> {
    let every = crate::time::parse_duration(&ui.watch_every).map_err(|e| CliError::usage(format!("--watch-every: {e}")))?;
    if every <= 0 {
        return Err(CliError::usage("--watch-every must be longer than 0"));
    }
    let mut out: Vec<StartWatch> = Vec::new();
    for text in &ui.watch {
        let rule = crate::sources::watch::parse_rule(text).map_err(|e| CliError::usage(format!("--watch: {}", e.message)))?;
        out.push(StartWatch { watch: crate::sources::watch::Watch::new(rule), pane: 0 });
    }
    for w in config {
        let pane = match &w.source {
            None => Some(0),
            Some(name) => start.panes.iter().position(|p| p.origin.as_ref().and_then(|o| o.name()) == Some(name.as_str())),
        };
        let Some(pane) = pane else { continue };
        let watch = w.watch().map_err(|e| CliError::usage(format!("[[watches]] {}: {e}", w.name)))?;
        out.push(StartWatch { watch, pane });
    }
    // Checked now, so a bad URL is a usage error rather than a note in the panel.
    for url in &ui.alertmanager {
        crate::sources::watch::notify::Sink::alertmanager(url).map_err(|e| CliError::usage(format!("--alertmanager: {e}")))?;
    }
    for url in &ui.webhook {
        crate::sources::watch::notify::Sink::webhook(url).map_err(|e| CliError::usage(format!("--webhook: {e}")))?;
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = out.iter().find(|w| !seen.insert(w.watch.rule.name.clone())) {
        return Err(CliError::usage(format!("two watches are named {}", dup.watch.rule.name)));
    }
    Ok((out, Some(every)))
}

/// The layout of `--workspace NAME` when its file exists. A name without a file starts a
/// new workspace on the flags' source (Ctrl-w S saves it); with neither it is an error.
fn saved_workspace(ui: &UiArgs, flags: bool, opener: &Arc<CliOpener>, now: Nanos) -> Result<Option<StartLayout>, CliError> {
    let Some(name) = &ui.workspace else { return Ok(None) };
    let path = workspace::path_for(name).map_err(CliError::usage)?;
    if !path.exists() {
        if flags {
            return Ok(None);
        }
        return Err(CliError::usage(format!(
            "no workspace file at {}: open the sources with flags and press Ctrl-w S to save it",
            path.display()
        )));
    }
    if flags {
        return Err(CliError::usage(format!(
            "workspace {name} names its own sources: give either --workspace or source flags (FILE, --loki, --es, --cloudwatch, --source)"
        )));
    }
    let (_, file) = workspace::load(name).map_err(CliError::usage)?;
    start_layout(&file, opener.clone(), now).map(Some)
}

/// Opens every pane of a workspace file.
pub fn start_layout(file: &WorkspaceFile, opener: Arc<dyn SourceOpener>, now: Nanos) -> Result<StartLayout, CliError> {
    let mut panes = Vec::new();
    for (i, p) in file.panes.iter().enumerate() {
        let source = opener
            .open(&p.source)
            .map_err(|e| CliError::source(format!("workspace pane {} ({}): {e}", i + 1, p.source.label())))?;
        let range = match &p.range {
            Some(r) => Some(range_spec(r, now).map_err(|e| CliError::usage(format!("workspace pane {}: {e}", i + 1)))?),
            None => None,
        };
        panes.push(StartPane {
            source,
            origin: Some(p.source.clone()),
            query: p.query.clone(),
            native: p.language.eq_ignore_ascii_case("native"),
            columns: p.columns.clone(),
            range,
            linked: p.linked,
        });
    }
    Ok(StartLayout {
        panes,
        tabs: file.tabs.iter().map(|t| (t.layout.clone(), t.focus)).collect(),
        tab: file.tab,
        opener: Some(opener),
        marks: file.marks.clone(),
    })
}

/// A workspace range as the UI's range.
pub fn range_spec(r: &RangeSpecFile, now: Nanos) -> Result<RangeSpec, String> {
    if let Some(last) = &r.last {
        return crate::time::parse_duration(last).map(RangeSpec::Last).map_err(|e| e.to_string());
    }
    // The one range rule every caller shares: a rounded `to` is exclusive.
    let range = crate::time::resolve_range(r.from.as_deref(), r.to.as_deref(), now, None).map_err(|e| e.to_string())?;
    Ok(if range == TimeRange::ALL { RangeSpec::All } else { RangeSpec::Absolute(range) })
}

fn run_ui(start: StartLayout, options: UiOptions) -> Result<(), CliError> {
    // An unknown theme is a usage error, reported before the terminal is taken over.
    crate::ui::Theme::load(options.theme.as_deref(), crate::ui::theme::default_config_dir().as_deref(), false)
        .map_err(|e| CliError::usage(e.to_string()))?;
    crate::ui::run_layout(start, options).map_err(|e| CliError::source(e.to_string()))
}
