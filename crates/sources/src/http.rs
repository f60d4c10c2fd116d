//! HTTP plumbing shared by the server sources: authentication, TLS, headers, secrets, and
//! turning transport failures into [`SourceError`]s that never show credentials.

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
        use base64_engine::encode;
        let text = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Basic { user, password } => format!("Basic {}", encode(format!("{user}:{}", password.expose()))),
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
                base64_engine::encode(format!("{user}:{}", password.expose())),
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

/// Minimal standard base64 encoding for the basic-auth header (not worth a dependency).
mod base64_engine {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(input: impl AsRef<[u8]>) -> String {
        let bytes = input.as_ref();
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
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
        assert_eq!(base64_engine::encode("a"), "YQ==");
        assert_eq!(base64_engine::encode("ab"), "YWI=");
        assert_eq!(base64_engine::encode("abc"), "YWJj");
        assert_eq!(base64_engine::encode("user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn bad_urls_are_query_errors_without_secrets() {
        let err = HttpConfig::new("ftp://u:p@x").unwrap_err();
        assert!(matches!(err, SourceError::Query(_)));
        assert_eq!(redact_url_text("http://u:pw@ho st"), "http://***@ho st");
    }
}
