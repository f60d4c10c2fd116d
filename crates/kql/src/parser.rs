//! A recursive-descent parser that follows Kibana's PEG grammar
//! (`kbn-es-query/src/kuery/grammar/grammar.peggy`) rule by rule, with the same ordered choice,
//! greedy repetition and lookaheads, so that it accepts exactly the same queries and builds the
//! same trees.
//!
//! Why hand-written rather than pest: KQL's grammar leans on negative lookaheads inside
//! literals (`!Keyword`), trims and post-processes literals, and Kibana's error messages come
//! from peggy's "farthest failure" bookkeeping with *named* rules (`value`, `field name`,
//! `whitespace`, …). Reproducing those messages needs control over which failures are recorded
//! (silenced inside lookaheads and named rules), which is direct here and awkward with pest's
//! generated errors.

use super::KqlError;
use super::ast::{Ast, FieldRef, Literal, RangeOp, is_js_whitespace, is_space};

/// Deeper nesting than this is refused (a guard against stack exhaustion on hostile input).
const MAX_DEPTH: usize = 200;

/// Parse-time options (Kibana applies `query:allowLeadingWildcards` in the grammar).
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// When false, an unquoted value starting with `*` (other than a lone `*`) is an error.
    pub allow_leading_wildcards: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            allow_leading_wildcards: true,
        }
    }
}

/// The message Kibana gives for a leading wildcard when they are disabled.
pub const LEADING_WILDCARD_MESSAGE: &str =
    "Leading wildcards are disabled. See query:allowLeadingWildcards in Advanced Settings.";

/// Parses with options. See [`super::parse`].
pub fn parse_with(query: &str, options: ParseOptions) -> Result<Ast, KqlError> {
    let mut p = Parser {
        chars: query.chars().collect(),
        pos: 0,
        fail_pos: 0,
        expected: Vec::new(),
        silent: 0,
        depth: 0,
        options,
        custom_error: None,
        space_run: (0, 0),
    };
    let result = p.start();
    if let Some((offset, message)) = p.custom_error.take() {
        return Err(syntax_error(query, offset, &message));
    }
    match result {
        Some(ast) if p.pos == p.chars.len() => Ok(ast),
        _ => {
            if p.pos < p.chars.len() || result.is_none() {
                p.fail(p.pos, Expect::End);
            }
            let found = p
                .chars
                .get(p.fail_pos)
                .map(|c| format!("\"{}\"", escape_found(*c)));
            let mut names: Vec<String> = p.expected.iter().map(Expect::describe).collect();
            names.sort();
            names.dedup();
            let message = format!(
                "Expected {} but {} found.",
                names.join(", "),
                found.as_deref().unwrap_or("end of input")
            );
            Err(syntax_error(query, p.fail_pos, &message))
        }
    }
}

fn escape_found(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        c if c.is_control() => format!("\\x{:02X}", c as u32),
        c => c.to_string(),
    }
}

/// Builds a syntax error: the message, the line/column, and the offending line with a caret.
pub(crate) fn syntax_error(query: &str, offset: usize, message: &str) -> KqlError {
    let (line_no, col, line) = locate(query, offset);
    // Control characters in the echoed line would break the caret alignment and the terminal.
    let shown: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let caret = format!("{}^", "-".repeat(col - 1));
    KqlError {
        message: format!(
            "KQL syntax error at line {line_no}, column {col}: {message}\n{shown}\n{caret}"
        ),
        offset: Some(offset),
    }
}

/// 1-based line and column of a character offset, and the text of that line.
fn locate(query: &str, offset: usize) -> (usize, usize, &str) {
    let mut line_start_byte = 0;
    let mut line_no = 1;
    let mut col = 1;
    for (i, (byte, c)) in query.char_indices().enumerate() {
        if i == offset {
            break;
        }
        if c == '\n' {
            line_no += 1;
            col = 1;
            line_start_byte = byte + 1;
        } else {
            col += 1;
        }
    }
    let rest = &query[line_start_byte..];
    let line = rest.split('\n').next().unwrap_or("");
    (line_no, col, line.trim_end_matches('\r'))
}

/// What the parser expected at a failure position, named as Kibana's error messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Char(char),
    Text(&'static str),
    Named(&'static str),
    End,
}

impl Expect {
    fn describe(&self) -> String {
        match self {
            Expect::Char(c) => format!("\"{}\"", escape_found(*c)),
            Expect::Text(t) => format!("\"{t}\""),
            Expect::Named(n) => (*n).to_string(),
            Expect::End => "end of input".into(),
        }
    }
}

const FIELD_NAME: Expect = Expect::Named("field name");
const VALUE: Expect = Expect::Named("value");
const LITERAL: Expect = Expect::Named("literal");
const WHITESPACE: Expect = Expect::Named("whitespace");
const OR: Expect = Expect::Named("OR");
const AND: Expect = Expect::Named("AND");
const NOT: Expect = Expect::Named("NOT");

/// One piece of an unquoted literal before trimming: a character or the wildcard.
#[derive(Clone, Copy)]
enum Piece {
    Char(char),
    Star,
}

/// A value group before the field is known (Kibana builds these as partial functions).
enum ValueTree {
    Or(Vec<ValueTree>),
    And(Vec<ValueTree>),
    Not(Box<ValueTree>),
    Leaf(Literal, bool),
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    fail_pos: usize,
    expected: Vec<Expect>,
    silent: u32,
    depth: usize,
    options: ParseOptions,
    custom_error: Option<(usize, String)>,
    /// The last whitespace run measured by `keyword_ahead` (start, end).
    space_run: (usize, usize),
}

impl Parser {
    fn fail(&mut self, pos: usize, what: Expect) {
        if self.silent > 0 || pos < self.fail_pos {
            return;
        }
        if pos > self.fail_pos {
            self.fail_pos = pos;
            self.expected.clear();
        }
        if !self.expected.contains(&what) {
            self.expected.push(what);
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            self.fail(self.pos, Expect::Char(c));
            false
        }
    }

    /// Case-insensitive keyword text (`'or'i`).
    fn eat_word_i(&mut self, word: &'static str) -> bool {
        let n = word.len();
        let ok = self.pos + n <= self.chars.len()
            && self.chars[self.pos..self.pos + n]
                .iter()
                .zip(word.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b));
        if ok {
            self.pos += n;
        } else {
            self.fail(self.pos, Expect::Text(word));
        }
        ok
    }

    /// `Space` (named "whitespace").
    fn space(&mut self) -> bool {
        match self.peek() {
            Some(c) if is_space(c) => {
                self.pos += 1;
                true
            }
            _ => {
                self.fail(self.pos, WHITESPACE);
                false
            }
        }
    }

    fn spaces(&mut self) {
        while self.space() {}
    }

    fn spaces1(&mut self) -> bool {
        if !self.space() {
            return false;
        }
        self.spaces();
        true
    }

    /// Runs a named rule: inner failures are silenced, and a failure is reported under the name.
    fn named<T>(&mut self, name: Expect, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        self.silent += 1;
        let r = f(self);
        self.silent -= 1;
        if r.is_none() {
            self.pos = start;
            self.fail(start, name);
        }
        r
    }

    /// `( inner )`, else `otherwise` (unless an error was found inside the parentheses), as
    /// the grammar's sub-queries and lists of values; each level counts against the nesting
    /// limit.
    fn group_or<T>(&mut self, inner: fn(&mut Self) -> Option<T>, otherwise: fn(&mut Self) -> Option<T>) -> Option<T> {
        if !self.enter() {
            return None;
        }
        let grouped = self.attempt(|p| {
            if !p.eat('(') {
                return None;
            }
            p.spaces();
            let v = inner(p)?;
            p.spaces();
            p.eat(')').then_some(v)
        });
        let r = match grouped {
            Some(v) => Some(v),
            None if self.custom_error.is_some() => None,
            None => otherwise(self),
        };
        self.depth -= 1;
        r
    }

    /// `item (keyword item)*`, as the grammar's `or` and `and` chains of queries and of
    /// values: the item alone, or `join` of all of them.
    fn chain<T>(&mut self, keyword: fn(&mut Self) -> bool, item: fn(&mut Self) -> Option<T>, join: fn(Vec<T>) -> T) -> Option<T> {
        let mut nodes = vec![item(self)?];
        while let Some(next) = self.attempt(|p| if keyword(p) { item(p) } else { None }) {
            nodes.push(next);
        }
        Some(if nodes.len() == 1 { nodes.pop()? } else { join(nodes) })
    }

    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        let r = f(self);
        if r.is_none() {
            self.pos = start;
        }
        r
    }

    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            if self.custom_error.is_none() {
                self.custom_error = Some((
                    self.pos,
                    format!("the query is nested more than {MAX_DEPTH} levels deep"),
                ));
            }
            return false;
        }
        self.depth += 1;
        true
    }

    // --- rules -------------------------------------------------------------------------------

    fn start(&mut self) -> Option<Ast> {
        self.spaces();
        let query = self.attempt(|p| p.or_query());
        self.spaces();
        if self.custom_error.is_some() {
            return None;
        }
        Some(query.unwrap_or_else(Ast::match_all))
    }

    fn or_kw(&mut self) -> bool {
        self.named(OR, |p| {
            (p.spaces1() && p.eat_word_i("or") && p.spaces1()).then_some(())
        })
        .is_some()
    }

    fn and_kw(&mut self) -> bool {
        self.named(AND, |p| {
            (p.spaces1() && p.eat_word_i("and") && p.spaces1()).then_some(())
        })
        .is_some()
    }

    fn not_kw(&mut self) -> bool {
        self.named(NOT, |p| (p.eat_word_i("not") && p.spaces1()).then_some(()))
            .is_some()
    }

    fn or_query(&mut self) -> Option<Ast> {
        self.chain(Self::or_kw, Self::and_query, Ast::Or)
    }

    fn and_query(&mut self) -> Option<Ast> {
        self.chain(Self::and_kw, Self::not_query, Ast::And)
    }

    fn not_query(&mut self) -> Option<Ast> {
        if let Some(q) = self.attempt(|p| if p.not_kw() { p.sub_query() } else { None }) {
            return Some(Ast::Not(Box::new(q)));
        }
        self.sub_query()
    }

    fn sub_query(&mut self) -> Option<Ast> {
        self.group_or(Self::or_query, Self::nested_query)
    }

    fn nested_query(&mut self) -> Option<Ast> {
        let nested = self.attempt(|p| {
            let field = p.field()?;
            p.spaces();
            if !p.eat(':') {
                return None;
            }
            p.spaces();
            if !p.eat('{') {
                return None;
            }
            p.spaces();
            let q = p.or_query()?;
            p.spaces();
            if !p.eat('}') {
                return None;
            }
            Some(Ast::Nested {
                path: field_of(field),
                query: Box::new(q),
            })
        });
        if nested.is_some() || self.custom_error.is_some() {
            return nested;
        }
        self.expression()
    }

    fn expression(&mut self) -> Option<Ast> {
        if let Some(r) = self.attempt(|p| {
            let field = p.field()?;
            p.spaces();
            let op = p.range_operator()?;
            p.spaces();
            let value = p.literal()?;
            Some(Ast::Range {
                field: field_of(field),
                op,
                value: value.0,
            })
        }) {
            return Some(r);
        }
        if let Some(r) = self.attempt(|p| {
            let field = p.field()?;
            p.spaces();
            if !p.eat(':') {
                return None;
            }
            p.spaces();
            let values = p.list_of_values()?;
            Some(apply_field(Some(field), values))
        }) {
            return Some(r);
        }
        if self.custom_error.is_some() {
            return None;
        }
        let value = self.value()?;
        Some(apply_field(None, value))
    }

    fn range_operator(&mut self) -> Option<RangeOp> {
        let ops = [
            ("<=", RangeOp::Lte),
            (">=", RangeOp::Gte),
            ("<", RangeOp::Lt),
            (">", RangeOp::Gt),
        ];
        for (text, op) in ops {
            let matched = text
                .chars()
                .enumerate()
                .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c));
            if matched {
                self.pos += text.len();
                return Some(op);
            }
            self.fail(self.pos, Expect::Text(text));
        }
        None
    }

    fn list_of_values(&mut self) -> Option<ValueTree> {
        self.group_or(Self::or_list, Self::value)
    }

    fn or_list(&mut self) -> Option<ValueTree> {
        self.chain(Self::or_kw, Self::and_list, ValueTree::Or)
    }

    fn and_list(&mut self) -> Option<ValueTree> {
        self.chain(Self::and_kw, Self::not_list, ValueTree::And)
    }

    fn not_list(&mut self) -> Option<ValueTree> {
        if let Some(v) = self.attempt(|p| if p.not_kw() { p.list_of_values() } else { None }) {
            return Some(ValueTree::Not(Box::new(v)));
        }
        if self.custom_error.is_some() {
            return None;
        }
        self.list_of_values()
    }

    /// `Value "value" = QuotedString / UnquotedLiteral` (with the leading-wildcard check).
    fn value(&mut self) -> Option<ValueTree> {
        let start = self.pos;
        let (lit, phrase) = self.named(VALUE, |p| {
            p.quoted_string()
                .map(|s| (Literal::Str(s), true))
                .or_else(|| p.unquoted_literal().map(|l| (l, false)))
        })?;
        if !self.options.allow_leading_wildcards
            && let Literal::Wildcard(parts) = &lit
            && parts.first().is_some_and(String::is_empty)
            && !lit.is_star()
            && self.custom_error.is_none()
        {
            self.custom_error = Some((start, LEADING_WILDCARD_MESSAGE.to_string()));
            return None;
        }
        Some(ValueTree::Leaf(lit, phrase))
    }

    /// `Field "fieldName" = Literal`.
    fn field(&mut self) -> Option<Literal> {
        self.named(FIELD_NAME, |p| p.literal_inner().map(|l| l.0))
    }

    /// `Literal "literal" = QuotedString / UnquotedLiteral`; the flag tells a quoted one.
    fn literal(&mut self) -> Option<(Literal, bool)> {
        self.named(LITERAL, |p| p.literal_inner())
    }

    fn literal_inner(&mut self) -> Option<(Literal, bool)> {
        if let Some(s) = self.attempt(|p| p.quoted_string()) {
            return Some((Literal::Str(s), true));
        }
        self.unquoted_literal().map(|l| (l, false))
    }

    fn quoted_string(&mut self) -> Option<String> {
        if !self.eat('"') {
            return None;
        }
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.fail(self.pos, Expect::Char('"'));
                    return None;
                }
                Some('"') => {
                    self.pos += 1;
                    return Some(out);
                }
                Some('\\') => {
                    if let Some(c) = self.escaped_whitespace().or_else(|| self.escaped_unicode()) {
                        out.push(c);
                    } else if matches!(self.chars.get(self.pos + 1), Some('\\' | '"')) {
                        out.push(self.chars[self.pos + 1]);
                        self.pos += 2;
                    } else {
                        // A lone backslash is an ordinary character inside quotes.
                        out.push('\\');
                        self.pos += 1;
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn escaped_whitespace(&mut self) -> Option<char> {
        let c = match (self.chars.get(self.pos), self.chars.get(self.pos + 1)) {
            (Some('\\'), Some('t')) => '\t',
            (Some('\\'), Some('r')) => '\r',
            (Some('\\'), Some('n')) => '\n',
            _ => return None,
        };
        self.pos += 2;
        Some(c)
    }

    fn escaped_unicode(&mut self) -> Option<char> {
        if self.chars.get(self.pos) != Some(&'\\') || self.chars.get(self.pos + 1) != Some(&'u') {
            return None;
        }
        let digits: String = self.chars.get(self.pos + 2..self.pos + 6)?.iter().collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(&digits, 16).ok()?;
        // JavaScript strings hold UTF-16 code units; a lone surrogate has no `char`, so it
        // becomes U+FFFD, as it would when the JavaScript string is sent as UTF-8.
        let c = char::from_u32(code).unwrap_or('\u{FFFD}');
        self.pos += 6;
        Some(c)
    }

    /// Whether a keyword (`Or`, `And`, `Not`) starts here, as the `!Keyword` lookahead sees it
    /// (`Space+ 'or'i Space+`, `Space+ 'and'i Space+`, `'not'i Space+`). Computed directly, with
    /// the end of the current whitespace run cached, so that long runs of spaces inside a value
    /// stay linear rather than rescanning the run at every position.
    fn keyword_ahead(&mut self) -> bool {
        let word_then_space = |chars: &[char], at: usize, word: &str| {
            let n = word.len();
            at + n < chars.len()
                && chars[at..at + n]
                    .iter()
                    .zip(word.chars())
                    .all(|(a, b)| a.eq_ignore_ascii_case(&b))
                && is_space(chars[at + n])
        };
        let pos = self.pos;
        match self.chars.get(pos) {
            Some(&c) if is_space(c) => {
                let end = match self.space_run {
                    (start, end) if start <= pos && pos < end => end,
                    _ => {
                        let mut end = pos;
                        while end < self.chars.len() && is_space(self.chars[end]) {
                            end += 1;
                        }
                        self.space_run = (pos, end);
                        end
                    }
                };
                word_then_space(&self.chars, end, "or") || word_then_space(&self.chars, end, "and")
            }
            Some(_) => word_then_space(&self.chars, pos, "not"),
            None => false,
        }
    }

    /// One `UnquotedCharacter` (an escaped keyword gives several characters); false when
    /// none starts here.
    fn unquoted_char(&mut self, out: &mut Vec<Piece>) -> bool {
        let Some(c) = self.peek() else { return false };
        if c == '\\' {
            if let Some(c) = self.escaped_whitespace() {
                out.push(Piece::Char(c));
                return true;
            }
            if let Some(&next) = self.chars.get(self.pos + 1)
                && is_special(next)
            {
                self.pos += 2;
                out.push(Piece::Char(next));
                return true;
            }
            if let Some(c) = self.escaped_unicode() {
                out.push(Piece::Char(c));
                return true;
            }
            for word in ["or", "and", "not"] {
                let n = word.len();
                let start = self.pos + 1;
                let matched = start + n <= self.chars.len()
                    && self.chars[start..start + n]
                        .iter()
                        .zip(word.chars())
                        .all(|(a, b)| a.eq_ignore_ascii_case(&b));
                if matched {
                    // Keeps the letters as typed (Kibana returns the matched text).
                    out.extend(self.chars[start..start + n].iter().map(|c| Piece::Char(*c)));
                    self.pos = start + n;
                    return true;
                }
            }
            return false;
        }
        if c == '*' {
            self.pos += 1;
            out.push(Piece::Star);
            return true;
        }
        if is_special(c) || self.keyword_ahead() {
            return false;
        }
        self.pos += 1;
        out.push(Piece::Char(c));
        true
    }

    fn unquoted_literal(&mut self) -> Option<Literal> {
        let mut pieces = Vec::new();
        while self.unquoted_char(&mut pieces) {}
        if pieces.is_empty() {
            self.fail(self.pos, LITERAL);
            return None;
        }
        Some(build_unquoted(&pieces))
    }
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}'
    )
}

/// Joins the pieces, trims (as JavaScript's `trim`), and types the result as Kibana does:
/// `null`, `true`, `false`, a wildcard pattern, or text.
fn build_unquoted(pieces: &[Piece]) -> Literal {
    let mut segments: Vec<String> = vec![String::new()];
    for piece in pieces {
        match piece {
            Piece::Char(c) => segments.last_mut().map(|s| s.push(*c)).unwrap_or(()),
            Piece::Star => segments.push(String::new()),
        }
    }
    if let Some(first) = segments.first_mut() {
        *first = first.trim_start_matches(is_js_whitespace).to_string();
    }
    if let Some(last) = segments.last_mut() {
        *last = last.trim_end_matches(is_js_whitespace).to_string();
    }
    if segments.len() > 1 {
        return Literal::Wildcard(segments);
    }
    let text = segments.pop().unwrap_or_default();
    match text.as_str() {
        "null" => Literal::Null,
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        _ => Literal::Str(text),
    }
}

/// A field literal as a field reference (`true`/`false`/`null` become their names).
fn field_of(lit: Literal) -> FieldRef {
    match lit {
        Literal::Wildcard(parts) => FieldRef::Wildcard(parts),
        other => FieldRef::Name(other.text()),
    }
}

/// Distributes a value group over its field (`f:(a or b)` → `f:a or f:b`).
fn apply_field(field: Option<Literal>, values: ValueTree) -> Ast {
    // Kibana: a `null` field literal is "no field", i.e. free text.
    let field = match field {
        None | Some(Literal::Null) => None,
        Some(lit) => Some(field_of(lit)),
    };
    fn build(field: &Option<FieldRef>, v: ValueTree) -> Ast {
        match v {
            ValueTree::Or(items) => Ast::Or(items.into_iter().map(|i| build(field, i)).collect()),
            ValueTree::And(items) => Ast::And(items.into_iter().map(|i| build(field, i)).collect()),
            ValueTree::Not(inner) => Ast::Not(Box::new(build(field, *inner))),
            ValueTree::Leaf(value, phrase) => Ast::Is {
                field: field.clone(),
                value,
                phrase,
            },
        }
    }
    build(&field, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Ast {
        parse_with(q, ParseOptions::default()).unwrap_or_else(|e| panic!("{q:?}: {}", e.message))
    }

    fn is(field: &str, value: &str) -> Ast {
        Ast::Is {
            field: Some(FieldRef::Name(field.into())),
            value: Literal::Str(value.into()),
            phrase: false,
        }
    }

    fn phrase(field: Option<&str>, value: &str) -> Ast {
        Ast::Is {
            field: field.map(|f| FieldRef::Name(f.into())),
            value: Literal::Str(value.into()),
            phrase: true,
        }
    }

    fn text(value: &str) -> Ast {
        Ast::Is {
            field: None,
            value: Literal::Str(value.into()),
            phrase: false,
        }
    }

    fn parts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn err(q: &str) -> KqlError {
        parse_with(q, ParseOptions::default()).expect_err(q)
    }

    #[test]
    fn empty_and_blank_queries_match_all() {
        assert_eq!(p(""), Ast::match_all());
        assert_eq!(p("  \t\n"), Ast::match_all());
        assert!(p("*:*").is_match_all());
    }

    #[test]
    fn field_value_and_phrase() {
        assert_eq!(p("status:200"), is("status", "200"));
        assert_eq!(p("status : 200 "), is("status", "200"));
        assert_eq!(
            p(r#"message:"hello world""#),
            phrase(Some("message"), "hello world")
        );
        assert_eq!(p(r#""quoted field":x"#), is("quoted field", "x"));
    }

    #[test]
    fn unquoted_values_may_hold_spaces_and_are_trimmed() {
        assert_eq!(p("message:hello world"), is("message", "hello world"));
        assert_eq!(p("hello   world "), text("hello   world"));
    }

    #[test]
    fn free_text_terms_and_phrases() {
        assert_eq!(p("error"), text("error"));
        assert_eq!(
            p(r#""connection refused""#),
            phrase(None, "connection refused")
        );
    }

    #[test]
    fn true_false_null_are_typed_unless_quoted() {
        assert_eq!(
            p("ok:true"),
            Ast::Is {
                field: Some(FieldRef::Name("ok".into())),
                value: Literal::Bool(true),
                phrase: false
            }
        );
        assert_eq!(p("ok:false").to_string(), "ok:false");
        assert_eq!(p(r#"ok:"true""#), phrase(Some("ok"), "true"));
        assert!(matches!(
            p("x:null"),
            Ast::Is {
                value: Literal::Null,
                ..
            }
        ));
        // Kibana: a `null` field literal means "no field", i.e. free text.
        assert!(matches!(p("null:foo"), Ast::Is { field: None, .. }));
    }

    #[test]
    fn wildcards_in_values_and_fields() {
        assert_eq!(
            p("machine.os:win*"),
            Ast::Is {
                field: Some(FieldRef::Name("machine.os".into())),
                value: Literal::Wildcard(parts(&["win", ""])),
                phrase: false
            }
        );
        assert_eq!(
            p("user*:bob"),
            Ast::Is {
                field: Some(FieldRef::Wildcard(parts(&["user", ""]))),
                value: Literal::Str("bob".into()),
                phrase: false
            }
        );
        assert_eq!(p("f:*").exists_field(), Some("f"));
        // Quoted: no wildcard. Escaped star: a literal star.
        assert_eq!(p(r#"f:"a*""#), phrase(Some("f"), "a*"));
        assert_eq!(p(r"f:a\*"), is("f", "a*"));
    }

    #[test]
    fn ranges() {
        for (q, op) in [
            ("bytes<10", RangeOp::Lt),
            ("bytes <= 10", RangeOp::Lte),
            ("bytes>10", RangeOp::Gt),
            ("bytes >=10", RangeOp::Gte),
        ] {
            assert_eq!(
                p(q),
                Ast::Range {
                    field: FieldRef::Name("bytes".into()),
                    op,
                    value: Literal::Str("10".into())
                },
                "{q}"
            );
        }
        assert_eq!(
            p("@timestamp >= now-15m"),
            Ast::Range {
                field: FieldRef::Name("@timestamp".into()),
                op: RangeOp::Gte,
                value: Literal::Str("now-15m".into())
            }
        );
        assert_eq!(
            p(r#"@timestamp < "2024-05-01T10:00:00""#),
            Ast::Range {
                field: FieldRef::Name("@timestamp".into()),
                op: RangeOp::Lt,
                value: Literal::Str("2024-05-01T10:00:00".into())
            }
        );
    }

    #[test]
    fn precedence_not_over_and_over_or_in_any_case() {
        let a = || is("a", "1");
        let b = || is("b", "2");
        let c = || is("c", "3");
        assert_eq!(
            p("a:1 or b:2 and c:3"),
            Ast::Or(vec![a(), Ast::And(vec![b(), c()])])
        );
        assert_eq!(
            p("a:1 AND b:2 Or c:3"),
            Ast::Or(vec![Ast::And(vec![a(), b()]), c()])
        );
        assert_eq!(
            p("NOT a:1 and b:2"),
            Ast::And(vec![Ast::Not(Box::new(a())), b()])
        );
        assert_eq!(
            p("not (a:1 or b:2)"),
            Ast::Not(Box::new(Ast::Or(vec![a(), b()])))
        );
        assert_eq!(
            p("(a:1 or b:2) and c:3"),
            Ast::And(vec![Ast::Or(vec![a(), b()]), c()])
        );
        assert_eq!(p("a:1 and b:2 and c:3"), Ast::And(vec![a(), b(), c()]));
    }

    #[test]
    fn value_groups_distribute_the_field() {
        assert_eq!(
            p("status:(200 or 304)"),
            Ast::Or(vec![is("status", "200"), is("status", "304")])
        );
        assert_eq!(
            p("tags:(a and not b)"),
            Ast::And(vec![is("tags", "a"), Ast::Not(Box::new(is("tags", "b")))])
        );
        assert_eq!(p("status:(200)"), is("status", "200"));
    }

    #[test]
    fn nested_queries() {
        assert_eq!(
            p(r#"user:{ first:"Alice" and last:"White" }"#),
            Ast::Nested {
                path: FieldRef::Name("user".into()),
                query: Box::new(Ast::And(vec![
                    phrase(Some("first"), "Alice"),
                    phrase(Some("last"), "White")
                ])),
            }
        );
        assert!(
            matches!(p("a:{ b:{ c:1 } }"), Ast::Nested { query, .. } if matches!(*query, Ast::Nested { .. }))
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(p(r"f:a\:b\(c\)\<\>\{\}\\\*"), is("f", r"a:b(c)<>{}\*"));
        assert_eq!(p(r"f:a\tb\nc\rd"), is("f", "a\tb\nc\rd"));
        assert_eq!(p(r"f:caf\u00e9"), is("f", "café"));
        assert_eq!(p(r"f:\and \or \NOT"), is("f", "and or NOT"));
        assert_eq!(
            p(r#"f:"a \"q\" \\ \t \u0041 \x""#),
            phrase(Some("f"), "a \"q\" \\ \t A \\x")
        );
        // Keywords inside values: `or` needs spaces around it to be a keyword.
        assert_eq!(p("f:oregon"), is("f", "oregon"));
        assert_eq!(p("f:a or"), is("f", "a or"));
    }

    #[test]
    fn kibana_quirk_not_followed_by_space_ends_a_value() {
        // Kibana's `!Keyword` lookahead stops a value at `not ` even inside a word.
        assert!(parse_with("message:cannot connect", ParseOptions::default()).is_err());
    }

    #[test]
    fn nbsp_is_whitespace() {
        assert_eq!(
            p("a:1\u{a0}and\u{a0}b:2"),
            Ast::And(vec![is("a", "1"), is("b", "2")])
        );
    }

    #[test]
    fn errors_name_position_and_expectations() {
        let e = err("status:");
        assert_eq!(e.offset, Some(7));
        assert_eq!(
            e.message,
            "KQL syntax error at line 1, column 8: Expected \"(\", \"{\", value, whitespace but end of input found.\nstatus:\n-------^"
        );
        let e = err("response:200 extension:php");
        assert_eq!(e.offset, Some(22));
        assert!(e.message.contains("but \":\" found"), "{}", e.message);
        assert!(
            e.message.contains("AND") && e.message.contains("OR"),
            "{}",
            e.message
        );
        let e = err("a:1 and\n  (b:2");
        assert_eq!(e.offset, Some(14));
        assert!(
            e.message
                .starts_with("KQL syntax error at line 2, column 7"),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("\n  (b:2\n------^"), "{}", e.message);
        assert_eq!(err("(a:1").offset, Some(4));
        assert_eq!(err("a:1 or ").offset, Some(7));
        assert_eq!(err("not not a:1").offset, Some(4));
        // As in Kibana (peggy), failures inside the named `value` rule are not reported.
        assert_eq!(err(r#"f:"unterminated"#).offset, Some(2));
        assert_eq!(err("f:a\\x").offset, Some(3));
        assert_eq!(err(":x").offset, Some(0));
    }

    #[test]
    fn leading_wildcards_can_be_disabled() {
        let opts = ParseOptions {
            allow_leading_wildcards: false,
        };
        let e = parse_with("f:*bar", opts).unwrap_err();
        assert!(e.message.contains(LEADING_WILDCARD_MESSAGE));
        assert_eq!(e.offset, Some(2));
        assert!(parse_with("f:*", opts).is_ok());
        assert!(parse_with("f:bar*", opts).is_ok());
        assert!(parse_with("*bar", opts).is_err());
        assert!(
            parse_with("*ar:x", opts).is_ok(),
            "field names are not values"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = "(".repeat(10_000) + "a" + &")".repeat(10_000);
        let e = err(&q);
        assert!(e.message.contains("nested more than"), "{}", e.message);
    }

    #[test]
    fn display_round_trips() {
        for q in [
            "status:200",
            "a:1 or b:2 and c:3",
            "not (a:1 or b:2)",
            "not (not a:1)",
            r#"user:{ first:"Alice" and last:White }"#,
            "f:win* and g*:x and h:*",
            "bytes >= 10 and @timestamp < now-15m",
            r"f:a\:b\(c\)\* and m:caf\u00e9",
            r"f:and \or x",
            "f:cannot\\u0020connect",
            "f:\"true\" and g:true and n:null",
            "(a:1 or b:2) or c:3",
            "a:1 and (b:2 and c:3)",
            "\"free phrase\" or free text",
            "f:a\\tb",
            "\\NOT < status and f:a \\or and g:x",
        ] {
            let ast = p(q);
            let printed = ast.to_string();
            assert_eq!(p(&printed), ast, "{q} printed as {printed}");
        }
    }
}

#[cfg(test)]
mod perf_tests {
    use super::*;

    #[test]
    fn long_whitespace_runs_parse_in_linear_time() {
        let q = format!("f:a{}b", " ".repeat(200_000));
        let start = std::time::Instant::now();
        let ast = parse_with(&q, ParseOptions::default()).unwrap();
        assert!(matches!(ast, Ast::Is { value: Literal::Str(ref s), .. } if s.len() == 200_002));
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
    }
}
