//! The time picker: quick ranges and an absolute From / To (RFC 3339 or date math).

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{key_hints, layout, popup, safe};
use crate::app::{App, QUICK_RANGES};
use crate::editor::LineEditor;
use crate::theme::Theme;

fn field_line<'a>(theme: &Theme, label: &'a str, e: &LineEditor, active: bool) -> Line<'a> {
    let text = safe(&e.text, 40);
    let mut spans = vec![Span::styled(format!("  {label:<5} "), if active { theme.accent } else { theme.muted })];
    if active {
        let before: String = text.chars().take(e.cursor).collect();
        let at: String = text.chars().nth(e.cursor).map(String::from).unwrap_or_else(|| " ".into());
        let after: String = text.chars().skip(e.cursor + 1).collect();
        spans.push(Span::styled(before, theme.text));
        spans.push(Span::styled(at, theme.selection));
        spans.push(Span::styled(after, theme.text));
    } else {
        spans.push(Span::styled(text, theme.text));
    }
    Line::from(spans)
}

/// Draws the picker popup.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let p = &app.picker;
    let mut lines = vec![Line::from(Span::styled(" Quick ranges", theme.title))];
    for (i, (label, _)) in QUICK_RANGES.iter().enumerate() {
        let selected = p.field == 0 && p.cursor == i;
        let style = if selected { theme.selection } else { theme.text };
        lines.push(Line::from(vec![Span::raw("  "), Span::styled(format!(" {label:<20}"), style)]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(" Absolute (RFC 3339 or date math: now-2h, now/d)", theme.title)));
    lines.push(field_line(theme, "From", &p.from, p.field == 1));
    lines.push(field_line(theme, "To", &p.to, p.field == 2));
    lines.push(Line::raw(""));
    if let Some(e) = &p.error {
        lines.push(Line::from(Span::styled(format!(" {}", safe(e, 100)), theme.error)));
    } else {
        lines.push(key_hints(theme, &[("Enter", "apply"), ("Tab", "list/From/To"), ("Esc", "close")]));
    }
    popup(frame, theme, layout::overlay_area(app), 56, " Time range ", lines);
}
