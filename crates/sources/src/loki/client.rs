//! The Loki HTTP API: one GET helper (through the shared request loop,
//! [`HttpClient::send`]) that maps every failure to a [`SourceError`] carrying the server's
//! own words, and typed wrappers for the endpoints logsleuth uses.

use serde_json::Value as Json;

use logsleuth_core::model::Nanos;
use crate::http::{Failed, HttpClient, HttpConfig, Refusal, RetryPolicy};
use crate::{SourceError, SourceResult};

/// Header asking Loki to keep stream labels, structured metadata and parsed labels apart.
pub const ENCODING_FLAGS_HEADER: &str = "X-Loki-Response-Encoding-Flags";
/// Its value.
pub const CATEGORIZE_LABELS: &str = "categorize-labels";
/// Loki's default `max_entries_limit_per_query`: the largest page asked for.
pub const MAX_PAGE: usize = 5000;
/// Longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 2000;

/// A connection to one Loki (base URL, auth, tenant and custom headers in [`HttpConfig`]).
#[derive(Debug, Clone)]
pub struct LokiClient {
    http: HttpClient,
}

/// Turns a non-2xx answer into an error that says what the server said: LogQL parse errors
/// (which carry line and column) are query errors, 401/403 are auth errors, the rest server
/// errors. Bodies are plain text in Loki; they are sanitized and bounded.
pub fn status_error(status: u16, body: &[u8]) -> SourceError {
    let raw = String::from_utf8_lossy(body);
    let text = logsleuth_core::text::sanitize(raw.trim());
    let mut message = logsleuth_core::text::truncate_chars(&text, MAX_MESSAGE_CHARS).into_owned();
    if message.is_empty() {
        message = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no explanation given")
            .to_string();
    }
    match status {
        400 if message.starts_with("parse error") => SourceError::Query(format!("LogQL {message}")),
        // 401/403 are authentication errors, the rest server errors, as for every server.
        _ => crate::http::status_error(status, message),
    }
}

impl LokiClient {
    /// Builds the client (TLS roots, CA file, auth and default headers from `http`).
    pub fn new(http: HttpConfig) -> SourceResult<LokiClient> {
        Ok(LokiClient { http: HttpClient::new(http, RetryPolicy::from(super::tail::Backoff::default()))? })
    }

    /// Sets the delays between retries of transient failures ([`crate::http::is_transient`]):
    /// the shared [`RetryPolicy`] with the tail's backoff as its delays.
    pub fn with_retry(mut self, retry: super::tail::Backoff) -> LokiClient {
        self.http = self.http.with_retry(RetryPolicy::from(retry));
        self
    }

    /// The server configuration.
    pub fn http(&self) -> &HttpConfig {
        self.http.config()
    }

    /// GETs an API path with query parameters and decodes the JSON answer. Transient failures
    /// are retried by the shared loop ([`HttpClient::send`]).
    pub async fn get_json(&self, path: &str, params: &[(&str, String)], categorize: bool) -> SourceResult<Json> {
        let body = self.get_body(path, params, categorize).await?;
        serde_json::from_slice(&body).map_err(|e| self.http().redact_error(super::decode::json_error(&e, &body)))
    }

    /// GETs an API path as [`LokiClient::get_json`] does, and returns the answer's bytes.
    async fn get_body(&self, path: &str, params: &[(&str, String)], categorize: bool) -> SourceResult<Vec<u8>> {
        let url = self.http().url(path);
        let build = |client: &reqwest::Client| {
            let request = client.get(&url).query(params);
            if categorize { request.header(ENCODING_FLAGS_HEADER, CATEGORIZE_LABELS) } else { request }
        };
        let refusal = |status: u16, body: &[u8]| {
            let error = status_error(status, body);
            let message = match &error {
                SourceError::Server { message, .. } | SourceError::Auth { message, .. } | SourceError::Query(message) => {
                    message.clone()
                }
                other => other.to_string(),
            };
            Refusal { error, message, detail: () }
        };
        match self.http.send(build, refusal).await {
            Ok(sent) => Ok(sent.body),
            Err(Failed { error, .. }) => Err(error),
        }
    }

    /// `/loki/api/v1/query_range` for a log query (categorized labels), decoded
    /// ([`decode::decode_log_answer`](super::decode::decode_log_answer); `strip_errors` drops
    /// parser error labels).
    pub async fn query_range_logs(
        &self,
        logql: &str,
        start: Option<Nanos>,
        end: Option<Nanos>,
        limit: usize,
        backward: bool,
        strip_errors: bool,
    ) -> SourceResult<super::decode::LogAnswer> {
        let mut params = vec![
            ("query", logql.to_string()),
            ("limit", limit.clamp(1, MAX_PAGE).to_string()),
            ("direction", if backward { "backward" } else { "forward" }.to_string()),
        ];
        push_range(&mut params, start, end);
        let body = self.get_body("/loki/api/v1/query_range", &params, true).await?;
        super::decode::decode_log_answer(&body, strip_errors).map_err(|e| self.http().redact_error(e))
    }

    /// `/loki/api/v1/query_range` for a metric query.
    pub async fn query_range_metric(&self, logql: &str, start: Nanos, end: Nanos, step: Nanos) -> SourceResult<Json> {
        let mut params = vec![("query", logql.to_string()), ("step", super::logql::duration(step))];
        push_range(&mut params, Some(start), Some(end));
        self.get_json("/loki/api/v1/query_range", &params, false).await
    }

    /// `/loki/api/v1/query` (instant) for a metric query at `time`.
    pub async fn query_instant(&self, logql: &str, time: Nanos) -> SourceResult<Json> {
        let params = vec![("query", logql.to_string()), ("time", time.to_string())];
        self.get_json("/loki/api/v1/query", &params, false).await
    }

    /// `/loki/api/v1/labels`, optionally limited to a selector.
    pub async fn labels(&self, selector: Option<&str>, start: Option<Nanos>, end: Option<Nanos>) -> SourceResult<Vec<String>> {
        let mut params = Vec::new();
        if let Some(sel) = selector.filter(|s| !s.trim().is_empty()) {
            params.push(("query", sel.to_string()));
        }
        push_range(&mut params, start, end);
        super::decode::decode_string_list(&self.get_json("/loki/api/v1/labels", &params, false).await?)
    }

    /// `/loki/api/v1/label/<name>/values`, optionally limited to a selector.
    pub async fn label_values(
        &self,
        name: &str,
        selector: Option<&str>,
        start: Option<Nanos>,
        end: Option<Nanos>,
    ) -> SourceResult<Vec<String>> {
        let name = super::logql::label_name(name)?;
        let mut params = Vec::new();
        if let Some(sel) = selector.filter(|s| !s.trim().is_empty()) {
            params.push(("query", sel.to_string()));
        }
        push_range(&mut params, start, end);
        let path = format!("/loki/api/v1/label/{name}/values");
        super::decode::decode_string_list(&self.get_json(&path, &params, false).await?)
    }

    /// `/loki/api/v1/series?match[]=…`: the label sets of matching streams.
    /// Without a selector Loki returns every series.
    pub async fn series(&self, selector: Option<&str>, start: Option<Nanos>, end: Option<Nanos>) -> SourceResult<Vec<Json>> {
        let mut params = Vec::new();
        if let Some(sel) = selector.filter(|s| !s.trim().is_empty()) {
            params.push(("match[]", sel.to_string()));
        }
        push_range(&mut params, start, end);
        let body = self.get_json("/loki/api/v1/series", &params, false).await?;
        Ok(super::decode::data(&body)?.as_array().cloned().unwrap_or_default())
    }

    /// `/loki/api/v1/detected_fields` for a log query.
    pub async fn detected_fields(&self, logql: &str, start: Option<Nanos>, end: Option<Nanos>) -> SourceResult<Json> {
        let mut params = vec![("query", logql.to_string())];
        push_range(&mut params, start, end);
        self.get_json("/loki/api/v1/detected_fields", &params, false).await
    }

    /// `/loki/api/v1/detected_field/<name>/values` for a log query.
    pub async fn detected_field_values(
        &self,
        name: &str,
        logql: &str,
        start: Option<Nanos>,
        end: Option<Nanos>,
    ) -> SourceResult<Vec<String>> {
        let name = super::logql::label_name(name)?;
        let mut params = vec![("query", logql.to_string())];
        push_range(&mut params, start, end);
        let body = self.get_json(&format!("/loki/api/v1/detected_field/{name}/values"), &params, false).await?;
        Ok(body
            .get("values")
            .and_then(Json::as_array)
            .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }
}

fn push_range(params: &mut Vec<(&str, String)>, start: Option<Nanos>, end: Option<Nanos>) {
    if let Some(start) = start {
        params.push(("start", start.to_string()));
    }
    if let Some(end) = end {
        params.push(("end", end.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_bodies_become_the_right_errors() {
        let parse = status_error(400, b"parse error at line 1, col 13: syntax error: unexpected $end, expecting } or ,");
        assert_eq!(
            parse,
            SourceError::Query("LogQL parse error at line 1, col 13: syntax error: unexpected $end, expecting } or ,".into())
        );
        assert_eq!(
            status_error(400, b"maximum of series (3000) reached for a single query"),
            SourceError::Server { status: 400, message: "maximum of series (3000) reached for a single query".into() }
        );
        assert!(matches!(status_error(401, b"no org id"), SourceError::Auth { status: 401, .. }));
        assert_eq!(status_error(405, b""), SourceError::Server { status: 405, message: "Method Not Allowed".into() });
        let hostile = status_error(500, b"\x1b[31mboom\x07");
        assert!(!hostile.to_string().contains('\x1b'));
    }
}
