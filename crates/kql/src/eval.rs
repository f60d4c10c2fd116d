//! In-memory evaluation of KQL against [`Record`]s (the local source's filter).
//!
//! Everything that can be prepared is prepared in [`Matcher::new`] (regexes, numbers, dates with
//! date math resolved at `EvalOptions::now`), so that [`Matcher::matches`] does not allocate on
//! the common paths (literal field names, text/number/date comparisons).
//!
//! Besides records, a matcher evaluates flat views of scanned lines ([`LineFields`]): the local
//! source filters millions of lines that way without building a record for each.

use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};

use super::ast::{Ast, FieldRef, Literal, RangeOp};
use super::{EvalOptions, KqlError};
use logsleuth_core::model::{Fields, Nanos, Record, Value};
use logsleuth_core::time;

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

/// A field value borrowed from a scanned line (see [`LineFields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineValue<'a> {
    /// Text, as [`Value::Str`].
    Str(&'a str),
    /// An integer, as [`Value::Int`].
    Int(i64),
}

/// A flat view of one log line, answering what its [`Record`] would answer, so that a query
/// can be evaluated without building the record ([`Matcher::matches_line`]).
///
/// Contract (what makes both evaluations agree): [`LineFields::get`] and
/// [`LineFields::any_field`] cover the record's fields and labels, all of them scalar text or
/// integers, none named `message` or `@timestamp`; [`LineFields::message`] is the record's
/// message and [`LineFields::timestamp`] its timestamp.
pub trait LineFields {
    /// The record's message (the raw line).
    fn message(&self) -> &str;
    /// The value of a field or label; `None` when the record has no such field.
    fn get(&self, name: &str) -> Option<LineValue<'_>>;
    /// Calls `f` with every field and label until it returns true; returns whether it did.
    fn any_field(&self, f: &mut dyn FnMut(&str, LineValue<'_>) -> bool) -> bool;
    /// The record's timestamp.
    fn timestamp(&self) -> Option<Nanos>;
}

/// A value found in a record or line, borrowed.
#[derive(Clone, Copy)]
enum Found<'a> {
    Value(&'a Value),
    /// Text (from a line view, or a record's [`Value::Str`]).
    Str(&'a str),
    /// An integer (from a line view, or a record's [`Value::Int`]).
    Int(i64),
    Message(&'a str),
    Timestamp(Nanos),
}

impl<'a> Found<'a> {
    fn of_line(value: LineValue<'a>) -> Found<'a> {
        match value {
            LineValue::Str(s) => Found::Str(s),
            LineValue::Int(i) => Found::Int(i),
        }
    }
}

/// Where field names are looked up: the record, one object of a nested array, or a line view.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Record(&'a Record),
    Object(&'a Fields),
    Line(&'a dyn LineFields),
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

    /// Whether the record that `line` views matches: the same answer as [`Matcher::matches`]
    /// on that record, without building it.
    pub fn matches_line(&self, line: &dyn LineFields) -> bool {
        eval(&self.root, Scope::Line(line))
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
                visit_field(scope, name, &mut |found| test_found(test, name, found))
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
        Node::Nested { path, inner } => visit_field(scope, path, &mut |found| match found {
            Found::Value(Value::Array(items)) => items
                .iter()
                .any(|v| matches!(v, Value::Object(obj) if eval(inner, Scope::Object(obj)))),
            Found::Value(Value::Object(obj)) => eval(inner, Scope::Object(obj)),
            _ => false,
        }),
    }
}

/// Calls `f` with every value at a dotted path until it returns true. Like Elasticsearch's
/// object flattening, a path goes through arrays of objects (`user.first` reaches the `first`
/// of every object in `user`); a literal dotted key is tried first.
fn visit_path<'a>(fields: &'a Fields, path: &str, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    fn visit_value<'a>(value: &'a Value, rest: &str, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
        match value {
            Value::Object(inner) => visit_path(inner, rest, f),
            Value::Array(items) => items.iter().any(|item| visit_value(item, rest, f)),
            _ => false,
        }
    }
    if let Some(v) = fields.get(path)
        && f(v)
    {
        return true;
    }
    let mut from = 0;
    while let Some(dot) = path[from..].find('.') {
        let (head, rest) = (&path[..from + dot], &path[from + dot + 1..]);
        if let Some(v) = fields.get(head)
            && visit_value(v, rest, f)
        {
            return true;
        }
        from += dot + 1;
    }
    false
}

/// Calls `f` with every value of the named field until it returns true; false when none did
/// (or the field is absent).
fn visit_field<'a>(scope: Scope<'a>, name: &str, f: &mut dyn FnMut(Found<'a>) -> bool) -> bool {
    match scope {
        Scope::Object(fields) => visit_path(fields, name, &mut |v| f(Found::Value(v))),
        // Flat and scalar: a dotted name is only ever a literal key, as `visit_path` finds it.
        Scope::Line(line) => match line.get(name) {
            Some(v) => f(Found::of_line(v)),
            None => match name {
                "message" => f(Found::Message(line.message())),
                "@timestamp" => line.timestamp().is_some_and(|ts| f(Found::Timestamp(ts))),
                _ => false,
            },
        },
        Scope::Record(r) => {
            let mut seen = false;
            for group in [&r.fields, &r.labels, &r.metadata] {
                if visit_path(group, name, &mut |v| {
                    seen = true;
                    f(Found::Value(v))
                }) {
                    return true;
                }
            }
            if seen {
                return false;
            }
            match name {
                "message" => f(Found::Message(&r.message)),
                "@timestamp" => r.timestamp.is_some_and(|ts| f(Found::Timestamp(ts))),
                _ => false,
            }
        }
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
        Scope::Line(line) => {
            if let Some(ts) = line.timestamp()
                && f("@timestamp", Found::Timestamp(ts))
            {
                return true;
            }
            line.any_field(&mut |name, v| f(name, Found::of_line(v))) || f("message", Found::Message(line.message()))
        }
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
        Scope::Line(line) => {
            re.is_match(line.message()) || line.any_field(&mut |_, v| matches!(v, LineValue::Str(s) if re.is_match(s)))
        }
    }
}

fn test_found(test: &Test, name: &str, found: Found) -> bool {
    // Text and integers are tested alike whether they come from a record or a line view.
    let found = match found {
        Found::Value(Value::Str(s)) => Found::Str(s),
        Found::Value(Value::Int(i)) => Found::Int(*i),
        other => other,
    };
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
                Found::Str(s) if name == "message" => substring.is_match(s),
                Found::Str(s) => anchored.is_match(s),
                Found::Int(i) => anchored.is_match(&i.to_string()),
                Found::Value(v @ (Value::Float(_) | Value::Bool(_))) => {
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
        // `message` is a text field: a match there is a (case-insensitive) search.
        Found::Str(s) if name == "message" => e.substring.is_match(s),
        Found::Str(s) => {
            eq_text(s, &e.text, e.case_insensitive)
                || e.number.is_some_and(|n| value_number(s) == Some(n))
                || e.dates.is_some_and(|(from, to)| {
                    time::parse_absolute(s, None).is_ok_and(|ts| ts >= from && ts <= to)
                })
        }
        Found::Int(i) => e.number.is_some_and(|n| n == i as f64),
        Found::Value(v) => match v {
            Value::Str(s) => equals(e, name, Found::Str(s)),
            Value::Int(i) => equals(e, name, Found::Int(*i)),
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
        Found::Int(i) => b.number.is_some_and(|n| compare(b.op, i as f64, n)),
        Found::Str(s) => {
            if let (Some(n), Some(x)) = (b.number, value_number(s)) {
                compare(b.op, x, n)
            } else if let (Some(d), Ok(ts)) = (b.date, time::parse_absolute(s, None)) {
                compare(b.op, ts, d)
            } else {
                compare(b.op, s, b.text.as_str())
            }
        }
        Found::Value(v) => match v {
            Value::Int(i) => in_range(b, Found::Int(*i)),
            Value::Float(f) => b.number.is_some_and(|n| compare(b.op, *f, n)),
            Value::Str(s) => in_range(b, Found::Str(s)),
            Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use logsleuth_core::model::Fields;

    const NOW: Nanos = 1_714_557_600_000_000_000; // 2024-05-01T10:00:00Z

    fn record() -> Record {
        let mut fields = Fields::new();
        fields.push("status", Value::Int(404));
        fields.push("bytes", Value::Str("5120".into()));
        fields.push("method", Value::Str("GET".into()));
        fields.push("path", Value::Str("/api/v1/users".into()));
        fields.push("ratio", Value::Float(0.25));
        fields.push("ok", Value::Bool(false));
        fields.push("gone", Value::Null);
        fields.push(
            "tags",
            Value::Array(vec![Value::Str("blue".into()), Value::Str("green".into())]),
        );
        fields.push("seen", Value::Str("2024-05-01T09:50:00Z".into()));
        let mut geo = Fields::new();
        geo.push("city", Value::Str("Paris".into()));
        fields.push("geo", Value::Object(geo));
        let user = |first: &str, last: &str| {
            let mut u = Fields::new();
            u.push("first", Value::Str(first.into()));
            u.push("last", Value::Str(last.into()));
            Value::Object(u)
        };
        fields.push(
            "user",
            Value::Array(vec![user("Alice", "White"), user("John", "Smith")]),
        );
        let mut labels = Fields::new();
        labels.push("job", Value::Str("nginx".into()));
        Record {
            timestamp: Some(NOW - 5 * 60 * 1_000_000_000),
            message: r#"10.0.0.1 - - "GET /api/v1/users HTTP/1.1" 404 5120 Connection Refused"#
                .into(),
            fields,
            labels: labels.into(),
            ..Record::default()
        }
    }

    fn check(q: &str) -> bool {
        check_with(q, false)
    }

    fn check_with(q: &str, case_insensitive: bool) -> bool {
        let ast = parse(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
        let options = EvalOptions {
            now: NOW,
            time_zone: None,
            case_insensitive,
        };
        Matcher::new(&ast, &options).unwrap().matches(&record())
    }

    #[test]
    fn free_text_is_a_case_insensitive_search() {
        assert!(check("refused"));
        assert!(check(r#""connection refused""#));
        assert!(check("CONNECTION"));
        assert!(check("conn*fused"));
        assert!(check("paris"), "string fields are searched too");
        assert!(!check("timeout"));
        assert!(check(""));
    }

    #[test]
    fn keyword_fields_match_exactly() {
        assert!(check("method:GET"));
        assert!(!check("method:get"));
        assert!(check_with("method:get", true));
        assert!(!check("method:GE"));
        assert!(check("job:nginx"), "labels are fields too");
        assert!(check("geo.city:Paris"));
        assert!(check(r#"path:"/api/v1/users""#));
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(check("status:404"));
        assert!(check("status:404.0"));
        assert!(check("bytes:5120"), "numeric strings are numbers");
        assert!(check("ratio:0.25"));
        assert!(check("status >= 400 and status < 500"));
        assert!(!check("status > 404"));
        assert!(check("bytes > 999"), "5120 > 999 numerically, not as text");
        assert!(check("ratio <= 0.25"));
    }

    #[test]
    fn wildcards_exists_booleans_and_null() {
        assert!(check("path:/api/*"));
        assert!(!check("path:/web/*"));
        assert!(check("path:*users"));
        assert!(check("status:4*"), "numbers match wildcards by their text");
        assert!(check_with("method:g*", true));
        assert!(!check("method:g*"));
        assert!(check("status:*"));
        assert!(!check("missing:*"));
        assert!(!check("gone:*"), "null is not a value");
        assert!(check("ok:false"));
        assert!(!check("ok:true"));
        assert!(check("gone:null"));
    }

    #[test]
    fn arrays_match_when_any_element_matches() {
        assert!(check("tags:green"));
        assert!(check("tags:(red or blue)"));
        assert!(!check("tags:red"));
    }

    #[test]
    fn wildcard_field_names() {
        assert!(check("geo.*:Paris"));
        assert!(check("*:nginx"));
        assert!(!check("x*:Paris"));
    }

    #[test]
    fn dates_and_date_math() {
        assert!(check("@timestamp >= now-15m"));
        assert!(!check("@timestamp >= now-1m"));
        assert!(check("@timestamp < now"));
        assert!(check(r#"@timestamp > "2024-05-01T09:00:00Z""#));
        assert!(check("@timestamp:2024-05-01"), "a day covers the whole day");
        assert!(!check("@timestamp:2024-04-30"));
        assert!(check("seen >= now-15m"), "RFC 3339 strings are dates");
        assert!(check("@timestamp >= now/d"));
        assert!(
            !check("@timestamp > now/d"),
            "gt rounds up to the end of the day"
        );
    }

    #[test]
    fn message_field_is_text() {
        assert!(check("message:refused"));
        assert!(check("message:GET*HTTP"));
    }

    #[test]
    fn boolean_logic() {
        assert!(check("method:GET and not status:200"));
        assert!(check("method:POST or status:404"));
        assert!(!check("not method:GET"));
        assert!(check("(method:POST or method:GET) and status:(404 or 410)"));
    }

    #[test]
    fn nested_requires_one_object_to_match_the_whole_query() {
        assert!(check(r#"user:{ first:"Alice" and last:"White" }"#));
        assert!(!check(r#"user:{ first:"Alice" and last:"Smith" }"#));
        assert!(
            check(r#"user.first:Alice and user.last:Smith"#),
            "outside nested: any element"
        );
    }

    #[test]
    fn time_zone_is_checked() {
        let ast = parse("@timestamp > now/d").unwrap();
        let bad = EvalOptions {
            now: NOW,
            time_zone: Some("Nowhere/City".into()),
            case_insensitive: false,
        };
        assert!(Matcher::new(&ast, &bad).is_err());
        let paris = EvalOptions {
            now: NOW,
            time_zone: Some("Europe/Paris".into()),
            case_insensitive: false,
        };
        assert!(Matcher::new(&ast, &paris).is_ok());
    }
}
