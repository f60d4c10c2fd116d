//! Choosing a pane's parser stage from a sample of its lines (through the shared format
//! detector, [`logsleuth_formats::detect`]), and field roles from the fields found.

use super::logql::LogqlParser;
use logsleuth_formats::LogFormat;
use crate::FieldRoles;

/// The parser stage for a sample of lines; `None` for plain text, syslog or an empty sample
/// (Loki has no syslog parser stage; such lines are shown without parsed fields).
pub fn detect_parser<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<LogqlParser> {
    let sample: Vec<&str> = lines.into_iter().collect();
    match logsleuth_formats::detect(&sample) {
        // nginx's combined layout writes `-` for ident; the apache pattern skips that column.
        LogFormat::AccessCombined if sample.iter().all(|l| l.split(' ').nth(1) == Some("-")) => Some(LogqlParser::Nginx),
        LogFormat::AccessCombined => Some(LogqlParser::Apache),
        LogFormat::AccessCommon => Some(LogqlParser::Common),
        LogFormat::Json => Some(LogqlParser::Json),
        LogFormat::Logfmt => Some(LogqlParser::Logfmt),
        LogFormat::Syslog3164 | LogFormat::Syslog5424 | LogFormat::Plain => None,
    }
}

/// Field roles from field names, by the one dictionary every backend uses
/// ([`FieldRoles::guess`]).
pub fn roles_from_names(names: &[String]) -> FieldRoles {
    FieldRoles::guess(|name| names.iter().any(|n| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_real_lines() {
        let nginx = r#"79.136.114.202 - - [04/Jun/2015:07:06:52 +0000] "GET /downloads/product_1 HTTP/1.1" 200 490 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.22)""#;
        let json = r#"{"ts":"2026-11-22T06:49:40.483Z","level":"error","status":504}"#;
        let logfmt = r#"ts=2026-11-22T06:49:40Z level=info method=GET path=/api/x status=200 err="none at all""#;
        assert_eq!(detect_parser([nginx, nginx]), Some(LogqlParser::Nginx));
        assert_eq!(detect_parser([json, json, nginx]), Some(LogqlParser::Json));
        let common = r#"10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326"#;
        assert_eq!(detect_parser([common, common]), Some(LogqlParser::Common));
        assert_eq!(detect_parser([logfmt]), Some(LogqlParser::Logfmt));
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
