//! The comparison view (`C`): the window and the baseline with their totals, then per field a
//! table of the values whose counts changed most (window and baseline counts, each one's share,
//! the ratio of the shares, the G score, `new` / `gone`), then the patterns new or grown in the
//! window. Pure: state in, cells out.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use logsleuth_core::patterns::share;
use logsleuth_sources::compare::{Change, Comparison};

use super::{SPINNER, fit_width, key_hints, layout, popup, safe, thousands};
use crate::app::{App, format_range_short};
use crate::features::comparison::rows;
use logsleuth_core::model::TimeRange;

/// The ratio of a change's shares (window over baseline): `×4.2`, `×0.10`; `–` when the
/// baseline has none.
pub fn ratio_text(c: &Change, window_total: u64, baseline_total: u64) -> String {
    let (w, b) = (share(c.window, window_total), share(c.baseline, baseline_total));
    if b == 0.0 {
        return "–".into();
    }
    let r = w / b;
    if r >= 10.0 { format!("×{r:.0}") } else if r >= 1.0 { format!("×{r:.1}") } else { format!("×{r:.2}") }
}

/// `new`, `gone` or nothing.
pub fn flag_text(c: &Change) -> &'static str {
    if c.is_new() {
        "new"
    } else if c.is_gone() {
        "gone"
    } else {
        ""
    }
}

/// The figures of one row after its value: window, baseline, both shares, ratio, G, flag.
pub fn figures(c: &Change, cmp: &Comparison) -> String {
    let (wt, bt) = (cmp.window.2, cmp.baseline.2);
    format!(
        "{:>8} {:>8} {:>6.1}% {:>6.1}% {:>7} {:>8.1}  {:<4}",
        thousands(c.window),
        thousands(c.baseline),
        share(c.window, wt) * 100.0,
        share(c.baseline, bt) * 100.0,
        ratio_text(c, wt, bt),
        c.score,
        flag_text(c)
    )
}

/// The column titles above [`figures`].
fn figures_head() -> String {
    format!("{:>8} {:>8} {:>7} {:>7} {:>7} {:>8}  {:<4}", "window", "baseline", "share w", "share b", "ratio", "G", "")
}

fn range_line(label: &str, r: (i64, i64, u64), why: &str) -> String {
    let range = format_range_short(&TimeRange::between(r.0, r.1));
    format!(" {label:<9}{range}  {} lines  ({why})", thousands(r.2))
}

/// Every line of a comparison with the row ([`rows`]) it shows, if any (headers have none).
fn body(app: &App, c: &Comparison, inner_w: usize) -> Vec<(Line<'static>, Option<usize>)> {
    let theme = &app.theme;
    let cursor = app.comparison.cursor;
    let heads = figures_head();
    let value_w = inner_w.saturating_sub(heads.chars().count() + 3).max(8);
    let mut out = Vec::new();
    let row_line = |i: usize, ch: &Change| -> Line<'static> {
        let style = if i == cursor {
            theme.selection
        } else if ch.is_new() {
            theme.warning
        } else {
            theme.text
        };
        let v = fit_width(&safe(&ch.value, 2000), value_w).into_owned();
        let text = format!("   {v:<value_w$}{}", figures(ch, c));
        Line::from(Span::styled(fit_width(&text, inner_w).into_owned(), style))
    };
    let head = |name: &str| -> Line<'static> {
        let name = fit_width(&safe(name, 100), value_w + 2).into_owned();
        let text = format!(" {name:<w$}{heads}", w = value_w + 2);
        Line::from(Span::styled(fit_width(&text, inner_w).into_owned(), theme.title))
    };
    let mut i = 0;
    for (name, changes) in &c.fields {
        out.push((head(name), None));
        if changes.is_empty() {
            out.push((Line::from(Span::styled("   (no values in either window)", theme.muted)), None));
        }
        for ch in changes {
            out.push((row_line(i, ch), Some(i)));
            i += 1;
        }
    }
    if !c.patterns.is_empty() {
        out.push((head("patterns of the window, most changed first"), None));
        for ch in &c.patterns {
            out.push((row_line(i, ch), Some(i)));
            i += 1;
        }
    }
    debug_assert_eq!(i, rows(c).len(), "the lines show the rows the keys move over");
    if out.is_empty() {
        let text = "   No fields to compare (the source knows no status, client, agent, path or level) and no lines.";
        out.push((Line::from(Span::styled(fit_width(text, inner_w).into_owned(), theme.muted)), None));
    }
    out
}

/// Draws the view.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(4).max(40);
    let inner_w = width as usize - 2;
    let s = &app.comparison;
    let mut lines = Vec::new();
    let query = if s.query.text.trim().is_empty() { "*".to_string() } else { safe(&s.query.text, 200) };
    lines.push(Line::from(Span::styled(fit_width(&format!(" query {query}"), inner_w).into_owned(), theme.muted)));
    let why = s.source.map_or("", |w| w.label());
    match &s.result {
        None => {
            let b = s.baseline.range(s.window);
            lines.push(Line::from(Span::raw(fit_width(&range_line("window", (s.window.0, s.window.1, 0), why), inner_w).into_owned())));
            lines.push(Line::from(Span::raw(fit_width(&range_line("baseline", (b.0, b.1, 0), s.baseline.label()), inner_w).into_owned())));
            let spin = SPINNER[app.spinner % SPINNER.len()];
            lines.push(Line::from(Span::styled(format!(" {spin} comparing the window with the baseline…"), theme.accent)));
        }
        Some(Err(e)) => {
            lines.push(Line::from(Span::styled(fit_width(&format!(" error: {}", safe(e, 500)), inner_w).into_owned(), theme.error)));
        }
        Some(Ok(c)) => {
            lines.push(Line::from(Span::raw(fit_width(&range_line("window", c.window, why), inner_w).into_owned())));
            lines.push(Line::from(Span::raw(fit_width(&range_line("baseline", c.baseline, s.baseline.label()), inner_w).into_owned())));
            let body = body(app, c, inner_w);
            let visible = (outer.height.saturating_sub(10) as usize).max(3);
            let at = body.iter().position(|(_, r)| *r == Some(s.cursor)).unwrap_or(0);
            // The selected row and the header above it stay in view.
            let start = (at + 1).saturating_sub(visible).min(body.len().saturating_sub(visible));
            lines.extend(body.into_iter().skip(start).take(visible).map(|(l, _)| l));
        }
    }
    lines.push(Line::raw(""));
    lines.push(key_hints(
        theme,
        &[("j k", "select"), ("+ Enter", "filter for"), ("-", "filter out"), ("b", "baseline"), ("Esc", "close")],
    ));
    popup(frame, theme, outer, width, " What changed: window against baseline ", lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(w: u64, b: u64) -> Change {
        Change { value: "x".into(), window: w, baseline: b, score: 1.0 }
    }

    #[test]
    fn ratios_and_flags() {
        assert_eq!(ratio_text(&change(50, 0), 100, 100), "–");
        assert_eq!(ratio_text(&change(50, 10), 100, 100), "×5.0");
        assert_eq!(ratio_text(&change(5, 50), 100, 100), "×0.10");
        assert_eq!(ratio_text(&change(60, 1), 100, 200), "×120");
        assert_eq!(flag_text(&change(5, 0)), "new");
        assert_eq!(flag_text(&change(0, 5)), "gone");
        assert_eq!(flag_text(&change(5, 5)), "");
    }
}
