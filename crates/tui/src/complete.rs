//! Query-bar autocomplete: what the word under the cursor is (from
//! [`logsleuth_kql::completion_context`]) and candidates ranked with fuzzy-matcher's SkimMatcherV2.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use logsleuth_kql::CompletionKind;

/// Most suggestions kept.
pub const MAX_SUGGESTIONS: usize = 50;

/// What the word under the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextKind {
    /// A field name (or free text, which is completed as a field name).
    Field,
    /// The value of `field` (after `field:` or a range operator, or inside `field:( … )`).
    Value {
        /// The field whose value is being typed.
        field: String,
    },
    /// After a complete expression: `and`, `or`, `not`.
    Conjunction,
}

/// The completion context at the cursor, in chars (the editor's unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Field, value or keyword.
    pub kind: ContextKind,
    /// The partial word typed so far (without an opening quote).
    pub prefix: String,
    /// Char index where the word starts; a suggestion replaces `start..end`.
    pub start: usize,
    /// Char index where the word ends (at or after the cursor).
    pub end: usize,
}

/// A ranked suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What the list shows.
    pub label: String,
    /// What replaces the word.
    pub insert: String,
    /// Whether it completes a field name (else a value or keyword).
    pub is_field: bool,
}

fn char_index(text: &str, byte: usize) -> usize {
    text.char_indices().take_while(|(i, _)| *i < byte).count()
}

/// Finds the completion context at `cursor` (a char index) with the KQL module's tokenizer.
pub fn context(query: &str, cursor: usize) -> Option<Context> {
    let byte = query.char_indices().nth(cursor).map(|(i, _)| i).unwrap_or(query.len());
    let c = logsleuth_kql::completion_context(query, byte);
    let kind = match c.kind {
        CompletionKind::Field => ContextKind::Field,
        CompletionKind::Value { field } => ContextKind::Value { field },
        CompletionKind::Conjunction => ContextKind::Conjunction,
    };
    let prefix = c.partial.trim_start_matches('"').to_string();
    Some(Context { kind, prefix, start: char_index(query, c.range.start), end: char_index(query, c.range.end) })
}

/// Quotes a value for KQL (numbers stay bare; everything else is an exact phrase).
pub fn quote_value(value: &str) -> String {
    let numeric = !value.is_empty() && value.parse::<f64>().is_ok() && !value.contains(['e', 'E', 'i', 'n', 'N']);
    if numeric { value.to_string() } else { logsleuth_kql::quote_value(value) }
}

/// A field name for KQL, quoted when it is not a plain name.
pub fn quote_field(field: &str) -> String {
    logsleuth_kql::quote_field(field)
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
        ContextKind::Conjunction => rank(&ctx.prefix, ["and", "or", "and not"])
            .into_iter()
            .map(|k| Suggestion { label: k.to_string(), insert: format!("{k} "), is_field: false })
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
    fn field_and_value_positions_in_chars() {
        let c = ctx("sta").unwrap();
        assert_eq!((c.kind, c.prefix.as_str(), c.start, c.end), (ContextKind::Field, "sta", 0, 3));
        let c = ctx("status:5").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "status".into() });
        assert_eq!((c.prefix.as_str(), c.start), ("5", 7));
        let c = ctx("message:\"é\" and ag").unwrap();
        assert_eq!((c.kind, c.prefix.as_str(), c.start), (ContextKind::Field, "ag", 16));
        let c = ctx("status:(200 or 30").unwrap();
        assert_eq!(c.kind, ContextKind::Value { field: "status".into() });
        assert_eq!(c.prefix, "30");
        assert_eq!(ctx("status:404 ").unwrap().kind, ContextKind::Conjunction);
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
        assert_eq!(quote_value("404"), "404");
        assert_eq!(quote_value("GET"), "\"GET\"");
        assert_eq!(quote_value("Debian APT-HTTP/1.3 (0.9.7.9)"), "\"Debian APT-HTTP/1.3 (0.9.7.9)\"");
        assert_eq!(quote_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_field("user.name"), "user.name");
        assert_eq!(quote_field("a b"), "\"a b\"");
    }

    #[test]
    fn suggestions_insert_field_colon_quoted_values_and_keywords() {
        let fields = vec!["status".to_string(), "agent".to_string()];
        let s = suggestions(&ctx("sta").unwrap(), &fields, None);
        assert_eq!(s[0].insert, "status:");
        let values = vec!["Go-http-client/1.1".to_string(), "curl/7.1 (x)".to_string()];
        let s = suggestions(&ctx("agent:cu").unwrap(), &fields, Some(&values));
        assert_eq!(s[0].insert, "\"curl/7.1 (x)\" ");
        let s = suggestions(&ctx("status:404 o").unwrap(), &fields, None);
        assert_eq!(s[0].insert, "or ");
    }
}
