//! Key and mouse mapping: terminal events → [`Action`], by mode. The keys are the table of
//! named actions in [`crate::keymap`] (which the help screen, the `[keys]` overrides and the
//! status line's hints read too); this module adds the mouse and typing into text fields.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::action::{Action, MouseAction};
use super::app::App;
use super::keymap::Screen;

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

/// Maps a key to an action in the app's current mode, through the table of named actions
/// ([`crate::keymap::ACTIONS`]); a key no entry takes is typed into the text field that has
/// the keys, if any.
pub fn map_key(app: &App, key: &KeyEvent) -> Option<Action> {
    if let Some(action) = super::keymap::dispatch(app, key) {
        return action;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match Screen::of(app) {
        Screen::Panes => Some(Action::UnknownPaneCommand),
        Screen::Query | Screen::SourcePicker => line_edit_key(key, ctrl),
        Screen::TimePicker if app.picker.field != 0 => line_edit_key(key, ctrl),
        Screen::Prompt | Screen::SavedSearches => text_key(key, ctrl),
        _ => None,
    }
}

/// The keys every text field shares: typing, `Ctrl-u` / `Ctrl-w` to clear / delete a word,
/// Backspace, Delete, the arrows, Home and End. `None` for any other key.
pub fn line_edit_key(key: &KeyEvent, ctrl: bool) -> Option<Action> {
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

/// The keys of the prompts' and the saved-search picker's text: [`line_edit_key`], and
/// `Ctrl-a` / `Ctrl-e` to the start / end.
fn text_key(key: &KeyEvent, ctrl: bool) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('a') if ctrl => Action::CursorHome,
        KeyCode::Char('e') if ctrl => Action::CursorEnd,
        _ => return line_edit_key(key, ctrl),
    })
}
