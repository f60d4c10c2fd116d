//! In-memory evaluation of KQL against [`Record`]s (the local source's filter).
//!
//! Everything that can be prepared is prepared in [`Matcher::new`] (regexes, numbers, dates with
//! date math resolved at `EvalOptions::now`), so that [`Matcher::matches`] does not allocate on
//! the common paths (literal field names, text/number/date comparisons).

use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};

use super::ast::{Ast, FieldRef, Literal, RangeOp};
use super::{EvalOptions, KqlError};
use crate::model::{Fields, Nanos, Record, Value};
use crate::time;

/// A compiled query for evaluation against records.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Always true (`*:*`).
    All,
    /// Free text: a case-insensitive search in the message and every string field.
    Text(Regex),
    /// A test on the value(s) of the selected field(s).
    Field {
        field: Selector,
        test: Test,
    },
    /// A nested group: one object of the array at `path` must match `inner` as a whole.
    Nested {
        path: String,
        inner: Box<Node>,
    },
}

#[derive(Debug, Clone)]
enum Selector {
    Name(String),
    Pattern(Vec<String>),
}

#[derive(Debug, Clone)]
enum Test {
    /// `field:*`: present and not null.
    Exists,
    /// `field:value`.
    Equals(Expected),
    /// `field:val*ue`: the regex is anchored, or a substring search on `message`.
    Wildcard { anchored: Regex, substring: Regex },
    /// A range bound.
    Range(Bound),
}

#[derive(Debug, Clone)]
struct Expected {
    text: String,
    number: Option<f64>,
    boolean: Option<bool>,
    null: bool,
    /// For date values (`@timestamp:"2024-05-01"`): the instants covered, inclusive.
    dates: Option<(Nanos, Nanos)>,
    /// Case-insensitive substring, used for the `message` text field.
    substring: Regex,
    case_insensitive: bool,
}

#[derive(Debug, Clone)]
struct Bound {
    op: RangeOp,
    text: String,
    number: Option<f64>,
    date: Option<Nanos>,
}

/// A value found in a record, borrowed.
#[derive(Clone, Copy)]
enum Found<'a> {
    Value(&'a Value),
    Message(&'a str),
    Timestamp(Nanos),
}

/// Where field names are looked up: the record, or one object of a nested array.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Record(&'a Record),
    Object(&'a Fields),
}

fn err(message: impl Into<String>) -> KqlError {
    KqlError {
        message: message.into(),
        offset: None,
    }
}

fn regex(pattern: &str, case_insensitive: bool) -> Result<Regex, KqlError> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .dot_matches_new_line(true)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| err(format!("the query's pattern is too large to evaluate: {e}")))
}

fn wildcard_regex(
    parts: &[String],
    anchored: bool,
    case_insensitive: bool,
) -> Result<Regex, KqlError> {
    let body = parts
        .iter()
        .map(|p| regex::escape(p))
        .collect::<Vec<_>>()
        .join(".*");
    let pattern = if anchored {
        format!("^(?:{body})$")
    } else {
        body
    };
    regex(&pattern, case_insensitive)
}

struct Compiler<'a> {
    options: &'a EvalOptions,
    tz: Option<Tz>,
}

impl Compiler<'_> {
    fn compile(&self, ast: &Ast) -> Result<Node, KqlError> {
        Ok(match ast {
            Ast::And(items) => Node::And(
                items
                    .iter()
                    .map(|i| self.compile(i))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Or(items) => Node::Or(
                items
                    .iter()
                    .map(|i| self.compile(i))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Not(inner) => Node::Not(Box::new(self.compile(inner)?)),
            Ast::Nested { path, query } => Node::Nested {
                path: path.display_name(),
                inner: Box::new(self.compile(query)?),
            },
            Ast::Is { field, value, .. }
                if value.is_star() && field.as_ref().is_some_and(FieldRef::is_star) =>
            {
                Node::All
            }
            Ast::Is {
                field: None, value, ..
            } => match value {
                Literal::Wildcard(parts) => Node::Text(wildcard_regex(parts, false, true)?),
                other => Node::Text(regex(&regex::escape(&other.text()), true)?),
            },
            Ast::Is {
                field: Some(field),
                value,
                ..
            } => {
                let test = if value.is_star() {
                    Test::Exists
                } else if let Literal::Wildcard(parts) = value {
                    Test::Wildcard {
                        anchored: wildcard_regex(parts, true, self.options.case_insensitive)?,
                        substring: wildcard_regex(parts, false, true)?,
                    }
                } else {
                    Test::Equals(self.expected(field, value)?)
                };
                Node::Field {
                    field: selector(field),
                    test,
                }
            }
            Ast::Range { field, op, value } => {
                let text = value.text();
                let number = value_number(&text);
                let round_up = matches!(op, RangeOp::Gt | RangeOp::Lte);
                let date = time::parse_time(&text, self.options.now, self.tz, round_up).ok();
                Node::Field {
                    field: selector(field),
                    test: Test::Range(Bound {
                        op: *op,
                        text,
                        number,
                        date,
                    }),
                }
            }
        })
    }

    fn expected(&self, field: &FieldRef, value: &Literal) -> Result<Expected, KqlError> {
        let text = value.text();
        let dates = match field {
            FieldRef::Name(n) if n == "@timestamp" => self.date_span(&text),
            _ => None,
        };
        Ok(Expected {
            number: value_number(&text),
            boolean: match value {
                Literal::Bool(b) => Some(*b),
                Literal::Str(s) if s == "true" => Some(true),
                Literal::Str(s) if s == "false" => Some(false),
                _ => None,
            },
            null: matches!(value, Literal::Null),
            dates,
            substring: regex(&regex::escape(&text), true)?,
            case_insensitive: self.options.case_insensitive,
            text,
        })
    }

    /// The instants a date value covers: a whole day for `2024-05-01`, else the instant.
    fn date_span(&self, text: &str) -> Option<(Nanos, Nanos)> {
        let from = time::parse_time(text, self.options.now, self.tz, false).ok()?;
        let trimmed = text.trim();
        let is_day = trimmed.len() == 10 && trimmed.as_bytes().get(4) == Some(&b'-');
        let to = if is_day {
            time::parse_time(&format!("{trimmed}||/d"), self.options.now, self.tz, true).ok()?
        } else if time::is_date_math(trimmed) {
            time::parse_time(text, self.options.now, self.tz, true).ok()?
        } else {
            from
        };
        Some((from, to))
    }
}

fn selector(field: &FieldRef) -> Selector {
    match field {
        FieldRef::Name(n) => Selector::Name(n.clone()),
        FieldRef::Wildcard(parts) => Selector::Pattern(parts.clone()),
    }
}

/// A number as Elasticsearch would coerce it from query text.
fn value_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

impl Matcher {
    /// Compiles an AST for evaluation.
    pub fn new(ast: &Ast, options: &EvalOptions) -> Result<Matcher, KqlError> {
        let tz = match &options.time_zone {
            Some(name) => Some(name.parse::<Tz>().map_err(|_| {
                err(format!(
                    "unknown time zone {name:?}: expected an IANA name such as Europe/Paris"
                ))
            })?),
            None => None,
        };
        let root = Compiler { options, tz }.compile(ast)?;
        Ok(Matcher { root })
    }

    /// Whether the record matches.
    pub fn matches(&self, record: &Record) -> bool {
        eval(&self.root, Scope::Record(record))
    }
}

fn eval(node: &Node, scope: Scope) -> bool {
    match node {
        Node::And(items) => items.iter().all(|n| eval(n, scope)),
        Node::Or(items) => items.iter().any(|n| eval(n, scope)),
        Node::Not(inner) => !eval(inner, scope),
        Node::All => true,
        Node::Text(re) => free_text(re, scope),
        Node::Field { field, test } => match field {
            Selector::Name(name) => {
                lookup(scope, name).is_some_and(|found| test_found(test, name, found))
            }
            Selector::Pattern(parts) => {
                let mut hit = false;
                for_each_leaf(scope, &mut |name, found| {
                    if super::ast::wildcard_match(parts, name) && test_found(test, name, found) {
                        hit = true;
                    }
                    hit
                });
                hit
            }
        },
        Node::Nested { path, inner } => match lookup(scope, path) {
            Some(Found::Value(Value::Array(items))) => items
                .iter()
                .any(|v| matches!(v, Value::Object(obj) if eval(inner, Scope::Object(obj)))),
            Some(Found::Value(Value::Object(obj))) => eval(inner, Scope::Object(obj)),
            _ => false,
        },
    }
}

fn lookup<'a>(scope: Scope<'a>, name: &str) -> Option<Found<'a>> {
    match scope {
        Scope::Object(fields) => fields.get_path(name).map(Found::Value),
        Scope::Record(r) => r
            .fields
            .get_path(name)
            .or_else(|| r.labels.get_path(name))
            .or_else(|| r.metadata.get_path(name))
            .map(Found::Value)
            .or_else(|| match name {
                "message" => Some(Found::Message(&r.message)),
                "@timestamp" => r.timestamp.map(Found::Timestamp),
                _ => None,
            }),
    }
}

/// Calls `f` with every leaf field (dotted name, value) until it returns true.
fn for_each_leaf(scope: Scope, f: &mut dyn FnMut(&str, Found) -> bool) -> bool {
    fn walk(prefix: &mut String, fields: &Fields, f: &mut dyn FnMut(&str, Found) -> bool) -> bool {
        for (name, value) in fields.iter() {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(name);
            let stop = match value {
                Value::Object(inner) => walk(prefix, inner, f),
                other => f(prefix, Found::Value(other)),
            };
            prefix.truncate(len);
            if stop {
                return true;
            }
        }
        false
    }
    let mut prefix = String::new();
    match scope {
        Scope::Object(fields) => walk(&mut prefix, fields, f),
        Scope::Record(r) => {
            if let Some(ts) = r.timestamp
                && f("@timestamp", Found::Timestamp(ts))
            {
                return true;
            }
            for group in [&r.fields, &r.labels, &r.metadata] {
                if walk(&mut prefix, group, f) {
                    return true;
                }
            }
            r.fields.get("message").is_none() && f("message", Found::Message(&r.message))
        }
    }
}

fn free_text(re: &Regex, scope: Scope) -> bool {
    fn in_value(re: &Regex, v: &Value) -> bool {
        match v {
            Value::Str(s) => re.is_match(s),
            Value::Array(items) => items.iter().any(|i| in_value(re, i)),
            Value::Object(fields) => fields.iter().any(|(_, v)| in_value(re, v)),
            _ => false,
        }
    }
    match scope {
        Scope::Record(r) => {
            re.is_match(&r.message)
                || [&r.fields, &r.labels, &r.metadata]
                    .iter()
                    .any(|g| g.iter().any(|(_, v)| in_value(re, v)))
        }
        Scope::Object(fields) => fields.iter().any(|(_, v)| in_value(re, v)),
    }
}

fn test_found(test: &Test, name: &str, found: Found) -> bool {
    match found {
        Found::Value(Value::Array(items)) => items
            .iter()
            .any(|v| test_found(test, name, Found::Value(v))),
        _ => match test {
            Test::Exists => !matches!(found, Found::Value(Value::Null)),
            Test::Equals(e) => equals(e, name, found),
            Test::Wildcard {
                anchored,
                substring,
            } => match found {
                Found::Message(m) => substring.is_match(m),
                Found::Value(Value::Str(s)) if name == "message" => substring.is_match(s),
                Found::Value(Value::Str(s)) => anchored.is_match(s),
                Found::Value(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
                    anchored.is_match(&v.to_string())
                }
                Found::Timestamp(ts) => anchored.is_match(&time::format_rfc3339(ts)),
                Found::Value(_) => false,
            },
            Test::Range(b) => in_range(b, found),
        },
    }
}

fn eq_text(a: &str, b: &str, case_insensitive: bool) -> bool {
    if !case_insensitive {
        return a == b;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn equals(e: &Expected, name: &str, found: Found) -> bool {
    match found {
        Found::Message(m) => e.substring.is_match(m),
        Found::Timestamp(ts) => e.dates.is_some_and(|(from, to)| ts >= from && ts <= to),
        Found::Value(v) => match v {
            // `message` is a text field: a match there is a (case-insensitive) search.
            Value::Str(s) if name == "message" => e.substring.is_match(s),
            Value::Str(s) => {
                eq_text(s, &e.text, e.case_insensitive)
                    || e.number.is_some_and(|n| value_number(s) == Some(n))
                    || e.dates.is_some_and(|(from, to)| {
                        time::parse_absolute(s, None).is_ok_and(|ts| ts >= from && ts <= to)
                    })
            }
            Value::Int(i) => e.number.is_some_and(|n| n == *i as f64),
            Value::Float(f) => e.number.is_some_and(|n| n == *f),
            Value::Bool(b) => e.boolean == Some(*b),
            Value::Null => e.null,
            Value::Array(_) | Value::Object(_) => false,
        },
    }
}

fn compare<T: PartialOrd>(op: RangeOp, value: T, bound: T) -> bool {
    match op {
        RangeOp::Lt => value < bound,
        RangeOp::Lte => value <= bound,
        RangeOp::Gt => value > bound,
        RangeOp::Gte => value >= bound,
    }
}

fn in_range(b: &Bound, found: Found) -> bool {
    match found {
        Found::Timestamp(ts) => b.date.is_some_and(|d| compare(b.op, ts, d)),
        Found::Message(m) => compare(b.op, m, b.text.as_str()),
        Found::Value(v) => match v {
            Value::Int(i) => b.number.is_some_and(|n| compare(b.op, *i as f64, n)),
            Value::Float(f) => b.number.is_some_and(|n| compare(b.op, *f, n)),
            Value::Str(s) => {
                if let (Some(n), Some(x)) = (b.number, value_number(s)) {
                    compare(b.op, x, n)
                } else if let (Some(d), Ok(ts)) = (b.date, time::parse_absolute(s, None)) {
                    compare(b.op, ts, d)
                } else {
                    compare(b.op, s.as_str(), b.text.as_str())
                }
            }
            Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => false,
        },
    }
}
