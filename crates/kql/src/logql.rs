//! KQL → LogQL (Grafana Loki).
//!
//! Shape of the result: `{selector} <line filters> <parser stage> <label filters>`.
//! - Top-level conditions on stream labels (`job:nginx`, `not env:dev`, `job:(a or b)`,
//!   `job:web*`) become stream matchers.
//! - Top-level free text (and `message:…`, the raw line) becomes case-insensitive line filters.
//! - Everything else becomes label filter expressions after the parser stage, with numeric,
//!   duration or byte-size comparisons for ranges. LogQL label filters have no `not`, so
//!   negations are pushed down to the comparisons (`!=`, `!~`, the opposite range operator).
//!
//! What LogQL cannot express (free text under `or`/`not` with fields, nested queries, wildcard
//! field names, date ranges, ranges on text) is an error naming the part of the query.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::KqlError;
use super::ast::{Ast, FieldRef, Literal};

// Field names are nginx's variable names, the same the local access-log parser gives, so
// `status`, `remote_addr` and `http_user_agent` mean the same on Loki as on a local file.

/// Loki `pattern` stage for nginx's default `combined` log format.
pub const NGINX_COMBINED_PATTERN: &str = r#"<remote_addr> - <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>""#;

/// Loki `pattern` stage for Apache's `combined` log format (`%h %l %u %t "%r" %>s %b …`);
/// `%l` is skipped, as it is nearly always `-`.
pub const APACHE_COMBINED_PATTERN: &str = r#"<remote_addr> <_> <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>""#;

/// Loki `pattern` stage for the `common` access-log layout (`%h %l %u %t "%r" %>s %b`).
pub const COMMON_PATTERN: &str = r#"<remote_addr> <_> <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent>"#;

/// The LogQL parser stage that extracts fields from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogqlParser {
    /// `| json`
    Json,
    /// `| logfmt`
    Logfmt,
    /// `| pattern` for nginx's combined format ([`NGINX_COMBINED_PATTERN`]).
    Nginx,
    /// `| pattern` for Apache's combined format ([`APACHE_COMBINED_PATTERN`]).
    Apache,
    /// `| pattern` for the common access-log format ([`COMMON_PATTERN`]).
    Common,
    /// `| regexp` with named groups.
    Regexp(String),
}

impl FromStr for LogqlParser {
    type Err = KqlError;

    /// `json`, `logfmt`, `nginx` (or `access`), `apache`, `common`, or `regexp:<RE>` (RE with
    /// named groups).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(LogqlParser::Json),
            "logfmt" => Ok(LogqlParser::Logfmt),
            "nginx" | "access" => Ok(LogqlParser::Nginx),
            "apache" => Ok(LogqlParser::Apache),
            "common" => Ok(LogqlParser::Common),
            _ => match s.strip_prefix("regexp:") {
                Some(re) if !re.is_empty() => {
                    regex::Regex::new(re).map_err(|e| {
                        err(format!("--parser regexp: invalid regular expression: {e}"))
                    })?;
                    Ok(LogqlParser::Regexp(re.to_string()))
                }
                _ => Err(err(format!(
                    "unknown LogQL parser {:?}: expected json, logfmt, nginx, apache, common or regexp:<RE>",
                    logsleuth_core::text::sanitize(s)
                ))),
            },
        }
    }
}

impl LogqlParser {
    /// The pipeline stage, e.g. `| json`.
    pub fn stage(&self) -> String {
        match self {
            LogqlParser::Json => "| json".into(),
            LogqlParser::Logfmt => "| logfmt".into(),
            LogqlParser::Nginx => format!("| pattern {}", go_raw_or_quoted(NGINX_COMBINED_PATTERN)),
            LogqlParser::Apache => {
                format!("| pattern {}", go_raw_or_quoted(APACHE_COMBINED_PATTERN))
            }
            LogqlParser::Common => format!("| pattern {}", go_raw_or_quoted(COMMON_PATTERN)),
            LogqlParser::Regexp(re) => format!("| regexp {}", go_raw_or_quoted(re)),
        }
    }

    /// The `--parser` spelling that parses back to this value.
    pub fn name(&self) -> String {
        match self {
            LogqlParser::Json => "json".into(),
            LogqlParser::Logfmt => "logfmt".into(),
            LogqlParser::Nginx => "nginx".into(),
            LogqlParser::Apache => "apache".into(),
            LogqlParser::Common => "common".into(),
            LogqlParser::Regexp(re) => format!("regexp:{re}"),
        }
    }
}

impl fmt::Display for LogqlParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stage())
    }
}

/// How to build the LogQL query.
#[derive(Debug, Clone, Default)]
pub struct LogqlOptions {
    /// The base stream selector, e.g. `{job="nginx"}` (may be empty when the query itself has
    /// stream-label conditions).
    pub selector: String,
    /// Field names that are stream labels (the selector's label names count too).
    pub labels: Vec<String>,
    /// The parser stage for the remaining fields. When `None`, field conditions are still
    /// emitted as label filters (they then apply to stream labels and structured metadata).
    pub parser: Option<LogqlParser>,
}

fn err(message: impl Into<String>) -> KqlError {
    KqlError {
        message: message.into(),
        offset: None,
    }
}

fn cannot(part: &Ast, why: &str) -> KqlError {
    err(format!("cannot translate `{part}` to LogQL: {why}"))
}

/// A Go double-quoted string literal (LogQL strings are Go strings).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Go raw string (backticks) when possible: patterns read better without escapes.
fn go_raw_or_quoted(s: &str) -> String {
    if s.contains('`') || s.chars().any(|c| c.is_control()) {
        go_quote(s)
    } else {
        format!("`{s}`")
    }
}

/// The selector's label names (`{job="a", env=~"p.*"}` → job, env).
fn selector_labels(selector: &str) -> Result<Vec<String>, KqlError> {
    let s = selector.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    if !(s.starts_with('{') && s.ends_with('}')) {
        return Err(err(format!(
            "invalid stream selector {s:?}: expected {{label=\"value\", …}}"
        )));
    }
    let re = regex::Regex::new(
        r#"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)"#,
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(re
        .captures_iter(s)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .collect())
}

/// A LogQL label name for a field: characters outside `[A-Za-z0-9_]` become `_`, as the json
/// and logfmt parsers name nested keys (`user.name` → `user_name`).
pub fn label_name(field: &str) -> String {
    let mut out: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The regex for a wildcard value (Loki anchors label regexes itself).
fn wildcard_regex(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| regex::escape(p))
        .collect::<Vec<_>>()
        .join(".*")
}

struct Translator {
    labels: BTreeSet<String>,
}

/// A line filter: regex to keep (`|~`) or drop (`!~`).
struct LineFilter {
    keep: bool,
    regex: String,
}

impl Translator {
    fn is_line_text(field: Option<&FieldRef>) -> bool {
        match field {
            None => true,
            Some(FieldRef::Name(n)) => n == "message",
            Some(FieldRef::Wildcard(_)) => false,
        }
    }

    /// The (case-insensitive) regex of free text, for a line filter.
    fn text_regex(value: &Literal) -> String {
        match value {
            Literal::Wildcard(parts) => wildcard_regex(parts),
            other => regex::escape(&other.text()),
        }
    }

    /// Free text only (a term, or an `or` of terms): its regex alternatives.
    fn free_text_alternatives(ast: &Ast) -> Option<Vec<String>> {
        match ast {
            Ast::Is { field, value, .. }
                if Self::is_line_text(field.as_ref()) && !value.is_star() =>
            {
                Some(vec![Self::text_regex(value)])
            }
            Ast::Or(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(Self::free_text_alternatives(i)?);
                }
                Some(out)
            }
            _ => None,
        }
    }

    fn line_filter(ast: &Ast) -> Option<LineFilter> {
        let (keep, inner) = match ast {
            Ast::Not(inner) => (false, &**inner),
            other => (true, other),
        };
        let alts = Self::free_text_alternatives(inner)?;
        let body = if alts.len() == 1 {
            alts.into_iter().next()?
        } else {
            format!("(?:{})", alts.join("|"))
        };
        Some(LineFilter {
            keep,
            regex: format!("(?i){body}"),
        })
    }

    /// A stream matcher for a top-level condition on one stream label.
    fn stream_matcher(&self, ast: &Ast) -> Option<String> {
        let (negated, inner) = match ast {
            Ast::Not(inner) => (true, &**inner),
            other => (false, other),
        };
        // label → the alternatives' regexes (or exact values)
        let mut label: Option<String> = None;
        let mut exact: Vec<String> = Vec::new();
        let mut regexes: Vec<String> = Vec::new();
        let mut exists = false;
        let mut collect = |a: &Ast| -> bool {
            let Ast::Is {
                field: Some(FieldRef::Name(name)),
                value,
                ..
            } = a
            else {
                return false;
            };
            if !self.labels.contains(name) || label.as_ref().is_some_and(|l| l != name) {
                return false;
            }
            label = Some(name.clone());
            match value {
                v if v.is_star() => exists = true,
                Literal::Wildcard(parts) => regexes.push(wildcard_regex(parts)),
                other => {
                    regexes.push(regex::escape(&other.text()));
                    exact.push(other.text());
                }
            }
            true
        };
        let ok = match inner {
            Ast::Or(items) => items.iter().all(&mut collect),
            single => collect(single),
        };
        let name = label?;
        if !ok {
            return None;
        }
        if exists {
            // `label:*` (alone or in an `or`): the label is present.
            return Some(format!(
                "{name}{}{}",
                if negated { "=" } else { "=~" },
                go_quote(if negated { "" } else { ".+" })
            ));
        }
        if exact.len() == 1 && regexes.len() == 1 {
            return Some(format!(
                "{name}{}{}",
                if negated { "!=" } else { "=" },
                go_quote(&exact[0])
            ));
        }
        Some(format!(
            "{name}{}{}",
            if negated { "!~" } else { "=~" },
            go_quote(&regexes.join("|"))
        ))
    }

    /// A label filter expression; `negate` pushes a `not` down to the comparisons.
    fn expr(&self, ast: &Ast, negate: bool, whole: &Ast) -> Result<String, KqlError> {
        match ast {
            Ast::And(items) | Ast::Or(items) => {
                let is_and = matches!(ast, Ast::And(_)) != negate;
                let parts = items
                    .iter()
                    .map(|i| {
                        let e = self.expr(i, negate, whole)?;
                        Ok(if matches!(i, Ast::And(_) | Ast::Or(_)) {
                            format!("({e})")
                        } else {
                            e
                        })
                    })
                    .collect::<Result<Vec<_>, KqlError>>()?;
                Ok(parts.join(if is_and { " and " } else { " or " }))
            }
            Ast::Not(inner) => {
                let e = self.expr(inner, !negate, whole)?;
                Ok(if matches!(**inner, Ast::And(_) | Ast::Or(_)) {
                    format!("({e})")
                } else {
                    e
                })
            }
            Ast::Nested { .. } => Err(cannot(ast, "LogQL has no nested documents (`field:{ … }`)")),
            Ast::Is { field, value, .. } => {
                let field = match field {
                    _ if Self::is_line_text(field.as_ref()) => {
                        return Err(cannot(
                            whole,
                            &format!(
                                "free text `{ast}` is a line filter, and LogQL chains line filters only with \
                                 AND at the top level; it cannot be combined with field conditions under \
                                 `or` or `not`"
                            ),
                        ));
                    }
                    Some(FieldRef::Name(n)) => n,
                    _ => return Err(cannot(ast, "LogQL has no wildcard field names")),
                };
                if field == "@timestamp" {
                    return Err(cannot(
                        ast,
                        "time conditions belong in the query's time range, not in LogQL",
                    ));
                }
                let label = label_name(field);
                Ok(match value {
                    v if v.is_star() => format!("{label}{}\"\"", if negate { "=" } else { "!=" }),
                    Literal::Wildcard(parts) => {
                        format!(
                            "{label}{}{}",
                            if negate { "!~" } else { "=~" },
                            go_quote(&wildcard_regex(parts))
                        )
                    }
                    other => format!(
                        "{label}{}{}",
                        if negate { "!=" } else { "=" },
                        go_quote(&other.text())
                    ),
                })
            }
            Ast::Range { field, op, value } => {
                let FieldRef::Name(field) = field else {
                    return Err(cannot(ast, "LogQL has no wildcard field names"));
                };
                if field == "@timestamp" {
                    return Err(cannot(
                        ast,
                        "time ranges belong in the query's time range, not in LogQL",
                    ));
                }
                let text = value.text();
                let bound = text.trim();
                if !(is_number(bound) || is_duration(bound) || is_bytes(bound)) {
                    return Err(cannot(
                        ast,
                        "LogQL label filters compare only numbers, durations (10s) and byte sizes (5MB); \
                         text and date ranges are not supported",
                    ));
                }
                let op = if negate { op.negated() } else { *op };
                Ok(format!("{} {} {bound}", label_name(field), op.symbol()))
            }
        }
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.parse::<f64>().is_ok_and(f64::is_finite)
        && !s.contains(['e', 'E', 'i', 'n', 'N'])
}

fn is_duration(s: &str) -> bool {
    let re = regex::Regex::new(r"^-?(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+$");
    re.is_ok_and(|re| re.is_match(s))
}

fn is_bytes(s: &str) -> bool {
    let re = regex::Regex::new(
        r"(?i)^[0-9]+(?:\.[0-9]+)?\s?(?:b|kib|ki|kb|k|mib|mi|mb|m|gib|gi|gb|g|tib|ti|tb|t|pib|pi|pb|p|eib|ei|eb|e)$",
    );
    re.is_ok_and(|re| re.is_match(s))
}

fn flatten_and<'a>(ast: &'a Ast, out: &mut Vec<&'a Ast>) {
    match ast {
        Ast::And(items) => items.iter().for_each(|i| flatten_and(i, out)),
        // Every line has a message: `*:*` and `message:*` filter nothing.
        a if a.is_match_all() || a.exists_field() == Some("message") => {}
        other => out.push(other),
    }
}

/// Translates a query to LogQL.
pub fn to_logql(ast: &Ast, options: &LogqlOptions) -> Result<String, KqlError> {
    let mut labels: BTreeSet<String> = selector_labels(&options.selector)?.into_iter().collect();
    labels.extend(options.labels.iter().filter(|l| !l.is_empty()).cloned());
    let t = Translator { labels };

    let mut conjuncts = Vec::new();
    flatten_and(ast, &mut conjuncts);

    let mut matchers: Vec<String> = Vec::new();
    let mut line_filters: Vec<LineFilter> = Vec::new();
    let mut label_filters: Vec<String> = Vec::new();
    for c in conjuncts {
        if let Some(m) = t.stream_matcher(c) {
            matchers.push(m);
        } else if let Some(lf) = Translator::line_filter(c) {
            line_filters.push(lf);
        } else {
            label_filters.push(t.expr(c, false, c)?);
        }
    }

    let base = options.selector.trim();
    let base_inner = base
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or("")
        .trim();
    let mut all: Vec<String> = Vec::new();
    if !base_inner.is_empty() {
        all.push(base_inner.to_string());
    }
    for m in &matchers {
        // The query often repeats the selector's own matcher (`job:nginx` with `{job="nginx"}`).
        if !base_inner.split(',').any(|b| b.trim() == m) && !all.contains(m) {
            all.push(m.clone());
        }
    }
    if all.is_empty() {
        return Err(err(
            "LogQL needs a stream selector: pass --selector (e.g. '{job=\"nginx\"}') or query a stream label \
             with --labels",
        ));
    }
    if base_inner.is_empty() && !matchers.iter().any(|m| matcher_is_selective(m)) {
        return Err(err(
            "LogQL needs at least one stream matcher that does not match the empty value (e.g. job=\"nginx\"); \
             pass --selector",
        ));
    }
    let mut out = format!("{{{}}}", all.join(", "));
    for lf in &line_filters {
        out.push_str(if lf.keep { " |~ " } else { " !~ " });
        out.push_str(&go_quote(&lf.regex));
    }
    if let Some(p) = &options.parser {
        out.push(' ');
        out.push_str(&p.stage());
    }
    for lf in &label_filters {
        out.push_str(" | ");
        out.push_str(lf);
    }
    Ok(out)
}

/// Whether a generated matcher excludes the empty value (Loki requires one such matcher).
fn matcher_is_selective(m: &str) -> bool {
    if let Some((_, v)) = m.split_once("=~") {
        let re = v.trim_matches('"').replace("\\\\", "\\");
        return regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| !r.is_match(""));
    }
    if m.contains("!=") || m.contains("!~") {
        return false;
    }
    m.split_once('=').is_some_and(|(_, v)| v != "\"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn opts(selector: &str, labels: &[&str], parser: Option<&str>) -> LogqlOptions {
        LogqlOptions {
            selector: selector.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            parser: parser.map(|p| p.parse().unwrap()),
        }
    }

    fn logql(q: &str, o: &LogqlOptions) -> Result<String, KqlError> {
        to_logql(&parse(q).unwrap(), o)
    }

    #[test]
    fn parsers_from_str() {
        assert_eq!("json".parse::<LogqlParser>().unwrap().stage(), "| json");
        assert_eq!("logfmt".parse::<LogqlParser>().unwrap().stage(), "| logfmt");
        assert!(
            "nginx"
                .parse::<LogqlParser>()
                .unwrap()
                .stage()
                .starts_with("| pattern `<remote_addr> - <remote_user> [")
        );
        assert!(
            "apache"
                .parse::<LogqlParser>()
                .unwrap()
                .stage()
                .starts_with("| pattern `<remote_addr> <_> <remote_user> [")
        );
        assert_eq!(
            "regexp:(?P<level>\\w+)"
                .parse::<LogqlParser>()
                .unwrap()
                .stage(),
            "| regexp `(?P<level>\\w+)`"
        );
        assert!("regexp:(".parse::<LogqlParser>().is_err());
        assert!("xml".parse::<LogqlParser>().is_err());
    }

    #[test]
    fn labels_go_to_the_selector() {
        let o = opts(r#"{job="nginx"}"#, &["env"], None);
        assert_eq!(
            logql("env:prod", &o).unwrap(),
            r#"{job="nginx", env="prod"}"#
        );
        assert_eq!(
            logql("not env:dev", &o).unwrap(),
            r#"{job="nginx", env!="dev"}"#
        );
        assert_eq!(
            logql("env:(prod or staging)", &o).unwrap(),
            r#"{job="nginx", env=~"prod|staging"}"#
        );
        assert_eq!(
            logql("env:pr*", &o).unwrap(),
            r#"{job="nginx", env=~"pr.*"}"#
        );
        assert_eq!(logql("env:*", &o).unwrap(), r#"{job="nginx", env=~".+"}"#);
        assert_eq!(
            logql("job:nginx", &o).unwrap(),
            r#"{job="nginx"}"#,
            "the selector's own labels count"
        );
        assert_eq!(logql("env:a.b", &o).unwrap(), r#"{job="nginx", env="a.b"}"#);
        assert_eq!(logql("", &o).unwrap(), r#"{job="nginx"}"#);
        assert_eq!(logql("message:* and *:*", &o).unwrap(), r#"{job="nginx"}"#);
    }

    #[test]
    fn free_text_becomes_line_filters() {
        let o = opts(r#"{job="nginx"}"#, &[], None);
        assert_eq!(
            logql("error", &o).unwrap(),
            r#"{job="nginx"} |~ "(?i)error""#
        );
        assert_eq!(
            logql(r#""GET /a.php" and not bot"#, &o).unwrap(),
            r#"{job="nginx"} |~ "(?i)GET /a\\.php" !~ "(?i)bot""#
        );
        assert_eq!(
            logql("timeout or refused", &o).unwrap(),
            r#"{job="nginx"} |~ "(?i)(?:timeout|refused)""#
        );
        assert_eq!(
            logql("jpg*x", &o).unwrap(),
            r#"{job="nginx"} |~ "(?i)jpg.*x""#
        );
        assert_eq!(
            logql("message:oops", &o).unwrap(),
            r#"{job="nginx"} |~ "(?i)oops""#
        );
    }

    #[test]
    fn fields_become_parser_and_label_filters() {
        let o = opts(r#"{job="nginx"}"#, &[], Some("json"));
        assert_eq!(
            logql("status:500 and bytes > 1000 and user.name:bob*", &o).unwrap(),
            r#"{job="nginx"} | json | status="500" | bytes > 1000 | user_name=~"bob.*""#
        );
        assert_eq!(
            logql(
                "status:(500 or 503) and not (path:/health or method:HEAD)",
                &o
            )
            .unwrap(),
            r#"{job="nginx"} | json | status="500" or status="503" | (path!="/health" and method!="HEAD")"#
        );
        assert_eq!(
            logql("not bytes >= 10", &o).unwrap(),
            r#"{job="nginx"} | json | bytes < 10"#
        );
        assert_eq!(
            logql("duration > 1.5s", &o).unwrap(),
            r#"{job="nginx"} | json | duration > 1.5s"#
        );
        assert_eq!(
            logql("size < 5MB", &o).unwrap(),
            r#"{job="nginx"} | json | size < 5MB"#
        );
        assert_eq!(
            logql("trace_id:*", &o).unwrap(),
            r#"{job="nginx"} | json | trace_id!="""#
        );
        assert_eq!(
            logql("not trace_id:*", &o).unwrap(),
            r#"{job="nginx"} | json | trace_id="""#
        );
        assert_eq!(
            logql(r#"msg:"say \"hi\"""#, &o).unwrap(),
            r#"{job="nginx"} | json | msg="say \"hi\"""#
        );
    }

    #[test]
    fn everything_together_in_order() {
        let o = opts(r#"{job="nginx"}"#, &["host"], Some("nginx"));
        let q = logql(
            "host:web-01 and error and status >= 500 and not path:/api*",
            &o,
        )
        .unwrap();
        assert_eq!(
            q,
            format!(
                r#"{{job="nginx", host="web-01"}} |~ "(?i)error" | pattern `{NGINX_COMBINED_PATTERN}` | status >= 500 | path!~"/api.*""#
            )
        );
    }

    #[test]
    fn what_logql_cannot_express_is_a_clear_error() {
        let o = opts(r#"{job="nginx"}"#, &[], Some("json"));
        let e = logql("error or status:500", &o).unwrap_err().message;
        assert!(
            e.contains("`error or status:500`") && e.contains("line filter"),
            "{e}"
        );
        let e = logql("user:{ first:a }", &o).unwrap_err().message;
        assert!(e.contains("nested"), "{e}");
        let e = logql("user*:a", &o).unwrap_err().message;
        assert!(e.contains("wildcard field names"), "{e}");
        let e = logql("@timestamp > now-15m", &o).unwrap_err().message;
        assert!(e.contains("time range"), "{e}");
        let e = logql("path > abc", &o).unwrap_err().message;
        assert!(e.contains("`path > abc`") && e.contains("numbers"), "{e}");
        let e = logql("status:500", &opts("", &[], Some("json")))
            .unwrap_err()
            .message;
        assert!(e.contains("--selector"), "{e}");
        let e = logql("not env:dev", &opts("", &["env"], None))
            .unwrap_err()
            .message;
        assert!(e.contains("does not match the empty value"), "{e}");
        assert!(logql("a:1", &opts("job=x", &[], None)).is_err());
    }

    #[test]
    fn selector_can_come_from_the_query_alone() {
        let o = opts("", &["job"], Some("logfmt"));
        assert_eq!(
            logql("job:api and level:error", &o).unwrap(),
            r#"{job="api"} | logfmt | level="error""#
        );
    }
}
