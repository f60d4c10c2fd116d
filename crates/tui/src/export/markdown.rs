//! Putting hostile text into Markdown so it stays text: log lines, field values and notes must
//! not become headings, links, tables, raw HTML or escape sequences in the rendered report.
//!
//! Everything first goes through [`logsleuth_core::text::sanitize`] (control characters and bidi
//! overrides shown escaped, so a `cat` of the report is safe too); then:
//! - prose ([`text`]) backslash-escapes every ASCII punctuation character, which CommonMark
//!   renders literally;
//! - inline values ([`code`]) go in a code span whose backtick fence is longer than any run of
//!   backticks inside, with `|` escaped so a table cell cannot be split (GFM);
//! - lines ([`code_block`]) go in a fenced block whose fence is longer than any backtick run.

/// `text` as Markdown prose that renders exactly as the text.
pub fn text(text: &str) -> String {
    let clean = logsleuth_core::text::sanitize(text);
    let mut out = String::with_capacity(clean.len() + 8);
    for c in clean.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// `text` as an inline code span, safe in a table cell. Empty text gives `*(empty)*`.
pub fn code(text: &str) -> String {
    // In a GFM table a `|` ends the cell even inside a code span unless escaped; the escape
    // is removed before the span is rendered.
    span(&logsleuth_core::text::sanitize(text).replace('|', "\\|"))
}

/// A code span outside tables, to copy as it is (a command line): `|` stays as it is.
pub fn code_outside_tables(text: &str) -> String {
    span(&logsleuth_core::text::sanitize(text))
}

fn span(clean: &str) -> String {
    if clean.is_empty() {
        return "*(empty)*".into();
    }
    let fence = "`".repeat(longest_backtick_run(clean) + 1);
    // A span starting or ending with a backtick (or a space) needs padding, which CommonMark
    // strips again.
    let pad = clean.starts_with('`') || clean.ends_with('`') || clean.starts_with(' ') || clean.ends_with(' ');
    if pad { format!("{fence} {clean} {fence}") } else { format!("{fence}{clean}{fence}") }
}

/// Lines of already-safe text in a fenced code block (`info` is the info string, e.g. `text`).
/// The caller sanitizes the lines; the fence outgrows any backtick run in them.
pub fn code_block(info: &str, lines: &[String]) -> String {
    let longest = lines.iter().map(|l| longest_backtick_run(l)).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{fence}{info}\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// One log line for a code block: sanitized (newlines and escapes shown as `\n`, `\e`).
pub fn block_line(text: &str) -> String {
    logsleuth_core::text::sanitize(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_escapes_markdown_and_html() {
        assert_eq!(text("# <b>*hi*</b> [x](y)"), "\\# \\<b\\>\\*hi\\*\\<\\/b\\> \\[x\\]\\(y\\)");
        assert_eq!(text("plain words 42"), "plain words 42");
        assert_eq!(text("bell\x07 esc\x1b[31m"), "bell\\\\x07 esc\\\\e\\[31m");
    }

    #[test]
    fn code_spans_outgrow_backticks_and_keep_table_cells_whole() {
        assert_eq!(code("GET /"), "`GET /`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code(""), "*(empty)*");
        assert_eq!(code("x\ny"), "`x\\ny`");
    }

    #[test]
    fn fenced_blocks_cannot_be_closed_by_their_content() {
        let block = code_block("text", &["```".to_string(), "````rm -rf".to_string()]);
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert_eq!(code_block("", &["a".into()]), "```\na\n```\n");
    }
}
