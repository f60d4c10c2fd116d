//! The watches panel (`!`): each watch's state, its value against the threshold, a sparkline
//! of its last values, since when it is in its state, and the pane it runs on. Pure: state in,
//! cells out.

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use logsleuth_core::model::Nanos;
use logsleuth_core::time::{NS_PER_SEC, format_duration};
use logsleuth_sources::watch::State;

use super::{fit_width, key_hints, layout, popup, safe};
use crate::app::App;
use crate::features::watches::{WatchEntry, value_text};
use crate::investigate::pane_label;
use crate::theme::Theme;

/// Sparkline width, in cells (the newest values; a tracker keeps up to 60).
pub const SPARK: usize = 20;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last values as bars, scaled to the largest of them and the threshold (so a line that
/// stays low shows low); a missing value (a ratio of no lines) is a blank.
pub fn sparkline(history: &[Option<f64>], threshold: f64, width: usize) -> String {
    let shown = &history[history.len().saturating_sub(width)..];
    let top = shown.iter().flatten().copied().fold(threshold.max(0.0), f64::max);
    let bars: String = shown
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if top <= 0.0 || !v.is_finite() => BARS[0],
            Some(v) => BARS[((v.max(0.0) / top) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect();
    format!("{bars:<width$}")
}

fn state_style(theme: &Theme, state: State) -> Style {
    match state {
        State::Firing => theme.error,
        State::Pending => theme.warning,
        State::Resolved => theme.accent,
        State::Ok => theme.ok,
    }
}

/// `since 10:02:03 (2m)`; `–` before the first change.
fn since_text(e: &WatchEntry, now: Nanos) -> String {
    if e.tracker.since == 0 {
        return match e.evaluated {
            Some(_) => "since start".into(),
            None => "not evaluated yet".into(),
        };
    }
    let at = chrono::DateTime::from_timestamp_nanos(e.tracker.since).format("%H:%M:%S");
    let ago = now.saturating_sub(e.tracker.since);
    let ago = ago - ago.rem_euclid(NS_PER_SEC);
    if ago > 0 { format!("since {at} ({})", format_duration(ago)) } else { format!("since {at}") }
}

/// One watch's line: state, name, value vs threshold, sparkline, since when, pane.
pub fn row_text(app: &App, e: &WatchEntry) -> (String, String, String, String) {
    let r = &e.watch.rule;
    let state = format!("{:<8}", e.tracker.state.name());
    let value = format!(
        "{} {} {} per {}",
        value_text(r, e.tracker.value),
        r.op.symbol(),
        r.threshold_text(),
        format_duration(r.window)
    );
    let spark = sparkline(&e.tracker.history, r.threshold, SPARK);
    let since = format!("{} · {}", since_text(e, app.now), pane_label(app, e.pane));
    (state, value, spark, since)
}

/// Draws the panel.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(4).clamp(40, 120);
    let inner_w = width as usize - 2;
    let w = &app.watches;
    let visible = (outer.height.saturating_sub(9) as usize).max(2) / 2;
    let start = (w.cursor + 1).saturating_sub(visible);
    let mut lines = Vec::new();
    if w.entries.is_empty() {
        lines.push(Line::from(Span::styled(
            " No watches: W on a pane makes one from its query, or [[watches]] in the configuration.",
            theme.muted,
        )));
    }
    let name_w = w.entries.iter().map(|e| e.watch.rule.name.chars().count()).max().unwrap_or(0).min(24);
    for (i, e) in w.entries.iter().enumerate().skip(start).take(visible) {
        let selected = i == w.cursor;
        let (state, value, spark, since) = row_text(app, e);
        let base = if selected { theme.selection } else { theme.text };
        let name = format!("{:<name_w$}", fit_width(&safe(&e.watch.rule.name, 60), name_w));
        let value = format!("{value:<22}");
        let head = format!(" {name}  {value} ");
        let used = 1 + state.chars().count() + head.chars().count() + SPARK + 2;
        let since = fit_width(&since, inner_w.saturating_sub(used)).into_owned();
        let pad = inner_w.saturating_sub(used + since.chars().count());
        lines.push(Line::from(vec![
            Span::styled(" ", base),
            Span::styled(state, if selected { theme.selection } else { state_style(theme, e.tracker.state) }),
            Span::styled(head, base),
            Span::styled(spark, if selected { theme.selection } else { theme.bar }),
            Span::styled(format!("  {since}{}", " ".repeat(pad)), base),
        ]));
        // The rule as written, or why it could not be measured.
        let (detail, style) = match &e.error {
            Some(err) => (format!("error: {}", safe(err, 300)), theme.error),
            None => (safe(&e.watch.rule.text(), 300), theme.muted),
        };
        lines.push(Line::from(Span::styled(format!("   {}", fit_width(&detail, inner_w.saturating_sub(3))), style)));
    }
    lines.push(Line::raw(""));
    let footer = format!(" every {} · firing: bell, notification and a mark on the pane", format_duration(w.every));
    lines.push(Line::from(Span::styled(fit_width(&footer, inner_w).into_owned(), theme.muted)));
    // Alertmanager / webhook delivery: its last failure or recovery, on a line of its own.
    let receivers = w.alertmanager.len() + w.webhook.len();
    if receivers > 0 {
        let (text, style) = match &w.delivery_note {
            Some(note) => (format!(" alerts ({receivers} receivers): {}", safe(note, 300)), theme.warning),
            None => (format!(" alerts go to {receivers} receivers (Alertmanager, webhooks)"), theme.muted),
        };
        lines.push(Line::from(Span::styled(fit_width(&text, inner_w).into_owned(), style)));
    }
    lines.push(key_hints(theme, &[("W", "new from the query"), ("j k", "select"), ("d", "delete"), ("Esc", "close")]));
    let title = match w.firing() {
        0 => format!(" Watches ({}) ", w.entries.len()),
        n => format!(" Watches ({}) · ⚠ {n} firing ", w.entries.len()),
    };
    popup(frame, theme, outer, width, title, lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_threshold_and_leaves_gaps() {
        assert_eq!(sparkline(&[Some(0.0), Some(5.0), Some(10.0), None], 10.0, 6), "▁▅█   ");
        // Low values stay low against a high threshold.
        assert_eq!(sparkline(&[Some(1.0), Some(1.0)], 100.0, 2), "▁▁");
        let long: Vec<Option<f64>> = (0..60).map(|i| Some(i as f64)).collect();
        assert_eq!(sparkline(&long, 1.0, SPARK).chars().count(), SPARK);
        assert!(sparkline(&long, 1.0, SPARK).ends_with('█'));
    }
}
