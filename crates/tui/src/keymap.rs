//! Key overrides for the main screen: the configuration's `[keys]` table
//! ([`crate::bindings`]) rebinds the actions listed in [`crate::bindings::ACTIONS`].
//! An override replaces every default key of its action (the default key is then free, or
//! does what it did for other actions); keys not overridden keep their defaults. The help
//! screen shows the effective keys ([`help_keys`]).

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Edge};
use super::app::{App, Element};
use super::investigate::InvestigateAction;
use crate::bindings::KeyBinding;

/// Default keys of every rebindable action, as `[keys]` spells them.
pub const DEFAULTS: &[(&str, &[&str])] = &[
    ("quit", &["q"]),
    ("help", &["?", "F1"]),
    ("edit_query", &["/"]),
    ("next_element", &["tab"]),
    ("previous_element", &["backtab"]),
    ("down", &["j", "down"]),
    ("up", &["k", "up"]),
    ("left", &["h", "left"]),
    ("right", &["l", "right"]),
    ("page_down", &["pagedown", "ctrl-d", "ctrl-f"]),
    ("page_up", &["pageup", "ctrl-u", "ctrl-b"]),
    ("first", &["g", "home"]),
    ("last", &["G", "end"]),
    ("open", &["enter"]),
    ("fields", &["f"]),
    ("charts", &["c"]),
    ("time_picker", &["r"]),
    ("select_span", &["v"]),
    ("zoom", &["z"]),
    ("zoom_out", &["u", "backspace"]),
    ("split", &["s"]),
    ("tail", &["t"]),
    ("pause", &["space"]),
    ("mark", &["m"]),
    ("marks", &["M"]),
    ("export", &["E"]),
    ("copy", &["y"]),
    ("copy_query", &["Y"]),
    ("save_search", &["S"]),
    ("open_search", &["o"]),
];

/// Actions added by the incident workflow: their default keys are resolved here rather than
/// in [`super::keys`].
const OWN: &[&str] = &["mark", "marks", "export", "copy", "copy_query", "save_search", "open_search"];

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
            if crate::bindings::ACTIONS.iter().any(|(n, _)| n == action)
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

    /// The keys of an action in effect, for display (`ctrl-q`, or `j ↓`).
    pub fn keys_of(&self, action: &str) -> String {
        if let Some((_, text)) = self.overrides.get(action) {
            return text.clone();
        }
        DEFAULTS
            .iter()
            .find(|(n, _)| *n == action)
            .map(|(_, keys)| keys.iter().map(|k| display(k)).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }
}

/// A default key as the help screen writes it.
fn display(key: &str) -> String {
    match key {
        "down" => "↓".into(),
        "up" => "↑".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "pagedown" => "PgDn".into(),
        "pageup" => "PgUp".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        "enter" => "Enter".into(),
        "tab" => "Tab".into(),
        "backtab" => "Shift-Tab".into(),
        "backspace" => "Backspace".into(),
        k if k.starts_with("ctrl-") => format!("Ctrl-{}", &k[5..]),
        k => k.into(),
    }
}

/// Whether a terminal key event is this binding. A shifted letter is its upper-case char, so
/// Shift is only compared for named keys (and Shift-Tab arrives as BackTab).
pub fn matches(binding: &KeyBinding, key: &KeyEvent) -> bool {
    let (code, mods) = binding.to_crossterm();
    let (code, mods) = match (code, mods.contains(KeyModifiers::SHIFT)) {
        (KeyCode::Tab, true) => (KeyCode::BackTab, mods - KeyModifiers::SHIFT),
        _ => (code, mods),
    };
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

fn default_matches(key_text: &str, key: &KeyEvent) -> bool {
    KeyBinding::parse(key_text).is_ok_and(|b| matches(&b, key))
}

/// The action a rebindable name stands for on the main screen now (`left`/`right` move the
/// histogram cursor only when the histogram has focus).
pub fn action_for(app: &App, name: &str) -> Option<Action> {
    let on_histogram = app.pane().element == Element::Histogram;
    Some(match name {
        "quit" => Action::Quit,
        "help" => Action::ToggleHelp,
        "edit_query" => Action::EditQuery,
        "next_element" => Action::FocusNext,
        "previous_element" => Action::FocusPrev,
        "down" => Action::Move(1),
        "up" => Action::Move(-1),
        "left" if on_histogram => Action::MoveHorizontal(-1),
        "right" if on_histogram => Action::MoveHorizontal(1),
        "page_down" => Action::Page(1),
        "page_up" => Action::Page(-1),
        "first" => Action::Jump(Edge::Start),
        "last" => Action::Jump(Edge::End),
        "open" => Action::Submit,
        "fields" => Action::FocusFields,
        "charts" => Action::OpenCharts,
        "time_picker" => Action::OpenTimePicker,
        "select_span" => Action::MarkSpan,
        "zoom" => Action::ZoomIn,
        "zoom_out" => Action::ZoomOut,
        "split" => Action::CycleSplit,
        "tail" => Action::ToggleTail,
        "pause" => Action::TogglePause,
        "mark" => Action::Investigate(InvestigateAction::Mark),
        "marks" => Action::Investigate(InvestigateAction::OpenMarks),
        "export" => Action::Investigate(InvestigateAction::OpenExport),
        "copy" => Action::Investigate(InvestigateAction::Copy),
        "copy_query" => Action::Investigate(InvestigateAction::CopyQuery),
        "save_search" => Action::Investigate(InvestigateAction::SaveSearch),
        "open_search" => Action::Investigate(InvestigateAction::OpenSavedSearches),
        _ => return None,
    })
}

/// Resolves a main-screen key through the keymap: `Some(action)` when an override or one of
/// the incident workflow's own defaults binds it (`Some(None)`: bound, nothing to do now, or
/// the default key of a rebound action), `None` to fall through to the default bindings.
pub fn resolve(app: &App, key: &KeyEvent) -> Option<Option<Action>> {
    let keymap = &app.keymap;
    if let Some((name, _)) = keymap.overrides.iter().find(|(_, (b, _))| matches(b, key)) {
        return Some(action_for(app, name));
    }
    for (name, keys) in DEFAULTS {
        if keys.iter().any(|k| default_matches(k, key)) {
            if keymap.overrides(name) {
                return Some(None);
            }
            if OWN.contains(name) {
                return Some(action_for(app, name));
            }
        }
    }
    None
}

/// The help screen's rebindable entries of the main screen: the keys column of
/// [`super::keys::HELP`] → the actions it lists, in order.
const HELP_ACTIONS: &[(&str, &[&str])] = &[
    ("q", &["quit"]),
    ("/", &["edit_query"]),
    ("Tab / Shift-Tab", &["next_element", "previous_element"]),
    ("j k / ↓ ↑", &["down", "up"]),
    ("h l / ← →", &["left", "right"]),
    ("PgDn PgUp / Ctrl-d Ctrl-u", &["page_down", "page_up"]),
    ("g G / Home End", &["first", "last"]),
    ("Enter", &["open"]),
    ("f", &["fields"]),
    ("c", &["charts"]),
    ("r", &["time_picker"]),
    ("v", &["select_span"]),
    ("z", &["zoom"]),
    ("u / Backspace", &["zoom_out"]),
    ("s", &["split"]),
    ("t", &["tail"]),
    ("space", &["pause"]),
    ("m", &["mark"]),
    ("M", &["marks"]),
    ("E", &["export"]),
    ("y", &["copy"]),
    ("Y", &["copy_query"]),
    ("S", &["save_search"]),
    ("o", &["open_search"]),
];

/// The keys column of a help entry with the overrides applied: unchanged unless one of its
/// actions is rebound, else each action's keys in effect, separated by ` / `.
pub fn help_keys(keymap: &Keymap, section: &str, keys: &str) -> String {
    if section != "Main screen" || keymap.is_empty() {
        return keys.to_string();
    }
    match HELP_ACTIONS.iter().find(|(k, _)| *k == keys) {
        Some((_, names)) if names.iter().any(|n| keymap.overrides(n)) => {
            names.iter().map(|n| keymap.keys_of(n)).collect::<Vec<_>>().join(" / ")
        }
        _ => keys.to_string(),
    }
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
    fn every_rebindable_action_has_defaults_and_an_action() {
        for (name, _) in crate::bindings::ACTIONS {
            assert!(DEFAULTS.iter().any(|(n, keys)| n == name && !keys.is_empty()), "{name} has no default keys");
        }
        for (name, keys) in DEFAULTS {
            assert!(crate::bindings::ACTIONS.iter().any(|(n, _)| n == name), "{name} is not rebindable");
            for k in *keys {
                assert!(KeyBinding::parse(k).is_ok(), "{k}");
            }
        }
    }

    #[test]
    fn help_shows_the_keys_in_effect() {
        let table: BTreeMap<String, String> =
            [("quit", "ctrl-q"), ("down", "n")].iter().map(|(a, k)| (a.to_string(), k.to_string())).collect();
        let keymap = Keymap::from_table(&table);
        assert_eq!(help_keys(&keymap, "Main screen", "q"), "ctrl-q");
        assert_eq!(help_keys(&keymap, "Main screen", "j k / ↓ ↑"), "n / k ↑");
        assert_eq!(help_keys(&keymap, "Main screen", "f"), "f");
        assert_eq!(help_keys(&keymap, "Query bar", "Enter"), "Enter");
        assert_eq!(help_keys(&Keymap::default(), "Main screen", "q"), "q");
    }
}
