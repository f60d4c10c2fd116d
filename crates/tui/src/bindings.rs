//! Key overrides from the `[keys]` table: `action = "key"`, e.g. `quit = "ctrl-q"`.
//!
//! They are parsed and validated here (unknown action, unknown key name, one key bound to two
//! actions); the actions are the rebindable entries of the table of named actions
//! ([`crate::keymap::ACTIONS`]), and the UI applies the overrides to its main screen through
//! [`crate::keymap::Keymap`].

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyModifiers};

/// A key with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyBinding {
    /// The key.
    pub code: KeyCodeName,
    /// Ctrl held.
    pub ctrl: bool,
    /// Alt held.
    pub alt: bool,
    /// Shift held (for named keys; a shifted letter is just the upper-case letter).
    pub shift: bool,
}

/// A key without modifiers, in a form that can be ordered and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyCodeName {
    /// A character key.
    Char(char),
    /// A function key, F1..F12.
    F(u8),
    /// A named key.
    Named(&'static str),
}

const NAMED: &[&str] =
    &["enter", "esc", "tab", "backtab", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown", "up", "down", "left", "right", "space"];

impl KeyBinding {
    /// Parses `q`, `G`, `ctrl-r`, `alt-x`, `shift-tab`, `F5`, `pagedown`, `space`.
    pub fn parse(text: &str) -> Result<KeyBinding, String> {
        let mut binding = KeyBinding { code: KeyCodeName::Char(' '), ctrl: false, alt: false, shift: false };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty key".into());
        }
        // Modifiers first; a lone "-" is the minus key.
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (&mut binding.ctrl, 5)
            } else if lower.starts_with("alt-") {
                (&mut binding.alt, 4)
            } else if lower.starts_with("shift-") {
                (&mut binding.shift, 6)
            } else {
                break;
            };
            *flag = true;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        binding.code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeName::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                let alias = match lower.as_str() {
                    "escape" => "esc",
                    "return" => "enter",
                    "pgup" => "pageup",
                    "pgdn" => "pagedown",
                    "del" => "delete",
                    other => other,
                };
                if let Some(n) = alias.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=12).contains(n)) {
                    KeyCodeName::F(n)
                } else if let Some(name) = NAMED.iter().find(|n| **n == alias) {
                    KeyCodeName::Named(name)
                } else {
                    return Err(format!(
                        "unknown key '{}': use a character, F1-F12 or one of {} (with ctrl-/alt-/shift- prefixes)",
                        logsleuth_core::text::sanitize(text),
                        NAMED.join(", ")
                    ));
                }
            }
        };
        Ok(binding)
    }

    /// As crossterm's key code and modifiers, for matching terminal events.
    pub fn to_crossterm(&self) -> (KeyCode, KeyModifiers) {
        let code = match self.code {
            KeyCodeName::Char(c) => KeyCode::Char(c),
            KeyCodeName::F(n) => KeyCode::F(n),
            KeyCodeName::Named(name) => match name {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                _ => KeyCode::Char(' '),
            },
        };
        let mut mods = KeyModifiers::NONE;
        if self.ctrl {
            mods |= KeyModifiers::CONTROL;
        }
        if self.alt {
            mods |= KeyModifiers::ALT;
        }
        if self.shift {
            mods |= KeyModifiers::SHIFT;
        }
        (code, mods)
    }
}

/// Validates a `[keys]` table: every action known, every key parseable, no key bound twice.
/// Returns the bindings, or one message per problem as `(action, message)`.
pub fn parse_overrides(table: &BTreeMap<String, String>) -> Result<BTreeMap<String, KeyBinding>, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut bindings = BTreeMap::new();
    let mut by_key: BTreeMap<KeyBinding, &str> = BTreeMap::new();
    for (action, key) in table {
        if crate::keymap::find(action).is_none() {
            let known: Vec<&str> = crate::keymap::rebindable().map(|a| a.name).collect();
            errors.push((action.clone(), format!("unknown action '{action}'; known actions: {}", known.join(", "))));
            continue;
        }
        match KeyBinding::parse(key) {
            Ok(binding) => {
                if let Some(other) = by_key.insert(binding, action) {
                    errors.push((action.clone(), format!("key '{key}' is also bound to '{other}'")));
                }
                bindings.insert(action.clone(), binding);
            }
            Err(e) => errors.push((action.clone(), e)),
        }
    }
    if errors.is_empty() { Ok(bindings) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_parse_with_modifiers_and_names() {
        assert_eq!(KeyBinding::parse("ctrl-r").unwrap().to_crossterm(), (KeyCode::Char('r'), KeyModifiers::CONTROL));
        assert_eq!(KeyBinding::parse("F5").unwrap().to_crossterm(), (KeyCode::F(5), KeyModifiers::NONE));
        assert_eq!(KeyBinding::parse("shift-Tab").unwrap().to_crossterm(), (KeyCode::Tab, KeyModifiers::SHIFT));
        assert_eq!(KeyBinding::parse("pgdn").unwrap().to_crossterm().0, KeyCode::PageDown);
        assert_eq!(KeyBinding::parse("-").unwrap().to_crossterm().0, KeyCode::Char('-'));
        assert!(KeyBinding::parse("ctrl-banana").unwrap_err().contains("unknown key 'ctrl-banana'"));
        assert!(KeyBinding::parse("F13").is_err());
    }

    #[test]
    fn overrides_report_unknown_actions_and_duplicates() {
        let table: BTreeMap<String, String> =
            [("quit", "ctrl-q"), ("tail", "ctrl-q"), ("fly", "x")].iter().map(|(a, k)| (a.to_string(), k.to_string())).collect();
        let errors = parse_overrides(&table).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|(a, m)| a == "fly" && m.contains("unknown action")));
        assert!(errors.iter().any(|(a, m)| a == "tail" && m.contains("also bound to 'quit'")));
        let ok: BTreeMap<String, String> = [("quit".to_string(), "ctrl-q".to_string())].into();
        assert_eq!(parse_overrides(&ok).unwrap().len(), 1);
    }
}
