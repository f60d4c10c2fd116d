//! KQL → Elasticsearch query DSL, as Kibana's `@kbn/es-query` builds it on main (9.x), files under
//! `src/platform/packages/shared/kbn-es-query/src/kuery/`: `functions/{is,range}.ts` at
//! elastic/kibana@2adc277e, and `functions/{and,or,not,nested}.ts`, `functions/utils/get_fields.ts`,
//! `functions/utils/get_full_field_name_node.ts`, `node_types/wildcard.ts` of the same main
//! (see docs/kql.md).

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
    /// `dateFormat:tz`: added as `time_zone` to date range queries (not to epoch values).
    pub time_zone: Option<String>,
    /// Kibana's `caseInsensitive`: adds `case_insensitive: true` to the `term` and `wildcard`
    /// queries of keyword fields. When false the key is left out (Kibana's default, where the
    /// option is unset).
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

/// The clauses of `items`: the one clause alone, as Kibana leaves it, else `bool_of` them.
fn combine(items: &[Ast], o: &EsOptions, nested: Option<&str>, bool_of: impl FnOnce(Vec<Value>) -> Value) -> Result<Value, KqlError> {
    let mut clauses = items.iter().map(|i| node(i, o, nested)).collect::<Result<Vec<_>, _>>()?;
    Ok(if clauses.len() == 1 { clauses.pop().unwrap_or(Value::Null) } else { bool_of(clauses) })
}

fn node(ast: &Ast, o: &EsOptions, nested: Option<&str>) -> Result<Value, KqlError> {
    match ast {
        Ast::And(items) => combine(items, o, nested, |clauses| json!({"bool": {"filter": clauses}})),
        Ast::Or(items) => combine(items, o, nested, |clauses| json!({"bool": {"should": clauses, "minimum_should_match": 1}})),
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

/// Kibana's epoch test (`is.ts`, `range.ts`): a number or a digit-only string is an absolute
/// UTC timestamp and gets no `time_zone`. KQL values are strings, so: ASCII digits only.
fn is_epoch(value: &Literal) -> bool {
    matches!(value, Literal::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// The `time_zone` of a date range query on `value`, if any.
fn time_zone_param<'a>(value: &Literal, o: &'a EsOptions) -> Option<&'a str> {
    o.time_zone.as_deref().filter(|_| !is_epoch(value))
}

/// `{"value": v}` plus `case_insensitive` when set, for `term` and `wildcard` queries.
fn exact_params(value: Value, o: &EsOptions) -> Value {
    let mut params = Map::new();
    params.insert("value".into(), value);
    if o.case_insensitive {
        params.insert("case_insensitive".into(), true.into());
    }
    Value::Object(params)
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
    let mut queries = Vec::with_capacity(targets.len());
    for t in &targets {
        let keyword = t.info.is_some_and(FieldInfo::is_keyword_only);
        let q = if is_exists {
            json!({"exists": {"field": t.name}})
        } else if let Literal::Wildcard(parts) = value {
            if keyword {
                // Kibana escapes the value as for query_string here too (`toQueryStringQuery`).
                single("wildcard", &t.name, exact_params(query_string_pattern(parts).into(), o))
            } else {
                json!({"query_string": {"fields": [t.name], "query": query_string_pattern(parts)}})
            }
        } else if t.info.is_some_and(FieldInfo::is_date) {
            let mut params = Map::new();
            params.insert("gte".into(), value.to_json());
            params.insert("lte".into(), value.to_json());
            if let Some(tz) = time_zone_param(value, o) {
                params.insert("time_zone".into(), tz.into());
            }
            single("range", &t.name, Value::Object(params))
        } else if keyword {
            // Quoted or not: a phrase on a keyword field is the same exact term.
            single("term", &t.name, exact_params(value.to_json(), o))
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
            && let Some(tz) = time_zone_param(value, o)
        {
            params.insert("time_zone".into(), tz.into());
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

#[cfg(test)]
mod kibana_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn es(q: &str) -> Value {
        to_es(&parse(q).unwrap(), &EsOptions::default()).unwrap()
    }

    /// A field list in the spirit of Kibana's test stub (`filters/stubs/fields`): text with a
    /// keyword multi-field, a keyword, numbers, a date and nested objects.
    fn caps() -> FieldCaps {
        FieldCaps::from_json(&json!({"fields": {
            "extension": {"text": {"type": "text", "searchable": true, "aggregatable": false}},
            "extension.keyword": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
            "machine": {"object": {"type": "object"}},
            "machine.os": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
            "bytes": {"long": {"type": "long", "searchable": true, "aggregatable": true}},
            "@timestamp": {"date": {"type": "date", "searchable": true, "aggregatable": true}},
            "nestedField": {"nested": {"type": "nested"}},
            "nestedField.child": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
            "nestedField.nestedChild": {"nested": {"type": "nested"}},
            "nestedField.nestedChild.doublyNestedChild": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}}
        }}))
        .unwrap()
    }

    fn es_with(q: &str, o: &EsOptions) -> Result<Value, KqlError> {
        to_es(&parse(q).unwrap(), o)
    }

    fn typed() -> EsOptions {
        EsOptions {
            fields: Some(caps()),
            ..EsOptions::default()
        }
    }

    #[test]
    fn untyped_field_value_is_a_match_in_a_should() {
        assert_eq!(
            es("status:200"),
            json!({"bool":{"should":[{"match":{"status":"200"}}],"minimum_should_match":1}})
        );
        assert_eq!(
            es("ok:true"),
            json!({"bool":{"should":[{"match":{"ok":true}}],"minimum_should_match":1}})
        );
    }

    #[test]
    fn phrases_are_match_phrase() {
        assert_eq!(
            es(r#"message:"hello world""#),
            json!({"bool":{"should":[{"match_phrase":{"message":"hello world"}}],"minimum_should_match":1}})
        );
    }

    #[test]
    fn wildcard_values_are_escaped_query_strings() {
        assert_eq!(
            es("path:/api/v1*"),
            json!({"bool":{"should":[{"query_string":{"fields":["path"],"query":"\\/api\\/v1*"}}],"minimum_should_match":1}})
        );
        assert_eq!(es("jpg*"), json!({"query_string":{"query":"jpg*"}}));
        assert_eq!(es("a+b*"), json!({"query_string":{"query":"a\\+b*"}}));
    }

    #[test]
    fn free_text_is_multi_match() {
        assert_eq!(
            es("error"),
            json!({"multi_match":{"type":"best_fields","query":"error","lenient":true}})
        );
        assert_eq!(
            es(r#""disk full""#),
            json!({"multi_match":{"type":"phrase","query":"disk full","lenient":true}})
        );
    }

    #[test]
    fn exists_and_match_all() {
        assert_eq!(
            es("host:*"),
            json!({"bool":{"should":[{"exists":{"field":"host"}}],"minimum_should_match":1}})
        );
        assert_eq!(es("*:*"), json!({"match_all":{}}));
        assert_eq!(es(""), json!({"match_all":{}}));
        // A wildcard field covering every field of the data view is no longer match_all (older
        // Kibana's `fields.length === indexPattern.fields.length` rule is gone): one exists each.
        let o = EsOptions { fields: Some(FieldCaps::from_json(&json!({"fields":{"na":{"keyword":{"type":"keyword"}},"nb":{"long":{"type":"long"}}}})).unwrap()), ..EsOptions::default() };
        assert_eq!(
            es_with("n*:*", &o).unwrap(),
            json!({"bool":{"should":[{"exists":{"field":"na"}},{"exists":{"field":"nb"}}],"minimum_should_match":1}})
        );
    }

    #[test]
    fn boolean_structure() {
        assert_eq!(
            es("a:1 and b:2"),
            json!({"bool":{"filter":[
                {"bool":{"should":[{"match":{"a":"1"}}],"minimum_should_match":1}},
                {"bool":{"should":[{"match":{"b":"2"}}],"minimum_should_match":1}}]}})
        );
        assert_eq!(
            es("a:1 or b:2"),
            json!({"bool":{"should":[
                {"bool":{"should":[{"match":{"a":"1"}}],"minimum_should_match":1}},
                {"bool":{"should":[{"match":{"b":"2"}}],"minimum_should_match":1}}],"minimum_should_match":1}})
        );
        assert_eq!(
            es("not a:1"),
            json!({"bool":{"must_not":{"bool":{"should":[{"match":{"a":"1"}}],"minimum_should_match":1}}}})
        );
    }

    #[test]
    fn ranges_untyped_and_dates_with_time_zone() {
        assert_eq!(
            es("bytes > 1000"),
            json!({"bool":{"should":[{"range":{"bytes":{"gt":"1000"}}}],"minimum_should_match":1}})
        );
        let o = EsOptions {
            time_zone: Some("America/Phoenix".into()),
            ..typed()
        };
        assert_eq!(
            es_with("@timestamp >= now-15m", &o).unwrap(),
            json!({"bool":{"should":[{"range":{"@timestamp":{"gte":"now-15m","time_zone":"America/Phoenix"}}}],"minimum_should_match":1}})
        );
        // Numbers get no time zone.
        assert_eq!(
            es_with("bytes <= 5", &o).unwrap(),
            json!({"bool":{"should":[{"range":{"bytes":{"lte":"5"}}}],"minimum_should_match":1}})
        );
        // Epoch milliseconds are absolute: no time zone, in ranges and exact values.
        assert_eq!(
            es_with("@timestamp > 1776338120239", &o).unwrap(),
            json!({"bool":{"should":[{"range":{"@timestamp":{"gt":"1776338120239"}}}],"minimum_should_match":1}})
        );
        assert_eq!(
            es_with(r#"@timestamp:"1776338120239""#, &o).unwrap(),
            json!({"bool":{"should":[{"range":{"@timestamp":{"gte":"1776338120239","lte":"1776338120239"}}}],"minimum_should_match":1}})
        );
        // Not digits only: not an epoch.
        assert_eq!(
            es_with("@timestamp < -1", &o).unwrap(),
            json!({"bool":{"should":[{"range":{"@timestamp":{"lt":"-1","time_zone":"America/Phoenix"}}}],"minimum_should_match":1}})
        );
        // Exact date values become a gte/lte range (match has no time zone).
        assert_eq!(
            es_with(r#"@timestamp:"2018-04-03T19:04:17""#, &o).unwrap(),
            json!({"bool":{"should":[{"range":{"@timestamp":{"gte":"2018-04-03T19:04:17","lte":"2018-04-03T19:04:17","time_zone":"America/Phoenix"}}}],"minimum_should_match":1}})
        );
        assert!(
            es_with(
                "a:1",
                &EsOptions {
                    time_zone: Some("Mars/Olympus".into()),
                    ..EsOptions::default()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn nested_queries_use_full_paths_and_score_mode_none() {
        assert_eq!(
            es_with("nestedField:{ child:foo }", &typed()).unwrap(),
            json!({"nested":{"path":"nestedField","query":{"bool":{"should":[{"term":{"nestedField.child":{"value":"foo"}}}],"minimum_should_match":1}},"score_mode":"none"}})
        );
        assert_eq!(
            es_with(
                "nestedField:{ nestedChild:{ doublyNestedChild:foo } }",
                &typed()
            )
            .unwrap(),
            json!({"nested":{"path":"nestedField","query":{"nested":{"path":"nestedField.nestedChild","query":{"bool":{"should":[{"term":{"nestedField.nestedChild.doublyNestedChild":{"value":"foo"}}}],"minimum_should_match":1}},"score_mode":"none"}},"score_mode":"none"}})
        );
    }

    #[test]
    fn nested_path_mistakes_are_errors_like_kibana() {
        let e = es_with("nestedField.child:foo", &typed()).unwrap_err();
        assert_eq!(
            e.message,
            "nestedField.child is a nested field, but is not in a nested group in the KQL expression."
        );
        let e = es_with(
            "nestedField:{ nestedChild.doublyNestedChild:foo }",
            &typed(),
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("incorrect nested path. The correct path is nestedField.nestedChild"),
            "{}",
            e.message
        );
        let e = es_with("machine:{ os:x }", &typed()).unwrap_err();
        assert!(
            e.message
                .contains("machine.os is not a nested field but is in nested group \"machine\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn wildcard_field_names_expand_and_wrap_nested_fields() {
        assert_eq!(
            es_with("*doublyNested*:foo", &typed()).unwrap(),
            json!({"bool":{"should":[{"nested":{"path":"nestedField.nestedChild","query":{"term":{"nestedField.nestedChild.doublyNestedChild":{"value":"foo"}}},"score_mode":"none"}}],"minimum_should_match":1}})
        );
        // Each matching field with its own query type: text → match, keyword → term.
        assert_eq!(
            es_with("ext*:jpg", &typed()).unwrap(),
            json!({"bool":{"should":[{"match":{"extension":"jpg"}},{"term":{"extension.keyword":{"value":"jpg"}}}],"minimum_should_match":1}})
        );
        // Unknown fields are sent as written.
        assert_eq!(
            es_with("zz*:1", &typed()).unwrap(),
            json!({"bool":{"should":[{"match":{"zz*":"1"}}],"minimum_should_match":1}})
        );
    }

    #[test]
    fn keyword_fields_use_term_and_wildcard() {
        assert_eq!(
            es_with("machine.os:Windows", &typed()).unwrap(),
            json!({"bool":{"should":[{"term":{"machine.os":{"value":"Windows"}}}],"minimum_should_match":1}})
        );
        // A phrase on a keyword field is the same term.
        assert_eq!(
            es_with(r#"machine.os:"Windows 10""#, &typed()).unwrap(),
            json!({"bool":{"should":[{"term":{"machine.os":{"value":"Windows 10"}}}],"minimum_should_match":1}})
        );
        // Wildcard values are escaped as for query_string (Kibana's `toQueryStringQuery`).
        assert_eq!(
            es_with("machine.os:/win-1*", &typed()).unwrap(),
            json!({"bool":{"should":[{"wildcard":{"machine.os":{"value":"\\/win\\-1*"}}}],"minimum_should_match":1}})
        );
        // Only a field whose sole ES type is `keyword`.
        let o = EsOptions {
            fields: Some(
                FieldCaps::from_json(&json!({"fields":{
                    "ck":{"constant_keyword":{"type":"constant_keyword"}},
                    "mixed":{"keyword":{"type":"keyword"},"text":{"type":"text"}}
                }}))
                .unwrap(),
            ),
            ..EsOptions::default()
        };
        assert_eq!(
            es_with("ck:a or mixed:b*", &o).unwrap(),
            json!({"bool":{"should":[
                {"bool":{"should":[{"match":{"ck":"a"}}],"minimum_should_match":1}},
                {"bool":{"should":[{"query_string":{"fields":["mixed"],"query":"b*"}}],"minimum_should_match":1}}
            ],"minimum_should_match":1}})
        );
    }

    #[test]
    fn case_insensitive_keyword_fields_use_term_and_wildcard() {
        let o = EsOptions {
            case_insensitive: true,
            ..typed()
        };
        assert_eq!(
            es_with("machine.os:Windows", &o).unwrap(),
            json!({"bool":{"should":[{"term":{"machine.os":{"value":"Windows","case_insensitive":true}}}],"minimum_should_match":1}})
        );
        assert_eq!(
            es_with("machine.os:win*", &o).unwrap(),
            json!({"bool":{"should":[{"wildcard":{"machine.os":{"value":"win*","case_insensitive":true}}}],"minimum_should_match":1}})
        );
        assert_eq!(
            es_with(r"machine.os:a\*b?*", &o).unwrap(),
            json!({"bool":{"should":[{"wildcard":{"machine.os":{"value":"a\\*b\\?*","case_insensitive":true}}}],"minimum_should_match":1}})
        );
        // Text fields keep match.
        assert_eq!(
            es_with("extension:JPG", &o).unwrap(),
            json!({"bool":{"should":[{"match":{"extension":"JPG"}}],"minimum_should_match":1}})
        );
    }

    #[test]
    fn leading_wildcards_can_be_refused() {
        let o = EsOptions {
            allow_leading_wildcards: false,
            ..EsOptions::default()
        };
        assert_eq!(
            es_with("f:*bar", &o).unwrap_err().message,
            LEADING_WILDCARD_MESSAGE
        );
        assert!(es_with("f:*", &o).is_ok());
        assert!(es_with("f:bar*", &o).is_ok());
    }
}
