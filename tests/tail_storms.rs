//! Live tails through an HTTP 429/500/502/503/504 storm, against the replay servers in
//! tests/support/: each failure reaches the tail's status line naming the status, the
//! requests the server receives are spaced by a growing backoff (measured on the server side),
//! and the tail recovers when the server does, losing and repeating nothing. Elasticsearch's
//! tail polls (each poll retries transient statuses itself); Loki's is a websocket whose
//! upgrade is refused during the storm.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logsleuth::sources::elasticsearch::{EsConfig, EsSource, RetryPolicy};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{Query, Source, TailEvent, TailRequest};
use serde_json::json;
use support::es_server::{self, Dataset, EsServer};
use support::loki_server::{self, LokiServer, WsStep};

/// Collects tail events until `done` holds for the records so far, or fails after `patience`.
async fn collect(
    rx: &mut tokio::sync::mpsc::Receiver<TailEvent>,
    patience: Duration,
    done: impl Fn(&[String]) -> bool,
) -> (Vec<String>, Vec<String>) {
    let (mut records, mut statuses) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + patience;
    while !done(&records) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(TailEvent::Records(r))) => records.extend(r.into_iter().map(|r| r.message)),
            Ok(Some(TailEvent::Status(s))) => statuses.push(s),
            Ok(Some(other)) => panic!("unexpected {other:?} (statuses {statuses:?})"),
            Ok(None) => panic!("the tail ended: {statuses:?}"),
            Err(_) => panic!("the tail did not recover within {patience:?}: records {records:?}, statuses {statuses:?}"),
        }
    }
    (records, statuses)
}

/// Gaps between consecutive instants.
fn gaps(times: &[Instant]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// At least `want`, with a little slack for timer granularity.
fn at_least(gap: Duration, want: Duration) -> bool {
    gap + Duration::from_millis(3) >= want
}

#[tokio::test]
async fn the_es_tail_backs_off_through_a_status_storm_and_recovers() {
    let base = 1_795_335_000_000_i64;
    // The search requests, in order: one answer, a storm, then answers again with a document
    // written meanwhile. One poll = one request plus up to 3 retries of a 429/502/503/504.
    let storm: [u16; 9] = [429, 429, 429, 429, 502, 503, 504, 503, 500];
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = times.clone();
    let server = EsServer::start(move |r: &es_server::Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => es_server::quickwit_info(),
        ("GET", p) if p.contains("_field_caps") => es_server::Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/nginx-access/_search") => {
            let n = {
                let mut times = seen.lock().unwrap();
                times.push(Instant::now());
                times.len() - 1
            };
            match n.checked_sub(1).and_then(|i| storm.get(i)) {
                Some(&status) => es_server::Reply { status, body: format!("storm {status}"), delay: None, fault: None },
                None => {
                    let docs = if n == 0 { vec![(base, 1)] } else { vec![(base, 1), (base + 10, 2)] };
                    es_server::Reply::json(Dataset { docs, with_ids: false }.search(r.body.as_ref().unwrap()))
                }
            }
        }
        _ => es_server::Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await;
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let mut config = EsConfig::new(http, "nginx-access");
    config.retry = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(20), max_delay: Duration::from_millis(80) };
    let interval = Duration::from_millis(100);
    config.tail_interval = interval;
    let es = EsSource::new(config).unwrap();
    let mut rx = es.tail(TailRequest { query: Query::kql(""), since: Some(base * 1_000_000) }).unwrap();

    let (records, mut statuses) = collect(&mut rx, Duration::from_secs(10), |r| r.len() >= 2).await;
    assert_eq!(records, ["line 1", "line 2"], "each document once, the second after the storm");
    // The rate line that follows the recovered poll.
    while statuses.last().is_none_or(|s| !s.starts_with("live: ")) {
        match tokio::time::timeout(ms(1000), rx.recv()).await {
            Ok(Some(TailEvent::Status(s))) => statuses.push(s),
            other => panic!("no rate line after the recovery: {other:?}, {statuses:?}"),
        }
    }
    println!("{statuses:#?}");
    let failures: Vec<&String> = statuses.iter().filter(|s| s.starts_with("poll failed")).collect();
    assert_eq!(failures.len(), 3, "one status per failed poll: {statuses:?}");
    assert!(failures[0].contains("429") && failures[0].contains("still rejected after 3 retries"), "{}", failures[0]);
    assert!(failures[1].contains("503") && failures[1].contains("still unavailable after 3 retries"), "{}", failures[1]);
    assert!(failures[2].contains("500") && failures[2].contains("storm 500"), "{}", failures[2]);
    assert!(failures.iter().all(|s| s.ends_with("retrying in 0.1s")), "{failures:?}");
    let recovered = statuses.iter().rposition(|s| s.starts_with("live: ")).expect("a live rate after recovery");
    assert!(recovered > statuses.iter().rposition(|s| s.starts_with("poll failed")).unwrap(), "{statuses:?}");

    // Server-side spacing: requests 1-4 are one poll (20, 40, 80 ms apart: doubling), 5-8 the
    // next poll after the interval, 9 (a 500, not retried) a poll on its own, 10 the recovery.
    let times = times.lock().unwrap().clone();
    assert!(times.len() >= 11, "{} requests", times.len());
    let g = gaps(&times[..11]);
    println!("ES request gaps: {g:?}");
    let want = [interval, ms(20), ms(40), ms(80), interval, ms(20), ms(40), ms(80), interval, interval];
    for (i, (gap, want)) in g.iter().zip(want).enumerate() {
        assert!(at_least(*gap, want), "gap {i} after request {i} is {gap:?}, expected at least {want:?}: {g:?}");
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn tail_frame(ts: i64) -> WsStep {
    let line = format!("10.0.0.1 - - [22/Nov/2026:08:00:00 +0000] \"GET /{ts} HTTP/1.1\" 200 1 \"-\" \"-\"");
    WsStep::Text(json!({"streams": [{"stream": {"job": "nginx"}, "values": [[ts.to_string(), line]]}]}).to_string())
}

#[tokio::test]
async fn the_loki_tail_backs_off_through_a_refused_upgrade_storm_and_recovers() {
    // Connection 0 delivers a line and drops; the next five upgrades are refused with each
    // storm status; the seventh resumes (sending the delivered line again, as Loki does from
    // the resume point) and adds a new one.
    let storm: [u16; 5] = [429, 502, 503, 504, 500];
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = times.clone();
    let server = LokiServer::start_with_tail(
        |_: &loki_server::Recorded| loki_server::Reply::Text(404, "404 page not found\n".into()),
        move |_, n| {
            seen.lock().unwrap().push(Instant::now());
            match n {
                0 => Ok(vec![tail_frame(1000), WsStep::Drop]),
                n if n <= storm.len() => Err(loki_server::Reply::Text(storm[n - 1], format!("storm {}\n", storm[n - 1]))),
                _ => Ok(vec![tail_frame(1000), tail_frame(2000), WsStep::Hold]),
            }
        },
    )
    .await;
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let backoff = Backoff { initial: ms(20), max: ms(200) };
    let loki = LokiSource::new(LokiConfig { http, selector: r#"{job="nginx"}"#.into(), parser: Some(LogqlParser::Nginx), tenant: None, backoff }).unwrap();
    let mut rx = loki.tail(TailRequest { query: Query::kql(""), since: Some(1) }).unwrap();

    let (records, statuses) = collect(&mut rx, Duration::from_secs(10), |r| r.len() >= 2).await;
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records[0].contains("/1000 ") && records[1].contains("/2000 "), "{records:?}");
    println!("{statuses:#?}");
    let reconnecting: Vec<&String> = statuses.iter().filter(|s| s.starts_with("reconnecting in")).collect();
    assert_eq!(reconnecting.len(), 6, "{statuses:?}");
    for (status, (delay, code)) in reconnecting[1..].iter().zip([("40ms", 429), ("80ms", 502), ("160ms", 503), ("200ms", 504), ("200ms", 500)]) {
        assert!(status.starts_with(&format!("reconnecting in {delay} ")) && status.contains(&code.to_string()), "{status} (want {delay}, {code})");
    }
    assert_eq!(statuses.last().map(String::as_str), Some("reconnected"));

    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 7, "one connection, five refused upgrades, the recovery");
    let g = gaps(&times);
    println!("Loki connection gaps: {g:?}");
    for (i, (gap, want)) in g.iter().zip([ms(20), ms(40), ms(80), ms(160), ms(200), ms(200)]).enumerate() {
        assert!(at_least(*gap, want), "gap {i} is {gap:?}, expected at least {want:?}: {g:?}");
    }
    // No late duplicate of the line sent again on resume.
    let late = tokio::time::timeout(ms(300), async {
        loop {
            match rx.recv().await {
                Some(TailEvent::Records(r)) => return r,
                Some(_) => continue,
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    assert!(late.is_err(), "late records: {late:?}");
}
