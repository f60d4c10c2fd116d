//! Top-N charts: horizontal bars with counts and share, an "other" row, and a "partial" label
//! when the source computed them from a sample.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{SPINNER, block, key_hints, layout, safe, safe_middle, thousands};
use logsleuth_core::model::TopResult;
use crate::app::App;

/// Draws the charts screen over `area`.
pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let pane = app.pane();
    let c = &pane.charts;
    let [grid, hints] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let n = c.fields.len();
    if n == 0 {
        frame.render_widget(block(theme, " Top values ", true), grid);
        frame.buffer_mut().set_string(grid.x + 2, grid.y + 1, "no fields to chart", theme.muted);
        return;
    }
    let per_row = if grid.width >= 120 && n > 1 { 2 } else { 1 };
    let rows = n.div_ceil(per_row);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(grid);
    for (i, field) in c.fields.iter().enumerate() {
        let row = row_areas[i / per_row];
        // The last chart of an odd number takes its whole row: no quadrant is left empty.
        let in_row = if i / per_row == rows - 1 { n - (rows - 1) * per_row } else { per_row };
        let cols = Layout::horizontal(vec![Constraint::Ratio(1, in_row as u32); in_row]).split(row);
        let cell = cols[i % per_row];
        let selected = i == c.selected;
        render_chart(frame, app, cell, field, c.results.get(field), selected);
    }
    let hint = key_hints(theme, &[("Tab", "next chart"), ("j k", "select"), ("+", "filter for"), ("-", "filter out"), ("Esc", "close")]);
    frame.render_widget(Paragraph::new(hint), hints);
}

fn render_chart(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    field: &str,
    result: Option<&Result<TopResult, String>>,
    selected: bool,
) {
    let theme = &app.theme;
    let mut title = vec![Span::raw(format!(" Top {} ", safe(field, 40)))];
    if let Some(Ok(t)) = result {
        title.push(Span::styled(format!("· {} events ", thousands(t.total)), theme.muted));
        if t.partial {
            title.push(Span::styled("partial ", theme.warning));
        }
        if let Some(e) = t.error_bound {
            title.push(Span::styled(format!("±{} ", thousands(e)), theme.warning));
        }
    }
    frame.render_widget(block(theme, Line::from(title), selected), area);
    let inner = layout::inner(area);
    let buf = frame.buffer_mut();
    let t = match result {
        None => {
            buf.set_string(inner.x + 1, inner.y, format!("{} loading…", SPINNER[app.spinner % SPINNER.len()]), theme.accent);
            return;
        }
        Some(Err(e)) => {
            buf.set_stringn(inner.x + 1, inner.y, safe(e, 500), inner.width as usize, theme.error);
            return;
        }
        Some(Ok(t)) => t,
    };
    let lines = bar_lines(t, inner.width as usize);
    let bar_sel = if selected { Some(app.pane().charts.bar) } else { None };
    for (i, (label, bar_len, tail, is_other)) in lines.iter().enumerate().take(inner.height as usize) {
        let y = inner.y + i as u16;
        let label_style = if bar_sel == Some(i) && !is_other { theme.selection } else { theme.text };
        let series = bar_series(field, t, i);
        let bar_style = if *is_other {
            theme.muted
        } else if series.is_empty() {
            theme.bar
        } else {
            theme.series_style(&series, i)
        };
        let line = Line::from(vec![
            Span::styled(label.clone(), label_style),
            Span::raw(" "),
            Span::styled("█".repeat(*bar_len), bar_style),
            Span::styled(tail.clone(), theme.muted),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
    if let Some(note) = &t.note {
        let y = inner.y + inner.height.saturating_sub(1);
        if lines.len() < inner.height as usize {
            buf.set_stringn(inner.x + 1, y, safe(note, 200), inner.width as usize, theme.warning);
        }
    }
    if t.buckets.is_empty() {
        buf.set_string(inner.x + 1, inner.y, "no values", theme.muted);
    }
}

/// Status codes are coloured by class; other fields use the plain bar colour.
fn bar_series(field: &str, t: &TopResult, i: usize) -> String {
    let v = t.buckets.get(i).map(|b| b.value.as_str()).unwrap_or("");
    match crate::theme::status_class(v) {
        Some(class) if field.contains("status") || field == "response" => class,
        _ => String::new(),
    }
}

/// Rows of a chart: (label, bar length, "count  share" text, is the other row).
pub fn bar_lines(t: &TopResult, width: usize) -> Vec<(String, usize, String, bool)> {
    // Up to half the width for labels: user agents differ only near their end.
    let label_w = t.buckets.iter().map(|b| b.value.chars().count()).max().unwrap_or(5).clamp(5, (width / 2).max(5));
    let max = t.buckets.iter().map(|b| b.count).max().unwrap_or(0).max(t.other.min(1));
    let total = t.total.max(1);
    let tail_w = 18;
    let bar_w = width.saturating_sub(label_w + 1 + tail_w);
    let mut rows: Vec<(String, u64, bool)> = t.buckets.iter().map(|b| (b.value.clone(), b.count, false)).collect();
    if t.other > 0 {
        rows.push(("other".into(), t.other, true));
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(max).max(1);
    rows.into_iter()
        .map(|(v, count, other)| {
            let len = ((count as f64 / max as f64) * bar_w as f64).round() as usize;
            let share = count as f64 * 100.0 / total as f64;
            let label = format!("{:<label_w$}", safe_middle(&v, label_w));
            (label, len.max(usize::from(count > 0)), format!(" {} {share:5.1}%", thousands(count)), other)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::TopBucket;

    #[test]
    fn bars_scale_to_the_largest_and_show_share_and_other() {
        let t = TopResult {
            field: "status".into(),
            total: 100,
            other: 10,
            buckets: vec![TopBucket { value: "200".into(), count: 60 }, TopBucket { value: "404".into(), count: 30 }],
            error_bound: None,
            partial: false,
            note: None,
            distinct: None,
            distinct_estimated: false,
        };
        let rows = bar_lines(&t, 60);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].1, 60 - 5 - 1 - 18);
        assert_eq!(rows[1].1, (rows[0].1 as f64 / 2.0).round() as usize);
        assert!(rows[0].2.contains("60.0%"), "{:?}", rows[0]);
        assert!(rows[2].3 && rows[2].0.starts_with("other"));
    }
}
