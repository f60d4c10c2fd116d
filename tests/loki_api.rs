//! The Loki source against an in-process replay server: exact requests (paths, parameters,
//! headers, LogQL text) and real captured answers (tests/fixtures/loki, Loki 3.4.6).

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use logsleuth::model::{TimeRange, Value};
use logsleuth::sources::http::{Auth, HttpConfig, Secret};
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{
    FieldKind, FieldOrigin, HistogramRequest, HitCount, Query, SearchRequest, Source, SourceError, Split, TopRequest,
};
use serde_json::json;
use support::loki_server::{LokiServer, Recorded, Reply, fixture, json_fixture, raw_fixture};

/// The capture window of the fixtures (README: start/end of every captured request).
const START: i64 = 1795313033558632019;
const END: i64 = 1795334716161919916;
const RANGE: TimeRange = TimeRange { from: Some(START), to: Some(END) };

fn source(server: &LokiServer, selector: &str, parser: Option<LogqlParser>) -> LokiSource {
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_millis(800);
    let backoff = Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) };
    LokiSource::new(LokiConfig { http, selector: selector.into(), parser, tenant: None, backoff }).unwrap()
}

fn vector(value: u64) -> Reply {
    Reply::Json(
        200,
        json!({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1795334716.161, value.to_string()]}]}})
            .to_string(),
    )
}

fn search(query: Query, limit: usize) -> SearchRequest {
    SearchRequest { query, range: RANGE, limit, cursor: None }
}

#[tokio::test]
async fn search_sends_a_categorized_backward_query_with_tenant_and_auth() {
    // No condition on a parsed field: the lines are asked for raw (Loki answers them without
    // `parsed`) and the `| json` stage runs here.
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/query_range" => raw_fixture("query_range_json_label_filter_categorized.json"),
        "/loki/api/v1/query" => vector(11_123),
        _ => Reply::Text(404, "404 page not found\n".into()),
    })
    .await;
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.auth = Auth::Bearer(Secret::new("s3cret-token"));
    http.headers.push(("X-Scope-OrgID".into(), "team-a".into()));
    let loki = LokiSource::new(LokiConfig {
        http,
        selector: r#"{job="shop-api"}"#.into(),
        parser: Some(LogqlParser::Json),
        tenant: Some("team-a".into()),
        backoff: Default::default(),
    })
    .unwrap();

    let page = loki.search(search(Query::kql(""), 20)).await.unwrap();

    let reqs = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(reqs.len(), 1, "forced parser: no detection request");
    let r = &reqs[0];
    assert_eq!(r.param("query"), Some(r#"{job="shop-api"}"#), "no parser stage when nothing filters on a parsed field");
    assert_eq!(r.param("direction"), Some("backward"));
    assert_eq!(r.param("limit"), Some("20"));
    assert_eq!(r.param("start"), Some("1795313033558632019"));
    assert_eq!(r.param("end"), Some("1795334716161919916"));
    assert_eq!(r.header("X-Loki-Response-Encoding-Flags"), Some("categorize-labels"));
    assert_eq!(r.header("X-Scope-OrgID"), Some("team-a"));
    assert_eq!(r.header("Authorization"), Some("Bearer s3cret-token"));
    let total = &server.requests_to("/loki/api/v1/query")[0];
    assert_eq!(total.param("query"), Some(r#"sum(count_over_time({job="shop-api"} [21682603ms]))"#));
    assert_eq!(total.param("time"), Some("1795334716161919916"));

    assert_eq!(page.total, Some(HitCount::Exact(11_123)));
    assert_eq!(page.records.len(), 20);
    assert!(page.next.is_some(), "a full page has a next page");
    assert_eq!(page.records[0].timestamp, Some(1795330182065030987), "newest of both streams first");
    let first = page.records.iter().find(|r| r.timestamp == Some(1795330180483113158)).unwrap();
    assert_eq!(first.labels.get("job"), Some(&Value::Str("shop-api".into())));
    assert_eq!(first.labels.get("host"), Some(&Value::Str("api-2".into())));
    assert_eq!(first.metadata.get("detected_level"), Some(&Value::Str("error".into())));
    // Parsed here, as Loki's `| json` would: nested keys joined by `_`, numbers typed.
    assert_eq!(first.fields.get("status"), Some(&Value::Int(504)));
    assert_eq!(first.fields.get("client_ip"), Some(&Value::Str("203.0.113.224".into())));
    assert_eq!(first.fields.get("error_retryable"), Some(&Value::Str("true".into())));
    assert!(first.labels.get("status").is_none() && first.fields.get("job").is_none());
    // Newest first across the two streams of the answer.
    assert!(page.records.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
    let roles = loki.info().roles;
    assert_eq!(roles.status.as_deref(), Some("status"));
    assert_eq!(roles.level.as_deref(), Some("level"));
    assert!(!format!("{:?}", loki.info()).contains("s3cret"));
    assert!(!format!("{loki:?}").contains("s3cret"), "secrets never in Debug output");
    assert_eq!(loki.info().description, format!("{} {{job=\"shop-api\"}} (tenant team-a)", server.url));
    assert_eq!(loki.info().warning, None);
}

#[tokio::test]
async fn parser_is_detected_once_from_a_sample_of_lines() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        _ => vector(100),
    })
    .await;
    let loki = source(&server, r#"{job="nginx"}"#, None);
    // The first page is the sample: nothing is asked before it.
    let page = loki.search(search(Query::kql(""), 100)).await.unwrap();
    assert_eq!(loki.parser(), Some(LogqlParser::Nginx));
    assert_eq!(server.requests_to("/loki/api/v1/query_range").len(), 1, "no detection request before the first page");
    let first = &page.records[0];
    assert_eq!(first.fields.get("status"), Some(&Value::Int(200)), "{first:?}");
    assert_eq!(first.fields.get("remote_addr"), Some(&Value::Str("79.136.114.202".into())));
    assert!(first.fields.get("request").is_none(), "the fields of Loki's nginx pattern, not the local parser's extras");
    assert_eq!(loki.info().roles.status.as_deref(), Some("status"));
    loki.search(search(Query::kql(""), 100)).await.unwrap();
    // A condition on a parsed field needs the stage on Loki: known by now, so not asked again.
    loki.search(search(Query::kql("status:404"), 100)).await.unwrap();
    let reqs = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(reqs.len(), 3, "three searches, no detection sample");
    assert_eq!(reqs[0].param("query"), Some(r#"{job="nginx"}"#));
    assert_eq!(reqs[1].param("query"), Some(r#"{job="nginx"}"#));
    let filtered = reqs[2].param("query").unwrap();
    assert!(filtered.starts_with(r#"{job="nginx"} | pattern `<remote_addr> - <remote_user> ["#), "{filtered}");
    assert!(filtered.ends_with(r#"| status="404""#), "{filtered}");
}

#[tokio::test]
async fn a_page_smaller_than_the_sample_detects_beside_it() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        _ => vector(100),
    })
    .await;
    let loki = source(&server, r#"{job="nginx"}"#, None);
    let page = loki.search(search(Query::kql(""), 10)).await.unwrap();
    let reqs = server.requests_to("/loki/api/v1/query_range");
    let mut limits: Vec<&str> = reqs.iter().filter_map(|r| r.param("limit")).collect();
    limits.sort();
    assert_eq!(limits, ["10", "50"], "the page and the 50-line sample, at once");
    assert!(reqs.iter().all(|r| r.param("query") == Some(r#"{job="nginx"}"#)));
    assert_eq!(loki.parser(), Some(LogqlParser::Nginx));
    assert!(!page.records.is_empty());
    assert!(page.records.iter().all(|r| r.fields.get("status").is_some()), "the small page is parsed too");
}

/// A tiny Loki over synthetic entries: answers backward log queries by [start, end), newest
/// first, `limit` entries, categorized. Lines are real nginx lines from the fixtures.
struct MiniLoki {
    /// (stream job, ts, line), newest first, in the order Loki would return them.
    entries: Vec<(String, i64, String)>,
}

impl MiniLoki {
    fn new(total: usize, ties: &[usize]) -> MiniLoki {
        let body: serde_json::Value = serde_json::from_str(&fixture("query_range_streams_backward.json")).unwrap();
        let lines: Vec<String> = body["data"]["result"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[1].as_str().unwrap().to_string())
            .collect();
        let mut entries = Vec::new();
        let mut ts = END - 1;
        for i in 0..total {
            // Entries at positions in `ties` share the timestamp of the entry before them.
            if i > 0 && !ties.contains(&i) {
                ts -= 1_000;
            }
            let job = if i % 3 == 0 { "nginx" } else { "apache" };
            entries.push((job.to_string(), ts, format!("{} #{i}", lines[i % lines.len()])));
        }
        MiniLoki { entries }
    }

    fn answer(&self, r: &Recorded) -> Reply {
        if r.path == "/loki/api/v1/query" {
            return vector(self.entries.len() as u64);
        }
        if r.path == "/loki/api/v1/series" {
            return Reply::Json(200, json!({"status": "success", "data": [{"job": "nginx", "env": "prod"}]}).to_string());
        }
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        let end: i64 = r.param("end").unwrap().parse().unwrap();
        let limit: usize = r.param("limit").unwrap().parse().unwrap();
        if limit > 5000 {
            return Reply::Text(400, fixture("error_max_entries.txt"));
        }
        let picked: Vec<_> = self.entries.iter().filter(|(_, ts, _)| *ts >= start && *ts < end).take(limit).collect();
        let mut streams: Vec<serde_json::Value> = Vec::new();
        for job in ["nginx", "apache"] {
            let values: Vec<_> = picked
                .iter()
                .filter(|(j, _, _)| j == job)
                .map(|(_, ts, line)| json!([ts.to_string(), line, {}]))
                .collect();
            if !values.is_empty() {
                streams.push(json!({"stream": {"job": job, "env": "prod"}, "values": values}));
            }
        }
        Reply::Json(
            200,
            json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": streams, "stats": {}}})
                .to_string(),
        )
    }
}

#[tokio::test]
async fn paging_across_5000_line_pages_loses_and_repeats_nothing_at_equal_timestamps() {
    // Ties straddle both page edges (4999/5000 and around 9999/10000).
    let ties: Vec<usize> = vec![4996, 4997, 4998, 4999, 5000, 5001, 5002, 9998, 9999, 10000, 10001];
    let mini = Arc::new(MiniLoki::new(12_345, &ties));
    let m = mini.clone();
    let server = LokiServer::start(move |r: &Recorded| m.answer(r)).await;
    let loki = source(&server, r#"{env="prod"}"#, Some(LogqlParser::Nginx));

    let mut request = search(Query::kql(""), 10_000);
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let page = loki.search(request.clone()).await.unwrap();
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        pages += 1;
        got.extend(page.records);
        match page.next {
            Some(c) => request.cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "paging must end");
    }
    assert_eq!(got.len(), mini.entries.len());
    let keys: HashSet<(String, i64, String)> = got
        .iter()
        .map(|r| (r.labels.get("job").unwrap().as_text(), r.timestamp.unwrap(), r.message.clone()))
        .collect();
    assert_eq!(keys.len(), got.len(), "no duplicates");
    assert!(got.windows(2).all(|w| w[0].timestamp >= w[1].timestamp), "newest first across pages");

    let reqs = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.param("limit") == Some("5000")), "limit clamped to max_entries_limit_per_query");
    // Page 2 ends just after the oldest timestamp of page 1 (end is exclusive).
    let oldest_page1 = mini.entries[4999].1;
    assert_eq!(mini.entries[5002].1, oldest_page1, "the fixture really has ties at the edge");
    assert_eq!(reqs[1].param("end"), Some((oldest_page1 + 1).to_string().as_str()));
    assert_eq!(reqs[1].param("start"), Some("1795313033558632019"));
    assert_eq!(server.requests_to("/loki/api/v1/query").len(), 1, "the total is asked once");
}

#[tokio::test]
async fn histogram_comes_from_count_over_time_split_by_status_class() {
    let server = LokiServer::start(|r: &Recorded| match (r.path.as_str(), r.param("step")) {
        ("/loki/api/v1/query_range", Some(_)) => json_fixture("matrix_status_by_regexp.json"),
        ("/loki/api/v1/query_range", None) => json_fixture("query_range_empty.json"),
        _ => Reply::Text(404, "404 page not found\n".into()),
    })
    .await;
    let loki = source(&server, r#"{job="apache"}"#, Some(LogqlParser::Regexp(r#"" (?P<status>\d{3}) "#.into())));
    let h = loki
        .histogram(HistogramRequest {
            query: Query::kql(""),
            range: RANGE,
            interval: Some(300_000_000_000),
            target_buckets: 100,
            split: Split::StatusClass,
        })
        .await
        .unwrap();
    let metric = server.requests_to("/loki/api/v1/query_range").into_iter().find(|r| r.param("step").is_some()).unwrap();
    assert_eq!(
        metric.param("query"),
        Some(r#"sum by (status) (count_over_time({job="apache"} | regexp `" (?P<status>\d{3}) ` [300s]))"#)
    );
    assert_eq!(metric.param("step"), Some("300s"));
    let first_bucket = 1_795_312_800_000_000_000_i64;
    assert_eq!(metric.param("start"), Some((first_bucket + 300_000_000_000).to_string().as_str()));
    assert_eq!(h.interval, 300_000_000_000);
    assert_eq!(h.buckets.len(), 74);
    assert_eq!(h.buckets[0].start, first_bucket);
    assert_eq!(h.split_by.as_deref(), Some("status_class"));
    let class = |c: &str| h.buckets.iter().map(|b| b.split.get(c).copied().unwrap_or(0)).sum::<u64>();
    assert_eq!((class("2xx"), class("3xx"), class("4xx"), class("5xx")), (9171, 609, 217, 3));
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 10_000, "every apache line counted once");
    // The samples at 02:05:00 count (02:00, 02:05]: bucket 0 (73 × 200 and 1 × 404).
    assert_eq!(h.buckets[0].count, 74);
    assert_eq!(h.buckets[0].split.get("4xx"), Some(&1));
    assert!(!h.partial);
}

#[tokio::test]
async fn top_uses_instant_topk_and_orders_by_value() {
    let server = LokiServer::start(|r: &Recorded| {
        let q = r.param("query").unwrap_or("");
        if q.starts_with("topk(") {
            json_fixture("instant_vector_topk_paths.json")
        } else if q.contains(r#"path != """#) {
            vector(9_000)
        } else {
            vector(10_000)
        }
    })
    .await;
    let loki = source(&server, r#"{job="apache"}"#, Some(LogqlParser::Apache));
    let top = loki
        .top(TopRequest { query: Query::kql(""), range: RANGE, field: "path".into(), size: 5 })
        .await
        .unwrap();
    let reqs = server.requests_to("/loki/api/v1/query");
    let topk = reqs.iter().find(|r| r.param("query").unwrap().starts_with("topk")).unwrap();
    assert!(topk.param("query").unwrap().starts_with(r#"topk(5, sum by (path) (count_over_time({job="apache"} | pattern `"#));
    assert!(topk.param("query").unwrap().ends_with(r#"` | path != "" [21682603ms])))"#));
    assert_eq!(topk.param("time"), Some("1795334716161919916"));
    let values: Vec<(&str, u64)> = top.buckets.iter().map(|b| (b.value.as_str(), b.count)).collect();
    assert_eq!(
        values,
        [("/favicon.ico", 801), ("/style2.css", 541), ("/reset.css", 532), ("/images/jordan-80.png", 528), ("/images/web/2009/banner.png", 512)]
    );
    assert_eq!(top.total, 10_000);
    assert_eq!(top.other, 9_000 - 2_914);
    assert!(!top.partial);
}

/// Issue 14: the exact values' distinct count comes from Loki as `count(sum by (field) …)` over
/// the lines that carry the field (the answer has the shape of the captured label-less vector
/// of `instant_count_pattern_line_filter.json`); a refused one is no count, not an error.
#[tokio::test]
async fn distinct_values_are_counted_by_loki() {
    let server = LokiServer::start(|r: &Recorded| {
        let q = r.param("query").unwrap_or("");
        if q.starts_with("count(sum by (status)") { Reply::Text(400, fixture("error_max_series.txt")) } else { vector(118) }
    })
    .await;
    let loki = source(&server, r#"{job="apache"}"#, Some(LogqlParser::Apache));
    let request = |field: &str| TopRequest { query: Query::kql(""), range: RANGE, field: field.into(), size: 5 };
    let d = loki.distinct(request("path")).await.unwrap().unwrap();
    assert_eq!((d.count, d.estimated), (118, false));
    let reqs = server.requests_to("/loki/api/v1/query");
    let q = reqs[0].param("query").unwrap();
    assert!(q.starts_with(r#"count(sum by (path) (count_over_time({job="apache"} | pattern `"#), "{q}");
    assert!(q.ends_with(r#"` | path != "" [21682603ms])))"#), "{q}");
    assert_eq!(reqs[0].param("time"), Some("1795334716161919916"));
    assert_eq!(loki.distinct(request("status")).await.unwrap(), None);
}

#[tokio::test]
async fn refused_aggregations_fall_back_to_counting_fetched_lines() {
    let server = LokiServer::start(|r: &Recorded| match (r.path.as_str(), r.param("step")) {
        ("/loki/api/v1/query", _) | ("/loki/api/v1/query_range", Some(_)) => Reply::Text(400, fixture("error_max_series.txt")),
        _ => json_fixture("query_range_json_label_filter_categorized.json"),
    })
    .await;
    let loki = source(&server, r#"{job="shop-api"}"#, Some(LogqlParser::Json));
    let top = loki
        .top(TopRequest { query: Query::kql(""), range: RANGE, field: "status".into(), size: 3 })
        .await
        .unwrap();
    assert!(top.partial);
    assert!(top.note.as_deref().unwrap().contains("maximum of series (3000) reached for a single query"), "{:?}", top.note);
    assert_eq!(top.total, 20);
    assert_eq!(top.buckets.iter().map(|b| b.count).sum::<u64>() + top.other, 20);
    let fallback = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(fallback.last().unwrap().param("limit"), Some("5000"));

    let h = loki
        .histogram(HistogramRequest { query: Query::kql(""), range: RANGE, interval: None, target_buckets: 60, split: Split::Level })
        .await
        .unwrap();
    assert!(h.partial && h.note.as_deref().unwrap().contains("maximum of series"));
    assert_eq!(h.interval, 600_000_000_000, "6h over 60 columns → 10m");
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 20);
    assert_eq!(h.buckets.iter().map(|b| b.split.get("error").copied().unwrap_or(0)).sum::<u64>(), 20);
}

#[tokio::test]
async fn fields_keep_labels_metadata_and_parsed_fields_apart() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        "/loki/api/v1/detected_fields" => json_fixture("detected_fields.json"),
        "/loki/api/v1/label/job/values" => json_fixture("label_job_values.json"),
        "/loki/api/v1/detected_field/level/values" => json_fixture("detected_field_values.json"),
        _ => Reply::Text(404, "404 page not found\n".into()),
    })
    .await;
    let loki = source(&server, r#"{job="shop-api"}"#, Some(LogqlParser::Json));
    let fields = loki.fields(RANGE).await.unwrap();
    let find = |n: &str| fields.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("{n} missing"));
    assert_eq!(find("job").origin, FieldOrigin::Label);
    assert_eq!(find("detected_level").origin, FieldOrigin::Metadata);
    assert_eq!((find("status").origin, find("status").kind), (FieldOrigin::Field, FieldKind::Number));
    assert_eq!(find("client_ip").kind, FieldKind::Keyword);
    let labels_req = &server.requests_to("/loki/api/v1/labels")[0];
    assert_eq!(labels_req.param("query"), Some(r#"{job="shop-api"}"#));
    assert_eq!(server.requests_to("/loki/api/v1/detected_fields")[0].param("query"), Some(r#"{job="shop-api"}"#));
    assert_eq!(loki.info().roles.client_ip.as_deref(), Some("client_ip"));

    let jobs = loki.field_values("job".into(), RANGE, 3).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert_eq!(server.requests_to("/loki/api/v1/label/job/values")[0].param("query"), Some(r#"{job="shop-api"}"#));
    let levels = loki.field_values("level".into(), RANGE, 10).await.unwrap();
    assert_eq!(levels, ["info", "debug", "warn"]);
}

#[tokio::test]
async fn empty_answers_without_data_keys_are_empty_not_errors() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/labels" => json_fixture("labels_no_match.json"),
        "/loki/api/v1/detected_fields" => json_fixture("detected_fields_empty.json"),
        "/loki/api/v1/query_range" if r.param("step").is_none() => json_fixture("query_range_empty.json"),
        "/loki/api/v1/label/nonexistent/values" => json_fixture("label_unknown_values.json"),
        _ => json_fixture("matrix_empty.json"),
    })
    .await;
    let loki = source(&server, r#"{job="does-not-exist"}"#, Some(LogqlParser::Logfmt));
    assert!(loki.fields(RANGE).await.unwrap().is_empty());
    let page = loki.search(search(Query::kql(""), 100)).await.unwrap();
    assert!(page.records.is_empty() && page.next.is_none());
    assert_eq!(page.total, Some(HitCount::Exact(0)));
    let h = loki
        .histogram(HistogramRequest { query: Query::kql(""), range: RANGE, interval: None, target_buckets: 10, split: Split::None })
        .await
        .unwrap();
    assert!(h.buckets.iter().all(|b| b.count == 0) && !h.buckets.is_empty());
}

async fn error_for(reply: Reply) -> SourceError {
    let server = LokiServer::start(move |_: &Recorded| reply.clone()).await;
    let loki = source(&server, r#"{job="nginx"}"#, Some(LogqlParser::Nginx));
    loki.search(SearchRequest { query: Query::native(r#"{job="nginx""#), range: RANGE, limit: 10, cursor: Some(
        logsleuth::sources::Cursor("loki:1795334716161919916:1795334716161919915:".into()),
    ) })
    .await
    .unwrap_err()
}

#[tokio::test]
async fn loki_errors_are_shown_as_the_server_said_them() {
    // A native query without its closing brace is refused client-side…
    let server = LokiServer::start(|_: &Recorded| Reply::Text(400, fixture("error_parse.txt"))).await;
    let loki = source(&server, "", None);
    let err = loki.search(search(Query::native(r#"{job="nginx"} | jsn"#), 10)).await.unwrap_err();
    assert_eq!(err, SourceError::Query("LogQL parse error at line 1, col 13: syntax error: unexpected $end, expecting } or ,".into()));
    assert_eq!(err.exit_code(), 2);
    assert!(matches!(error_for(Reply::Text(400, String::new())).await, SourceError::Query(ref m) if m.contains("stream selector")));

    let loki = source(&server, r#"{job="nginx"}"#, None);
    let cases = [
        (Reply::Text(400, fixture("error_time_range_too_long.txt")), "server error 400: the query time range exceeds the limit (query length: 960h0m0s, limit: 30d1h)"),
        (Reply::Text(404, fixture("error_404.txt")), "server error 404: 404 page not found"),
        (Reply::Text(401, "no org id".into()), "authentication failed (401): no org id"),
        (Reply::Text(502, String::new()), "server error 502: Bad Gateway (still unavailable after 3 retries)"),
    ];
    for (reply, expected) in cases {
        let server = LokiServer::start(move |_: &Recorded| reply.clone()).await;
        let loki2 = source(&server, r#"{job="nginx"}"#, Some(LogqlParser::Nginx));
        let err = loki2.search(search(Query::native(r#"{job="nginx"}"#), 10)).await.unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    drop(loki);
}

#[tokio::test]
async fn timeouts_cut_connections_and_garbage_are_errors_not_panics() {
    let slow = Reply::After(Duration::from_secs(3), Box::new(json_fixture("query_range_empty.json")));
    // (answer, expected error text; None: a page without the bad entries)
    for (reply, check) in [
        (slow, Some("timed out")),
        (Reply::CutOff(fixture("query_range_streams_backward.json")[..4000].to_string()), Some("cannot reach")),
        (Reply::Json(200, "<html>proxy error</html>".into()), Some("cannot decode")),
        (Reply::Json(200, r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":7,"values":[["x"],[1,2]]}]}}"#.into()), None),
    ] {
        let server = LokiServer::start(move |_: &Recorded| reply.clone()).await;
        let loki = source(&server, r#"{job="nginx"}"#, Some(LogqlParser::Nginx));
        let started = std::time::Instant::now();
        let result = loki.search(search(Query::native(r#"{job="nginx"}"#), 10)).await;
        assert!(started.elapsed() < Duration::from_secs(3), "the request timeout applies");
        match (result, check) {
            (Err(e), Some(check)) => {
                assert!(e.to_string().contains(check), "{e}");
                if check != "cannot decode" {
                    assert!(matches!(e, SourceError::Unreachable { .. }), "{e:?}");
                }
            }
            (Ok(page), None) => assert!(page.records.is_empty(), "garbage entries are skipped"),
            (other, check) => panic!("expected {check:?}, got {other:?}"),
        }
    }
    // Nothing listening: unreachable, never a panic.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let loki = LokiSource::new(LokiConfig {
        http: HttpConfig::new(&url).unwrap(),
        selector: r#"{job="x"}"#.into(),
        parser: Some(LogqlParser::Json),
        tenant: None,
        backoff: Default::default(),
    })
    .unwrap();
    let err = loki.search(search(Query::kql(""), 10)).await.unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn kql_is_translated_with_stream_labels_from_the_server_and_the_parser_after_line_filters() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        "/loki/api/v1/query_range" => json_fixture("query_range_empty.json"),
        _ => vector(0),
    })
    .await;
    let loki = source(&server, r#"{env="prod"}"#, Some(LogqlParser::Nginx));
    loki.search(search(Query::kql(r#"job:nginx and status >= 500 and "timeout""#), 100)).await.unwrap();
    let labels = &server.requests_to("/loki/api/v1/labels")[0];
    assert_eq!(labels.param("query"), None, "all stream label names, to route KQL fields");
    let sent = server.requests_to("/loki/api/v1/query_range")[0].param("query").unwrap().to_string();
    assert_eq!(
        sent,
        r#"{env="prod", job="nginx"} |~ "(?i)timeout" | pattern `<remote_addr> - <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>"` | status >= 500"#
    );
    // The total uses the same pipeline.
    let total = &server.requests_to("/loki/api/v1/query")[0];
    assert_eq!(total.param("query").unwrap(), format!("sum(count_over_time({sent} [21682603ms]))"));

    let err = loki.search(search(Query::kql("status >= "), 100)).await.unwrap_err();
    assert!(matches!(err, SourceError::Query(_)), "{err:?}");
    assert_eq!(server.requests_to("/loki/api/v1/query_range").len(), 1, "a KQL syntax error sends nothing");
}

#[tokio::test]
async fn more_lines_at_one_timestamp_than_a_small_page_are_fetched_with_a_full_page() {
    // 30 lines, of which 25 share one timestamp; the UI asks 10 at a time.
    let ties: Vec<usize> = (3..28).collect();
    let mini = Arc::new(MiniLoki::new(30, &ties));
    let m = mini.clone();
    let server = LokiServer::start(move |r: &Recorded| m.answer(r)).await;
    let loki = source(&server, r#"{env="prod"}"#, Some(LogqlParser::Json));
    let mut request = search(Query::kql(""), 10);
    let mut got = Vec::new();
    for _ in 0..10 {
        let page = loki.search(request.clone()).await.unwrap();
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        got.extend(page.records);
        match page.next {
            Some(c) => request.cursor = Some(c),
            None => break,
        }
    }
    let keys: HashSet<(i64, String)> = got.iter().map(|r| (r.timestamp.unwrap(), r.message.clone())).collect();
    assert_eq!((got.len(), keys.len()), (30, 30));
    assert!(server.requests_to("/loki/api/v1/query_range").iter().any(|r| r.param("limit") == Some("5000")));
}

#[tokio::test]
async fn context_reads_the_lines_around_one_in_its_stream() {
    let server = LokiServer::start(|r: &Recorded| match r.param("direction") {
        Some("backward") => json_fixture("query_range_structured_metadata_categorized.json"),
        _ => json_fixture("query_range_empty.json"),
    })
    .await;
    let loki = source(&server, r#"{job="checkout"}"#, None);
    let page = loki.search(SearchRequest { query: Query::native(r#"{job="checkout"}"#), range: RANGE, limit: 10, cursor: None }).await;
    let record = page.unwrap().records.remove(0);
    let around = loki.context(record.clone(), 3, 2).await.unwrap();
    assert_eq!(around.len(), 4, "3 before + the line (nothing after)");
    assert_eq!(around.last().unwrap().message, record.message, "oldest first, the line last");
    assert!(around.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    let reqs = server.requests_to("/loki/api/v1/query_range");
    let before = &reqs[reqs.len() - 2..];
    let stream = r#"{env="prod", job="checkout", service_name="checkout"}"#;
    assert!(before.iter().all(|r| r.param("query") == Some(stream)), "{before:?}");
    let ts = record.timestamp.unwrap();
    assert!(before.iter().any(|r| r.param("direction") == Some("backward") && r.param("end") == Some((ts + 1).to_string().as_str()) && r.param("limit") == Some("4")));
    assert!(before.iter().any(|r| r.param("direction") == Some("forward") && r.param("start") == Some((ts + 1).to_string().as_str())));
}

#[tokio::test]
async fn an_empty_sample_leaves_the_parser_undecided() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = LokiServer::start(move |r: &Recorded| match r.path.as_str() {
        // The first range holds nothing; later ones hold nginx lines.
        "/loki/api/v1/query_range" if c.fetch_add(1, Ordering::SeqCst) == 0 => json_fixture("query_range_empty.json"),
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        _ => vector(0),
    })
    .await;
    let loki = source(&server, r#"{job="nginx"}"#, None);
    let first = loki.search(search(Query::kql(""), 100)).await.unwrap();
    assert!(first.records.is_empty());
    assert_eq!(loki.parser(), None, "nothing to judge from");
    let second = loki.search(search(Query::kql(""), 100)).await.unwrap();
    assert_eq!(loki.parser(), Some(LogqlParser::Nginx), "decided from the first lines seen");
    assert!(second.records[0].fields.get("status").is_some());
    let reqs = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(reqs.len(), 2, "two pages, no sample");
    assert!(reqs.iter().all(|r| r.param("query") == Some(r#"{job="nginx"}"#)));
}

#[tokio::test]
async fn streams_come_from_the_series_endpoint() {
    let server = LokiServer::start(|_: &Recorded| json_fixture("series.json")).await;
    let loki = source(&server, r#"{env=~".+"}"#, None);
    let streams = loki.streams(RANGE).await.unwrap();
    assert_eq!(streams.len(), 7);
    let req = &server.requests_to("/loki/api/v1/series")[0];
    assert_eq!(req.param("match[]"), Some(r#"{env=~".+"}"#));
    assert_eq!(req.param("start"), Some("1795313033558632019"));
    let jobs: Vec<String> = streams.iter().map(|s| s.get("job").unwrap().as_text()).collect();
    let keys: Vec<String> = streams.iter().map(logsleuth::sources::loki::decode::canonical_labels).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted and distinct: {keys:?}");
    assert!(jobs.contains(&"checkout".to_string()) && jobs.contains(&"nginx".to_string()));
}

/// 8,000 real nginx lines (tests/fixtures/local/nginx_logs.gz, repeats dropped as Loki
/// drops an identical entry) in one stream at one nanosecond, and older lines after them.
/// The server answers backward log queries by [start, end), `limit` entries (at most 5,000),
/// and evaluates a trailing `|~` line filter as Loki does.
struct CrowdedInstant {
    entries: Vec<(i64, String)>,
}

impl CrowdedInstant {
    const AT: i64 = END - 1_000;

    fn new() -> CrowdedInstant {
        use std::io::Read;
        let path = format!("{}/tests/fixtures/local/nginx_logs.gz", env!("CARGO_MANIFEST_DIR"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
        let mut seen = HashSet::new();
        let mut lines = text.lines().filter(|l| seen.insert(l.to_string()));
        let mut entries: Vec<(i64, String)> = lines.by_ref().take(8_000).map(|l| (Self::AT, l.to_string())).collect();
        entries.extend(lines.take(300).enumerate().map(|(i, l)| (Self::AT - 1_000 * (i as i64 + 1), l.to_string())));
        CrowdedInstant { entries }
    }

    fn answer(&self, r: &Recorded) -> Reply {
        if r.path == "/loki/api/v1/query" {
            return vector(self.entries.len() as u64);
        }
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        let end: i64 = r.param("end").unwrap().parse().unwrap();
        let limit: usize = r.param("limit").unwrap().parse().unwrap();
        if limit > 5000 {
            return Reply::Text(400, fixture("error_max_entries.txt"));
        }
        let query = r.param("query").unwrap();
        let filter = query.find(" |~ `").map(|i| {
            let text = &query[i + 5..];
            regex::Regex::new(&text[..text.find('`').unwrap()]).unwrap()
        });
        let values: Vec<serde_json::Value> = self
            .entries
            .iter()
            .filter(|(ts, line)| *ts >= start && *ts < end && filter.as_ref().is_none_or(|f| f.is_match(line)))
            .take(limit)
            .map(|(ts, line)| json!([ts.to_string(), line, {}]))
            .collect();
        let streams = if values.is_empty() { json!([]) } else { json!([{"stream": {"job": "nginx", "env": "prod"}, "values": values}]) };
        Reply::Json(
            200,
            json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": streams, "stats": {}}})
                .to_string(),
        )
    }
}

#[tokio::test]
async fn an_instant_holding_more_than_a_page_is_read_part_by_part() {
    let crowded = Arc::new(CrowdedInstant::new());
    let c = crowded.clone();
    let server = LokiServer::start(move |r: &Recorded| c.answer(r)).await;
    let loki = source(&server, r#"{env="prod"}"#, Some(LogqlParser::Nginx));
    let mut request = search(Query::kql(""), 1_000);
    let mut got: Vec<(i64, String)> = Vec::new();
    for _ in 0..50 {
        let page = loki.search(request.clone()).await.unwrap();
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        got.extend(page.records.into_iter().map(|r| (r.timestamp.unwrap(), r.message)));
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(got.len(), crowded.entries.len(), "every line");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "none twice");
    assert!(got.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
    // The instant was read in parts, each asked of [t, t+1) with a line filter on the text.
    let parts: Vec<String> = server
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .filter(|r| r.param("start") == Some(CrowdedInstant::AT.to_string().as_str()))
        .filter_map(|r| r.param("query").map(str::to_string))
        .collect();
    assert!(parts.iter().any(|q| q.starts_with(r#"{env="prod"}"#) && q.contains(r#" |~ `^\x{"#)), "{parts:?}");
    assert!(parts.len() < 60, "{} requests", parts.len());
}

/// 7,500 entries at one nanosecond in three streams (hosts web-1, web-2, web-3 behind one
/// balancer, each logging the same 2,500 real nginx lines), a stream `{env="prod", host="web-1",
/// job="nginx", zone="b"}` whose labels extend web-1's with 300 lines of its own, and older
/// lines. The server answers `series` with the four label sets, and log queries by their
/// selector's `name="value"` matchers as Loki does (a stream matches when it has every one).
struct StreamsAtInstant {
    streams: Vec<(Vec<(&'static str, &'static str)>, Vec<(i64, String)>)>,
}

impl StreamsAtInstant {
    const AT: i64 = END - 1_000;

    fn new() -> StreamsAtInstant {
        use std::io::Read;
        let path = format!("{}/tests/fixtures/local/nginx_logs.gz", env!("CARGO_MANIFEST_DIR"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
        let mut seen = HashSet::new();
        let unique: Vec<String> = text.lines().filter(|l| seen.insert(l.to_string())).take(3_100).map(str::to_string).collect();
        let at = |lines: &[String]| lines.iter().map(|l| (Self::AT, l.clone())).collect::<Vec<_>>();
        let mut streams: Vec<(Vec<(&str, &str)>, Vec<(i64, String)>)> = ["web-1", "web-2", "web-3"]
            .into_iter()
            .map(|host| (vec![("env", "prod"), ("host", host), ("job", "nginx")], at(&unique[..2_500])))
            .collect();
        streams[0].1.extend(unique[2_500..2_800].iter().enumerate().map(|(i, l)| (Self::AT - 1_000 * (i as i64 + 1), l.clone())));
        streams.push((vec![("env", "prod"), ("host", "web-1"), ("job", "nginx"), ("zone", "b")], at(&unique[2_800..3_100])));
        StreamsAtInstant { streams }
    }

    fn total(&self) -> usize {
        self.streams.iter().map(|(_, e)| e.len()).sum()
    }

    fn answer(&self, r: &Recorded) -> Reply {
        if r.path == "/loki/api/v1/query" {
            return vector(self.total() as u64);
        }
        let labels = |l: &[(&str, &str)]| serde_json::Value::Object(l.iter().map(|(k, v)| (k.to_string(), json!(v))).collect());
        if r.path == "/loki/api/v1/series" {
            assert_eq!(r.param("match[]"), Some(r#"{env="prod"}"#));
            return Reply::Json(200, json!({"status": "success", "data": self.streams.iter().map(|(l, _)| labels(l)).collect::<Vec<_>>()}).to_string());
        }
        let start: i64 = r.param("start").unwrap().parse().unwrap();
        let end: i64 = r.param("end").unwrap().parse().unwrap();
        let limit: usize = r.param("limit").unwrap().parse().unwrap();
        let query = r.param("query").unwrap();
        let selector = &query[1..query.find('}').unwrap()];
        let matchers: Vec<(String, String)> = selector
            .split(", ")
            .flat_map(|m| m.split(','))
            .filter(|m| !m.is_empty())
            .map(|m| {
                let (k, v) = m.split_once('=').unwrap();
                (k.trim().to_string(), v.trim().trim_matches('"').to_string())
            })
            .collect();
        assert!(!query.contains(" |~ `"), "no stream holds more than a page: no part by text");
        // The newest `limit` entries of the matching streams (backward), grouped by stream.
        let mut picked: Vec<(usize, i64, &str)> = Vec::new();
        for (i, (l, entries)) in self.streams.iter().enumerate() {
            if matchers.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v)) {
                picked.extend(entries.iter().filter(|(ts, _)| *ts >= start && *ts < end).map(|(ts, line)| (i, *ts, line.as_str())));
            }
        }
        picked.sort_by_key(|p| std::cmp::Reverse(p.1));
        picked.truncate(limit.min(5_000));
        let mut result = Vec::new();
        for (i, (l, _)) in self.streams.iter().enumerate() {
            let values: Vec<serde_json::Value> =
                picked.iter().filter(|p| p.0 == i).map(|(_, ts, line)| json!([ts.to_string(), line, {}])).collect();
            if !values.is_empty() {
                result.push(json!({"stream": labels(l), "values": values}));
            }
        }
        Reply::Json(
            200,
            json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": result, "stats": {}}})
                .to_string(),
        )
    }
}

/// Issue 14: an instant that overflows a page is split by stream first: every stream's lines
/// once, each stream asked with its own labels, a stream with more labels left to its own
/// request (not counted twice).
#[tokio::test]
async fn an_instant_over_several_streams_is_read_stream_by_stream() {
    let crowded = Arc::new(StreamsAtInstant::new());
    let c = crowded.clone();
    let server = LokiServer::start(move |r: &Recorded| c.answer(r)).await;
    let loki = source(&server, r#"{env="prod"}"#, Some(LogqlParser::Nginx));
    let mut request = search(Query::kql(""), 1_000);
    let mut got: Vec<(i64, String, String)> = Vec::new();
    for _ in 0..50 {
        let page = loki.search(request.clone()).await.unwrap();
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        got.extend(page.records.into_iter().map(|r| {
            let host = r.labels.get("host").map(|v| v.as_text()).unwrap_or_default();
            let zone = r.labels.get("zone").map(|v| v.as_text()).unwrap_or_default();
            (r.timestamp.unwrap(), format!("{host}/{zone}"), r.message)
        }));
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(got.len(), crowded.total(), "every line");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len(), "none twice");
    for (host, n) in [("web-1/", 2_800), ("web-2/", 2_500), ("web-3/", 2_500), ("web-1/b", 300)] {
        assert_eq!(got.iter().filter(|g| g.1 == host).count(), n, "{host}");
    }
    let at_instant: Vec<String> = server
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .filter(|r| r.param("start") == Some(StreamsAtInstant::AT.to_string().as_str()))
        .filter_map(|r| r.param("query").map(str::to_string))
        .collect();
    for host in ["web-1", "web-2", "web-3"] {
        // Raw lines (no condition on a parsed field): each stream's own selector.
        let selector = format!(r#"{{env="prod", host="{host}", job="nginx"}}"#);
        assert!(at_instant.iter().any(|q| *q == selector), "{selector} in {at_instant:?}");
    }
    assert_eq!(server.requests_to("/loki/api/v1/series").len(), 1);
}
