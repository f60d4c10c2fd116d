//! The status line: source, hits, time range, work in progress, live tail state, errors.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{SPINNER, safe, safe_middle, thousands};
use crate::app::{App, format_range_short};

/// Draws the status line.
pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let pane = app.pane();
    let sep = || Span::styled(" │ ", theme.muted);
    let badge = Span::styled(format!(" {} ", pane.info.kind), theme.selection);
    // After the description: the figures and states, none of which is ever cut.
    let mut spans = vec![sep()];
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
    // Watches fire for the whole session: every pane's status line counts them.
    let firing = app.watches.firing();
    if firing > 0 {
        spans.push(sep());
        spans.push(Span::styled(format!("⚠ {firing} firing"), theme.error));
    }
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
    // The last word: an error, a warning or a message; it gives way to the figures.
    let note = if let Some(e) = &pane.error {
        Some((format!("error: {}", safe(e, 200)), theme.error))
    } else if let Some(w) = &pane.info.warning {
        Some((safe(w, 120), theme.warning))
    } else if let Some(w) = pane.warnings.first() {
        Some((safe(w, 120), theme.warning))
    } else {
        app.message.as_ref().map(|m| (safe(m, 120), theme.muted))
    };
    let description = logsleuth_core::text::sanitize(&pane.info.description).into_owned();
    let (desc_w, note_w) = budget(
        area.width as usize,
        badge.width() + spans.iter().map(Span::width).sum::<usize>(),
        description.chars().count(),
        note.as_ref().map(|(n, _)| n.chars().count() + 3),
        pane.error.is_some(),
    );
    let mut line_spans = vec![badge];
    if desc_w > 1 {
        line_spans.push(Span::styled(format!(" {}", safe_middle(&description, desc_w - 1)), theme.text));
    }
    line_spans.append(&mut spans);
    if let Some((text, style)) = note.filter(|_| note_w > 3) {
        line_spans.push(sep());
        line_spans.push(Span::styled(safe(&text, note_w - 3), style));
    }
    let spans = line_spans;
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

/// Shortest the source's description is cut to while a note is shown beside it.
const MIN_DESCRIPTION: usize = 24;
/// Least room worth giving a note (with its separator); less and it is left out.
const MIN_NOTE: usize = 8;
/// Room an error needs beside the shortest description before it takes the description's.
const ERROR_ROOM: usize = 20;

/// How wide the description (with its leading space) and the note (with its separator) may
/// be on a line `width` wide whose figures take `fixed`: both whole when they fit; else the
/// description is cut (in the middle) down to [`MIN_DESCRIPTION`] and the note takes the
/// rest; an error (`urgent`) with less than [`ERROR_ROOM`] left takes the description's room
/// too. The figures are never cut.
pub fn budget(width: usize, fixed: usize, description: usize, note: Option<usize>, urgent: bool) -> (usize, usize) {
    let desc = description + 1;
    let note = note.unwrap_or(0);
    let room = width.saturating_sub(fixed);
    if desc + note <= room {
        return (desc, note);
    }
    let desc_min = desc.min(MIN_DESCRIPTION + 1);
    if room >= desc_min + note {
        return (room - note, note);
    }
    let (desc_w, note_w) = if urgent && room < desc_min + ERROR_ROOM {
        let note_w = note.min(room);
        (room - note_w, note_w)
    } else {
        let desc_w = desc_min.min(room);
        (desc_w, room - desc_w)
    };
    match (desc_w >= MIN_NOTE || desc_w == room, note_w >= MIN_NOTE) {
        (_, false) => (room.min(desc), 0),
        (false, true) => (0, note.min(room)),
        (true, true) => (desc_w, note_w),
    }
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn the_description_shrinks_before_the_note_and_the_figures_never() {
        assert_eq!(budget(100, 50, 20, Some(10), false), (21, 10));
        assert_eq!(budget(80, 50, 40, None, false), (30, 0));
        assert_eq!(budget(100, 50, 40, Some(20), false), (30, 20));
        assert_eq!(budget(80, 50, 40, Some(20), false), (30, 0));
        assert_eq!(budget(90, 50, 40, Some(40), false), (25, 15));
        assert_eq!(budget(80, 50, 40, Some(20), true), (10, 20));
        assert_eq!(budget(80, 70, 40, Some(20), true), (0, 10));
        assert_eq!(budget(80, 70, 40, Some(20), false), (10, 0));
        assert_eq!(budget(40, 50, 40, Some(20), true), (0, 0));
    }
}
