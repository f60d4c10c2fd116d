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

/// Formats a record time for the table, in full.
pub fn time_text(record: &Record) -> String {
    time_text_as(record, TimeFormat::FULL)
}

/// Formats a record time in `format`.
pub fn time_text_as(record: &Record, format: TimeFormat) -> String {
    match record.timestamp {
        Some(ts) => chrono::DateTime::from_timestamp_nanos(ts).format(format.pattern).to_string(),
        None => "-".into(),
    }
}

/// How the time column shows times: a chrono pattern and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeFormat {
    /// The chrono pattern.
    pub pattern: &'static str,
    /// Its width in columns.
    pub width: usize,
}

impl TimeFormat {
    /// `2015-05-17 08:05:32.123`.
    pub const FULL: TimeFormat = TimeFormat { pattern: "%Y-%m-%d %H:%M:%S%.3f", width: TIME_WIDTH };
    /// `2015-05-17 08:05:32`.
    pub const SECONDS: TimeFormat = TimeFormat { pattern: "%Y-%m-%d %H:%M:%S", width: 19 };
    /// `08:05:32.123`.
    pub const CLOCK_MILLIS: TimeFormat = TimeFormat { pattern: "%H:%M:%S%.3f", width: 12 };
    /// `08:05:32`.
    pub const CLOCK: TimeFormat = TimeFormat { pattern: "%H:%M:%S", width: 8 };
}

/// The time format for `records` when the other columns need `fits(time width)` to hold: the
/// full format when they fit beside it; else, first, without the milliseconds when every
/// loaded time shows `.000`, then without the date when the loaded times lie within one day
/// (less than 24 hours apart: a clock time then names one instant of the range the status
/// line shows). Nothing the times differ by is ever dropped.
pub fn time_format(records: &[Record], fits: impl Fn(usize) -> bool) -> TimeFormat {
    if fits(TimeFormat::FULL.width) || records.is_empty() {
        return TimeFormat::FULL;
    }
    let times = records.iter().filter_map(|r| r.timestamp);
    let on_second = times.clone().all(|t| t.rem_euclid(1_000_000_000) < 1_000_000);
    let (min, max) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let one_day = min <= max && max.saturating_sub(min) < 86_400 * 1_000_000_000;
    let seconds = if on_second { TimeFormat::SECONDS } else { TimeFormat::FULL };
    if fits(seconds.width) || !one_day {
        return seconds;
    }
    if on_second { TimeFormat::CLOCK } else { TimeFormat::CLOCK_MILLIS }
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
    let mut widths = natural_widths(columns, rows);
    let available = total.saturating_sub(columns.len().saturating_sub(1));
    // The last column (often the message) keeps a useful minimum; the others shrink first.
    let last_min = widths.last().copied().unwrap_or(0).min(LAST_MIN);
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

/// Narrowest the last column gets while the others keep their width.
const LAST_MIN: usize = 10;

/// Each column as wide as its header and content, capped at [`MAX_COLUMN`].
fn natural_widths(columns: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows.iter().map(|r| unicode_width::UnicodeWidthStr::width(r[i].as_str())).max().unwrap_or(0);
            content.max(c.chars().count()).clamp(1, MAX_COLUMN)
        })
        .collect()
}

/// Whether the columns fit in `total` without cutting any, the last one included (up to
/// [`MAX_COLUMN`] of it: a message is as long as it is).
pub fn columns_fit(columns: &[String], rows: &[Vec<String>], total: usize) -> bool {
    let available = total.saturating_sub(columns.len().saturating_sub(1));
    natural_widths(columns, rows).iter().sum::<usize>() <= available
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
    // A narrow screen shortens the time before it cuts the columns that differ by row.
    let rest_beside = |time_w: usize| (inner.width as usize).saturating_sub(time_w + 1);
    let time = time_format(&pane.records, |w| columns_fit(&pane.columns, &cells, rest_beside(w)));
    let time_w = time.width;
    let widths = column_widths(&pane.columns, &cells, rest_beside(time_w));

    // Header.
    let mut x = inner.x;
    let header_style = theme.title;
    buf.set_stringn(x, inner.y, format!("{:<time_w$}", "time"), time_w, header_style);
    x += time_w as u16 + 1;
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
        buf.set_stringn(x, y, time_text_as(record, time), time_w, time_style);
        x += time_w as u16 + 1;
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
    fn the_time_shortens_first_and_only_by_what_no_row_differs_in() {
        let at = |s: &str| Record { timestamp: logsleuth_core::time::parse_absolute(s, None).ok(), ..Record::default() };
        let day = vec![at("2015-05-17T08:05:00Z"), at("2015-05-17T22:50:01Z")];
        assert_eq!(time_format(&day, |_| true), TimeFormat::FULL);
        assert_eq!(time_format(&day, |w| w <= 19), TimeFormat::SECONDS);
        assert_eq!(time_format(&day, |_| false), TimeFormat::CLOCK);
        let two_days = vec![at("2015-05-17T08:05:00Z"), at("2015-05-18T08:05:00Z")];
        assert_eq!(time_format(&two_days, |_| false), TimeFormat::SECONDS);
        // Across midnight, still within a day; sub-millisecond parts show as `.000` too.
        let mut midnight = vec![at("2015-05-17T20:50:00Z"), at("2015-05-18T03:00:00Z")];
        midnight[0].timestamp = midnight[0].timestamp.map(|t| t + 123);
        assert_eq!(time_format(&midnight, |_| false), TimeFormat::CLOCK);
        let millis = vec![at("2015-05-17T08:05:00.250Z"), at("2015-05-17T08:05:01Z")];
        assert_eq!(time_format(&millis, |w| w <= 19), TimeFormat::CLOCK_MILLIS);
        assert_eq!(time_text_as(&millis[0], TimeFormat::CLOCK_MILLIS), "08:05:00.250");
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
