//! Live tail over Loki's `/loki/api/v1/tail` websocket, with reconnection.
//!
//! After a drop the tail reconnects with exponential backoff and asks again from the last
//! timestamp it delivered (`start` is inclusive), skipping the lines it already sent at that
//! timestamp, so a reconnect neither loses nor repeats lines.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue};

use super::client::{CATEGORIZE_LABELS, ENCODING_FLAGS_HEADER};
use super::decode::decode_tail_frame;
use super::paging::entry_hash;
use logsleuth_core::model::Nanos;
use crate::http::HttpConfig;
use crate::{SourceError, SourceResult, TailEvent};

/// Historic entries asked for on the first connection.
const FIRST_LIMIT: usize = 100;
/// Entries asked for when resuming after a drop (the gap may hold many).
const RESUME_LIMIT: usize = 5000;

/// Backoff between reconnection attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

/// A Loki source's HTTP requests retry by the shared [`RetryPolicy`](crate::http::RetryPolicy)
/// (its number of retries) with the tail's delays: the one `backoff` of a Loki configuration
/// sets both.
impl From<Backoff> for crate::http::RetryPolicy {
    fn from(b: Backoff) -> Self {
        crate::http::RetryPolicy { base_delay: b.initial, max_delay: b.max, ..crate::http::RetryPolicy::default() }
    }
}

/// Everything the tail task needs.
#[derive(Debug, Clone)]
pub struct TailSpec {
    /// Server configuration (base URL, auth, headers, TLS).
    pub http: HttpConfig,
    /// The log query (must have a stream selector).
    pub logql: String,
    /// First timestamp wanted; `None` for "from now".
    pub since: Option<Nanos>,
    /// Drop parser error labels (the parser stage was added by logsleuth).
    pub strip_errors: bool,
    /// Reconnection delays.
    pub backoff: Backoff,
}

/// What has been delivered so far: the newest timestamp and the lines sent at it.
#[derive(Debug, Default)]
struct Resume {
    last_ts: Option<Nanos>,
    seen_at_last: HashMap<u64, usize>,
}

impl Resume {
    /// Whether an entry is new, recording it if so.
    fn admit(&mut self, entry: &super::decode::Entry) -> bool {
        let ts = entry.record.timestamp.unwrap_or_default();
        let hash = entry_hash(entry);
        match self.last_ts {
            Some(last) if ts < last => false,
            Some(last) if ts == last => {
                let n = self.seen_at_last.entry(hash).or_default();
                // Delivered before this connection: skip once per earlier delivery.
                if *n > 0 {
                    *n -= 1;
                    false
                } else {
                    true
                }
            }
            _ => {
                self.last_ts = Some(ts);
                self.seen_at_last.clear();
                true
            }
        }
    }

    /// Called at reconnection: every line delivered at `last_ts` will be sent again.
    fn delivered_at_last(&mut self, delivered: &[u64]) {
        self.seen_at_last.clear();
        for h in delivered {
            *self.seen_at_last.entry(*h).or_default() += 1;
        }
    }
}

/// The websocket URL for a tail request.
pub fn tail_url(http: &HttpConfig, logql: &str, limit: usize, start: Nanos) -> SourceResult<url::Url> {
    let mut url = url::Url::parse(&http.url("/loki/api/v1/tail"))
        .map_err(|e| SourceError::Query(format!("invalid tail URL: {e}")))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme).map_err(|_| SourceError::Query("cannot build the websocket URL".into()))?;
    url.query_pairs_mut()
        .append_pair("query", logql)
        .append_pair("limit", &limit.to_string())
        .append_pair("start", &start.to_string());
    Ok(url)
}

/// Runs a tail until `tx`'s receiver is dropped or a fatal error (sent as
/// [`TailEvent::Failed`]).
pub async fn run_to(spec: TailSpec, tx: mpsc::Sender<TailEvent>) {
    let connector = match connector(&spec.http) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(TailEvent::Failed(e)).await;
            return;
        }
    };
    tokio::select! {
        _ = run(spec, connector, tx.clone()) => {}
        _ = tx.closed() => {}
    }
}

fn request(spec: &TailSpec, limit: usize, start: Nanos) -> SourceResult<tungstenite::handshake::client::Request> {
    let url = tail_url(&spec.http, &spec.logql, limit, start)?;
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| SourceError::Query(format!("invalid tail request: {e}")))?;
    let headers = req.headers_mut();
    for (name, value) in &spec.http.headers {
        let name = tungstenite::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SourceError::Query(format!("invalid header name '{name}'")))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| SourceError::Query(format!("invalid value for header '{name}'")))?;
        headers.insert(name, value);
    }
    if let Some(auth) = spec.http.authorization()? {
        let mut value = HeaderValue::from_bytes(auth.as_bytes())
            .map_err(|_| SourceError::Query("credentials contain characters not allowed in a header".into()))?;
        value.set_sensitive(true);
        headers.insert(tungstenite::http::header::AUTHORIZATION, value);
    }
    headers.insert(ENCODING_FLAGS_HEADER, HeaderValue::from_static(CATEGORIZE_LABELS));
    headers.insert(tungstenite::http::header::USER_AGENT, HeaderValue::from_static(concat!("logsleuth/", env!("CARGO_PKG_VERSION"))));
    Ok(req)
}

async fn run(spec: TailSpec, connector: Option<tokio_tungstenite::Connector>, tx: mpsc::Sender<TailEvent>) {
    let mut resume = Resume::default();
    let mut delay = spec.backoff.initial;
    let mut delivered_at_last: Vec<u64> = Vec::new();
    let mut first = true;
    // Fixed once, so a reconnect before any line arrived does not skip the gap.
    let initial_start = spec.since.unwrap_or_else(logsleuth_core::time::now_nanos);
    loop {
        let (limit, start) = match resume.last_ts {
            Some(ts) => (RESUME_LIMIT, ts),
            None if first => (FIRST_LIMIT, initial_start),
            None => (RESUME_LIMIT, initial_start),
        };
        if resume.last_ts.is_some() {
            resume.delivered_at_last(&delivered_at_last);
        }
        let req = match request(&spec, limit, start) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(TailEvent::Failed(e)).await;
                return;
            }
        };
        let reason = match tokio_tungstenite::connect_async_tls_with_config(req, None, true, connector.clone()).await {
            Ok((mut ws, _)) => {
                let _ = tx.send(TailEvent::Status(if first { "connected".into() } else { "reconnected".into() })).await;
                first = false;
                let mut reason = "connection closed by the server".to_string();
                while let Some(msg) = ws.next().await {
                    let text = match msg {
                        Ok(Message::Text(text)) => text,
                        Ok(Message::Close(frame)) => {
                            if let Some(f) = frame.filter(|f| !f.reason.is_empty()) {
                                reason = format!("closed by the server: {}", logsleuth_core::text::sanitize(&f.reason));
                            }
                            break;
                        }
                        Ok(_) => continue,
                        Err(e) => {
                            reason = e.to_string();
                            break;
                        }
                    };
                    let frame = match decode_tail_frame(text.as_str(), spec.strip_errors) {
                        Ok(f) => f,
                        Err(e) => {
                            let _ = tx.send(TailEvent::Status(format!("skipped a frame: {e}"))).await;
                            continue;
                        }
                    };
                    delay = spec.backoff.initial;
                    let mut records = Vec::with_capacity(frame.entries.len());
                    for entry in frame.entries {
                        let before = resume.last_ts;
                        if resume.admit(&entry) {
                            if resume.last_ts != before {
                                delivered_at_last.clear();
                            }
                            delivered_at_last.push(entry_hash(&entry));
                            records.push(entry.record);
                        }
                    }
                    if !records.is_empty() && tx.send(TailEvent::Records(records)).await.is_err() {
                        return;
                    }
                    if frame.dropped > 0 && tx.send(TailEvent::Dropped(frame.dropped)).await.is_err() {
                        return;
                    }
                }
                reason
            }
            Err(tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().as_deref().unwrap_or_default();
                let err = spec.http.redact_error(super::client::status_error(status, body));
                if (400..500).contains(&status) && status != 429 {
                    let _ = tx.send(TailEvent::Failed(err)).await;
                    return;
                }
                err.to_string()
            }
            Err(e) => e.to_string(),
        };
        let reason = spec.http.redact(&logsleuth_core::text::sanitize(&reason));
        let status = format!("reconnecting in {} ({reason})", logsleuth_core::time::format_duration(delay.as_nanos() as Nanos));
        if tx.send(TailEvent::Status(status)).await.is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(spec.backoff.max);
    }
}

/// A rustls connector for `--ca-file` / `--insecure`; `None` uses the system roots.
fn connector(http: &HttpConfig) -> SourceResult<Option<tokio_tungstenite::Connector>> {
    if !http.insecure && http.ca_file.is_none() {
        return Ok(None);
    }
    crate::http::install_crypto_provider();
    let config = if http.insecure {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    } else {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &http.ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| SourceError::Io(format!("cannot read CA file {}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| SourceError::Io(format!("invalid CA file {}: {e}", path.display())))?;
                roots.add(cert).map_err(|e| SourceError::Io(format!("invalid CA file {}: {e}", path.display())))?;
            }
        }
        rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Some(tokio_tungstenite::Connector::Rustls(Arc::new(config))))
}

/// `--insecure`: accepts any certificate but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::Record;
    use crate::loki::decode::Entry;

    fn entry(ts: Nanos, line: &str) -> Entry {
        Entry { stream: "{job=\"a\"}".into(), record: Record { timestamp: Some(ts), ..Record::plain(line) } }
    }

    #[test]
    fn resume_skips_lines_already_delivered_at_the_last_timestamp() {
        let mut r = Resume::default();
        assert!(r.admit(&entry(10, "a")));
        assert!(r.admit(&entry(20, "b")));
        assert!(r.admit(&entry(20, "c")));
        let delivered = [entry_hash(&entry(20, "b")), entry_hash(&entry(20, "c"))];
        r.delivered_at_last(&delivered);
        // After reconnecting from start=20 the server sends b and c again, then d.
        assert!(!r.admit(&entry(10, "a")));
        assert!(!r.admit(&entry(20, "b")));
        assert!(!r.admit(&entry(20, "c")));
        assert!(r.admit(&entry(20, "d")));
        assert!(r.admit(&entry(21, "e")));
    }

    #[test]
    fn connector_follows_ca_file_and_insecure() {
        let mut http = HttpConfig::new("https://loki.example").unwrap();
        assert!(connector(&http).unwrap().is_none(), "system roots by default");
        http.insecure = true;
        assert!(matches!(connector(&http).unwrap(), Some(tokio_tungstenite::Connector::Rustls(_))));
        http.insecure = false;
        http.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(connector(&http), Err(SourceError::Io(m)) if m.contains("/nonexistent/ca.pem")));
    }

    #[test]
    fn tail_url_uses_ws_schemes_and_keeps_the_prefix() {
        let http = HttpConfig::new("https://loki.example/prefix/").unwrap();
        let url = tail_url(&http, "{job=\"a\"}", 5, 42).unwrap();
        assert_eq!(url.as_str(), "wss://loki.example/prefix/loki/api/v1/tail?query=%7Bjob%3D%22a%22%7D&limit=5&start=42");
        let http = HttpConfig::new("http://127.0.0.1:3100").unwrap();
        assert!(tail_url(&http, "{}", 1, 0).unwrap().as_str().starts_with("ws://127.0.0.1:3100/loki/api/v1/tail?"));
    }
}
