//! Fault injection for both server sources, against the replay servers in tests/support/
//! (extended with broken bodies and a TLS front): connection refused, DNS failure,
//! TLS failures (unknown CA, expired, wrong host), a server stalling before or in the middle of
//! its body, a connection cut mid-body, truncated and garbage JSON, 429/500/502/503/504 storms,
//! and a Loki tail websocket that drops every connection. Each must end in a clear error (or a
//! recovery after retries) quickly, never a panic or a hang, and no error text may carry
//! control characters from the server. A stalled or refusing source must not hold up the
//! other panes.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logsleuth::model::TimeRange;
use logsleuth::sources::elasticsearch::{EsConfig, EsSource, RetryPolicy};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{Query, SearchPage, SearchRequest, Source, SourceError, SourceResult, TailEvent, TailRequest};
use logsleuth::text::is_unsafe_char;
use serde_json::json;
use support::es_server::{self, BodyFault, EsServer};
use support::loki_server::{self, LokiServer, WsStep};
use support::tls::{Cert, test_ca, tls_front};

const TIMEOUT: Duration = Duration::from_millis(400);
/// Longest any single fault may take to turn into an answer.
const PATIENCE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Loki,
    Es,
}

fn http(url: &str, ca: bool) -> HttpConfig {
    let mut http = HttpConfig::new(url).unwrap();
    http.timeout = TIMEOUT;
    http.connect_timeout = TIMEOUT;
    if ca {
        http.ca_file = Some(test_ca());
    }
    http
}

fn loki_at(url: &str, ca: bool) -> LokiSource {
    LokiSource::new(LokiConfig {
        http: http(url, ca),
        selector: r#"{job="nginx"}"#.into(),
        parser: Some(LogqlParser::Nginx),
        tenant: None,
        backoff: Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) },
    })
    .unwrap()
}

fn es_at(url: &str, ca: bool) -> EsSource {
    let mut config = EsConfig::new(http(url, ca), "nginx-access");
    config.retry = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(40) };
    EsSource::new(config).unwrap()
}

const ES_SEARCH: &str = "/nginx-access/_search";

fn range() -> TimeRange {
    let at = |s| logsleuth::time::parse_absolute(s, None).unwrap();
    TimeRange::between(at("2026-11-22T07:14:42Z"), at("2026-11-22T08:14:42Z"))
}

async fn search(source: &dyn Source) -> SourceResult<SearchPage> {
    source.search(SearchRequest { query: Query::kql(""), range: range(), limit: 3, cursor: None }).await
}

/// A healthy answer to a search of each kind.
fn good_body(kind: Kind) -> String {
    match kind {
        Kind::Loki => loki_server::fixture("query_range_streams_backward.json"),
        Kind::Es => es_server::fixture_text("quickwit/search_sort_desc_page1.json"),
    }
}

/// What the server does with the search request.
#[derive(Debug, Clone)]
enum Fault {
    Ok,
    Status(u16, String),
    StallBefore,
    StallMidBody,
    CutMidBody,
    Body(String),
}

/// A server of `kind` whose search answers follow `script` (by request number from 0); other
/// requests (ES cluster info and field caps) are answered normally. Returns the URL, the plain
/// address (for a TLS front) and the count of search requests.
async fn server(kind: Kind, script: impl Fn(usize) -> Fault + Send + Sync + 'static) -> (String, std::net::SocketAddr, Arc<AtomicUsize>, Box<dyn std::any::Any>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    match kind {
        Kind::Loki => {
            let s = LokiServer::start(move |r: &loki_server::Recorded| {
                if r.path != "/loki/api/v1/query_range" {
                    return loki_server::Reply::Text(404, "404 page not found\n".into());
                }
                let body = good_body(Kind::Loki);
                match script(seen.fetch_add(1, Ordering::SeqCst)) {
                    Fault::Ok => loki_server::Reply::Json(200, body),
                    Fault::Status(status, text) => loki_server::Reply::Text(status, text),
                    Fault::StallBefore => loki_server::Reply::After(Duration::from_secs(30), Box::new(loki_server::Reply::Json(200, body))),
                    Fault::StallMidBody => loki_server::Reply::StallMidBody(body[..200].to_string(), Duration::from_secs(30)),
                    Fault::CutMidBody => loki_server::Reply::CutOff(body[..200].to_string()),
                    Fault::Body(text) => loki_server::Reply::Json(200, text),
                }
            })
            .await;
            (s.url.clone(), s.addr, count, Box::new(s))
        }
        Kind::Es => {
            let s = EsServer::start(move |r: &es_server::Recorded| match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/") => es_server::quickwit_info(),
                ("GET", p) if p.contains("_field_caps") => es_server::Reply::fixture(200, "quickwit/field_caps.json"),
                ("POST", ES_SEARCH) => {
                    let ok = es_server::Reply::fixture(200, "quickwit/search_sort_desc_page1.json");
                    match script(seen.fetch_add(1, Ordering::SeqCst)) {
                        Fault::Ok => ok,
                        Fault::Status(status, text) => es_server::Reply { status, body: text, delay: None, fault: None },
                        Fault::StallBefore => ok.delayed(Duration::from_secs(30)),
                        Fault::StallMidBody => ok.broken(BodyFault::StallAfter(200, Duration::from_secs(30))),
                        Fault::CutMidBody => ok.broken(BodyFault::CutAfter(200)),
                        Fault::Body(text) => es_server::Reply { status: 200, body: text, delay: None, fault: None },
                    }
                }
                _ => es_server::Reply::fixture(404, "quickwit/error_open_pit_404.json"),
            })
            .await;
            let url = s.url.clone();
            (url, s.addr, count, Box::new(s))
        }
    }
}

fn source_at(kind: Kind, url: &str, ca: bool) -> Box<dyn Source> {
    match kind {
        Kind::Loki => Box::new(loki_at(url, ca)),
        Kind::Es => Box::new(es_at(url, ca)),
    }
}

/// Runs one search within [`PATIENCE`] and returns its result.
async fn timed_search(source: &dyn Source) -> SourceResult<SearchPage> {
    let started = Instant::now();
    let result = tokio::time::timeout(PATIENCE, search(source)).await.expect("no hang: the search ends");
    assert!(started.elapsed() < PATIENCE);
    if let Err(e) = &result {
        let text = e.to_string();
        assert!(!text.chars().any(|c| is_unsafe_char(c) || c.is_control()), "control characters in {text:?}");
    }
    result
}

async fn fault_error(kind: Kind, fault: Fault) -> SourceError {
    let (url, _, _, _server) = server(kind, move |_| fault.clone()).await;
    let source = source_at(kind, &url, false);
    timed_search(&*source).await.expect_err("the fault is an error")
}

const KINDS: [Kind; 2] = [Kind::Loki, Kind::Es];

#[tokio::test]
async fn connection_refused() {
    for kind in KINDS {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let e = timed_search(&*source_at(kind, &url, false)).await.unwrap_err();
        assert!(matches!(&e, SourceError::Unreachable { target, .. } if target.contains("127.0.0.1")), "{kind:?}: {e:?}");
        println!("{kind:?} refused: {e}");
    }
}

#[tokio::test]
async fn dns_failure() {
    // A host whose first label is longer than DNS allows (63 bytes) fails inside the resolver
    // while it builds the query, so no packet leaves the machine (tests talk to loopback only),
    // and `.invalid` could never resolve anyway (RFC 2606).
    let host = format!("{}.invalid", "x".repeat(70));
    for kind in KINDS {
        let e = timed_search(&*source_at(kind, &format!("http://{host}:3100"), false)).await.unwrap_err();
        assert!(matches!(&e, SourceError::Unreachable { target, .. } if target.contains(&host)), "{kind:?}: {e:?}");
        println!("{kind:?} dns: {e}");
    }
}

#[tokio::test]
async fn tls_is_verified_and_each_failure_is_named() {
    for kind in KINDS {
        let (_, addr, _, _server) = server(kind, |_| Fault::Ok).await;
        let prefix = if kind == Kind::Es { es_server::PREFIX } else { "" };
        // The control: a certificate from the CA given with --ca works.
        let good = tls_front(addr, Cert::Good).await;
        let page = timed_search(&*source_at(kind, &format!("{good}{prefix}"), true)).await.expect("good certificate");
        assert!(!page.records.is_empty());
        // Without the CA it is refused: TLS is verified by default.
        let e = timed_search(&*source_at(kind, &format!("{good}{prefix}"), false)).await.unwrap_err();
        println!("{kind:?} no ca: {e}");
        assert!(matches!(e, SourceError::Unreachable { .. }) && e.to_string().contains("certificate"), "{kind:?}: {e}");
        for (cert, words) in [(Cert::UnknownCa, "UnknownIssuer"), (Cert::Expired, "certificate expired"), (Cert::WrongHost, "not valid for name")] {
            let url = tls_front(addr, cert).await;
            let e = timed_search(&*source_at(kind, &format!("{url}{prefix}"), true)).await.unwrap_err();
            println!("{kind:?} {cert:?}: {e}");
            assert!(matches!(e, SourceError::Unreachable { .. }), "{kind:?} {cert:?}: {e:?}");
            assert!(e.to_string().contains("certificate") && e.to_string().contains(words), "{kind:?} {cert:?}: {e}");
        }
    }
}

#[tokio::test]
async fn stalls_before_and_mid_body_time_out() {
    for kind in KINDS {
        for fault in [Fault::StallBefore, Fault::StallMidBody] {
            let e = fault_error(kind, fault.clone()).await;
            println!("{kind:?} {fault:?}: {e}");
            assert!(matches!(&e, SourceError::Unreachable { reason, .. } if reason.contains("timed out")), "{kind:?} {fault:?}: {e:?}");
        }
    }
}

#[tokio::test]
async fn cut_truncated_and_garbage_answers_are_errors() {
    for kind in KINDS {
        let e = fault_error(kind, Fault::CutMidBody).await;
        println!("{kind:?} cut: {e}");
        assert!(matches!(e, SourceError::Unreachable { .. } | SourceError::Decode(_)), "{kind:?}: {e:?}");
        let truncated = good_body(kind)[..300].to_string();
        let garbage = "<html>\x1b[2J\x1b]0;pwned\x07 502 proxy error</html>".to_string();
        for body in [truncated, garbage, String::new(), "null".into(), "[]".into(), "{\"a\":".repeat(10_000)] {
            let result = {
                let (url, _, _, _server) = server(kind, move |_| Fault::Body(body.clone())).await;
                timed_search(&*source_at(kind, &url, false)).await
            };
            match result {
                Err(SourceError::Decode(m)) => println!("{kind:?} decode: {m}"),
                // A well-formed answer without hits is an empty page, not an error.
                Ok(page) => assert!(page.records.is_empty()),
                Err(e) => panic!("{kind:?}: expected a decode error, got {e:?}"),
            }
        }
    }
}

#[tokio::test]
async fn status_storms_are_retried_when_transient_and_then_named() {
    for kind in KINDS {
        for status in [429u16, 500, 502, 503, 504] {
            let (url, _, count, _server) = server(kind, move |_| Fault::Status(status, format!("storm {status} \x1b[31m"))).await;
            let e = timed_search(&*source_at(kind, &url, false)).await.unwrap_err();
            println!("{kind:?} {status}: {e}");
            assert!(matches!(&e, SourceError::Server { status: s, .. } if *s == status), "{kind:?} {status}: {e:?}");
            let transient = status != 500;
            let attempts = count.load(Ordering::SeqCst);
            assert_eq!(attempts, if transient { 4 } else { 1 }, "{kind:?} {status}: attempts");
            if transient {
                assert!(e.to_string().contains("after 3 retries"), "{kind:?} {status}: {e}");
            }
        }
        // A storm that passes: two failures, then the answer.
        let (url, _, count, _server) = server(kind, |n| if n < 2 { Fault::Status(503, "busy".into()) } else { Fault::Ok }).await;
        let page = timed_search(&*source_at(kind, &url, false)).await.expect("recovers after retries");
        assert!(!page.records.is_empty());
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }
}

fn tail_frame(ts: i64) -> WsStep {
    let line = format!("10.0.0.1 - - [22/Nov/2026:08:00:00 +0000] \"GET /{ts} HTTP/1.1\" 200 1 \"-\" \"-\"");
    WsStep::Text(json!({"streams": [{"stream": {"job": "nginx"}, "values": [[ts.to_string(), line]]}]}).to_string())
}

#[tokio::test]
async fn a_websocket_that_drops_every_connection_loses_and_repeats_nothing() {
    // Each connection sends the lines from the requested start (as Loki does), two new ones,
    // then drops without a close frame after a short while.
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    let server = LokiServer::start_with_tail(
        |_: &loki_server::Recorded| loki_server::Reply::Text(404, "404 page not found\n".into()),
        move |r: &loki_server::Recorded, n| {
            let start: i64 = r.param("start").and_then(|s| s.parse().ok()).unwrap_or(0);
            seen.lock().unwrap().push(start);
            if n >= 6 {
                return Ok(vec![WsStep::Hold]);
            }
            let mut steps: Vec<WsStep> = (1..=2 * (n as i64 + 1)).map(|i| i * 1000).filter(|&ts| ts >= start).map(tail_frame).collect();
            steps.push(WsStep::Sleep(Duration::from_millis(30)));
            steps.push(WsStep::Drop);
            Ok(steps)
        },
    )
    .await;
    let loki = loki_at(&server.url, false);
    let mut rx = loki.tail(TailRequest { query: Query::kql(""), since: Some(1) }).unwrap();
    let mut messages = Vec::new();
    let mut statuses = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while messages.len() < 12 {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await.expect("the tail keeps delivering") {
            Some(TailEvent::Records(records)) => messages.extend(records.into_iter().map(|r| r.timestamp.unwrap_or_default())),
            Some(TailEvent::Status(s)) => statuses.push(s),
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("the tail ended"),
        }
    }
    let expected: Vec<i64> = (1..=12).map(|i| i * 1000).collect();
    assert_eq!(messages, expected, "every line once, in order, across 6 drops");
    assert!(statuses.iter().filter(|s| s.starts_with("reconnecting")).count() >= 5, "{statuses:?}");
    // No late duplicates (status events may still come).
    let late = async {
        loop {
            match rx.recv().await {
                Some(TailEvent::Records(r)) => return r,
                Some(_) => continue,
                None => std::future::pending::<()>().await,
            }
        }
    };
    if let Ok(records) = tokio::time::timeout(Duration::from_millis(200), late).await {
        panic!("late records: {records:?}");
    }
    assert_eq!(log.lock().unwrap().len(), 7, "six drops, seven connections");
}

#[tokio::test]
async fn a_tail_over_tls_with_a_bad_certificate_says_so() {
    let server = LokiServer::start_with_tail(
        |_: &loki_server::Recorded| loki_server::Reply::Text(404, "404 page not found\n".into()),
        |_, _| Ok(vec![tail_frame(1000), WsStep::Hold]),
    )
    .await;
    // The control: with the right CA the websocket works over TLS.
    let good = tls_front(server.addr, Cert::Good).await;
    let mut rx = loki_at(&good, true).tail(TailRequest { query: Query::kql(""), since: Some(1) }).unwrap();
    let got = async {
        loop {
            match rx.recv().await {
                Some(TailEvent::Records(r)) => return r,
                Some(_) => continue,
                None => panic!("tail ended"),
            }
        }
    };
    assert_eq!(tokio::time::timeout(PATIENCE, got).await.expect("a line over TLS").len(), 1);
    let bad = tls_front(server.addr, Cert::Expired).await;
    let mut rx = loki_at(&bad, true).tail(TailRequest { query: Query::kql(""), since: Some(1) }).unwrap();
    let said = async {
        loop {
            match rx.recv().await {
                Some(TailEvent::Status(s)) if s.contains("certificate") => return s,
                Some(TailEvent::Failed(e)) => return e.to_string(),
                Some(TailEvent::Records(_)) => panic!("no line may arrive over a bad certificate"),
                Some(_) => continue,
                None => panic!("tail ended silently"),
            }
        }
    };
    let text = tokio::time::timeout(PATIENCE, said).await.expect("the failure is said");
    println!("tail tls: {text}");
    assert!(text.contains("certificate expired"), "{text}");
}

#[tokio::test]
async fn a_stalled_or_refusing_source_does_not_hold_up_the_other_panes() {
    use logsleuth::ui::app::{Pane, RangeSpec};
    use logsleuth::ui::{Action, App, Effect, Theme, update};

    // Pane 0 hangs (no timeout to save it for 30 s), pane 1 is refused, pane 2 is healthy.
    let (url, _, _, _stalled) = server(Kind::Loki, |_| Fault::StallBefore).await;
    let mut hanging = http(&url, false);
    hanging.timeout = Duration::from_secs(30);
    let hanging: Arc<dyn Source> = Arc::new(
        LokiSource::new(LokiConfig { http: hanging, selector: r#"{job="nginx"}"#.into(), parser: Some(LogqlParser::Nginx), tenant: None, backoff: Backoff::default() })
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let refused: Arc<dyn Source> = Arc::new(loki_at(&refused_url, false));
    let sample = "10.0.0.1 - - [22/Nov/2026:07:30:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl\"\n";
    let healthy: Arc<dyn Source> = Arc::new(logsleuth_testing::MemorySource::from_access_log("healthy.log", sample));

    let mut app = App::new(hanging.info(), None, Some(range()), Theme::default(), logsleuth::ui::history::History::default(), 0);
    app.add_pane(Pane::new(refused.info(), RangeSpec::Absolute(range()), ""));
    app.add_pane(Pane::new(healthy.info(), RangeSpec::Absolute(range()), ""));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = logsleuth::ui::runtime::Runtime::new(vec![hanging, refused, healthy], tx, None);
    for pane in 0..3 {
        let request = SearchRequest { query: Query::kql(""), range: range(), limit: 10, cursor: None };
        runtime.run(Effect::Search { pane, generation: app.panes[pane].generation, append: false, request });
    }
    let mut answered = Vec::new();
    while answered.len() < 2 {
        let action = tokio::time::timeout(PATIENCE, rx.recv()).await.expect("the other panes answer while pane 0 hangs").unwrap();
        if let Action::SearchDone { pane, .. } = &action {
            answered.push(*pane);
        }
        update(&mut app, action);
    }
    answered.sort();
    assert_eq!(answered, [1, 2]);
    let refused_error = app.panes[1].error.clone().expect("pane 1 says why");
    assert!(refused_error.contains("cannot reach") && refused_error.contains(&refused_url), "{refused_error}");
    assert_eq!(app.panes[2].records.len(), 1);
    assert!(app.panes[2].error.is_none());
    assert!(app.panes[0].error.is_none(), "pane 0 is still waiting, nothing else");
    runtime.shutdown();
}
