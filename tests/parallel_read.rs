//! `query --parallel N` (issue 15): a long range read as N time slices at once gives exactly the
//! lines of a read page after page, on a replayed Loki holding the shared nginx log
//! (`tests/support/replay_eval.rs`, answering ranges, limits and `direction` as Loki does; the
//! same lines in the same order) and a replayed Elasticsearch-compatible index of the same
//! lines on 20 crowded seconds (every line once, the same seconds in the same order). The
//! ranges put slice edges on seconds that hold many lines, where a slice that is not half-open
//! would lose or repeat them.

mod support;

use std::sync::Arc;

use support::loki_server::LokiServer;
use support::replay_eval::{Ingester, LokiEval, SELECTOR};

/// Runs `query` off the runtime's threads (the replay servers live on them); its stdout lines.
async fn query(source: &[String], rest: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["query".into()];
    args.extend(source.iter().cloned());
    args.extend(rest.iter().map(|s| s.to_string()));
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(&args).output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

/// A range [T − 1 d, T + 3 d) with T a second holding several lines: four slices have an edge
/// on T. Its bounds, and the events inside, newest first.
fn range_with_a_crowded_edge() -> (String, String, Vec<support::replay_eval::Event>) {
    let events = support::replay_eval::events();
    let day = 86_400 * logsleuth::time::NS_PER_SEC;
    let t = events.windows(3).find(|w| w[0].ts == w[1].ts && w[1].ts == w[2].ts).map(|w| w[0].ts).expect("three lines in one second");
    let inside: Vec<_> = events.into_iter().filter(|e| e.ts >= t - day && e.ts < t + 3 * day).rev().collect();
    (logsleuth::time::format_rfc3339(t - day), logsleuth::time::format_rfc3339(t + 3 * day), inside)
}

async fn same_lines_either_way(source: Vec<String>) {
    let (from, to, inside) = range_with_a_crowded_edge();
    assert!(inside.len() > 5000, "more than a page: {}", inside.len());
    let run = |parallel: &'static str| {
        let (source, from, to) = (source.clone(), from.clone(), to.clone());
        async move { query(&source, &["--from", &from, "--to", &to, "--limit", "100000", "--output", "raw", "--parallel", parallel]).await }
    };
    let one = run("1").await;
    let expected: Vec<&str> = inside.iter().map(|e| e.line.as_str()).collect();
    // The sequential read is the reference; it holds every line once, newest first (ties on
    // one second in the server's order, so compared as sets per second below).
    assert_eq!(one.len(), expected.len());
    let mut a = one.clone();
    let mut b: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the sequential read holds every line of the range once");
    for n in ["4", "7"] {
        assert_eq!(run(n).await, one, "--parallel {n}");
    }
    // A limit below the range's lines: the newest ones, as the sequential read gives them.
    let newest = query(&source, &["--from", &from, "--to", &to, "--limit", "1500", "--output", "raw", "--parallel", "4"]).await;
    assert_eq!(newest, one[..1500].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_slices_give_the_lines_of_one_read() {
    let eval = Arc::new(LokiEval { events: support::replay_eval::events(), ingester: Ingester::Absent });
    let server = LokiServer::start(move |r| eval.answer(r)).await;
    let source = vec!["--loki".into(), server.url.clone(), "--selector".into(), SELECTOR.into(), "--parser".into(), "nginx".into()];
    same_lines_either_way(source).await;
    // The slices were asked as slices: lines from each edge T, T + 1 d, T + 2 d (a read page
    // after page always starts at T − 1 d).
    let (from, _, _) = range_with_a_crowded_edge();
    let day = 86_400 * logsleuth::time::NS_PER_SEC;
    let t = logsleuth::time::parse_absolute(&from, None).unwrap() + day;
    let starts: std::collections::BTreeSet<String> = server
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .filter(|r| r.param("step").is_none())
        .map(|r| r.param("start").unwrap().to_string())
        .collect();
    for edge in [t, t + day, t + 2 * day] {
        assert!(starts.contains(&edge.to_string()), "no slice from {edge}: {starts:?}");
    }
}

/// Elasticsearch through the captured `nginx-ties` index (51,462 real lines on 20 whole
/// seconds, ~2,600 each; `tests/support/es_server.rs`), whose ties come back in an order that
/// depends on the page size: four slices of five seconds have their edges on crowded seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_slices_read_every_line_once_on_crowded_edges() {
    use serde_json::Value as Json;
    use support::es_server::{TiedIndex, nginx_lines, tied_index_server};
    let first = chrono::DateTime::parse_from_rfc3339("2026-12-01T19:36:35Z").unwrap().timestamp_millis();
    let server = tied_index_server(Arc::new(TiedIndex::new(nginx_lines(), first, 20, true))).await;
    let source = vec!["--es".to_string(), server.url.clone(), "--index".into(), "nginx-ties".into()];
    let read = |parallel: &'static str, limit: &'static str| {
        let source = source.clone();
        async move {
            query(&source, &["--from", "2026-12-01T19:36:35Z", "--to", "2026-12-01T19:36:55Z", "--limit", limit, "--output", "ndjson", "--parallel", parallel])
                .await
        }
    };
    let stamp = |line: &String| serde_json::from_str::<Json>(line).unwrap()["@timestamp"].as_str().unwrap().to_string();
    let one = read("1", "60000").await;
    let four = read("4", "60000").await;
    assert_eq!(four.len(), 51_462);
    let (mut a, mut b) = (one.clone(), four.clone());
    a.sort();
    b.sort();
    assert!(a == b, "every line once either way");
    let stamps: Vec<String> = four.iter().map(stamp).collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first across the slices");
    assert_eq!(stamps, one.iter().map(stamp).collect::<Vec<_>>(), "the same seconds in the same order");
    // A limit inside the newest slice: that slice's newest lines, the others not read past a page.
    let newest = read("4", "3000").await;
    assert_eq!(newest.iter().map(stamp).collect::<Vec<_>>(), stamps[..3000].to_vec());
}
