//! KQL → a CloudWatch Logs filter pattern (`FilterLogEvents`' `filterPattern`).
//!
//! A filter pattern cannot say everything KQL says (free text is a case-sensitive term match
//! there and a case-insensitive search here; a negation there skips events without the field,
//! here it keeps them). So the pattern made here is a *pre-filter*: every event the KQL query
//! matches also matches the pattern, and the CloudWatch source evaluates the KQL query itself
//! on what comes back. A condition that cannot be expressed soundly is left out of the pattern
//! (an `and` only narrows, so leaving a part out widens), and [`CloudWatchFilter::complete`]
//! says whether the pattern is the whole query.
//!
//! Two pattern shapes are made, by the layout of the messages:
//! - JSON messages: `{ ($.status >= 500) && ($.level = "error") }`;
//! - space-delimited access logs (nginx/Apache `combined` and `common`): `[remote_addr,
//!   ident, remote_user, time_local, request, status >= 500, ...]`, each column named as the
//!   access-log parser names its field.

use crate::ast::{Ast, FieldRef, Literal, RangeOp};

/// What a JSON field's values are, where the caller knows it (from a sample of messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    /// JSON numbers: compared with `=`, `<`, `>=` … as numbers.
    Number,
    /// JSON strings: compared with `=` (and `*` wildcards).
    String,
}

/// How the messages are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudWatchLayout {
    /// Free text: no condition can be expressed soundly (terms are case-sensitive there).
    Unstructured,
    /// One JSON object per event. `kinds` gives each known field's kind; `None` means
    /// unknown, and the literal decides (an unquoted number is a number, the rest strings).
    Json {
        /// Known field kinds (dotted names), from a sample.
        kinds: Option<Vec<(String, JsonKind)>>,
    },
    /// Space-delimited columns (quoted and bracketed parts are one column): the column names,
    /// in order, and which of them hold numbers.
    SpaceDelimited {
        /// Column names, in order.
        columns: Vec<String>,
        /// Columns compared as numbers.
        numeric: Vec<String>,
        /// Whether more columns may follow the named ones.
        open_ended: bool,
    },
}

impl CloudWatchLayout {
    /// The nginx/Apache `combined` layout, with the access-log parser's field names.
    pub fn access_combined() -> Self {
        CloudWatchLayout::SpaceDelimited {
            columns: [
                "remote_addr",
                "ident",
                "remote_user",
                "time_local",
                "request",
                "status",
                "body_bytes_sent",
                "http_referer",
                "http_user_agent",
            ]
            .map(String::from)
            .to_vec(),
            numeric: vec!["status".into(), "body_bytes_sent".into()],
            open_ended: true,
        }
    }

    /// The `common` layout (no referer and agent).
    pub fn access_common() -> Self {
        let CloudWatchLayout::SpaceDelimited { mut columns, numeric, .. } = Self::access_combined() else {
            unreachable!("access_combined is space-delimited")
        };
        columns.truncate(7);
        CloudWatchLayout::SpaceDelimited { columns, numeric, open_ended: true }
    }
}

/// A filter pattern and whether it says the whole query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchFilter {
    /// The pattern; empty when no part of the query could be expressed (every event matches).
    pub pattern: String,
    /// True when the pattern matches exactly the events the query matches.
    pub complete: bool,
}

/// One comparison in a pattern: `field op value`, value already written for the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cmp {
    field: String,
    op: &'static str,
    value: String,
}

/// Translates `ast` for messages laid out as `layout`.
pub fn to_cloudwatch(ast: &Ast, layout: &CloudWatchLayout) -> CloudWatchFilter {
    if let CloudWatchLayout::Json { kinds: None } = layout {
        return to_cloudwatch_json_untyped(ast);
    }
    let mut conjuncts = Vec::new();
    flatten_and(ast, &mut conjuncts);
    let mut complete = true;
    // Each kept conjunct: alternatives (an `or`) of comparisons.
    let mut kept: Vec<Vec<Cmp>> = Vec::new();
    for c in conjuncts {
        if is_match_all(c) {
            continue;
        }
        match alternatives(c, layout) {
            Some(alts) => kept.push(alts),
            None => complete = false,
        }
    }
    let pattern = match layout {
        CloudWatchLayout::Unstructured => String::new(),
        CloudWatchLayout::Json { .. } => json_pattern(&kept),
        CloudWatchLayout::SpaceDelimited { columns, open_ended, .. } => {
            let (pattern, all_kept) = space_pattern(&kept, columns, *open_ended);
            complete &= all_kept;
            pattern
        }
    };
    CloudWatchFilter { pattern, complete }
}

fn flatten_and<'a>(ast: &'a Ast, out: &mut Vec<&'a Ast>) {
    match ast {
        Ast::And(parts) => parts.iter().for_each(|p| flatten_and(p, out)),
        other => out.push(other),
    }
}

fn is_match_all(ast: &Ast) -> bool {
    matches!(ast, Ast::Is { field: None, value: Literal::Wildcard(w), .. } if w.iter().all(String::is_empty)) || *ast == Ast::match_all()
}

/// The comparisons any of which the condition needs, or `None` when it cannot be expressed.
fn alternatives(ast: &Ast, layout: &CloudWatchLayout) -> Option<Vec<Cmp>> {
    match ast {
        Ast::Or(parts) => {
            let mut all = Vec::new();
            for p in parts {
                all.extend(alternatives(p, layout)?);
            }
            Some(all)
        }
        Ast::Is { field: Some(FieldRef::Name(field)), value, .. } => is_cmp(field, value, layout).map(|c| vec![c]),
        Ast::Range { field: FieldRef::Name(field), op, value } => range_cmp(field, *op, value, layout).map(|c| vec![c]),
        // Free text, wildcard field names, negations (they keep events without the field here
        // and drop them there), nested queries, an `and` inside an `or`: left to memory.
        _ => None,
    }
}

fn number(text: &str) -> Option<String> {
    let n: f64 = text.trim().parse().ok()?;
    n.is_finite().then(|| text.trim().to_string())
}

/// A string value for a pattern, quoted; `*` stays a wildcard only where KQL meant one.
fn quoted(parts: &[&str], wildcard: bool) -> Option<String> {
    let mut out = String::from("\"");
    for (i, part) in parts.iter().enumerate() {
        if part.contains(['*', '"', '\\']) || part.chars().any(char::is_control) {
            // A literal star cannot be told from a wildcard there; quotes and backslashes
            // have no documented escape inside a pattern's string.
            return None;
        }
        if i > 0 && wildcard {
            out.push('*');
        }
        out.push_str(part);
    }
    out.push('"');
    Some(out)
}

fn is_cmp(field: &str, value: &Literal, layout: &CloudWatchLayout) -> Option<Cmp> {
    let (text_parts, wildcard): (Vec<&str>, bool) = match value {
        Literal::Str(s) => (vec![s.as_str()], false),
        Literal::Wildcard(parts) => (parts.iter().map(String::as_str).collect(), true),
        _ => return None,
    };
    if field == "message" || field == "@timestamp" {
        return None;
    }
    let kind = field_kind(field, layout)?;
    let plain = (!wildcard).then(|| text_parts[0]);
    let value = match kind {
        JsonKind::Number => number(plain?)?,
        JsonKind::String => {
            if wildcard && text_parts.first().is_some_and(|p| p.is_empty()) {
                // A leading wildcard: CloudWatch matches only prefixes and exact values
                // reliably; leave it to memory.
                return None;
            }
            quoted(&text_parts, wildcard)?
        }
    };
    Some(Cmp { field: field.to_string(), op: "=", value })
}

fn range_cmp(field: &str, op: RangeOp, value: &Literal, layout: &CloudWatchLayout) -> Option<Cmp> {
    let Literal::Str(s) = value else { return None };
    if field_kind(field, layout)? != JsonKind::Number {
        return None;
    }
    Some(Cmp { field: field.to_string(), op: op.symbol(), value: number(s)? })
}

/// How `field` is compared in this layout; `None` when the pattern cannot name it.
fn field_kind(field: &str, layout: &CloudWatchLayout) -> Option<JsonKind> {
    match layout {
        CloudWatchLayout::Unstructured => None,
        CloudWatchLayout::Json { kinds: Some(kinds) } => kinds.iter().find(|(n, _)| n == field).map(|(_, k)| *k),
        // Resolved in `to_cloudwatch` before any field is looked at.
        CloudWatchLayout::Json { kinds: None } => None,
        CloudWatchLayout::SpaceDelimited { columns, numeric, .. } => {
            columns.iter().any(|c| c == field).then(|| if numeric.iter().any(|n| n == field) { JsonKind::Number } else { JsonKind::String })
        }
    }
}

fn json_path_ok(field: &str) -> bool {
    !field.is_empty()
        && field.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '@'))
}

/// JSON with unknown kinds: the literal decides.
fn literal_kind(value: &Literal) -> JsonKind {
    match value {
        Literal::Str(s) if number(s).is_some() => JsonKind::Number,
        _ => JsonKind::String,
    }
}

fn json_pattern(kept: &[Vec<Cmp>]) -> String {
    if kept.is_empty() {
        return String::new();
    }
    let term = |c: &Cmp| format!("($.{} {} {})", c.field, c.op, c.value);
    let parts: Vec<String> = kept
        .iter()
        .map(|alts| if alts.len() == 1 { term(&alts[0]) } else { format!("({})", alts.iter().map(term).collect::<Vec<_>>().join(" || ")) })
        .collect();
    format!("{{ {} }}", parts.join(" && "))
}

/// The space-delimited pattern, and whether every kept condition fit in it (an `or` across
/// two columns cannot).
fn space_pattern(kept: &[Vec<Cmp>], columns: &[String], open_ended: bool) -> (String, bool) {
    let mut all_fit = true;
    let mut per_column: Vec<Vec<String>> = vec![Vec::new(); columns.len()];
    for alts in kept {
        let Some(col) = columns.iter().position(|c| *c == alts[0].field) else {
            continue;
        };
        if alts.iter().any(|a| a.field != alts[0].field) {
            all_fit = false;
            continue;
        }
        let text = alts.iter().map(|a| format!("{}{}{}", a.field, a.op, a.value)).collect::<Vec<_>>().join(" || ");
        let grouped = alts.len() > 1 && !per_column[col].is_empty();
        per_column[col].push(if grouped { format!("({text})") } else { text });
    }
    let Some(last) = per_column.iter().rposition(|c| !c.is_empty()) else {
        return (String::new(), all_fit);
    };
    let mut parts: Vec<String> = columns[..=last]
        .iter()
        .zip(&per_column)
        .map(|(name, conds)| if conds.is_empty() { name.clone() } else { conds.join(" && ") })
        .collect();
    if last + 1 < columns.len() || open_ended {
        parts.push("...".into());
    }
    (format!("[{}]", parts.join(", ")), all_fit)
}

/// Translates for JSON messages whose field kinds are unknown (the `kql --to cloudwatch`
/// command): the literal decides whether a comparison is numeric.
pub fn to_cloudwatch_json_untyped(ast: &Ast) -> CloudWatchFilter {
    // Resolve each field's kind from the literals it is compared with, then translate with
    // those kinds (a field compared with a number is a number).
    let mut kinds: Vec<(String, JsonKind)> = Vec::new();
    collect_kinds(ast, &mut kinds);
    to_cloudwatch(ast, &CloudWatchLayout::Json { kinds: Some(kinds) })
}

fn collect_kinds(ast: &Ast, out: &mut Vec<(String, JsonKind)>) {
    match ast {
        Ast::And(p) | Ast::Or(p) => p.iter().for_each(|a| collect_kinds(a, out)),
        Ast::Not(a) => collect_kinds(a, out),
        Ast::Is { field: Some(FieldRef::Name(f)), value, .. } | Ast::Range { field: FieldRef::Name(f), value, .. }
            if json_path_ok(f) && !out.iter().any(|(n, _)| n == f) =>
        {
            out.push((f.clone(), literal_kind(value)));
        }
        _ => {}
    }
}

/// KQL → a Logs Insights `filter` expression (without the `filter` keyword), or `None` when
/// the query uses what Insights cannot say the same way (nested queries, wildcard field
/// names). Free text is a case-insensitive regular expression over `@message`, which holds
/// every field's text for the JSON and access-log messages this is used for.
pub fn to_insights_filter(ast: &Ast) -> Option<String> {
    if is_match_all(ast) {
        return Some(String::new());
    }
    insights_expr(ast)
}

fn insights_expr(ast: &Ast) -> Option<String> {
    Some(match ast {
        Ast::And(parts) | Ast::Or(parts) => {
            let joiner = if matches!(ast, Ast::And(_)) { " and " } else { " or " };
            let parts: Vec<String> = parts.iter().filter(|p| !is_match_all(p)).map(insights_expr).collect::<Option<_>>()?;
            if parts.is_empty() {
                return Some("1 = 1".into());
            }
            format!("({})", parts.join(joiner))
        }
        Ast::Not(inner) => format!("not ({})", insights_expr(inner)?),
        Ast::Is { field: None, value, .. } => {
            let re = literal_regex(value)?;
            format!("@message like /(?i){re}/")
        }
        Ast::Is { field: Some(FieldRef::Name(f)), value, .. } => {
            let name = insights_field(f)?;
            if f == "message" {
                return Some(format!("@message like /(?i){}/", literal_regex(value)?));
            }
            match value {
                Literal::Str(s) if number(s).is_some() => {
                    format!("({name} = {} or {name} = \"{}\")", s.trim(), s.trim())
                }
                Literal::Str(s) => format!("{name} = \"{}\"", insights_string(s)?),
                Literal::Wildcard(parts) if parts.len() == 2 && parts.iter().all(String::is_empty) => {
                    format!("ispresent({name})")
                }
                Literal::Wildcard(_) => format!("{name} like /^{}$/", literal_regex(value)?),
                Literal::Bool(b) => format!("{name} = {b}"),
                Literal::Null => return None,
            }
        }
        Ast::Range { field: FieldRef::Name(f), op, value: Literal::Str(s) } => {
            format!("{} {} {}", insights_field(f)?, op.symbol(), number(s)?)
        }
        _ => return None,
    })
}

fn insights_field(f: &str) -> Option<String> {
    if json_path_ok(f) {
        return Some(f.to_string());
    }
    (!f.contains('`') && !f.chars().any(char::is_control)).then(|| format!("`{f}`"))
}

fn insights_string(s: &str) -> Option<String> {
    (!s.chars().any(char::is_control)).then(|| s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A literal as a regular expression: escaped text, `.*` for KQL wildcards.
fn literal_regex(value: &Literal) -> Option<String> {
    let escape = |t: &str| {
        let mut out = String::new();
        for c in t.chars() {
            if c.is_control() {
                return None;
            }
            if "\\.+*?()|[]{}^$/".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Some(out)
    };
    match value {
        Literal::Str(s) => escape(s),
        Literal::Wildcard(parts) => {
            let parts: Vec<String> = parts.iter().map(|p| escape(p)).collect::<Option<_>>()?;
            Some(parts.join(".*"))
        }
        Literal::Bool(b) => Some(b.to_string()),
        Literal::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(q: &str) -> CloudWatchFilter {
        to_cloudwatch(&crate::parse(q).unwrap(), &CloudWatchLayout::access_combined())
    }

    fn json(q: &str, kinds: &[(&str, JsonKind)]) -> CloudWatchFilter {
        let kinds = Some(kinds.iter().map(|(n, k)| (n.to_string(), *k)).collect());
        to_cloudwatch(&crate::parse(q).unwrap(), &CloudWatchLayout::Json { kinds })
    }

    #[test]
    fn access_log_conditions_become_space_delimited_columns() {
        let f = access("status >= 500");
        assert_eq!(f.pattern, "[remote_addr, ident, remote_user, time_local, request, status>=500, ...]");
        assert!(f.complete);
        let f = access("status >= 500 and status < 600 and remote_addr: 203.0.113.77");
        assert_eq!(f.pattern, "[remote_addr=\"203.0.113.77\", ident, remote_user, time_local, request, status>=500 && status<600, ...]");
        let f = access("status: (502 or 504)");
        assert_eq!(f.pattern, "[remote_addr, ident, remote_user, time_local, request, status=502 || status=504, ...]");
        assert!(f.complete);
    }

    #[test]
    fn what_cannot_be_said_soundly_is_left_to_memory() {
        // Free text is case-insensitive in KQL and case-sensitive in a pattern.
        let f = access("EvilBot and status: 502");
        assert_eq!(f.pattern, "[remote_addr, ident, remote_user, time_local, request, status=502, ...]");
        assert!(!f.complete);
        // A negation keeps events without the field in KQL.
        assert_eq!(access("not status: 200").pattern, "");
        // method and path are parts of one column (the request).
        let f = access("method: GET");
        assert_eq!((f.pattern.as_str(), f.complete), ("", false));
        // An `or` across two columns cannot be one pattern.
        let f = access("status: 502 or remote_addr: 1.2.3.4");
        assert_eq!((f.pattern.as_str(), f.complete), ("", false));
        // A leading wildcard, and a value with a quote.
        assert!(!access("remote_addr: *.77").complete);
        assert!(!access("http_user_agent: \"a\\\"b\"").complete);
        // Unstructured messages: nothing.
        let f = to_cloudwatch(&crate::parse("status: 500").unwrap(), &CloudWatchLayout::Unstructured);
        assert_eq!((f.pattern.as_str(), f.complete), ("", false));
        // Match-all is no condition at all.
        assert_eq!(access("*"), CloudWatchFilter { pattern: String::new(), complete: true });
    }

    #[test]
    fn json_conditions_follow_the_fields_kinds() {
        let kinds = [("status", JsonKind::Number), ("level", JsonKind::String), ("req.id", JsonKind::String)];
        let f = json("status >= 500 and level: error", &kinds);
        assert_eq!(f.pattern, "{ ($.status >= 500) && ($.level = \"error\") }");
        assert!(f.complete);
        let f = json("level: (error or warn) and req.id: abc*", &kinds);
        assert_eq!(f.pattern, "{ (($.level = \"error\") || ($.level = \"warn\")) && ($.req.id = \"abc*\") }");
        // A field whose kind the sample did not show, or a number compared with a string field.
        let f = json("user: bob and level >= 3", &kinds);
        assert_eq!((f.pattern.as_str(), f.complete), ("", false));
        // Untyped (the kql command): the literal decides.
        let f = to_cloudwatch_json_untyped(&crate::parse("status >= 500 and msg: \"timeout\"").unwrap());
        assert_eq!(f.pattern, "{ ($.status >= 500) && ($.msg = \"timeout\") }");
    }

    #[test]
    fn insights_filters_say_the_whole_query() {
        let f = |q: &str| to_insights_filter(&crate::parse(q).unwrap());
        assert_eq!(f("*").as_deref(), Some(""));
        assert_eq!(
            f("status >= 500 and not remote_addr: 10.0.0.1").as_deref(),
            Some("(status >= 500 and not (remote_addr = \"10.0.0.1\"))")
        );
        assert_eq!(f("status: 502").as_deref(), Some("(status = 502 or status = \"502\")"));
        assert_eq!(f("level: error or EvilBot").as_deref(), Some("(level = \"error\" or @message like /(?i)EvilBot/)"));
        assert_eq!(f("path: /api/*").as_deref(), Some("path like /^\\/api\\/.*$/"));
        assert_eq!(f("req.id: *").as_deref(), Some("ispresent(req.id)"));
        assert_eq!(f("\"a.b\"").as_deref(), Some("@message like /(?i)a\\.b/"));
        assert_eq!(f("x: null"), None);
    }
}
