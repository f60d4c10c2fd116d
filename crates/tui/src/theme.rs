//! Colour themes: TOML files (`themes/*.toml` embedded in the binary, plus user themes in
//! `$XDG_CONFIG_HOME/logsleuth/themes/`), resolved into ratatui styles. `NO_COLOR` turns every
//! colour off and keeps only modifiers (bold, reversed, underline), so the UI stays readable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The themes shipped with logsleuth: (name, TOML text). The first is the default.
pub const BUILTIN_THEMES: [(&str, &str); 3] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    ("high-contrast", include_str!("../../../themes/high-contrast.toml")),
];

/// Glyphs used to tell histogram series apart when there are no colours.
const NO_COLOR_FILLS: [&str; 4] = ["█", "▓", "▒", "░"];

/// A resolved theme: every style the views use.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Theme name.
    pub name: String,
    /// Whether colours are used at all (false under `NO_COLOR`).
    pub colored: bool,
    /// Plain text.
    pub text: Style,
    /// Secondary text (hints, axis labels).
    pub muted: Style,
    /// Accents (prompt, cursor marks).
    pub accent: Style,
    /// Unfocused borders.
    pub border: Style,
    /// The focused element's border.
    pub border_focus: Style,
    /// Block titles.
    pub title: Style,
    /// The selected row / item.
    pub selection: Style,
    /// A softer highlight (histogram selection, current field).
    pub highlight: Style,
    /// Errors.
    pub error: Style,
    /// Warnings.
    pub warning: Style,
    /// Success / OK.
    pub ok: Style,
    /// "LIVE" tail indicator.
    pub live: Style,
    /// "PAUSED" tail indicator.
    pub paused: Style,
    /// Key names in help and hints.
    pub key: Style,
    /// Top-N bars.
    pub bar: Style,
    /// Timestamps in the table.
    pub timestamp: Style,
    /// Field names (sidebar, detail).
    pub field_name: Style,
    /// JSON keys in the detail view.
    pub json_key: Style,
    /// JSON strings.
    pub json_string: Style,
    /// JSON numbers.
    pub json_number: Style,
    /// JSON true/false/null.
    pub json_literal: Style,
    /// Fixed colours for known series (`2xx`, `error`, …), lower-case keys.
    pub series: BTreeMap<String, Color>,
    /// Colours for other series, in order.
    pub palette: Vec<Color>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    ui: BTreeMap<String, toml::Value>,
    #[serde(default)]
    series: BTreeMap<String, String>,
    #[serde(default)]
    palette: Option<PaletteFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaletteFile {
    colors: Vec<String>,
}

/// Errors loading a theme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    /// No built-in or user theme has that name.
    #[error("unknown theme '{name}' (available: {available})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Names that exist.
        available: String,
    },
    /// The TOML is malformed or a colour is invalid.
    #[error("theme '{name}': {message}")]
    Invalid {
        /// Theme name or file.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Default for Theme {
    fn default() -> Self {
        // The embedded default theme is tested to parse, so this cannot fail at run time.
        Theme::from_toml(BUILTIN_THEMES[0].1, true).unwrap_or_else(|_| Theme::plain())
    }
}

impl Theme {
    /// A theme with no colours at all (the `NO_COLOR` look, and the fallback).
    pub fn plain() -> Theme {
        let s = Style::default();
        Theme {
            name: "no-color".into(),
            colored: false,
            text: s,
            muted: s,
            accent: s.add_modifier(Modifier::BOLD),
            border: s,
            border_focus: s.add_modifier(Modifier::BOLD),
            title: s.add_modifier(Modifier::BOLD),
            selection: s.add_modifier(Modifier::REVERSED),
            highlight: s.add_modifier(Modifier::UNDERLINED),
            error: s.add_modifier(Modifier::BOLD),
            warning: s.add_modifier(Modifier::BOLD),
            ok: s,
            live: s.add_modifier(Modifier::BOLD),
            paused: s.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            key: s.add_modifier(Modifier::BOLD),
            bar: s,
            timestamp: s,
            field_name: s.add_modifier(Modifier::BOLD),
            json_key: s.add_modifier(Modifier::BOLD),
            json_string: s,
            json_number: s,
            json_literal: s.add_modifier(Modifier::ITALIC),
            series: BTreeMap::new(),
            palette: Vec::new(),
        }
    }

    /// Loads a theme by name: built-in first, then `<config_dir>/themes/NAME.toml`. `no_color`
    /// strips colours (pass `std::env::var_os("NO_COLOR").is_some()`).
    pub fn load(name: Option<&str>, config_dir: Option<&Path>, no_color: bool) -> Result<Theme, ThemeError> {
        let name = name.unwrap_or(BUILTIN_THEMES[0].0);
        let text = if let Some((_, text)) = BUILTIN_THEMES.iter().find(|(n, _)| *n == name) {
            (*text).to_string()
        } else {
            let file = config_dir.map(|d| user_theme_path(d, name));
            match file.as_deref().map(std::fs::read_to_string) {
                Some(Ok(text)) => text,
                _ => {
                    return Err(ThemeError::Unknown {
                        name: name.to_string(),
                        available: available_themes(config_dir).join(", "),
                    });
                }
            }
        };
        let theme = Theme::from_toml(&text, true).map_err(|message| ThemeError::Invalid { name: name.into(), message })?;
        Ok(if no_color { theme.without_colors() } else { theme })
    }

    /// Parses a theme file.
    pub fn from_toml(text: &str, colored: bool) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut theme = Theme::plain();
        theme.name = file.name.unwrap_or_else(|| "custom".into());
        theme.colored = colored;
        let color = |key: &str| -> Result<Option<Color>, String> {
            match file.ui.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => {
                    Color::from_str(s).map(Some).map_err(|_| format!("invalid colour '{s}' for {key}"))
                }
                Some(other) => Err(format!("{key} must be a colour string, not {other}")),
            }
        };
        for key in file.ui.keys() {
            if !UI_KEYS.contains(&key.as_str()) {
                return Err(format!("unknown key ui.{key} (known: {})", UI_KEYS.join(", ")));
            }
        }
        let bg = color("background")?;
        let fg = |key: &str| -> Result<Style, String> {
            let mut s = Style::default();
            if let Some(c) = color(key)? {
                s = s.fg(c);
            }
            if let Some(b) = bg {
                s = s.bg(b);
            }
            Ok(s)
        };
        let bold_focus = matches!(file.ui.get("bold_focus"), Some(toml::Value::Boolean(true)));
        theme.text = fg("text")?;
        theme.muted = fg("muted")?;
        theme.accent = fg("accent")?.add_modifier(Modifier::BOLD);
        theme.border = fg("border")?;
        theme.border_focus = fg("border_focus")?;
        if bold_focus {
            theme.border_focus = theme.border_focus.add_modifier(Modifier::BOLD);
        }
        theme.title = fg("title")?.add_modifier(Modifier::BOLD);
        let mut selection = Style::default();
        if let Some(c) = color("selection_fg")? {
            selection = selection.fg(c);
        }
        if let Some(c) = color("selection_bg")? {
            selection = selection.bg(c);
        }
        theme.selection = selection;
        theme.highlight = match color("highlight_bg")? {
            Some(c) => Style::default().bg(c),
            None => Style::default().add_modifier(Modifier::UNDERLINED),
        };
        theme.error = fg("error")?.add_modifier(Modifier::BOLD);
        theme.warning = fg("warning")?;
        theme.ok = fg("ok")?;
        theme.live = fg("live")?.add_modifier(Modifier::BOLD);
        theme.paused = fg("paused")?.add_modifier(Modifier::BOLD);
        theme.key = fg("key")?.add_modifier(Modifier::BOLD);
        theme.bar = fg("bar")?;
        theme.timestamp = fg("timestamp")?;
        theme.field_name = fg("field_name")?;
        theme.json_key = fg("json_key")?;
        theme.json_string = fg("json_string")?;
        theme.json_number = fg("json_number")?;
        theme.json_literal = fg("json_literal")?;
        for (k, v) in &file.series {
            let c = Color::from_str(v).map_err(|_| format!("invalid colour '{v}' for series {k}"))?;
            theme.series.insert(k.to_lowercase(), c);
        }
        if let Some(p) = file.palette {
            for v in &p.colors {
                theme.palette.push(Color::from_str(v).map_err(|_| format!("invalid palette colour '{v}'"))?);
            }
        }
        Ok(theme)
    }

    /// The same theme with every colour removed, keeping modifiers (for `NO_COLOR`).
    pub fn without_colors(&self) -> Theme {
        let mut t = Theme::plain();
        t.name = self.name.clone();
        t
    }

    /// The style of a histogram / chart series (`2xx`, `error`, or any value), given its index
    /// among the series shown (for palette colours).
    pub fn series_style(&self, name: &str, index: usize) -> Style {
        if !self.colored {
            return Style::default();
        }
        let key = name.to_lowercase();
        let color = self.series.get(&key).copied().or_else(|| {
            (!self.palette.is_empty()).then(|| self.palette[index % self.palette.len()])
        });
        match color {
            Some(c) => Style::default().fg(c),
            None => self.bar,
        }
    }

    /// The glyph that fills a series' bar: a full block with colours; without colours a
    /// different shade per series so stacked series stay distinguishable.
    pub fn series_fill(&self, index: usize) -> &'static str {
        if self.colored { "█" } else { NO_COLOR_FILLS[index % NO_COLOR_FILLS.len()] }
    }

    /// Style for an HTTP status code or level value shown in the table.
    pub fn value_style(&self, field_role: Option<ValueRole>, value: &str) -> Style {
        match field_role {
            Some(ValueRole::Status) => match status_class(value) {
                Some(class) => self.series_style(&class, 0),
                None => self.text,
            },
            Some(ValueRole::Level) => {
                let key = value.to_lowercase();
                if self.series.contains_key(&key) { self.series_style(&key, 0) } else { self.text }
            }
            None => self.text,
        }
    }
}

/// How a column's values are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRole {
    /// HTTP status: coloured by class.
    Status,
    /// Log level: coloured by severity.
    Level,
}

pub use logsleuth_core::model::status_class;

const UI_KEYS: [&str; 24] = [
    "text", "background", "muted", "accent", "border", "border_focus", "title", "selection_fg", "selection_bg",
    "highlight_bg", "error", "warning", "ok", "live", "paused", "key", "bar", "timestamp", "field_name", "json_key",
    "json_string", "json_number", "json_literal", "bold_focus",
];

fn user_theme_path(config_dir: &Path, name: &str) -> PathBuf {
    config_dir.join("themes").join(format!("{name}.toml"))
}

/// Names of all themes: built-in ones, then user themes found in `<config_dir>/themes/`.
pub fn available_themes(config_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_THEMES.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(dir) = config_dir
        && let Ok(entries) = std::fs::read_dir(dir.join("themes"))
    {
        let mut user: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".toml")).map(str::to_string))
            .filter(|n| !names.contains(n))
            .collect();
        user.sort();
        names.extend(user);
    }
    names
}

/// The user's logsleuth config directory: `$XDG_CONFIG_HOME/logsleuth` when that variable
/// holds an absolute path, else the platform's config dir (`~/.config/logsleuth` on Linux).
/// The config file, themes, workspaces and saved searches live there.
pub fn default_config_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    xdg.or_else(dirs::config_dir).map(|d| d.join("logsleuth"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_colours_status_classes() {
        for (name, text) in BUILTIN_THEMES {
            let theme = Theme::from_toml(text, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, name);
            for class in ["1xx", "2xx", "3xx", "4xx", "5xx", "error", "warn", "info"] {
                assert!(theme.series.contains_key(class), "{name} lacks {class}");
            }
            assert_ne!(theme.series_style("2xx", 0), theme.series_style("5xx", 0), "{name}");
        }
    }

    #[test]
    fn no_color_keeps_modifiers_only() {
        let t = Theme::load(Some("light"), None, true).unwrap();
        assert!(!t.colored);
        for style in [t.text, t.selection, t.error, t.series_style("5xx", 0), t.border_focus] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
        assert_ne!(t.series_fill(0), t.series_fill(1));
    }

    #[test]
    fn unknown_theme_lists_the_available_ones_and_user_themes_load() {
        let dir = tempfile::tempdir().unwrap();
        let err = Theme::load(Some("solarized"), Some(dir.path()), false).unwrap_err();
        assert!(err.to_string().contains("dark, light, high-contrast"), "{err}");
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        std::fs::write(
            dir.path().join("themes/solarized.toml"),
            "name = \"solarized\"\n[ui]\ntext = \"#839496\"\n[series]\n\"5xx\" = \"#dc322f\"\n",
        )
        .unwrap();
        let t = Theme::load(Some("solarized"), Some(dir.path()), false).unwrap();
        assert_eq!(t.text.fg, Some(Color::Rgb(0x83, 0x94, 0x96)));
        assert_eq!(t.series_style("5xx", 0).fg, Some(Color::Rgb(0xdc, 0x32, 0x2f)));
        assert!(available_themes(Some(dir.path())).contains(&"solarized".to_string()));
    }

    #[test]
    fn invalid_colours_and_keys_are_reported() {
        assert!(Theme::from_toml("[ui]\ntext = \"notacolour\"\n", true).unwrap_err().contains("notacolour"));
        assert!(Theme::from_toml("[ui]\ntxet = \"red\"\n", true).unwrap_err().contains("ui.txet"));
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class("404").as_deref(), Some("4xx"));
        assert_eq!(status_class("200 ").as_deref(), Some("2xx"));
        assert_eq!(status_class("20"), None);
        assert_eq!(status_class("600"), None);
        assert_eq!(status_class("abc"), None);
    }
}
