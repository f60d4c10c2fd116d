//! The log table, virtualised: only the rows on screen are formatted, so a pane holding
//! 100,000 records draws as fast as one holding 100.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{SPINNER, block, layout, safe, thousands};
use logsleuth_core::model::Record;
use crate::app::{App, Element, Mode, Pane};
use crate::theme::ValueRole;

/// Width of the time column (`2015-05-17 08:05:32.123`).
pub const TIME_WIDTH: usize = 23;
/// Widest any non-last column gets.
const MAX_COLUMN: usize = 40;

/// The rows on screen for a body of `height` rows.
pub fn visible_rows(pane: &Pane, height: usize) -> Range<usize> {
    let start = pane.offset.min(pane.records.len());
    start..(start + height).min(pane.records.len())
}

/// The text of a cell: the message, or the field's value (`-` when absent).
pub fn cell_text(record: &Record, column: &str) -> String {
    if column == "message" {
        return record.message.clone();
    }
    match record.get(column) {
        Some(v) => v.as_text(),
        None => "-".into(),
    }
}

/// Formats a record time for the table.
pub fn time_text(record: &Record) -> String {
    match record.timestamp {
        Some(ts) => chrono::DateTime::from_timestamp_nanos(ts).format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => "-".into(),
    }
}

fn role_of(pane: &Pane, column: &str) -> Option<ValueRole> {
    let r = &pane.info.roles;
    if r.status.as_deref() == Some(column) {
        Some(ValueRole::Status)
    } else if r.level.as_deref() == Some(column) {
        Some(ValueRole::Level)
    } else {
        None
    }
}

/// Column widths for the visible rows: each column as wide as its content (capped); the last
/// column takes the rest. When they do not fit, the widest columns shrink first.
pub fn column_widths(columns: &[String], rows: &[Vec<String>], total: usize) -> Vec<usize> {
    const MIN: usize = 4;
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows.iter().map(|r| unicode_width::UnicodeWidthStr::width(r[i].as_str())).max().unwrap_or(0);
            content.max(c.chars().count()).clamp(1, MAX_COLUMN)
        })
        .collect();
    let available = total.saturating_sub(columns.len().saturating_sub(1));
    // The last column (often the message) keeps a useful minimum; the others shrink first.
    let last_min = widths.last().copied().unwrap_or(0).min(10);
    let n = widths.len().saturating_sub(1);
    while widths[..n].iter().sum::<usize>() + last_min > available {
        let Some((i, _)) = widths[..n].iter().enumerate().filter(|(_, w)| **w > MIN).max_by_key(|(i, w)| (**w, *i)) else {
            break;
        };
        widths[i] -= 1;
    }
    let others: usize = widths.iter().take(widths.len().saturating_sub(1)).sum();
    if let Some(last) = widths.last_mut() {
        *last = available.saturating_sub(others).max(1);
    }
    widths
}

/// Draws the table block.
pub fn render(frame: &mut Frame, app: &App, index: usize, area: Rect) {
    let theme = &app.theme;
    let pane = &app.panes[index];
    let is_focus = index == app.focus;
    let focused = is_focus && app.mode == Mode::Normal && pane.element == Element::Table;
    let mut title = vec![Span::raw(" Documents ")];
    if let Some(total) = pane.total {
        title.push(Span::styled(format!("· {} hits ", hit_text(total)), theme.muted));
    }
    if !pane.records.is_empty() {
        title.push(Span::styled(
            format!("· row {} of {} loaded ", thousands(pane.selected as u64 + 1), thousands(pane.records.len() as u64)),
            theme.muted,
        ));
    }
    if pane.loading.search || pane.loading.page {
        title.push(Span::styled(format!("{} ", SPINNER[app.spinner % SPINNER.len()]), theme.accent));
    }
    let b = block(theme, Line::from(title), focused);
    frame.render_widget(b, area);
    let inner = layout::inner(area);
    let body = layout::table_body(area);
    let buf = frame.buffer_mut();
    if pane.records.is_empty() {
        let msg = if pane.loading.search {
            "searching…"
        } else if pane.opening {
            "opening the source…"
        } else if let Some(e) = pane.error.as_ref().filter(|_| !is_focus) {
            // Another pane has the status line: say here what went wrong.
            let text = safe(&format!("error: {e}"), body.width.saturating_sub(2) as usize);
            buf.set_stringn(body.x + 1, body.y, text, body.width.saturating_sub(1) as usize, theme.error);
            return;
        } else if pane.error.is_some() {
            "the query failed (see the status line)"
        } else {
            "no matching events in this time range"
        };
        buf.set_string(body.x + 1, body.y, msg, theme.muted);
        return;
    }
    let rows_range = visible_rows(pane, body.height as usize);
    let visible = &pane.records[rows_range.clone()];
    // Only the visible rows are turned into text.
    let cells: Vec<Vec<String>> = visible
        .iter()
        .map(|r| pane.columns.iter().map(|c| logsleuth_core::text::sanitize(&cell_text(r, c)).into_owned()).collect())
        .collect();
    let rest = (inner.width as usize).saturating_sub(TIME_WIDTH + 1);
    let widths = column_widths(&pane.columns, &cells, rest);

    // Header.
    let mut x = inner.x;
    let header_style = theme.title;
    buf.set_stringn(x, inner.y, format!("{:<TIME_WIDTH$}", "time"), TIME_WIDTH, header_style);
    x += TIME_WIDTH as u16 + 1;
    for (c, w) in pane.columns.iter().zip(&widths) {
        buf.set_stringn(x, inner.y, safe(c, *w), *w, header_style);
        x += *w as u16 + 1;
    }

    // The line nearest the instant under another pane's cursor stands out instead of this
    // pane's own selection.
    let instant_row = app
        .instant
        .filter(|m| m.pane != pane.id && !is_focus && pane.linked)
        .and_then(|m| crate::panes::nearest_row(pane, m.time));
    for (i, (record, row)) in visible.iter().zip(&cells).enumerate() {
        let index = rows_range.start + i;
        let y = body.y + i as u16;
        let selected = if instant_row.is_some() { instant_row == Some(index) } else { index == pane.selected };
        let row_style = if selected {
            if focused || (is_focus && app.mode == Mode::Detail) { theme.selection } else { theme.highlight }
        } else {
            Style::default()
        };
        if selected {
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), row_style);
        }
        if crate::investigate::is_marked(app, pane.id, record) {
            // In the left border: marks add no column, so the layout stays the same.
            buf.set_string(area.x, y, super::marks::MARKER, theme.accent);
        }
        let mut x = inner.x;
        let pick = |s: Style| if selected && (focused || (is_focus && app.mode == Mode::Detail)) { theme.selection } else { s };
        let time_style = if instant_row == Some(index) {
            theme.accent.add_modifier(ratatui::style::Modifier::BOLD | ratatui::style::Modifier::UNDERLINED)
        } else {
            pick(theme.timestamp)
        };
        buf.set_stringn(x, y, time_text(record), TIME_WIDTH, time_style);
        x += TIME_WIDTH as u16 + 1;
        for ((c, text), w) in pane.columns.iter().zip(row).zip(&widths) {
            let style = pick(theme.value_style(role_of(pane, c), text));
            let shown = super::fit_width(text, *w);
            buf.set_stringn(x, y, shown, *w, style);
            x += *w as u16 + 1;
        }
    }
}

/// `51,462` or `≥ 10,000`.
pub fn hit_text(total: logsleuth_sources::HitCount) -> String {
    match total {
        logsleuth_sources::HitCount::Exact(n) => thousands(n),
        logsleuth_sources::HitCount::AtLeast(n) => format!("≥ {}", thousands(n)),
    }
}

/// Column labels used by the table: `time` then the pane's columns.
pub fn header(pane: &Pane) -> Vec<String> {
    std::iter::once("time".to_string()).chain(pane.columns.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_column_takes_the_rest() {
        let cols = vec!["status".to_string(), "path".to_string()];
        let rows = vec![vec!["200".to_string(), "/a".to_string()]];
        assert_eq!(column_widths(&cols, &rows, 50), vec![6, 43]);
    }

    #[test]
    fn widest_columns_shrink_when_they_do_not_fit() {
        let cols: Vec<String> = ["status", "path", "client", "agent"].map(String::from).to_vec();
        let rows = vec![vec!["200".into(), "/downloads/product_1".into(), "192.168.100.200".into(), "Debian APT".into()]];
        let w = column_widths(&cols, &rows, 40);
        assert_eq!(w.iter().sum::<usize>() + 3, 40, "{w:?}");
        assert_eq!(w[0], 6, "narrow columns keep their width: {w:?}");
        assert!(w[1] < 20 && w[2] < 15, "{w:?}");
        assert!(w[3] >= 10, "the last column keeps room: {w:?}");
    }
}
