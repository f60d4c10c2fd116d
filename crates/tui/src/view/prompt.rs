//! The text prompt popup (notes, file names, search names) and the export menu.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{fit_width, key_hints, layout, popup, safe};
use crate::app::App;
use crate::investigate::{ExportFormat, result_set_summary};
use crate::theme::Theme;

/// Popup width.
const WIDTH: u16 = 72;

/// The editor line with its cursor, cut to `width` around the cursor.
pub fn editor_line<'a>(theme: &Theme, text: &str, cursor: usize, width: usize) -> Line<'a> {
    let clean: Vec<char> = safe(text, 4096).chars().collect();
    let cursor = cursor.min(clean.len());
    // Keep the cursor in view: show the tail when the text is wider than the field.
    let start = (cursor + 1).saturating_sub(width.max(1));
    let before: String = clean[start..cursor].iter().collect();
    let at: String = clean.get(cursor).map(|c| c.to_string()).unwrap_or_else(|| " ".into());
    let after: String = clean.iter().skip(cursor + 1).collect();
    let after = fit_width(&after, width.saturating_sub(before.chars().count() + 1)).into_owned();
    Line::from(vec![Span::styled(before, theme.text), Span::styled(at, theme.selection), Span::styled(after, theme.text)])
}

/// Draws the prompt.
pub fn render(frame: &mut Frame, app: &App) {
    let Some(p) = app.prompt.as_ref() else { return };
    let theme = &app.theme;
    let inner_w = WIDTH as usize - 4;
    let mut lines = Vec::new();
    if let Some(d) = &p.detail {
        lines.push(Line::from(Span::styled(format!(" {}", fit_width(&safe(d, 400), inner_w)), theme.muted)));
        lines.push(Line::raw(""));
    }
    let mut field = editor_line(theme, &p.editor.text, p.editor.cursor, inner_w - 1);
    field.spans.insert(0, Span::raw(" "));
    lines.push(field);
    lines.push(Line::raw(""));
    match &p.error {
        // A rule's error is three lines: the message, the rule, a caret under the mistake.
        Some(e) => {
            for l in e.lines().take(3) {
                lines.push(Line::from(Span::styled(format!(" {}", fit_width(&safe(l, 400), inner_w)), theme.error)));
            }
        }
        None => lines.push(key_hints(theme, &[("Enter", "ok"), ("Esc", "cancel")])),
    }
    popup(frame, theme, layout::overlay_area(app), WIDTH, format!(" {} ", safe(&p.title, 60)), lines);
}

/// `1 pane`, `2 panes`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// Draws the export menu.
pub fn render_export(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let mut lines = vec![Line::raw("")];
    for (i, format) in ExportFormat::ALL.iter().enumerate() {
        let selected = i == app.investigate.export_cursor;
        let style = if selected { theme.selection } else { theme.text };
        lines.push(Line::from(vec![Span::raw(" "), Span::styled(format!(" {:<30}", format.label()), style)]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        format!(" Report: {} with histograms and charts, {}", plural(app.panes.len(), "pane"), plural(app.marks.len(), "mark")),
        theme.muted,
    )));
    lines.push(Line::from(Span::styled(format!(" Result set: {}", result_set_summary(app)), theme.muted)));
    lines.push(Line::raw(""));
    lines.push(key_hints(theme, &[("Enter", "choose"), ("j k", "move"), ("Esc", "close")]));
    popup(frame, theme, layout::overlay_area(app), WIDTH, " Export ", lines);
}
