//! Loki's pattern syntax as data: literal text with `<name>` captures and `<_>` skips
//! (`<remote_addr> - <remote_user> [<time_local>] "<method> …`), matched the way Loki's
//! `| pattern` stage matches, so a line parsed here gets exactly the labels Loki would give it.
//!
//! Matching (Loki's `pattern.Matcher`): a leading literal must start the line; then each
//! capture takes the text up to the first occurrence of the literal after it. When that literal
//! is missing, the capture takes the rest of the line and the captures after it are absent.
//! A trailing capture takes the rest of the line. A line that does not start with the leading
//! literal gets no captures.

/// One part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text that must appear.
    Literal(String),
    /// A capture; `None` for `<_>`.
    Capture(Option<String>),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
}

/// Why a pattern is refused (as Loki refuses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// Whether `name` is a capture name Loki's lexer takes (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_capture_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Pattern {
    /// Compiles a pattern. Refused like Loki refuses it: no named capture, two captures side
    /// by side (nothing tells where one ends), or a name used twice.
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        let mut parts: Vec<Part> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let capture = after.find('>').map(|close| &after[..close]).filter(|name| is_capture_name(name));
            match capture {
                Some(name) => {
                    literal.push_str(&rest[..open]);
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    if matches!(parts.last(), Some(Part::Capture(_))) {
                        return Err(PatternError(format!("pattern {text:?}: two captures side by side")));
                    }
                    parts.push(Part::Capture((name != "_").then(|| name.to_string())));
                    rest = &after[name.len() + 1..];
                }
                // A `<` that opens no capture is text.
                None => {
                    literal.push_str(&rest[..open + 1]);
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let names: Vec<&str> = parts.iter().filter_map(|p| if let Part::Capture(Some(n)) = p { Some(n.as_str()) } else { None }).collect();
        if names.is_empty() {
            return Err(PatternError(format!("pattern {text:?}: at least one named capture is needed")));
        }
        if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
            return Err(PatternError(format!("pattern {text:?}: capture {} is named twice", dup.1)));
        }
        Ok(Pattern { parts })
    }

    /// The capture names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| if let Part::Capture(Some(n)) = p { Some(n.as_str()) } else { None })
    }

    /// The named captures of `line`, in pattern order (see the module docs for how a line
    /// that fits only in part is captured).
    pub fn captures<'a>(&'a self, line: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        if line.is_empty() {
            return out;
        }
        let mut parts = self.parts.as_slice();
        let mut rest = line;
        if let Some(Part::Literal(lead)) = parts.first() {
            match rest.strip_prefix(lead.as_str()) {
                Some(r) => rest = r,
                None => return out,
            }
            parts = &parts[1..];
        }
        // From here: capture, literal, capture, literal, … (perhaps ending on a capture).
        while let Some(Part::Capture(name)) = parts.first() {
            let Some(Part::Literal(next)) = parts.get(1) else {
                if let Some(name) = name {
                    out.push((name.as_str(), rest));
                }
                return out;
            };
            match rest.find(next.as_str()) {
                Some(at) => {
                    if let Some(name) = name {
                        out.push((name.as_str(), &rest[..at]));
                    }
                    rest = &rest[at + next.len()..];
                }
                None => {
                    if let Some(name) = name {
                        out.push((name.as_str(), rest));
                    }
                    return out;
                }
            }
            parts = &parts[2..];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = r#"<remote_addr> - <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>""#;

    #[test]
    fn captures_an_nginx_line_by_name() {
        let p = Pattern::new(NGINX).unwrap();
        let line = r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#;
        assert_eq!(
            p.captures(line),
            vec![
                ("remote_addr", "93.180.71.3"),
                ("remote_user", "-"),
                ("time_local", "17/May/2015:08:05:32 +0000"),
                ("method", "GET"),
                ("path", "/downloads/product_1"),
                ("protocol", "HTTP/1.1"),
                ("status", "304"),
                ("body_bytes_sent", "0"),
                ("http_referer", "-"),
                ("http_user_agent", "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)"),
            ]
        );
        assert_eq!(p.names().count(), 10);
    }

    #[test]
    fn a_missing_literal_gives_the_rest_to_its_capture_and_stops() {
        let p = Pattern::new("<a> <b> [<c>]").unwrap();
        assert_eq!(p.captures("x y z"), vec![("a", "x"), ("b", "y z")]);
        // The trailing literal is looked for, not required at the end.
        assert_eq!(p.captures("x y [z] tail"), vec![("a", "x"), ("b", "y"), ("c", "z")]);
        assert!(p.captures("").is_empty());
        let lead = Pattern::new("ip=<ip> <_>").unwrap();
        assert!(lead.captures("host=1 ip=2").is_empty(), "a leading literal starts the line");
        assert_eq!(lead.captures("ip=10.0.0.1 rest"), vec![("ip", "10.0.0.1")]);
        assert_eq!(Pattern::new("<_> <x>").unwrap().captures("a b c"), vec![("x", "b c")]);
    }

    #[test]
    fn refuses_what_loki_refuses_and_reads_stray_brackets_as_text() {
        assert!(Pattern::new("<_> <_>").is_err());
        assert!(Pattern::new("<a><b>").is_err());
        assert!(Pattern::new("<a> <a>").is_err());
        let p = Pattern::new("a <= <v> <not a name>").unwrap();
        assert_eq!(p.names().collect::<Vec<_>>(), vec!["v"]);
        assert_eq!(p.captures("a <= 3 <not a name>"), vec![("v", "3")]);
    }
}
