//! The terminal UI: a state machine (input → action → state update → render).
//!
//! - [`keys`] maps terminal events to [`Action`]s by mode;
//! - [`update()`] is the reducer: `update(&mut App, Action) -> Vec<Effect>`, pure and testable;
//! - [`runtime`] runs effects (source calls) in tokio tasks that answer over a channel, tagged
//!   with a generation so stale answers are dropped;
//! - [`view`] draws the [`App`] into a ratatui frame; the loop redraws only when the state
//!   changed.
//!
//! The entry point is [`run`].

pub mod action;
pub mod app;
pub mod bindings;
pub mod clipboard;
pub mod complete;
pub mod editor;
pub mod features;
pub mod history;
pub mod investigate;
pub mod keymap;
pub mod layout;
pub mod notify;
pub mod keys;
pub mod panes;
pub mod runtime;
pub mod saved;
pub mod svg;
pub mod theme;
pub mod tiles;
pub mod update;
pub mod view;
pub mod workspace;
pub mod export;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, EventStream,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};

pub use action::{Action, Effect};
pub use app::App;
pub use theme::Theme;
pub use update::update;

use logsleuth_core::model::TimeRange;
use logsleuth_sources::Source;

/// Options for [`run`].
#[derive(Debug, Clone, Default)]
pub struct UiOptions {
    /// Theme name (`dark`, `light`, `high-contrast`, or a user theme); `None` for the default.
    pub theme: Option<String>,
    /// Initial KQL query.
    pub query: Option<String>,
    /// Initial time range; `None` for the source's default (last hour for servers, the whole
    /// span for local files).
    pub range: Option<TimeRange>,
    /// History file; `None` for the default under the XDG state dir.
    pub history_path: Option<PathBuf>,
    /// Most lines a pane keeps in memory (`--max-lines`); `None` for the default
    /// ([`app::MAX_RECORDS`]).
    pub max_lines: Option<usize>,
    /// Key overrides of the main screen, the configuration's `[keys]` table (action → key).
    pub keys: std::collections::BTreeMap<String, String>,
    /// Saved searches of the configuration (`[[saved_searches]]`).
    pub saved_searches: Vec<saved::SearchEntry>,
    /// The workspace to save to (`--workspace NAME`).
    pub workspace: Option<String>,
    /// Names of configured sources, offered when opening a pane.
    pub named_sources: Vec<String>,
    /// Field aliases for "follow in all panes" (the configuration's `[thread.aliases]`).
    pub thread_aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Minutes each side the thread view's widen key first reaches (`None`: 5).
    pub thread_widen_minutes: Option<u32>,
    /// The postmortem report's authors (the configuration's `[report] authors`, else `$USER`).
    pub report_authors: Vec<String>,
    /// Watches to evaluate from the start (the configuration's `[[watches]]`, `--watch`).
    pub watches: Vec<StartWatch>,
    /// How often watches are evaluated; `None` for 15 s.
    pub watch_every: Option<logsleuth_core::model::Nanos>,
    /// Alertmanager base URLs the watches' alerts go to.
    pub alertmanager: Vec<String>,
    /// Webhook URLs that get the watches' state changes.
    pub webhook: Vec<String>,
}

/// A watch given at start, on the pane of that index in the start layout.
#[derive(Debug, Clone)]
pub struct StartWatch {
    /// The rule and its labels.
    pub watch: logsleuth_sources::watch::Watch,
    /// The index of its pane in [`StartLayout::panes`] (the first when out of range).
    pub pane: usize,
}

/// A pane to show at start.
pub struct StartPane {
    /// Its source, already open.
    pub source: Arc<dyn Source>,
    /// How to open it again (for workspaces); `None` for stdin.
    pub origin: Option<logsleuth_sources::spec::SourceSpec>,
    /// Initial query.
    pub query: String,
    /// The query is in the source's native language rather than KQL.
    pub native: bool,
    /// Table columns; the source's defaults when empty.
    pub columns: Vec<String>,
    /// Time range; the source's default when `None`.
    pub range: Option<app::RangeSpec>,
    /// Shares the time range with the other linked panes.
    pub linked: bool,
}

/// The panes and tabs to show at start (a workspace, or one pane).
pub struct StartLayout {
    /// The panes; their ids are their indices.
    pub panes: Vec<StartPane>,
    /// Tabs: layout (leaves are pane indices) and focused pane.
    pub tabs: Vec<(tiles::Tile, usize)>,
    /// The shown tab.
    pub tab: usize,
    /// Opens the sources of panes added later.
    pub opener: Option<Arc<dyn runtime::SourceOpener>>,
    /// Marks to restore (a workspace's); their `pane` is an index into `panes`.
    pub marks: Vec<workspace::MarkFile>,
}

impl StartLayout {
    /// One pane on `source`.
    pub fn single(source: Arc<dyn Source>, origin: Option<logsleuth_sources::spec::SourceSpec>) -> StartLayout {
        StartLayout {
            panes: vec![StartPane { source, origin, query: String::new(), native: false, columns: Vec::new(), range: None, linked: true }],
            tabs: vec![(tiles::Tile::Pane(0), 0)],
            tab: 0,
            opener: None,
            marks: Vec::new(),
        }
    }
}

/// The state for a start layout: pane `i` gets id `i`. The options' query and range apply to
/// the first pane when it has none of its own.
pub fn build_app(start: &StartLayout, options: &UiOptions, theme: Theme, history: history::History, now: logsleuth_core::model::Nanos) -> App {
    let first = &start.panes[0];
    let query = if first.query.is_empty() { options.query.clone() } else { Some(first.query.clone()) };
    let mut app = App::new(first.source.info(), query, options.range, theme, history, now);
    for p in &start.panes[1..] {
        app.add_pane(app::Pane::new(p.source.info(), app::RangeSpec::All, &p.query));
    }
    for (i, p) in start.panes.iter().enumerate() {
        let pane = &mut app.panes[i];
        let remote = pane.info.is_remote;
        if let Some(range) = p.range {
            pane.range = range;
        } else if i > 0 {
            pane.range = if remote { app::RangeSpec::Last(3600 * logsleuth_core::time::NS_PER_SEC) } else { app::RangeSpec::All };
        }
        if !p.columns.is_empty() {
            pane.choose_columns(p.columns.clone());
        }
        if p.native {
            pane.language = logsleuth_sources::QueryLanguage::Native;
            pane.applied.language = logsleuth_sources::QueryLanguage::Native;
        }
        pane.origin = p.origin.clone();
        pane.linked = p.linked;
        if let Some(max_lines) = options.max_lines {
            pane.limits = app::BufferLimits::with_max_lines(max_lines);
        }
    }
    app.tabs = start.tabs.iter().map(|(root, focus)| tiles::Tab { root: root.clone(), focus: *focus, maximised: false }).collect();
    if app.tabs.is_empty() {
        app.tabs.push(tiles::Tab::new(0));
    }
    app.show_tab(start.tab.min(app.tabs.len() - 1));
    app.workspace = options.workspace.clone();
    app.named_sources = options.named_sources.clone();
    app.thread.aliases = logsleuth_sources::thread::FieldAliases::new(&options.thread_aliases);
    app.thread.widen_minutes = options.thread_widen_minutes.map_or(0, i64::from);
    app.report_authors = options.report_authors.clone();
    for m in &start.marks {
        let Ok((time, end)) = m.times() else { continue };
        let Some(pane) = app.panes.get(m.pane) else { continue };
        let line = m.line.as_ref().map(|text| {
            let mut r = logsleuth_core::model::Record::plain(text.clone());
            r.timestamp = Some(time);
            r
        });
        let mark = investigate::Mark { pane: pane.id, source: pane.info.description.clone(), time, end, line, fields: m.fields.clone(), count: m.count, note: m.note.clone() };
        app.marks.push(mark);
    }
    app.marks.sort_by_key(|m| (m.time, m.end));
    app.watches.alertmanager = options.alertmanager.clone();
    app.watches.webhook = options.webhook.clone();
    if let Some(every) = options.watch_every.filter(|e| *e > 0) {
        app.watches.every = every;
    }
    for w in &options.watches {
        let pane = app.panes.get(w.pane).map_or(app.panes[0].id, |p| p.id);
        app.watches.add(w.watch.clone(), pane);
    }
    app
}

/// How often the loop wakes without input (spinner, tail rate, relative time).
const TICK: Duration = Duration::from_millis(200);

/// Runs the TUI on a source until the user quits. Sets up the terminal (raw mode, alternate
/// screen, mouse capture) and restores it on quit, on error and on panic.
pub fn run(source: Arc<dyn Source>, options: UiOptions) -> anyhow::Result<()> {
    run_layout(StartLayout::single(source, None), options)
}

/// Runs the TUI on a layout of panes (a workspace) until the user quits.
pub fn run_layout(start: StartLayout, options: UiOptions) -> anyhow::Result<()> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let config_dir = theme::default_config_dir();
    let theme = Theme::load(options.theme.as_deref(), config_dir.as_deref(), no_color)?;
    let history_path = options.history_path.clone().or_else(history::History::default_path);
    let history = history::History::load(history_path.clone());
    let mut app = build_app(&start, &options, theme, history, logsleuth_core::time::now_nanos());
    investigate_setup(&mut app, &options, history_path.as_deref());
    let sources: Vec<Arc<dyn Source>> = start.panes.iter().map(|p| p.source.clone()).collect();
    let opener = start.opener.clone();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    install_panic_hook();
    let mut terminal = setup_terminal()?;
    let result = rt.block_on(async {
        let events = EventStream::new();
        // Debug builds only: lets the pty tests check the terminal is restored on a panic.
        if cfg!(debug_assertions) && std::env::var_os("LOGSLEUTH_DEBUG_PANIC").is_some() {
            panic!("LOGSLEUTH_DEBUG_PANIC is set");
        }
        tokio::select! {
            result = event_loop_with(&mut terminal, app, sources, opener, history_path, events) => Ok(result),
            signal = termination_signal() => Err(signal),
        }
    });
    restore_terminal();
    let result = match result {
        Ok(result) => result,
        Err(signal) => {
            // Killed (SIGTERM), hung up (an SSH session dropping) or interrupted from outside
            // the terminal: the terminal is restored above; exit as the signal would have.
            rt.shutdown_background();
            std::process::exit(128 + signal);
        }
    };
    let _ = terminal.show_cursor();
    rt.shutdown_timeout(Duration::from_millis(200));
    result.map(|_| ())
}

/// The incident workflow's settings: key overrides, saved searches (configuration and the
/// file next to the history), clipboard options from the environment.
fn investigate_setup(app: &mut App, options: &UiOptions, history_path: Option<&std::path::Path>) {
    app.keymap = keymap::Keymap::from_table(&options.keys);
    app.investigate.config_searches = options.saved_searches.iter().map(saved::SavedSearch::from_config).collect();
    app.investigate.searches_path = history_path.and_then(saved::path_next_to).or_else(saved::default_path);
    if let Some(path) = &app.investigate.searches_path {
        match saved::load(path) {
            Ok(searches) => app.investigate.searches = searches,
            Err(e) => app.message = Some(e),
        }
    }
    app.investigate.clipboard = clipboard::ClipboardOptions::from_env();
    app.watches.multiplexer = app.investigate.clipboard.multiplexer;
}

fn setup_terminal() -> anyhow::Result<Terminal<CrosstermBackend<std::io::Stdout>>> {
    enable_raw_mode()?;
    let mut out = std::io::stdout();
    if let Err(e) = crossterm::execute!(out, EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste) {
        restore_terminal();
        return Err(e.into());
    }
    Ok(Terminal::new(CrosstermBackend::new(out))?)
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(out, DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
    let _ = out.flush();
}

/// Waits for a signal that ends the program and returns its number. Ctrl-C in raw mode is a
/// key, not SIGINT; SIGINT still comes from `kill -INT` or a parent's process group.
#[cfg(unix)]
async fn termination_signal() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        (SignalKind::terminate(), 15),
        (SignalKind::hangup(), 1),
        (SignalKind::interrupt(), 2),
        (SignalKind::quit(), 3),
    ];
    let mut streams = Vec::new();
    for (kind, number) in kinds {
        // A signal that cannot be watched keeps its default action; the others still work.
        if let Ok(stream) = signal(kind) {
            streams.push((stream, number));
        }
    }
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|(stream, number)| {
        let number = *number;
        Box::pin(async move {
            stream.recv().await;
            number
        })
    });
    futures_util::future::select_all(waits).await.0
}

/// Ctrl-C (the console control handler) ends the program on other platforms.
#[cfg(not(unix))]
async fn termination_signal() -> i32 {
    let _ = tokio::signal::ctrl_c().await;
    2
}

/// On panic, restore the terminal first so the message is readable, then report.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// The UI loop: waits for a terminal event, a source answer or a tick; updates the state;
/// hands effects to the runtime; redraws when the state changed. Returns the final state.
/// `events` is crossterm's `EventStream` in the program and a scripted stream in tests.
pub async fn event_loop<B, E>(
    terminal: &mut Terminal<B>,
    app: App,
    sources: Vec<Arc<dyn Source>>,
    history_path: Option<PathBuf>,
    events: E,
) -> anyhow::Result<App>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: futures_util::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    event_loop_with(terminal, app, sources, None, history_path, events).await
}

/// [`event_loop`] with a source opener, so panes can be opened on new sources.
pub async fn event_loop_with<B, E>(
    terminal: &mut Terminal<B>,
    mut app: App,
    sources: Vec<Arc<dyn Source>>,
    opener: Option<Arc<dyn runtime::SourceOpener>>,
    history_path: Option<PathBuf>,
    mut events: E,
) -> anyhow::Result<App>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    E: futures_util::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = runtime::Runtime::new(sources, tx, history_path);
    if let Some(opener) = opener {
        runtime = runtime.with_opener(opener);
    }
    let size = terminal.size()?;
    app.viewport = ratatui::layout::Rect::new(0, 0, size.width, size.height);
    // A source still indexing at start is queried again when it finishes (see Action::Progress).
    for pane in &mut app.panes {
        pane.progress = runtime.source(pane.id).and_then(|s| s.progress());
    }
    for effect in update::start(&mut app) {
        runtime.run(effect);
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if app.dirty {
            terminal.draw(|f| view::render(f, &app))?;
            app.dirty = false;
        }
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => keys::map_event(&app, &ev),
                Some(Err(e)) => return Err(e.into()),
                None => Some(Action::Quit),
            },
            msg = rx.recv() => msg,
            _ = tick.tick() => {
                for (pane, source) in runtime.sources() {
                    let progress = source.progress();
                    if app.pane_index(pane).is_some_and(|i| app.panes[i].progress != progress) {
                        for e in update(&mut app, Action::PaneProgress { pane, progress }) {
                            runtime.run(e);
                        }
                    }
                }
                Some(Action::Tick(logsleuth_core::time::now_nanos()))
            }
        };
        if let Some(action) = action {
            for effect in update(&mut app, action) {
                runtime.run(effect);
            }
        }
        // Apply answers that are already waiting before drawing, so a fast tail costs one
        // redraw per batch rather than one per message.
        for _ in 0..256 {
            let Ok(action) = rx.try_recv() else { break };
            for effect in update(&mut app, action) {
                runtime.run(effect);
            }
        }
        if app.quit {
            runtime.shutdown();
            // Draw the last state so callers (tests) see what the user saw.
            terminal.draw(|f| view::render(f, &app))?;
            return Ok(app);
        }
    }
}
