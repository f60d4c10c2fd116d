//! The incident workflow: marks with notes, the postmortem / result-set export, copying over
//! OSC 52, saved searches, and the generic text prompt they use.
//!
//! Like the rest of the UI it is a state machine: [`InvestigateAction`]s (keys, answers) go
//! through [`update`] (called from `ui::update`), which changes the [`App`] and returns
//! [`InvestigateEffect`]s that the runtime performs with [`run_effect`] (file writes on the
//! blocking pool, the clipboard sequence on the terminal). While one of this module's popups
//! is open ([`Mode::Prompt`], [`Mode::Marks`], [`Mode::Export`], [`Mode::SavedSearches`]),
//! [`intercept`] takes the input actions; their keys are in the table of
//! named actions ([`crate::keymap::ACTIONS`]).
//!
//! Adding a prompt: add a [`PromptKind`] variant, open it with [`open_prompt`], and handle it
//! in [`submit_prompt`].

use std::io::Write;
use std::path::PathBuf;

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::action::{Action, Edge, Effect, MouseAction, PaneId};
use super::app::{App, DetailView, Element, Mode, detail_rows};
use super::clipboard::{self, ClipboardOptions};
use super::editor::LineEditor;
use super::saved::{self, Origin, SavedSearch};
use crate::export::report::{MarkReport, PaneReport, Report};
use logsleuth_core::model::{Nanos, Record, RecordId};
use logsleuth_sources::Query;

/// What the incident workflow reacts to (wrapped in [`Action::Investigate`]).
#[derive(Debug, Clone, PartialEq)]
pub enum InvestigateAction {
    /// `m`: mark the selected line (table) or the selected span / bucket (histogram).
    Mark,
    /// `M`: the list of marks.
    OpenMarks,
    /// `E`: the export menu.
    OpenExport,
    /// `y`: copy the selected line (table), field value (detail view) or context line.
    Copy,
    /// `Y`: copy the current query.
    CopyQuery,
    /// `S`: save the current search under a name.
    SaveSearch,
    /// `o`: the saved-search picker.
    OpenSavedSearches,
    /// `d` in the marks list: delete the selected mark.
    DeleteMark,
    /// `e` in the marks list: edit the selected mark's note.
    EditMarkNote,
    /// The runtime finished a write (or the clipboard): the message to show, or the error.
    Done(Result<String, String>),
}

/// Work for the runtime (wrapped in [`Effect::Investigate`]).
#[derive(Debug, Clone, PartialEq)]
pub enum InvestigateEffect {
    /// Write an export to a file.
    Export {
        /// Where.
        path: PathBuf,
        /// What.
        job: ExportJob,
    },
    /// Write text to a file atomically (saved searches, a copy that could not go through OSC 52).
    WriteText {
        /// Where.
        path: PathBuf,
        /// The contents.
        text: String,
        /// Owner-only permissions (0600).
        private: bool,
        /// The message once written.
        done: String,
    },
    /// Write an OSC 52 clipboard sequence to the terminal.
    Clipboard {
        /// The escape sequence ([`clipboard::osc52`]).
        sequence: String,
    },
}

/// An export to produce.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportJob {
    /// The Markdown postmortem report, with the ids of its panes in the report's order (the
    /// runtime asks their sources for the draft's figures before it is written).
    Report(Box<Report>, Vec<PaneId>),
    /// Records as NDJSON.
    Ndjson {
        /// The records, as shown (newest first).
        records: Vec<Record>,
        /// Why the records may not be all the query matched (the memory budget let lines
        /// go), said with the message once written: NDJSON and CSV have no place for it.
        incomplete: Option<String>,
    },
    /// Records as CSV with these columns (after `@timestamp`).
    Csv {
        /// The records, as shown (newest first).
        records: Vec<Record>,
        /// The pane's columns.
        columns: Vec<String>,
        /// As for NDJSON.
        incomplete: Option<String>,
    },
}

/// The export menu's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Markdown postmortem report.
    Report,
    /// NDJSON of the loaded result set.
    Ndjson,
    /// CSV of the loaded result set.
    Csv,
}

impl ExportFormat {
    /// Menu order.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Report, ExportFormat::Ndjson, ExportFormat::Csv];

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Report => "Postmortem draft (Markdown): summary, timeline, evidence",
            ExportFormat::Ndjson => "NDJSON of the result set",
            ExportFormat::Csv => "CSV of the result set",
        }
    }

    /// Default file name at `now` (UTC): `./logsleuth-report-20150517-161000.md`.
    pub fn default_path(self, now: Nanos) -> String {
        let stamp = chrono::DateTime::from_timestamp_nanos(now).format("%Y%m%d-%H%M%S");
        match self {
            ExportFormat::Report => format!("./logsleuth-report-{stamp}.md"),
            ExportFormat::Ndjson => format!("./logsleuth-records-{stamp}.ndjson"),
            ExportFormat::Csv => format!("./logsleuth-records-{stamp}.csv"),
        }
    }
}

/// A mark: a line or a histogram span, with a note.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The pane's stable id.
    pub pane: PaneId,
    /// The pane's source description when marked.
    pub source: String,
    /// The line's time, or the span's start.
    pub time: Nanos,
    /// The span's end (exclusive); `None` for a line.
    pub end: Option<Nanos>,
    /// The marked line.
    pub line: Option<Record>,
    /// The line's values of the pane's columns when marked (shown in the report).
    pub fields: Vec<(String, String)>,
    /// Events in the span (from the histogram).
    pub count: Option<u64>,
    /// The user's note.
    pub note: String,
}

/// What a prompt's text is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    /// The note of a new mark (added on Enter; Esc drops it).
    MarkNote(Box<Mark>),
    /// A new note for `app.marks[i]`.
    EditNote(usize),
    /// The file to export to.
    ExportPath(ExportFormat),
    /// The name to save the current search under.
    SaveSearchName,
    /// A file for text that could not go to the clipboard.
    CopyToFile(String),
    /// A watch rule ("watch this", [`crate::features::watches`]).
    WatchRule,
}

/// The text prompt popup.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptState {
    /// What the text is for.
    pub kind: PromptKind,
    /// The text.
    pub editor: LineEditor,
    /// Popup title.
    pub title: String,
    /// A line of context above the field (what is being marked, why a file is offered).
    pub detail: Option<String>,
    /// Why the text was refused.
    pub error: Option<String>,
    /// The mode to return to.
    pub return_mode: Mode,
}

/// State of the saved-search picker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PickerState {
    /// The fuzzy filter.
    pub filter: LineEditor,
    /// Selected row of the filtered list.
    pub cursor: usize,
}

/// The incident workflow's state in the [`App`] (marks and the prompt are `App` fields).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvestigateState {
    /// Selected row of the marks list.
    pub marks_cursor: usize,
    /// Selected entry of the export menu.
    pub export_cursor: usize,
    /// Saved searches from the configuration.
    pub config_searches: Vec<SavedSearch>,
    /// The user's saved searches (the file).
    pub searches: Vec<SavedSearch>,
    /// The saved-searches file; `None` keeps them for the session only.
    pub searches_path: Option<PathBuf>,
    /// The saved-search picker.
    pub picker: PickerState,
    /// How copying works.
    pub clipboard: ClipboardOptions,
}

/// Opens a prompt over the current screen. `initial` is the starting text.
pub fn open_prompt(app: &mut App, kind: PromptKind, title: &str, initial: &str, detail: Option<String>) {
    let return_mode = if app.mode == Mode::Prompt { Mode::Normal } else { app.mode };
    app.prompt =
        Some(PromptState { kind, editor: LineEditor::new(initial), title: title.into(), detail, error: None, return_mode });
    app.mode = Mode::Prompt;
}

fn close_prompt(app: &mut App) {
    let mode = app.prompt.take().map_or(Mode::Normal, |p| p.return_mode);
    app.mode = mode;
}

/// Whether a mode is one of this module's popups.
pub fn owns_mode(mode: Mode) -> bool {
    matches!(mode, Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches)
}

/// Applies an [`InvestigateAction`].
pub fn update(app: &mut App, action: InvestigateAction) -> Vec<Effect> {
    match action {
        InvestigateAction::Mark => mark(app),
        InvestigateAction::OpenMarks => {
            app.investigate.marks_cursor = app.investigate.marks_cursor.min(app.marks.len().saturating_sub(1));
            app.mode = Mode::Marks;
            vec![]
        }
        InvestigateAction::OpenExport => {
            app.mode = Mode::Export;
            vec![]
        }
        InvestigateAction::Copy => copy_selection(app),
        InvestigateAction::CopyQuery => {
            let text = app.pane().applied.text.clone();
            if text.is_empty() {
                app.message = Some("the query is empty: nothing to copy".into());
                return vec![];
            }
            copy(app, text, "query")
        }
        InvestigateAction::SaveSearch => {
            let detail = Some(format!("{} · {}", query_summary(&app.pane().applied), app.pane().range.label()));
            open_prompt(app, PromptKind::SaveSearchName, "Save search as", "", detail);
            vec![]
        }
        InvestigateAction::OpenSavedSearches => {
            app.investigate.picker = PickerState::default();
            app.mode = Mode::SavedSearches;
            vec![]
        }
        InvestigateAction::DeleteMark => {
            if app.mode == Mode::Marks && app.investigate.marks_cursor < app.marks.len() {
                app.marks.remove(app.investigate.marks_cursor);
                app.investigate.marks_cursor = app.investigate.marks_cursor.min(app.marks.len().saturating_sub(1));
                app.message = Some("mark deleted".into());
            }
            vec![]
        }
        InvestigateAction::EditMarkNote => {
            let i = app.investigate.marks_cursor;
            if app.mode == Mode::Marks
                && let Some(m) = app.marks.get(i)
            {
                let note = m.note.clone();
                let detail = Some(mark_label(app, m));
                open_prompt(app, PromptKind::EditNote(i), "Edit the note", &note, detail);
            }
            vec![]
        }
        InvestigateAction::Done(result) => {
            app.message = Some(match result {
                Ok(m) => m,
                Err(e) => e,
            });
            vec![]
        }
    }
}

/// Takes the input actions while one of this module's popups is open; `None` lets the action
/// through (answers from sources, ticks, resizes, quit).
pub fn intercept(app: &mut App, action: &Action) -> Option<Vec<Effect>> {
    if !owns_mode(app.mode) {
        return None;
    }
    let effects = match action {
        Action::Escape => {
            match app.mode {
                Mode::Prompt => close_prompt(app),
                _ => app.mode = Mode::Normal,
            }
            vec![]
        }
        Action::Submit => match app.mode {
            Mode::Prompt => submit_prompt(app),
            Mode::Marks => jump_to_mark(app),
            Mode::Export => choose_export(app),
            _ => apply_saved(app),
        },
        Action::Move(n) => {
            move_cursor(app, *n as i64);
            vec![]
        }
        Action::Page(n) => {
            move_cursor(app, *n as i64 * 10);
            vec![]
        }
        Action::Jump(edge) => {
            move_cursor(app, if *edge == Edge::Start { i64::MIN / 2 } else { i64::MAX / 2 });
            vec![]
        }
        Action::Mouse(MouseAction::ScrollUp(..)) => {
            move_cursor(app, -1);
            vec![]
        }
        Action::Mouse(MouseAction::ScrollDown(..)) => {
            move_cursor(app, 1);
            vec![]
        }
        Action::Input(_)
        | Action::Paste(_)
        | Action::Backspace
        | Action::Delete
        | Action::DeleteWord
        | Action::ClearInput
        | Action::CursorLeft
        | Action::CursorRight
        | Action::CursorHome
        | Action::CursorEnd => {
            edit(app, action);
            vec![]
        }
        // Quitting, resizes and this module's own actions go through, and so does everything
        // that is not the user's input (answers from sources, ticks, progress).
        Action::Quit | Action::Resize(..) | Action::Investigate(_) => return None,
        action if !action.is_input() => return None,
        // Every other key action means nothing in a popup.
        _ => vec![],
    };
    Some(effects)
}

fn move_cursor(app: &mut App, n: i64) {
    let clamp = |v: usize, len: usize| -> usize {
        if len == 0 { 0 } else { (v as i64).saturating_add(n).clamp(0, len as i64 - 1) as usize }
    };
    match app.mode {
        Mode::Marks => app.investigate.marks_cursor = clamp(app.investigate.marks_cursor, app.marks.len()),
        Mode::Export => app.investigate.export_cursor = clamp(app.investigate.export_cursor, ExportFormat::ALL.len()),
        Mode::SavedSearches => {
            let len = filtered_searches(app).len();
            app.investigate.picker.cursor = clamp(app.investigate.picker.cursor, len);
        }
        _ => {}
    }
}

fn edit(app: &mut App, action: &Action) {
    let editor = match app.mode {
        Mode::Prompt => match app.prompt.as_mut() {
            Some(p) => {
                p.error = None;
                &mut p.editor
            }
            None => return,
        },
        Mode::SavedSearches => {
            app.investigate.picker.cursor = 0;
            &mut app.investigate.picker.filter
        }
        _ => return,
    };
    editor.apply(action);
}

/// Handles Enter in the prompt, by kind.
pub fn submit_prompt(app: &mut App) -> Vec<Effect> {
    let Some(prompt) = app.prompt.clone() else {
        app.mode = Mode::Normal;
        return vec![];
    };
    let text = prompt.editor.text.trim().to_string();
    match prompt.kind {
        PromptKind::MarkNote(mark) => {
            close_prompt(app);
            let mark = Mark { note: text, ..*mark };
            let label = mark_label(app, &mark);
            add_mark(app, mark);
            app.message = Some(format!("marked {label} ({} marks; M lists them)", app.marks.len()));
            vec![]
        }
        PromptKind::EditNote(i) => {
            close_prompt(app);
            if let Some(m) = app.marks.get_mut(i) {
                m.note = text;
            }
            vec![]
        }
        PromptKind::ExportPath(format) => {
            if text.is_empty() {
                return refuse(app, "give a file name");
            }
            let path = expand_path(&text);
            close_prompt(app);
            app.mode = Mode::Normal;
            let job = export_job(app, format);
            app.message = Some(format!("writing {}…", path.display()));
            vec![Effect::Investigate(InvestigateEffect::Export { path, job })]
        }
        PromptKind::SaveSearchName => {
            if text.is_empty() {
                return refuse(app, "give the search a name");
            }
            close_prompt(app);
            save_search(app, text)
        }
        PromptKind::WatchRule => crate::features::watches::submit_rule(app, &text),
        PromptKind::CopyToFile(content) => {
            if text.is_empty() {
                return refuse(app, "give a file name");
            }
            let path = expand_path(&text);
            close_prompt(app);
            let done = format!("wrote {} chars to {}", content.chars().count(), path.display());
            vec![Effect::Investigate(InvestigateEffect::WriteText { path, text: content, private: true, done })]
        }
    }
}

fn refuse(app: &mut App, why: &str) -> Vec<Effect> {
    if let Some(p) = app.prompt.as_mut() {
        p.error = Some(why.into());
    }
    vec![]
}

/// `~/x` is in the home directory; anything else is as given (relative to the working
/// directory).
fn expand_path(text: &str) -> PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    PathBuf::from(text)
}

// ---- marks ---------------------------------------------------------------------------------

/// Whether `record` of pane `pane` is marked (the table's gutter).
pub fn is_marked(app: &App, pane: PaneId, record: &Record) -> bool {
    app.marks.iter().any(|m| m.pane == pane && m.line.as_ref().is_some_and(|l| same_record(l, record)))
}

/// Same record: same identity when the source gives one, else same time and text.
fn same_record(a: &Record, b: &Record) -> bool {
    if a.id != RecordId::None && b.id != RecordId::None {
        a.id == b.id && a.timestamp == b.timestamp
    } else {
        a.timestamp == b.timestamp && a.message == b.message
    }
}

/// Inserts a mark keeping the list in time order.
fn add_mark(app: &mut App, mark: Mark) {
    let at = app.marks.partition_point(|m| (m.time, m.end) <= (mark.time, mark.end));
    app.marks.insert(at, mark);
}

/// The label a mark has in lists and the report: `Pane N` by screen order.
pub fn pane_label(app: &App, pane: PaneId) -> String {
    match app.pane_index(pane) {
        Some(i) => format!("Pane {}", i + 1),
        None => "closed pane".into(),
    }
}

/// `2015-05-17 08:05:32 · Pane 1` (or the span's bounds).
pub fn mark_label(app: &App, m: &Mark) -> String {
    let when = match m.end {
        Some(end) => format!("{} → {}", super::app::format_time(m.time), super::app::format_time(end)),
        None => super::app::format_time(m.time),
    };
    format!("{when} · {}", pane_label(app, m.pane))
}

fn mark(app: &mut App) -> Vec<Effect> {
    if app.mode != Mode::Normal {
        return vec![];
    }
    let p = app.pane();
    let mark = match p.element {
        Element::Table => {
            let Some(record) = p.selected_record() else {
                app.message = Some("no line to mark".into());
                return vec![];
            };
            let Some(time) = record.timestamp else {
                app.message = Some("this line has no time: it cannot be marked".into());
                return vec![];
            };
            let fields = p
                .columns
                .iter()
                .filter(|c| c.as_str() != "message")
                .map(|c| (c.clone(), super::view::table::cell_text(record, c)))
                .collect();
            Mark {
                pane: p.id,
                source: p.info.description.clone(),
                time,
                end: None,
                line: Some(record.clone()),
                fields,
                count: None,
                note: String::new(),
            }
        }
        Element::Histogram => {
            let Some(h) = p.histogram.as_ref().filter(|h| !h.buckets.is_empty()) else {
                app.message = Some("no histogram to mark".into());
                return vec![];
            };
            let last = h.buckets.len() - 1;
            let a = p.hist_anchor.unwrap_or(p.hist_cursor).min(last);
            let b = p.hist_cursor.min(last);
            let (lo, hi) = (a.min(b), a.max(b));
            let count = h.buckets[lo..=hi].iter().map(|b| b.count).sum();
            let end = h.buckets[hi].start.saturating_add(h.interval.max(1));
            Mark {
                pane: p.id,
                source: p.info.description.clone(),
                time: h.buckets[lo].start,
                end: Some(end),
                line: None,
                fields: vec![],
                count: Some(count),
                note: String::new(),
            }
        }
    };
    let detail = match &mark.line {
        Some(r) => format!("{} · {}", mark_label(app, &mark), super::view::safe(&r.message, 200)),
        None => format!("{} · {} events", mark_label(app, &mark), mark.count.unwrap_or(0)),
    };
    open_prompt(app, PromptKind::MarkNote(Box::new(mark)), "Mark: a short note", "", Some(detail));
    vec![]
}

/// Enter in the marks list: focus the mark's pane and select its line (the nearest by time
/// when it is not loaded) or its span on the histogram.
fn jump_to_mark(app: &mut App) -> Vec<Effect> {
    let before = super::panes::plot_widths(app);
    let mut effects = jump_to_mark_in_place(app);
    // Panes of a tab shown only now need their histograms.
    effects.extend(super::panes::relayout(app, &before));
    effects
}

fn jump_to_mark_in_place(app: &mut App) -> Vec<Effect> {
    let Some(m) = app.marks.get(app.investigate.marks_cursor).cloned() else { return vec![] };
    let Some(i) = app.pane_index(m.pane) else {
        app.message = Some("that mark's pane was closed".into());
        return vec![];
    };
    // The mark's pane may be in another tab, or hidden behind a maximised one.
    if let Some(tab) = app.tabs.iter().position(|t| t.root.contains(m.pane)) {
        app.show_tab(tab);
        if app.current_tab().maximised && app.current_tab().focus != m.pane {
            app.current_tab_mut().maximised = false;
        }
    }
    app.focus_pane(m.pane);
    app.mode = Mode::Normal;
    let p = &mut app.panes[i];
    if m.end.is_some() || m.line.is_none() {
        let Some(h) = p.histogram.as_ref() else {
            app.message = Some("the pane has no histogram to show the span on".into());
            return vec![];
        };
        let bucket_of = |t: Nanos| h.buckets.iter().rposition(|b| b.start <= t);
        let end = m.end.unwrap_or(m.time).saturating_sub(1).max(m.time);
        match (bucket_of(m.time), bucket_of(end)) {
            (Some(a), Some(b)) if m.time < h.buckets.last().map_or(0, |l| l.start + h.interval) => {
                p.element = Element::Histogram;
                p.hist_anchor = (a != b).then_some(a);
                p.hist_cursor = b;
                app.message = Some(format!("mark: {}", m.note));
            }
            _ => app.message = Some("the mark is outside the pane's time range".into()),
        }
        return vec![];
    }
    let index = m.line.as_ref().and_then(|line| p.records.iter().position(|r| same_record(r, line)));
    let nearest = || {
        p.records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.timestamp?.abs_diff(m.time))))
            .min_by_key(|(_, d)| *d)
            .map(|(i, _)| i)
    };
    let (index, exact) = match index {
        Some(i) => (Some(i), true),
        None => (nearest(), false),
    };
    let Some(index) = index else {
        app.message = Some("the pane has no lines loaded".into());
        return vec![];
    };
    p.element = Element::Table;
    p.selected = index;
    keep_visible(app);
    app.message = Some(if exact {
        format!("mark: {}", m.note)
    } else {
        "the marked line is not loaded: selected the nearest line by time".into()
    });
    vec![]
}

fn keep_visible(app: &mut App) {
    let h = crate::features::table::table_height(app).max(1);
    let p = app.pane_mut();
    if p.selected < p.offset {
        p.offset = p.selected;
    } else if p.selected >= p.offset + h {
        p.offset = p.selected + 1 - h;
    }
}

// ---- export --------------------------------------------------------------------------------

/// What the export menu says about the focused pane's result set: `1,000 records loaded (all
/// 1,000 hits)` or `200 records loaded; more on the server (51,462 hits)`.
pub fn result_set_summary(app: &App) -> String {
    let p = app.pane();
    let loaded = super::view::thousands(p.records.len() as u64);
    let total = p.total.map(super::view::table::hit_text);
    let more = p.next.is_some()
        || match p.total {
            Some(logsleuth_sources::HitCount::Exact(n)) => n > p.records.len() as u64,
            Some(logsleuth_sources::HitCount::AtLeast(_)) => true,
            None => false,
        };
    match (more, total) {
        (true, Some(t)) => format!("{loaded} records loaded; more on the server ({t} hits)"),
        (true, None) => format!("{loaded} records loaded; more on the server"),
        (false, _) => format!("{loaded} records loaded (all of them)"),
    }
}

fn choose_export(app: &mut App) -> Vec<Effect> {
    let format = ExportFormat::ALL[app.investigate.export_cursor.min(ExportFormat::ALL.len() - 1)];
    let detail = match format {
        ExportFormat::Report => {
            let plural = super::view::prompt::plural;
            format!("{}, {}; notes cause:/fix:/todo: fill its headings", plural(app.panes.len(), "pane"), plural(app.marks.len(), "mark"))
        }
        _ => result_set_summary(app),
    };
    let path = format.default_path(app.now);
    app.mode = Mode::Normal;
    open_prompt(app, PromptKind::ExportPath(format), &format!("{}: write to", format.label()), &path, Some(detail));
    vec![]
}

/// The report of the whole investigation: every pane, its histogram and charts, and the marks.
pub fn report_data(app: &App) -> Report {
    let panes = app
        .panes
        .iter()
        .enumerate()
        .map(|(i, p)| PaneReport {
            label: format!("Pane {}", i + 1),
            source_kind: p.info.kind.to_string(),
            source: p.info.description.clone(),
            query: p.applied.text.clone(),
            language: p.language_name().to_string(),
            kql: p.applied.language != logsleuth_sources::QueryLanguage::Native,
            command_source: p.origin.as_ref().and_then(|o| o.command_args()),
            range: p.resolved,
            range_label: p.range.label(),
            hits: p.total,
            loaded: p.records.len(),
            histogram: p.histogram.clone(),
            charts: p.charts.fields.iter().filter_map(|f| Some((f.clone(), p.charts.results.get(f)?.clone()))).collect(),
            comparison: p.shown_comparison.clone(),
            patterns: p.shown_patterns.clone(),
        })
        .collect();
    let marks = app
        .marks
        .iter()
        .map(|m| MarkReport {
            time: m.time,
            end: m.end,
            pane: pane_label(app, m.pane),
            source: m.source.clone(),
            note: m.note.clone(),
            line: m.line.as_ref().map(|r| r.message.clone()),
            fields: m.fields.clone(),
            count: m.count,
        })
        .collect();
    Report {
        generated: app.now,
        title: report_title(app.workspace.as_deref()),
        authors: app.report_authors.clone(),
        panes,
        marks,
        request_paths: crate::features::thread::request_paths(app),
        draft: None,
    }
}

/// `Incident report`, or `Incident report: checkout` for workspace `checkout`.
pub fn report_title(workspace: Option<&str>) -> String {
    match workspace {
        Some(w) if !w.trim().is_empty() => {
            let name = std::path::Path::new(w).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| w.to_string());
            format!("Incident report: {name}")
        }
        _ => "Incident report".into(),
    }
}

fn export_job(app: &App, format: ExportFormat) -> ExportJob {
    let p = app.pane();
    match format {
        ExportFormat::Report => ExportJob::Report(Box::new(report_data(app)), app.panes.iter().map(|p| p.id).collect()),
        ExportFormat::Ndjson => ExportJob::Ndjson { records: p.records.clone(), incomplete: incomplete(p) },
        ExportFormat::Csv => ExportJob::Csv { records: p.records.clone(), columns: p.columns.clone(), incomplete: incomplete(p) },
    }
}

/// What the last search said about lines it could not include (the memory budget's note).
fn incomplete(p: &crate::app::Pane) -> Option<String> {
    p.warnings.iter().find(|w| w.starts_with(logsleuth_sources::local::BUDGET_NOTE_PREFIX)).cloned()
}

/// Produces an export's bytes and what to say once written (`N lines`).
pub fn export_bytes(job: &ExportJob) -> std::io::Result<(Vec<u8>, String)> {
    let mut out = Vec::new();
    let what = match job {
        ExportJob::Report(report, _) => {
            let text = crate::export::report::render(report);
            let lines = text.lines().count();
            out = text.into_bytes();
            format!("the report ({lines} lines)")
        }
        ExportJob::Ndjson { records, incomplete } => {
            let n = crate::export::records::write_ndjson(&mut out, records)?;
            with_incomplete(format!("{n} records"), incomplete)
        }
        ExportJob::Csv { records, columns, incomplete } => {
            let n = crate::export::records::write_csv(&mut out, records, columns)?;
            with_incomplete(format!("{n} records"), incomplete)
        }
    };
    Ok((out, what))
}

fn with_incomplete(what: String, incomplete: &Option<String>) -> String {
    match incomplete {
        Some(note) => format!("{what} (not all the query matched: {note})"),
        None => what,
    }
}

// ---- copy ----------------------------------------------------------------------------------

fn copy_selection(app: &mut App) -> Vec<Effect> {
    let p = app.pane();
    let (text, what) = match app.mode {
        Mode::Detail => {
            let Some(d) = app.detail.as_ref() else { return vec![] };
            let Some(record) = p.records.get(d.index) else { return vec![] };
            match d.view {
                DetailView::Fields => match detail_rows(record).get(d.cursor) {
                    Some(row) => (row.value.as_text(), "value"),
                    None => return vec![],
                },
                DetailView::Json => (serde_json::to_string_pretty(&record.to_json()).unwrap_or_default(), "record"),
                DetailView::Context => match d.context.as_ref().and_then(|c| c.records.get(c.cursor)) {
                    Some(r) => (r.message.clone(), "line"),
                    None => return vec![],
                },
            }
        }
        Mode::Normal if p.element == Element::Table => match p.selected_record() {
            Some(r) => (r.message.clone(), "line"),
            None => return vec![],
        },
        Mode::Normal => {
            app.message = Some("select a line in the table to copy it (Y copies the query)".into());
            return vec![];
        }
        _ => return vec![],
    };
    copy(app, text, what)
}

/// Copies `text` with OSC 52, or offers a file when OSC 52 is off or the text too large.
pub fn copy(app: &mut App, text: String, what: &str) -> Vec<Effect> {
    let options = app.investigate.clipboard;
    let chars = text.chars().count();
    let refusal = if !options.osc52 {
        Some(format!("OSC 52 is off ({}): write the {what} to a file instead?", clipboard::OSC52_ENV))
    } else if text.len() > clipboard::MAX_OSC52_BYTES {
        Some(format!(
            "the {what} is too large for OSC 52 ({} bytes, limit {}): write it to a file instead?",
            text.len(),
            clipboard::MAX_OSC52_BYTES
        ))
    } else {
        None
    };
    if let Some(why) = refusal {
        let stamp = chrono::DateTime::from_timestamp_nanos(app.now).format("%Y%m%d-%H%M%S");
        let path = format!("./logsleuth-copy-{stamp}.txt");
        open_prompt(app, PromptKind::CopyToFile(text), "Copy to a file", &path, Some(why));
        return vec![];
    }
    let sequence = clipboard::osc52(&text, options.multiplexer);
    app.message = Some(format!(
        "copied {chars} chars of the {what} (OSC 52; if your terminal does not support it, set {}=off to copy to a file)",
        clipboard::OSC52_ENV
    ));
    vec![Effect::Investigate(InvestigateEffect::Clipboard { sequence })]
}

// ---- saved searches ------------------------------------------------------------------------

fn query_summary(q: &Query) -> String {
    if q.text.is_empty() { "(every event)".into() } else { super::view::safe(&q.text, 60) }
}

fn save_search(app: &mut App, name: String) -> Vec<Effect> {
    let p = app.pane();
    let search = SavedSearch {
        name: name.clone(),
        query: p.applied.text.clone(),
        language: p.applied.language,
        range: Some(p.range),
        columns: p.columns.clone(),
        source: None,
        origin: Origin::File,
    };
    saved::upsert(&mut app.investigate.searches, search);
    let Some(path) = app.investigate.searches_path.clone() else {
        app.message = Some(format!("saved search '{name}' for this session (no state directory to keep it in)"));
        return vec![];
    };
    let done = format!("saved search '{name}' in {}", path.display());
    let text = saved::serialize(&app.investigate.searches);
    vec![Effect::Investigate(InvestigateEffect::WriteText { path, text, private: true, done })]
}

/// Every saved search (configuration first, then the file), filtered and ranked by the
/// picker's fuzzy filter over name and query.
pub fn filtered_searches(app: &App) -> Vec<&SavedSearch> {
    let all = app.investigate.config_searches.iter().chain(app.investigate.searches.iter());
    let pattern = app.investigate.picker.filter.text.trim();
    if pattern.is_empty() {
        return all.collect();
    }
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, usize, &SavedSearch)> = all
        .enumerate()
        .filter_map(|(i, s)| {
            let name = matcher.fuzzy_match(&s.name, pattern);
            let query = matcher.fuzzy_match(&s.query, pattern).map(|q| q / 2);
            name.max(query).map(|score| (score, i, s))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, s)| s).collect()
}

/// Enter in the picker: the search's query, range and columns on the focused pane, run.
fn apply_saved(app: &mut App) -> Vec<Effect> {
    let Some(search) = filtered_searches(app).get(app.investigate.picker.cursor).map(|s| (*s).clone()) else {
        return vec![];
    };
    // A search made for a configured source runs on a pane of that source: an open one, else
    // a new pane beside the focused one.
    if let Some(name) = search.source.as_deref()
        && app.pane().origin.as_ref().and_then(|o| o.name()) != Some(name)
    {
        let existing = app.panes.iter().find(|p| p.origin.as_ref().and_then(|o| o.name()) == Some(name)).map(|p| p.id);
        match existing {
            Some(id) => {
                if let Some(tab) = app.tabs.iter().position(|t| t.root.contains(id)) {
                    app.show_tab(tab);
                }
                app.focus_pane(id);
            }
            None => {
                app.mode = Mode::Normal;
                let effects = super::panes::open_for_search(app, name, &search.query, search.language, &search.columns, search.range);
                app.message = Some(format!("saved search '{}' on a new pane for source '{name}'", search.name));
                return effects;
            }
        }
    }
    let p = app.pane_mut();
    p.editor.set(search.query.clone());
    p.language = search.language;
    if let Some(range) = search.range {
        p.range = range;
        p.zoom_stack.clear();
    }
    if !search.columns.is_empty() {
        p.choose_columns(search.columns.clone());
    }
    // Run it as if typed into the query bar: checked, kept in the history, run.
    app.mode = Mode::Query;
    let mut effects = super::update::update(app, Action::Submit);
    if app.mode == Mode::Query {
        // A syntax error: the query bar shows it.
        return effects;
    }
    if search.range.is_some() {
        // A new range reaches the linked panes, as a picked one does.
        let i = app.focus;
        effects.extend(super::panes::propagate_range(app, i));
    }
    app.message = Some(format!("saved search '{}' applied", search.name));
    effects
}

// ---- runtime -------------------------------------------------------------------------------

/// Performs an effect: files on tokio's blocking pool, answering with
/// [`InvestigateAction::Done`] on `tx`; the clipboard sequence on `terminal` now (the UI loop
/// calls this between draws, so it cannot interleave with a frame).
pub fn run_effect(effect: InvestigateEffect, tx: &tokio::sync::mpsc::UnboundedSender<Action>, terminal: &mut dyn Write) {
    match effect {
        InvestigateEffect::Clipboard { .. } => {
            if let Some(action) = run_effect_now(effect, terminal) {
                let _ = tx.send(action);
            }
        }
        effect => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                if let Some(action) = run_effect_now(effect, &mut std::io::sink()) {
                    let _ = tx.send(action);
                }
            });
        }
    }
}

/// Performs an effect synchronously (the runtime's blocking tasks, and tests); returns the
/// answer, if any (a clipboard write that worked answers nothing: the message is already up).
pub fn run_effect_now(effect: InvestigateEffect, terminal: &mut dyn Write) -> Option<Action> {
    let done = |r: Result<String, String>| Some(Action::Investigate(InvestigateAction::Done(r)));
    match effect {
        InvestigateEffect::Export { path, job } => {
            let result = export_bytes(&job).and_then(|(bytes, what)| {
                crate::export::write_atomic(&path, &bytes, false)?;
                Ok(what)
            });
            done(match result {
                Ok(what) => Ok(format!("wrote {what} to {}", path.display())),
                Err(e) => Err(format!("could not write {}: {e}", path.display())),
            })
        }
        InvestigateEffect::WriteText { path, text, private, done: message } => {
            done(match crate::export::write_atomic(&path, text.as_bytes(), private) {
                Ok(()) => Ok(message),
                Err(e) => Err(format!("could not write {}: {e}", path.display())),
            })
        }
        InvestigateEffect::Clipboard { sequence } => {
            match terminal.write_all(sequence.as_bytes()).and_then(|_| terminal.flush()) {
                Ok(()) => None,
                Err(e) => done(Err(format!("could not write to the terminal: {e}"))),
            }
        }
    }
}
