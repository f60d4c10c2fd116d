//! KQL → Elasticsearch query DSL, as Kibana's kbn-es-query builds it
//! (`kuery/functions/{is,range,exists,and,or,not,nested}.ts`, `getFields`,
//! `getFullFieldNameNode`, `wildcard.toQueryStringQuery`).

use serde_json::{Map, Value, json};

use super::KqlError;
use super::ast::{Ast, FieldRef, Literal, RangeOp};
use super::field_caps::{FieldCaps, FieldInfo};
use super::parser::LEADING_WILDCARD_MESSAGE;

/// Kibana's query settings that change the translation.
#[derive(Debug, Clone)]
pub struct EsOptions {
    /// The index pattern's fields (types, nested paths, multi-fields). `None`: untyped, as in
    /// Kibana without a data view (every field queried by name as written).
    pub fields: Option<FieldCaps>,
    /// `dateFormat:tz`: added as `time_zone` to date range queries.
    pub time_zone: Option<String>,
    /// Keyword fields use `term`/`wildcard` queries with `case_insensitive: true`.
    pub case_insensitive: bool,
    /// `query:allowLeadingWildcards`; when false a value starting with `*` is an error.
    pub allow_leading_wildcards: bool,
}

impl Default for EsOptions {
    fn default() -> Self {
        EsOptions {
            fields: None,
            time_zone: None,
            case_insensitive: false,
            allow_leading_wildcards: true,
        }
    }
}

fn err(message: impl Into<String>) -> KqlError {
    KqlError {
        message: message.into(),
        offset: None,
    }
}

/// Translates a query to the Elasticsearch query object (what goes under `"query"`).
pub fn to_es(ast: &Ast, options: &EsOptions) -> Result<Value, KqlError> {
    if let Some(tz) = &options.time_zone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        return Err(err(format!(
            "unknown time zone {tz:?}: expected an IANA name such as Europe/Paris or UTC"
        )));
    }
    if !options.allow_leading_wildcards && has_leading_wildcard(ast) {
        return Err(err(LEADING_WILDCARD_MESSAGE));
    }
    node(ast, options, None)
}

/// Whether a value (not a field name, not a range bound) starts with a wildcard.
pub(crate) fn has_leading_wildcard(ast: &Ast) -> bool {
    match ast {
        Ast::And(items) | Ast::Or(items) => items.iter().any(has_leading_wildcard),
        Ast::Not(inner) | Ast::Nested { query: inner, .. } => has_leading_wildcard(inner),
        Ast::Is {
            value: v @ Literal::Wildcard(parts),
            ..
        } => parts.first().is_some_and(String::is_empty) && !v.is_star(),
        Ast::Is { .. } | Ast::Range { .. } => false,
    }
}

fn node(ast: &Ast, o: &EsOptions, nested: Option<&str>) -> Result<Value, KqlError> {
    match ast {
        Ast::And(items) => {
            let clauses = items
                .iter()
                .map(|i| node(i, o, nested))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if clauses.len() == 1 {
                clauses.into_iter().next().unwrap_or(Value::Null)
            } else {
                json!({"bool": {"filter": clauses}})
            })
        }
        Ast::Or(items) => {
            let clauses = items
                .iter()
                .map(|i| node(i, o, nested))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if clauses.len() == 1 {
                clauses.into_iter().next().unwrap_or(Value::Null)
            } else {
                json!({"bool": {"should": clauses, "minimum_should_match": 1}})
            })
        }
        Ast::Not(inner) => Ok(json!({"bool": {"must_not": node(inner, o, nested)?}})),
        Ast::Nested { path, query } => {
            let path = path.display_name();
            let full = match nested {
                Some(outer) => format!("{outer}.{path}"),
                None => path,
            };
            let inner = node(query, o, Some(&full))?;
            Ok(json!({"nested": {"path": full, "query": inner, "score_mode": "none"}}))
        }
        Ast::Is {
            field,
            value,
            phrase,
        } => is_query(field.as_ref(), value, *phrase, o, nested),
        Ast::Range { field, op, value } => range_query(field, *op, value, o, nested),
    }
}

/// Kibana's `escapeQueryString`: backslash before every query_string reserved character.
fn escape_query_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "+-=&|><!(){}[]^\"~*?:\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `wildcard.toQueryStringQuery`: escaped segments joined by `*`.
fn query_string_pattern(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| escape_query_string(p))
        .collect::<Vec<_>>()
        .join("*")
}

/// A pattern for the `wildcard` query: `*`, `?` and `\` in the segments escaped.
fn wildcard_query_pattern(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            let mut out = String::with_capacity(p.len());
            for c in p.chars() {
                if matches!(c, '*' | '?' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        })
        .collect::<Vec<_>>()
        .join("*")
}

/// A field as the translation sees it: from the data view, or the bare name when unknown.
struct Target<'a> {
    name: String,
    info: Option<&'a FieldInfo>,
}

/// `getFullFieldNameNode` (with its nested-path checks) followed by `getFields`.
fn resolve<'a>(
    field: &FieldRef,
    o: &'a EsOptions,
    nested: Option<&str>,
) -> Result<(FieldRef, Vec<Target<'a>>), KqlError> {
    let full = field.prefixed(nested);
    let Some(caps) = &o.fields else {
        return Ok((
            full.clone(),
            vec![Target {
                name: full.display_name(),
                info: None,
            }],
        ));
    };
    let found: Vec<&FieldInfo> = caps
        .fields
        .iter()
        .filter(|f| full.matches_name(&f.name))
        .collect();
    // Wildcards may span nested and non-nested fields: Kibana skips the checks for them
    // (outside a nested group) and wraps each nested match instead.
    if !(matches!(full, FieldRef::Wildcard(_)) && nested.is_none()) {
        let mut errors = Vec::new();
        for f in &found {
            let from_field = f.nested_path.as_deref();
            match (nested, from_field) {
                (Some(path), None) => errors.push(format!(
                    "{} is not a nested field but is in nested group \"{path}\" in the KQL expression.",
                    f.name
                )),
                (None, Some(_)) => {
                    errors.push(format!("{} is a nested field, but is not in a nested group in the KQL expression.", f.name))
                }
                (Some(a), Some(b)) if a != b => errors.push(format!(
                    "Nested field {} is being queried with the incorrect nested path. The correct path is {b}.",
                    f.name
                )),
                _ => {}
            }
        }
        if !errors.is_empty() {
            return Err(err(errors.join("\n")));
        }
    }
    let targets = if found.is_empty() {
        vec![Target {
            name: full.display_name(),
            info: None,
        }]
    } else {
        found
            .into_iter()
            .map(|f| Target {
                name: f.name.clone(),
                info: Some(f),
            })
            .collect()
    };
    Ok((full, targets))
}

/// Wraps a per-field query in `nested` when a wildcard field name reached a nested field.
fn wrap_nested(query: Value, full: &FieldRef, target: &Target, nested: Option<&str>) -> Value {
    match (
        full,
        target.info.and_then(|i| i.nested_path.as_deref()),
        nested,
    ) {
        (FieldRef::Wildcard(_), Some(path), None) => {
            json!({"nested": {"path": path, "query": query, "score_mode": "none"}})
        }
        _ => query,
    }
}

fn single(key: &str, field: &str, value: Value) -> Value {
    let mut inner = Map::new();
    inner.insert(field.to_string(), value);
    let mut outer = Map::new();
    outer.insert(key.to_string(), Value::Object(inner));
    Value::Object(outer)
}

fn should(queries: Vec<Value>) -> Value {
    json!({"bool": {"should": queries, "minimum_should_match": 1}})
}

fn is_query(
    field: Option<&FieldRef>,
    value: &Literal,
    phrase: bool,
    o: &EsOptions,
    nested: Option<&str>,
) -> Result<Value, KqlError> {
    let is_exists = value.is_star();
    if is_exists && field.is_some_and(FieldRef::is_star) {
        return Ok(json!({"match_all": {}}));
    }
    let Some(field) = field else {
        // Free text.
        if let Literal::Wildcard(parts) = value {
            return Ok(json!({"query_string": {"query": query_string_pattern(parts)}}));
        }
        let kind = if phrase { "phrase" } else { "best_fields" };
        return Ok(
            json!({"multi_match": {"type": kind, "query": value.to_json(), "lenient": true}}),
        );
    };
    let (full, targets) = resolve(field, o, nested)?;
    if is_exists
        && let Some(caps) = &o.fields
        && targets.len() == caps.fields.len()
        && targets.iter().all(|t| t.info.is_some())
    {
        return Ok(json!({"match_all": {}}));
    }
    let mut queries = Vec::with_capacity(targets.len());
    for t in &targets {
        let keyword_ci = o.case_insensitive && t.info.is_some_and(FieldInfo::is_keyword);
        let q = if is_exists {
            json!({"exists": {"field": t.name}})
        } else if let Literal::Wildcard(parts) = value {
            if keyword_ci {
                single(
                    "wildcard",
                    &t.name,
                    json!({"value": wildcard_query_pattern(parts), "case_insensitive": true}),
                )
            } else {
                json!({"query_string": {"fields": [t.name], "query": query_string_pattern(parts)}})
            }
        } else if t.info.is_some_and(FieldInfo::is_date) {
            let mut params = Map::new();
            params.insert("gte".into(), value.to_json());
            params.insert("lte".into(), value.to_json());
            if let Some(tz) = &o.time_zone {
                params.insert("time_zone".into(), tz.clone().into());
            }
            single("range", &t.name, Value::Object(params))
        } else if keyword_ci {
            single(
                "term",
                &t.name,
                json!({"value": value.to_json(), "case_insensitive": true}),
            )
        } else {
            single(
                if phrase { "match_phrase" } else { "match" },
                &t.name,
                value.to_json(),
            )
        };
        queries.push(wrap_nested(q, &full, t, nested));
    }
    Ok(should(queries))
}

fn range_query(
    field: &FieldRef,
    op: RangeOp,
    value: &Literal,
    o: &EsOptions,
    nested: Option<&str>,
) -> Result<Value, KqlError> {
    let (full, targets) = resolve(field, o, nested)?;
    let mut queries = Vec::with_capacity(targets.len());
    for t in &targets {
        let mut params = Map::new();
        params.insert(op.es_name().into(), value.to_json());
        if t.info.is_some_and(FieldInfo::is_date)
            && let Some(tz) = &o.time_zone
        {
            params.insert("time_zone".into(), tz.clone().into());
        }
        queries.push(wrap_nested(
            single("range", &t.name, Value::Object(params)),
            &full,
            t,
            nested,
        ));
    }
    Ok(should(queries))
}
