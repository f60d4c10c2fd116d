//! The marks list popup and the table's mark gutter.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{fit_width, key_hints, layout, popup, safe};
use crate::app::App;
use crate::investigate::mark_label;

/// The symbol in the table's left border next to a marked line.
pub const MARKER: &str = "◆";

/// Draws the marks list.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(8).clamp(40, 110);
    let inner_w = width as usize - 2;
    let visible = (outer.height.saturating_sub(8) as usize).max(3) / 2;
    let cursor = app.investigate.marks_cursor;
    let start = (cursor + 1).saturating_sub(visible);
    let mut lines = Vec::new();
    if app.marks.is_empty() {
        lines.push(Line::from(Span::styled(" No marks yet: m on a table line or a histogram span adds one.", theme.muted)));
    }
    for (i, m) in app.marks.iter().enumerate().skip(start).take(visible) {
        let selected = i == cursor;
        let style = if selected { theme.selection } else { theme.text };
        let note = if m.note.is_empty() { "(no note)".to_string() } else { safe(&m.note, 200) };
        let head = format!(" {MARKER} {} · {note}", mark_label(app, m));
        lines.push(Line::from(Span::styled(format!("{:<inner_w$}", fit_width(&head, inner_w)), style)));
        let what = match (&m.line, m.count) {
            (Some(r), _) => safe(&r.message, 400),
            (None, Some(n)) => format!("span: {n} events"),
            (None, None) => String::new(),
        };
        lines.push(Line::from(Span::styled(format!("     {}", fit_width(&what, inner_w.saturating_sub(5))), theme.muted)));
    }
    lines.push(Line::raw(""));
    lines.push(key_hints(theme, &[("Enter", "jump"), ("e", "edit note"), ("d", "delete"), ("Esc", "close")]));
    popup(frame, theme, outer, width, format!(" Marks ({}) ", app.marks.len()), lines);
}
