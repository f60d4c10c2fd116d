//! The HTTP side: requests with auth and TLS from [`HttpConfig`] through the shared request
//! loop ([`HttpClient::send`]: 429/502/503/504 retried with backoff and reported, one body
//! cap), error bodies turned into the server's words ([`ServerError`]).

use reqwest::Method;
use serde_json::Value as Json;

use super::error::ServerError;
use crate::http::{Failed, HttpClient, HttpConfig, Refusal};
use crate::SourceError;

/// The retry policy every server source shares ([`crate::http::RetryPolicy`]), under the name
/// this module always gave it.
pub use crate::http::RetryPolicy;

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
    http: HttpClient,
}

impl EsClient {
    /// Builds the client (TLS set up once).
    pub fn new(http: HttpConfig, retry: RetryPolicy) -> Result<EsClient, SourceError> {
        Ok(EsClient { http: HttpClient::new(http, retry)? })
    }

    /// The server, for messages (never with credentials).
    pub fn display(&self) -> String {
        self.http.config().display()
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
        let config = self.http.config();
        let url = config.url(api_path);
        let build = |client: &reqwest::Client| {
            let request = client.request(method.clone(), &url);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let refusal = |status: u16, body: &[u8]| {
            let server = ServerError::parse(status, &String::from_utf8_lossy(body));
            Refusal { error: server.clone().into_source_error(during_query), message: server.message.clone(), detail: server }
        };
        match self.http.send(build, refusal).await {
            Ok(sent) => {
                let text = String::from_utf8_lossy(&sent.body);
                let answer = decode(&text).map_err(|e| RequestError {
                    error: config.redact_error(SourceError::Decode(format!("{api_path}: {e}"))),
                    server: None,
                })?;
                Ok((answer, sent.notes))
            }
            Err(Failed { error, detail }) => Err(RequestError {
                error,
                server: detail.map(|mut s| {
                    s.message = config.redact(&s.message);
                    s
                }),
            }),
        }
    }
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
