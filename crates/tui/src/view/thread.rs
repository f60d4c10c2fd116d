//! The thread view: the lines of a value followed in all panes, merged on one clock, each
//! tagged with its pane, with the gap since the previous line; the first error line is
//! highlighted (an error level, or a 5xx status: `logsleuth_sources::thread::is_error`).

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{fit_width, key_hints, layout, popup, safe};
use crate::app::App;
use crate::features::thread::{lines, partial_panes, widen_reach};
use logsleuth_sources::thread::format_gap;

/// Draws the thread view over the panes.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(4).max(40);
    let inner_w = width as usize - 2;
    let thread = lines(app);
    let visible = (outer.height.saturating_sub(6) as usize).max(3);
    let cursor = app.thread.cursor.min(thread.len().saturating_sub(1));
    let start = (cursor + 1).saturating_sub(visible);
    let tag_w = thread.iter().map(|l| l.tag.chars().count()).max().unwrap_or(0).clamp(6, 28);
    let mut out = Vec::new();
    if thread.is_empty() {
        out.push(Line::from(Span::styled(" No lines yet: the panes are still answering, or none holds the value.", theme.muted)));
    }
    for (i, l) in thread.iter().enumerate().skip(start).take(visible) {
        let clock = l.record.timestamp.map(clock).unwrap_or_else(|| "-".into());
        let gap = l.gap.map(format_gap).unwrap_or_default();
        let mark = if l.first_error { "▶" } else if l.error { "!" } else { " " };
        let tag = safe(&l.tag, tag_w);
        let head = format!(" {mark} {clock:<12} {gap:>8}  {tag:<tag_w$}  ");
        let rest = inner_w.saturating_sub(head.chars().count());
        let text = safe(&l.record.message, 2000);
        let text = fit_width(&text, rest).into_owned();
        let style = if i == cursor {
            theme.selection
        } else if l.first_error {
            theme.error
        } else if l.error {
            theme.warning
        } else {
            theme.text
        };
        out.push(Line::from(vec![Span::styled(head, style), Span::styled(format!("{text:<rest$}"), style)]));
    }
    for (tag, loaded, total) in partial_panes(app) {
        // Said, not hidden: a thread missing lines of a pane must not read as complete.
        let note = format!(" {} of {total} lines of {} loaded (the pane's limit)", loaded, safe(&tag, 40));
        out.push(Line::from(Span::styled(note, theme.warning)));
    }
    out.push(Line::raw(""));
    let reach = widen_reach(app.thread.widen_minutes, app.thread.widened);
    let widen = format!("±{reach} min around the line");
    out.push(key_hints(theme, &[("j/k", "move"), ("w", &widen), ("m", "mark"), ("U", "stop following"), ("Esc", "close")]));
    let title = match app.thread.active.as_ref() {
        Some(a) => {
            let what = match &a.follow.field {
                Some(f) => format!("{} = {}", safe(f, 40), safe(&a.follow.value, 60)),
                None => safe(&a.follow.value, 60),
            };
            format!(" Thread: {what} · {} lines · {} panes ", thread.len(), a.panes.len())
        }
        None => " Thread ".to_string(),
    };
    popup(frame, theme, outer, width, title, out);
}

/// `HH:MM:SS.fff` (UTC): a thread spans seconds to minutes, the date is in the panes.
fn clock(t: logsleuth_core::model::Nanos) -> String {
    let s = t.div_euclid(1_000_000_000);
    let ms = t.rem_euclid(1_000_000_000) / 1_000_000;
    let day = s.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}.{ms:03}", day / 3600, (day / 60) % 60, day % 60)
}
