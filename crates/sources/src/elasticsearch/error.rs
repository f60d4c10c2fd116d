//! Turning Elasticsearch / OpenSearch / ES-compatible error bodies into [`SourceError`]s that
//! say what the server said: `root_cause` reasons, index_not_found, missing privileges, shard
//! failures. Error shapes differ between servers (ES `{"error":{"root_cause":…}}`, legacy
//! `{"error":"…"}`, Quickwit `{"error":{"reason":…}}` or `{"message":…}`), so every path is
//! optional and the raw body is the last resort.

use serde_json::Value as Json;

use crate::SourceError;

/// Longest server text kept in a message; error bodies can embed whole queries or scripts.
const MAX_REASON_CHARS: usize = 600;

/// What went wrong, extracted from an error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// HTTP status.
    pub status: u16,
    /// The top-level error type (`index_not_found_exception`), when given.
    pub kind: Option<String>,
    /// The human message: root causes (type: reason), joined.
    pub message: String,
}

impl ServerError {
    /// Parses an error body (JSON or not) returned with `status`.
    pub fn parse(status: u16, body: &str) -> ServerError {
        let Ok(json) = serde_json::from_str::<Json>(body) else {
            let text = body.trim();
            let message = if text.is_empty() { http_reason(status).to_string() } else { truncate(text) };
            return ServerError { status, kind: None, message };
        };
        let error = json.get("error");
        let kind = error.and_then(|e| e.get("type")).and_then(Json::as_str).map(str::to_string);
        let message = match error {
            Some(Json::String(s)) => s.clone(),
            Some(e @ Json::Object(_)) => describe_error_object(e),
            _ => json
                .get("message")
                .and_then(Json::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| json.to_string()),
        };
        let message = if message.trim().is_empty() { http_reason(status).to_string() } else { truncate(&message) };
        ServerError { status, kind, message }
    }

    /// Whether the error means "this endpoint does not exist here" (used to fall back from
    /// point-in-time to plain `search_after`).
    pub fn is_missing_endpoint(&self) -> bool {
        matches!(self.status, 404 | 405 | 501) && self.kind.as_deref() != Some("index_not_found_exception")
    }

    /// Converts to a [`SourceError`]. `during_query` marks errors from a search whose query the
    /// user wrote, so a rejected query is reported as a query error (exit status 2).
    pub fn into_source_error(self, during_query: bool) -> SourceError {
        let ServerError { status, kind, message } = self;
        match status {
            404 if kind.as_deref() == Some("index_not_found_exception") || message.contains("could not find index") => {
                SourceError::Server { status, message: format!("index not found: {message}") }
            }
            400 if during_query && is_query_error(kind.as_deref(), &message) => SourceError::Query(message),
            // 401/403 are authentication errors, the rest server errors, as for every server.
            _ => crate::http::status_error(status, message),
        }
    }
}

/// Error types (and Quickwit message prefixes) that mean the query itself is malformed.
fn is_query_error(kind: Option<&str>, message: &str) -> bool {
    const QUERY_TYPES: [&str; 6] = [
        "parsing_exception",
        "query_shard_exception",
        "x_content_parse_exception",
        "json_parse_exception",
        "json_e_o_f_exception",
        "search_phase_execution_exception",
    ];
    if kind.is_some_and(|k| QUERY_TYPES.contains(&k)) {
        return true;
    }
    ["failed to parse query", "query_shard_exception", "parsing_exception", "unknown variant", "EOF while parsing"]
        .iter()
        .any(|p| message.contains(p))
}

/// `root_cause` reasons (de-duplicated), else the top-level type and reason, plus the first
/// `caused_by` / failed shard cause when it adds something (e.g. "cannot resolve symbol").
fn describe_error_object(error: &Json) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(causes) = error.get("root_cause").and_then(Json::as_array) {
        for cause in causes {
            let text = type_and_reason(cause);
            if !text.is_empty() && !parts.contains(&text) {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        let text = type_and_reason(error);
        if !text.is_empty() {
            parts.push(text);
        }
    }
    let deeper = error
        .get("failed_shards")
        .and_then(Json::as_array)
        .and_then(|shards| shards.first())
        .and_then(|s| s.get("reason"))
        .and_then(|r| r.get("caused_by"))
        .or_else(|| error.get("caused_by"));
    if let Some(cause) = deeper {
        let text = type_and_reason(cause);
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(format!("caused by {text}"));
        }
    }
    parts.join("; ")
}

fn type_and_reason(obj: &Json) -> String {
    let kind = obj.get("type").and_then(Json::as_str);
    let reason = obj.get("reason").and_then(Json::as_str);
    match (kind, reason) {
        (Some(k), Some(r)) => format!("{k}: {r}"),
        (None, Some(r)) => r.to_string(),
        (Some(k), None) => k.to_string(),
        (None, None) => String::new(),
    }
}

/// Describes `_shards.failures` (or a search-level shard failure list) for a warning:
/// `2 of 5 shards failed: my-index[0]: es_rejected_execution_exception: rejected …`.
pub fn shard_failure_warning(shards: &Json) -> Option<String> {
    let failed = shards.get("failed").and_then(Json::as_u64).unwrap_or(0);
    if failed == 0 {
        return None;
    }
    let total = shards.get("total").and_then(Json::as_u64).unwrap_or(0);
    let mut reasons: Vec<String> = Vec::new();
    for failure in shards.get("failures").and_then(Json::as_array).into_iter().flatten() {
        let index = failure.get("index").and_then(Json::as_str).unwrap_or("?");
        let shard = failure.get("shard").map(|s| s.to_string()).unwrap_or_else(|| "?".into());
        let reason = failure.get("reason").map(type_and_reason).unwrap_or_default();
        let text = format!("{index}[{shard}]: {reason}");
        if !reasons.contains(&text) {
            reasons.push(text);
        }
    }
    let head = format!("{failed} of {total} shards failed; results are partial");
    Some(if reasons.is_empty() { head } else { truncate(&format!("{head}: {}", reasons.join("; "))) })
}

/// Bounds server text and escapes its control characters: error text is shown in panes, on
/// stderr and in logs, and a hostile proxy's body must not act on the terminal.
fn truncate(text: &str) -> String {
    logsleuth_core::text::truncate_chars(&logsleuth_core::text::sanitize(text), MAX_REASON_CHARS).into_owned()
}

fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_escaped() {
        let e = ServerError::parse(502, "<html>\x1b]0;pwned\x07 bad gateway</html>");
        assert_eq!(e.message, "<html>\\e]0;pwned\\x07 bad gateway</html>");
        let e = ServerError::parse(400, r#"{"error":{"type":"x","reason":"\u001b[2J"}}"#);
        assert!(!e.message.chars().any(logsleuth_core::text::is_unsafe_char), "{:?}", e.message);
    }

    #[test]
    fn root_causes_are_reported_with_their_type() {
        let body = r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"[terms] query does not support [ohno]","line":4,"col":17}],"type":"parsing_exception","reason":"[terms] query does not support [ohno]"},"status":400}"#;
        let e = ServerError::parse(400, body);
        assert_eq!(e.message, "parsing_exception: [terms] query does not support [ohno]");
        assert_eq!(e.into_source_error(true), SourceError::Query("parsing_exception: [terms] query does not support [ohno]".into()));
    }

    #[test]
    fn legacy_string_errors_and_message_bodies() {
        let e = ServerError::parse(401, r#"{"error":"AuthenticationException[Missing authentication token]","status":401}"#);
        assert_eq!(
            e.into_source_error(false),
            SourceError::Auth { status: 401, message: "AuthenticationException[Missing authentication token]".into() }
        );
        let e = ServerError::parse(404, r#"{"message":"Route not found"}"#);
        assert!(e.is_missing_endpoint());
        assert_eq!(e.message, "Route not found");
        let e = ServerError::parse(502, "");
        assert_eq!(e.message, "Bad Gateway");
    }

    #[test]
    fn shard_failures_become_one_warning() {
        let shards = serde_json::json!({"total": 5, "successful": 4, "failed": 1, "failures": [
            {"shard": 0, "index": "logs", "reason": {"type": "es_rejected_execution_exception", "reason": "queue full"}}]});
        assert_eq!(
            shard_failure_warning(&shards).unwrap(),
            "1 of 5 shards failed; results are partial: logs[0]: es_rejected_execution_exception: queue full"
        );
        assert_eq!(shard_failure_warning(&serde_json::json!({"total": 1, "failed": 0})), None);
    }
}
