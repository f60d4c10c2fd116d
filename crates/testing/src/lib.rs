//! Test support for logsleuth's UI, not shipped: a dev-dependency of the root package (its
//! integration tests, examples and benches).
//!
//! - [`MemorySource`]: log lines in memory read by the product's own local source, so records,
//!   field names, roles, default columns and aggregations are the product's;
//! - [`RecordSource`]: hand-made records, for what no file gives (server records, hostile text);
//! - [`settle`] / [`settle_panes`]: run effects through the product's own [`Runtime`] until
//!   nothing is left to answer, feeding each answer to the reducer, so a test sees what a user
//!   would (the source description sent after each search, tails, cancels, files written);
//! - [`press`], [`type_text`], [`render`], [`buffer_text`]: keys in, screens out;
//! - [`screenshot_scenes`]: the screens of `screenshots/`.

mod memory;
mod records;
mod scenes;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use logsleuth_sources::Source;
use logsleuth_sources::spec::SourceSpec;
use logsleuth_tui::action::PaneId;
use logsleuth_tui::runtime::{Runtime, SourceOpener};
use logsleuth_tui::{Action, App, Effect};

pub use memory::{MemorySource, access_record};
pub use records::{RecordSource, local_info};
pub use scenes::{Scene, WATCH_RULES, checkout_api, checkout_errors, screenshot_scenes, watches_app, with_burst};

/// Most effects one settle runs before the test fails (effects that keep asking for more).
const MAX_EFFECTS: usize = 10_000;

/// Longest one effect may take to be answered before the test fails.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// Anything that is, or holds, a source for [`settle`].
pub trait AsSource {
    /// The source as the runtime holds it.
    fn as_source(&self) -> Arc<dyn Source>;
}

impl<T: Source + 'static> AsSource for Arc<T> {
    fn as_source(&self) -> Arc<dyn Source> {
        self.clone()
    }
}

impl AsSource for Arc<dyn Source> {
    fn as_source(&self) -> Arc<dyn Source> {
        self.clone()
    }
}

/// Opens the same source for every spec ([`settle`]: a new pane shows the same data).
struct SameSource(Arc<dyn Source>);

impl SourceOpener for SameSource {
    fn open(&self, _spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        Ok(self.0.clone())
    }
}

/// Runs `effects` through the product's runtime against `source` until every answer is in and
/// no effect is left, one effect at a time (deterministic state for snapshots): each answer the
/// runtime sends goes to the reducer, and the effects it asks for run in turn. Every pane is
/// answered by `source` (a new pane opens it again). Tails started are stopped at the end.
/// Fails the test when effects never stop coming or an answer never arrives.
pub async fn settle(app: &mut App, source: &impl AsSource, effects: Vec<Effect>) {
    let source = source.as_source();
    let mut sources: HashMap<PaneId, Arc<dyn Source>> = app.panes.iter().map(|p| (p.id, source.clone())).collect();
    sources.entry(0).or_insert_with(|| source.clone());
    let opener: Arc<dyn SourceOpener> = Arc::new(SameSource(source));
    settle_panes(app, &mut sources, Some(opener), effects).await;
}

/// The effects a query really starts with: each `ResolveRange` (an open end being pinned) is
/// answered from the source, and the effects that follow it take its place.
pub async fn resolve_ranges(app: &mut App, source: &impl AsSource, effects: Vec<Effect>) -> Vec<Effect> {
    let source = source.as_source();
    let mut out = Vec::new();
    for effect in effects {
        match effect {
            Effect::ResolveRange { pane, generation } => {
                let span = source.time_span().await;
                out.extend(logsleuth_tui::update(app, logsleuth_tui::Action::RangeResolved { pane, generation, span }));
            }
            other => out.push(other),
        }
    }
    out
}

/// Like [`settle`] for several panes on different sources: `sources` maps pane ids to their
/// sources (and is updated as panes open and close); a new pane's source comes from the same
/// pane (`SameAs`) or from `opener`.
pub async fn settle_panes(
    app: &mut App,
    sources: &mut HashMap<PaneId, Arc<dyn Source>>,
    opener: Option<Arc<dyn SourceOpener>>,
    effects: Vec<Effect>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = Runtime::new(Vec::new(), tx, None).with_terminal_output(Box::new(std::io::sink()));
    if let Some(opener) = opener {
        runtime = runtime.with_opener(opener);
    }
    for (pane, source) in sources.iter() {
        runtime.set_source(*pane, Some(source.clone()));
    }
    let mut queue: VecDeque<Effect> = effects.into();
    let mut ran = 0;
    while let Some(effect) = queue.pop_front() {
        ran += 1;
        assert!(ran <= MAX_EFFECTS, "effects never settle: {MAX_EFFECTS} run, the last {effect:?}");
        let what = format!("{effect:?}");
        runtime.run(effect);
        for action in answers(&runtime, &mut rx, &what).await {
            queue.extend(logsleuth_tui::update(app, action));
        }
    }
    *sources = runtime.sources().into_iter().collect();
    runtime.shutdown();
}

/// Waits until the runtime has answered everything it was asked; returns the answers in the
/// order it sent them.
async fn answers(runtime: &Runtime, rx: &mut UnboundedReceiver<Action>, what: &str) -> Vec<Action> {
    let deadline = Instant::now() + ANSWER_LIMIT;
    let mut out = Vec::new();
    loop {
        // Work ends after sending its answers: once idle, everything is on the channel.
        let idle = runtime.is_idle();
        while let Ok(action) = rx.try_recv() {
            out.push(action);
        }
        if idle {
            return out;
        }
        assert!(Instant::now() < deadline, "no answer within {ANSWER_LIMIT:?} to {}", what.chars().take(300).collect::<String>());
        if let Ok(Some(action)) = tokio::time::timeout(Duration::from_millis(2), rx.recv()).await {
            out.push(action);
        }
    }
}

/// Maps a key (as typed in the app's current mode) and applies it; returns the effects.
pub fn press(app: &mut logsleuth_tui::App, code: crossterm::event::KeyCode) -> Vec<logsleuth_tui::Effect> {
    press_with(app, code, crossterm::event::KeyModifiers::NONE)
}

/// Like [`press`] with modifiers.
pub fn press_with(
    app: &mut logsleuth_tui::App,
    code: crossterm::event::KeyCode,
    modifiers: crossterm::event::KeyModifiers,
) -> Vec<logsleuth_tui::Effect> {
    let key = crossterm::event::KeyEvent::new(code, modifiers);
    match logsleuth_tui::keys::map_key(app, &key) {
        Some(action) => logsleuth_tui::update(app, action),
        None => Vec::new(),
    }
}

/// Types text key by key.
pub fn type_text(app: &mut logsleuth_tui::App, text: &str) -> Vec<logsleuth_tui::Effect> {
    text.chars().flat_map(|c| press(app, crossterm::event::KeyCode::Char(c))).collect()
}

/// Renders the app into a buffer of its viewport's size.
pub fn render(app: &logsleuth_tui::App) -> ratatui::buffer::Buffer {
    let area = app.viewport;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(area.width, area.height))
        .expect("the test backend cannot fail");
    terminal.draw(|f| logsleuth_tui::view::render(f, app)).expect("the test backend cannot fail");
    terminal.backend().buffer().clone()
}

/// The buffer as plain text lines (trailing blanks trimmed), for assertions.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buf[(area.x + x, area.y + y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

