//! Choosing a pane's parser stage from a sample of its lines, and field roles from the
//! fields found.
//!
//! The shared detector (`crate::formats::detect`, branch `local`) was not available when
//! this was written; [`detect_parser`] is the single place to switch over to it.

use std::sync::LazyLock;

use regex::Regex;

use super::logql::ParserStage;
use crate::sources::FieldRoles;

static ACCESS_LOG: LazyLock<Regex> = LazyLock::new(|| {
    // host ident user [time] "request" status bytes "referer" "agent"
    Regex::new(r#"^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} (?:\d+|-) "[^"]*" "[^"]*""#).expect("static regex")
});
static LOGFMT_PAIR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|\s)[A-Za-z_][A-Za-z0-9_.\-]*=(?:"(?:[^"\\]|\\.)*"|\S*)"#).expect("static regex"));

/// The format of one line, as far as the parser stage is concerned.
fn line_kind(line: &str) -> Option<ParserStage> {
    let line = line.trim();
    if line.starts_with('{') && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line).is_ok() {
        return Some(ParserStage::Json);
    }
    if ACCESS_LOG.is_match(line) {
        // nginx's combined format writes `-` for ident; apache's may not.
        let ident = line.split(' ').nth(1).unwrap_or("-");
        return Some(if ident == "-" { ParserStage::Nginx } else { ParserStage::Apache });
    }
    let pairs = LOGFMT_PAIR.find_iter(line).count();
    let words = line.split_whitespace().count();
    if pairs >= 2 && pairs * 2 >= words {
        return Some(ParserStage::Logfmt);
    }
    None
}

/// The parser stage most lines of the sample need; `None` for plain text or an empty sample.
/// A format is chosen only when at least half of the sample has it.
pub fn detect_parser<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<ParserStage> {
    let mut counts: Vec<(ParserStage, usize)> = Vec::new();
    let mut total = 0usize;
    for line in lines {
        total += 1;
        if let Some(kind) = line_kind(line) {
            match counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((kind, 1)),
            }
        }
    }
    // nginx and apache lines differ only in the ident column; they share field names.
    let (best, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (n * 2 >= total).then_some(best)
}

/// Field roles from field names, first match in each list wins.
pub fn roles_from_names(names: &[String]) -> FieldRoles {
    let pick = |candidates: &[&str]| -> Option<String> {
        candidates.iter().find(|c| names.iter().any(|n| n == *c)).map(|c| c.to_string())
    };
    FieldRoles {
        status: pick(&["status", "status_code", "response", "http_status", "statusCode"]),
        client_ip: pick(&["remote_addr", "client_ip", "clientip", "ip", "client_address", "remote_ip"]),
        user_agent: pick(&["http_user_agent", "user_agent", "agent", "useragent"]),
        level: pick(&["level", "severity", "lvl", "log_level", "detected_level"]),
        method: pick(&["method", "http_method", "verb"]),
        path: pick(&["path", "request", "uri", "url", "request_uri"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_real_lines() {
        let nginx = r#"79.136.114.202 - - [04/Jun/2015:07:06:52 +0000] "GET /downloads/product_1 HTTP/1.1" 200 490 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.22)""#;
        let json = r#"{"ts":"2026-11-22T06:49:40.483Z","level":"error","status":504}"#;
        let logfmt = r#"ts=2026-11-22T06:49:40Z level=info method=GET path=/api/x status=200 err="none at all""#;
        assert_eq!(detect_parser([nginx, nginx]), Some(ParserStage::Nginx));
        assert_eq!(detect_parser([json, json, nginx]), Some(ParserStage::Json));
        assert_eq!(detect_parser([logfmt]), Some(ParserStage::Logfmt));
        assert_eq!(detect_parser(["checkout completed for cart cart-d1f088 total=354.08 EUR"]), None);
        assert_eq!(detect_parser(std::iter::empty()), None);
    }

    #[test]
    fn roles_follow_access_log_and_json_names() {
        let names: Vec<String> = ["remote_addr", "status", "http_user_agent", "method", "request"].map(String::from).into();
        let roles = roles_from_names(&names);
        assert_eq!(roles.status.as_deref(), Some("status"));
        assert_eq!(roles.client_ip.as_deref(), Some("remote_addr"));
        assert_eq!(roles.path.as_deref(), Some("request"));
        assert_eq!(roles.level, None);
    }
}
