//! The UI state. Everything on screen is a function of an [`App`]; only the reducer
//! ([`fn@crate::update`]) changes it.

use std::collections::{HashMap, VecDeque};

use ratatui::layout::Rect;

use super::action::PaneId;
use super::editor::LineEditor;
use super::history::History;
use super::theme::Theme;
use super::tiles::Tab;
use logsleuth_core::model::{HistogramResult, Nanos, Record, TimeRange, TopResult, Value};
use logsleuth_core::time::NS_PER_SEC;
use logsleuth_kql::KqlError;
use logsleuth_sources::{Cursor, FieldInfo, FieldOrigin, HitCount, Progress, Query, QueryLanguage, SourceInfo, Split};

/// Records fetched per page.
pub const PAGE_SIZE: usize = 200;
/// Most records a pane keeps in memory (search pages plus tailed lines). Beyond it paging stops
/// and the tail drops the oldest lines.
pub const MAX_RECORDS: usize = 100_000;
/// Most tailed lines held while paused; more are counted as dropped.
pub const MAX_PENDING: usize = 50_000;
/// Memory bounds of a pane: when a cap is reached the oldest lines are dropped and counted
/// (shown as "N dropped" in the status line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Most records kept (search pages plus tailed lines); paging stops there.
    pub records: usize,
    /// Most tailed lines held while paused.
    pub pending: usize,
}

impl Default for BufferLimits {
    fn default() -> Self {
        BufferLimits { records: MAX_RECORDS, pending: MAX_PENDING }
    }
}

impl BufferLimits {
    /// Limits for a cap on lines kept (`--max-lines`); the pause buffer gets the same cap,
    /// never more than its default. At least one line is kept.
    pub fn with_max_lines(max_lines: usize) -> BufferLimits {
        let records = max_lines.max(1);
        BufferLimits { records, pending: records.min(MAX_PENDING) }
    }
}

/// Records sampled for the field sidebar's top values (as Kibana samples its 500 rows).
pub const FIELD_SAMPLE: usize = 500;
/// Values shown per field in the sidebar.
pub const FIELD_TOP: usize = 5;
/// Values per top-N chart.
pub const TOP_SIZE: usize = 10;
/// Window over which the tail rate is averaged.
pub const RATE_WINDOW: Nanos = 5 * NS_PER_SEC;

/// The interaction mode, which decides how keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Browsing the pane (histogram or table focused).
    Normal,
    /// Editing the query.
    Query,
    /// The field sidebar is focused.
    Fields,
    /// A record's detail view.
    Detail,
    /// The key help.
    Help,
    /// The time picker.
    TimePicker,
    /// Top-N charts.
    Charts,
    /// Choosing the source of a new pane or tab.
    SourcePicker,
    /// A text prompt ([`crate::investigate::PromptState`]).
    Prompt,
    /// The list of marks.
    Marks,
    /// The export menu.
    Export,
    /// The saved-search picker.
    SavedSearches,
    /// The thread view: the followed value's lines of every pane on one clock.
    Thread,
    /// The watches panel ([`crate::features::watches`]).
    Watches,
    /// The pattern view ([`crate::features::patterns`]).
    Patterns,
    /// The comparison view, window against baseline ([`crate::features::comparison`]).
    Comparison,
}

/// The focused element of a pane in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// The events-over-time chart.
    Histogram,
    /// The log table.
    Table,
}

/// A time range as the user chose it; relative ranges are resolved against "now" each run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// Everything (a local source's whole span).
    All,
    /// The last N ns up to now.
    Last(Nanos),
    /// Fixed bounds.
    Absolute(TimeRange),
}

impl RangeSpec {
    /// The concrete range at `now`.
    pub fn resolve(&self, now: Nanos) -> TimeRange {
        match *self {
            RangeSpec::All => TimeRange::ALL,
            RangeSpec::Last(d) => TimeRange::between(now.saturating_sub(d), now),
            RangeSpec::Absolute(r) => r,
        }
    }

    /// Short label: `Last 15m`, `All time`, or the bounds.
    pub fn label(&self) -> String {
        match self {
            RangeSpec::All => "All time".into(),
            RangeSpec::Last(d) => format!("Last {}", logsleuth_core::time::format_duration(*d)),
            RangeSpec::Absolute(r) => format_range(r),
        }
    }
}

/// `2015-05-17 08:05:00 → 2015-05-17 09:00:00` (UTC), `…` for an open end.
pub fn format_range(r: &TimeRange) -> String {
    let f = |t: Option<Nanos>| t.map(format_time).unwrap_or_else(|| "…".into());
    format!("{} → {}", f(r.from), f(r.to))
}

/// Like [`format_range`], but the end shows only its time when it falls on the start's day
/// (`2015-05-17 08:00:00 → 16:10:00`), for the status line.
pub fn format_range_short(r: &TimeRange) -> String {
    match (r.from, r.to) {
        (Some(f), Some(t)) => {
            let (a, b) = (format_time(f), format_time(t));
            match (a.split_once(' '), b.split_once(' ')) {
                (Some((da, _)), Some((db, tb))) if da == db => format!("{a} → {tb}"),
                _ => format!("{a} → {b}"),
            }
        }
        _ => format_range(r),
    }
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn format_time(ns: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The structured metadata Loki adds with its own guess of a line's level.
pub const LOKI_DETECTED_LEVEL: &str = "detected_level";

/// Quick ranges offered by the time picker.
pub const QUICK_RANGES: [(&str, Option<Nanos>); 6] = [
    ("Last 15 minutes", Some(15 * 60 * NS_PER_SEC)),
    ("Last 1 hour", Some(3600 * NS_PER_SEC)),
    ("Last 6 hours", Some(6 * 3600 * NS_PER_SEC)),
    ("Last 24 hours", Some(24 * 3600 * NS_PER_SEC)),
    ("Last 7 days", Some(7 * 24 * 3600 * NS_PER_SEC)),
    ("All time", None),
];

/// Which requests of a pane are running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loading {
    /// First page of a search.
    pub search: bool,
    /// A next page.
    pub page: bool,
    /// The histogram.
    pub histogram: bool,
    /// Top-N charts still awaited.
    pub top: usize,
}

impl Loading {
    /// Whether anything is running.
    pub fn any(&self) -> bool {
        self.search || self.page || self.histogram || self.top > 0
    }
}

/// A field in the sidebar with its top values over the loaded sample.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldStat {
    /// Dotted name.
    pub name: String,
    /// Sampled records that have the field.
    pub present: usize,
    /// Top values and how many sampled records carry each.
    pub top: Vec<(String, usize)>,
}

/// Exact top values of one field, counted by the backend over the pane's query and range
/// (Elasticsearch `terms`, Loki `topk`, a local count), in place of the sidebar's sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactValues {
    /// The field.
    pub field: String,
    /// The query generation they were asked for.
    pub generation: u64,
    /// The answer; `None` while counting.
    pub result: Option<Result<logsleuth_core::model::TopResult, String>>,
}

/// Live tail state of a pane.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailState {
    /// New lines are held back instead of shown.
    pub paused: bool,
    /// Lines received while paused, oldest first.
    pub pending: VecDeque<Record>,
    /// Lines lost (server-side drops or a full pause buffer).
    pub dropped: u64,
    /// Lines received since the tail started.
    pub received: u64,
    /// (time, count) of recent arrivals, for the rate.
    pub arrivals: VecDeque<(Nanos, u64)>,
    /// Lines per second over the last [`RATE_WINDOW`].
    pub rate: f64,
    /// Last status message from the source ("connected", "reconnecting…").
    pub status: Option<String>,
    /// The newest line of the table when the tail started (file, line of a local source):
    /// the tail's copies of it and of older lines of that file are not shown twice.
    pub after: Option<(u32, u64)>,
}

/// The top-N charts screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartsState {
    /// Fields charted, in order.
    pub fields: Vec<String>,
    /// Answers by field (`Err` holds the message).
    pub results: HashMap<String, Result<TopResult, String>>,
    /// Selected chart.
    pub selected: usize,
    /// Selected bar in the selected chart.
    pub bar: usize,
}

/// Which half of the detail view has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailView {
    /// The field table.
    Fields,
    /// The pretty JSON.
    Json,
    /// The records just before and after it in the same file/stream/index.
    Context,
}

/// How many records "show context" asks for on each side of the record.
pub const CONTEXT_LINES: usize = 10;

/// The surrounding records of a detail view's record (Grafana's "show context", Kibana's
/// "surrounding documents").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContextState {
    /// Records, oldest first, the record itself included.
    pub records: Vec<Record>,
    /// Index of the record itself in `records`, once found.
    pub anchor: Option<usize>,
    /// Selected row.
    pub cursor: usize,
    /// Waiting for the source.
    pub loading: bool,
    /// The source's error, if it could not answer.
    pub error: Option<String>,
}

/// The detail view of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    /// Index of the record in the pane's records.
    pub index: usize,
    /// Selected field row.
    pub cursor: usize,
    /// Scroll of the JSON view, in lines.
    pub scroll: usize,
    /// Which half is shown / focused.
    pub view: DetailView,
    /// Surrounding records, once asked for.
    pub context: Option<ContextState>,
}

/// One row of the detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailRow {
    /// Dotted field name.
    pub name: String,
    /// The value.
    pub value: Value,
    /// Where it comes from.
    pub origin: FieldOrigin,
}

/// The time picker popup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PickerState {
    /// Selected quick range; `QUICK_RANGES.len()` is the absolute form.
    pub cursor: usize,
    /// Absolute start (RFC 3339 or date math).
    pub from: LineEditor,
    /// Absolute end.
    pub to: LineEditor,
    /// Which text field has the keys: 0 none (list), 1 from, 2 to.
    pub field: u8,
    /// Why the absolute range was refused.
    pub error: Option<String>,
}

/// The autocomplete popup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    /// Suggestions, best first.
    pub items: Vec<super::complete::Suggestion>,
    /// Highlighted suggestion.
    pub selected: usize,
    /// The completion context they are for.
    pub context: Option<super::complete::Context>,
}

/// One pane: a source with its query, range, results and charts.
#[derive(Debug, Clone)]
pub struct Pane {
    /// Stable identity: actions and effects name panes by it, so answers still find their pane
    /// after others were closed or moved. Assigned by [`App::add_pane`].
    pub id: PaneId,
    /// What the source said about itself.
    pub info: SourceInfo,
    /// The query bar.
    pub editor: LineEditor,
    /// KQL syntax error of the query bar text (with its position).
    pub query_error: Option<KqlError>,
    /// The language of the query bar text (KQL, or the source's native language).
    pub language: QueryLanguage,
    /// The query the results are for.
    pub applied: Query,
    /// The time range.
    pub range: RangeSpec,
    /// The range the results are for (resolved at run time).
    pub resolved: TimeRange,
    /// Ranges to step back out to (zoom history), innermost last.
    pub zoom_stack: Vec<RangeSpec>,
    /// Generation of the current search; answers for older generations are dropped.
    pub generation: u64,
    /// Generation of the current tail.
    pub tail_generation: u64,
    /// What is running.
    pub loading: Loading,
    /// Records, newest first.
    pub records: Vec<Record>,
    /// Total hits, when known.
    pub total: Option<HitCount>,
    /// Where the next page starts.
    pub next: Option<Cursor>,
    /// Non-fatal warnings from the last search.
    pub warnings: Vec<String>,
    /// The last error.
    pub error: Option<String>,
    /// Selected row.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
    /// Table columns after the time.
    pub columns: Vec<String>,
    /// The columns are the source's defaults fitted to the loaded lines
    /// ([`Pane::fitted_columns`]), refitted with each new result; false once the user, a
    /// workspace or a saved search chose them.
    pub auto_columns: bool,
    /// Events over time.
    pub histogram: Option<HistogramResult>,
    /// How the histogram is split.
    pub split: Split,
    /// Histogram cursor (bucket index).
    pub hist_cursor: usize,
    /// Start of a histogram span selection.
    pub hist_anchor: Option<usize>,
    /// The running query generation also refreshes the field list once its range is resolved.
    pub refresh_fields: bool,
    /// The sidebar shows this field's exact top values instead of the loaded sample.
    pub exact_values: Option<ExactValues>,
    /// Fields the source offers.
    pub fields: Vec<FieldInfo>,
    /// Sidebar rows.
    pub field_stats: Vec<FieldStat>,
    /// Selected sidebar row.
    pub field_cursor: usize,
    /// Top-N charts.
    pub charts: ChartsState,
    /// Live tail, when following.
    pub tail: Option<TailState>,
    /// Focused element in normal mode.
    pub element: Element,
    /// Memory bounds.
    pub limits: BufferLimits,
    /// Follows the time range of the other linked panes (the default).
    pub linked: bool,
    /// How the source was opened, for saving the pane in a workspace; `None` when it cannot
    /// be reopened from a description (stdin).
    pub origin: Option<logsleuth_sources::spec::SourceSpec>,
    /// The source is still being opened.
    pub opening: bool,
    /// Background progress of the source (indexing a large file).
    pub progress: Option<Progress>,
    /// Whether the pane was checked for a live stream (stdin not ended yet), which it follows
    /// by default.
    pub live_checked: bool,
    /// When the histogram was last asked again during a live tail.
    pub hist_refreshed: Nanos,
    /// When an empty first page was last asked again while the source indexed a large file.
    pub indexing_rerun: Nanos,
    /// The patterns the pattern view last showed for this pane (kept for the postmortem
    /// report); `None` until it was opened and answered.
    pub shown_patterns: Option<logsleuth_core::patterns::PatternsResult>,
    /// The query text and range [`Pane::shown_patterns`] were mined for.
    pub shown_patterns_for: Option<(String, TimeRange)>,
    /// The comparison the comparison view last showed for this pane (kept for the postmortem
    /// report; its windows and totals are in it); `None` until it was opened and answered.
    pub shown_comparison: Option<logsleuth_sources::compare::Comparison>,
    /// The query text [`Pane::shown_comparison`] was computed for.
    pub shown_comparison_query: Option<String>,
}

/// A query language's name for a source kind: `KQL`, or the kind's native language (`LogQL`,
/// `DSL / Lucene`, `filter pattern` for CloudWatch, `regex` for files).
pub fn language_name(language: QueryLanguage, kind: &str) -> &'static str {
    match (language, kind) {
        (QueryLanguage::Kql, _) => "KQL",
        (QueryLanguage::Native, "loki") => "LogQL",
        (QueryLanguage::Native, "elasticsearch") => "DSL / Lucene",
        (QueryLanguage::Native, "cloudwatch") => "filter pattern",
        (QueryLanguage::Native, _) => "regex",
    }
}

impl Pane {
    /// The query bar's language name for the current language: `KQL`, or the source's native
    /// language.
    pub fn language_name(&self) -> &'static str {
        language_name(self.language, self.info.kind)
    }

    /// The table columns (after the time) a source suggests, without Loki's own guess of the
    /// level ([`LOKI_DETECTED_LEVEL`]): the lines' own level field is the column when they have
    /// one, and a guess is no column when they have none (it says `unknown` on every line of
    /// an access log).
    pub fn default_columns(info: &SourceInfo) -> Vec<String> {
        let columns: Vec<String> =
            info.default_columns.iter().filter(|c| !(info.kind == "loki" && c.as_str() == LOKI_DETECTED_LEVEL)).cloned().collect();
        if columns.is_empty() { vec!["message".into()] } else { columns }
    }

    /// [`Pane::default_columns`] for the lines loaded: a column whose value is the same on
    /// every loaded line (two or more) says nothing a row does not and is left out.
    pub fn fitted_columns(info: &SourceInfo, records: &[Record]) -> Vec<String> {
        let columns = Pane::default_columns(info);
        if records.len() < 2 {
            return columns;
        }
        let varies = |c: &String| {
            let first = crate::view::table::cell_text(&records[0], c);
            records[1..].iter().any(|r| crate::view::table::cell_text(r, c) != first)
        };
        let kept: Vec<String> = columns.iter().filter(|c| c.as_str() == "message" || varies(c)).cloned().collect();
        if kept.is_empty() { vec!["message".into()] } else { kept }
    }

    /// Refits the columns to the loaded lines while they are the defaults.
    pub fn refit_columns(&mut self) {
        if self.auto_columns {
            self.columns = Pane::fitted_columns(&self.info, &self.records);
        }
    }

    /// Shows `columns` (chosen by the user, a workspace or a saved search) from now on.
    pub fn choose_columns(&mut self, columns: Vec<String>) {
        self.columns = columns;
        self.auto_columns = false;
    }

    /// The histogram split a source suggests: status class for access logs, else level.
    pub fn default_split(info: &SourceInfo) -> Split {
        if info.roles.status.is_some() {
            Split::StatusClass
        } else if info.roles.level.is_some() {
            Split::Level
        } else {
            Split::None
        }
    }

    /// A pane for a source, before anything was fetched.
    pub fn new(info: SourceInfo, range: RangeSpec, query: &str) -> Pane {
        let columns = Pane::default_columns(&info);
        let split = Pane::default_split(&info);
        Pane {
            id: 0,
            info,
            editor: LineEditor::new(query),
            query_error: None,
            language: QueryLanguage::Kql,
            applied: Query::kql(query),
            range,
            resolved: TimeRange::ALL,
            zoom_stack: Vec::new(),
            generation: 0,
            tail_generation: 0,
            loading: Loading::default(),
            records: Vec::new(),
            total: None,
            next: None,
            warnings: Vec::new(),
            error: None,
            selected: 0,
            offset: 0,
            columns,
            auto_columns: true,
            histogram: None,
            split,
            hist_cursor: 0,
            hist_anchor: None,
            refresh_fields: false,
            exact_values: None,
            fields: Vec::new(),
            field_stats: Vec::new(),
            field_cursor: 0,
            charts: ChartsState::default(),
            tail: None,
            element: Element::Table,
            limits: BufferLimits::default(),
            linked: true,
            origin: None,
            opening: false,
            progress: None,
            live_checked: false,
            hist_refreshed: 0,
            indexing_rerun: 0,
            shown_patterns: None,
            shown_patterns_for: None,
            shown_comparison: None,
            shown_comparison_query: None,
        }
    }

    /// What the pane shows, for titles: the configuration's name of the source, else the
    /// source's own description.
    pub fn title(&self) -> String {
        match self.origin.as_ref().and_then(|o| o.name().map(str::to_string)) {
            Some(name) => name,
            None if self.info.description.is_empty() => self.info.kind.to_string(),
            None => self.info.description.clone(),
        }
    }

    /// The selected record.
    pub fn selected_record(&self) -> Option<&Record> {
        self.records.get(self.selected)
    }

    /// Fields for the default top-N charts: status, client IP and user agent (by role).
    pub fn default_chart_fields(&self) -> Vec<String> {
        let r = &self.info.roles;
        [&r.status, &r.client_ip, &r.user_agent, &r.level].into_iter().flatten().cloned().collect()
    }

    /// Recomputes the sidebar from the fields list and the first [`FIELD_SAMPLE`] records.
    pub fn refresh_field_stats(&mut self) {
        self.field_stats = field_stats(&self.records[..self.records.len().min(FIELD_SAMPLE)], &self.fields);
        self.field_cursor = self.field_cursor.min(self.field_stats.len().saturating_sub(1));
    }

    /// Field names for autocomplete: the source's list, else names seen in the sample.
    pub fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        for s in &self.field_stats {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
        names
    }
}

/// Sidebar rows: every field of the source or the sample, with its top values in the sample.
pub fn field_stats(sample: &[Record], fields: &[FieldInfo]) -> Vec<FieldStat> {
    let mut names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let mut counts: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut present: HashMap<String, usize> = HashMap::new();
    for record in sample {
        for row in detail_rows(record) {
            if row.name == "@timestamp" || row.name == "message" {
                continue;
            }
            if !names.contains(&row.name) {
                names.push(row.name.clone());
            }
            *present.entry(row.name.clone()).or_default() += 1;
            *counts.entry(row.name).or_default().entry(row.value.as_text()).or_default() += 1;
        }
    }
    names.retain(|n| n != "@timestamp");
    names
        .into_iter()
        .map(|name| {
            let mut top: Vec<(String, usize)> = counts.remove(&name).unwrap_or_default().into_iter().collect();
            top.sort_by(|a, b| logsleuth_core::agg::top_order((&a.0, a.1), (&b.0, b.1)));
            top.truncate(FIELD_TOP);
            FieldStat { present: present.get(&name).copied().unwrap_or(0), name, top }
        })
        .collect()
}

/// The rows of a record's detail view: `@timestamp`, labels, metadata, fields, `message`.
pub fn detail_rows(record: &Record) -> Vec<DetailRow> {
    let mut rows = Vec::new();
    if let Some(ts) = record.timestamp {
        rows.push(DetailRow {
            name: "@timestamp".into(),
            value: Value::Str(logsleuth_core::time::format_rfc3339(ts)),
            origin: FieldOrigin::Field,
        });
    }
    for (group, origin) in
        [(&*record.labels, FieldOrigin::Label), (&record.metadata, FieldOrigin::Metadata), (&record.fields, FieldOrigin::Field)]
    {
        for (name, value) in group.flatten() {
            rows.push(DetailRow { name, value: value.clone(), origin });
        }
    }
    if !rows.iter().any(|r| r.name == "message") {
        rows.push(DetailRow { name: "message".into(), value: Value::Str(record.message.clone()), origin: FieldOrigin::Field });
    }
    rows
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct App {
    /// Every pane of every tab.
    pub panes: Vec<Pane>,
    /// Index in `panes` of the focused pane.
    pub focus: usize,
    /// The id the next pane gets.
    pub next_pane_id: PaneId,
    /// Tabs of pane layouts.
    pub tabs: Vec<Tab>,
    /// The shown tab.
    pub tab: usize,
    /// `Ctrl-w` was pressed: the next key is a pane command.
    pub pane_prefix: bool,
    /// The instant under the cursor of the focused pane, marked in the other panes.
    pub instant: Option<Instant>,
    /// The source picker for a new pane or tab.
    pub source_picker: SourcePickerState,
    /// Sources the picker offers by name (the configuration's `[sources.NAME]`).
    pub named_sources: Vec<String>,
    /// The workspace the layout was loaded from / is saved to.
    pub workspace: Option<String>,
    /// The postmortem report's authors.
    pub report_authors: Vec<String>,
    /// Interaction mode.
    pub mode: Mode,
    /// The mode to return to when a popup closes.
    pub previous_mode: Mode,
    /// Colours.
    pub theme: Theme,
    /// Query history.
    pub history: History,
    /// Autocomplete popup.
    pub completion: Completion,
    /// Known values per field for autocomplete.
    pub value_cache: HashMap<String, Vec<String>>,
    /// Fields whose values are being fetched.
    pub values_pending: Vec<String>,
    /// The detail view, when open.
    pub detail: Option<DetailState>,
    /// The time picker.
    pub picker: PickerState,
    /// Scroll of the help screen.
    pub help_scroll: usize,
    /// Current time (updated by ticks; fixed in tests).
    pub now: Nanos,
    /// Animation frame counter for the spinner.
    pub spinner: usize,
    /// Terminal size.
    pub viewport: Rect,
    /// A short message for the status line.
    pub message: Option<String>,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Set when the screen must be redrawn.
    pub dirty: bool,
    /// Marks set while investigating, in time order.
    pub marks: Vec<super::investigate::Mark>,
    /// The text prompt, when open.
    pub prompt: Option<super::investigate::PromptState>,
    /// Key overrides of the main screen.
    pub keymap: super::keymap::Keymap,
    /// The rest of the incident workflow's state (popups, saved searches, clipboard).
    pub investigate: super::investigate::InvestigateState,
    /// The value followed in all panes and the thread view ([`crate::features::thread`]).
    pub thread: crate::features::thread::ThreadState,
    /// The session's watches ([`crate::features::watches`]).
    pub watches: crate::features::watches::WatchesState,
    /// The pattern view ([`crate::features::patterns`]).
    pub patterns: crate::features::patterns::PatternsState,
    /// The comparison view ([`crate::features::comparison`]).
    pub comparison: crate::features::comparison::ComparisonState,
}

impl App {
    /// A new app with one pane. `range` `None` means the source's default: the last hour for
    /// servers, everything for local files.
    pub fn new(info: SourceInfo, query: Option<String>, range: Option<TimeRange>, theme: Theme, history: History, now: Nanos) -> App {
        let range = match range {
            Some(r) => RangeSpec::Absolute(r),
            None if info.is_remote => RangeSpec::Last(3600 * NS_PER_SEC),
            None => RangeSpec::All,
        };
        let pane = Pane::new(info, range, query.as_deref().unwrap_or(""));
        App {
            panes: vec![pane],
            focus: 0,
            next_pane_id: 1,
            tabs: vec![Tab::new(0)],
            tab: 0,
            pane_prefix: false,
            instant: None,
            source_picker: SourcePickerState::default(),
            named_sources: Vec::new(),
            report_authors: Vec::new(),
            workspace: None,
            mode: Mode::Normal,
            previous_mode: Mode::Normal,
            theme,
            history,
            completion: Completion::default(),
            value_cache: HashMap::new(),
            values_pending: Vec::new(),
            detail: None,
            picker: PickerState::default(),
            help_scroll: 0,
            now,
            spinner: 0,
            viewport: Rect::new(0, 0, 120, 40),
            message: None,
            quit: false,
            dirty: true,
            marks: Vec::new(),
            prompt: None,
            keymap: super::keymap::Keymap::default(),
            investigate: super::investigate::InvestigateState::default(),
            thread: crate::features::thread::ThreadState::default(),
            watches: crate::features::watches::WatchesState::default(),
            patterns: crate::features::patterns::PatternsState::default(),
            comparison: crate::features::comparison::ComparisonState::default(),
        }
    }

    /// Adds a pane, giving it a fresh id; returns the id.
    pub fn add_pane(&mut self, mut pane: Pane) -> PaneId {
        pane.id = self.next_pane_id;
        self.next_pane_id += 1;
        self.panes.push(pane);
        self.next_pane_id - 1
    }

    /// Where the pane with this id is in `panes`.
    pub fn pane_index(&self, id: PaneId) -> Option<usize> {
        self.panes.iter().position(|p| p.id == id)
    }

    /// The focused pane.
    pub fn pane(&self) -> &Pane {
        &self.panes[self.focus.min(self.panes.len() - 1)]
    }

    /// The focused pane, mutably.
    pub fn pane_mut(&mut self) -> &mut Pane {
        let i = self.focus.min(self.panes.len() - 1);
        &mut self.panes[i]
    }

    /// The shown tab.
    pub fn current_tab(&self) -> &Tab {
        &self.tabs[self.tab.min(self.tabs.len() - 1)]
    }

    /// The shown tab, mutably.
    pub fn current_tab_mut(&mut self) -> &mut Tab {
        let i = self.tab.min(self.tabs.len() - 1);
        &mut self.tabs[i]
    }

    /// Focuses a pane of the shown tab (no-op for an unknown id).
    pub fn focus_pane(&mut self, id: PaneId) {
        if let Some(i) = self.pane_index(id) {
            self.focus = i;
            self.current_tab_mut().focus = id;
        }
    }

    /// Shows tab `tab` and focuses its focused pane.
    pub fn show_tab(&mut self, tab: usize) {
        if tab < self.tabs.len() {
            self.tab = tab;
            let id = self.tabs[tab].focus;
            self.focus_pane(id);
        }
    }

    /// Indices (in `panes`) of the panes of the shown tab, in reading order.
    pub fn tab_panes(&self) -> Vec<usize> {
        self.current_tab().root.panes().into_iter().filter_map(|id| self.pane_index(id)).collect()
    }
}

/// The instant under the cursor of one pane (a table row's time or a histogram bucket's),
/// shown in the other panes as a marker on their histograms and a highlighted nearest line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    /// The pane the cursor is in.
    pub pane: PaneId,
    /// The time, in ns.
    pub time: Nanos,
}

/// Where a pane being opened goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// Beside the focused pane (a vertical divider).
    #[default]
    SideBySide,
    /// Below the focused pane.
    Below,
    /// In a new tab.
    NewTab,
}

/// One choice of the source picker.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceChoice {
    /// The focused pane's source again (another query on the same data).
    Same,
    /// A source from the configuration.
    Named(String),
    /// The bundled demo data.
    Demo,
    /// What was typed: a file path, `loki URL SELECTOR`, `es URL INDEX` or `cloudwatch GROUP…`.
    Typed(String),
    /// A CloudWatch log group the group browser listed for `cloudwatch PREFIX`.
    LogGroup(String),
}

/// The source picker's group browser: the log groups listed for what follows `cloudwatch `
/// (or `cw `) in the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogGroupList {
    /// The prefix last asked for (`None`: the input is not a CloudWatch one).
    pub prefix: Option<String>,
    /// The groups listed for it.
    pub names: Vec<String>,
    /// Whether the listing is still running.
    pub loading: bool,
    /// Why the groups could not be listed.
    pub error: Option<String>,
}

/// How many groups the browser lists (`DescribeLogGroups` pages are 50).
pub const LOG_GROUPS_LISTED: usize = 50;

/// The group-name prefix of a picker input `cloudwatch PREFIX` / `cw PREFIX` (the last word
/// typed; empty right after the keyword and a space), or `None` for other inputs.
pub fn log_group_prefix(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let (keyword, rest) = text.split_once(char::is_whitespace)?;
    if !matches!(keyword, "cloudwatch" | "cw") {
        return None;
    }
    if rest.ends_with(char::is_whitespace) {
        return Some("");
    }
    Some(rest.split_whitespace().last().unwrap_or(""))
}

/// The source picker popup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcePickerState {
    /// Where the new pane goes.
    pub placement: Placement,
    /// Filter / free text.
    pub input: LineEditor,
    /// Highlighted choice.
    pub cursor: usize,
    /// Why the last choice could not be used.
    pub error: Option<String>,
    /// The CloudWatch group browser.
    pub groups: LogGroupList,
}

impl App {
    /// The picker's choices for the current input: the same source, named sources and the
    /// demo filtered by the input (fuzzy), then the input itself as a path or server.
    pub fn source_choices(&self) -> Vec<SourceChoice> {
        use fuzzy_matcher::FuzzyMatcher;
        let text = self.source_picker.input.text.trim();
        let matcher = fuzzy_matcher::skim::SkimMatcherV2::default();
        let keep = |name: &str| text.is_empty() || matcher.fuzzy_match(name, text).is_some();
        let mut out = Vec::new();
        if keep("same source") {
            out.push(SourceChoice::Same);
        }
        for name in &self.named_sources {
            if keep(name) {
                out.push(SourceChoice::Named(name.clone()));
            }
        }
        if keep("demo") {
            out.push(SourceChoice::Demo);
        }
        // Listed groups first (Enter opens the first), what was typed after them.
        let groups = &self.source_picker.groups;
        if groups.prefix.is_some() && groups.prefix.as_deref() == log_group_prefix(text) {
            let typed = text.split_whitespace().skip(1).collect::<Vec<_>>();
            for name in &groups.names {
                if typed.as_slice() != [name.as_str()] {
                    out.push(SourceChoice::LogGroup(name.clone()));
                }
            }
        }
        if !text.is_empty() {
            out.push(SourceChoice::Typed(text.to_string()));
        }
        out
    }

    /// The region, profile and endpoint a CloudWatch group opened from the picker uses: the
    /// focused pane's when it shows CloudWatch groups, else the first CloudWatch pane's, else
    /// the AWS chain's defaults.
    pub fn cloudwatch_account(&self) -> logsleuth_sources::spec::CloudWatchSpec {
        let cloudwatch = |p: &Pane| match &p.origin {
            Some(logsleuth_sources::spec::SourceSpec::CloudWatch(spec)) => Some(spec.with_groups(Vec::new())),
            _ => None,
        };
        cloudwatch(self.pane()).or_else(|| self.panes.iter().find_map(cloudwatch)).unwrap_or_default()
    }
}
