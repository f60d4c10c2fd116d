//! What can happen to the app (`Action`: keys and mouse mapped to intents, plus answers from
//! sources) and what the app asks the outside world to do (`Effect`: source calls, saving
//! history). The reducer turns one into the other; the runtime executes effects in tokio tasks.

use logsleuth_core::model::{HistogramResult, Nanos, Record, TopResult};
use logsleuth_sources::{
    FieldInfo, HistogramRequest, Progress, SearchPage, SearchRequest, SourceResult, TailEvent, TailRequest, TopRequest,
};

/// A pane's stable identity ([`crate::app::Pane::id`]); not its index, which changes as
/// panes close.
pub type PaneId = usize;

/// Which end to jump to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// First item.
    Start,
    /// Last item.
    End,
}

/// A mouse event in terminal cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseAction {
    /// Wheel up at (x, y).
    ScrollUp(u16, u16),
    /// Wheel down at (x, y).
    ScrollDown(u16, u16),
    /// Left button pressed at (x, y).
    Down(u16, u16),
    /// Dragged with the left button to (x, y).
    Drag(u16, u16),
    /// Left button released at (x, y).
    Up(u16, u16),
}

impl Action {
    /// Whether the action comes from the user (keys, mouse, resize) rather than from a source
    /// or the clock. A user action ends a pending `Ctrl-w`.
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            Action::Tick(_)
                | Action::Progress(_)
                | Action::PaneProgress { .. }
                | Action::SearchDone { .. }
                | Action::HistogramDone { .. }
                | Action::TopDone { .. }
                | Action::SourceInfo { .. }
                | Action::FieldsDone { .. }
                | Action::RangeResolved { .. }
                | Action::ValuesDone { .. }
                | Action::Tail { .. }
                | Action::ContextDone { .. }
                | Action::HistorySaveFailed(_)
                | Action::PaneOpened { .. }
                | Action::LogGroupsListed { .. }
                | Action::WorkspaceSaved(_)
                | Action::Watch(crate::features::watches::WatchAction::Measured { .. })
                | Action::Patterns(crate::features::patterns::PatternsAction::Done { .. })
                | Action::Comparison(crate::features::comparison::ComparisonAction::Done { .. })
        )
    }
}

/// Everything the reducer reacts to.
#[derive(Debug, Clone)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Periodic tick with the current time (spinner, tail rate, relative ranges).
    Tick(Nanos),
    /// The terminal was resized.
    Resize(u16, u16),
    /// `Esc`: cancel a running query, else close the current popup / leave the mode.
    Escape,
    /// Show / hide the key help.
    ToggleHelp,
    /// Detail view: show the records around this one in its file/stream/index.
    ShowContext,
    /// Answer to a context request.
    ContextDone {
        /// Pane that asked.
        pane: PaneId,
        /// Records, oldest first, the anchor included.
        result: SourceResult<Vec<Record>>,
    },
    /// Switch the query bar between KQL and the source's native language (LogQL for Loki,
    /// query DSL JSON or Lucene for Elasticsearch, a regular expression for files).
    ToggleQueryLanguage,
    /// Start editing the query (`/`).
    EditQuery,
    /// Type a character into the focused text field.
    Input(char),
    /// Pasted text for the focused text field (control characters are dropped).
    Paste(String),
    /// Delete before the cursor.
    Backspace,
    /// Delete under the cursor.
    Delete,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Clear the text field.
    ClearInput,
    /// Cursor left in a text field.
    CursorLeft,
    /// Cursor right in a text field.
    CursorRight,
    /// Cursor to the start of a text field.
    CursorHome,
    /// Cursor to the end of a text field.
    CursorEnd,
    /// Accept the highlighted completion.
    AcceptCompletion,
    /// `Enter`: run the query, open the row, zoom, apply the range — by context.
    Submit,
    /// Move the cursor / selection by rows (negative is up).
    Move(i32),
    /// Move by pages (negative is up).
    Page(i32),
    /// Jump to an end.
    Jump(Edge),
    /// Move left / right in horizontal elements (histogram) by this many buckets.
    MoveHorizontal(i32),
    /// Next pane element (`Tab`).
    FocusNext,
    /// Previous pane element (`Shift-Tab`).
    FocusPrev,
    /// Focus the field sidebar (`f`).
    FocusFields,
    /// Open the top-N charts (`c`).
    OpenCharts,
    /// Open the time picker (`r`).
    OpenTimePicker,
    /// Toggle live tail (`t`).
    ToggleTail,
    /// Pause / resume the tail (`space`).
    TogglePause,
    /// Cycle the histogram split: status class → level → none.
    CycleSplit,
    /// Start / clear a histogram span selection (`v`).
    MarkSpan,
    /// Zoom into the selected histogram span (or bucket).
    ZoomIn,
    /// Step back out of the last zoom.
    ZoomOut,
    /// Add `field:value` for the current field / value to the query and run it.
    FilterFor,
    /// Add `not field:value` to the query and run it.
    FilterOut,
    /// Add `field:*` to the query and run it.
    FilterExists,
    /// Show / hide the current field as a table column.
    ToggleColumn,
    /// Replace the sidebar's sample of the selected field with its exact top values over the
    /// whole query and range, counted by the backend (again: back to the sample).
    ExactValues,
    /// Show the next (positive) or previous record in the detail view.
    DetailRecord(i32),
    /// Switch the detail view between fields and JSON.
    ToggleDetailView,
    /// A mouse event.
    Mouse(MouseAction),
    /// Answer to a search.
    SearchDone {
        /// Pane that asked.
        pane: PaneId,
        /// Request generation (stale answers are dropped).
        generation: u64,
        /// Whether this was a next page.
        append: bool,
        /// The answer.
        result: SourceResult<SearchPage>,
    },
    /// Answer to a histogram request.
    HistogramDone {
        /// Pane that asked.
        pane: PaneId,
        /// Request generation.
        generation: u64,
        /// The answer.
        result: SourceResult<HistogramResult>,
    },
    /// Answer to a top-N request.
    TopDone {
        /// Pane that asked.
        pane: PaneId,
        /// Request generation.
        generation: u64,
        /// The field aggregated.
        field: String,
        /// The answer.
        result: SourceResult<TopResult>,
    },
    /// What the source says about itself now. Server sources learn their field roles and
    /// default columns from their first answers (ES field caps, Loki's detected parser).
    SourceInfo {
        /// Pane whose source answered.
        pane: PaneId,
        /// The source's current description.
        info: logsleuth_sources::SourceInfo,
    },
    /// The data's span when a query with an open end runs (the end it is pinned at).
    RangeResolved {
        /// Pane that asked.
        pane: PaneId,
        /// The query generation it was asked for.
        generation: u64,
        /// The source's span (`None` when it does not know it cheaply).
        span: Option<logsleuth_core::model::TimeRange>,
    },
    /// Answer to a field list request.
    FieldsDone {
        /// Pane that asked.
        pane: PaneId,
        /// The answer.
        result: SourceResult<Vec<FieldInfo>>,
    },
    /// Known values of a field, for autocomplete.
    ValuesDone {
        /// Pane that asked.
        pane: PaneId,
        /// The field.
        field: String,
        /// The answer.
        result: SourceResult<Vec<String>>,
    },
    /// Something from a live tail.
    Tail {
        /// Pane that tails.
        pane: PaneId,
        /// Tail generation.
        generation: u64,
        /// The event.
        event: TailEvent,
    },
    /// Background progress of the focused pane's source.
    Progress(Option<Progress>),
    /// The history file could not be written.
    HistorySaveFailed(String),
    /// `Ctrl-w`: the next key is a pane command (split, close, focus, resize, tabs).
    PanePrefix,
    /// A key after `Ctrl-w` that is no pane command.
    UnknownPaneCommand,
    /// Open a new pane or tab: shows the source picker.
    NewPane(crate::app::Placement),
    /// Close the focused pane (the last pane of the last tab stays).
    ClosePane,
    /// Move the focus to the pane on that side.
    FocusPane(crate::tiles::Toward),
    /// Move the focus to the next (true) or previous pane of the tab.
    CyclePane(bool),
    /// Grow (positive) or shrink the focused pane across the divider of that direction, in
    /// percent.
    ResizePane(crate::tiles::Direction, i16),
    /// Show the focused pane alone / the whole layout again.
    ToggleMaximise,
    /// Show the next (true) or previous tab.
    CycleTab(bool),
    /// Link / unlink the focused pane's time range with the other panes.
    ToggleLink,
    /// Save the layout, sources, queries and ranges to the workspace file.
    SaveWorkspace,
    /// A pane's source was opened (or could not be).
    PaneOpened {
        /// The pane.
        pane: PaneId,
        /// Its description, or why it could not be opened.
        result: Result<logsleuth_sources::SourceInfo, String>,
        /// Its background progress when it opened (a large file being indexed).
        progress: Option<Progress>,
    },
    /// The log groups whose names start with `prefix` (the source picker's group browser),
    /// or why they could not be listed.
    LogGroupsListed {
        /// The prefix asked for.
        prefix: String,
        /// The groups' names.
        result: Result<Vec<String>, String>,
    },
    /// The workspace file was written (its path), or why not.
    WorkspaceSaved(Result<std::path::PathBuf, String>),
    /// Background progress of a pane's source (indexing a large file).
    PaneProgress {
        /// The pane.
        pane: PaneId,
        /// Done / total, or `None` when finished.
        progress: Option<Progress>,
    },
    /// Marks, export, copy, saved searches ([`crate::investigate`]).
    Investigate(crate::investigate::InvestigateAction),
    /// Following a value in all panes, the thread view ([`crate::features::thread`]).
    Thread(crate::features::thread::ThreadAction),
    /// Move the histogram cursor to the next (`true`) or previous spike / drop bucket.
    JumpSpike(bool),
    /// Watches: "watch this", the panel, measurements ([`crate::features::watches`]).
    Watch(crate::features::watches::WatchAction),
    /// The pattern view ([`crate::features::patterns`]).
    Patterns(crate::features::patterns::PatternsAction),
    /// The comparison view ([`crate::features::comparison`]).
    Comparison(crate::features::comparison::ComparisonAction),
}

/// Work for the runtime. Every source call carries the pane and a generation so late answers
/// to superseded requests are recognised and dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Fetch a page of records.
    Search {
        /// Pane.
        pane: PaneId,
        /// Generation.
        generation: u64,
        /// Next page (append) or first page (replace).
        append: bool,
        /// The request.
        request: SearchRequest,
    },
    /// Compute events over time.
    Histogram {
        /// Pane.
        pane: PaneId,
        /// Generation.
        generation: u64,
        /// The request.
        request: HistogramRequest,
    },
    /// Compute a top-N chart.
    Top {
        /// Pane.
        pane: PaneId,
        /// Generation.
        generation: u64,
        /// The request.
        request: TopRequest,
        /// Also ask the field's distinct count where the answer lacks it (the sidebar's exact
        /// values; charts do not need it).
        distinct: bool,
    },
    /// List the fields.
    Fields {
        /// Pane.
        pane: PaneId,
        /// The range.
        range: logsleuth_core::model::TimeRange,
    },
    /// The records around one record (`Source::context`).
    Context {
        /// Pane whose source to ask.
        pane: PaneId,
        /// The record.
        record: Box<Record>,
        /// How many before and after.
        lines: usize,
    },
    /// Known values of a field.
    FieldValues {
        /// Pane.
        pane: PaneId,
        /// The field.
        field: String,
        /// The range.
        range: logsleuth_core::model::TimeRange,
    },
    /// Start a live tail (replacing any running one for the pane).
    StartTail {
        /// Pane.
        pane: PaneId,
        /// Tail generation.
        generation: u64,
        /// The request.
        request: TailRequest,
    },
    /// Stop the pane's live tail.
    StopTail {
        /// Pane.
        pane: PaneId,
    },
    /// Ask the source for its data's span, to pin the open end of a query that is about to
    /// run (one snapshot per screen).
    ResolveRange {
        /// Pane.
        pane: PaneId,
        /// The query generation.
        generation: u64,
    },
    /// Abort the pane's running searches and aggregations.
    Cancel {
        /// Pane.
        pane: PaneId,
    },
    /// Write the query history.
    SaveHistory(Vec<String>),
    /// Open the source of a new pane.
    OpenSource {
        /// The new pane.
        pane: PaneId,
        /// What to open.
        request: OpenRequest,
    },
    /// List CloudWatch log groups for the source picker (`DescribeLogGroups` with a name
    /// prefix) and answer [`Action::LogGroupsListed`]; a newer listing replaces a running one.
    ListLogGroups {
        /// Region, profile and endpoint to ask.
        endpoint: logsleuth_sources::cloudwatch::Endpoint,
        /// The names' prefix; empty for the first groups.
        prefix: String,
    },
    /// Forget a closed pane's source (its tasks are cancelled separately).
    CloseSource {
        /// The closed pane.
        pane: PaneId,
    },
    /// Write a workspace file.
    SaveWorkspace {
        /// Its name or path.
        name: String,
        /// Its contents.
        file: Box<crate::workspace::WorkspaceFile>,
    },
    /// Exports, saved searches, the clipboard ([`crate::investigate`]).
    Investigate(crate::investigate::InvestigateEffect),
    /// Measuring a watch, the alert on the terminal ([`crate::features::watches`]).
    Watch(crate::features::watches::WatchEffect),
    /// Mine the patterns of a pane's query (`Source::patterns`) and answer
    /// [`crate::features::patterns::PatternsAction::Done`].
    Patterns {
        /// Pane whose source to ask.
        pane: PaneId,
        /// The view's request id.
        id: u64,
        /// The request.
        request: logsleuth_sources::patterns::PatternsRequest,
    },
    /// Compare a window with its baseline (`logsleuth_sources::compare::compare`) and answer
    /// [`crate::features::comparison::ComparisonAction::Done`].
    Compare {
        /// Pane whose source to ask.
        pane: PaneId,
        /// The view's request id.
        id: u64,
        /// The request.
        request: Box<logsleuth_sources::compare::CompareRequest>,
    },
}

/// What source a new pane opens.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenRequest {
    /// The same source object as another pane (another query on the same data).
    SameAs(PaneId),
    /// A source described like the command line's flags.
    Spec(Box<logsleuth_sources::spec::SourceSpec>),
}
