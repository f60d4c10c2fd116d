//! Issue 16's "done when" through a replayed Loki and a replayed Elasticsearch: the shared nginx
//! log plus the planted burst of `tests/changes_cli.rs` (ten minutes of 502s from a new client
//! address and agent), held by evaluators that answer what logsleuth asks as the servers would
//! (`tests/support/replay_eval.rs`). The real binary runs `compare`, `histogram` and `patterns`
//! against them, so the JSON contracts are what is asserted: the planted status, address and
//! agent rank first and are new, the burst's bucket is the only spike, and the burst's template
//! is a pattern of the window, new in a comparison. Loki is asked with and without a pattern
//! ingester (404: Drain on a sample), Elasticsearch with and without `categorize_text` (the real
//! 400 of a 7.10: Drain on a sample). Requests the evaluators do not understand panic; the key
//! ones are asserted exactly.

mod support;

use std::sync::Arc;

use serde_json::{Value as Json, json};
use support::es_server::EsServer;
use support::loki_server::LokiServer;
use support::replay_eval::{BURST_AGENT, BURST_IP, BURST_LINES, Categorize, EsEval, Ingester, LokiEval, NGINX_STAGE, SELECTOR};

const WINDOW: &str = "2015-05-20T12:00:00Z..2015-05-20T12:10:00Z";
const BASELINE: &str = "2015-05-20T00:00:00Z..2015-05-20T12:00:00Z";
/// nginx's own lines in the burst's ten minutes (every line of an hour is in its minute :05).
const NGINX_IN_WINDOW: u64 = 115;

fn at(s: &str) -> i64 {
    logsleuth::time::parse_absolute(s, None).unwrap()
}

/// Runs the binary off the runtime's threads (the replay servers live on them).
async fn run(args: Vec<String>) -> Json {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(&args).output().expect("binary runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn args(source: &[String], rest: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = rest[..1].iter().map(|s| s.to_string()).collect();
    a.extend(source.iter().cloned());
    a.extend(rest[1..].iter().map(|s| s.to_string()));
    a
}

async fn loki(ingester: Ingester) -> (LokiServer, Vec<String>) {
    let eval = Arc::new(LokiEval { events: support::replay_eval::events(), ingester });
    let server = LokiServer::start(move |r| eval.answer(r)).await;
    let source = vec!["--loki".into(), server.url.clone(), "--selector".into(), SELECTOR.into(), "--parser".into(), "nginx".into()];
    (server, source)
}

async fn es(categorize: Categorize) -> (EsServer, Vec<String>) {
    let eval = Arc::new(EsEval { events: support::replay_eval::events(), categorize });
    let server = EsServer::start(move |r| eval.answer(r)).await;
    let source = vec!["--es".into(), server.url.clone(), "--index".into(), support::replay_eval::INDEX.into()];
    (server, source)
}

/// The same lines as local files (the log and the burst written next to it), with the dir.
fn local_files() -> (Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let burst = dir.path().join("burst.log");
    std::fs::write(&burst, support::replay_eval::burst_lines().join("\n") + "\n").unwrap();
    let nginx = format!("{}/tests/fixtures/local/nginx_logs.gz", env!("CARGO_MANIFEST_DIR"));
    (vec![nginx, burst.display().to_string()], dir)
}

async fn compare(source: &[String]) -> Json {
    run(args(source, &["compare", "--window", WINDOW, "--baseline", BASELINE, "--output", "json"])).await
}

/// The comparison's contract: the planted values first in their fields, new; the burst's
/// template the first pattern, new.
fn assert_planted_first(v: &Json, status: &str, ip: &str, agent: &str) {
    assert_eq!(v["window"]["from"], "2015-05-20T12:00:00Z", "{v}");
    assert_eq!(v["baseline"]["to"], "2015-05-20T12:00:00Z");
    assert_eq!(v["window"]["total"], BURST_LINES as u64 + NGINX_IN_WINDOW, "{v}");
    let first = |field: &str| -> Json {
        let f = v["fields"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap_or_else(|| panic!("{field} in {v}"));
        f["changes"][0].clone()
    };
    for (field, value) in [(status, "502"), (ip, BURST_IP), (agent, BURST_AGENT)] {
        let c = first(field);
        assert_eq!(c["value"], value, "{field}: {v}");
        assert_eq!((c["window"].as_u64(), c["baseline"].as_u64(), &c["new"]), (Some(BURST_LINES as u64), Some(0), &json!(true)), "{field}: {c}");
    }
    for f in v["fields"].as_array().unwrap() {
        let scores: Vec<f64> = f["changes"].as_array().unwrap().iter().map(|c| c["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{f}");
    }
    // Its template is a Drain or Loki-ingester template holding the request line, or an
    // Elasticsearch category (the tokens the messages share: `POST <_> api <_> checkout …`).
    let p = &v["patterns"][0];
    let template = p["pattern"].as_str().unwrap();
    assert!(template.contains("\"POST /api/checkout HTTP/1.1\"") || template.starts_with("POST <_> api <_> checkout"), "{v}");
    assert_eq!(p["new"], true, "{p}");
    assert_eq!(p["window"], BURST_LINES as u64, "{p}");
}

async fn histogram(source: &[String]) -> Json {
    run(args(
        source,
        &["histogram", "--from", "2015-05-20T00:00:00Z", "--to", "2015-05-21T00:00:00Z", "--interval", "10m", "--output", "json"],
    ))
    .await
}

fn assert_only_the_burst_spikes(v: &Json) {
    let buckets = v["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 144, "{v}");
    assert_eq!(v["exact"], true);
    let spikes: Vec<&str> = buckets.iter().filter(|b| b["spike"] == true).map(|b| b["start"].as_str().unwrap()).collect();
    assert_eq!(spikes, ["2015-05-20T12:00:00Z"], "{v}");
    let burst = buckets.iter().find(|b| b["start"] == "2015-05-20T12:00:00Z").unwrap();
    assert_eq!(burst["count"], BURST_LINES as u64 + NGINX_IN_WINDOW);
    assert!(buckets.iter().filter(|b| b["count"].as_u64().unwrap() > 100).count() > 20);
    assert!(buckets.iter().all(|b| b["drop"] == false));
}

async fn patterns(source: &[String]) -> Json {
    run(args(source, &["patterns", "--from", "2015-05-20T12:00:00Z", "--to", "2015-05-20T12:10:00Z", "--output", "json"])).await
}

// ---------------------------------------------------------------------------------------------
// Loki

/// The instant queries of one field's top values in the window.
fn loki_top_queries(label: &str) -> [String; 3] {
    let log = format!("{SELECTOR} {NGINX_STAGE}");
    [
        format!("topk(1000, sum by ({label}) (count_over_time({log} | {label} != \"\" [600s])))"),
        format!("sum(count_over_time({log} [600s]))"),
        format!("sum(count_over_time({log} | {label} != \"\" [600s]))"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_compare_ranks_the_planted_address_agent_and_status_first() {
    for ingester in [Ingester::Absent, Ingester::Present] {
        let (server, source) = loki(ingester).await;
        let v = compare(&source).await;
        assert_planted_first(&v, "status", "remote_addr", "http_user_agent");
        if ingester == Ingester::Absent {
            // Every count, score and pattern is the local file's (Drain mined every line of
            // both windows: no slice of the sample held more than a page).
            let (files, _dir) = local_files();
            pretty_assertions::assert_eq!(v, compare(&files).await);
        }
        // The window's top addresses: Loki's topk over the ten minutes, at the window's end.
        let queries = server.requests_to("/loki/api/v1/query");
        let window_end = at("2015-05-20T12:10:00Z").to_string();
        for q in loki_top_queries("remote_addr") {
            assert!(
                queries.iter().any(|r| r.param("query") == Some(q.as_str()) && r.param("time") == Some(window_end.as_str())),
                "{q} at {window_end} in {:#?}",
                queries.iter().map(|r| (r.param("query"), r.param("time"))).collect::<Vec<_>>()
            );
        }
        let baseline_topk = format!(
            "topk(1000, sum by (status) (count_over_time({SELECTOR} {NGINX_STAGE} | status != \"\" [43200s])))"
        );
        let noon = at("2015-05-20T12:00:00Z").to_string();
        assert!(queries.iter().any(|r| r.param("query") == Some(baseline_topk.as_str()) && r.param("time") == Some(noon.as_str())));
        // The fields' roles were learnt first (a comparison before any search): the labels,
        // Loki's detected fields (none for access-log lines) and a sample of parsed lines.
        assert_eq!(server.requests_to("/loki/api/v1/detected_fields").len(), 1);
        let asked = server.requests_to("/loki/api/v1/patterns");
        assert_eq!(asked.len(), 2, "the window's and the baseline's patterns");
        if ingester == Ingester::Present {
            // The burst's template, counted exactly with Loki's pattern line filter.
            let exact = format!(
                "sum(count_over_time({SELECTOR} |> `<_> - - [<_> +0000] \"POST /api/checkout HTTP/1.1\" <_> <_> \"-\" \"{BURST_AGENT}\"` [600s]))"
            );
            assert!(queries.iter().any(|r| r.param("query") == Some(exact.as_str()) && r.param("time") == Some(window_end.as_str())));
            assert_eq!(
                v["patterns"][0]["pattern"],
                format!("<_> - - [<_> +0000] \"POST /api/checkout HTTP/1.1\" <_> <_> \"-\" \"{BURST_AGENT}\"")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_histogram_flags_the_burst_as_the_only_spike() {
    let (server, source) = loki(Ingester::Absent).await;
    let v = histogram(&source).await;
    assert_only_the_burst_spikes(&v);
    let ranges = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(ranges.len(), 1, "one metric query: {ranges:#?}");
    let r = &ranges[0];
    // An unsplit count needs no parsed label: no parser stage for Loki to run on every line.
    assert_eq!(r.param("query"), Some(format!("sum(count_over_time({SELECTOR} [600s]))").as_str()));
    assert_eq!(r.param("step"), Some("600s"));
    // Evaluated at each bucket's end: Loki counts (t - 10m, t].
    assert_eq!(r.param("start"), Some(at("2015-05-20T00:10:00Z").to_string().as_str()));
    assert_eq!(r.param("end"), Some(at("2015-05-21T00:00:00Z").to_string().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_patterns_show_the_bursts_template() {
    // Without a pattern ingester: Drain over a sample of the window's lines.
    let (server, source) = loki(Ingester::Absent).await;
    let v = patterns(&source).await;
    assert_eq!(v["method"], "drain", "{v}");
    let p = &v["patterns"][0];
    assert_eq!(p["pattern"], format!(r#"<_> - - [<_> <_>] "POST /api/checkout HTTP/1.1" <_> <_> "-" "{BURST_AGENT}""#), "{v}");
    assert_eq!(p["count"], BURST_LINES as u64);
    assert!(p["example"].as_str().unwrap().starts_with(BURST_IP));
    assert_eq!(v["total"], BURST_LINES as u64 + NGINX_IN_WINDOW);
    let logs: Vec<_> = server.requests_to("/loki/api/v1/query_range");
    // Raw lines: the sample is parsed here, not by Loki.
    assert!(!logs.is_empty() && logs.iter().all(|r| r.param("query") == Some(SELECTOR)), "{logs:#?}");

    // With one: its templates, each counted exactly.
    let (server, source) = loki(Ingester::Present).await;
    let v = patterns(&source).await;
    assert_eq!(v["method"], "loki", "{v}");
    assert_eq!(v["exact"], true);
    let p = &v["patterns"][0];
    assert_eq!(p["pattern"], format!(r#"<_> - - [<_> +0000] "POST /api/checkout HTTP/1.1" <_> <_> "-" "{BURST_AGENT}""#), "{v}");
    assert_eq!(p["count"], BURST_LINES as u64);
    let asked = server.requests_to("/loki/api/v1/patterns");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].param("query"), Some(SELECTOR));
    assert_eq!(asked[0].param("start"), Some(at("2015-05-20T12:00:00Z").to_string().as_str()));
    assert_eq!(asked[0].param("end"), Some(at("2015-05-20T12:10:00Z").to_string().as_str()));
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch

fn es_range(from: &str, to: &str) -> Json {
    json!({"bool": {"filter": [{"range": {"@timestamp": {"gte": from, "lt": to, "format": "strict_date_optional_time"}}}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_compare_ranks_the_planted_address_agent_and_status_first() {
    for categorize in [Categorize::Refused, Categorize::Categories] {
        let (server, source) = es(categorize).await;
        let v = compare(&source).await;
        assert_planted_first(&v, "status", "clientip", "user_agent");
        if categorize == Categorize::Refused {
            // The local file's comparison, under the index's field names.
            let (files, _dir) = local_files();
            let mut local = compare(&files).await;
            for f in local["fields"].as_array_mut().unwrap() {
                let renamed = match f["field"].as_str().unwrap() {
                    "remote_addr" => "clientip",
                    "http_user_agent" => "user_agent",
                    other => other,
                };
                f["field"] = renamed.into();
            }
            pretty_assertions::assert_eq!(v, local);
        }
        let bodies = server.bodies("/nginx-access/_search");
        let window = es_range("2015-05-20T12:00:00.000Z", "2015-05-20T12:10:00.000Z");
        let status_terms = json!({"size": 0, "track_total_hits": true, "query": window, "aggs": {"top": {"terms": {"field": "status", "size": 1000}}}});
        assert!(bodies.contains(&status_terms), "{status_terms} in {bodies:#?}");
        let categorize_asked = bodies.iter().filter(|b| b.pointer("/aggs/patterns/categorize_text").is_some()).count();
        assert_eq!(categorize_asked, 2, "the window's and the baseline's categories");
        if categorize == Categorize::Categories {
            assert_eq!(v["patterns"][0]["pattern"], "POST <_> api <_> checkout <_> HTTP <_> EvilBot", "{v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_histogram_flags_the_burst_as_the_only_spike() {
    let (server, source) = es(Categorize::Categories).await;
    let v = histogram(&source).await;
    assert_only_the_burst_spikes(&v);
    let bodies = server.bodies("/nginx-access/_search");
    assert_eq!(
        bodies,
        [json!({"size": 0, "track_total_hits": true, "query": es_range("2015-05-20T00:00:00.000Z", "2015-05-21T00:00:00.000Z"),
            "aggs": {"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m", "min_doc_count": 0}}}})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_patterns_show_the_bursts_template() {
    // Elasticsearch 7.10 refuses categorize_text: Drain over a sample of the window's pages.
    let (server, source) = es(Categorize::Refused).await;
    let v = patterns(&source).await;
    assert_eq!(v["method"], "drain", "{v}");
    let p = &v["patterns"][0];
    assert_eq!(p["pattern"], format!(r#"<_> - - [<_> <_>] "POST /api/checkout HTTP/1.1" <_> <_> "-" "{BURST_AGENT}""#), "{v}");
    assert_eq!(p["count"], BURST_LINES as u64);
    assert_eq!(v["total"], BURST_LINES as u64 + NGINX_IN_WINDOW);
    let bodies = server.bodies("/nginx-access/_search");
    assert!(bodies[0].pointer("/aggs/patterns/categorize_text").is_some());
    assert!(bodies[1..].iter().all(|b| b.get("aggs").is_none()), "then pages of lines");

    // A server with categorize_text: its categories.
    let (server, source) = es(Categorize::Categories).await;
    let v = patterns(&source).await;
    assert_eq!(v["method"], "elasticsearch", "{v}");
    assert_eq!(v["exact"], true);
    let p = &v["patterns"][0];
    assert_eq!(p["pattern"], "POST <_> api <_> checkout <_> HTTP <_> EvilBot", "{v}");
    assert_eq!(p["count"], BURST_LINES as u64);
    assert!(p["example"].as_str().unwrap().starts_with(BURST_IP), "{p}");
    let bodies = server.bodies("/nginx-access/_search");
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["aggs"]["patterns"]["categorize_text"], json!({"field": "message", "size": 20}), "{}", bodies[0]);
}

/// Split by status class, each backend's split aggregation (Loki `sum by (status)` of the
/// parsed label, an ES `terms` sub-aggregation per bucket) gives the burst's 502s as the `5xx`
/// series, the burst's bucket stays the only spike (by its `5xx`), and every bucket is the one
/// the local file gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_class_split_is_the_local_files_and_flags_the_bursts_5xx() {
    let split = |source: &[String]| {
        args(
            source,
            &["histogram", "--from", "2015-05-20T00:00:00Z", "--to", "2015-05-21T00:00:00Z", "--interval", "10m", "--split-by", "status_class", "--output", "json"],
        )
    };
    let (files, _dir) = local_files();
    let local = run(split(&files)).await;
    let (loki_server, loki_source) = loki(Ingester::Absent).await;
    let (es_server, es_source) = es(Categorize::Categories).await;
    for (name, v) in [("loki", run(split(&loki_source)).await), ("elasticsearch", run(split(&es_source)).await)] {
        assert_eq!(v, local, "{name}");
        let spikes: Vec<(&str, &Json)> = v["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["spike"] == true)
            .map(|b| (b["start"].as_str().unwrap(), &b["spike_series"]))
            .collect();
        assert_eq!(spikes, [("2015-05-20T12:00:00Z", &json!(["5xx"]))], "{name}");
        let burst = v["buckets"].as_array().unwrap().iter().find(|b| b["start"] == "2015-05-20T12:00:00Z").unwrap();
        assert_eq!(burst["split"], json!({"2xx": 16, "3xx": 36, "4xx": 63, "5xx": 300}), "{name}");
    }
    let metric = loki_server.requests_to("/loki/api/v1/query_range").into_iter().find(|r| r.param("step").is_some()).unwrap();
    assert_eq!(metric.param("query"), Some(format!("sum by (status) (count_over_time({SELECTOR} {NGINX_STAGE} [600s]))").as_str()));
    assert_eq!(
        es_server.bodies("/nginx-access/_search"),
        [json!({"size": 0, "track_total_hits": true, "query": es_range("2015-05-20T00:00:00.000Z", "2015-05-21T00:00:00.000Z"),
            "aggs": {"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m", "min_doc_count": 0},
                "aggs": {"split": {"terms": {"field": "status", "size": 100}}}}}})]
    );
}
