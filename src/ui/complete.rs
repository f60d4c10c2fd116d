//! Query-bar autocomplete: where the cursor is in the KQL text (a field name or the value of a
//! field), and candidates ranked with fuzzy-matcher's SkimMatcherV2.
//!
//! The `kql` module is to offer `completion_context` and `quote_value`; until it does, the
//! small scanner and quoting below stand in (they only need KQL's lexical shape).

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// Most suggestions kept.
pub const MAX_SUGGESTIONS: usize = 50;

/// What the word under the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextKind {
    /// A field name (or free text, which is completed as a field name).
    Field,
    /// The value of `field` (after `field:`).
    Value {
        /// The field whose value is being typed.
        field: String,
    },
}

/// The completion context at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Field or value.
    pub kind: ContextKind,
    /// The partial word typed so far (without an opening quote).
    pub prefix: String,
    /// Char index where the word (including an opening quote) starts; a suggestion replaces
    /// `start..cursor`.
    pub start: usize,
}

/// A ranked suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What the list shows.
    pub label: String,
    /// What replaces the word.
    pub insert: String,
    /// Whether it completes a field name (else a value).
    pub is_field: bool,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ':' | '<' | '>' | '=' | '{' | '}')
}

/// Finds the completion context at `cursor` (a char index). `None` where nothing can be
/// completed: after a range operator, right after a keyword, inside a closed string.
pub fn context(query: &str, cursor: usize) -> Option<Context> {
    let chars: Vec<char> = query.chars().take(cursor).collect();
    // An unterminated quote before the cursor means we are inside a quoted value.
    let mut in_quote = None;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quote = if in_quote.is_some() { None } else { Some(i) };
        }
    }
    let (start, prefix) = match in_quote {
        Some(q) => (q, chars[q + 1..].iter().collect::<String>()),
        None => {
            let mut s = chars.len();
            while s > 0 && !is_delimiter(chars[s - 1]) {
                s -= 1;
            }
            if chars[s..].first() == Some(&'"') {
                return None;
            }
            (s, chars[s..].iter().collect::<String>())
        }
    };
    // Look left of the word, skipping blanks and an opening paren of a value list `f:(a or `.
    let mut j = start;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    if j > 0 && chars[j - 1] == ':' {
        let field = word_before(&chars, j - 1)?;
        return Some(Context { kind: ContextKind::Value { field }, prefix, start });
    }
    if j > 0 && matches!(chars[j - 1], '<' | '>' | '=') {
        return None;
    }
    if let Some(field) = value_list_field(&chars, start) {
        if matches!(prefix.to_lowercase().as_str(), "or" | "and" | "not") {
            return None;
        }
        return Some(Context { kind: ContextKind::Value { field }, prefix, start });
    }
    if in_quote.is_some() {
        return None;
    }
    Some(Context { kind: ContextKind::Field, prefix, start })
}

/// The field name that ends at `end` (exclusive), skipping blanks before it.
fn word_before(chars: &[char], end: usize) -> Option<String> {
    let mut e = end;
    while e > 0 && chars[e - 1].is_whitespace() {
        e -= 1;
    }
    let mut s = e;
    while s > 0 && !is_delimiter(chars[s - 1]) {
        s -= 1;
    }
    (s < e).then(|| chars[s..e].iter().collect())
}

/// Inside `field:(a or b` → `field`.
fn value_list_field(chars: &[char], before: usize) -> Option<String> {
    let mut depth = 0i32;
    let mut i = before;
    while i > 0 {
        i -= 1;
        match chars[i] {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let mut j = i;
                while j > 0 && chars[j - 1].is_whitespace() {
                    j -= 1;
                }
                return if j > 0 && chars[j - 1] == ':' { word_before(chars, j - 1) } else { None };
            }
            _ => {}
        }
    }
    None
}

/// Quotes a value for KQL when it is not a plain word: `"…"` with `\` and `"` escaped.
pub fn quote_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '@'))
        && !matches!(value.to_lowercase().as_str(), "and" | "or" | "not");
    if plain {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Escapes a field name's KQL special characters (`\():<>"*` and blanks) with backslashes.
pub fn quote_field(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if c.is_whitespace() || matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Ranks `candidates` against `pattern`: fuzzy score, best first, ties by original order.
/// An empty pattern keeps the original order.
pub fn rank<'a>(pattern: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            if pattern.is_empty() {
                Some((0, i, c))
            } else {
                matcher.fuzzy_match(c, pattern).map(|s| (s, i, c))
            }
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, _, c)| c).collect()
}

/// Suggestions for a context, from known field names or the field's known values.
pub fn suggestions(ctx: &Context, fields: &[String], values: Option<&[String]>) -> Vec<Suggestion> {
    match &ctx.kind {
        ContextKind::Field => rank(&ctx.prefix, fields.iter().map(String::as_str))
            .into_iter()
            .filter(|f| *f != ctx.prefix)
            .map(|f| Suggestion { label: f.to_string(), insert: format!("{}:", quote_field(f)), is_field: true })
            .collect(),
        ContextKind::Value { .. } => rank(&ctx.prefix, values.unwrap_or_default().iter().map(String::as_str))
            .into_iter()
            .map(|v| Suggestion { label: v.to_string(), insert: format!("{} ", quote_value(v)), is_field: false })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(q: &str) -> Option<Context> {
        context(q, q.chars().count())
    }

    #[test]
    fn field_and_value_positions() {
        assert_eq!(ctx("sta"), Some(Context { kind: ContextKind::Field, prefix: "sta".into(), start: 0 }));
        let c = ctx("status:5").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "status".into() });
        assert_eq!((c.prefix.as_str(), c.start), ("5", 7));
        let c = ctx("method : G").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "method".into() });
        let c = ctx("status:404 and ag").unwrap();
        assert_eq!((c.kind, c.prefix.as_str(), c.start), (ContextKind::Field, "ag", 15));
        let c = ctx("agent:\"Mozilla/5.0 (X").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "agent".into() });
        assert_eq!((c.prefix.as_str(), c.start), ("Mozilla/5.0 (X", 6));
        let c = ctx("status:(200 or 30").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "status".into() });
        assert_eq!(c.prefix, "30");
        assert_eq!(ctx("bytes >= 10"), None);
        assert_eq!(ctx("message:\"done\" "), Some(Context { kind: ContextKind::Field, prefix: String::new(), start: 15 }));
    }

    #[test]
    fn fuzzy_ranking_prefers_closer_matches() {
        let fields = ["remote_addr", "request", "response", "referrer", "agent"];
        let ranked = rank("rsp", fields.iter().copied());
        assert_eq!(ranked.first(), Some(&"response"));
        assert!(!ranked.contains(&"agent"));
        assert_eq!(rank("", fields.iter().copied()), fields.to_vec());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_value("GET"), "GET");
        assert_eq!(quote_value("/downloads/product_1"), "/downloads/product_1");
        assert_eq!(quote_value("Debian APT-HTTP/1.3 (0.9.7.9)"), "\"Debian APT-HTTP/1.3 (0.9.7.9)\"");
        assert_eq!(quote_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_value("and"), "\"and\"");
        assert_eq!(quote_field("a b:c"), "a\\ b\\:c");
    }

    #[test]
    fn suggestions_insert_field_colon_and_quoted_values() {
        let fields = vec!["status".to_string(), "agent".to_string()];
        let s = suggestions(&ctx("sta").unwrap(), &fields, None);
        assert_eq!(s[0].insert, "status:");
        let values = vec!["Go-http-client/1.1".to_string(), "curl/7.1 (x)".to_string()];
        let s = suggestions(&ctx("agent:cu").unwrap(), &fields, Some(&values));
        assert_eq!(s[0].insert, "\"curl/7.1 (x)\" ");
    }
}
