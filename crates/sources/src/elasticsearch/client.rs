//! The HTTP side: one request at a time with auth and TLS from [`HttpConfig`], 429 rejections
//! and 502/503/504 retried with exponential backoff (and reported), error bodies turned into the server's words.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value as Json;

use super::error::ServerError;
use crate::http::HttpConfig;
use crate::SourceError;

/// How 429 ("too many requests": rejected execution, circuit breaker) is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First delay; doubled at each retry (a `Retry-After` header wins when it is longer).
    pub base_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(10) }
    }
}

/// A successful answer and what it took to get it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The JSON body.
    pub json: Json,
    /// Notes for the user about retries ("server busy (429 …); retried 2 times").
    pub notes: Vec<String>,
}

/// A failed request: the error to report and, when the server answered, its parsed body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    /// What to report.
    pub error: SourceError,
    /// The server's answer, when there was one.
    pub server: Option<ServerError>,
}

impl From<RequestError> for SourceError {
    fn from(e: RequestError) -> Self {
        e.error
    }
}

/// A connection to one cluster.
#[derive(Debug, Clone)]
pub struct EsClient {
    http: HttpConfig,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl EsClient {
    /// Builds the client (TLS set up once).
    pub fn new(http: HttpConfig, retry: RetryPolicy) -> Result<EsClient, SourceError> {
        let client = http.client()?;
        Ok(EsClient { http, client, retry })
    }

    /// The server, for messages (never with credentials).
    pub fn display(&self) -> String {
        self.http.display()
    }

    /// Sends one request (`api_path` relative to the base URL, prefix kept). `during_query`
    /// marks searches carrying the user's query, so a 400 about it is a query error.
    /// Server text in errors and notes has the credentials masked (see [`HttpConfig::redact`]).
    pub async fn send(&self, method: Method, api_path: &str, body: Option<&Json>, during_query: bool) -> Result<Reply, RequestError> {
        let (json, notes) = self.send_decoded(method, api_path, body, during_query, |text| serde_json::from_str(text)).await?;
        Ok(Reply { json, notes })
    }

    /// [`EsClient::send`] with the successful answer's text read by `decode` instead of into a
    /// `Value` (searches read their hits straight into records); returns it and the notes.
    pub async fn send_decoded<T>(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&Json>,
        during_query: bool,
        decode: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<(T, Vec<String>), RequestError> {
        match self.send_unredacted(method, api_path, body, during_query, decode).await {
            Ok((answer, notes)) => Ok((answer, notes.iter().map(|n| self.http.redact(n)).collect())),
            Err(RequestError { error, server }) => Err(RequestError {
                error: self.http.redact_error(error),
                server: server.map(|mut s| {
                    s.message = self.http.redact(&s.message);
                    s
                }),
            }),
        }
    }

    async fn send_unredacted<T>(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&Json>,
        during_query: bool,
        decode: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<(T, Vec<String>), RequestError> {
        let url = self.http.url(api_path);
        let mut notes = Vec::new();
        let mut attempt = 0u32;
        loop {
            let mut request = self.client.request(method.clone(), &url);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| RequestError { error: self.http.transport_error(&e), server: None })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = self.read_body(response).await?;
            if (200..300).contains(&status) {
                let answer = decode(&text).map_err(|e| RequestError {
                    error: SourceError::Decode(format!("{api_path}: {e}")),
                    server: None,
                })?;
                if attempt > 0 {
                    notes.push(format!("the server was busy; the request succeeded after {attempt} {}", plural(attempt, "retry", "retries")));
                }
                return Ok((answer, notes));
            }
            let server = ServerError::parse(status, &text);
            // Searches, field caps and point-in-time calls are all safe to repeat; a gateway
            // (502/504) or an unavailable node (503) is as transient as a rejection.
            if matches!(status, 429 | 502 | 503 | 504) && attempt < self.retry.max_retries {
                let backoff = self.retry.base_delay.saturating_mul(1 << attempt.min(16));
                let delay = retry_after.map_or(backoff, |r| r.max(backoff)).min(self.retry.max_delay);
                let what = if status == 429 { "server busy" } else { "server unavailable" };
                notes.push(format!("{what} ({status} {}); retrying in {:.1}s", server.message, delay.as_secs_f64()));
                attempt += 1;
                tokio::time::sleep(delay).await;
                continue;
            }
            let mut error = server.clone().into_source_error(during_query);
            if matches!(status, 429 | 502 | 503 | 504) {
                error = SourceError::Server {
                    status,
                    message: format!(
                        "{} (still {} after {attempt} {})",
                        server.message,
                        if status == 429 { "rejected" } else { "unavailable" },
                        plural(attempt, "retry", "retries")
                    ),
                };
            }
            return Err(RequestError { error, server: Some(server) });
        }
    }
}

impl EsClient {
    /// Reads an answer, refusing one larger than [`MAX_BODY_BYTES`] (a misbehaving server or
    /// proxy must not exhaust memory).
    async fn read_body(&self, mut response: reqwest::Response) -> Result<String, RequestError> {
        let too_large = || RequestError {
            error: SourceError::Decode(format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20)),
            server: None,
        };
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| RequestError { error: self.http.transport_error(&e), server: None })? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Largest answer read (pages and aggregations are far smaller).
pub const MAX_BODY_BYTES: usize = 256 << 20;

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Percent-encodes an index pattern for a URL path, keeping the characters index patterns use
/// (`*`, `,`, `:` for remote clusters, `-`, `_`, `.`, `+`).
pub fn encode_index(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for b in pattern.trim().bytes() {
        if b.is_ascii_alphanumeric() || b"*,:-_.+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_patterns_keep_their_syntax_and_escape_the_rest() {
        assert_eq!(encode_index("logs-*,metrics-*"), "logs-*,metrics-*");
        assert_eq!(encode_index("remote:logs-*"), "remote:logs-*");
        assert_eq!(encode_index("a b/c"), "a%20b%2Fc");
    }
}
