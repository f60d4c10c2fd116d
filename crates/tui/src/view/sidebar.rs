//! The field sidebar: every field, and under the selected one its top 5 values in the loaded
//! sample with their share.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{block, layout, safe};
use crate::app::{App, FIELD_SAMPLE, Mode, Pane};

/// A row of the sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Field `i` of `field_stats`.
    Field(usize),
    /// Value `j` of field `i`.
    Value(usize, usize),
}

/// All rows: fields, with the selected field's values under it.
pub fn rows(pane: &Pane) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, f) in pane.field_stats.iter().enumerate() {
        out.push(Row::Field(i));
        if i == pane.field_cursor {
            out.extend((0..f.top.len()).map(|j| Row::Value(i, j)));
        }
    }
    out
}

/// First row shown so the selected field and its values fit in `height` rows.
pub fn scroll(pane: &Pane, rows: &[Row], height: usize) -> usize {
    let Some(sel) = rows.iter().position(|r| *r == Row::Field(pane.field_cursor)) else { return 0 };
    let values = pane.field_stats.get(pane.field_cursor).map_or(0, |f| f.top.len());
    let end = sel + values + 1;
    if end > height { (end - height).min(sel) } else { 0 }
}

/// The field index at a row of the sidebar's inner area (for mouse clicks).
pub fn field_at_row(pane: &Pane, height: usize, row: usize) -> Option<usize> {
    let rows = rows(pane);
    let top = scroll(pane, &rows, height);
    match rows.get(top + row)? {
        Row::Field(i) | Row::Value(i, _) => Some(*i),
    }
}

/// Draws the sidebar.
pub fn render(frame: &mut Frame, app: &App, index: usize, area: Rect) {
    let theme = &app.theme;
    let pane = &app.panes[index];
    let focused = index == app.focus && app.mode == Mode::Fields;
    let sample = pane.records.len().min(FIELD_SAMPLE);
    let title = Line::from(vec![
        Span::raw(" Fields "),
        Span::styled(format!("· top 5 of {sample} "), theme.muted),
    ]);
    let b = block(theme, title, focused);
    frame.render_widget(b, area);
    let inner = layout::inner(area);
    let buf = frame.buffer_mut();
    if pane.field_stats.is_empty() {
        buf.set_string(inner.x + 1, inner.y, "no fields yet", theme.muted);
        return;
    }
    let rows = rows(pane);
    let top = scroll(pane, &rows, inner.height as usize);
    let w = inner.width as usize;
    for (i, row) in rows.iter().skip(top).take(inner.height as usize).enumerate() {
        let y = inner.y + i as u16;
        match *row {
            Row::Field(f) => {
                let stat = &pane.field_stats[f];
                let selected = f == pane.field_cursor;
                let marker = if pane.columns.contains(&stat.name) { "▪" } else { " " };
                let style = if selected && focused {
                    theme.selection
                } else if selected {
                    theme.highlight.patch(theme.field_name)
                } else {
                    theme.field_name
                };
                if selected {
                    buf.set_style(Rect::new(inner.x, y, inner.width, 1), style);
                }
                buf.set_stringn(inner.x, y, marker, 1, theme.accent);
                buf.set_stringn(inner.x + 1, y, safe(&stat.name, w.saturating_sub(2)), w.saturating_sub(1), style);
            }
            Row::Value(f, j) => {
                let stat = &pane.field_stats[f];
                let (value, count) = &stat.top[j];
                let share = if sample == 0 { 0.0 } else { *count as f64 * 100.0 / sample as f64 };
                let pct = format!("{share:>4.0}%");
                let bar_w = 4usize;
                let filled = ((share / 100.0) * bar_w as f64).round() as usize;
                let text_w = w.saturating_sub(pct.len() + bar_w + 4);
                let line = Line::from(vec![
                    Span::raw("   "),
                    Span::styled(format!("{:<text_w$}", safe(value, text_w)), theme.text),
                    Span::styled("▮".repeat(filled), theme.bar),
                    Span::styled("·".repeat(bar_w - filled.min(bar_w)), theme.muted),
                    Span::styled(pct, theme.muted),
                ]);
                buf.set_line(inner.x, y, &line, inner.width);
            }
        }
    }
}
