//! Live tail over the websocket against the replay server: real captured frames, dropped
//! entries, reconnection with resume, refusals.

mod support;

use std::time::Duration;

use logsleuth::model::Value;
use logsleuth::sources::http::{Auth, HttpConfig, Secret};
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{Query, Source, SourceError, TailEvent, TailRequest};
use serde_json::json;
use support::loki_server::{LokiServer, Recorded, Reply, WsStep, fixture};
use tokio::sync::mpsc::Receiver;

fn source(server: &LokiServer, selector: &str) -> LokiSource {
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.auth = Auth::Bearer(Secret::new("t0ken"));
    http.headers.push(("X-Scope-OrgID".into(), "tenant-1".into()));
    LokiSource::new(LokiConfig {
        http,
        selector: selector.into(),
        parser: Some(LogqlParser::Json),
        tenant: Some("tenant-1".into()),
        backoff: Backoff { initial: Duration::from_millis(20), max: Duration::from_millis(80) },
    })
    .unwrap()
}

fn frames(name: &str) -> Vec<WsStep> {
    fixture(name).lines().map(|l| WsStep::Text(l.to_string())).collect()
}

async fn next(rx: &mut Receiver<TailEvent>) -> TailEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("tail event in time").expect("tail open")
}

/// Collects events until `n` records arrived (statuses and drops collected too).
async fn collect_records(rx: &mut Receiver<TailEvent>, n: usize) -> (Vec<logsleuth::model::Record>, Vec<TailEvent>) {
    let mut records = Vec::new();
    let mut others = Vec::new();
    while records.len() < n {
        match next(rx).await {
            TailEvent::Records(r) => records.extend(r),
            TailEvent::Failed(e) => panic!("tail failed: {e}"),
            other => others.push(other),
        }
    }
    (records, others)
}

#[tokio::test]
async fn tail_streams_captured_frames_with_auth_tenant_and_categorized_labels() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |_: &Recorded, _| {
            let mut steps = frames("tail_frames_categorized.jsonl");
            steps.push(WsStep::Hold);
            Ok(steps)
        },
    )
    .await;
    let loki = source(&server, r#"{job=~"shop-api|checkout", env="prod"}"#);
    let since = 1795331121241612258;
    let mut rx = loki.tail(TailRequest { query: Query::kql(""), since: Some(since) }).unwrap();
    assert_eq!(next(&mut rx).await, TailEvent::Status("connected".into()));
    let (records, _) = collect_records(&mut rx, 13).await;
    assert_eq!(records.len(), 13, "5 historic + 8 live entries");
    assert!(records.windows(2).take(4).all(|w| w[0].timestamp <= w[1].timestamp), "oldest first");
    let live = records.iter().find(|r| r.message.contains("ord-live-a-3")).unwrap();
    assert_eq!(live.labels.get("job"), Some(&Value::Str("shop-api".into())));
    assert_eq!(live.metadata.get("detected_level"), Some(&Value::Str("error".into())));

    let req = &server.requests_to("/loki/api/v1/tail")[0];
    assert_eq!(req.param("query"), Some(r#"{job=~"shop-api|checkout", env="prod"} | json"#));
    assert_eq!(req.param("start"), Some("1795331121241612258"));
    assert_eq!(req.param("limit"), Some("100"));
    assert_eq!(req.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(req.header("x-scope-orgid"), Some("tenant-1"));
    assert_eq!(req.header("x-loki-response-encoding-flags"), Some("categorize-labels"));
    drop(rx);
}

#[tokio::test]
async fn dropped_entries_are_reported() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |_: &Recorded, _| {
            let mut steps = frames("tail_frames_dropped.jsonl");
            steps.push(WsStep::Hold);
            Ok(steps)
        },
    )
    .await;
    let loki = source(&server, r#"{job="tail-flood"}"#);
    let mut rx = loki.tail(TailRequest { query: Query::native(r#"{job="tail-flood"}"#), since: Some(1795334741276374645) }).unwrap();
    let mut dropped = 0;
    let mut records = 0;
    while dropped < 2000 {
        match next(&mut rx).await {
            TailEvent::Dropped(n) => dropped += n,
            TailEvent::Records(r) => records += r.len(),
            TailEvent::Failed(e) => panic!("{e}"),
            TailEvent::Status(_) => {}
        }
    }
    assert_eq!(dropped, 2000, "two frames with 1000 dropped_entries each");
    assert!(records >= 100 + 52, "entries of the frames before and with the drops: {records}");
}

fn frame(entries: &[(i64, &str)]) -> WsStep {
    let streams: Vec<_> = entries
        .iter()
        .map(|(ts, line)| json!({"stream": {"job": "shop-api", "env": "prod"}, "values": [[ts.to_string(), line, {}]]}))
        .collect();
    WsStep::Text(json!({"streams": streams, "encodingFlags": ["categorize-labels"]}).to_string())
}

#[tokio::test]
async fn reconnects_with_backoff_and_resumes_without_duplicates() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |r: &Recorded, n| match n {
            0 => Ok(vec![frame(&[(1000, "a"), (2000, "b"), (2000, "c")]), WsStep::Drop]),
            // The server is briefly down.
            1 => Err(Reply::Text(503, "Service Unavailable".into())),
            _ => {
                // Resumes from the last timestamp delivered: it comes again with its lines.
                assert_eq!(r.param("start"), Some("2000"));
                assert_eq!(r.param("limit"), Some("5000"));
                Ok(vec![frame(&[(2000, "b"), (2000, "c"), (2000, "d"), (3000, "e")]), WsStep::Hold])
            }
        },
    )
    .await;
    let loki = source(&server, r#"{job="shop-api"}"#);
    let mut rx = loki.tail(TailRequest { query: Query::kql(""), since: Some(500) }).unwrap();
    let (records, others) = collect_records(&mut rx, 5).await;
    let lines: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(lines, ["a", "b", "c", "d", "e"]);
    let statuses: Vec<String> = others
        .into_iter()
        .filter_map(|e| match e {
            TailEvent::Status(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.first().map(String::as_str), Some("connected"));
    assert!(statuses.iter().any(|s| s.starts_with("reconnecting in 20ms")), "{statuses:?}");
    assert!(statuses.iter().any(|s| s.starts_with("reconnecting in 40ms") && s.contains("503")), "backoff doubles: {statuses:?}");
    assert_eq!(statuses.last().map(String::as_str), Some("reconnected"));
    assert_eq!(server.requests_to("/loki/api/v1/tail").len(), 3);
    // Nothing more arrives (no duplicates later).
    assert!(tokio::time::timeout(Duration::from_millis(200), rx.recv()).await.is_err());
}

#[tokio::test]
async fn a_tail_without_stream_selector_is_refused() {
    let server = LokiServer::start(|_: &Recorded| Reply::Text(404, "404 page not found\n".into())).await;
    let loki = source(&server, "");
    for query in [Query::kql(""), Query::native(r#"|= "error""#), Query::native("{}")] {
        match loki.tail(TailRequest { query, since: None }) {
            Err(SourceError::Query(m)) => assert!(m.contains("stream selector"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert!(server.requests().is_empty(), "refused before any request");
}

#[tokio::test]
async fn a_rejected_tail_query_fails_with_the_server_message() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |_: &Recorded, _| Err(Reply::Text(400, fixture("error_parse_pipeline.txt"))),
    )
    .await;
    let loki = source(&server, r#"{job="nginx"}"#);
    let mut rx = loki.tail(TailRequest { query: Query::native(r#"{job="nginx"} | jsn"#), since: None }).unwrap();
    match next(&mut rx).await {
        TailEvent::Failed(SourceError::Query(m)) => assert_eq!(m, "LogQL parse error at line 1, col 20: syntax error: unexpected $end"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests_to("/loki/api/v1/tail").len(), 1, "no retry of a refused query");
}

#[tokio::test]
async fn a_drop_before_any_line_resumes_from_the_original_start() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |_: &Recorded, n| match n {
            0 => Ok(vec![WsStep::Drop]),
            _ => Ok(vec![frame(&[(900, "late")]), WsStep::Hold]),
        },
    )
    .await;
    let loki = source(&server, r#"{job="shop-api"}"#);
    let mut rx = loki.tail(TailRequest { query: Query::kql(""), since: Some(777) }).unwrap();
    let (records, _) = collect_records(&mut rx, 1).await;
    assert_eq!(records[0].message, "late");
    let reqs = server.requests_to("/loki/api/v1/tail");
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].param("start"), reqs[0].param("limit")), (Some("777"), Some("100")));
    assert_eq!((reqs[1].param("start"), reqs[1].param("limit")), (Some("777"), Some("5000")));
}
