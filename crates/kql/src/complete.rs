//! What the query bar's autocomplete should offer at the cursor. Works on incomplete queries,
//! so it uses a forgiving tokenizer rather than the parser.

use std::ops::Range;

/// What is expected at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionKind {
    /// A field name (start of an expression).
    Field,
    /// A value of this field (after `field:`, a range operator, or inside `field:( … )`).
    /// The name is the full dotted name, nested path included.
    Value {
        /// The field whose values to suggest.
        field: String,
    },
    /// After a complete expression: `and`, `or` (and `not` after them).
    Conjunction,
}

/// The autocomplete context at a cursor position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// What is expected.
    pub kind: CompletionKind,
    /// The partial word under the cursor (up to the cursor), as typed.
    pub partial: String,
    /// Byte range of the whole word around the cursor, to replace with the chosen suggestion.
    pub range: Range<usize>,
    /// The enclosing nested path (`user` inside `user:{ … }`), for field suggestions.
    pub nested_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Keyword,
    Colon,
    RangeOp,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Space,
}

fn tokenize(s: &str) -> Vec<(Tok, Range<usize>)> {
    let mut out = Vec::new();
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    let end_of = |i: usize| bytes.get(i).map(|b| b.0).unwrap_or(s.len());
    while i < bytes.len() {
        let (start, c) = bytes[i];
        let single = match c {
            ':' => Some(Tok::Colon),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            _ => None,
        };
        if let Some(t) = single {
            out.push((t, start..end_of(i + 1)));
            i += 1;
            continue;
        }
        if c == '<' || c == '>' {
            let n = if bytes.get(i + 1).map(|b| b.1) == Some('=') {
                2
            } else {
                1
            };
            out.push((Tok::RangeOp, start..end_of(i + n)));
            i += n;
            continue;
        }
        if c.is_whitespace() {
            while i < bytes.len() && bytes[i].1.is_whitespace() {
                i += 1;
            }
            out.push((Tok::Space, start..end_of(i)));
            continue;
        }
        if c == '"' {
            let mut text = String::new();
            i += 1;
            while i < bytes.len() && bytes[i].1 != '"' {
                if bytes[i].1 == '\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                text.push(bytes[i].1);
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            out.push((Tok::Quoted(text), start..end_of(i)));
            continue;
        }
        let mut text = String::new();
        while i < bytes.len() {
            let c = bytes[i].1;
            if c.is_whitespace() || matches!(c, ':' | '(' | ')' | '{' | '}' | '<' | '>' | '"') {
                break;
            }
            if c == '\\' && i + 1 < bytes.len() {
                i += 1;
            }
            text.push(bytes[i].1);
            i += 1;
        }
        let lower = text.to_ascii_lowercase();
        let tok = if matches!(lower.as_str(), "and" | "or" | "not") {
            Tok::Keyword
        } else {
            Tok::Word(text)
        };
        out.push((tok, start..end_of(i)));
    }
    out
}

enum Group {
    Query,
    Values(String),
    Nested(String),
}

/// The autocomplete context at byte offset `cursor` (clamped to the query, moved back to a char
/// boundary).
pub fn completion_context(query: &str, cursor: usize) -> Completion {
    let mut cursor = cursor.min(query.len());
    while !query.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let tokens = tokenize(&query[..cursor]);
    // The word being typed, if the cursor touches one; it extends past the cursor to the end of
    // the word in the full query.
    let (partial, partial_start, significant) = match tokens.last() {
        Some((Tok::Word(w) | Tok::Quoted(w), r)) if r.end == cursor => {
            (w.clone(), r.start, &tokens[..tokens.len() - 1])
        }
        Some((Tok::Keyword, r)) if r.end == cursor => (
            query[r.clone()].to_string(),
            r.start,
            &tokens[..tokens.len() - 1],
        ),
        _ => (String::new(), cursor, &tokens[..]),
    };
    let word_end = query[cursor..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, ':' | '(' | ')' | '{' | '}' | '<' | '>'))
        .map(|(i, _)| cursor + i)
        .unwrap_or(query.len());
    let range = partial_start..if partial.is_empty() && partial_start == cursor {
        cursor
    } else {
        word_end
    };

    let mut stack: Vec<Group> = Vec::new();
    let mut prev: Option<&Tok> = None;
    let mut field_before: Option<String> = None;
    let mut last_word: Option<String> = None;
    for (tok, _) in significant {
        match tok {
            Tok::Space => continue,
            Tok::Colon | Tok::RangeOp => field_before = last_word.clone(),
            Tok::LParen => stack.push(match (prev, &field_before) {
                (Some(Tok::Colon), Some(f)) => Group::Values(f.clone()),
                _ => Group::Query,
            }),
            Tok::LBrace => stack.push(match (prev, &field_before) {
                (Some(Tok::Colon), Some(f)) => Group::Nested(f.clone()),
                _ => Group::Query,
            }),
            Tok::RParen | Tok::RBrace => {
                stack.pop();
            }
            Tok::Word(w) | Tok::Quoted(w) => last_word = Some(w.clone()),
            Tok::Keyword => {}
        }
        prev = Some(tok);
    }
    let nested: Vec<&str> = stack
        .iter()
        .filter_map(|g| {
            if let Group::Nested(p) = g {
                Some(p.as_str())
            } else {
                None
            }
        })
        .collect();
    let nested_path = (!nested.is_empty()).then(|| nested.join("."));
    let full = |f: &str| match &nested_path {
        Some(p) => format!("{p}.{f}"),
        None => f.to_string(),
    };
    let in_values = match stack.last() {
        Some(Group::Values(f)) => Some(f.clone()),
        _ => None,
    };
    let kind = match prev {
        None | Some(Tok::LBrace) => CompletionKind::Field,
        Some(Tok::Colon) | Some(Tok::RangeOp) => match &field_before {
            Some(f) => CompletionKind::Value { field: full(f) },
            None => CompletionKind::Field,
        },
        Some(Tok::LParen) | Some(Tok::Keyword) => match in_values {
            Some(f) => CompletionKind::Value { field: full(&f) },
            None => CompletionKind::Field,
        },
        Some(_) => CompletionKind::Conjunction,
    };
    Completion {
        kind,
        partial,
        range,
        nested_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_end(q: &str) -> Completion {
        completion_context(q, q.len())
    }

    #[test]
    fn field_at_start_and_after_keywords() {
        let c = at_end("sta");
        assert_eq!(c.kind, CompletionKind::Field);
        assert_eq!(c.partial, "sta");
        assert_eq!(c.range, 0..3);
        assert_eq!(at_end("status:200 and me").kind, CompletionKind::Field);
        assert_eq!(at_end("not ").kind, CompletionKind::Field);
        assert_eq!(at_end("(a:1 or ").kind, CompletionKind::Field);
    }

    #[test]
    fn value_after_colon_range_and_in_groups() {
        assert_eq!(
            at_end("status:").kind,
            CompletionKind::Value {
                field: "status".into()
            }
        );
        let c = at_end("status: 40");
        assert_eq!(
            c.kind,
            CompletionKind::Value {
                field: "status".into()
            }
        );
        assert_eq!(c.partial, "40");
        assert_eq!(c.range, 8..10);
        assert_eq!(
            at_end("bytes >= ").kind,
            CompletionKind::Value {
                field: "bytes".into()
            }
        );
        assert_eq!(
            at_end("status:(200 or 3").kind,
            CompletionKind::Value {
                field: "status".into()
            }
        );
        assert_eq!(
            at_end("method:\"GE").kind,
            CompletionKind::Value {
                field: "method".into()
            }
        );
    }

    #[test]
    fn nested_groups_prefix_the_field() {
        let c = at_end("user:{ first:");
        assert_eq!(
            c.kind,
            CompletionKind::Value {
                field: "user.first".into()
            }
        );
        let c = at_end("user:{ fi");
        assert_eq!(c.kind, CompletionKind::Field);
        assert_eq!(c.nested_path.as_deref(), Some("user"));
    }

    #[test]
    fn conjunction_after_a_complete_expression() {
        assert_eq!(at_end("status:200 ").kind, CompletionKind::Conjunction);
        let c = at_end("status:200 an");
        assert_eq!(c.kind, CompletionKind::Conjunction);
        assert_eq!(c.partial, "an");
    }

    #[test]
    fn range_extends_past_the_cursor_and_cursor_is_clamped() {
        let q = "status:200 and method:GET";
        let c = completion_context(q, 17); // inside "method"
        assert_eq!(c.partial, "me");
        assert_eq!(&q[c.range.clone()], "method");
        let c = completion_context("é", 1);
        assert_eq!(c.range, 0..0);
        let _ = completion_context("abc", 99);
    }
}
