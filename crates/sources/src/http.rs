//! HTTP plumbing shared by the server sources: authentication, TLS, headers, secrets, turning
//! transport failures into [`SourceError`]s that never show credentials, and the one request
//! loop both Loki and Elasticsearch send through ([`HttpClient::send`]): one [`RetryPolicy`]
//! (429/502/503/504 retried with doubling delays, a longer `Retry-After` winning), one body cap
//! ([`MAX_BODY_BYTES`]) and one mapping of refusals to errors ([`status_error`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::SourceError;

/// A secret string (password, token, API key). Its `Debug` and `Display` print `***`, so it
/// cannot leak through logs, panics or error messages by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for putting on the wire. Never format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads a secret from an environment variable.
    pub fn from_env(var: &str) -> Result<Secret, String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            Ok(_) => Err(format!("environment variable {var} is empty")),
            Err(_) => Err(format!("environment variable {var} is not set")),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic auth.
    Basic {
        /// User name (not secret).
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: ApiKey <key>` (Elasticsearch).
    ApiKey(Secret),
}

/// Everything needed to talk to one server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL, possibly with a path prefix; never contains credentials (they are moved to
    /// `auth` by [`HttpConfig::new`]).
    pub base_url: url::Url,
    /// Credentials.
    pub auth: Auth,
    /// Extra headers (tenant, custom). Values here are not secret.
    pub headers: Vec<(String, String)>,
    /// Extra CA certificates (PEM) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (shown loudly by the UI).
    pub insecure: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl HttpConfig {
    /// Parses a base URL. User info in the URL (`https://user:pass@host`) becomes basic auth
    /// and is removed from the URL so it is never displayed.
    pub fn new(base_url: &str) -> Result<HttpConfig, SourceError> {
        let mut url = url::Url::parse(base_url.trim())
            .map_err(|e| SourceError::Query(format!("invalid URL '{}': {e}", redact_url_text(base_url))))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SourceError::Query(format!("unsupported URL scheme '{}': use http or https", url.scheme())));
        }
        let mut auth = Auth::None;
        if !url.username().is_empty() {
            let user = percent_decode(url.username());
            let password = Secret::new(percent_decode(url.password().unwrap_or("")));
            auth = Auth::Basic { user, password };
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        // A trailing slash would double up when joining API paths.
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&path);
        Ok(HttpConfig {
            base_url: url,
            auth,
            headers: Vec::new(),
            ca_file: None,
            insecure: false,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        })
    }

    /// The base URL joined with an API path (`/loki/api/v1/query_range`), keeping any prefix.
    pub fn url(&self, api_path: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}/{}", api_path.trim_start_matches('/'))
    }

    /// What to show the user for this server: the URL without credentials.
    pub fn display(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_string()
    }

    /// Builds a reqwest client: rustls with the system roots (plus `ca_file`), default headers
    /// and auth. TLS is verified unless `insecure`.
    pub fn client(&self) -> Result<reqwest::Client, SourceError> {
        install_crypto_provider();
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SourceError::Query(format!("invalid header name '{name}'")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| SourceError::Query(format!("invalid value for header '{name}'")))?;
            headers.insert(name, value);
        }
        if let Some(value) = self.authorization()? {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("logsleuth/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout);
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| SourceError::Io(format!("cannot read CA file {}: {e}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| SourceError::Io(format!("invalid CA file {}: {e}", path.display())))?;
            // A file with no PEM certificate in it would otherwise be accepted silently.
            if certs.is_empty() {
                return Err(SourceError::Io(format!("invalid CA file {}: no PEM certificate found", path.display())));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if self.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        builder.build().map_err(|e| SourceError::Io(format!("cannot set up HTTP client: {e}")))
    }

    /// The `Authorization` header value, marked sensitive so hyper never logs it.
    pub fn authorization(&self) -> Result<Option<HeaderValue>, SourceError> {
        let text = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Basic { user, password } => format!("Basic {}", basic_credentials(user, password)),
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
            Auth::ApiKey(key) => format!("ApiKey {}", key.expose()),
        };
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| SourceError::Query("credentials contain characters not allowed in a header".into()))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// The secret strings of this configuration as they could appear in text: the password,
    /// token or API key, and the base64 form sent for basic auth. Short values (under 4
    /// characters) are left out: masking them would garble ordinary words.
    fn secret_texts(&self) -> Vec<String> {
        let mut texts = match &self.auth {
            Auth::None => vec![],
            Auth::Basic { user, password } => vec![
                password.expose().to_string(),
                basic_credentials(user, password),
            ],
            Auth::Bearer(token) => vec![token.expose().to_string()],
            Auth::ApiKey(key) => vec![key.expose().to_string()],
        };
        texts.retain(|t| t.chars().count() >= 4);
        texts
    }

    /// Masks this configuration's secrets in `text` (a server that echoes the credentials it
    /// refused must not make logsleuth print them).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in self.secret_texts() {
            out = out.replace(&secret, "***");
        }
        out
    }

    /// [`redact`](Self::redact) applied to every text of an error.
    pub fn redact_error(&self, error: SourceError) -> SourceError {
        match error {
            SourceError::Query(m) => SourceError::Query(self.redact(&m)),
            SourceError::Unreachable { target, reason } => SourceError::Unreachable { target, reason: self.redact(&reason) },
            SourceError::Auth { status, message } => SourceError::Auth { status, message: self.redact(&message) },
            SourceError::Server { status, message } => SourceError::Server { status, message: self.redact(&message) },
            SourceError::Decode(m) => SourceError::Decode(self.redact(&m)),
            SourceError::Io(m) => SourceError::Io(self.redact(&m)),
            SourceError::Unsupported(m) => SourceError::Unsupported(self.redact(&m)),
        }
    }

    /// Maps a transport error to a [`SourceError`], without the URL's query string (which may
    /// hold a query the user considers sensitive) or credentials.
    pub fn transport_error(&self, err: &reqwest::Error) -> SourceError {
        let target = self.display();
        let reason = describe_reqwest_error(err);
        // A body that stops arriving is a timeout (reqwest files it under "decode").
        if err.is_decode() && !err.is_timeout() {
            return SourceError::Decode(reason);
        }
        SourceError::Unreachable { target, reason }
    }
}

/// Installs rustls's ring provider once (both reqwest and the websocket client use rustls;
/// with one provider chosen explicitly there is no ambiguity at run time).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn describe_reqwest_error(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    if err.is_timeout() {
        parts.push("timed out".to_string());
    } else if err.is_connect() {
        parts.push("connection failed".to_string());
    }
    // The source chain holds the useful part (connection refused, DNS, certificate errors).
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(err.without_url_string());
    }
    parts.join(": ")
}

trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_string(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "");
        }
        text
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// Removes `user:password@` from URL-ish text that failed to parse, for error messages.
pub fn redact_url_text(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}***@{}", &text[..scheme_end + 3], &text[at + 1..]),
        _ => text.to_string(),
    }
}

/// `user:password` in standard base64 with padding, as basic auth sends it.
fn basic_credentials(user: &str, password: &Secret) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()))
}

/// Largest answer body read from any server (pages and aggregations are far smaller): a
/// hostile or broken server or proxy must not exhaust memory.
pub const MAX_BODY_BYTES: usize = 256 << 20;

/// Statuses that mean "try again later" rather than "this request is wrong": rejections
/// (429: rejected execution, circuit breaker, Loki's rate limits), a gateway that lost its
/// backend (502, 504) and an unavailable node (503). 500 is not retried.
pub fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// How transient failures ([`is_transient`]) are retried, for every server source. Every
/// request logsleuth sends is safe to repeat (Loki reads are GETs; Elasticsearch requests are
/// searches, field caps and point-in-time calls).
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

impl RetryPolicy {
    /// The wait before retry number `attempt + 1`: `base_delay` doubled `attempt` times, or the
    /// server's `Retry-After` when longer, never more than `max_delay`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.base_delay.saturating_mul(1 << attempt.min(16)).min(self.max_delay);
        retry_after.map_or(backoff, |r| r.max(backoff)).min(self.max_delay)
    }
}

/// The shared part of mapping a refused request to an error: 401/403 are authentication
/// errors, the rest server errors. Backends refine it where their bodies say more (a LogQL
/// parse error, a malformed ES query, a missing index).
pub fn status_error(status: u16, message: String) -> SourceError {
    match status {
        401 | 403 => SourceError::Auth { status, message },
        _ => SourceError::Server { status, message },
    }
}

/// A refused request as its backend reads the body: the error to report when it is final,
/// the server's message (for retry notes), and anything else the backend wants back.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal<E> {
    /// What to report if the request is not retried.
    pub error: SourceError,
    /// The server's own words.
    pub message: String,
    /// The backend's reading of the body (ES's parsed error).
    pub detail: E,
}

/// A successful answer and what it took to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The body.
    pub body: Vec<u8>,
    /// Notes for the user about retries ("server busy (429 …); retrying in 0.5s").
    pub notes: Vec<String>,
}

/// A failed request: the error to report (credentials masked) and, when the server answered,
/// the backend's reading of its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed<E> {
    /// What to report.
    pub error: SourceError,
    /// The server's answer, when there was one.
    pub detail: Option<E>,
}

/// A connection to one server: the [`HttpConfig`], its reqwest client, and the retry policy.
#[derive(Debug, Clone)]
pub struct HttpClient {
    http: HttpConfig,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl HttpClient {
    /// Builds the client (TLS set up once).
    pub fn new(http: HttpConfig, retry: RetryPolicy) -> Result<HttpClient, SourceError> {
        let client = http.client()?;
        Ok(HttpClient { http, client, retry })
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> HttpClient {
        self.retry = retry;
        self
    }

    /// The server configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.http
    }

    /// The retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// The one request loop. Sends the request `build` makes (again for each retry); a
    /// transient refusal ([`is_transient`]) is retried by the [`RetryPolicy`] honouring
    /// `Retry-After`, with a note for each retry, and once retries run out it is a server error
    /// saying "still rejected/unavailable after N retries". Other refusals are the error
    /// `refusal` reads from the status and body. Bodies past [`MAX_BODY_BYTES`] are refused.
    /// Errors and notes have this configuration's secrets masked.
    pub async fn send<E>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        refusal: impl Fn(u16, &[u8]) -> Refusal<E>,
    ) -> Result<Sent, Failed<E>> {
        match self.send_unredacted(build, refusal).await {
            Ok(Sent { body, notes }) => Ok(Sent { body, notes: notes.iter().map(|n| self.http.redact(n)).collect() }),
            Err(Failed { error, detail }) => Err(Failed { error: self.http.redact_error(error), detail }),
        }
    }

    async fn send_unredacted<E>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        refusal: impl Fn(u16, &[u8]) -> Refusal<E>,
    ) -> Result<Sent, Failed<E>> {
        let mut notes = Vec::new();
        let mut attempt = 0u32;
        loop {
            let response =
                build(&self.client).send().await.map_err(|e| Failed { error: self.http.transport_error(&e), detail: None })?;
            let status = response.status().as_u16();
            let retry_after = retry_after(response.headers());
            let body = self.read_body(response).await.map_err(|error| Failed { error, detail: None })?;
            if (200..300).contains(&status) {
                if attempt > 0 {
                    notes.push(format!(
                        "the server was busy; the request succeeded after {attempt} {}",
                        plural(attempt, "retry", "retries")
                    ));
                }
                return Ok(Sent { body, notes });
            }
            let refused = refusal(status, &body);
            if !is_transient(status) {
                return Err(Failed { error: refused.error, detail: Some(refused.detail) });
            }
            if attempt < self.retry.max_retries {
                let delay = self.retry.delay(attempt, retry_after);
                let what = if status == 429 { "server busy" } else { "server unavailable" };
                notes.push(format!("{what} ({status} {}); retrying in {:.1}s", refused.message, delay.as_secs_f64()));
                attempt += 1;
                tokio::time::sleep(delay).await;
                continue;
            }
            let message = format!(
                "{} (still {} after {attempt} {})",
                refused.message,
                if status == 429 { "rejected" } else { "unavailable" },
                plural(attempt, "retry", "retries")
            );
            return Err(Failed { error: SourceError::Server { status, message }, detail: Some(refused.detail) });
        }
    }

    /// Reads an answer, refusing one larger than [`MAX_BODY_BYTES`].
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, SourceError> {
        let too_large = || SourceError::Decode(format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20));
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.http.transport_error(&e))? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// A `Retry-After` given in seconds.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_move_to_auth_and_are_never_displayed() {
        let cfg = HttpConfig::new("https://admin:s3cr%40t@es.example:9200/prefix/").unwrap();
        assert_eq!(cfg.display(), "https://es.example:9200/prefix");
        assert_eq!(cfg.url("/_search"), "https://es.example:9200/prefix/_search");
        match &cfg.auth {
            Auth::Basic { user, password } => {
                assert_eq!(user, "admin");
                assert_eq!(password.expose(), "s3cr@t");
            }
            other => panic!("basic auth expected, got {other:?}"),
        }
        assert!(!format!("{cfg:?}").contains("s3cr"));
        let header = cfg.authorization().unwrap().unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Basic YWRtaW46czNjckB0");
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(basic_credentials("a", &Secret::new("")), "YTo=");
        assert_eq!(basic_credentials("ab", &Secret::new("")), "YWI6");
        assert_eq!(basic_credentials("user", &Secret::new("pass")), "dXNlcjpwYXNz");
        assert_eq!(basic_credentials("", &Secret::new("ab")), "OmFi");
    }

    #[test]
    fn retries_double_and_a_longer_retry_after_wins() {
        let p = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        assert_eq!(p.delay(0, None), Duration::from_millis(100));
        assert_eq!(p.delay(2, None), Duration::from_millis(400));
        assert_eq!(p.delay(5, None), Duration::from_secs(1));
        assert_eq!(p.delay(0, Some(Duration::from_millis(700))), Duration::from_millis(700));
        assert_eq!(p.delay(0, Some(Duration::from_secs(30))), Duration::from_secs(1));
        assert!(is_transient(429) && is_transient(504) && !is_transient(500));
        assert!(matches!(status_error(403, "no".into()), SourceError::Auth { status: 403, .. }));
    }

    #[test]
    fn bad_urls_are_query_errors_without_secrets() {
        let err = HttpConfig::new("ftp://u:p@x").unwrap_err();
        assert!(matches!(err, SourceError::Query(_)));
        assert_eq!(redact_url_text("http://u:pw@ho st"), "http://***@ho st");
    }
}
