//! The pattern view (`P`): the templates of the pane's query and range with their counts
//! (`~` when estimated), shares, a sparkline of each over the range, the template and one of
//! its lines; the header says the total, exact or estimated, and who mined them. Pure: state
//! in, cells out.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use logsleuth_core::patterns::{Pattern, PatternsResult, share};

use super::{SPINNER, fit_width, key_hints, layout, popup, safe, thousands};
use crate::app::{App, format_range_short};

/// Sparkline width, in cells.
pub const SPARK: usize = 20;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A pattern's samples over the range as bars, scaled to its largest bucket; buckets are
/// merged (summed) when there are more than `width`, an empty bucket is a blank.
pub fn sparkline(samples: &[(i64, u64)], width: usize) -> String {
    let width = width.max(1);
    let counts: Vec<u64> = if samples.len() <= width {
        samples.iter().map(|s| s.1).collect()
    } else {
        let per = samples.len().div_ceil(width);
        samples.chunks(per).map(|c| c.iter().map(|s| s.1).sum()).collect()
    };
    let top = counts.iter().copied().max().unwrap_or(0);
    let bars: String = counts
        .iter()
        .map(|&c| match c {
            0 => ' ',
            c => BARS[((c as f64 / top.max(1) as f64) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect();
    format!("{bars:<width$}")
}

/// A count as the view writes it: `~1,234` when estimated.
pub fn count_text(count: u64, exact: bool) -> String {
    if exact { thousands(count) } else { format!("~{}", thousands(count)) }
}

/// The header: `1,300 lines · exact · drain`.
pub fn header_text(r: &PatternsResult) -> String {
    let how = if r.exact { "exact" } else { "estimated" };
    let n = r.patterns.len();
    let s = if n == 1 { "" } else { "s" };
    format!("{} lines · {n} pattern{s} · {how} · {}", thousands(r.total), r.method.name())
}

fn row(p: &Pattern, r: &PatternsResult, count_w: usize) -> (String, String, String) {
    let count = format!("{:>count_w$}", count_text(p.count, r.exact));
    let pct = format!("{:>5.1}%", share(p.count, r.total) * 100.0);
    (count, pct, sparkline(&p.samples, SPARK))
}

/// Draws the view.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(4).max(40);
    let inner_w = width as usize - 2;
    let s = &app.patterns;
    let mut lines = Vec::new();
    let query = if s.query.text.trim().is_empty() { "*".to_string() } else { safe(&s.query.text, 200) };
    // An open start reads as the picker says it ("All time"); bounds as the status line writes them.
    let range = if s.range.from.is_some() { format_range_short(&s.range) } else { s.range_label.clone() };
    let what = format!(" query {} · {range}", fit_width(&query, inner_w / 2));
    lines.push(Line::from(Span::styled(fit_width(&what, inner_w).into_owned(), theme.muted)));
    let mut title = " Patterns ".to_string();
    match &s.result {
        None => {
            let spin = SPINNER[app.spinner % SPINNER.len()];
            lines.push(Line::from(Span::styled(format!(" {spin} mining patterns…"), theme.accent)));
        }
        Some(Err(e)) => {
            lines.push(Line::from(Span::styled(fit_width(&format!(" error: {}", safe(e, 500)), inner_w).into_owned(), theme.error)));
        }
        Some(Ok(r)) => {
            title = format!(" Patterns · {} ", header_text(r));
            if let Some(note) = &r.note {
                lines.push(Line::from(Span::styled(fit_width(&format!(" {}", safe(note, 300)), inner_w).into_owned(), theme.warning)));
            }
            if r.patterns.is_empty() {
                lines.push(Line::from(Span::styled(" No lines in this query and range.", theme.muted)));
            }
            // Two lines a pattern: the figures and the template, then its example.
            let visible = (outer.height.saturating_sub(8) as usize / 2).max(1);
            let cursor = s.cursor.min(r.patterns.len().saturating_sub(1));
            let start = (cursor + 1).saturating_sub(visible);
            let count_w = r.patterns.iter().map(|p| count_text(p.count, r.exact).chars().count()).max().unwrap_or(1);
            for (i, p) in r.patterns.iter().enumerate().skip(start).take(visible) {
                let selected = i == cursor;
                let base = if selected { theme.selection } else { theme.text };
                let (count, pct, spark) = row(p, r, count_w);
                let head = format!(" {count} {pct} ");
                let used = head.chars().count() + SPARK + 2;
                let template = fit_width(&safe(&p.pattern, 2000), inner_w.saturating_sub(used)).into_owned();
                let pad = inner_w.saturating_sub(used + template.chars().count());
                lines.push(Line::from(vec![
                    Span::styled(head, base),
                    Span::styled(spark, if selected { theme.selection } else { theme.bar }),
                    Span::styled(format!("  {template}{}", " ".repeat(pad)), base),
                ]));
                let example = if p.example.is_empty() { "(no example line)".to_string() } else { safe(&p.example, 2000) };
                let indent = " ".repeat(count_w + 9);
                lines.push(Line::from(Span::styled(fit_width(&format!("{indent}{example}"), inner_w).into_owned(), theme.muted)));
            }
        }
    }
    lines.push(Line::raw(""));
    lines.push(key_hints(theme, &[("j k", "select"), ("+ Enter", "filter for"), ("-", "filter out"), ("Esc", "close")]));
    popup(frame, theme, outer, width, title, lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_largest_bucket_and_merges_to_its_width() {
        assert_eq!(sparkline(&[(0, 0), (60, 5), (120, 10)], 4), " ▅█ ");
        let many: Vec<(i64, u64)> = (0..40).map(|i| (i * 60, if i >= 38 { 100 } else { 1 })).collect();
        let s = sparkline(&many, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with('█') && s.starts_with('▁'), "{s}");
    }

    #[test]
    fn estimated_counts_carry_a_tilde() {
        assert_eq!(count_text(1234, true), "1,234");
        assert_eq!(count_text(1234, false), "~1,234");
    }
}
