//! The report's "Request path" section: each marked thread (a value followed in all panes,
//! `crate::features::thread`) as the hops of the request through the services, oldest first,
//! with the gap between hops and the first error line flagged. Plain data in, Markdown out;
//! every log string goes through [`super::markdown`].

use std::fmt::Write as _;

use super::markdown;
use logsleuth_core::model::Nanos;

/// One marked thread.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPath {
    /// What was followed (`order_id = ord-1`).
    pub title: String,
    /// Its hops, oldest first.
    pub hops: Vec<Hop>,
}

/// One line of a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// The line's time.
    pub time: Option<Nanos>,
    /// Time since the previous hop.
    pub gap: Option<Nanos>,
    /// The pane / source it came from.
    pub source: String,
    /// An error line.
    pub error: bool,
    /// The thread's first error line.
    pub first_error: bool,
    /// The line.
    pub line: String,
}

/// Appends the section (nothing when no thread was marked, so reports without one are as
/// before).
pub fn render(out: &mut String, paths: &[RequestPath]) {
    if paths.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Request path\n");
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "### {}\n", markdown::code(&p.title));
        let services: Vec<&str> = p.hops.iter().fold(Vec::new(), |mut acc, h| {
            if acc.last() != Some(&h.source.as_str()) {
                acc.push(h.source.as_str());
            }
            acc
        });
        let path: Vec<String> = services.iter().map(|s| markdown::code(s)).collect();
        let _ = writeln!(out, "{} lines: {}\n", p.hops.len(), path.join(" → "));
        if let Some(e) = p.hops.iter().find(|h| h.first_error) {
            let _ = writeln!(out, "First error: {} in {}\n", markdown::code(&time(e.time)), markdown::code(&e.source));
        }
        let _ = writeln!(out, "| time | gap | source | | line |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for h in &p.hops {
            let gap = h.gap.map(logsleuth_sources::thread::format_gap).unwrap_or_default();
            let mark = if h.first_error { "**first error**" } else if h.error { "error" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {gap} | {} | {mark} | {} |",
                markdown::code(&time(h.time)),
                markdown::code(&h.source),
                markdown::code(&logsleuth_core::text::truncate_chars(&h.line, 300))
            );
        }
    }
}

fn time(t: Option<Nanos>) -> String {
    t.map(logsleuth_core::time::format_rfc3339).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_in_order_with_the_first_error_and_escaped_text() {
        let s = 1_000_000_000;
        let hop = |t: Nanos, gap: Option<Nanos>, source: &str, error: bool, first: bool, line: &str| Hop {
            time: Some(t),
            gap,
            source: source.into(),
            error,
            first_error: first,
            line: line.into(),
        };
        let path = RequestPath {
            title: "order_id = ord-830664".into(),
            hops: vec![
                hop(1_795_330_163_871_000_000, None, "1 shop-frontend.jsonl", false, false, "checkout submitted"),
                hop(1_795_330_180_483_113_158, Some(16_612_113_158), "2 {job=\"shop-api\"}", true, true, "payment gateway timeout | 504"),
                hop(1_795_330_180_612_000_000 + s, Some(1_128_886_842), "1 shop-frontend.jsonl", false, false, "\u{1b}[31mpending"),
            ],
        };
        let mut out = String::new();
        render(&mut out, &[path]);
        assert!(out.starts_with("\n## Request path\n\n### `order_id = ord-830664`\n"), "{out}");
        assert!(out.contains("3 lines: `1 shop-frontend.jsonl` → `2 {job=\"shop-api\"}` → `1 shop-frontend.jsonl`"), "{out}");
        assert!(out.contains("First error: `2026-11-22T06:49:40.483113158Z` in `2 {job=\"shop-api\"}`"), "{out}");
        assert!(out.contains("| +16.6s | `2 {job=\"shop-api\"}` | **first error** | `payment gateway timeout \\| 504` |"), "{out}");
        assert!(!out.contains('\u{1b}'), "escapes never reach the report");
        let mut empty = String::new();
        render(&mut empty, &[]);
        assert_eq!(empty, "");
    }
}
