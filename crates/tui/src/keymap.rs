//! The named actions: one table, [`ACTIONS`], of every key the UI reads, screen by screen.
//!
//! Each entry names an action and gives its description, its default keys, the screens where
//! those keys work and the [`Action`] it produces. Everything about keys reads it:
//! - [`crate::keys::map_key`] dispatches through it (Ctrl-c and Esc first, then the `[keys]`
//!   overrides of the main screen, then the entries of the current screen; typing into a text
//!   field is the only thing it falls back to),
//! - the help overlay ([`help_sections`], drawn by `view::help`) is generated from it, with the
//!   keys in effect,
//! - the `[keys]` table of the configuration rebinds its [`NamedAction::rebindable`] entries
//!   ([`crate::bindings::parse_overrides`] checks names against it, [`Keymap`] applies them),
//! - the status line's key hints ([`hints`]) are its entries with a [`Hint`].
//!
//! An override replaces every default key of its action on the main screen (the default key
//! then does nothing there); keys not overridden keep their defaults. Other screens keep their
//! own keys.
//!
//! Adding a key: add an entry to [`ACTIONS`] in its screen's section. The tests check that its
//! keys parse and reach its action, and that the help shows it.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::action::{Action, Edge};
use crate::app::{App, Element, Mode, Placement};
use crate::bindings::KeyBinding;
use crate::features::comparison::ComparisonAction as Cmp;
use crate::features::patterns::PatternsAction as Pat;
use crate::features::thread::ThreadAction as Th;
use crate::features::watches::WatchAction as Wa;
use crate::investigate::InvestigateAction as Inv;
use crate::tiles::{Direction, RESIZE_STEP, Toward};

/// Where keys are read: a mode of the app, or the key after `Ctrl-w`. Also the sections of the
/// help, in [`Screen::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Screen {
    /// Every screen: an entry for it works whatever the mode, before anything else.
    Everywhere,
    /// Browsing a pane: the table and the histogram ([`Mode::Normal`]).
    Main,
    /// The key after `Ctrl-w`.
    Panes,
    /// The query bar.
    Query,
    /// The field sidebar.
    Fields,
    /// A record's detail view.
    Detail,
    /// The top-N charts.
    Charts,
    /// The list of marks.
    Marks,
    /// The export menu.
    Export,
    /// The saved-search picker.
    SavedSearches,
    /// A text prompt (notes, file names).
    Prompt,
    /// The time picker.
    TimePicker,
    /// Choosing the source of a new pane or tab.
    SourcePicker,
    /// The help overlay itself.
    Help,
    /// The thread view (a value followed in all panes).
    Thread,
    /// The watches panel.
    Watches,
    /// The pattern view.
    Patterns,
    /// The comparison view (window against baseline).
    Comparison,
}

use Screen::*;

impl Screen {
    /// Every screen, in the help's order.
    pub const ALL: &[Screen] = &[
        Everywhere,
        Main,
        Panes,
        Query,
        Fields,
        Detail,
        Charts,
        Marks,
        Export,
        SavedSearches,
        Prompt,
        TimePicker,
        SourcePicker,
        Help,
        Thread,
        Watches,
        Patterns,
        Comparison,
    ];

    /// The help section's title (the `Ctrl-w` section's comes from its prefix entry).
    pub fn title(self) -> &'static str {
        match self {
            Everywhere => "Everywhere",
            Main => "Main screen",
            Panes => "Panes and tabs",
            Query => "Query bar",
            Fields => "Field sidebar",
            Detail => "Detail view",
            Charts => "Top-N charts",
            Marks => "Marks list",
            Export => "Export menu",
            SavedSearches => "Saved searches",
            Prompt => "Prompts (notes, file names)",
            TimePicker => "Time picker",
            SourcePicker => "Source picker (new pane or tab)",
            Help => "This help",
            Thread => "Thread view (a value followed in all panes)",
            Watches => "Watches panel",
            Patterns => "Pattern view",
            Comparison => "Comparison view (what changed)",
        }
    }

    /// The screen that reads the app's keys now.
    pub fn of(app: &App) -> Screen {
        if app.pane_prefix {
            return Panes;
        }
        match app.mode {
            Mode::Normal => Main,
            Mode::Query => Query,
            Mode::Fields => Fields,
            Mode::Detail => Detail,
            Mode::Help => Help,
            Mode::TimePicker => TimePicker,
            Mode::Charts => Charts,
            Mode::SourcePicker => SourcePicker,
            Mode::Prompt => Prompt,
            Mode::Marks => Marks,
            Mode::Export => Export,
            Mode::SavedSearches => SavedSearches,
            Mode::Thread => Thread,
            Mode::Watches => Watches,
            Mode::Patterns => Patterns,
            Mode::Comparison => Comparison,
        }
    }

    /// The mode showing this screen (`Ctrl-w`'s keys are read in the mode it was pressed in,
    /// [`Mode::Normal`] here); `None` for [`Screen::Everywhere`].
    pub fn mode(self) -> Option<Mode> {
        Some(match self {
            Everywhere => return None,
            Main | Panes => Mode::Normal,
            Query => Mode::Query,
            Fields => Mode::Fields,
            Detail => Mode::Detail,
            Charts => Mode::Charts,
            Marks => Mode::Marks,
            Export => Mode::Export,
            SavedSearches => Mode::SavedSearches,
            Prompt => Mode::Prompt,
            TimePicker => Mode::TimePicker,
            SourcePicker => Mode::SourcePicker,
            Help => Mode::Help,
            Thread => Mode::Thread,
            Watches => Mode::Watches,
            Patterns => Mode::Patterns,
            Comparison => Mode::Comparison,
        })
    }
}

/// What an entry produces for a key of its, in the app as it is: `None` when it does not apply
/// now (the histogram does not have focus, a text field of the time picker has the keys…), and
/// the key goes on to the next entries.
pub type Act = fn(&App, &KeyEvent) -> Option<Action>;

/// How an entry sits in the help: its own line, or on the previous entry's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Starts a line; the line's text is this entry's description.
    Line,
    /// On the previous entry's line, its keys side by side with the previous ones
    /// (`j k / ↓ ↑`: `down` then `up`).
    And,
    /// On the previous entry's line, after a ` / ` (`Tab / Shift-Tab`).
    Or,
    /// Not a line: its keys are in the section's title (`Panes and tabs (Ctrl-w, then…)`).
    Title,
}

/// A short key hint on the status line, `? help`.
#[derive(Clone, Copy)]
pub struct Hint {
    /// Order on the status line, lowest first (then the table's order).
    pub rank: u8,
    /// What the key does, in a word or two. Hints of consecutive entries with the same label
    /// are merged: `h j k l focus`.
    pub label: &'static str,
    /// Whether the hint is shown now.
    pub when: fn(&App) -> bool,
}

/// One named action: a row of [`ACTIONS`].
#[derive(Clone, Copy)]
pub struct NamedAction {
    /// Its name: for a rebindable action the name in `[keys]`; unique within its section.
    pub name: &'static str,
    /// Where its keys work; the first is its home, where the tests try its keys.
    pub screens: &'static [Screen],
    /// The help section listing it.
    pub section: Screen,
    /// Default keys as `[keys]` spells them (`j`, `down`, `ctrl-d`), shown in the help.
    /// An entry without keys is a note in the help (`mouse`, `type`), the name in the keys
    /// column.
    pub keys: &'static [&'static str],
    /// More default keys, not shown in the help (`=` besides `+`, `Ctrl-f` besides `Ctrl-d`).
    pub hidden: &'static [&'static str],
    /// What it does; for the first entry of a help line, the line's text.
    pub help: &'static str,
    /// Where it goes in the help.
    pub join: Join,
    /// The action it produces.
    pub act: Act,
    /// Whether `[keys]` can rebind it (main-screen keys only).
    pub rebindable: bool,
    /// Its hint on the status line, if any.
    pub hint: Option<Hint>,
}

const fn on(
    screens: &'static [Screen],
    name: &'static str,
    keys: &'static [&'static str],
    help: &'static str,
    act: Act,
) -> NamedAction {
    NamedAction {
        name,
        screens,
        section: screens[0],
        keys,
        hidden: &[],
        help,
        join: Join::Line,
        act,
        rebindable: false,
        hint: None,
    }
}

/// A help line that is not a key (`mouse`).
const fn note(screen: &'static [Screen], name: &'static str, help: &'static str) -> NamedAction {
    on(screen, name, &[], help, |_, _| None)
}

fn always(_: &App) -> bool {
    true
}

impl NamedAction {
    const fn also(mut self, hidden: &'static [&'static str]) -> Self {
        self.hidden = hidden;
        self
    }
    const fn and(mut self) -> Self {
        self.join = Join::And;
        self
    }
    const fn or(mut self) -> Self {
        self.join = Join::Or;
        self
    }
    const fn title(mut self) -> Self {
        self.join = Join::Title;
        self
    }
    const fn shown_in(mut self, section: Screen) -> Self {
        self.section = section;
        self
    }
    const fn rebindable(mut self) -> Self {
        self.rebindable = true;
        self
    }
    const fn hint(mut self, rank: u8, label: &'static str) -> Self {
        self.hint = Some(Hint { rank, label, when: always });
        self
    }
    const fn hint_if(mut self, rank: u8, label: &'static str, when: fn(&App) -> bool) -> Self {
        self.hint = Some(Hint { rank, label, when });
        self
    }

    /// Its default keys: the shown ones, then the hidden ones.
    pub fn default_keys(&self) -> impl Iterator<Item = &'static str> + use<> {
        let (keys, hidden): (&'static [&'static str], &'static [&'static str]) = (self.keys, self.hidden);
        keys.iter().chain(hidden.iter()).copied()
    }
}

/// `|_, _| Some(action)`: an entry that always produces `action`.
macro_rules! to {
    ($action:expr) => {
        |_, _| Some($action)
    };
}

fn on_histogram(app: &App) -> bool {
    app.pane().element == Element::Histogram
}

fn picker_list(app: &App) -> bool {
    app.picker.field == 0
}

/// `?` and `F1`, except where `?` is typed (the query bar, the time picker's fields) and after
/// `Ctrl-w` (where `F1` is not a pane command).
fn toggle_help(app: &App, key: &KeyEvent) -> Option<Action> {
    let f1 = key.code == KeyCode::F(1);
    let here = match Screen::of(app) {
        Query => f1,
        Panes => !f1,
        TimePicker => !f1 && picker_list(app),
        _ => true,
    };
    here.then_some(Action::ToggleHelp)
}

const EVERY: &[Screen] = &[Everywhere];
const MAIN: &[Screen] = &[Main];
const MAIN_FIELDS: &[Screen] = &[Main, Fields];
/// The browsing screens share the main screen's paging, jumps and help.
const BROWSE: &[Screen] = &[Main, Fields, Detail, Charts, Help];

/// Every named action, by screen. See the module's documentation.
#[rustfmt::skip]
pub const ACTIONS: &[NamedAction] = &[
    // ── Everywhere
    on(&[Main, Fields, Detail, Charts, Help, Panes, TimePicker, Query], "help", &["?", "F1"],
        "show / hide this help (F1 in the query bar, where ? is typed)", toggle_help)
    .shown_in(Everywhere)
    .rebindable()
    .hint_if(1, "help", |app| app.mode != Mode::Help && !app.pane_prefix),
    on(EVERY, "escape", &["esc"], "cancel the running query; else close the popup or leave the mode", to!(Action::Escape)),
    on(EVERY, "interrupt", &["ctrl-c"], "quit", to!(Action::Quit)),
    // ── Main screen
    on(MAIN_FIELDS, "quit", &["q"], "quit", to!(Action::Quit)).rebindable().hint(2, "quit"),
    on(MAIN_FIELDS, "edit_query", &["/"], "edit the KQL query", to!(Action::EditQuery)).rebindable(),
    on(MAIN_FIELDS, "next_element", &["tab"], "next / previous element: query bar, histogram, table, fields", to!(Action::FocusNext))
        .rebindable(),
    on(MAIN_FIELDS, "previous_element", &["backtab"], "previous element", to!(Action::FocusPrev)).rebindable().or(),
    on(&[Main, Help], "down", &["j", "down"], "move the selection (table, histogram cursor)", to!(Action::Move(1))).rebindable(),
    on(&[Main, Help], "up", &["k", "up"], "move the selection up", to!(Action::Move(-1))).rebindable().and(),
    on(MAIN, "left", &["h", "left"], "move the histogram cursor (H L: ten buckets)", |app, _| {
        on_histogram(app).then_some(Action::MoveHorizontal(-1))
    })
    .rebindable(),
    on(MAIN, "right", &["l", "right"], "move the histogram cursor right", |app, _| on_histogram(app).then_some(Action::MoveHorizontal(1)))
        .rebindable()
        .and(),
    on(MAIN, "left_ten", &["H"], "move the histogram cursor ten buckets left", |app, _| {
        on_histogram(app).then_some(Action::MoveHorizontal(-10))
    })
    .or(),
    on(MAIN, "right_ten", &["L"], "move the histogram cursor ten buckets right", |app, _| {
        on_histogram(app).then_some(Action::MoveHorizontal(10))
    })
    .and(),
    on(BROWSE, "page_down", &["pagedown", "ctrl-d"], "page down / up", to!(Action::Page(1))).also(&["ctrl-f"]).rebindable(),
    on(BROWSE, "page_up", &["pageup", "ctrl-u"], "page up", to!(Action::Page(-1))).also(&["ctrl-b"]).rebindable().and(),
    on(BROWSE, "first", &["g", "home"], "first / last row", to!(Action::Jump(Edge::Start))).rebindable(),
    on(BROWSE, "last", &["G", "end"], "last row", to!(Action::Jump(Edge::End))).rebindable().and(),
    on(MAIN, "open", &["enter"], "open the selected row's detail (table); zoom into the selection (histogram)", to!(Action::Submit))
        .rebindable(),
    on(MAIN, "fields", &["f"], "focus the field sidebar", to!(Action::FocusFields)).rebindable(),
    on(MAIN_FIELDS, "charts", &["c"], "top-N charts: status codes, client IPs, user agents", to!(Action::OpenCharts)).rebindable(),
    on(MAIN, "time_picker", &["r"], "time picker: quick and absolute ranges", to!(Action::OpenTimePicker)).rebindable(),
    on(MAIN, "select_span", &["v"], "start / clear a span selection on the histogram", to!(Action::MarkSpan)).rebindable(),
    on(MAIN, "zoom", &["z"], "zoom into the selected histogram span", to!(Action::ZoomIn)).rebindable(),
    on(MAIN, "zoom_out", &["u", "backspace"], "step back out of the last zoom", to!(Action::ZoomOut)).rebindable(),
    on(MAIN, "split", &["s"], "histogram split: status class, level, none", to!(Action::CycleSplit)).rebindable(),
    on(MAIN, "next_spike", &["]"], "histogram cursor to the next spike or drop bucket", to!(Action::JumpSpike(true))).rebindable(),
    on(MAIN, "previous_spike", &["["], "histogram cursor to the previous spike or drop bucket", to!(Action::JumpSpike(false)))
        .rebindable(),
    on(MAIN, "tail", &["t"], "live tail on / off", to!(Action::ToggleTail)).rebindable(),
    on(MAIN, "pause", &["space"], "pause / resume the tail (new lines wait, counted)", to!(Action::TogglePause)).rebindable(),
    note(MAIN, "mouse", "wheel scrolls; click selects, click again opens; drag on the histogram zooms"),
    on(MAIN, "mark", &["m"], "mark the selected line or histogram span, with a note", to!(Action::Investigate(Inv::Mark))).rebindable(),
    on(MAIN, "marks", &["M"], "list the marks: Enter jumps, e edits the note, d deletes", to!(Action::Investigate(Inv::OpenMarks)))
        .rebindable(),
    on(MAIN, "export", &["E"], "export: postmortem draft (Markdown), NDJSON or CSV of the lines", to!(Action::Investigate(Inv::OpenExport)))
        .rebindable(),
    on(MAIN, "copy", &["y"], "copy the selected line to the clipboard (OSC 52)", to!(Action::Investigate(Inv::Copy))).rebindable(),
    on(MAIN, "copy_query", &["Y"], "copy the current query", to!(Action::Investigate(Inv::CopyQuery))).rebindable(),
    on(MAIN, "save_search", &["S"], "save the search (query, range, columns) under a name", to!(Action::Investigate(Inv::SaveSearch)))
        .rebindable(),
    on(MAIN, "open_search", &["o"], "open a saved search (type to filter)", to!(Action::Investigate(Inv::OpenSavedSearches)))
        .rebindable(),
    on(MAIN, "follow_row", &["F"], "follow the line's request id (else its client) in every pane of the tab", to!(Action::Thread(Th::Follow { all_tabs: false })))
        .rebindable(),
    on(MAIN, "thread", &["T"], "the thread: the followed value's lines of all panes on one clock", to!(Action::Thread(Th::Open)))
        .rebindable(),
    on(&[Main, Thread], "unfollow", &["U"], "stop following: each pane drops the condition, keeps the rest", to!(Action::Thread(Th::Unfollow)))
        .rebindable(),
    on(MAIN, "watch_this", &["W"], "watch this: an alert rule made from the query (edit it, Enter)", to!(Action::Watch(Wa::WatchThis)))
        .rebindable(),
    on(MAIN, "watches", &["!"], "the watches panel: state, value, sparkline, since when", to!(Action::Watch(Wa::TogglePanel)))
        .rebindable(),
    on(MAIN, "patterns", &["P"], "log patterns of the query: templates, counts, sparklines", to!(Action::Patterns(Pat::Open)))
        .rebindable(),
    on(MAIN, "compare", &["C"], "what changed: the spike (or span) against a baseline", to!(Action::Comparison(Cmp::Open)))
        .rebindable(),
    // ── Panes and tabs: `Ctrl-w`, then a key (vim's window commands, tmux's split / zoom)
    on(MAIN_FIELDS, "panes", &["ctrl-w"], "Panes and tabs", to!(Action::PanePrefix))
        .shown_in(Panes)
        .title()
        .hint_if(0, "panes", |app| app.panes.len() > 1),
    on(&[Panes], "pane_beside", &["v"], "new pane beside / below this one; choose its source", to!(Action::NewPane(Placement::SideBySide)))
        .also(&["|"])
        .hint(0, "beside"),
    on(&[Panes], "pane_below", &["s"], "new pane below", to!(Action::NewPane(Placement::Below))).also(&["_"]).or().hint(0, "below"),
    on(&[Panes], "new_tab", &["t"], "new tab (choose its source)", to!(Action::NewPane(Placement::NewTab))).hint(0, "tab"),
    on(&[Panes], "focus_left", &["h", "left"], "focus the pane on that side", to!(Action::FocusPane(Toward::Left))).hint(0, "focus"),
    on(&[Panes], "focus_down", &["j", "down"], "focus the pane below", to!(Action::FocusPane(Toward::Down))).and().hint(0, "focus"),
    on(&[Panes], "focus_up", &["k", "up"], "focus the pane above", to!(Action::FocusPane(Toward::Up))).and().hint(0, "focus"),
    on(&[Panes], "focus_right", &["l", "right"], "focus the pane on the right", to!(Action::FocusPane(Toward::Right))).and().hint(0, "focus"),
    on(&[Panes], "next_pane", &["w"], "focus the next / previous pane", |_, key| {
        // `Ctrl-w Ctrl-w` is the next pane too; a shifted `w` the previous one.
        let mods = key.modifiers;
        Some(Action::CyclePane(!mods.contains(KeyModifiers::SHIFT) || mods.contains(KeyModifiers::CONTROL)))
    })
    .also(&["ctrl-w"])
    .hint(0, "next"),
    on(&[Panes], "previous_pane", &["W"], "focus the previous pane", to!(Action::CyclePane(false))).or(),
    on(&[Panes], "close_pane", &["c", "x"], "close the pane", to!(Action::ClosePane)).also(&["q"]).hint(0, "close"),
    on(&[Panes], "maximise", &["z", "o"], "maximise the pane / show all panes again", to!(Action::ToggleMaximise)).hint(0, "maximise"),
    on(&[Panes], "wider", &[">"], "wider / narrower, taller / shorter", to!(Action::ResizePane(Direction::Horizontal, RESIZE_STEP))).hint(0, "size"),
    on(&[Panes], "narrower", &["<"], "narrower", to!(Action::ResizePane(Direction::Horizontal, -RESIZE_STEP))).and().hint(0, "size"),
    on(&[Panes], "taller", &["+"], "taller", to!(Action::ResizePane(Direction::Vertical, RESIZE_STEP))).also(&["="]).or().hint(0, "size"),
    on(&[Panes], "shorter", &["-"], "shorter", to!(Action::ResizePane(Direction::Vertical, -RESIZE_STEP))).and().hint(0, "size"),
    on(&[Panes], "next_tab", &["n"], "next / previous tab", to!(Action::CycleTab(true))).also(&["tab"]).hint(0, "tab"),
    on(&[Panes], "previous_tab", &["p"], "previous tab", to!(Action::CycleTab(false))).also(&["backtab"]).or().hint(0, "tab"),
    on(&[Panes], "link", &["L"], "link / unlink this pane's time range (linked by default)", to!(Action::ToggleLink)).hint(0, "link"),
    on(&[Panes], "save_workspace", &["S"], "save the workspace (--workspace NAME, else 'default')", to!(Action::SaveWorkspace)).hint(0, "save"),
    // ── Query bar (typing, Backspace, Delete: any text field)
    on(&[Query], "run", &["enter"], "run the query", to!(Action::Submit)).hint(0, "run"),
    on(&[Query], "complete", &["tab"], "accept the highlighted completion (else next element)", to!(Action::AcceptCompletion)).hint(0, "complete"),
    on(&[Query], "previous_element", &["backtab"], "previous element", to!(Action::FocusPrev)),
    on(&[Query], "up", &["up"], "move in the completions, or browse the history", to!(Action::Move(-1))).also(&["ctrl-p"]),
    on(&[Query], "down", &["down"], "down in the completions or the history", to!(Action::Move(1))).also(&["ctrl-n"]).and(),
    on(&[Query], "cursor_left", &["left"], "move the cursor", to!(Action::CursorLeft)),
    on(&[Query], "cursor_right", &["right"], "cursor right", to!(Action::CursorRight)).and(),
    on(&[Query], "cursor_home", &["home", "ctrl-a"], "cursor to the start", to!(Action::CursorHome)).and(),
    on(&[Query], "cursor_end", &["end", "ctrl-e"], "cursor to the end", to!(Action::CursorEnd)).and(),
    on(&[Query], "delete_word", &["ctrl-w"], "delete a word / the whole query", to!(Action::DeleteWord)),
    on(&[Query], "clear", &["ctrl-u"], "delete the whole query", to!(Action::ClearInput)).or(),
    on(&[Query], "language", &["ctrl-t", "F2"], "switch KQL / native language (LogQL, ES DSL or Lucene, regex)", to!(Action::ToggleQueryLanguage)),
    on(&[Query], "leave", &["esc"], "close completions, then leave the query bar", to!(Action::Escape)).hint(0, "leave"),
    // ── Field sidebar
    on(&[Fields], "down", &["j", "down"], "move", to!(Action::Move(1))),
    on(&[Fields], "up", &["k", "up"], "move up", to!(Action::Move(-1))).and(),
    on(&[Fields], "chart", &["enter"], "top-N chart of the field", to!(Action::Submit)),
    on(&[Fields], "filter_for", &["+"], "filter for / out the field's top value", to!(Action::FilterFor)).also(&["="]),
    on(&[Fields], "filter_out", &["-"], "filter out the field's top value", to!(Action::FilterOut)).or(),
    on(&[Fields], "exists", &["e"], "filter: the field exists", to!(Action::FilterExists)),
    on(&[Fields], "column", &["space"], "show / hide the field as a table column", to!(Action::ToggleColumn)),
    on(&[Fields], "exact_values", &["x"], "exact top values over the whole range (x again: the sample)", to!(Action::ExactValues)),
    on(&[Fields], "back", &["esc"], "back to the table", to!(Action::Escape)),
    on(&[Fields], "table", &["f"], "back to the table", to!(Action::FocusFields)).or(),
    // ── Detail view
    on(&[Detail], "down", &["j", "down"], "move between fields (scroll the JSON)", to!(Action::Move(1))),
    on(&[Detail], "up", &["k", "up"], "move up", to!(Action::Move(-1))).and(),
    on(&[Detail], "filter_for", &["+", "enter"], "filter for the value", to!(Action::FilterFor)).also(&["="]),
    on(&[Detail], "filter_out", &["-"], "filter out the value", to!(Action::FilterOut)),
    on(&[Detail], "column", &["t"], "toggle the field as a table column", to!(Action::ToggleColumn)),
    on(&[Detail], "exists", &["e"], "filter: the field exists", to!(Action::FilterExists)),
    on(&[Detail], "switch", &["tab"], "switch between the field table and the JSON", to!(Action::ToggleDetailView)).also(&["backtab"]),
    on(&[Detail], "next_record", &["n"], "next / previous record (older / newer)", to!(Action::DetailRecord(1))).also(&["]"]),
    on(&[Detail], "previous_record", &["p"], "previous record (newer)", to!(Action::DetailRecord(-1))).also(&["["]).or(),
    on(&[Detail], "context", &["x"], "context: the records just before and after it (Esc back)", to!(Action::ShowContext)),
    on(&[Detail], "copy", &["y"], "copy the field's value (the JSON, the context line)", to!(Action::Investigate(Inv::Copy))),
    on(&[Detail], "close", &["esc", "q"], "close", to!(Action::Escape)),
    on(&[Detail], "follow", &["F"], "follow the value in all panes of the tab (their field for it, else as text)", to!(Action::Thread(Th::Follow { all_tabs: false }))),
    on(&[Detail], "follow_all_tabs", &["A"], "follow the value in all panes of every tab", to!(Action::Thread(Th::Follow { all_tabs: true }))),
    // ── Top-N charts
    on(&[Charts], "next_chart", &["tab"], "next / previous chart", to!(Action::FocusNext)).also(&["l", "right"]),
    on(&[Charts], "previous_chart", &["backtab"], "previous chart", to!(Action::FocusPrev)).also(&["h", "left"]).or(),
    on(&[Charts], "down", &["j", "down"], "select a bar", to!(Action::Move(1))),
    on(&[Charts], "up", &["k", "up"], "select the bar above", to!(Action::Move(-1))).and(),
    on(&[Charts], "filter_for", &["+", "enter"], "filter for the selected value", to!(Action::FilterFor)).also(&["="]),
    on(&[Charts], "filter_out", &["-"], "filter out the selected value", to!(Action::FilterOut)),
    on(&[Charts], "close", &["esc", "q", "c"], "close", to!(Action::Escape)),
    // ── Marks list
    on(&[Marks], "down", &["j", "down"], "select a mark (in time order)", to!(Action::Move(1))),
    on(&[Marks], "up", &["k", "up"], "select the mark above", to!(Action::Move(-1))).and(),
    on(&[Marks], "first", &["g", "home"], "first / last mark", to!(Action::Jump(Edge::Start))),
    on(&[Marks], "last", &["G", "end"], "last mark", to!(Action::Jump(Edge::End))).and(),
    on(&[Marks], "page_down", &["pagedown"], "page down / up", to!(Action::Page(1))),
    on(&[Marks], "page_up", &["pageup"], "page up", to!(Action::Page(-1))).and(),
    on(&[Marks], "jump", &["enter"], "jump: focus its pane, select its line or span", to!(Action::Submit)),
    on(&[Marks], "edit_note", &["e"], "edit the note", to!(Action::Investigate(Inv::EditMarkNote))),
    on(&[Marks], "delete", &["d"], "delete the mark", to!(Action::Investigate(Inv::DeleteMark))).also(&["delete"]),
    on(&[Marks], "close", &["esc", "q", "M"], "close", to!(Action::Escape)),
    // ── Export menu
    on(&[Export], "down", &["j", "down"], "choose: Markdown report, NDJSON, CSV", to!(Action::Move(1))),
    on(&[Export], "up", &["k", "up"], "choose the format above", to!(Action::Move(-1))).and(),
    on(&[Export], "first", &["g", "home"], "first / last format", to!(Action::Jump(Edge::Start))),
    on(&[Export], "last", &["G", "end"], "last format", to!(Action::Jump(Edge::End))).and(),
    on(&[Export], "page_down", &["pagedown"], "page down / up", to!(Action::Page(1))),
    on(&[Export], "page_up", &["pageup"], "page up", to!(Action::Page(-1))).and(),
    on(&[Export], "choose", &["enter"], "choose, then confirm the file name", to!(Action::Submit)),
    on(&[Export], "close", &["esc", "q", "E"], "close", to!(Action::Escape)),
    // ── Saved searches (typing filters)
    note(&[SavedSearches], "type", "fuzzy filter by name and query"),
    on(&[SavedSearches], "up", &["up", "ctrl-p"], "select", to!(Action::Move(-1))),
    on(&[SavedSearches], "down", &["down", "ctrl-n"], "select the next one", to!(Action::Move(1))).and(),
    on(&[SavedSearches], "page_down", &["pagedown"], "page down / up", to!(Action::Page(1))),
    on(&[SavedSearches], "page_up", &["pageup"], "page up", to!(Action::Page(-1))).and(),
    on(&[SavedSearches], "apply", &["enter"], "apply to the focused pane and run", to!(Action::Submit)),
    on(&[SavedSearches], "close", &["esc"], "close", to!(Action::Escape)),
    // ── Prompts
    on(&[Prompt], "accept", &["enter"], "accept", to!(Action::Submit)),
    on(&[Prompt], "clear", &["ctrl-u"], "clear / delete a word", to!(Action::ClearInput)),
    on(&[Prompt], "delete_word", &["ctrl-w"], "delete a word", to!(Action::DeleteWord)).or(),
    on(&[Prompt], "cancel", &["esc"], "cancel", to!(Action::Escape)),
    // ── Time picker: the list of quick ranges, or the From / To fields
    on(&[TimePicker], "down", &["j", "down"], "choose a quick range", |app, _| picker_list(app).then_some(Action::Move(1))),
    on(&[TimePicker], "up", &["k", "up"], "choose the range above", |app, _| picker_list(app).then_some(Action::Move(-1))).and(),
    on(&[TimePicker], "next_field", &["tab"], "go to the absolute From / To fields", to!(Action::FocusNext)),
    on(&[TimePicker], "previous_field", &["backtab"], "the previous field", to!(Action::FocusPrev)).or(),
    on(&[TimePicker], "apply", &["enter"], "apply", to!(Action::Submit)),
    on(&[TimePicker], "close", &["esc"], "close", to!(Action::Escape)),
    on(&[TimePicker], "close_list", &["q", "r"], "close (from the list)", |app, _| picker_list(app).then_some(Action::Escape)).or(),
    // ── Source picker (typing filters, or gives a path or a server)
    on(&[SourcePicker], "open", &["enter"], "open the source", to!(Action::Submit)).hint(0, "open"),
    on(&[SourcePicker], "up", &["up", "ctrl-p"], "choose", to!(Action::Move(-1))),
    on(&[SourcePicker], "down", &["down", "ctrl-n"], "choose the next one", to!(Action::Move(1))).also(&["tab"]).and(),
    on(&[SourcePicker], "cancel", &["esc"], "cancel", to!(Action::Escape)).hint(0, "cancel"),
    // ── Thread view
    on(&[Thread], "down", &["j", "down"], "move between the thread's lines", to!(Action::Thread(Th::Move(1)))),
    on(&[Thread], "up", &["k", "up"], "move up", to!(Action::Thread(Th::Move(-1)))).and(),
    on(&[Thread], "widen", &["w"], "widen the followed panes to ±5 min around the line (again: ±15, ±60)", to!(Action::Thread(Th::Widen))),
    on(&[Thread], "mark", &["m"], "mark the thread: the report gets its request path", to!(Action::Thread(Th::Mark))),
    on(&[Thread], "close", &["esc", "q"], "close", to!(Action::Escape)).hint(0, "close"),
    // ── Watches panel
    on(&[Watches], "down", &["j", "down"], "select a watch", to!(Action::Watch(Wa::Move(1)))),
    on(&[Watches], "up", &["k", "up"], "select the watch above", to!(Action::Watch(Wa::Move(-1)))).and(),
    on(&[Watches], "watch_this", &["W"], "a new watch from the focused pane's query", to!(Action::Watch(Wa::WatchThis))),
    on(&[Watches], "delete", &["d"], "delete the selected watch", to!(Action::Watch(Wa::Delete))).also(&["delete"]),
    on(&[Watches], "close", &["esc", "q", "!"], "close", to!(Action::Escape)).hint(0, "close"),
    // ── Pattern view
    on(&[Patterns], "down", &["j", "down"], "select a template", to!(Action::Patterns(Pat::Move(1)))),
    on(&[Patterns], "up", &["k", "up"], "select the template above", to!(Action::Patterns(Pat::Move(-1)))).and(),
    on(&[Patterns], "page_down", &["pagedown"], "page down / up", to!(Action::Patterns(Pat::Page(1)))),
    on(&[Patterns], "page_up", &["pageup"], "page up", to!(Action::Patterns(Pat::Page(-1)))).and(),
    on(&[Patterns], "filter_for", &["+", "enter"], "filter for the template's text", to!(Action::Patterns(Pat::FilterFor))).also(&["="]),
    on(&[Patterns], "filter_out", &["-"], "filter the template's text out", to!(Action::Patterns(Pat::FilterOut))),
    on(&[Patterns], "close", &["esc", "q", "P"], "close", to!(Action::Escape)).hint(0, "close"),
    // ── Comparison view
    on(&[Comparison], "down", &["j", "down"], "select a value or pattern", to!(Action::Comparison(Cmp::Move(1)))),
    on(&[Comparison], "up", &["k", "up"], "select the row above", to!(Action::Comparison(Cmp::Move(-1)))).and(),
    on(&[Comparison], "page_down", &["pagedown"], "page down / up", to!(Action::Comparison(Cmp::Page(1)))),
    on(&[Comparison], "page_up", &["pageup"], "page up", to!(Action::Comparison(Cmp::Page(-1)))).and(),
    on(&[Comparison], "baseline", &["b"], "baseline: just before / yesterday, same time", to!(Action::Comparison(Cmp::CycleBaseline))),
    on(&[Comparison], "filter_for", &["+", "enter"], "filter for the value (or pattern)", to!(Action::Comparison(Cmp::FilterFor))).also(&["="]),
    on(&[Comparison], "filter_out", &["-"], "filter it out", to!(Action::Comparison(Cmp::FilterOut))),
    on(&[Comparison], "close", &["esc", "q", "C"], "close", to!(Action::Escape)).hint(0, "close"),
    // ── The help itself (j k and the pages scroll it)
    on(&[Help], "close", &["esc"], "close", to!(Action::Escape)).hint(0, "close"),
    on(&[Help], "close_help", &["q", "enter"], "close", to!(Action::ToggleHelp)).or(),
];

/// The rebindable actions, in the table's order.
pub fn rebindable() -> impl Iterator<Item = &'static NamedAction> {
    ACTIONS.iter().filter(|a| a.rebindable)
}

/// The rebindable action of that name.
pub fn find(name: &str) -> Option<&'static NamedAction> {
    rebindable().find(|a| a.name == name)
}

/// The main screen's key overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    /// Action name → (binding, the key as the user wrote it).
    overrides: BTreeMap<String, (KeyBinding, String)>,
}

impl Keymap {
    /// A keymap from validated overrides (`bindings::parse_overrides`). `written` gives
    /// the keys as the user wrote them, for the help screen; missing ones are shown parsed.
    pub fn new(overrides: &BTreeMap<String, KeyBinding>, written: &BTreeMap<String, String>) -> Keymap {
        let overrides = overrides
            .iter()
            .map(|(action, b)| {
                let text = written.get(action).cloned().unwrap_or_else(|| format!("{b:?}"));
                (action.clone(), (*b, logsleuth_core::text::sanitize(&text).into_owned()))
            })
            .collect();
        Keymap { overrides }
    }

    /// From a `[keys]` table; invalid entries are left out (the config check reports them).
    pub fn from_table(table: &BTreeMap<String, String>) -> Keymap {
        let mut ok = BTreeMap::new();
        for (action, key) in table {
            if find(action).is_some()
                && let Ok(b) = KeyBinding::parse(key)
            {
                ok.insert(action.clone(), b);
            }
        }
        Keymap::new(&ok, table)
    }

    /// Whether any default is overridden.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// Whether `action` is rebound.
    pub fn overrides(&self, action: &str) -> bool {
        self.overrides.contains_key(action)
    }

    /// Whether this entry's default keys are replaced (on the main screen).
    fn replaces(&self, entry: &NamedAction) -> bool {
        entry.rebindable && self.overrides(entry.name)
    }

    /// The rebound action a key is bound to, if any.
    pub fn overriding(&self, key: &KeyEvent) -> Option<&'static NamedAction> {
        self.overrides.iter().find(|(_, (b, _))| matches(b, key)).and_then(|(name, _)| find(name))
    }

    /// The keys of a rebindable action in effect, for display (`ctrl-q`, or `j ↓`).
    pub fn keys_of(&self, action: &str) -> String {
        find(action).map(|a| self.shown_keys(a).join(" ")).unwrap_or_default()
    }

    /// An entry's keys as the help shows them: the override as written, else its shown
    /// default keys.
    fn shown_keys(&self, entry: &NamedAction) -> Vec<String> {
        match self.overrides.get(entry.name) {
            Some((_, text)) if entry.rebindable => vec![text.clone()],
            _ => entry.keys.iter().map(|k| display(k)).collect(),
        }
    }

    /// An entry's keys in effect on `screen`, as bindings: the override (main screen only),
    /// else all its defaults.
    fn bindings(&self, entry: &NamedAction, screen: Screen) -> Vec<(KeyBinding, String)> {
        match self.overrides.get(entry.name) {
            Some(o) if entry.rebindable && screen == Main => vec![o.clone()],
            _ => entry.default_keys().filter_map(|k| Some((KeyBinding::parse(k).ok()?, display(k)))).collect(),
        }
    }
}

/// A default key as the help screen writes it.
pub fn display(key: &str) -> String {
    if let Some((mods, last)) = key.rsplit_once('-').filter(|(m, l)| !m.is_empty() && !l.is_empty()) {
        let mods: Vec<String> = mods.split('-').map(capitalise).collect();
        return format!("{}-{}", mods.join("-"), display(last));
    }
    match key {
        "down" => "↓".into(),
        "up" => "↑".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "pagedown" => "PgDn".into(),
        "pageup" => "PgUp".into(),
        "backtab" => "Shift-Tab".into(),
        "space" => "space".into(),
        k if k.chars().count() > 1 => capitalise(k),
        k => k.into(),
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Whether a terminal key event is this binding. A shifted letter is its upper-case char, so
/// Shift is only compared for named keys (and Shift-Tab arrives as BackTab).
pub fn matches(binding: &KeyBinding, key: &KeyEvent) -> bool {
    let (code, mods) = normalised(binding);
    if code != key.code {
        return false;
    }
    let flags = |m: KeyModifiers| (m.contains(KeyModifiers::CONTROL), m.contains(KeyModifiers::ALT));
    if flags(mods) != flags(key.modifiers) {
        return false;
    }
    match code {
        KeyCode::Char(_) | KeyCode::BackTab => true,
        _ => mods.contains(KeyModifiers::SHIFT) == key.modifiers.contains(KeyModifiers::SHIFT),
    }
}

/// Whether a default key without modifiers is this key whatever modifiers it came with
/// (`Ctrl-q` quits like `q` when nothing else binds it, as the keys always did).
fn matches_loosely(binding: &KeyBinding, key: &KeyEvent) -> bool {
    let (code, mods) = normalised(binding);
    code == key.code && !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

fn normalised(binding: &KeyBinding) -> (KeyCode, KeyModifiers) {
    let (code, mods) = binding.to_crossterm();
    match (code, mods.contains(KeyModifiers::SHIFT)) {
        (KeyCode::Tab, true) => (KeyCode::BackTab, mods - KeyModifiers::SHIFT),
        _ => (code, mods),
    }
}

/// Whether an entry's keys work on `screen`.
fn applies(entry: &NamedAction, screen: Screen) -> bool {
    entry.screens.contains(&screen)
}

/// The action a key stands for on the app's screen, through the table; `None` when no entry
/// takes it (the caller then types it into a text field, if any). In order: the keys that work
/// everywhere (`Ctrl-c`, `Esc`); on the main screen the `[keys]` overrides (the default keys of
/// a rebound action do nothing); then the entries of the screen, exact matches before loose
/// ones (a key with Ctrl or Alt matching a default key without), the screen's own entries
/// before those it shares with the main screen.
pub fn dispatch(app: &App, key: &KeyEvent) -> Option<Option<Action>> {
    let screen = Screen::of(app);
    let keymap = &app.keymap;
    let fire = |entry: &NamedAction, loose: bool| -> Option<Action> {
        let defaults = entry.default_keys().filter_map(|k| KeyBinding::parse(k).ok());
        let mut hit = defaults.filter(|b| if loose { matches_loosely(b, key) } else { matches(b, key) });
        hit.next().and_then(|_| (entry.act)(app, key))
    };
    for loose in [false, true] {
        for entry in ACTIONS.iter().filter(|e| applies(e, Everywhere)) {
            if let Some(action) = fire(entry, loose) {
                return Some(Some(action));
            }
        }
    }
    if screen == Main {
        if let Some(entry) = keymap.overriding(key) {
            return Some((entry.act)(app, key));
        }
        let freed = ACTIONS.iter().filter(|e| applies(e, Main) && keymap.replaces(e));
        if freed.flat_map(|e| e.default_keys()).filter_map(|k| KeyBinding::parse(k).ok()).any(|b| matches(&b, key)) {
            return Some(None);
        }
    }
    let candidates = || ACTIONS.iter().filter(|e| applies(e, screen) && !(screen == Main && keymap.replaces(e)));
    for loose in [false, true] {
        for own in [true, false] {
            for entry in candidates().filter(|e| (e.screens[0] == screen) == own) {
                if let Some(action) = fire(entry, loose) {
                    return Some(Some(action));
                }
            }
        }
    }
    None
}

/// One line of the help: its keys, its text, and the entries it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpLine {
    /// The keys column, with the `[keys]` overrides applied.
    pub keys: String,
    /// What they do.
    pub text: &'static str,
    /// The names of the entries on the line.
    pub actions: Vec<&'static str>,
}

/// One section of the help.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpSection {
    /// Which screen.
    pub screen: Screen,
    /// Its title.
    pub title: String,
    /// Its lines.
    pub lines: Vec<HelpLine>,
}

/// The help, generated from [`ACTIONS`]: every entry by section, on its line, with the keys
/// in effect.
pub fn help_sections(keymap: &Keymap) -> Vec<HelpSection> {
    let mut out = Vec::new();
    for &screen in Screen::ALL {
        let entries: Vec<&NamedAction> = ACTIONS.iter().filter(|e| e.section == screen).collect();
        let mut title = screen.title().to_string();
        let mut groups: Vec<Vec<&NamedAction>> = Vec::new();
        for entry in entries {
            match entry.join {
                Join::Title => title = format!("{} ({}, then…)", entry.help, keymap.shown_keys(entry).join(" / ")),
                Join::Line => groups.push(vec![entry]),
                Join::And | Join::Or => match groups.last_mut() {
                    Some(group) => group.push(entry),
                    None => groups.push(vec![entry]),
                },
            }
        }
        let lines: Vec<HelpLine> = groups
            .iter()
            .map(|group| HelpLine {
                keys: line_keys(keymap, group),
                text: group[0].help,
                actions: group.iter().map(|e| e.name).collect(),
            })
            .collect();
        if !lines.is_empty() {
            out.push(HelpSection { screen, title, lines });
        }
    }
    out
}

/// The keys column of a help line. Without overrides the entries joined by [`Join::And`] are
/// written column by column, their first keys side by side, then ` / ` and their second keys
/// (`j k / ↓ ↑`); [`Join::Or`] adds a ` / `. When one of them is rebound, each entry's keys in
/// effect, separated by ` / ` (`n / k ↑`).
fn line_keys(keymap: &Keymap, group: &[&NamedAction]) -> String {
    if group.iter().all(|e| e.keys.is_empty()) {
        return group[0].name.to_string();
    }
    if group.iter().any(|e| keymap.replaces(e)) {
        return group.iter().map(|e| keymap.shown_keys(e).join(" ")).collect::<Vec<_>>().join(" / ");
    }
    let mut parts: Vec<Vec<&NamedAction>> = Vec::new();
    for &entry in group {
        match parts.last_mut() {
            Some(part) if entry.join == Join::And => part.push(entry),
            _ => parts.push(vec![entry]),
        }
    }
    let mut columns = Vec::new();
    for part in parts {
        let depth = part.iter().map(|e| e.keys.len()).max().unwrap_or(0);
        for i in 0..depth {
            columns.push(part.iter().filter_map(|e| e.keys.get(i)).map(|k| display(k)).collect::<Vec<_>>().join(" "));
        }
    }
    columns.join(" / ")
}

/// The status line's key hints for the app as it is: `(key, label)`, in order. Those of its
/// screen; screens without hints of their own show the main screen's. Each is the first of the
/// entry's keys in effect that does something now (`F1 help` in the query bar, where `?` is
/// typed); the keys of consecutive hints with the same label are merged (`h j k l focus`).
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    let screen = Screen::of(app);
    let own = ACTIONS.iter().any(|e| e.hint.is_some() && e.section == screen);
    let screen = if own { screen } else { Main };
    let mut shown: Vec<(u8, usize, &NamedAction, Hint)> = ACTIONS
        .iter()
        .enumerate()
        .filter(|(_, e)| applies(e, screen))
        .filter_map(|(i, e)| e.hint.filter(|h| (h.when)(app)).map(|h| (h.rank, i, e, h)))
        .collect();
    shown.sort_by_key(|(rank, i, _, _)| (*rank, *i));
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut last_label = None;
    for (_, _, entry, hint) in shown {
        let working = app.keymap.bindings(entry, screen).into_iter().find(|(b, _)| {
            let (code, modifiers) = b.to_crossterm();
            (entry.act)(app, &KeyEvent::new(code, modifiers)).is_some()
        });
        let Some((_, key)) = working else { continue };
        match out.last_mut() {
            Some((keys, _)) if last_label == Some(hint.label) => {
                keys.push(' ');
                keys.push_str(&key);
            }
            _ => out.push((key, hint.label)),
        }
        last_label = Some(hint.label);
    }
    out
}

/// The hints as the status line writes them: ` ? help · q quit `.
pub fn hint_text(app: &App) -> String {
    let hints = hints(app);
    let items: Vec<String> = hints.iter().map(|(k, label)| format!("{k} {label}")).collect();
    format!(" {} ", items.join(" · "))
}

/// The key that starts the pane commands, as the status line shows it (`Ctrl-w`).
pub fn pane_prefix_key(keymap: &Keymap) -> String {
    ACTIONS
        .iter()
        .find(|e| e.join == Join::Title && e.section == Panes)
        .map(|e| keymap.shown_keys(e).join(" / "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn bindings_match_terminal_events() {
        let b = |t: &str| KeyBinding::parse(t).unwrap();
        assert!(matches(&b("ctrl-q"), &key(KeyCode::Char('q'), KeyModifiers::CONTROL)));
        assert!(!matches(&b("ctrl-q"), &key(KeyCode::Char('q'), KeyModifiers::NONE)));
        assert!(matches(&b("G"), &key(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(!matches(&b("g"), &key(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(matches(&b("shift-tab"), &key(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert!(matches(&b("backtab"), &key(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert!(matches(&b("F5"), &key(KeyCode::F(5), KeyModifiers::NONE)));
        assert!(matches(&b("space"), &key(KeyCode::Char(' '), KeyModifiers::NONE)));
        assert!(!matches(&b("alt-x"), &key(KeyCode::Char('x'), KeyModifiers::NONE)));
    }

    #[test]
    fn keys_are_displayed_as_the_help_writes_them() {
        assert_eq!(display("ctrl-d"), "Ctrl-d");
        assert_eq!(display("shift-tab"), "Shift-Tab");
        assert_eq!(display("backtab"), "Shift-Tab");
        assert_eq!(display("pagedown"), "PgDn");
        assert_eq!(display("esc"), "Esc");
        assert_eq!(display("F2"), "F2");
        assert_eq!(display("-"), "-");
        assert_eq!(display("space"), "space");
        assert_eq!(display("down"), "↓");
    }

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for entry in ACTIONS {
            assert!(seen.insert((entry.section, entry.name)), "{} twice in {:?}", entry.name, entry.section);
            assert!(!entry.screens.is_empty() && !entry.help.is_empty(), "{}", entry.name);
            for k in entry.default_keys() {
                assert!(KeyBinding::parse(k).is_ok(), "{}: {k}", entry.name);
            }
            if entry.rebindable {
                assert!(entry.screens.contains(&Main), "{}: only main-screen keys are rebindable", entry.name);
                assert!(!entry.keys.is_empty(), "{} has no default keys", entry.name);
            }
            if entry.keys.is_empty() {
                assert!(entry.hidden.is_empty() && !entry.rebindable && entry.join == Join::Line, "{}: a note", entry.name);
            }
        }
        let names: Vec<&str> = rebindable().map(|a| a.name).collect();
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len(), "{names:?}");
    }

    #[test]
    fn help_shows_the_keys_in_effect() {
        let table: BTreeMap<String, String> =
            [("quit", "ctrl-q"), ("down", "n"), ("help", "F9")].iter().map(|(a, k)| (a.to_string(), k.to_string())).collect();
        let keymap = Keymap::from_table(&table);
        let line = |keymap: &Keymap, action: &str| {
            let sections = help_sections(keymap);
            sections.iter().flat_map(|s| s.lines.iter()).find(|l| l.actions.contains(&action)).unwrap().keys.clone()
        };
        assert_eq!(line(&keymap, "quit"), "ctrl-q");
        assert_eq!(line(&keymap, "down"), "n / k ↑");
        assert_eq!(line(&keymap, "help"), "F9");
        assert_eq!(line(&keymap, "fields"), "f");
        assert_eq!(line(&Keymap::default(), "quit"), "q");
        assert_eq!(line(&Keymap::default(), "down"), "j k / ↓ ↑");
        assert_eq!(line(&Keymap::default(), "page_down"), "PgDn PgUp / Ctrl-d Ctrl-u");
        assert_eq!(line(&Keymap::default(), "help"), "? / F1");
        assert_eq!(line(&Keymap::default(), "cursor_home"), "← → Home End / Ctrl-a Ctrl-e");
        assert_eq!(line(&Keymap::default(), "wider"), "> < / + -");
        assert_eq!(keymap.keys_of("down"), "n");
        assert_eq!(Keymap::default().keys_of("zoom_out"), "u Backspace");
        let sections = help_sections(&Keymap::default());
        assert_eq!(sections.iter().find(|s| s.screen == Panes).unwrap().title, "Panes and tabs (Ctrl-w, then…)");
    }

    fn app() -> App {
        let info = logsleuth_sources::SourceInfo {
            kind: "local",
            description: "test.log".into(),
            roles: logsleuth_formats::LogFormat::AccessCombined.roles(),
            default_columns: vec!["status".into(), "method".into(), "path".into()],
            is_remote: false,
            warning: None,
        };
        App::new(info, None, None, crate::Theme::default(), crate::history::History::default(), 0)
    }

    /// The app showing `screen`, the histogram focused (its keys need it), with two panes
    /// (the `panes` hint needs them).
    fn app_on(screen: Screen) -> App {
        let mut app = app();
        app.mode = screen.mode().unwrap_or(Mode::Normal);
        app.pane_prefix = screen == Panes;
        app.pane_mut().element = Element::Histogram;
        let second = app.panes[0].clone();
        app.panes.push(second);
        app
    }

    fn event(binding: &KeyBinding) -> KeyEvent {
        let (code, modifiers) = binding.to_crossterm();
        KeyEvent::new(code, modifiers)
    }

    fn debug(action: Option<Action>) -> String {
        format!("{action:?}")
    }

    #[test]
    fn every_action_is_reached_by_its_default_keys_wherever_it_works() {
        for entry in ACTIONS.iter().filter(|e| !e.keys.is_empty()) {
            let screens: Vec<Screen> = if entry.screens == EVERY { Screen::ALL[1..].to_vec() } else { entry.screens.to_vec() };
            for (i, &screen) in screens.iter().enumerate() {
                let app = app_on(screen);
                for k in entry.default_keys() {
                    let key = event(&KeyBinding::parse(k).unwrap());
                    let expected = (entry.act)(&app, &key);
                    if i == 0 {
                        assert!(expected.is_some(), "{} does nothing with {k} on {screen:?}", entry.name);
                    }
                    if expected.is_some() {
                        let got = crate::keys::map_key(&app, &key);
                        assert_eq!(debug(got), debug(expected), "{} with {k} on {screen:?}", entry.name);
                    }
                }
            }
        }
    }

    #[test]
    fn an_override_rebinds_the_action_frees_its_defaults_and_shows_in_the_help() {
        for entry in rebindable() {
            let table = BTreeMap::from([(entry.name.to_string(), "F9".to_string())]);
            let mut app = app_on(Main);
            app.keymap = Keymap::from_table(&table);
            let f9 = KeyEvent::new(KeyCode::F(9), KeyModifiers::NONE);
            let expected = (entry.act)(&app, &f9);
            assert!(expected.is_some(), "{}", entry.name);
            assert_eq!(debug(crate::keys::map_key(&app, &f9)), debug(expected), "{} on F9", entry.name);
            for k in entry.default_keys() {
                let key = event(&KeyBinding::parse(k).unwrap());
                assert_eq!(debug(crate::keys::map_key(&app, &key)), "None", "{}: the default {k} is no longer bound", entry.name);
            }
            let sections = help_sections(&app.keymap);
            let line = sections.iter().flat_map(|s| s.lines.iter()).find(|l| l.actions.contains(&entry.name)).unwrap();
            assert!(line.keys.split(" / ").any(|k| k == "F9"), "{}: {line:?}", entry.name);
            let help = crate::view::help::lines(&app).iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n");
            assert!(
                help.contains(&format!("  {}  ", line.keys.trim_end())) || help.contains(&format!("  {} ", line.keys)),
                "{help}"
            );
        }
    }

    /// The rendered help, by section title: the lines of each section.
    fn rendered_help(app: &App) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for line in crate::view::help::lines(app) {
            let text = line.to_string();
            if text.is_empty() {
                continue;
            }
            match (text.strip_prefix("  "), out.last_mut()) {
                (Some(row), Some((_, rows))) => rows.push(row.to_string()),
                _ => out.push((text, Vec::new())),
            }
        }
        out
    }

    #[test]
    fn the_help_shows_every_entry_of_the_table_in_its_section() {
        let app = app();
        let help = rendered_help(&app);
        let titles: Vec<&str> = help.iter().map(|(t, _)| t.as_str()).collect();
        let mut head: Option<&NamedAction> = None;
        for entry in ACTIONS {
            let title_of =
                |s: Screen| if s == Panes { "Panes and tabs (Ctrl-w, then…)".to_string() } else { s.title().to_string() };
            let Some((_, rows)) = help.iter().find(|(t, _)| *t == title_of(entry.section)) else {
                panic!("no section {:?} for {} in {titles:?}", entry.section, entry.name);
            };
            match entry.join {
                Join::Title => continue,
                Join::Line => head = Some(entry),
                Join::And | Join::Or => {
                    assert_eq!(head.unwrap().section, entry.section, "{} joins a line of another section", entry.name)
                }
            }
            let head = head.unwrap();
            let row = rows
                .iter()
                .find(|r| r.trim_end().ends_with(head.help))
                .unwrap_or_else(|| panic!("no line '{}' in {rows:#?}", head.help));
            let keys: Vec<&str> = row[..row.len() - head.help.len()].split_whitespace().collect();
            let shown: Vec<String> = if entry.keys.is_empty() {
                vec![entry.name.to_string()]
            } else {
                entry.keys.iter().map(|k| display(k)).collect()
            };
            for k in shown {
                assert!(keys.contains(&k.as_str()), "{}: {k} is not on its help line {row:?}", entry.name);
            }
        }
        assert_eq!(help.len(), Screen::ALL.len(), "{titles:?}");
    }

    #[test]
    fn the_status_line_hints_come_from_the_table() {
        for (i, entry) in ACTIONS.iter().enumerate().filter(|(_, e)| e.hint.is_some()) {
            let screen = entry.screens[0];
            let app = app_on(screen);
            let hint = entry.hint.unwrap();
            assert!((hint.when)(&app), "{}", entry.name);
            let hints = hints(&app);
            let first = display(entry.keys[0]);
            assert!(
                hints.iter().any(|(keys, label)| *label == hint.label && keys.split(' ').any(|k| k == first)),
                "{} ({i}): no '{first} {}' in {hints:?}",
                entry.name,
                hint.label
            );
            let text = hint_text(&app);
            assert!(text.contains(hint.label), "{text}");
        }
        let mut app = app();
        assert_eq!(hint_text(&app), " ? help · q quit ");
        app.panes.push(app.panes[0].clone());
        assert_eq!(hint_text(&app), " Ctrl-w panes · ? help · q quit ");
        app.mode = Mode::Query;
        assert_eq!(hint_text(&app), " Enter run · Tab complete · Esc leave · F1 help ");
        app.mode = Mode::Detail;
        assert_eq!(hint_text(&app), " Ctrl-w panes · ? help · q quit ", "no hints of its own: the main screen's");
        app.mode = Mode::Help;
        assert_eq!(hint_text(&app), " Esc close ");
        app.mode = Mode::SourcePicker;
        assert_eq!(hint_text(&app), " Enter open · Esc cancel ");
        app.mode = Mode::Normal;
        app.pane_prefix = true;
        assert_eq!(
            hint_text(&app),
            " v beside · s below · t tab · h j k l focus · w next · c close · z maximise · > < + - size · n p tab · L link · S save "
        );
        app.pane_prefix = false;
        app.keymap = Keymap::from_table(&BTreeMap::from([("quit".to_string(), "ctrl-q".to_string())]));
        assert_eq!(hint_text(&app), " Ctrl-w panes · ? help · ctrl-q quit ");
    }

    #[test]
    fn the_config_docs_list_every_rebindable_action_with_its_default_keys() {
        let docs = include_str!("../../../docs/config.md");
        let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
        for action in rebindable() {
            let keys: Vec<String> = action.default_keys().map(|k| format!("`{k}`")).collect();
            let entry = format!("`{}` {}", action.name, keys.join(" "));
            assert!(docs.contains(&entry), "docs/config.md does not list {entry}");
        }
    }
}
