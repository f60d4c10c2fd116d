//! Events over time: stacked bars per bucket by status class or level, y max, x-axis time
//! labels, the selected span and the cursor.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::layout::{self, Y_AXIS_WIDTH};
use super::{SPINNER, block, compact, thousands};
use logsleuth_core::model::{HistogramResult, Nanos};
use logsleuth_sources::Split;
use crate::app::{App, Element, Mode};

/// Series names in stacking order (bottom first), and per column the counts of each series.
pub struct Columns {
    /// Series, bottom of the stack first.
    pub series: Vec<String>,
    /// For each screen column, counts per series (same order as `series`).
    pub counts: Vec<Vec<u64>>,
}

/// Sums the buckets shown in each of `width` columns.
pub fn columns(h: &HistogramResult, width: usize) -> Columns {
    let mut names: BTreeMap<String, ()> = BTreeMap::new();
    for b in &h.buckets {
        for k in b.split.keys() {
            names.insert(k.clone(), ());
        }
    }
    let split = !names.is_empty();
    let series: Vec<String> = if split { names.into_keys().collect() } else { vec!["events".into()] };
    let n = h.buckets.len();
    let counts = (0..width)
        .map(|col| {
            let mut c = vec![0u64; series.len()];
            for b in &h.buckets[layout::bucket_range(width, n, col)] {
                if split {
                    for (i, s) in series.iter().enumerate() {
                        c[i] += b.split.get(s).copied().unwrap_or(0);
                    }
                    // Events without the split field still count, as "other".
                    let in_split: u64 = b.split.values().sum();
                    if b.count > in_split
                        && let Some(i) = series.iter().position(|s| s == "other")
                    {
                        c[i] += b.count - in_split;
                    }
                } else {
                    c[0] += b.count;
                }
            }
            c
        })
        .collect();
    Columns { series, counts }
}

fn time_label(ns: Nanos, span: Nanos) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(ns);
    if span <= 86_400 * 1_000_000_000 { t.format("%H:%M").to_string() } else { t.format("%m-%d %H:%M").to_string() }
}

/// Draws the histogram block.
pub fn render(frame: &mut Frame, app: &App, index: usize, area: Rect) {
    let theme = &app.theme;
    let pane = &app.panes[index];
    let focused = index == app.focus && app.mode == Mode::Normal && pane.element == Element::Histogram;
    let split_name = match &pane.split {
        Split::None => "none".to_string(),
        Split::StatusClass => "status".to_string(),
        Split::Level => "level".to_string(),
        Split::Field(f) => super::safe(f, 20),
    };
    let mut title = vec![Span::raw(" Events over time ")];
    if let Some(h) = &pane.histogram {
        title.push(Span::styled(
            format!("· {} per bar · split: {split_name} ", logsleuth_core::time::format_duration(h.interval)),
            theme.muted,
        ));
        if h.partial {
            title.push(Span::styled("partial ", theme.warning));
        }
        let flags = crate::features::histogram::spike_flags(h);
        let spikes = flags.iter().filter(|f| f.spike).count();
        let drops = flags.iter().filter(|f| f.drop).count();
        if spikes + drops > 0 {
            // Compact (the legend shares the line); `]` / `[` are in the help.
            let mut text = String::from("· ");
            if spikes > 0 {
                text.push_str(&format!("▲{spikes} "));
            }
            if drops > 0 {
                text.push_str(&format!("▼{drops} "));
            }
            title.push(Span::styled(text, theme.warning));
        }
    }
    if pane.loading.histogram {
        title.push(Span::styled(format!("{} ", SPINNER[app.spinner % SPINNER.len()]), theme.accent));
    }
    let plot = layout::histogram_plot(area);
    let h = pane.histogram.as_ref();
    let cols = h.map(|h| columns(h, plot.width as usize));
    let mut legend = Vec::new();
    if let Some(c) = &cols
        && c.series.len() > 1
    {
        for (i, s) in c.series.iter().enumerate() {
            legend.push(Span::styled(theme.series_fill(i), theme.series_style(s, i)));
            legend.push(Span::styled(format!("{} ", super::safe(s, 12)), theme.text));
        }
    }
    let b = block(theme, Line::from(title), focused).title_top(Line::from(legend).right_aligned());
    frame.render_widget(b, area);
    let inner = layout::inner(area);
    let buf = frame.buffer_mut();
    let (Some(h), Some(cols)) = (h, cols) else {
        let msg = if pane.loading.histogram { "computing…" } else { "no histogram" };
        buf.set_string(plot.x, plot.y, msg, theme.muted);
        return;
    };
    if h.buckets.is_empty() || plot.height == 0 {
        buf.set_string(plot.x, plot.y, "no events in range", theme.muted);
        return;
    }
    let ymax = cols.counts.iter().map(|c| c.iter().sum::<u64>()).max().unwrap_or(0);
    // Y axis: max at the top, 0 at the bottom.
    let label_w = Y_AXIS_WIDTH.saturating_sub(1) as usize;
    buf.set_string(inner.x, plot.y, format!("{:>label_w$}", compact(ymax)), theme.muted);
    buf.set_string(inner.x, plot.y + plot.height.saturating_sub(1), format!("{:>label_w$}", "0"), theme.muted);
    let n = h.buckets.len();
    let selection = pane.hist_anchor.map(|a| (a.min(pane.hist_cursor), a.max(pane.hist_cursor)));
    for (col, counts) in cols.counts.iter().enumerate() {
        let x = plot.x + col as u16;
        let range = layout::bucket_range(plot.width as usize, n, col);
        let selected = selection.is_some_and(|(lo, hi)| range.start <= hi && range.end > lo);
        let at_cursor = (focused || pane.hist_anchor.is_some()) && range.contains(&pane.hist_cursor);
        if selected || at_cursor {
            buf.set_style(Rect::new(x, plot.y, 1, plot.height), theme.highlight);
        }
        let total: u64 = counts.iter().sum();
        if total == 0 || ymax == 0 {
            continue;
        }
        let height = plot.height as u64;
        let mut cum = 0u64;
        let mut drawn = 0u16;
        for (i, c) in counts.iter().enumerate() {
            cum += c;
            // Round cumulatively so the stack's total height is exact.
            let top = ((cum * height * 2 + ymax) / (ymax * 2)) as u16;
            let style = theme.series_style(&cols.series[i], i);
            while drawn < top {
                let y = plot.y + plot.height - 1 - drawn;
                if let Some(cell) = buf.cell_mut((x, y)) {
                    cell.set_symbol(theme.series_fill(i)).set_fg(style.fg.unwrap_or(ratatui::style::Color::Reset));
                }
                drawn += 1;
            }
        }
        if drawn == 0 {
            // A non-empty bucket never looks empty.
            let i = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
            let style = theme.series_style(&cols.series[i], i);
            if let Some(cell) = buf.cell_mut((x, plot.y + plot.height - 1)) {
                cell.set_symbol("▁").set_fg(style.fg.unwrap_or(ratatui::style::Color::Reset));
            }
        }
    }
    // Spikes (▲) and drops (▼) by the one rule, on the top row of their columns.
    let flags = crate::features::histogram::spike_flags(h);
    if flags.iter().any(|f| f.spike || f.drop) {
        for col in 0..plot.width as usize {
            let range = layout::bucket_range(plot.width as usize, n, col);
            let (spike, drop) = flags[range.start.min(n)..range.end.min(n)]
                .iter()
                .fold((false, false), |(s, d), f| (s || f.spike, d || f.drop));
            let mark = if spike { "▲" } else if drop { "▼" } else { continue };
            if let Some(cell) = buf.cell_mut((plot.x + col as u16, plot.y)) {
                cell.set_symbol(mark).set_style(theme.warning);
            }
        }
    }
    // The instant under another pane's cursor, on this pane's clock.
    let instant = app.instant.filter(|m| m.pane != pane.id && index != app.focus && pane.linked);
    if let Some(m) = instant
        && let Some(col) = instant_column(h, plot.width as usize, m.time)
    {
        let x = plot.x + col as u16;
        for y in plot.y..plot.y + plot.height {
            if let Some(cell) = buf.cell_mut((x, y)) {
                if cell.symbol() == " " {
                    cell.set_symbol("│");
                }
                cell.set_style(theme.accent);
            }
        }
    }
    // X axis: first, middle and last bucket times.
    let axis_y = plot.y + plot.height;
    let first = h.buckets[0].start;
    let last = h.buckets[n - 1].start;
    let span = last - first + h.interval;
    let left = time_label(first, span);
    let right = time_label(last + h.interval, span);
    buf.set_string(plot.x, axis_y, &left, theme.muted);
    let mid = time_label(first + span / 2, span);
    let used_w = plot.width;
    let mid_x = plot.x + used_w / 2 - (mid.len() as u16 / 2).min(used_w / 2);
    if used_w as usize > left.len() + mid.len() + right.len() + 4 {
        buf.set_string(mid_x, axis_y, &mid, theme.muted);
    }
    let right_x = (plot.x + plot.width).saturating_sub(right.len() as u16);
    if right_x > plot.x + left.len() as u16 {
        buf.set_string(right_x, axis_y, &right, theme.muted);
    }
    if (focused || pane.hist_anchor.is_some())
        && let Some(b) = h.buckets.get(pane.hist_cursor)
    {
        let info = match selection {
            Some((lo, hi)) if lo != hi => {
                let sum: u64 = h.buckets[lo..=hi].iter().map(|b| b.count).sum();
                format!(
                    " {} → {} · {} events · Enter: zoom ",
                    crate::app::format_time(h.buckets[lo].start),
                    crate::app::format_time(h.buckets[hi].start + h.interval),
                    thousands(sum)
                )
            }
            _ => format!(" {} · {} events ", crate::app::format_time(b.start), thousands(b.count)),
        };
        let y = area.y + area.height.saturating_sub(1);
        let x = area.x + 2;
        buf.set_stringn(x, y, info, area.width.saturating_sub(4) as usize, theme.accent);
    } else if let Some(m) = instant {
        let info = format!(" │ {} (cursor in another pane) ", crate::app::format_time(m.time));
        let y = area.y + area.height.saturating_sub(1);
        buf.set_stringn(area.x + 2, y, info, area.width.saturating_sub(4) as usize, theme.accent);
    }
}

/// The plot column showing the bucket that contains `time`, if the chart covers it.
pub fn instant_column(h: &logsleuth_core::model::HistogramResult, width: usize, time: Nanos) -> Option<usize> {
    let first = h.buckets.first()?.start;
    let last = h.buckets.last()?.start;
    if time < first || time >= last.saturating_add(h.interval.max(1)) {
        return None;
    }
    let bucket = h.buckets.partition_point(|b| b.start <= time).checked_sub(1)?;
    (0..width).find(|&col| layout::bucket_range(width, h.buckets.len(), col).contains(&bucket))
}
