//! An in-process Elasticsearch replay server on 127.0.0.1 for the ES tests: it records every
//! request (method, path with query string, JSON body, Authorization header) and answers with
//! what the test's handler returns: usually a captured fixture, or the answer of [`Dataset`],
//! a tiny in-memory index that honours range filters, sort order and `search_after` exactly as
//! Elasticsearch does, so paging and tailing can be checked for duplicates and misses.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

/// Base path the server is mounted under, as Quickwit serves its ES-compatible API.
pub const PREFIX: &str = "/api/v1/_elastic";

/// One request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path (without [`PREFIX`]) and query string, e.g. `/nginx-access/_search`.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Json>,
    /// The Authorization header, if any.
    pub authorization: Option<String>,
}

/// What to answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// Wait this long before answering (a stalled server).
    pub delay: Option<Duration>,
    /// Break the body after its first bytes.
    pub fault: Option<BodyFault>,
}

/// How a body is broken after the status and headers were sent.
#[derive(Debug, Clone, Copy)]
pub enum BodyFault {
    /// Send this many bytes, then reset the connection.
    CutAfter(usize),
    /// Send this many bytes, then stall for the duration.
    StallAfter(usize, Duration),
}

impl Reply {
    /// The same reply with a broken body.
    pub fn broken(mut self, fault: BodyFault) -> Reply {
        self.fault = Some(fault);
        self
    }

    /// The same reply after a delay.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = Some(delay);
        self
    }
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: Json) -> Reply {
        Reply { status: 200, body: body.to_string(), delay: None, fault: None }
    }

    /// A fixture file under tests/fixtures/elasticsearch/, with a status.
    pub fn fixture(status: u16, path: &str) -> Reply {
        Reply { status, body: fixture_text(path), delay: None, fault: None }
    }

    /// A status with a JSON body.
    pub fn status(status: u16, body: Json) -> Reply {
        Reply { status, body: body.to_string(), delay: None, fault: None }
    }
}

/// Reads a fixture file.
pub fn fixture_text(path: &str) -> String {
    let full = format!("{}/tests/fixtures/elasticsearch/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}

/// Parses a fixture file.
pub fn fixture(path: &str) -> Json {
    serde_json::from_str(&fixture_text(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// A running replay server.
pub struct EsServer {
    /// Base URL including [`PREFIX`].
    pub url: String,
    /// The bound address (for a TLS front).
    pub addr: SocketAddr,
    /// Requests received, in order.
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl EsServer {
    /// Starts a server answering with `handler`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> EsServer {
        let handler: Handler = Arc::new(handler);
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let handler = handler.clone();
            let log = log.clone();
            async move {
                let full = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
                let path = full.strip_prefix(PREFIX).unwrap_or(&full).to_string();
                let body = (!body.is_empty()).then(|| serde_json::from_slice(&body).unwrap_or(Json::String(String::from_utf8_lossy(&body).into())));
                let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                let recorded = Recorded { method: method.to_string(), path, body, authorization };
                log.lock().unwrap().push(recorded.clone());
                let reply = handler(&recorded);
                if let Some(d) = reply.delay {
                    tokio::time::sleep(d).await;
                }
                let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = match reply.fault {
                    None => axum::body::Body::from(reply.body),
                    Some(BodyFault::CutAfter(n)) => {
                        let partial = Bytes::from(reply.body.into_bytes()).slice(..n);
                        let chunks: Vec<Result<Bytes, std::io::Error>> =
                            vec![Ok(partial), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut off"))];
                        axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                    }
                    Some(BodyFault::StallAfter(n, stall)) => {
                        let partial = String::from_utf8_lossy(&reply.body.as_bytes()[..n]).into_owned();
                        super::loki_server::stalled_body(partial, stall)
                    }
                };
                let response: Response = (status, [("content-type", "application/json")], body).into_response();
                response
            }
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        EsServer { url: format!("http://{addr}{PREFIX}"), addr, requests, task }
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The bodies of requests whose path is `path`.
    pub fn bodies(&self, path: &str) -> Vec<Json> {
        self.requests().into_iter().filter(|r| r.path == path).filter_map(|r| r.body).collect()
    }
}

impl Drop for EsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Quickwit's cluster info answer (`GET /`): no point in time.
pub fn quickwit_info() -> Reply {
    Reply::fixture(200, "quickwit/cluster_info.json")
}

/// An Elasticsearch / OpenSearch cluster info answer for a version.
pub fn cluster_info(distribution: Option<&str>, number: &str) -> Reply {
    let mut version = json!({"number": number, "build_flavor": "default"});
    if let Some(d) = distribution {
        version["distribution"] = d.into();
    }
    Reply::json(json!({"name": "node-1", "cluster_name": "test", "version": version, "tagline": "You Know, for Search"}))
}

/// A tiny index: documents with a millisecond timestamp, answering `_search` bodies the way
/// Elasticsearch does for a `@timestamp` sort (plus `_shard_doc` when asked).
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// (timestamp ms, document number) pairs; the number is the `_shard_doc` tiebreaker.
    pub docs: Vec<(i64, u64)>,
    /// Whether hits carry `_id` (Quickwit's do not).
    pub with_ids: bool,
}

impl Dataset {
    /// The `_source` of document `n`.
    pub fn source(ts: i64, n: u64) -> Json {
        let ns = ts * 1_000_000;
        let time = chrono::DateTime::from_timestamp_nanos(ns).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        json!({"@timestamp": time, "message": format!("line {n}"), "status": 200 + (n % 4) * 100})
    }

    fn millis(bound: &Json) -> i64 {
        let text = bound.as_str().expect("bounds are RFC 3339 strings");
        chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339 bound").timestamp_millis()
    }

    /// Answers a search body.
    pub fn search(&self, body: &Json) -> Json {
        let size = body["size"].as_u64().unwrap_or(10) as usize;
        let sort = body["sort"].as_array().cloned().unwrap_or_default();
        let desc = sort.first().map(|s| s["@timestamp"]["order"] == "desc").unwrap_or(true);
        let tiebreak = sort.iter().any(|s| s.get("_shard_doc").is_some());
        let mut docs: Vec<(i64, u64)> = self.docs.clone();
        for clause in body["query"]["bool"]["filter"].as_array().into_iter().flatten() {
            if let Some(r) = clause.get("range").and_then(|r| r.get("@timestamp")) {
                assert_eq!(r["format"], "strict_date_optional_time");
                if let Some(g) = r.get("gte") {
                    let g = Self::millis(g);
                    docs.retain(|d| d.0 >= g);
                }
                if let Some(l) = r.get("lt") {
                    let l = Self::millis(l);
                    docs.retain(|d| d.0 < l);
                }
            }
        }
        // Equal timestamps keep a stable order (by document number), as a real index does
        // between refreshes.
        docs.sort_by(|a, b| if desc { b.0.cmp(&a.0).then(b.1.cmp(&a.1)) } else { a.0.cmp(&b.0).then(a.1.cmp(&b.1)) });
        if let Some(after) = body.get("search_after").and_then(Json::as_array) {
            let t = after[0].as_i64().expect("integer sort value");
            let n = after.get(1).and_then(Json::as_u64);
            docs.retain(|d| match (desc, n) {
                (true, None) => d.0 < t,
                (true, Some(n)) => d.0 < t || (d.0 == t && d.1 < n),
                (false, None) => d.0 > t,
                (false, Some(n)) => d.0 > t || (d.0 == t && d.1 > n),
            });
        }
        let total = docs.len();
        let hits: Vec<Json> = docs
            .iter()
            .take(size)
            .map(|&(ts, n)| {
                let mut hit = json!({"_index": "logs", "_source": Self::source(ts, n)});
                if self.with_ids {
                    hit["_id"] = format!("id-{n}").into();
                    hit["_score"] = Json::Null;
                }
                hit["sort"] = if tiebreak { json!([ts, n]) } else { json!([ts]) };
                hit
            })
            .collect();
        let mut out = json!({"took": 1, "timed_out": false,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": total, "relation": "eq"}, "max_score": null, "hits": hits}});
        if let Some(pit) = body.get("pit") {
            out["pit_id"] = pit["id"].clone();
        }
        out
    }
}

/// The shared nginx log (tests/fixtures/local/nginx_logs.gz, 51,462 real lines), in order.
pub fn nginx_lines() -> Vec<String> {
    use std::io::Read;
    let path = format!("{}/tests/fixtures/local/nginx_logs.gz", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
    text.lines().map(str::to_string).collect()
}

/// An index of real log lines on few whole-second timestamps (the captured `nginx-ties`
/// index: 51,462 nginx lines on 20 seconds, ~2,600 each), answering `_search` (range filter,
/// sort on `@timestamp`, `search_after`, `_shard_doc` inside a point in time) and the scroll
/// API (`_search?scroll=`, `_search/scroll`, `DELETE _search/scroll`) in the hit shape of
/// `quickwit/scroll_start_tied_timestamps.json`. Ties come back in an order that depends on
/// the page size asked, as a top-k collector over several splits gives them: only an exact
/// continuation (or identities) reads every document once.
#[derive(Debug, Default)]
pub struct TiedIndex {
    /// (timestamp ms, line), document number = position.
    pub docs: Vec<(i64, String)>,
    /// Whether hits carry `_id` (Elasticsearch's do, Quickwit's do not).
    pub with_ids: bool,
    /// Open scrolls: id → the documents still to send.
    scrolls: Mutex<std::collections::HashMap<String, Vec<usize>>>,
    next_scroll: Mutex<u64>,
}

/// A Quickwit-like server without point in time holding `index` as `nginx-ties`: `_search`
/// (plain and scrolled), `_search/scroll` and its `DELETE`, the captured field caps; anything
/// else is the captured "no point in time" 404.
pub async fn tied_index_server(index: Arc<TiedIndex>) -> EsServer {
    EsServer::start(move |r: &Recorded| {
        let body = r.body.clone().unwrap_or(Json::Null);
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => quickwit_info(),
            ("GET", "/nginx-ties/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
            ("POST", "/nginx-ties/_search") => Reply::json(index.search(&body)),
            ("POST", "/nginx-ties/_search?scroll=5m") => Reply::json(index.scroll_start(&body)),
            ("POST", "/_search/scroll") => index.scroll_next(&body),
            ("DELETE", "/_search/scroll") => index.scroll_delete(&body),
            _ => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
        }
    })
    .await
}

impl TiedIndex {
    /// `lines` spread in order over `seconds` whole seconds from `first_ms`.
    pub fn new(lines: Vec<String>, first_ms: i64, seconds: usize, with_ids: bool) -> TiedIndex {
        let n = lines.len();
        let docs = lines.into_iter().enumerate().map(|(i, line)| (first_ms + (i * seconds / n) as i64 * 1000, line)).collect();
        TiedIndex { docs, with_ids, ..TiedIndex::default() }
    }

    fn hit(&self, n: usize, tiebreak: bool) -> Json {
        let (ts, line) = &self.docs[n];
        let time = chrono::DateTime::from_timestamp_millis(*ts).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut words = line.split(' ');
        let remote_addr = words.next().unwrap_or("");
        let status: u64 = line.split('"').nth(2).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut hit = json!({"_index": "nginx-ties", "_source": {"@timestamp": time, "message": line, "remote_addr": remote_addr, "status": status}});
        if self.with_ids {
            hit["_id"] = format!("doc-{n}").into();
            hit["_score"] = Json::Null;
        }
        hit["sort"] = if tiebreak { json!([ts, n]) } else { json!([ts]) };
        hit
    }

    /// The documents matching a body's range filter, sorted as asked.
    fn matching(&self, body: &Json) -> (Vec<usize>, bool) {
        let sort = body["sort"].as_array().cloned().unwrap_or_default();
        let desc = sort.first().map(|s| s["@timestamp"]["order"] == "desc" || s["@timestamp"] == "desc").unwrap_or(true);
        let tiebreak = sort.iter().any(|s| s.get("_shard_doc").is_some());
        let size = body["size"].as_u64().unwrap_or(10);
        let mut docs: Vec<usize> = (0..self.docs.len()).collect();
        for clause in body["query"]["bool"]["filter"].as_array().into_iter().flatten() {
            if let Some(r) = clause.get("range").and_then(|r| r.get("@timestamp")) {
                if let Some(g) = r.get("gte") {
                    let g = Dataset::millis(g);
                    docs.retain(|&d| self.docs[d].0 >= g);
                }
                if let Some(l) = r.get("lt") {
                    let l = Dataset::millis(l);
                    docs.retain(|&d| self.docs[d].0 < l);
                }
            }
        }
        // Within a timestamp: by document number with `_shard_doc`, else in an order that
        // changes with the page size.
        let tie = |d: usize| if tiebreak { d as u64 } else { (d as u64 ^ size).wrapping_mul(0x9e37_79b9_7f4a_7c15) };
        docs.sort_by(|&a, &b| {
            let by_time = self.docs[a].0.cmp(&self.docs[b].0).then(tie(a).cmp(&tie(b)));
            if desc { by_time.reverse() } else { by_time }
        });
        if let Some(after) = body.get("search_after").and_then(Json::as_array) {
            let t = after[0].as_i64().expect("integer sort value");
            let n = after.get(1).and_then(Json::as_u64);
            docs.retain(|&d| {
                let ts = self.docs[d].0;
                match (desc, n) {
                    (true, None) => ts < t,
                    (true, Some(n)) => ts < t || (ts == t && (d as u64) < n),
                    (false, None) => ts > t,
                    (false, Some(n)) => ts > t || (ts == t && (d as u64) > n),
                }
            });
        }
        (docs, tiebreak)
    }

    fn answer(&self, hits: Vec<Json>, total: usize) -> Json {
        json!({"took": 3, "timed_out": false, "_shards": {"total": 2, "successful": 2, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": total, "relation": "eq"}, "max_score": null, "hits": hits}})
    }

    /// Answers `_search` (with or without a point in time).
    pub fn search(&self, body: &Json) -> Json {
        let size = body["size"].as_u64().unwrap_or(10) as usize;
        let (docs, tiebreak) = self.matching(body);
        let hits = docs.iter().take(size).map(|&d| self.hit(d, tiebreak)).collect();
        let mut out = self.answer(hits, docs.len());
        if let Some(pit) = body.get("pit") {
            out["pit_id"] = pit["id"].clone();
        }
        out
    }

    /// Answers `_search?scroll=…`: the first page and a new scroll over the rest.
    pub fn scroll_start(&self, body: &Json) -> Json {
        assert!(body.get("search_after").is_none() && body.get("pit").is_none(), "a scroll takes neither: {body}");
        let size = body["size"].as_u64().unwrap_or(10) as usize;
        let (docs, _) = self.matching(body);
        let total = docs.len();
        let id = {
            let mut n = self.next_scroll.lock().unwrap();
            *n += 1;
            format!("scroll-{n}-0")
        };
        let (first, rest) = docs.split_at(size.min(docs.len()));
        let hits = first.iter().map(|&d| self.hit(d, false)).collect();
        self.scrolls.lock().unwrap().insert(id.clone(), [vec![size], rest.to_vec()].concat());
        let mut out = self.answer(hits, total);
        out["_scroll_id"] = id.into();
        out
    }

    /// Answers `POST _search/scroll`: the next page, under a new id (as Quickwit does), or
    /// 404 for an unknown id.
    pub fn scroll_next(&self, body: &Json) -> Reply {
        let id = body["scroll_id"].as_str().unwrap_or_default().to_string();
        assert!(body["scroll"].is_string(), "the keep-alive is renewed: {body}");
        let Some(mut state) = self.scrolls.lock().unwrap().remove(&id) else {
            return Reply::status(404, json!({"error": {"type": "search_context_missing_exception", "reason": format!("No search context found for id [{id}]")}, "status": 404}));
        };
        let size = state[0];
        let rest = state.split_off(1);
        let (page, rest) = rest.split_at(size.min(rest.len()));
        let hits = page.iter().map(|&d| self.hit(d, false)).collect();
        let next_id = format!("{}+", id);
        self.scrolls.lock().unwrap().insert(next_id.clone(), [vec![size], rest.to_vec()].concat());
        let mut out = self.answer(hits, 0);
        out["_scroll_id"] = next_id.into();
        Reply::json(out)
    }

    /// Answers `DELETE _search/scroll`.
    pub fn scroll_delete(&self, body: &Json) -> Reply {
        let ids: Vec<String> = match &body["scroll_id"] {
            Json::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            Json::String(s) => vec![s.clone()],
            _ => Vec::new(),
        };
        let mut scrolls = self.scrolls.lock().unwrap();
        let freed = ids.iter().filter(|id| scrolls.remove(*id).is_some()).count();
        Reply::json(json!({"succeeded": true, "num_freed": freed}))
    }

    /// Scrolls still open.
    pub fn open_scrolls(&self) -> usize {
        self.scrolls.lock().unwrap().len()
    }
}
