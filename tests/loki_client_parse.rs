//! Issue 15: lines fetched raw and parsed here get exactly the fields Loki's parser stage gives
//! them. Checked against real Loki 3.4.6 answers (tests/fixtures/loki): the labels Loki's own
//! `| pattern` matcher extracted, and a `| json` page compared record for record with the same
//! lines parsed by the client.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use logsleuth::formats::pattern::Pattern;
use logsleuth::model::{Record, TimeRange};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{Query, SearchRequest, Source};
use support::loki_server::{LokiServer, Recorded, Reply, fixture, json_fixture, raw_fixture};

const RANGE: TimeRange = TimeRange { from: Some(1795313033558632019), to: Some(1795334716161919916) };

fn source(server: &LokiServer, selector: &str, parser: Option<LogqlParser>) -> LokiSource {
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_millis(800);
    let backoff = Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) };
    LokiSource::new(LokiConfig { http, selector: selector.into(), parser, tenant: None, backoff }).unwrap()
}

fn count(n: u64) -> Reply {
    let body = serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1795334716.161, n.to_string()]}]}});
    Reply::Json(200, body.to_string())
}

#[test]
fn the_pattern_matcher_extracts_what_lokis_did() {
    // The captured query's stage; its answer merges the extracted labels into `stream`.
    let body: serde_json::Value = serde_json::from_str(&fixture("query_range_pattern_parser.json")).unwrap();
    let pattern = Pattern::new(r#"<ip> - - [<_>] "<method> <uri> <_>" <status> <size> "<_>" "<agent>""#).unwrap();
    let names: Vec<&str> = pattern.names().collect();
    let mut lines = 0;
    for stream in body["data"]["result"].as_array().unwrap() {
        let labels = stream["stream"].as_object().unwrap();
        let loki: BTreeMap<&str, &str> =
            labels.iter().filter(|(k, _)| names.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v.as_str().unwrap())).collect();
        for value in stream["values"].as_array().unwrap() {
            let line = value[1].as_str().unwrap();
            let here: BTreeMap<&str, &str> = pattern.captures(line).into_iter().filter(|(_, v)| !v.is_empty()).collect();
            assert_eq!(here, loki, "{line}");
            lines += 1;
        }
    }
    assert_eq!(lines, 30);
}

fn comparable(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| format!("{:?} {:?} {:?} {:?} {:?} {:?}", r.timestamp, r.message, r.labels, r.metadata, r.fields, r.id)).collect()
}

#[tokio::test]
async fn a_json_page_parsed_here_equals_the_page_loki_parsed() {
    let server = LokiServer::start(|r: &Recorded| {
        let q = r.param("query").unwrap_or_default();
        match r.path.as_str() {
            "/loki/api/v1/query_range" if q.contains("| json") => json_fixture("query_range_json_label_filter_categorized.json"),
            "/loki/api/v1/query_range" => raw_fixture("query_range_json_label_filter_categorized.json"),
            "/loki/api/v1/labels" => json_fixture("labels.json"),
            _ => count(20),
        }
    })
    .await;
    let loki = source(&server, r#"{job="shop-api"}"#, Some(LogqlParser::Json));
    let request = |kql: &str| SearchRequest { query: Query::kql(kql), range: RANGE, limit: 20, cursor: None };
    // Free text and stream labels need no parsed field: raw lines, parsed here.
    let here = loki.search(request("host:api-2 or host:api-1")).await.unwrap();
    // A parsed field in the query: Loki parses (the answer is the one captured for it).
    let there = loki.search(request("level:error")).await.unwrap();
    let queries: Vec<String> = server.requests_to("/loki/api/v1/query_range").iter().map(|r| r.param("query").unwrap().to_string()).collect();
    assert_eq!(queries[0], r#"{job="shop-api", host=~"api\\-2|api\\-1"}"#, "stream labels go to the selector; no parser stage");
    assert!(queries[1].contains("| json"), "{queries:?}");
    assert_eq!(here.records.len(), 20);
    assert!(here.records.iter().all(|r| !r.fields.is_empty()), "every line parsed");
    assert_eq!(comparable(&here.records), comparable(&there.records));
    assert_eq!(here.total, there.total);
}
