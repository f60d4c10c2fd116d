//! The Markdown postmortem report: the time range, each pane's source and query, its histogram
//! as a text chart, the top-N tables shown, and the marked lines with their notes in time
//! order — ready to paste into a postmortem document.
//!
//! [`render`] is a pure function of a [`Report`], plain data the UI fills from its panes and
//! marks (`ui::investigate::report_data`), so the output is tested byte for byte. Every string
//! from a log or a server goes through [`super::markdown`]; source descriptions never carry
//! credentials (sources strip URL userinfo, and [`redact_userinfo`] makes sure).

use std::fmt::Write as _;

use super::markdown;
use logsleuth_core::model::{HistogramResult, HitCount, Nanos, TimeRange, TopResult};

/// Most rows of a histogram chart; finer histograms are merged into wider buckets.
pub const MAX_CHART_ROWS: usize = 48;
/// Width of the chart bars in characters.
pub const BAR_WIDTH: usize = 40;

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// When the report was written.
    pub generated: Nanos,
    /// Every pane, in screen order.
    pub panes: Vec<PaneReport>,
    /// Marks, any order (the report sorts them by time).
    pub marks: Vec<MarkReport>,
    /// Marked threads: the "Request path" section ([`super::request_path`]).
    pub request_paths: Vec<super::request_path::RequestPath>,
}

/// One pane of the investigation.
#[derive(Debug, Clone, PartialEq)]
pub struct PaneReport {
    /// How marks refer to it (`Pane 1`).
    pub label: String,
    /// Source kind: `local`, `loki`, `elasticsearch`.
    pub source_kind: String,
    /// Source description (files, server URL without credentials, selector or index).
    pub source: String,
    /// The query the results are for (empty: everything).
    pub query: String,
    /// Its language (`KQL`, `LogQL`, `DSL / Lucene`, `regex`).
    pub language: String,
    /// The range the results are for (unbounded ends are shown from the histogram's span).
    pub range: TimeRange,
    /// The range as chosen (`Last 1h`, `All time`, bounds).
    pub range_label: String,
    /// Hits the source reported.
    pub hits: Option<HitCount>,
    /// Records loaded in the pane.
    pub loaded: usize,
    /// Events over time, when computed.
    pub histogram: Option<HistogramResult>,
    /// Top-N charts shown, in order: field and the answer (or the error message).
    pub charts: Vec<(String, Result<TopResult, String>)>,
}

/// A mark: a line or a time span with a note.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkReport {
    /// The line's time, or the span's start.
    pub time: Nanos,
    /// The span's end (exclusive), for a span mark.
    pub end: Option<Nanos>,
    /// The pane's label (`Pane 1`).
    pub pane: String,
    /// The pane's source description.
    pub source: String,
    /// The user's note.
    pub note: String,
    /// The marked line, for a line mark.
    pub line: Option<String>,
    /// Fields of the marked line shown with it (the pane's columns at the time).
    pub fields: Vec<(String, String)>,
    /// Events in the span, for a span mark.
    pub count: Option<u64>,
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn hits_text(h: HitCount) -> String {
    match h {
        HitCount::Exact(n) => thousands(n),
        HitCount::AtLeast(n) => format!("at least {}", thousands(n)),
    }
}

fn time(ns: Nanos) -> String {
    logsleuth_core::time::format_rfc3339(ns)
}

/// Removes `user:password@` from any URL in `text` (descriptions should never hold one).
pub fn redact_userinfo(text: &str) -> String {
    text.split(' ')
        .map(|word| match url::Url::parse(word) {
            Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.as_str().trim_end_matches('/').to_string()
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The span the histogram covers, for ranges with an open end.
fn histogram_span(h: &HistogramResult) -> Option<(Nanos, Nanos)> {
    Some((h.buckets.first()?.start, h.buckets.last()?.start.saturating_add(h.interval)))
}

/// A pane's range with open ends filled from its histogram's span.
fn effective_range(p: &PaneReport) -> (Option<Nanos>, Option<Nanos>) {
    let span = p.histogram.as_ref().and_then(histogram_span);
    (p.range.from.or(span.map(|s| s.0)), p.range.to.or(span.map(|s| s.1)))
}

fn range_text(from: Option<Nanos>, to: Option<Nanos>) -> String {
    let f = |t: Option<Nanos>| t.map(|t| format!("`{}`", time(t))).unwrap_or_else(|| "…".into());
    format!("{} → {}", f(from), f(to))
}

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Investigation report\n");
    let _ = writeln!(out, "Written by logsleuth at `{}`. All times are UTC.\n", time(report.generated));
    let ranges: Vec<_> = report.panes.iter().map(effective_range).collect();
    let from = ranges.iter().filter_map(|r| r.0).min();
    let to = ranges.iter().filter_map(|r| r.1).max();
    let _ = writeln!(out, "- **Time range:** {}", range_text(from, to));
    let _ = writeln!(out, "- **Panes:** {}", report.panes.len());
    let _ = writeln!(out, "- **Marks:** {}", report.marks.len());
    for pane in &report.panes {
        out.push('\n');
        render_pane(&mut out, pane);
    }
    out.push('\n');
    render_marks(&mut out, &report.marks);
    super::request_path::render(&mut out, &report.request_paths);
    out
}

fn render_pane(out: &mut String, p: &PaneReport) {
    let source = redact_userinfo(&p.source);
    let _ = writeln!(out, "## {}: {}\n", markdown::text(&p.label), markdown::code(&source));
    let _ = writeln!(out, "- **Source:** {} {}", markdown::text(&p.source_kind), markdown::code(&source));
    let query = if p.query.trim().is_empty() { "*(none: every event)*".to_string() } else { markdown::code(&p.query) };
    let _ = writeln!(out, "- **Query ({}):** {query}", markdown::text(&p.language));
    let (from, to) = effective_range(p);
    let _ = writeln!(out, "- **Time range:** {} ({})", range_text(from, to), markdown::text(&p.range_label));
    let hits = p.hits.map(hits_text).unwrap_or_else(|| "unknown".into());
    let _ = writeln!(out, "- **Hits:** {hits} ({} loaded)", thousands(p.loaded as u64));
    out.push('\n');
    let _ = writeln!(out, "### Events over time\n");
    match &p.histogram {
        Some(h) if !h.buckets.is_empty() => render_histogram(out, h),
        _ => {
            let _ = writeln!(out, "*No histogram.*");
        }
    }
    for (field, result) in &p.charts {
        out.push('\n');
        let _ = writeln!(out, "### Top values of {}\n", markdown::code(field));
        match result {
            Ok(top) => render_top(out, top),
            Err(e) => {
                let _ = writeln!(out, "*Could not be computed: {}*", markdown::text(e));
            }
        }
    }
}

/// Merges adjacent buckets so the chart has at most [`MAX_CHART_ROWS`] rows.
fn merged(h: &HistogramResult) -> (Nanos, Vec<logsleuth_core::model::HistogramBucket>) {
    let factor = h.buckets.len().div_ceil(MAX_CHART_ROWS).max(1);
    let buckets = h
        .buckets
        .chunks(factor)
        .map(|chunk| {
            let mut b = chunk[0].clone();
            for other in &chunk[1..] {
                b.count += other.count;
                for (k, v) in &other.split {
                    *b.split.entry(k.clone()).or_default() += v;
                }
            }
            b
        })
        .collect();
    (h.interval.saturating_mul(factor as i64), buckets)
}

/// A bar of `value / max` of [`BAR_WIDTH`] cells, in eighths.
fn bar(value: u64, max: u64) -> String {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if max == 0 {
        return " ".repeat(BAR_WIDTH);
    }
    let eighths = ((value as u128 * BAR_WIDTH as u128 * 8 + max as u128 / 2) / max as u128) as usize;
    let eighths = if value > 0 { eighths.max(1) } else { 0 };
    let mut s = "█".repeat(eighths / 8);
    s.push_str(EIGHTHS[eighths % 8]);
    let used = eighths / 8 + usize::from(eighths % 8 > 0);
    s.push_str(&" ".repeat(BAR_WIDTH.saturating_sub(used)));
    s
}

fn render_histogram(out: &mut String, h: &HistogramResult) {
    let (interval, buckets) = merged(h);
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    let split = match &h.split_by {
        Some(s) => format!(", split by {}", markdown::code(s)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{} events, {} per bar{split}.{}\n",
        thousands(total),
        logsleuth_core::time::format_duration(interval),
        if h.partial { " *Partial result.*" } else { "" }
    );
    if let Some(note) = &h.note {
        let _ = writeln!(out, "*{}*\n", markdown::text(note));
    }
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let count_w = thousands(max).len().max(5);
    let mut lines = vec![format!("{:<19}  {:>count_w$}  ", "bucket start (UTC)", "count")];
    for b in &buckets {
        let when = chrono::DateTime::from_timestamp_nanos(b.start).format("%Y-%m-%d %H:%M:%S");
        let mut line = format!("{when}  {:>count_w$}  {}", thousands(b.count), bar(b.count, max));
        let parts: Vec<String> = b
            .split
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{} {}", logsleuth_core::text::truncate_chars(&markdown::block_line(k), 24), thousands(*n)))
            .collect();
        if !parts.is_empty() {
            line.push_str("  ");
            line.push_str(&parts.join(" · "));
        }
        lines.push(line.trim_end().to_string());
    }
    if let Some(first) = lines.first_mut() {
        *first = first.trim_end().to_string();
    }
    out.push_str(&markdown::code_block("text", &lines));
}

fn share(count: u64, total: u64) -> String {
    if total == 0 { "–".into() } else { format!("{:.1}%", count as f64 * 100.0 / total as f64) }
}

fn render_top(out: &mut String, top: &TopResult) {
    let _ = writeln!(out, "| Value | Count | Share |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    // Approximate counts (a server's `terms` over several shards) carry their bound.
    let bound = top.error_bound.map(|e| format!(" ±{}", thousands(e))).unwrap_or_default();
    for b in &top.buckets {
        let _ = writeln!(out, "| {} | {}{bound} | {} |", markdown::code(&b.value), thousands(b.count), share(b.count, top.total));
    }
    if top.other > 0 {
        let _ = writeln!(out, "| *other values* | {} | {} |", thousands(top.other), share(top.other, top.total));
    }
    let _ = writeln!(out, "| **total** | {} | |", thousands(top.total));
    let mut notes = Vec::new();
    if top.partial {
        notes.push("partial result".to_string());
    }
    if let Some(e) = top.error_bound {
        notes.push(format!("approximate counts: each may be short by up to {}", thousands(e)));
    }
    if let Some(n) = &top.note {
        notes.push(markdown::text(n));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n*{}.*", notes.join("; "));
    }
}

fn render_marks(out: &mut String, marks: &[MarkReport]) {
    let _ = writeln!(out, "## Marks\n");
    if marks.is_empty() {
        let _ = writeln!(out, "*No marks.*");
        return;
    }
    let mut sorted: Vec<&MarkReport> = marks.iter().collect();
    sorted.sort_by_key(|m| (m.time, m.end));
    for (i, m) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let when = match m.end {
            Some(end) => format!("`{}` → `{}`", time(m.time), time(end)),
            None => format!("`{}`", time(m.time)),
        };
        let _ = writeln!(
            out,
            "### {}. {when} · {} ({})\n",
            i + 1,
            markdown::text(&m.pane),
            markdown::code(&redact_userinfo(&m.source))
        );
        if m.note.trim().is_empty() {
            let _ = writeln!(out, "*(no note)*\n");
        } else {
            let _ = writeln!(out, "{}\n", markdown::text(m.note.trim()));
        }
        if let Some(count) = m.count {
            let _ = writeln!(out, "Span of {} events.", thousands(count));
        }
        if let Some(line) = &m.line {
            out.push_str(&markdown::code_block("text", &[markdown::block_line(line)]));
        }
        if !m.fields.is_empty() {
            let fields: Vec<String> = m.fields.iter().map(|(k, v)| markdown::code(&format!("{k}={v}"))).collect();
            let _ = writeln!(out, "\nFields: {}", fields.join(" · "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::{HistogramBucket, TopBucket};

    fn at(s: &str) -> Nanos {
        logsleuth_core::time::parse_absolute(s, None).unwrap()
    }

    #[test]
    fn bars_scale_in_eighths() {
        assert_eq!(bar(10, 10).chars().count(), BAR_WIDTH);
        assert_eq!(bar(10, 10).trim_end(), "█".repeat(BAR_WIDTH));
        assert_eq!(bar(0, 10).trim_end(), "");
        assert_eq!(bar(1, 1000).trim_end(), "▏", "a non-zero bucket stays visible");
        assert_eq!(bar(5, 10).trim_end(), "█".repeat(BAR_WIDTH / 2));
    }

    #[test]
    fn fine_histograms_are_merged_to_the_row_cap() {
        let start = at("2015-05-17T08:00:00Z");
        let h = HistogramResult {
            interval: 60 * 1_000_000_000,
            split_by: None,
            buckets: (0..100)
                .map(|i| HistogramBucket { start: start + i * 60 * 1_000_000_000, count: 1, split: Default::default() })
                .collect(),
            partial: false,
            note: None,
            split_error_bound: None,
        };
        let (interval, buckets) = merged(&h);
        assert_eq!(buckets.len(), 34);
        assert_eq!(interval, 3 * 60 * 1_000_000_000);
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 100);
    }

    #[test]
    fn credentials_never_reach_the_report() {
        assert_eq!(redact_userinfo("https://admin:hunter2@es.example:9200 logs-*"), "https://es.example:9200 logs-*");
        let pane = PaneReport {
            label: "Pane 1".into(),
            source_kind: "elasticsearch".into(),
            source: "https://admin:hunter2@es.example:9200 logs-*".into(),
            query: String::new(),
            language: "KQL".into(),
            range: TimeRange::ALL,
            range_label: "All time".into(),
            hits: None,
            loaded: 0,
            histogram: None,
            charts: vec![],
        };
        let text = render(&Report { generated: 0, panes: vec![pane], marks: vec![], request_paths: vec![] });
        assert!(!text.contains("hunter2") && !text.contains("admin"), "{text}");
    }

    #[test]
    fn top_tables_escape_values_and_show_other_and_total() {
        let top = TopResult {
            field: "agent".into(),
            total: 10,
            other: 2,
            buckets: vec![TopBucket { value: "evil | <script>`".into(), count: 8 }],
            error_bound: None,
            partial: false,
            note: None,
            distinct: None,
            distinct_estimated: false,
        };
        let mut out = String::new();
        render_top(&mut out, &top);
        assert_eq!(
            out,
            "| Value | Count | Share |\n| --- | ---: | ---: |\n| `` evil \\| <script>` `` | 8 | 80.0% |\n| *other values* | 2 | 20.0% |\n| **total** | 10 | |\n"
        );
    }

    #[test]
    fn marks_are_listed_in_time_order() {
        let mark = |t: &str, note: &str| MarkReport {
            time: at(t),
            end: None,
            pane: "Pane 1".into(),
            source: "a.log".into(),
            note: note.into(),
            line: Some("GET /".into()),
            fields: vec![],
            count: None,
        };
        let text = render(&Report {
            generated: 0,
            panes: vec![],
            marks: vec![mark("2015-05-17T09:00:00Z", "second"), mark("2015-05-17T08:00:00Z", "first")],
            request_paths: vec![],
        });
        let first = text.find("first").unwrap();
        let second = text.find("second").unwrap();
        assert!(first < second, "{text}");
        assert!(text.contains("### 1. `2015-05-17T08:00:00Z`"), "{text}");
    }
}
