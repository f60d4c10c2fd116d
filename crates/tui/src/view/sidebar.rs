//! The field sidebar: every field, and under the selected one its top 5 values in the loaded
//! sample with their share, or (`x`) its exact top values over the whole query and range,
//! marked as such, with the field's distinct count where the backend gives it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{block, layout, safe};
use super::thousands;
use crate::app::{App, ExactValues, FIELD_SAMPLE, Mode, Pane};

/// A row of the sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Field `i` of `field_stats`.
    Field(usize),
    /// Value `j` of field `i`.
    Value(usize, usize),
}

/// The values shown under the selected field: `(value, count, share %)`, and whether they
/// are the exact ones.
pub fn shown_values(pane: &Pane) -> (Vec<(String, u64, f64)>, Option<&ExactValues>) {
    let Some(stat) = pane.field_stats.get(pane.field_cursor) else { return (vec![], None) };
    if let Some(exact) = pane.exact_values.as_ref().filter(|e| e.field == stat.name) {
        let values = match &exact.result {
            Some(Ok(top)) => top
                .buckets
                .iter()
                .map(|b| (b.value.clone(), b.count, if top.total == 0 { 0.0 } else { b.count as f64 * 100.0 / top.total as f64 }))
                .collect(),
            _ => vec![],
        };
        return (values, Some(exact));
    }
    let sample = pane.records.len().min(FIELD_SAMPLE);
    let values = stat
        .top
        .iter()
        .map(|(v, c)| (v.clone(), *c as u64, if sample == 0 { 0.0 } else { *c as f64 * 100.0 / sample as f64 }))
        .collect();
    (values, None)
}

/// All rows: fields, with the selected field's values under it.
pub fn rows(pane: &Pane) -> Vec<Row> {
    let mut out = Vec::new();
    let shown = shown_values(pane).0.len();
    for i in 0..pane.field_stats.len() {
        out.push(Row::Field(i));
        if i == pane.field_cursor {
            out.extend((0..shown).map(|j| Row::Value(i, j)));
        }
    }
    out
}

/// First row shown so the selected field and its values fit in `height` rows.
pub fn scroll(pane: &Pane, rows: &[Row], height: usize) -> usize {
    let Some(sel) = rows.iter().position(|r| *r == Row::Field(pane.field_cursor)) else { return 0 };
    let values = shown_values(pane).0.len();
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
    let (values, exact) = shown_values(pane);
    let what = match exact.map(|e| &e.result) {
        None => format!("· top 5 of {sample} "),
        Some(None) => "· exact: counting… ".to_string(),
        Some(Some(Err(_))) => "· exact: failed ".to_string(),
        Some(Some(Ok(top))) => {
            let bound = top.error_bound.map(|b| format!(" ±{}", thousands(b))).unwrap_or_default();
            let kind = if top.error_bound.is_some() || top.partial { "approx." } else { "exact" };
            format!("· {kind} of {}{bound} ", thousands(top.total))
        }
    };
    let title = Line::from(vec![Span::raw(" Fields "), Span::styled(what, theme.muted)]);
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
                // The distinct count of exact values, right-aligned where the name leaves room.
                if selected
                    && let Some(Some(Ok(top))) = exact.map(|e| &e.result)
                    && let Some(d) = top.distinct
                {
                    // A server's estimate (ES `cardinality`) says so.
                    let note = format!("{}{} distinct", if top.distinct_estimated { "≈" } else { "" }, thousands(d));
                    let name_w = unicode_width::UnicodeWidthStr::width(stat.name.as_str()) + 2;
                    let note_w = unicode_width::UnicodeWidthStr::width(note.as_str());
                    if name_w + note_w < w {
                        buf.set_string(inner.x + (w - note_w) as u16, y, &note, style.patch(theme.muted));
                    }
                }
            }
            Row::Value(_, j) => {
                let Some((value, _, share)) = values.get(j) else { continue };
                let share = *share;
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
