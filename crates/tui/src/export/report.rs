//! The Markdown postmortem report: a half-page draft in the shape postmortem templates use
//! (title, date, authors, status; summary, impact, timeline, detection, root cause, resolution,
//! action items: [`super::postmortem`]), then the evidence, compact: per pane its source,
//! query, range and hits, its histogram as one sparkline line with its scale, the top-N tables
//! and comparison shown, the figures with the commands that reproduce them, and the marked
//! lines with their notes.
//!
//! [`render`] is a pure function of a [`Report`], plain data the UI fills from its panes and
//! marks (`investigate::report_data`) or `logsleuth report` from a workspace, with the draft's
//! figures gathered from the sources beforehand ([`super::postmortem::gather`]), so the
//! output is tested byte for byte. Every string
//! from a log or a server goes through [`super::markdown`]; source descriptions never carry
//! credentials (sources strip URL userinfo, and [`redact_userinfo`] makes sure).

use std::fmt::Write as _;

use super::markdown;
use logsleuth_core::model::{HistogramResult, HitCount, Nanos, TimeRange, TopResult};

/// Most characters of a histogram's sparkline; finer histograms are merged into wider buckets.
pub const MAX_CHART_ROWS: usize = 60;
/// Histograms with at most this many non-empty buckets are shown as a table of them.
pub const MAX_BUCKET_ROWS: usize = 8;

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// When the report was written.
    pub generated: Nanos,
    /// The title (`Incident report`, or the workspace's name).
    pub title: String,
    /// The authors (`[report] authors` in the configuration, else `$USER`).
    pub authors: Vec<String>,
    /// Every pane, in screen order.
    pub panes: Vec<PaneReport>,
    /// Marks, any order (the report sorts them by time).
    pub marks: Vec<MarkReport>,
    /// Marked threads: the "Request path" section ([`super::request_path`]).
    pub request_paths: Vec<super::request_path::RequestPath>,
    /// The draft's figures, once gathered from the sources ([`super::postmortem::gather`]);
    /// without them the draft has its window and placeholders only.
    pub draft: Option<super::postmortem::Draft>,
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
    /// Whether the query is KQL (the draft adds its conditions to it).
    pub kql: bool,
    /// The source as the command line names it ([`logsleuth_sources::spec::SourceSpec::command_args`]),
    /// for the commands that reproduce the figures; `None` for stdin and the demo.
    pub command_source: Option<String>,
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
    /// The comparison shown in the pane, if any.
    pub comparison: Option<logsleuth_sources::compare::Comparison>,
    /// The log patterns shown in the pane, if any.
    pub patterns: Option<logsleuth_core::patterns::PatternsResult>,
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

use crate::view::thousands;

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
    let title = if report.title.trim().is_empty() { "Incident report" } else { report.title.trim() };
    // The title is the report's own words around a workspace name: only the name is escaped.
    let title: Vec<String> = title.split(": ").map(markdown::text).collect();
    let _ = writeln!(out, "# {}\n", title.join(": "));
    let day = chrono::DateTime::from_timestamp_nanos(report.generated).format("%Y-%m-%d");
    let _ = writeln!(out, "- **Date:** {day} (written by logsleuth at `{}`; all times UTC)", time(report.generated));
    let authors = if report.authors.is_empty() {
        "*[To be written by the authors: names]*".to_string()
    } else {
        report.authors.iter().map(|a| markdown::text(a)).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(out, "- **Authors:** {authors}");
    let _ = writeln!(out, "- **Status:** draft");
    let ranges: Vec<_> = report.panes.iter().map(effective_range).collect();
    let from = ranges.iter().filter_map(|r| r.0).min();
    let to = ranges.iter().filter_map(|r| r.1).max();
    let _ = writeln!(
        out,
        "- **Investigated:** {} · {} · {}",
        range_text(from, to),
        plural(report.panes.len(), "pane"),
        plural(report.marks.len(), "mark")
    );
    out.push('\n');
    let fallback;
    let draft = match &report.draft {
        Some(d) => d,
        None => {
            fallback = super::postmortem::Draft { window: super::postmortem::choose_window(report), ..Default::default() };
            &fallback
        }
    };
    super::postmortem::render(&mut out, report, draft);
    let _ = writeln!(out, "## Evidence\n");
    for pane in &report.panes {
        render_pane(&mut out, pane);
        out.push('\n');
    }
    super::postmortem::render_figures(&mut out, report, draft);
    render_marks(&mut out, &report.marks);
    super::request_path::render(&mut out, &report.request_paths);
    out
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn render_pane(out: &mut String, p: &PaneReport) {
    let source = redact_userinfo(&p.source);
    let _ = writeln!(out, "### {}: {}\n", markdown::text(&p.label), markdown::code(&source));
    let _ = writeln!(out, "- **Source:** {} {}", markdown::text(&p.source_kind), markdown::code(&source));
    let query = if p.query.trim().is_empty() { "*(none: every event)*".to_string() } else { markdown::code(&p.query) };
    let _ = writeln!(out, "- **Query ({}):** {query}", markdown::text(&p.language));
    let (from, to) = effective_range(p);
    // An absolute range's label says the same as the range.
    let label = if p.range_label.contains('→') { String::new() } else { format!(" ({})", markdown::text(&p.range_label)) };
    let _ = writeln!(out, "- **Time range:** {}{label}", range_text(from, to));
    let hits = p.hits.map(hits_text).unwrap_or_else(|| "unknown".into());
    // `logsleuth report` loads no lines: only the TUI has a number to say.
    let loaded = if p.loaded == 0 { String::new() } else { format!(" ({} loaded)", thousands(p.loaded as u64)) };
    let _ = writeln!(out, "- **Hits:** {hits}{loaded}");
    match &p.histogram {
        Some(h) if !h.buckets.is_empty() => {
            render_histogram(out, h);
            reproduce(out, p, "histogram", &format!("--interval {}", logsleuth_core::time::format_duration(merged(h).0)));
        }
        _ => {
            let _ = writeln!(out, "- **Events over time:** *no histogram*");
        }
    }
    for (field, result) in &p.charts {
        out.push('\n');
        let _ = writeln!(out, "#### Top values of {}\n", markdown::code(field));
        match result {
            Ok(top) => {
                render_top(out, top);
                let size = if top.buckets.len() > 10 { format!(" --size {}", top.buckets.len()) } else { String::new() };
                reproduce(out, p, "top", &format!("--field {}{size}", logsleuth_sources::watch::shell_quote(field)));
            }
            Err(e) => {
                let _ = writeln!(out, "*Could not be computed: {}*", markdown::text(e));
            }
        }
    }
    if let Some(c) = &p.comparison {
        out.push('\n');
        render_comparison(out, c);
        if let Some(args) = &p.command_source {
            let window = format!("--window {}..{}", time(c.window.0), time(c.window.1));
            let baseline = format!("--baseline {}..{}", time(c.baseline.0), time(c.baseline.1));
            let cmd = super::postmortem::command("compare", args, &window, query_flag(p), &baseline);
            let _ = writeln!(out, "\nReproduce: {}", markdown::code_outside_tables(&cmd));
        }
    }
    if let Some(r) = &p.patterns {
        out.push('\n');
        render_patterns(out, r);
        reproduce(out, p, "patterns", "");
    }
}

/// The query flag of the pane's language (`--kql`, or the native `--logql` / `--dsl`).
fn query_flag(p: &PaneReport) -> (&'static str, &str) {
    let flag = match (p.kql, p.source_kind.as_str()) {
        (true, _) => "--kql",
        (false, "loki") => "--logql",
        (false, _) => "--dsl",
    };
    (flag, p.query.as_str())
}

/// `Reproduce: `logsleuth SUB SOURCE --from A --to B [query] EXTRA`` under what a pane shows,
/// when the source can be named on a command line and the range has both ends.
fn reproduce(out: &mut String, p: &PaneReport, sub: &str, extra: &str) {
    let (Some(args), (Some(from), Some(to))) = (&p.command_source, effective_range(p)) else {
        return;
    };
    // A regex over local files and a CloudWatch filter pattern have no command-line flag.
    if !p.kql && !matches!(p.source_kind.as_str(), "loki" | "elasticsearch") {
        return;
    }
    let time = format!("--from {} --to {}", time(from), time(to));
    let cmd = super::postmortem::command(sub, args, &time, query_flag(p), extra);
    let _ = writeln!(out, "\nReproduce: {}", markdown::code_outside_tables(&cmd));
}

/// Most patterns of a pattern view listed in the evidence.
const REPORT_PATTERNS: usize = 5;

/// The largest patterns shown in the investigation.
fn render_patterns(out: &mut String, r: &logsleuth_core::patterns::PatternsResult) {
    let how = if r.exact { "exact counts" } else { "estimated counts" };
    let _ = writeln!(out, "#### Log patterns ({} lines, {how}, by {})\n", thousands(r.total), r.method.name());
    let _ = writeln!(out, "| Pattern | Lines | Share |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    for p in r.patterns.iter().take(REPORT_PATTERNS) {
        let _ = writeln!(out, "| {} | {} | {} |", markdown::code(&p.pattern), thousands(p.count), share(p.count, r.total));
    }
}

/// A comparison shown in the investigation: per field its top changes.
fn render_comparison(out: &mut String, c: &logsleuth_sources::compare::Comparison) {
    let _ = writeln!(
        out,
        "#### Comparison: `{}` → `{}` ({} events) against `{}` → `{}` ({} events)\n",
        time(c.window.0),
        time(c.window.1),
        thousands(c.window.2),
        time(c.baseline.0),
        time(c.baseline.1),
        thousands(c.baseline.2)
    );
    let _ = writeln!(out, "| Field | Value | Window | Baseline | G | |");
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | --- |");
    let flag = |ch: &logsleuth_sources::compare::Change| {
        if ch.is_new() {
            "new"
        } else if ch.is_gone() {
            "gone"
        } else {
            ""
        }
    };
    for (field, changes) in &c.fields {
        for ch in changes.iter().take(3) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} | {} |",
                markdown::code(field),
                markdown::code(&ch.value),
                thousands(ch.window),
                thousands(ch.baseline),
                ch.score,
                flag(ch)
            );
        }
    }
    for p in c.patterns.iter().filter(|p| p.is_new()).take(3) {
        let _ = writeln!(out, "| *pattern* | {} | {} | 0 | {:.1} | new |", markdown::code(&p.value), thousands(p.window), p.score);
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

/// Eight heights of a sparkline cell.
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One cell per bucket: blank for none, else one of eight heights of `value / max`.
fn sparkline(counts: &[u64], max: u64) -> String {
    counts
        .iter()
        .map(|&c| match c {
            0 => ' ',
            _ if max == 0 => SPARKS[0],
            _ => SPARKS[((c as u128 * 7 + max as u128 / 2) / max as u128).min(7) as usize],
        })
        .collect()
}

/// The histogram in a line or a few: a sparkline with its scale, or, when few buckets hold
/// events, a table of those buckets (never rows of zeros).
fn render_histogram(out: &mut String, h: &HistogramResult) {
    let (interval, buckets) = merged(h);
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let split = match &h.split_by {
        Some(s) => format!(", split by {}", markdown::code(s)),
        None => String::new(),
    };
    let per = logsleuth_core::time::format_duration(interval);
    let partial = if h.partial { " *Partial result.*" } else { "" };
    let busy: Vec<_> = buckets.iter().filter(|b| b.count > 0).collect();
    if busy.len() <= MAX_BUCKET_ROWS {
        let _ = writeln!(
            out,
            "- **Events over time:** {} events{split}, in {} of {} buckets of {per}:{partial}\n",
            thousands(total),
            busy.len(),
            buckets.len()
        );
        let _ = writeln!(out, "| Bucket start | Events |");
        let _ = writeln!(out, "| --- | ---: |");
        for b in busy {
            let _ = writeln!(out, "| `{}` | {} |", time(b.start), thousands(b.count));
        }
    } else {
        let counts: Vec<u64> = buckets.iter().map(|b| b.count).collect();
        let _ = writeln!(
            out,
            "- **Events over time:** {} events{split}, one cell per {per}, `█` = {}:{partial}\n",
            thousands(total),
            thousands(max)
        );
        let start = buckets.first().map(|b| time(b.start)).unwrap_or_default();
        let end = buckets.last().map(|b| time(b.start.saturating_add(interval))).unwrap_or_default();
        out.push_str(&markdown::code_block("text", &[sparkline(&counts, max), format!("{start} → {end}")]));
    }
    if let Some(note) = &h.note {
        let _ = writeln!(out, "\n*{}*", markdown::text(note));
    }
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
    let _ = writeln!(out, "### Marks\n");
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
        let _ = writeln!(out, "#### {}. {when} · {} ({})\n", i + 1, markdown::text(&m.pane), markdown::code(&redact_userinfo(&m.source)));
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
    fn sparklines_scale_to_the_largest_bucket_and_leave_empty_ones_blank() {
        assert_eq!(sparkline(&[0, 1, 50, 100], 100), " ▁▅█");
        assert_eq!(sparkline(&[3, 3], 3), "██");
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
        assert_eq!(buckets.len(), 50);
        assert_eq!(interval, 2 * 60 * 1_000_000_000);
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
            kql: true,
            command_source: Some("--es https://es.example:9200 --index 'logs-*'".into()),
            range: TimeRange::ALL,
            range_label: "All time".into(),
            hits: None,
            loaded: 0,
            histogram: None,
            charts: vec![],
            comparison: None,
            patterns: None,
        };
        let text = render(&Report {
            generated: 0,
            title: String::new(),
            authors: vec![],
            panes: vec![pane],
            marks: vec![],
            request_paths: vec![],
            draft: None,
        });
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
            title: String::new(),
            authors: vec![],
            panes: vec![],
            marks: vec![mark("2015-05-17T09:00:00Z", "second"), mark("2015-05-17T08:00:00Z", "first")],
            request_paths: vec![],
            draft: None,
        });
        let marks = text.split("### Marks").nth(1).unwrap();
        let first = marks.find("first").unwrap();
        let second = marks.find("second").unwrap();
        assert!(first < second, "{text}");
        assert!(marks.contains("#### 1. `2015-05-17T08:00:00Z`"), "{text}");
    }
}
