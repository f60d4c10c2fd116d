//! The status line: source, hits, time range, work in progress, live tail state, errors.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{SPINNER, safe, thousands};
use crate::app::{App, format_range_short};

/// Draws the status line.
pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let pane = app.pane();
    let sep = || Span::styled(" │ ", theme.muted);
    let mut spans = vec![
        Span::styled(format!(" {} ", pane.info.kind), theme.selection),
        Span::styled(format!(" {}", safe(&pane.info.description, 40)), theme.text),
    ];
    spans.push(sep());
    match pane.total {
        Some(t) => spans.push(Span::styled(format!("{} hits", super::table::hit_text(t)), theme.text)),
        None if !pane.records.is_empty() => {
            spans.push(Span::styled(format!("{}+ hits", thousands(pane.records.len() as u64)), theme.text))
        }
        None => spans.push(Span::styled("– hits", theme.muted)),
    }
    spans.push(sep());
    let range = if pane.resolved.from.is_none() {
        // "All time": show the data's span as the histogram (run up to the pinned end) found it.
        match pane.histogram.as_ref().and_then(|h| Some((h.buckets.first()?.start, h.buckets.last()?.start + h.interval))) {
            Some((from, to)) => format!("{} (all)", format_range_short(&logsleuth_core::model::TimeRange::between(from, to))),
            None => "whole span".to_string(),
        }
    } else {
        format_range_short(&pane.resolved)
    };
    spans.push(Span::styled(range, theme.text));
    if pane.loading.any() {
        spans.push(sep());
        let what = if pane.loading.search {
            "searching"
        } else if pane.loading.page {
            "loading more"
        } else if pane.loading.histogram {
            "charting"
        } else {
            "aggregating"
        };
        spans.push(Span::styled(format!("{} {what}… (Esc cancels)", SPINNER[app.spinner % SPINNER.len()]), theme.accent));
    }
    if let Some(p) = pane.progress.filter(|p| p.total > 0 && p.done < p.total) {
        spans.push(sep());
        let pct = p.done.saturating_mul(100) / p.total;
        let filled = (pct / 10) as usize;
        spans.push(Span::styled(format!("indexing {pct:>3}% "), theme.text));
        spans.push(Span::styled("█".repeat(filled), theme.bar));
        spans.push(Span::styled("░".repeat(10 - filled.min(10)), theme.muted));
    }
    if let Some(tail) = &pane.tail {
        spans.push(sep());
        if tail.paused {
            spans.push(Span::styled(format!("❚❚ PAUSED {} waiting", thousands(tail.pending.len() as u64)), theme.paused));
        } else {
            spans.push(Span::styled("● LIVE", theme.live));
        }
        spans.push(Span::styled(format!(" {:.1} lines/s", tail.rate), theme.text));
        if tail.dropped > 0 {
            spans.push(Span::styled(format!(" · {} dropped", thousands(tail.dropped)), theme.warning));
        }
        if let Some(s) = &tail.status {
            spans.push(Span::styled(format!(" · {}", safe(s, 40)), theme.muted));
        }
    }
    if let Some(e) = &pane.error {
        spans.push(sep());
        spans.push(Span::styled(format!("error: {}", safe(e, 200)), theme.error));
    } else if let Some(w) = &pane.info.warning {
        spans.push(sep());
        spans.push(Span::styled(safe(w, 120), theme.warning));
    } else if let Some(w) = pane.warnings.first() {
        spans.push(sep());
        spans.push(Span::styled(safe(w, 120), theme.warning));
    } else if let Some(m) = &app.message {
        spans.push(sep());
        spans.push(Span::styled(safe(m, 120), theme.muted));
    }
    // The key hints come from the table of named actions (`keymap::hints`).
    if app.pane_prefix {
        // Waiting for the pane command: list them instead of the usual line.
        let hints = crate::keymap::hint_text(app);
        let line = Line::from(vec![
            Span::styled(format!(" {} ", crate::keymap::pane_prefix_key(&app.keymap)), theme.selection),
            Span::styled(hints.trim_end().to_string(), theme.key),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let hint = crate::keymap::hint_text(app);
    let hint = hint.as_str();
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line), area);
    if used + hint.len() < area.width as usize {
        let x = area.x + area.width - hint.chars().count() as u16;
        frame.buffer_mut().set_string(x, area.y, hint, theme.key);
    }
}
