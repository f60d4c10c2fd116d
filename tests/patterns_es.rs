//! Issue 16: log patterns through Elasticsearch. A server with `categorize_text` (Elasticsearch
//! ≥ 7.16) categorizes every matching document itself: the request body is asserted exactly,
//! and the answer (in the shape the Elasticsearch reference documents for the aggregation, with
//! its `date_histogram` and `top_hits` sub-aggregations; no captured answer of it exists in
//! `../shared/fixtures`) becomes templates with sparklines and examples. A server without it
//! (here an Elasticsearch 7.10 answering the real `parsing_exception` 400 of `reference/error_parsing_exception_400.json`)
//! falls back to Drain over a sample of its pages (the real Quickwit page of
//! `quickwit/search_sort_desc_page1.json`).

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::es_server::{EsServer, Recorded, Reply, cluster_info, fixture};

use logsleuth::model::TimeRange;
use logsleuth::sources::elasticsearch::{EsConfig, EsSource};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::patterns::PatternsRequest;
use logsleuth::sources::{Query, Source};
use logsleuth::time::parse_absolute;
use logsleuth_core::patterns::PatternMethod;

const CAPS: &str = "/nginx-access/_field_caps?fields=*";
const SEARCH: &str = "/nginx-access/_search";

fn at(s: &str) -> i64 {
    parse_absolute(s, None).unwrap()
}

fn source(url: &str) -> EsSource {
    let mut http = HttpConfig::new(url).unwrap();
    http.timeout = Duration::from_secs(5);
    EsSource::new(EsConfig::new(http, "nginx-access")).unwrap()
}

fn request() -> PatternsRequest {
    PatternsRequest {
        query: Query::kql("status >= 400"),
        range: TimeRange::between(at("2026-11-22T07:00:00Z"), at("2026-11-22T08:00:00Z")),
        size: 10,
        target_buckets: 6,
    }
}

/// Two categories of the hour, in the documented answer shape, bucketed on the request's grid.
fn categories(body: &Json) -> Json {
    let over_time = |counts: [u64; 6]| {
        let buckets: Vec<Json> = counts
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"key_as_string": "", "key": at("2026-11-22T07:00:00Z") / 1_000_000 + i as i64 * 600_000, "doc_count": n}))
            .collect();
        json!({"buckets": buckets})
    };
    assert_eq!(body["aggs"]["patterns"]["aggs"]["over_time"]["date_histogram"]["fixed_interval"], "10m");
    json!({
        "took": 41, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 1210, "relation": "eq"}, "max_score": null, "hits": []},
        "aggregations": {"patterns": {"buckets": [
            {"doc_count": 1000, "key": "GET downloads product HTTP Debian APT-HTTP",
             "regex": ".*?GET.+?downloads.+?product.+?HTTP.+?Debian.+?APT-HTTP.*?", "max_matching_length": 190,
             "over_time": over_time([170, 160, 170, 160, 170, 170]),
             "example": {"hits": {"total": {"value": 1000, "relation": "eq"}, "max_score": 1.0, "hits": [
                 {"_index": "nginx-access", "_id": "a1", "_score": 1.0, "_source": {"message":
                     "93.180.71.3 - - [22/Nov/2026:07:05:32 +0000] \"GET /downloads/product_1 HTTP/1.1\" 404 0 \"-\" \"Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)\""}}]}}},
            {"doc_count": 210, "key": "POST api checkout HTTP EvilBot",
             "regex": ".*?POST.+?api.+?checkout.+?HTTP.+?EvilBot.*?", "max_matching_length": 120,
             "over_time": over_time([0, 0, 0, 0, 210, 0]),
             "example": {"hits": {"total": {"value": 210, "relation": "eq"}, "max_score": 1.0, "hits": [
                 {"_index": "nginx-access", "_id": "b7", "_score": 1.0, "_source": {"message":
                     "203.0.113.77 - - [22/Nov/2026:07:41:02 +0000] \"POST /api/checkout HTTP/1.1\" 502 157 \"-\" \"EvilBot/9.9\""}}]}}}
        ]}}
    })
}

#[tokio::test]
async fn elasticsearch_categorizes_every_document_with_categorize_text() {
    let server = EsServer::start(|r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(None, "8.13.4"),
        ("GET", CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", SEARCH) => Reply::json(categories(r.body.as_ref().unwrap())),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let result = source(&server.url).patterns(request()).await.unwrap();
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies.len(), 1, "one request: the server counts every document");
    assert_eq!(
        bodies[0],
        json!({"size": 0, "track_total_hits": true,
            "query": {"bool": {"filter": [
                {"bool": {"should": [{"range": {"status": {"gte": "400"}}}], "minimum_should_match": 1}},
                {"range": {"@timestamp": {"gte": "2026-11-22T07:00:00.000Z", "lt": "2026-11-22T08:00:00.000Z", "format": "strict_date_optional_time"}}}
            ]}},
            "aggs": {"patterns": {
                "categorize_text": {"field": "message", "size": 10},
                "aggs": {
                    "over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m", "min_doc_count": 0,
                        "extended_bounds": {"min": at("2026-11-22T07:00:00Z") / 1_000_000, "max": at("2026-11-22T08:00:00Z") / 1_000_000 - 1}}},
                    "example": {"top_hits": {"size": 1, "_source": {"includes": ["message"]}}}
                }
            }}})
    );
    assert_eq!(result.method, PatternMethod::Elasticsearch);
    assert!(result.exact, "every document counted by the server");
    assert_eq!(result.total, 1210);
    let patterns: Vec<(&str, u64)> = result.patterns.iter().map(|p| (p.pattern.as_str(), p.count)).collect();
    assert_eq!(patterns, [("GET <_> downloads <_> product <_> HTTP <_> Debian <_> APT-HTTP", 1000), ("POST <_> api <_> checkout <_> HTTP <_> EvilBot", 210)]);
    let burst = &result.patterns[1];
    assert!(burst.example.starts_with("203.0.113.77 - - "), "{:?}", burst.example);
    let sparkline: Vec<u64> = burst.samples.iter().map(|s| s.1).collect();
    assert_eq!(sparkline, [0, 0, 0, 0, 210, 0]);
    assert_eq!(burst.samples[4].0, at("2026-11-22T07:40:00Z") / 1_000_000_000);
}

#[tokio::test]
async fn a_server_without_categorize_text_falls_back_to_drain_over_a_sample() {
    let server = EsServer::start(|r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        // Elasticsearch 7.10: before categorize_text (7.16).
        ("GET", "/") => cluster_info(None, "7.10.2"),
        ("GET", CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", SEARCH) if r.body.as_ref().is_some_and(|b| b.pointer("/aggs/patterns/categorize_text").is_some()) => {
            Reply::fixture(400, "reference/error_parsing_exception_400.json")
        }
        ("POST", SEARCH) => Reply::json(fixture("quickwit/search_sort_desc_page1.json")),
        // No point in time here (Quickwit's real 404): the sample pages with plain searches.
        ("POST", p) if p.contains("point_in_time") || p.contains("_pit") => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let result = source(&server.url).patterns(request()).await.unwrap();
    assert_eq!(result.method, PatternMethod::Drain);
    assert!(!result.exact, "a sample's counts are estimates");
    assert!(!result.patterns.is_empty());
    let bodies = server.bodies(SEARCH);
    assert!(bodies[0].pointer("/aggs/patterns/categorize_text").is_some(), "categorize_text asked first");
    assert!(bodies[1..].iter().all(|b| b.get("aggs").is_none() && b["size"].as_u64().is_some_and(|n| n > 0)), "then pages of lines");
}
