//! Key and mouse mapping: terminal events → [`Action`], by mode. The help screen and
//! docs/usage.md list the same bindings as [`HELP`].

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::action::{Action, Edge, MouseAction};
use super::app::{App, Element, Mode};

/// Every key binding, by screen: (section, [(keys, what they do)]).
pub const HELP: &[(&str, &[(&str, &str)])] = &[
    (
        "Everywhere",
        &[
            ("? / F1", "show / hide this help (F1 in the query bar, where ? is typed)"),
            ("Esc", "cancel the running query; else close the popup or leave the mode"),
            ("Ctrl-c", "quit"),
        ],
    ),
    (
        "Main screen",
        &[
            ("q", "quit"),
            ("/", "edit the KQL query"),
            ("Tab / Shift-Tab", "next / previous element: query bar, histogram, table, fields"),
            ("j k / ↓ ↑", "move the selection (table, histogram cursor)"),
            ("h l / ← →", "move the histogram cursor"),
            ("PgDn PgUp / Ctrl-d Ctrl-u", "page down / up"),
            ("g G / Home End", "first / last row"),
            ("Enter", "open the selected row's detail (table); zoom into the selection (histogram)"),
            ("f", "focus the field sidebar"),
            ("c", "top-N charts: status codes, client IPs, user agents"),
            ("r", "time picker: quick and absolute ranges"),
            ("v", "start / clear a span selection on the histogram"),
            ("z", "zoom into the selected histogram span"),
            ("u / Backspace", "step back out of the last zoom"),
            ("s", "histogram split: status class, level, none"),
            ("t", "live tail on / off"),
            ("space", "pause / resume the tail (new lines wait, counted)"),
            ("mouse", "wheel scrolls; click selects, click again opens; drag on the histogram zooms"),
            ("m", "mark the selected line or histogram span, with a note"),
            ("M", "list the marks: Enter jumps, e edits the note, d deletes"),
            ("E", "export: Markdown report, NDJSON or CSV of the loaded lines"),
            ("y", "copy the selected line to the clipboard (OSC 52)"),
            ("Y", "copy the current query"),
            ("S", "save the search (query, range, columns) under a name"),
            ("o", "open a saved search (type to filter)"),
        ],
    ),
    (
        "Panes and tabs (Ctrl-w, then…)",
        &[
            ("v / s", "new pane beside / below this one; choose its source"),
            ("t", "new tab (choose its source)"),
            ("h j k l / arrows", "focus the pane on that side"),
            ("w / W", "focus the next / previous pane"),
            ("c / x", "close the pane"),
            ("z / o", "maximise the pane / show all panes again"),
            ("> < / + -", "wider / narrower, taller / shorter"),
            ("n / p", "next / previous tab"),
            ("L", "link / unlink this pane's time range (linked by default)"),
            ("S", "save the workspace (--workspace NAME, else 'default')"),
        ],
    ),
    (
        "Query bar",
        &[
            ("Enter", "run the query"),
            ("Tab", "accept the highlighted completion (else next element)"),
            ("↑ ↓", "move in the completions, or browse the history"),
            ("← → Home End / Ctrl-a Ctrl-e", "move the cursor"),
            ("Ctrl-w / Ctrl-u", "delete a word / the whole query"),
            ("Ctrl-t / F2", "switch KQL / native language (LogQL, ES DSL or Lucene, regex)"),
            ("Esc", "close completions, then leave the query bar"),
        ],
    ),
    (
        "Field sidebar",
        &[
            ("j k", "move"),
            ("Enter", "top-N chart of the field"),
            ("+ / -", "filter for / out the field's top value"),
            ("e", "filter: the field exists"),
            ("space", "show / hide the field as a table column"),
            ("Esc / f", "back to the table"),
        ],
    ),
    (
        "Detail view",
        &[
            ("j k", "move between fields (scroll the JSON)"),
            ("+ / Enter", "filter for the value"),
            ("-", "filter out the value"),
            ("t", "toggle the field as a table column"),
            ("e", "filter: the field exists"),
            ("Tab", "switch between the field table and the JSON"),
            ("n / p", "next / previous record (older / newer)"),
            ("x", "context: the records just before and after it (Esc back)"),
            ("y", "copy the field's value (the JSON, the context line)"),
            ("Esc / q", "close"),
        ],
    ),
    (
        "Top-N charts",
        &[
            ("Tab / Shift-Tab", "next / previous chart"),
            ("j k", "select a bar"),
            ("+ / Enter", "filter for the selected value"),
            ("-", "filter out the selected value"),
            ("Esc / q / c", "close"),
        ],
    ),
    (
        "Marks list",
        &[
            ("j k", "select a mark (in time order)"),
            ("Enter", "jump: focus its pane, select its line or span"),
            ("e", "edit the note"),
            ("d", "delete the mark"),
            ("Esc / q / M", "close"),
        ],
    ),
    (
        "Export menu",
        &[("j k", "choose: Markdown report, NDJSON, CSV"), ("Enter", "choose, then confirm the file name"), ("Esc / q / E", "close")],
    ),
    (
        "Saved searches",
        &[
            ("type", "fuzzy filter by name and query"),
            ("↑ ↓ / Ctrl-p Ctrl-n", "select"),
            ("Enter", "apply to the focused pane and run"),
            ("Esc", "close"),
        ],
    ),
    (
        "Prompts (notes, file names)",
        &[("Enter", "accept"), ("Ctrl-u / Ctrl-w", "clear / delete a word"), ("Esc", "cancel")],
    ),
    (
        "Time picker",
        &[
            ("j k", "choose a quick range"),
            ("Tab", "go to the absolute From / To fields"),
            ("Enter", "apply"),
            ("Esc", "close"),
        ],
    ),
];

/// Maps a terminal event to an action in the app's current mode.
pub fn map_event(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => map_key(app, key),
        Event::Mouse(m) => map_mouse(m),
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        Event::Paste(text) => Some(Action::Paste(text.clone())),
        _ => None,
    }
}

fn map_mouse(m: &MouseEvent) -> Option<Action> {
    let (x, y) = (m.column, m.row);
    let a = match m.kind {
        MouseEventKind::ScrollUp => MouseAction::ScrollUp(x, y),
        MouseEventKind::ScrollDown => MouseAction::ScrollDown(x, y),
        MouseEventKind::Down(MouseButton::Left) => MouseAction::Down(x, y),
        MouseEventKind::Drag(MouseButton::Left) => MouseAction::Drag(x, y),
        MouseEventKind::Up(MouseButton::Left) => MouseAction::Up(x, y),
        _ => return None,
    };
    Some(Action::Mouse(a))
}

/// Maps a key to an action in the app's current mode.
pub fn map_key(app: &App, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if key.code == KeyCode::Esc {
        return Some(Action::Escape);
    }
    if app.pane_prefix {
        return Some(pane_command_key(key, ctrl));
    }
    if ctrl && key.code == KeyCode::Char('w') && matches!(app.mode, Mode::Normal | Mode::Fields) {
        return Some(Action::PanePrefix);
    }
    // The main screen's keys go through the configured overrides first.
    if app.mode == Mode::Normal
        && let Some(resolved) = super::keymap::resolve(app, key)
    {
        return resolved;
    }
    match app.mode {
        Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches => super::investigate::map_key(app, key, ctrl),
        Mode::Query => query_key(key, ctrl),
        Mode::TimePicker => picker_key(app, key, ctrl),
        Mode::SourcePicker => source_picker_key(key, ctrl),
        mode => browse_key(app, mode, key, ctrl),
    }
}

/// The key after `Ctrl-w` (vim's window commands, tmux's split / zoom).
fn pane_command_key(key: &KeyEvent, ctrl: bool) -> Action {
    use super::app::Placement;
    use super::tiles::{Direction, RESIZE_STEP, Toward};
    match key.code {
        KeyCode::Char('v') | KeyCode::Char('|') => Action::NewPane(Placement::SideBySide),
        KeyCode::Char('s') | KeyCode::Char('_') => Action::NewPane(Placement::Below),
        KeyCode::Char('t') => Action::NewPane(Placement::NewTab),
        KeyCode::Char('h') | KeyCode::Left => Action::FocusPane(Toward::Left),
        KeyCode::Char('l') | KeyCode::Right => Action::FocusPane(Toward::Right),
        KeyCode::Char('k') | KeyCode::Up => Action::FocusPane(Toward::Up),
        KeyCode::Char('j') | KeyCode::Down => Action::FocusPane(Toward::Down),
        KeyCode::Char('w') => Action::CyclePane(!key.modifiers.contains(KeyModifiers::SHIFT) || ctrl),
        KeyCode::Char('W') => Action::CyclePane(false),
        KeyCode::Char('c') | KeyCode::Char('q') | KeyCode::Char('x') => Action::ClosePane,
        KeyCode::Char('z') | KeyCode::Char('o') => Action::ToggleMaximise,
        KeyCode::Char('>') => Action::ResizePane(Direction::Horizontal, RESIZE_STEP),
        KeyCode::Char('<') => Action::ResizePane(Direction::Horizontal, -RESIZE_STEP),
        KeyCode::Char('+') | KeyCode::Char('=') => Action::ResizePane(Direction::Vertical, RESIZE_STEP),
        KeyCode::Char('-') => Action::ResizePane(Direction::Vertical, -RESIZE_STEP),
        KeyCode::Char('n') | KeyCode::Tab => Action::CycleTab(true),
        KeyCode::Char('p') | KeyCode::BackTab => Action::CycleTab(false),
        KeyCode::Char('L') => Action::ToggleLink,
        KeyCode::Char('S') => Action::SaveWorkspace,
        KeyCode::Char('?') => Action::ToggleHelp,
        _ => Action::UnknownPaneCommand,
    }
}

/// The keys every text field shares: typing, `Ctrl-u` / `Ctrl-w` to clear / delete a word,
/// Backspace, Delete, the arrows, Home and End. `None` for any other key.
pub(super) fn line_edit_key(key: &KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('u') if ctrl => Action::ClearInput,
        KeyCode::Char('w') if ctrl => Action::DeleteWord,
        KeyCode::Char(c) if !ctrl => Action::Input(c),
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Delete => Action::Delete,
        KeyCode::Left => Action::CursorLeft,
        KeyCode::Right => Action::CursorRight,
        KeyCode::Home => Action::CursorHome,
        KeyCode::End => Action::CursorEnd,
        _ => return None,
    })
}

fn source_picker_key(key: &KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('n') if ctrl => Action::Move(1),
        KeyCode::Char('p') if ctrl => Action::Move(-1),
        KeyCode::Up => Action::Move(-1),
        KeyCode::Down | KeyCode::Tab => Action::Move(1),
        KeyCode::Enter => Action::Submit,
        _ => return line_edit_key(key, ctrl),
    })
}

fn query_key(key: &KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('a') if ctrl => Action::CursorHome,
        KeyCode::Char('e') if ctrl => Action::CursorEnd,
        KeyCode::Char('n') if ctrl => Action::Move(1),
        KeyCode::Char('p') if ctrl => Action::Move(-1),
        KeyCode::Char('t') if ctrl => Action::ToggleQueryLanguage,
        KeyCode::Up => Action::Move(-1),
        KeyCode::Down => Action::Move(1),
        KeyCode::Enter => Action::Submit,
        KeyCode::Tab => Action::AcceptCompletion,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::F(1) => Action::ToggleHelp,
        KeyCode::F(2) => Action::ToggleQueryLanguage,
        _ => return line_edit_key(key, ctrl),
    })
}

fn picker_key(app: &App, key: &KeyEvent, ctrl: bool) -> Option<Action> {
    if app.picker.field != 0 {
        return Some(match key.code {
            KeyCode::Enter => Action::Submit,
            KeyCode::Tab => Action::FocusNext,
            KeyCode::BackTab => Action::FocusPrev,
            _ => return line_edit_key(key, ctrl),
        });
    }
    Some(match key.code {
        KeyCode::Char('j') | KeyCode::Down => Action::Move(1),
        KeyCode::Char('k') | KeyCode::Up => Action::Move(-1),
        KeyCode::Enter => Action::Submit,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('q') | KeyCode::Char('r') => Action::Escape,
        KeyCode::Char('?') => Action::ToggleHelp,
        _ => return None,
    })
}

fn browse_key(app: &App, mode: Mode, key: &KeyEvent, ctrl: bool) -> Option<Action> {
    // Movement is shared by every browsing mode; the reducer applies it to what has focus.
    let common = match key.code {
        KeyCode::Char('d') if ctrl => Some(Action::Page(1)),
        KeyCode::Char('u') if ctrl => Some(Action::Page(-1)),
        KeyCode::Char('f') if ctrl => Some(Action::Page(1)),
        KeyCode::Char('b') if ctrl => Some(Action::Page(-1)),
        KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(1)),
        KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(-1)),
        KeyCode::PageDown => Some(Action::Page(1)),
        KeyCode::PageUp => Some(Action::Page(-1)),
        KeyCode::Char('g') | KeyCode::Home => Some(Action::Jump(Edge::Start)),
        KeyCode::Char('G') | KeyCode::End => Some(Action::Jump(Edge::End)),
        KeyCode::Char('?') | KeyCode::F(1) => Some(Action::ToggleHelp),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    Some(match mode {
        Mode::Help => match key.code {
            KeyCode::Char('q') | KeyCode::Enter => Action::ToggleHelp,
            _ => return None,
        },
        Mode::Detail => match key.code {
            KeyCode::Char('q') => Action::Escape,
            KeyCode::Char('+') | KeyCode::Char('=') | KeyCode::Enter => Action::FilterFor,
            KeyCode::Char('-') => Action::FilterOut,
            KeyCode::Char('t') => Action::ToggleColumn,
            KeyCode::Char('e') => Action::FilterExists,
            KeyCode::Tab | KeyCode::BackTab => Action::ToggleDetailView,
            KeyCode::Char('x') => Action::ShowContext,
            KeyCode::Char('y') => Action::Investigate(super::investigate::InvestigateAction::Copy),
            KeyCode::Char('n') | KeyCode::Char(']') => Action::DetailRecord(1),
            KeyCode::Char('p') | KeyCode::Char('[') => Action::DetailRecord(-1),
            _ => return None,
        },
        Mode::Charts => match key.code {
            KeyCode::Char('q') | KeyCode::Char('c') => Action::Escape,
            KeyCode::Char('+') | KeyCode::Char('=') | KeyCode::Enter => Action::FilterFor,
            KeyCode::Char('-') => Action::FilterOut,
            KeyCode::Tab | KeyCode::Char('l') | KeyCode::Right => Action::FocusNext,
            KeyCode::BackTab | KeyCode::Char('h') | KeyCode::Left => Action::FocusPrev,
            _ => return None,
        },
        Mode::Fields => match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('f') => Action::FocusFields,
            KeyCode::Enter => Action::Submit,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::FilterFor,
            KeyCode::Char('-') => Action::FilterOut,
            KeyCode::Char('e') => Action::FilterExists,
            KeyCode::Char(' ') => Action::ToggleColumn,
            KeyCode::Char('c') => Action::OpenCharts,
            KeyCode::Char('/') => Action::EditQuery,
            KeyCode::Tab => Action::FocusNext,
            KeyCode::BackTab => Action::FocusPrev,
            _ => return None,
        },
        _ => match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Char('/') => Action::EditQuery,
            KeyCode::Enter => Action::Submit,
            KeyCode::Tab => Action::FocusNext,
            KeyCode::BackTab => Action::FocusPrev,
            KeyCode::Char('f') => Action::FocusFields,
            KeyCode::Char('c') => Action::OpenCharts,
            KeyCode::Char('r') => Action::OpenTimePicker,
            KeyCode::Char('t') => Action::ToggleTail,
            KeyCode::Char(' ') => Action::TogglePause,
            KeyCode::Char('s') => Action::CycleSplit,
            KeyCode::Char('v') => Action::MarkSpan,
            KeyCode::Char('z') => Action::ZoomIn,
            KeyCode::Char('u') | KeyCode::Backspace => Action::ZoomOut,
            KeyCode::Char('h') | KeyCode::Left if app.pane().element == Element::Histogram => Action::MoveHorizontal(-1),
            KeyCode::Char('l') | KeyCode::Right if app.pane().element == Element::Histogram => {
                Action::MoveHorizontal(1)
            }
            KeyCode::Char('H') if app.pane().element == Element::Histogram => Action::MoveHorizontal(-10),
            KeyCode::Char('L') if app.pane().element == Element::Histogram => Action::MoveHorizontal(10),
            _ => return None,
        },
    })
}
