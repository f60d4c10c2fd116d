//! Building LogQL text: the log query of a pane (base selector + parser stage + the KQL
//! translation), and the metric queries behind the charts. Pure functions, no I/O.

use logsleuth_core::model::Nanos;
use crate::{Query, QueryLanguage, SourceError};

pub use logsleuth_kql::LogqlParser;

/// Quotes a string as a LogQL (Go) double-quoted string.
pub fn quote(text: &str) -> String {
    logsleuth_kql::go_quote(text)
}

/// Byte offset just past the closing `}` of the stream selector at the start of `logql`,
/// skipping braces inside quoted strings. `None` when the query does not start with one.
pub fn selector_end(logql: &str) -> Option<usize> {
    let text = logql.trim_start();
    let lead = logql.len() - text.len();
    let mut chars = text.char_indices();
    if chars.next()?.1 != '{' {
        return None;
    }
    let mut in_quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in chars {
        match in_quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    in_quote = None;
                }
            }
            None => match c {
                '"' | '`' => in_quote = Some(c),
                '}' => return Some(lead + i + 1),
                _ => {}
            },
        }
    }
    None
}

/// Whether a log query starts with a stream selector holding at least one matcher (Loki needs
/// one, and a live tail is refused without it).
pub fn has_stream_selector(logql: &str) -> bool {
    match selector_end(logql) {
        Some(end) => {
            let start = logql.len() - logql.trim_start().len();
            logql[start + 1..end - 1].contains(['=', '~'])
        }
        None => false,
    }
}

/// Byte offset just past a string literal (`"…"` with escapes, or `` `…` ``) at the start of
/// `text`, or `None`.
fn string_literal_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    let quote = match chars.next()? {
        (_, c @ ('"' | '`')) => c,
        _ => return None,
    };
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return Some(i + c.len_utf8());
        }
    }
    None
}

/// Where the parser stage goes: after the selector and the line filters that directly follow
/// it (`|= "x"`, `!~ "re"`), so Loki filters lines before parsing them.
fn parser_position(logql: &str) -> Option<usize> {
    let mut pos = selector_end(logql)?;
    loop {
        let rest = &logql[pos..];
        let trimmed = rest.trim_start();
        let op_start = pos + (rest.len() - trimmed.len());
        let Some(op) = ["|=", "!=", "|~", "!~"].iter().find(|op| trimmed.starts_with(**op)) else { return Some(pos) };
        let after_op = &logql[op_start + op.len()..];
        let lit = after_op.trim_start();
        let lit_start = op_start + op.len() + (after_op.len() - lit.len());
        match string_literal_end(lit) {
            Some(end) => pos = lit_start + end,
            None => return Some(pos),
        }
    }
}

/// Whether a log query is a stream selector and line filters only (`{job="a"} |= "x"`): it
/// filters on no parsed label, so its lines can be asked for without a parser stage.
pub fn only_line_filters(logql: &str) -> bool {
    parser_position(logql).is_some_and(|at| logql[at..].trim().is_empty())
}

/// Inserts a parser stage after the stream selector and its leading line filters, unless the
/// query already has it.
pub fn with_parser(logql: &str, parser: Option<&LogqlParser>) -> String {
    let Some(parser) = parser else { return logql.to_string() };
    let stage = parser.stage();
    if logql.contains(&stage) {
        return logql.to_string();
    }
    match parser_position(logql) {
        Some(at) => {
            let rest = logql[at..].trim_start();
            let head = logql[..at].trim_end();
            if rest.is_empty() { format!("{head} {stage}") } else { format!("{head} {stage} {rest}") }
        }
        None => format!("{logql} {stage}"),
    }
}

/// What the log query of a request is built from.
#[derive(Debug, Clone, Default)]
pub struct PipelineContext {
    /// The pane's base stream selector (`{job="nginx"}`); may be empty if the KQL names labels.
    pub selector: String,
    /// Stream label names known to the server (they go into the selector).
    pub labels: Vec<String>,
    /// The parser stage, detected or forced.
    pub parser: Option<LogqlParser>,
}

/// The full log query for a user query: native LogQL as is; KQL translated (see
/// [`translate_kql`]) with the parser stage so parsed labels come back with each line.
pub fn log_query(query: &Query, ctx: &PipelineContext) -> Result<String, SourceError> {
    let logql = match query.language {
        QueryLanguage::Native => {
            let text = query.text.trim();
            if text.is_empty() { ctx.selector.trim().to_string() } else { text.to_string() }
        }
        QueryLanguage::Kql if query.is_empty() => with_parser(ctx.selector.trim(), ctx.parser.as_ref()),
        QueryLanguage::Kql => with_parser(&translate_kql(&query.text, ctx)?, ctx.parser.as_ref()),
    };
    if !has_stream_selector(&logql) {
        return Err(no_selector_error());
    }
    Ok(logql)
}

/// The error for a query without a stream selector.
pub fn no_selector_error() -> SourceError {
    SourceError::Query(
        "Loki needs a stream selector with at least one matcher, e.g. --selector '{job=\"nginx\"}' \
         (or a KQL query on a stream label such as job:nginx)"
            .into(),
    )
}

/// KQL → LogQL through the KQL engine (`logsleuth_kql`), the only place that calls it.
pub fn translate_kql(text: &str, ctx: &PipelineContext) -> Result<String, SourceError> {
    let ast = logsleuth_kql::parse(text).map_err(|e| SourceError::Query(e.to_string()))?;
    kql_engine::to_logql(&ast, ctx)
}

/// Adapter to the KQL engine's LogQL translator. The parser stage is left out here and
/// inserted by [`with_parser`], so parsed field names are the ones this source documents
/// (nginx variable names, as the local access-log parser uses).
mod kql_engine {
    use super::PipelineContext;
    use crate::SourceError;

    pub fn to_logql(ast: &logsleuth_kql::Ast, ctx: &PipelineContext) -> Result<String, SourceError> {
        let options = logsleuth_kql::LogqlOptions { selector: ctx.selector.clone(), labels: ctx.labels.clone(), parser: None };
        logsleuth_kql::to_logql(ast, &options).map_err(|e| SourceError::Query(e.to_string()))
    }
}

/// A field name as a Loki label name, the way the KQL translator names it (characters
/// outside `[A-Za-z0-9_]` become `_`, as `| json` flattens nested keys), so charts and
/// filters agree. Only an empty name is an error.
pub fn label_name(field: &str) -> Result<String, SourceError> {
    let field = field.trim();
    if field.is_empty() {
        return Err(SourceError::Query("a field name is required".into()));
    }
    Ok(logsleuth_kql::logql_label_name(field))
}

/// A LogQL range/duration literal for `ns` (whole seconds when possible, else milliseconds;
/// at least 1ms).
pub fn duration(ns: Nanos) -> String {
    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000_000_000;
    if ns >= S && ns % S == 0 {
        format!("{}s", ns / S)
    } else {
        format!("{}ms", (ns / MS).max(1))
    }
}

/// `sum by (<by>) (count_over_time(<logql> [<range>]))`, or `sum(…)` without a split.
pub fn count_query(logql: &str, by: Option<&str>, range: Nanos) -> String {
    let inner = format!("count_over_time({logql} [{}])", duration(range));
    match by {
        Some(label) => format!("sum by ({label}) ({inner})"),
        None => format!("sum({inner})"),
    }
}

/// `logql | <label> != ""`: only lines carrying the label.
pub fn with_label(logql: &str, label: &str) -> String {
    format!("{logql} | {label} != \"\"")
}

/// `count(sum by (label) (count_over_time(<logql> | label != "" [range])))`: the number of
/// distinct values of a label over the range, counted by Loki (one series per value; lines
/// without the label are not a value).
pub fn distinct_query(logql: &str, label: &str, range: Nanos) -> String {
    format!("count({})", count_query(&with_label(logql, label), Some(label), range))
}

/// `topk(N, sum by (label) (count_over_time(<logql> | label != "" [range])))`.
pub fn topk_query(logql: &str, label: &str, size: usize, range: Nanos) -> String {
    format!("topk({size}, {})", count_query(&with_label(logql, label), Some(label), range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(selector: &str, parser: Option<LogqlParser>) -> PipelineContext {
        PipelineContext { selector: selector.into(), labels: vec![], parser }
    }

    #[test]
    fn distinct_counts_the_series_of_lines_with_the_label() {
        assert_eq!(
            distinct_query(r#"{job="nginx"} | pattern `<remote_addr> - <_>`"#, "remote_addr", 3_600 * 1_000_000_000),
            r#"count(sum by (remote_addr) (count_over_time({job="nginx"} | pattern `<remote_addr> - <_>` | remote_addr != "" [3600s])))"#
        );
    }

    #[test]
    fn selector_end_skips_braces_in_strings() {
        assert_eq!(selector_end(r#"{job="a}b"} |= "x""#), Some(11));
        assert_eq!(selector_end(r#"  {job=`}`}"#), Some(11));
        assert_eq!(selector_end("sum(x)"), None);
        assert_eq!(selector_end("{job=\"x"), None);
        assert!(has_stream_selector(r#"{job="nginx"} |= "GET""#));
        assert!(!has_stream_selector("{}"));
        assert!(!has_stream_selector(r#"|= "error""#));
    }

    #[test]
    fn parser_stage_goes_after_the_selector_and_line_filters_once() {
        let json = LogqlParser::Json;
        assert_eq!(with_parser(r#"{job="a"} |= "x""#, Some(&json)), r#"{job="a"} |= "x" | json"#);
        assert_eq!(with_parser(r#"{job="a"} | status="1""#, Some(&json)), r#"{job="a"} | json | status="1""#);
        assert_eq!(with_parser(r#"{job="a"} | json | level="error""#, Some(&json)), r#"{job="a"} | json | level="error""#);
        assert_eq!(with_parser(r#"{job="a"}"#, None), r#"{job="a"}"#);
        assert_eq!(
            with_parser(r#"{job="a"} |~ "(?i)x\"y" != `z` | status >= 500"#, Some(&json)),
            r#"{job="a"} |~ "(?i)x\"y" != `z` | json | status >= 500"#
        );
        let q = log_query(&Query::kql(""), &ctx(r#"{job="nginx"}"#, Some(LogqlParser::Nginx))).unwrap();
        assert_eq!(
            q,
            r#"{job="nginx"} | pattern `<remote_addr> - <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>"`"#
        );
    }

    #[test]
    fn only_line_filters_means_no_parsed_label_is_asked() {
        assert!(only_line_filters(r#"{job="a"}"#));
        assert!(only_line_filters(r#"{job="a"} |= "x" !~ `y` "#));
        assert!(!only_line_filters(r#"{job="a"} |= "x" | status="500""#));
        assert!(!only_line_filters(r#"{job="a"} | json"#));
        assert!(!only_line_filters(r#"sum(count_over_time({job="a"} [1m]))"#));
    }

    #[test]
    fn native_logql_is_taken_as_is_but_needs_a_selector() {
        let q = Query::native(r#"{job="x"} | json | status >= 500"#);
        assert_eq!(log_query(&q, &ctx("", Some(LogqlParser::Json))).unwrap(), r#"{job="x"} | json | status >= 500"#);
        assert!(matches!(log_query(&Query::native(r#"|= "x""#), &ctx("", None)), Err(SourceError::Query(_))));
        assert!(matches!(log_query(&Query::kql(""), &ctx("", None)), Err(SourceError::Query(_))));
    }

    #[test]
    fn parser_values_parse_like_kql_parser() {
        assert_eq!("json".parse::<LogqlParser>().unwrap(), LogqlParser::Json);
        assert_eq!("regexp:(?P<ip>\\S+)".parse::<LogqlParser>().unwrap().stage(), "| regexp `(?P<ip>\\S+)`");
        assert_eq!(LogqlParser::Regexp("a`b".into()).stage(), "| regexp \"a`b\"");
        assert!("xml".parse::<LogqlParser>().is_err());
        assert!("regexp:(".parse::<LogqlParser>().is_err());
    }

    #[test]
    fn metric_queries_and_durations() {
        assert_eq!(duration(300_000_000_000), "300s");
        assert_eq!(duration(1_500_000_000), "1500ms");
        assert_eq!(duration(5), "1ms");
        assert_eq!(
            count_query(r#"{job="a"}"#, Some("status"), 60_000_000_000),
            r#"sum by (status) (count_over_time({job="a"} [60s]))"#
        );
        assert_eq!(
            topk_query(r#"{job="a"} | json"#, "client_ip", 5, 3_600_000_000_000),
            r#"topk(5, sum by (client_ip) (count_over_time({job="a"} | json | client_ip != "" [3600s])))"#
        );
        assert_eq!(label_name("client.ip").unwrap(), "client_ip");
        assert_eq!(label_name("http.response-code").unwrap(), "http_response_code");
        assert!(label_name("  ").is_err());
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
    }
}
