//! The KQL syntax tree, mirroring the node types of Kibana's kbn-es-query (`is`, `range`,
//! `and`, `or`, `not`, `nested`), and its printer (`Display` prints KQL that parses back to the
//! same tree).

use std::fmt::{self, Write as _};

/// A parsed KQL query.
///
/// Value groups (`status:(200 or 304)`) are distributed over the field at parse time, as Kibana
/// does, so they appear as `Or(Is, Is)`. An empty query is `*:*` ([`Ast::match_all`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// All sub-queries must match (`a and b and c`).
    And(Vec<Ast>),
    /// At least one sub-query must match (`a or b`).
    Or(Vec<Ast>),
    /// The sub-query must not match (`not a`).
    Not(Box<Ast>),
    /// `field:value`, `field:"phrase"`, `field:*` (exists), or free text when `field` is `None`.
    Is {
        /// The field (possibly a wildcard pattern); `None` for free text.
        field: Option<FieldRef>,
        /// The value.
        value: Literal,
        /// True for a quoted value (`"…"`): a phrase query.
        phrase: bool,
    },
    /// `field < value`, `field >= value`, …
    Range {
        /// The field (possibly a wildcard pattern).
        field: FieldRef,
        /// The comparison.
        op: RangeOp,
        /// The bound, as written.
        value: Literal,
    },
    /// `path:{ inner query }` on a nested field.
    Nested {
        /// The nested path, relative to the enclosing nested query if any.
        path: FieldRef,
        /// The query every matching nested object must satisfy as a whole.
        query: Box<Ast>,
    },
}

/// A field name, literal or with `*` wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldRef {
    /// A literal field name (quoted, or unquoted without an unescaped `*`).
    Name(String),
    /// A pattern with `*` wildcards: the literal segments between the stars
    /// (`user*` is `["user", ""]`, `*` is `["", ""]`).
    Wildcard(Vec<String>),
}

/// A value as written in the query.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text (quoted or unquoted); numbers stay text, as in Kibana.
    Str(String),
    /// An unquoted value with `*` wildcards: the literal segments between the stars.
    Wildcard(Vec<String>),
    /// Unquoted `true` / `false`.
    Bool(bool),
    /// Unquoted `null`.
    Null,
}

/// A range operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl RangeOp {
    /// The Elasticsearch range parameter name (`lt`, `lte`, `gt`, `gte`).
    pub fn es_name(self) -> &'static str {
        match self {
            RangeOp::Lt => "lt",
            RangeOp::Lte => "lte",
            RangeOp::Gt => "gt",
            RangeOp::Gte => "gte",
        }
    }

    /// The KQL (and LogQL) operator text.
    pub fn symbol(self) -> &'static str {
        match self {
            RangeOp::Lt => "<",
            RangeOp::Lte => "<=",
            RangeOp::Gt => ">",
            RangeOp::Gte => ">=",
        }
    }

    /// The operator that holds exactly when this one does not (`<` ↔ `>=`).
    pub fn negated(self) -> RangeOp {
        match self {
            RangeOp::Lt => RangeOp::Gte,
            RangeOp::Lte => RangeOp::Gt,
            RangeOp::Gt => RangeOp::Lte,
            RangeOp::Gte => RangeOp::Lt,
        }
    }
}

impl Ast {
    /// The query that matches everything (`*:*`, what an empty query parses to).
    pub fn match_all() -> Ast {
        Ast::Is {
            field: Some(FieldRef::star()),
            value: Literal::star(),
            phrase: false,
        }
    }

    /// Whether this is `*:*`.
    pub fn is_match_all(&self) -> bool {
        matches!(self, Ast::Is { field: Some(f), value, .. } if f.is_star() && value.is_star())
    }

    /// `field:*` with a literal field: the field exists.
    pub fn exists_field(&self) -> Option<&str> {
        match self {
            Ast::Is {
                field: Some(FieldRef::Name(name)),
                value,
                ..
            } if value.is_star() => Some(name),
            _ => None,
        }
    }
}

impl Ast {
    /// The tree as JSON in the shape of Kibana's `KueryNode`s (`{"type": "function",
    /// "function": "is", "arguments": […]}`), for `logsleuth kql --to ast`.
    pub fn to_kuery_json(&self) -> serde_json::Value {
        use serde_json::json;
        fn function(name: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
            json!({"type": "function", "function": name, "arguments": args})
        }
        fn field_node(f: &FieldRef) -> serde_json::Value {
            match f {
                FieldRef::Name(n) => json!({"type": "literal", "value": n}),
                FieldRef::Wildcard(parts) => {
                    json!({"type": "wildcard", "value": parts.join(WILDCARD_SYMBOL)})
                }
            }
        }
        fn value_node(v: &Literal, quoted: bool) -> serde_json::Value {
            match v {
                Literal::Wildcard(parts) => {
                    json!({"type": "wildcard", "value": parts.join(WILDCARD_SYMBOL)})
                }
                other if quoted => {
                    json!({"type": "literal", "value": other.to_json(), "isQuoted": true})
                }
                other => json!({"type": "literal", "value": other.to_json()}),
            }
        }
        match self {
            Ast::And(items) => function("and", items.iter().map(Ast::to_kuery_json).collect()),
            Ast::Or(items) => function("or", items.iter().map(Ast::to_kuery_json).collect()),
            Ast::Not(inner) => function("not", vec![inner.to_kuery_json()]),
            Ast::Is {
                field,
                value,
                phrase,
            } => function(
                "is",
                vec![
                    field
                        .as_ref()
                        .map(field_node)
                        .unwrap_or_else(|| json!({"type": "literal", "value": null})),
                    value_node(value, *phrase),
                    json!({"type": "literal", "value": phrase}),
                ],
            ),
            Ast::Range { field, op, value } => function(
                "range",
                vec![
                    field_node(field),
                    json!(op.es_name()),
                    value_node(value, false),
                ],
            ),
            Ast::Nested { path, query } => {
                function("nested", vec![field_node(path), query.to_kuery_json()])
            }
        }
    }
}

/// How Kibana marks a wildcard inside a wildcard node's value.
const WILDCARD_SYMBOL: &str = "@kuery-wildcard@";

impl FieldRef {
    /// The `*` pattern (every field).
    pub fn star() -> FieldRef {
        FieldRef::Wildcard(vec![String::new(), String::new()])
    }

    /// Whether this is the lone `*` pattern.
    pub fn is_star(&self) -> bool {
        matches!(self, FieldRef::Wildcard(parts) if parts.len() == 2 && parts.iter().all(String::is_empty))
    }

    /// The name with wildcards shown as `*` (Kibana's `toElasticsearchQuery` of a field node).
    pub fn display_name(&self) -> String {
        match self {
            FieldRef::Name(n) => n.clone(),
            FieldRef::Wildcard(parts) => parts.join("*"),
        }
    }

    /// Prefixes a nested path (`path.name`), keeping wildcards.
    pub fn prefixed(&self, path: Option<&str>) -> FieldRef {
        let Some(path) = path else {
            return self.clone();
        };
        match self {
            FieldRef::Name(n) => FieldRef::Name(format!("{path}.{n}")),
            FieldRef::Wildcard(parts) => {
                let mut parts = parts.clone();
                if let Some(first) = parts.first_mut() {
                    *first = format!("{path}.{first}");
                }
                FieldRef::Wildcard(parts)
            }
        }
    }

    /// Whether a concrete field name matches this reference (exactly, or the wildcard pattern).
    pub fn matches_name(&self, name: &str) -> bool {
        match self {
            FieldRef::Name(n) => n == name,
            FieldRef::Wildcard(parts) => wildcard_match(parts, name),
        }
    }
}

impl Literal {
    /// The lone `*` value (exists).
    pub fn star() -> Literal {
        Literal::Wildcard(vec![String::new(), String::new()])
    }

    /// Whether this is the lone `*` value.
    pub fn is_star(&self) -> bool {
        matches!(self, Literal::Wildcard(parts) if parts.len() == 2 && parts.iter().all(String::is_empty))
    }

    /// The value as text, wildcards shown as `*` (Kibana's `toElasticsearchQuery` of a value
    /// node, as a string).
    pub fn text(&self) -> String {
        match self {
            Literal::Str(s) => s.clone(),
            Literal::Wildcard(parts) => parts.join("*"),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => "null".into(),
        }
    }

    /// The value as Kibana puts it in a query: strings, booleans and `null` keep their JSON type.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Literal::Str(s) => s.clone().into(),
            Literal::Wildcard(parts) => parts.join("*").into(),
            Literal::Bool(b) => (*b).into(),
            Literal::Null => serde_json::Value::Null,
        }
    }
}

/// Whether `text` matches the wildcard pattern given by its literal segments (`*` between them
/// matches any run of characters, newlines included). Non-allocating.
pub fn wildcard_match(parts: &[String], text: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    if rest.is_empty() {
        return remaining.is_empty();
    }
    let (last, middle) = rest.split_last().unwrap_or((&rest[0], &[]));
    for part in middle {
        match remaining.find(part.as_str()) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

// ---------------------------------------------------------------------------------------------
// Printing

/// Characters that must be escaped in an unquoted literal (Kibana's `SpecialCharacter`).
const SPECIAL: &[char] = &['\\', '(', ')', ':', '<', '>', '"', '*', '{', '}'];

/// Whitespace as Kibana's grammar sees it (`Space`).
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{00A0}')
}

/// Whitespace as JavaScript's `String.prototype.trim` removes it (Kibana trims unquoted values).
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Quotes a value for KQL: `"…"` with `\` and `"` escaped. The result is a phrase value that
/// matches the text exactly (no wildcards), for building `field:"value"` filters.
pub fn quote_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A field name for KQL: bare when it is a plain name (`status`, `user.name`, `@timestamp`),
/// quoted otherwise, so that it is always read back as this exact name.
pub fn quote_field(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-' | '/'))
        && !matches!(
            name.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "or" | "and" | "not"
        );
    if plain {
        name.to_string()
    } else {
        quote_value(name)
    }
}

/// Writes text as an unquoted literal: specials escaped, whitespace escapes for tabs and line
/// breaks, and keywords (`or`, `and`, `not`) defused with a `\u` escape of their first letter.
fn write_unquoted(out: &mut String, text: &str) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if SPECIAL.contains(&c) {
            out.push('\\');
            out.push(c);
        } else if c == '\t' {
            out.push_str("\\t");
        } else if c == '\r' {
            out.push_str("\\r");
        } else if c == '\n' {
            out.push_str("\\n");
        } else if starts_keyword(&chars, i) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
        i += 1;
    }
}

/// Whether a keyword as Kibana's grammar checks it (`Or`, `And`, `Not`) starts at `i`:
/// `not` followed by whitespace anywhere; `or`/`and` between whitespace (the leading whitespace
/// is at `i`, so we defuse the keyword's first letter instead, one position later).
fn starts_keyword(chars: &[char], i: usize) -> bool {
    // The end of the text counts as whitespace: what follows it in a query often is
    // (`NOT < 5`, `a or and b:1`), and a needless escape is harmless.
    let word_then_space = |word: &str, at: usize| {
        let n = word.len();
        at + n <= chars.len()
            && chars[at..at + n]
                .iter()
                .zip(word.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b))
            && chars.get(at + n).is_none_or(|c| is_space(*c))
    };
    if word_then_space("not", i) {
        return true;
    }
    i > 0 && is_space(chars[i - 1]) && (word_then_space("or", i) || word_then_space("and", i))
}

/// Whether an unquoted rendering would be read back as exactly this text.
fn unquoted_is_faithful(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(is_js_whitespace)
        && !text.ends_with(is_js_whitespace)
        && !matches!(text, "true" | "false" | "null")
}

fn write_field(out: &mut String, field: &FieldRef) {
    match field {
        FieldRef::Name(n) => {
            if unquoted_is_faithful(n) {
                write_unquoted(out, n)
            } else {
                out.push_str(&quote_value(n))
            }
        }
        FieldRef::Wildcard(parts) => write_wildcard(out, parts),
    }
}

fn write_wildcard(out: &mut String, parts: &[String]) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('*');
        }
        write_unquoted(out, part);
    }
}

fn write_literal(out: &mut String, value: &Literal, phrase: bool) {
    match value {
        // An unquoted value that trims to nothing (`f:\t`) can only be written that way.
        Literal::Str(s) if s.is_empty() && !phrase => out.push_str("\\t"),
        Literal::Str(s) if phrase || !unquoted_is_faithful(s) => out.push_str(&quote_value(s)),
        Literal::Str(s) => write_unquoted(out, s),
        Literal::Wildcard(parts) => write_wildcard(out, parts),
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Null => out.push_str("null"),
    }
}

fn write_ast(out: &mut String, ast: &Ast) {
    // Children that are `and`/`or` are parenthesised: the printed form then reads back with the
    // same grouping whatever the precedence.
    let write_child = |out: &mut String, child: &Ast| {
        if matches!(child, Ast::And(_) | Ast::Or(_)) {
            out.push('(');
            write_ast(out, child);
            out.push(')');
        } else {
            write_ast(out, child);
        }
    };
    match ast {
        Ast::And(items) | Ast::Or(items) => {
            let sep = if matches!(ast, Ast::And(_)) {
                " and "
            } else {
                " or "
            };
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                write_child(out, item);
            }
        }
        Ast::Not(inner) => {
            out.push_str("not ");
            // `not` applies to a sub-query: another `not` needs parentheses.
            if matches!(**inner, Ast::Not(_)) {
                out.push('(');
                write_ast(out, inner);
                out.push(')');
            } else {
                write_child(out, inner);
            }
        }
        Ast::Is {
            field,
            value,
            phrase,
        } => {
            if let Some(field) = field {
                write_field(out, field);
                out.push(':');
            }
            write_literal(out, value, *phrase);
        }
        Ast::Range { field, op, value } => {
            write_field(out, field);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            // A bound is any literal; quoted when unquoted text would not read back the same.
            match value {
                Literal::Str(s) if !unquoted_is_faithful(s) => out.push_str(&quote_value(s)),
                other => write_literal(out, other, false),
            }
        }
        Ast::Nested { path, query } => {
            write_field(out, path);
            out.push_str(":{ ");
            write_ast(out, query);
            out.push_str(" }");
        }
    }
}

impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_ast(&mut out, self);
        f.write_str(&out)
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_field(&mut out, self);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wildcard_match_handles_prefix_suffix_and_middle() {
        assert!(wildcard_match(&parts(&["jpg", ""]), "jpgx"));
        assert!(wildcard_match(&parts(&["", "jpg"]), "a.jpg"));
        assert!(!wildcard_match(&parts(&["", "jpg"]), "a.jpge"));
        assert!(wildcard_match(&parts(&["a", "b", "c"]), "axxbyyc"));
        assert!(!wildcard_match(&parts(&["a", "b", "c"]), "axxc"));
        assert!(!wildcard_match(&parts(&["ab", "ba"]), "aba"));
        assert!(wildcard_match(&parts(&["ab", "ba"]), "abba"));
        assert!(wildcard_match(&parts(&["", ""]), ""));
        assert!(wildcard_match(&parts(&["x"]), "x"));
    }

    #[test]
    fn quote_value_escapes_backslash_and_quote() {
        assert_eq!(quote_value(r#"a"b\n"#), r#""a\"b\\n""#);
    }

    #[test]
    fn quote_field_keeps_plain_names_bare() {
        assert_eq!(quote_field("user.name"), "user.name");
        assert_eq!(quote_field("@timestamp"), "@timestamp");
        assert_eq!(quote_field("my field"), "\"my field\"");
        assert_eq!(quote_field("a:b"), "\"a:b\"");
        assert_eq!(quote_field("true"), "\"true\"");
    }
}
