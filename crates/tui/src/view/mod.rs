//! Rendering: pure functions of the state into a ratatui [`Frame`]. Every string that came
//! from a log or a server passes through [`safe`] before it is drawn.

pub mod charts;
pub mod comparison;
pub mod detail;
pub mod help;
pub mod histogram;
/// The geometry moved to `crate::layout` (views and reducers share it); kept here for callers.
pub use crate::layout;
pub mod marks;
pub mod patterns;
pub mod picker;
pub mod prompt;
pub mod saved;
pub mod query_bar;
pub mod sidebar;
pub mod source_picker;
pub mod status;
pub mod table;
pub mod tabs;
pub mod thread;
pub mod watches;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::app::{App, Mode};
use super::theme::Theme;

/// Spinner frames for long work.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let screen = layout::screen_layout(app);
    let buf = frame.buffer_mut();
    buf.set_style(app.viewport, app.theme.text);
    match app.mode {
        Mode::Detail => detail::render(frame, app, layout::overlay_area(app)),
        Mode::Charts => charts::render(frame, app, layout::overlay_area(app)),
        _ => {
            if let Some(area) = screen.tabs {
                tabs::render(frame, app, area);
            }
            // The focused pane last, so its completion popup lies over its neighbours.
            let mut panes = screen.panes.clone();
            panes.sort_by_key(|(i, _)| *i == app.focus);
            for (index, area) in panes {
                let l = layout::pane_layout(app, index, area, screen.status);
                if let Some(s) = l.sidebar {
                    sidebar::render(frame, app, index, s);
                }
                if let Some(h) = l.histogram {
                    histogram::render(frame, app, index, h);
                }
                table::render(frame, app, index, l.table);
                query_bar::render(frame, app, index, &l);
            }
        }
    }
    status::render(frame, app, screen.status);
    match app.mode {
        Mode::Help => help::render(frame, app),
        Mode::TimePicker => picker::render(frame, app),
        Mode::SourcePicker => source_picker::render(frame, app),
        Mode::Prompt => prompt::render(frame, app),
        Mode::Marks => marks::render(frame, app),
        Mode::Export => prompt::render_export(frame, app),
        Mode::SavedSearches => saved::render(frame, app),
        Mode::Thread => thread::render(frame, app),
        Mode::Watches => watches::render(frame, app),
        Mode::Patterns => patterns::render(frame, app),
        Mode::Comparison => comparison::render(frame, app),
        _ => {}
    }
}

/// Like [`safe`], but cuts the middle out, keeping both ends (chart labels: user agents).
pub fn safe_middle(text: &str, max_chars: usize) -> String {
    logsleuth_core::text::truncate_middle(&logsleuth_core::text::sanitize(text), max_chars).into_owned()
}

/// Log text made safe to draw: escapes control characters and cuts to `max_chars` with a
/// marker.
pub fn safe(text: &str, max_chars: usize) -> String {
    let clean = logsleuth_core::text::sanitize(text);
    match logsleuth_core::text::truncate_chars(&clean, max_chars) {
        Cow::Borrowed(s) => s.to_string(),
        Cow::Owned(s) => s,
    }
}

/// Cuts already-sanitized text to at most `width` terminal columns (wide characters count
/// two), ending with the truncation marker when cut.
pub fn fit_width(text: &str, width: usize) -> Cow<'_, str> {
    use unicode_width::UnicodeWidthChar;
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(logsleuth_core::text::TRUNCATION_MARKER);
    Cow::Owned(out)
}

/// A bordered block with the theme's border (focused or not) and a title.
pub fn block<'a>(theme: &Theme, title: impl Into<ratatui::text::Line<'a>>, focused: bool) -> Block<'a> {
    let border = if focused { theme.border_focus } else { theme.border };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(border)
        .title(title.into().style(theme.title))
}

/// A line of key hints, ` Enter open  ↑↓ choose  Esc cancel`: each key in the key style,
/// what it does muted.
pub fn key_hints(theme: &Theme, keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (i, (key, what)) in keys.iter().enumerate() {
        let lead = if i == 0 { " " } else { "" };
        let gap = if i + 1 < keys.len() { "  " } else { "" };
        spans.push(Span::styled(format!("{lead}{key} "), theme.key));
        spans.push(Span::styled(format!("{what}{gap}"), theme.muted));
    }
    Line::from(spans)
}

/// Draws `lines` in a focused, bordered popup `width` wide, as tall as they need, centred in
/// `outer` over what is beneath; returns its area.
pub fn popup<'a>(frame: &mut Frame, theme: &Theme, outer: Rect, width: u16, title: impl Into<Line<'a>>, lines: Vec<Line<'a>>) -> Rect {
    let area = layout::centered(outer, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block(theme, title, true)), area);
    area
}

/// Counts with thousands separators: `51462` → `51,462`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Compact counts for axes: `950`, `1.2k`, `35k`, `1.5M`.
pub fn compact(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => format!("{:.1}k", n as f64 / 1e3),
        10_000..=999_999 => format!("{}k", n / 1_000),
        1_000_000..=9_999_999 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// Style helper: the selection style when `selected`, else `base`.
pub fn selected_or(theme: &Theme, selected: bool, base: Style) -> Style {
    if selected { theme.selection } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(51_462), "51,462");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(compact(1_234), "1.2k");
        assert_eq!(compact(35_000), "35k");
        assert_eq!(compact(10_000_000), "10M");
    }

    #[test]
    fn fit_width_counts_wide_characters() {
        assert_eq!(fit_width("abc", 3), "abc");
        assert_eq!(fit_width("日本語のログ", 7), "日本語…");
        assert_eq!(fit_width("abcdef", 4), "abc…");
        assert_eq!(fit_width("abc", 0), "");
    }

    #[test]
    fn safe_escapes_then_truncates() {
        assert_eq!(safe("a\x1b[31mb", 100), "a\\e[31mb");
        assert_eq!(safe("abcdef", 4), "abc…");
    }
}
