//! The Elasticsearch source against an in-process replay server serving real captured answers
//! (tests/fixtures/elasticsearch) and asserting the exact requests logsleuth sends.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use logsleuth::model::{Record, RecordId, TimeRange, Value};
use logsleuth::sources::elasticsearch::{EsConfig, EsSource, RetryPolicy};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::{
    Cursor, FieldKind, HistogramRequest, HitCount, Query, SearchRequest, Source, SourceError, Split, TailEvent,
    TailRequest, TopRequest,
};
use logsleuth::time::parse_absolute;
use pretty_assertions::assert_eq;
use serde_json::{Value as Json, json};
use support::es_server::{Dataset, EsServer, Recorded, Reply, TiedIndex, cluster_info, fixture, nginx_lines, quickwit_info};

const CAPS: &str = "/nginx-access/_field_caps?fields=*";
const SEARCH: &str = "/nginx-access/_search";

fn at(s: &str) -> i64 {
    parse_absolute(s, None).unwrap()
}

fn config(url: &str, index: &str) -> EsConfig {
    let mut http = HttpConfig::new(url).unwrap();
    http.timeout = Duration::from_secs(5);
    let mut config = EsConfig::new(http, index);
    config.retry = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(50) };
    config.tail_interval = Duration::from_millis(40);
    config
}

fn source(url: &str) -> EsSource {
    EsSource::new(config(url, "nginx-access")).unwrap()
}

fn hour_range() -> TimeRange {
    TimeRange::between(at("2026-11-22T07:14:42Z"), at("2026-11-22T08:14:42Z"))
}

fn range_clause() -> Json {
    json!({"range": {"@timestamp": {"gte": "2026-11-22T07:14:42.000Z", "lt": "2026-11-22T08:14:42.000Z", "format": "strict_date_optional_time"}}})
}

/// Quickwit-like server: cluster info, field caps, and `search` for `_search`.
fn quickwit(search: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => quickwit_info(),
        ("GET", CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", SEARCH) => search(r),
        _ => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    }
}

#[tokio::test]
async fn first_and_second_page_bodies_and_records_on_quickwit() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let server = EsServer::start(quickwit(move |_| {
        let mut n = c.lock().unwrap();
        *n += 1;
        if *n == 1 {
            Reply::fixture(200, "quickwit/search_sort_desc_page1.json")
        } else {
            Reply::fixture(200, "quickwit/search_sort_desc_page2_search_after.json")
        }
    }))
    .await;
    let es = source(&server.url);
    let page = es
        .search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: None })
        .await
        .unwrap();
    assert_eq!(page.total, Some(HitCount::Exact(14575)));
    assert_eq!(page.records.len(), 3);
    let first = &page.records[0];
    assert_eq!(first.timestamp, Some(at("2026-11-22T08:11:12Z")));
    assert!(first.message.starts_with("54.173.228.189 - - [22/May/2015:09:05:59 +0000]"));
    assert_eq!(first.fields.get("status"), Some(&Value::Int(304)));
    assert_eq!(first.labels.get("_index"), Some(&Value::Str("nginx-access".into())));
    assert_eq!(first.id, RecordId::Es { index: "nginx-access".into(), id: None, sort: "[1795335072000]".into() });
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    let next = page.next.expect("a full page has a next cursor");

    let page2 = es
        .search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: Some(next) })
        .await
        .unwrap();
    assert_eq!(page2.records.len(), 3);
    assert_eq!(page2.total, None);
    assert_eq!(page2.next, None, "fewer hits than asked: last page");

    let paths: Vec<(String, String)> = server.requests().into_iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(
        paths,
        [("GET", CAPS), ("GET", "/"), ("POST", SEARCH), ("POST", SEARCH)].map(|(m, p)| (m.to_string(), p.to_string()))
    );
    let bodies = server.bodies(SEARCH);
    assert_eq!(
        bodies[0],
        json!({"size": 3, "track_total_hits": true, "query": {"bool": {"filter": [range_clause()]}},
               "sort": [{"@timestamp": {"order": "desc"}}]})
    );
    // Inclusive continuation at the last timestamp (+1 on a descending sort), one extra
    // document for the one already shown there.
    assert_eq!(
        bodies[1],
        json!({"size": 4, "track_total_hits": false, "query": {"bool": {"filter": [range_clause()]}},
               "sort": [{"@timestamp": {"order": "desc"}}], "search_after": [1795335071902_i64]})
    );
}

#[tokio::test]
async fn native_dsl_and_query_string_go_in_the_bool_filter() {
    let server = EsServer::start(quickwit(|_| Reply::fixture(200, "quickwit/search_size0_track_total_hits_true.json"))).await;
    let es = source(&server.url);
    for q in [Query::native(r#"{"term": {"host": "web-02"}}"#), Query::native("status:404 AND method:GET")] {
        es.search(SearchRequest { query: q, range: hour_range(), limit: 5, cursor: None }).await.unwrap();
    }
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies[0]["query"], json!({"bool": {"filter": [{"term": {"host": "web-02"}}, range_clause()]}}));
    assert_eq!(
        bodies[1]["query"],
        json!({"bool": {"filter": [{"query_string": {"query": "status:404 AND method:GET"}}, range_clause()]}})
    );
    let err = es
        .search(SearchRequest { query: Query::native("{\"term\": "), range: hour_range(), limit: 5, cursor: None })
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Query(m) if m.starts_with("invalid query DSL JSON")));
}

/// Pages through `data` with `limit` and returns every record's message, in order.
async fn page_all(es: &EsSource, limit: usize) -> Vec<String> {
    let mut cursor: Option<Cursor> = None;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let page = es
            .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit, cursor: cursor.take() })
            .await
            .unwrap();
        seen.extend(page.records.iter().map(|r| r.message.clone()));
        match page.next {
            Some(c) => cursor = Some(c),
            None => return seen,
        }
    }
    panic!("paging did not end");
}

fn tied_dataset(with_ids: bool) -> Dataset {
    // 17 documents on 5 timestamps, 6 of them on one millisecond: page boundaries fall inside
    // the ties whatever the page size.
    let base = 1_795_335_000_000_i64;
    let mut docs = Vec::new();
    let mut n = 0;
    for (offset, count) in [(0, 2), (10, 6), (20, 1), (30, 5), (40, 3)] {
        for _ in 0..count {
            docs.push((base + offset, n));
            n += 1;
        }
    }
    Dataset { docs, with_ids }
}

fn expected_order(data: &Dataset) -> Vec<String> {
    let mut docs = data.docs.clone();
    docs.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    docs.iter().map(|(_, n)| format!("line {n}")).collect()
}

#[tokio::test]
async fn search_after_paging_over_equal_timestamps_without_point_in_time() {
    for with_ids in [false, true] {
        let data = tied_dataset(with_ids);
        let d = data.clone();
        let server = EsServer::start(quickwit(move |r| Reply::json(d.search(r.body.as_ref().unwrap())))).await;
        let es = source(&server.url);
        for limit in [1, 2, 3, 4, 5] {
            assert_eq!(page_all(&es, limit).await, expected_order(&data), "limit {limit}, ids {with_ids}");
        }
        // never from/size paging
        assert!(server.bodies(SEARCH).iter().all(|b| b.get("from").is_none()));
    }
}

#[tokio::test]
async fn elasticsearch_point_in_time_is_opened_used_with_shard_doc_and_closed() {
    let data = tied_dataset(true);
    let d = data.clone();
    let server = EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(None, "8.13.4"),
        ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/logs/_pit?keep_alive=5m") => Reply::fixture(200, "reference/open_pit.json"),
        ("POST", "/_search") => Reply::json(d.search(r.body.as_ref().unwrap())),
        ("DELETE", "/_pit") => Reply::fixture(200, "reference/close_pit.json"),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let es = EsSource::new(config(&server.url, "logs")).unwrap();
    assert_eq!(page_all(&es, 4).await, expected_order(&data));
    let pit_id = fixture("reference/open_pit.json")["id"].as_str().unwrap().to_string();
    let bodies = server.bodies("/_search");
    assert_eq!(
        bodies[0],
        json!({"size": 4, "track_total_hits": true, "query": {"bool": {"filter": [{"range": {"@timestamp": {
                 "gte": "1970-01-01T00:00:00.000Z", "lt": logsleuth::time::format_rfc3339_millis(i64::MAX / 2),
                 "format": "strict_date_optional_time"}}}]}},
               "sort": [{"@timestamp": {"order": "desc"}}, {"_shard_doc": "desc"}],
               "pit": {"id": pit_id, "keep_alive": "5m"}})
    );
    // exact continuation after the last hit's [time, _shard_doc] (documents 16, 15, 14, 13)
    assert_eq!(bodies[1]["search_after"], json!([1795335000030_i64, 13]));
    assert_eq!(bodies[1]["track_total_hits"], json!(false));
    let deletes: Vec<Recorded> = server.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/_pit");
    assert_eq!(deletes[0].body, Some(json!({"id": pit_id})));
}

#[tokio::test]
async fn opensearch_uses_its_own_point_in_time_api() {
    let data = tied_dataset(true);
    let d = data.clone();
    let server = EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(Some("opensearch"), "2.11.1"),
        ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/logs/_search/point_in_time?keep_alive=5m") => {
            Reply::json(json!({"pit_id": "o1234", "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}, "creation_time": 1}))
        }
        ("POST", "/_search") => Reply::json(d.search(r.body.as_ref().unwrap())),
        ("DELETE", "/_search/point_in_time") => Reply::json(json!({"pits": [{"successful": true, "pit_id": "o1234"}]})),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let es = EsSource::new(config(&server.url, "logs")).unwrap();
    assert_eq!(page_all(&es, 3).await, expected_order(&data));
    let bodies = server.bodies("/_search");
    assert_eq!(bodies[0]["pit"], json!({"id": "o1234", "keep_alive": "5m"}));
    assert_eq!(bodies[0]["sort"], json!([{"@timestamp": {"order": "desc"}}]), "no _shard_doc on OpenSearch");
    let deletes: Vec<Recorded> = server.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/_search/point_in_time");
    assert_eq!(deletes[0].body, Some(json!({"pit_id": ["o1234"]})));
}

#[tokio::test]
async fn point_in_time_falls_back_to_plain_search_after_on_404_405_501() {
    for status in [404, 405, 501] {
        let data = tied_dataset(false);
        let d = data.clone();
        let server = EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
            // GET / refused (no `monitor` privilege): the flavor is unknown, PIT is probed.
            ("GET", "/") => Reply::fixture(403, "reference/error_security_exception_401.json"),
            ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
            ("POST", "/logs/_pit?keep_alive=5m") => Reply::fixture(status, "quickwit/error_open_pit_404.json"),
            ("POST", "/logs/_search") => Reply::json(d.search(r.body.as_ref().unwrap())),
            _ => Reply::status(400, json!({"error": "unexpected request"})),
        })
        .await;
        let es = EsSource::new(config(&server.url, "logs")).unwrap();
        assert_eq!(page_all(&es, 4).await, expected_order(&data));
        assert_eq!(page_all(&es, 4).await, expected_order(&data));
        let pit_calls = server.requests().iter().filter(|r| r.path.contains("_pit")).count();
        assert_eq!(pit_calls, 1, "status {status}: PIT is not asked again once the server said it has none");
        assert!(server.bodies("/logs/_search").iter().all(|b| b.get("pit").is_none()));
    }
}

#[tokio::test]
async fn expired_point_in_time_continues_from_the_boundary() {
    let data = tied_dataset(true);
    let d = data.clone();
    let searches = Arc::new(Mutex::new(0));
    let s = searches.clone();
    let server = EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(None, "8.13.4"),
        ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/logs/_pit?keep_alive=5m") => Reply::fixture(200, "reference/open_pit.json"),
        ("POST", "/_search") => {
            let mut n = s.lock().unwrap();
            *n += 1;
            if *n == 1 {
                Reply::json(d.search(r.body.as_ref().unwrap()))
            } else {
                Reply::status(404, json!({"error": {"root_cause": [{"type": "search_context_missing_exception", "reason": "No search context found for id [91]"}],
                    "type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": 404}))
            }
        }
        ("POST", "/logs/_search") => Reply::json(d.search(r.body.as_ref().unwrap())),
        _ => Reply::json(json!({})),
    })
    .await;
    let es = EsSource::new(config(&server.url, "logs")).unwrap();
    let mut all = Vec::new();
    let mut cursor = None;
    let mut warnings = Vec::new();
    loop {
        let page = es
            .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit: 4, cursor })
            .await
            .unwrap();
        all.extend(page.records.iter().map(|r| r.message.clone()));
        warnings.extend(page.warnings);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(all, expected_order(&data));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("search_context_missing_exception"), "{warnings:?}");
}

#[tokio::test]
async fn histogram_splits_by_status_class_and_fills_empty_buckets() {
    // The capture named its sub-aggregation `status`; logsleuth names it `split` whatever it
    // splits by, so the replay renames it in every bucket.
    let server = EsServer::start(quickwit(|_| {
        let mut answer = fixture("quickwit/search_date_histogram_with_terms_subagg.json");
        for bucket in answer["aggregations"]["over_time"]["buckets"].as_array_mut().unwrap() {
            let status = bucket["status"].take();
            bucket.as_object_mut().unwrap().remove("status");
            bucket["split"] = status;
        }
        Reply::json(answer)
    }))
    .await;
    let es = source(&server.url);
    let m20 = 20 * 60 * 1_000_000_000_i64;
    let range = TimeRange::between(at("2026-11-22T06:40:00Z"), at("2026-11-22T08:40:00Z"));
    let h = es
        .histogram(HistogramRequest { query: Query::kql(""), range, interval: Some(m20), target_buckets: 100, split: Split::StatusClass })
        .await
        .unwrap();
    assert_eq!(
        server.bodies(SEARCH)[0],
        json!({"size": 0, "track_total_hits": true,
               "query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "2026-11-22T06:40:00.000Z", "lt": "2026-11-22T08:40:00.000Z", "format": "strict_date_optional_time"}}}]}},
               "aggs": {"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "20m", "min_doc_count": 0},
                                      "aggs": {"split": {"terms": {"field": "status", "size": 100}}}}}})
    );
    assert_eq!(h.interval, m20);
    assert_eq!(h.split_by.as_deref(), Some("status_class"));
    let starts: Vec<String> = h.buckets.iter().map(|b| logsleuth::time::format_rfc3339(b.start)).collect();
    assert_eq!(starts, ["06:40", "07:00", "07:20", "07:40", "08:00", "08:20"].map(|t| format!("2026-11-22T{t}:00Z")));
    assert_eq!(h.buckets.iter().map(|b| b.count).collect::<Vec<_>>(), vec![0, 235, 829, 850, 469, 0]);
    assert_eq!(h.buckets[4].split, BTreeMap::from([("2xx".into(), 23), ("3xx".into(), 125), ("4xx".into(), 315), ("other".into(), 6)]));
    assert!(h.buckets[0].split.is_empty());
}

/// Issue 14: a split series whose `terms` counts are approximate is asked again once with
/// `shard_size` 5000, as `top` is. The first answer is the capture with a bound of 7 written
/// into each bucket's split (a one-split server answers 0; several shards answer more); the
/// recount is the capture as it is.
fn split_answer(r: &Recorded, refuse_recount: bool) -> Reply {
    let body = r.body.clone().unwrap_or(Json::Null);
    let recount = body["aggs"]["over_time"]["aggs"]["split"]["terms"].get("shard_size").is_some();
    if recount && refuse_recount {
        return Reply::fixture(400, "quickwit/error_unknown_query_type_400.json");
    }
    let mut answer = fixture("quickwit/search_date_histogram_with_terms_subagg.json");
    for bucket in answer["aggregations"]["over_time"]["buckets"].as_array_mut().unwrap() {
        let mut status = bucket["status"].take();
        bucket.as_object_mut().unwrap().remove("status");
        if !recount {
            status["doc_count_error_upper_bound"] = 7.into();
        }
        bucket["split"] = status;
    }
    Reply::json(answer)
}

#[tokio::test]
async fn approximate_split_counts_are_recounted_or_marked() {
    let m20 = 20 * 60 * 1_000_000_000_i64;
    let range = TimeRange::between(at("2026-11-22T06:40:00Z"), at("2026-11-22T08:40:00Z"));
    let request = HistogramRequest { query: Query::kql(""), range, interval: Some(m20), target_buckets: 100, split: Split::StatusClass };
    let server = EsServer::start(quickwit(|r| split_answer(r, false))).await;
    let h = source(&server.url).histogram(request.clone()).await.unwrap();
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies.len(), 2, "one recount");
    assert_eq!(bodies[1]["aggs"]["over_time"]["aggs"], json!({"split": {"terms": {"field": "status", "size": 100, "shard_size": 5000}}}));
    assert_eq!(h.split_error_bound, None);
    assert_eq!(h.note, None);
    assert_eq!(h.buckets.iter().map(|b| b.count).collect::<Vec<_>>(), vec![0, 235, 829, 850, 469, 0]);

    let server = EsServer::start(quickwit(|r| split_answer(r, true))).await;
    let h = source(&server.url).histogram(request).await.unwrap();
    assert_eq!(server.bodies(SEARCH).len(), 2);
    assert_eq!(h.split_error_bound, Some(7));
    let note = h.note.unwrap_or_default();
    assert!(note.contains("refused") && note.contains("approximate (±7 a bucket)"), "{note}");
}

/// Issue 14: the distinct count of the exact values is ES's `cardinality` (an estimate, said
/// so). The capture asked for several metrics; the replay keeps its `unique_ips` answer under
/// the name logsleuth asks, `distinct`.
#[tokio::test]
async fn distinct_values_are_the_servers_cardinality_estimate() {
    let server = EsServer::start(quickwit(|_| {
        let mut answer = fixture("quickwit/search_metric_aggs.json");
        answer["aggregations"] = json!({"distinct": answer["aggregations"]["unique_ips"].take()});
        Reply::json(answer)
    }))
    .await;
    let es = source(&server.url);
    let d = es
        .distinct(TopRequest { query: Query::kql(""), range: hour_range(), field: "clientip".into(), size: 5 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.count, d.estimated), (1028, true));
    assert_eq!(
        server.bodies(SEARCH)[0],
        json!({"size": 0, "track_total_hits": false, "query": {"bool": {"filter": [range_clause()]}},
               "aggs": {"distinct": {"cardinality": {"field": "clientip", "precision_threshold": 40000}}}})
    );
}

#[tokio::test]
async fn histogram_interval_is_chosen_from_the_range_and_time_zone_is_sent() {
    let server = EsServer::start(quickwit(|_| Reply::fixture(200, "quickwit/search_date_histogram.json"))).await;
    let mut c = config(&server.url, "nginx-access");
    c.time_zone = Some("Europe/Paris".into());
    let es = EsSource::new(c).unwrap();
    let h = es
        .histogram(HistogramRequest { query: Query::kql(""), range: hour_range(), interval: None, target_buckets: 6, split: Split::None })
        .await
        .unwrap();
    let body = &server.bodies(SEARCH)[0];
    assert_eq!(
        body["aggs"],
        json!({"over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m", "min_doc_count": 0, "time_zone": "Europe/Paris"}}})
    );
    assert_eq!(h.split_by, None);
    // float keys (1795331400000.0) read as ms; the grid covers the range
    assert_eq!(h.buckets[0].start, at("2026-11-22T07:10:00Z"));
    assert_eq!(h.buckets[0].count, 235);
    assert_eq!(h.buckets.len(), 7);
}

#[tokio::test]
async fn top_values_with_other_and_error_bound() {
    // The capture asked for three terms aggregations at once; each test request asks for one,
    // named `top`, so the replay renames the captured `clientip` aggregation to `top`.
    let server = EsServer::start(quickwit(|_| {
        let mut answer = fixture("quickwit/search_terms_aggs_status_clientip_useragent.json");
        let clientip = answer["aggregations"]["clientip"].take();
        answer["aggregations"] = json!({"top": clientip});
        Reply::json(answer)
    }))
    .await;
    let es = source(&server.url);
    let top = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "clientip".into(), size: 5 }).await.unwrap();
    assert_eq!(
        server.bodies(SEARCH)[0],
        json!({"size": 0, "track_total_hits": true, "query": {"bool": {"filter": [range_clause()]}},
               "aggs": {"top": {"terms": {"field": "clientip", "size": 5}}}})
    );
    assert_eq!(top.total, 14575);
    assert_eq!(top.other, 12198);
    // The bound is above 0: asked again with larger shard sizes (at most two more requests);
    // this replay answers the same bound every time, so the counts stay approximate and say so.
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[1]["aggs"], json!({"top": {"terms": {"field": "clientip", "size": 5, "shard_size": 5000}}}));
    assert_eq!(bodies[2]["aggs"], json!({"top": {"terms": {"field": "clientip", "size": 5, "shard_size": 50000}}}));
    assert_eq!(top.error_bound, Some(40));
    assert_eq!(top.buckets[0].value, "216.46.173.126");
    assert_eq!(top.buckets[0].count, 580);
    // equal counts: ties broken by value
    assert_eq!(top.buckets[1].value, "74.125.60.158");
    assert_eq!(top.buckets[2].value, "80.91.33.133");
    assert!(top.note.as_deref().is_some_and(|n| n.contains("approximate (±40)")), "{:?}", top.note);

    // a text field that does not aggregate and has no keyword sub-field: said why, nothing sent
    let err = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "request".into(), size: 5 }).await.unwrap_err();
    assert!(matches!(&err, SourceError::Unsupported(m) if m.contains("'request'") && m.contains("cannot be charted")), "{err}");
    assert_eq!(server.bodies(SEARCH).len(), 3);
}

/// The real answers of an ES-API server holding the whole nginx log in several splits: the
/// first `terms` is approximate (`doc_count_error_upper_bound` 242, 1,414 for a true 1,439),
/// the recount with `shard_size` 5000 is exact.
fn full_nginx_terms(r: &Recorded, refuse_recount: bool) -> Reply {
    let body = r.body.clone().unwrap_or(Json::Null);
    let terms = &body["aggs"]["top"]["terms"];
    let file = match terms.get("shard_size") {
        None => "quickwit/search_terms_clientip_approximate.json",
        Some(_) if refuse_recount => return Reply::fixture(400, "quickwit/error_unknown_query_type_400.json"),
        Some(_) => "quickwit/search_terms_clientip_shard_size_exact.json",
    };
    // The capture named its aggregation `clientip`; logsleuth names it `top`.
    let mut answer = fixture(file);
    answer["aggregations"] = json!({"top": answer["aggregations"]["clientip"].take()});
    Reply::json(answer)
}

#[tokio::test]
async fn approximate_top_counts_are_recounted_exactly() {
    let server = EsServer::start(quickwit(|r| full_nginx_terms(r, false))).await;
    let es = source(&server.url);
    let top = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "clientip".into(), size: 3 }).await.unwrap();
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies.len(), 2, "one recount");
    assert_eq!(bodies[0]["aggs"], json!({"top": {"terms": {"field": "clientip", "size": 3}}}));
    assert_eq!(
        bodies[1],
        json!({"size": 0, "track_total_hits": true, "query": {"bool": {"filter": [range_clause()]}},
               "aggs": {"top": {"terms": {"field": "clientip", "size": 3, "shard_size": 5000}}}})
    );
    let counts: Vec<(&str, u64)> = top.buckets.iter().map(|b| (b.value.as_str(), b.count)).collect();
    assert_eq!(counts, vec![("216.46.173.126", 2350), ("180.179.174.219", 1720), ("204.77.168.241", 1439)]);
    assert_eq!(top.error_bound, None);
    assert_eq!(top.other, 45953);
    assert_eq!(top.total, 51462);
    assert_eq!(top.note, None);
}

#[tokio::test]
async fn a_refused_recount_leaves_the_counts_marked_approximate() {
    let server = EsServer::start(quickwit(|r| full_nginx_terms(r, true))).await;
    let es = source(&server.url);
    let top = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "clientip".into(), size: 3 }).await.unwrap();
    assert_eq!(server.bodies(SEARCH).len(), 2, "no second recount after a refusal");
    assert_eq!(top.buckets[2].count, 1414);
    assert_eq!(top.error_bound, Some(242));
    let note = top.note.unwrap_or_default();
    assert!(note.contains("refused") && note.contains("±242"), "{note}");
}

#[tokio::test]
async fn text_fields_aggregate_on_their_keyword_sub_field() {
    let caps = json!({"indices": ["logs"], "fields": {
        "@timestamp": {"date": {"type": "date", "searchable": true, "aggregatable": true}},
        "agent": {"text": {"type": "text", "searchable": true, "aggregatable": false}},
        "agent.keyword": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
        "response": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
        "clientip": {"ip": {"type": "ip", "searchable": true, "aggregatable": true}}}});
    let server = EsServer::start(move |r: &Recorded| match r.path.as_str() {
        "/" => cluster_info(None, "8.13.4"),
        "/kibana_sample_data_logs/_field_caps?fields=*" => Reply::json(caps.clone()),
        _ => {
            let mut answer = fixture("reference/aggs_terms.json");
            answer["aggregations"] = json!({"top": answer["aggregations"]["genres"].take()});
            answer["hits"] = json!({"total": {"value": 11, "relation": "eq"}, "hits": []});
            Reply::json(answer)
        }
    })
    .await;
    let es = EsSource::new(config(&server.url, "kibana_sample_data_logs")).unwrap();
    let top = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "agent".into(), size: 3 }).await.unwrap();
    assert_eq!(server.bodies("/kibana_sample_data_logs/_search")[0]["aggs"], json!({"top": {"terms": {"field": "agent.keyword", "size": 3}}}));
    assert_eq!(top.field, "agent");
    assert_eq!(top.note.as_deref(), Some("aggregated on agent.keyword"));
    assert_eq!(top.buckets.iter().map(|b| b.count).collect::<Vec<_>>(), vec![6, 3, 2]);
    assert_eq!(top.error_bound, None);
    // Kibana sample web logs roles
    let info = es.info();
    assert_eq!(info.roles.status.as_deref(), Some("response"));
    assert_eq!(info.roles.client_ip.as_deref(), Some("clientip"));
    assert_eq!(info.roles.user_agent.as_deref(), Some("agent"));
    assert_eq!(info.default_columns, vec!["response", "clientip", "agent"]);
}

#[tokio::test]
async fn fields_come_from_field_caps() {
    let server = EsServer::start(quickwit(|_| Reply::json(json!({})))).await;
    let es = source(&server.url);
    let fields = es.fields(hour_range()).await.unwrap();
    let kind = |name: &str| fields.iter().find(|f| f.name == name).map(|f| (f.kind, f.aggregatable));
    assert_eq!(kind("@timestamp"), Some((FieldKind::Date, true)));
    assert_eq!(kind("status"), Some((FieldKind::Number, true)));
    assert_eq!(kind("clientip"), Some((FieldKind::Ip, true)));
    assert_eq!(kind("method"), Some((FieldKind::Keyword, true)));
    assert_eq!(kind("message"), Some((FieldKind::Text, false)));
    assert_eq!(kind("_index"), Some((FieldKind::Keyword, true)));
    let info = es.info();
    assert_eq!(info.kind, "elasticsearch");
    assert_eq!(info.description, format!("{} nginx-access", server.url));
    assert_eq!(info.roles.status.as_deref(), Some("status"));
    assert_eq!(info.roles.method.as_deref(), Some("method"));
    assert_eq!(info.roles.path.as_deref(), Some("path"));
    assert_eq!(info.roles.user_agent.as_deref(), Some("user_agent"));
    assert!(info.is_remote && info.warning.is_none());
}

async fn search_error(reply: Reply, query: Query) -> SourceError {
    let reply = Arc::new(reply);
    let server = EsServer::start(quickwit(move |_| (*reply).clone())).await;
    let es = source(&server.url);
    es.search(SearchRequest { query, range: hour_range(), limit: 3, cursor: None }).await.unwrap_err()
}

#[tokio::test]
async fn errors_are_reported_as_the_server_said_them() {
    let e = search_error(Reply::fixture(404, "reference/error_index_not_found_exception_404.json"), Query::kql("")).await;
    assert_eq!(e, SourceError::Server { status: 404, message: "index not found: index_not_found_exception: no such index [poop]".into() });

    let e = search_error(Reply::fixture(404, "quickwit/error_index_not_found_404.json"), Query::kql("")).await;
    assert_eq!(
        e,
        SourceError::Server { status: 404, message: "index not found: could not find indexes matching the IDs `[\"no-such-index\"]`".into() }
    );

    let e = search_error(Reply::fixture(401, "reference/error_security_exception_401.json"), Query::kql("")).await;
    assert_eq!(
        e,
        SourceError::Auth { status: 401, message: "security_exception: missing authentication credentials for REST request [/]".into() }
    );

    // 403 as Elasticsearch words it (security_exception naming the privilege that grants the action)
    let forbidden = json!({"error": {"root_cause": [{"type": "security_exception",
        "reason": "action [indices:data/read/search] is unauthorized for user [viewer] with effective roles [monitoring] on indices [nginx-access], this action is granted by the index privileges [read,all]"}],
        "type": "security_exception", "reason": "action [indices:data/read/search] is unauthorized for user [viewer] with effective roles [monitoring] on indices [nginx-access], this action is granted by the index privileges [read,all]"}, "status": 403});
    let e = search_error(Reply::status(403, forbidden), Query::kql("")).await;
    assert!(matches!(&e, SourceError::Auth { status: 403, message } if message.contains("granted by the index privileges [read,all]")), "{e}");

    let e = search_error(Reply::fixture(400, "quickwit/error_query_string_syntax_400.json"), Query::native("status:(404 OR")).await;
    assert_eq!(e, SourceError::Query("failed to parse query: `status:(404 OR`".into()));
    assert_eq!(e.exit_code(), 2);

    let e = search_error(Reply::fixture(400, "reference/error_search_phase_execution_exception_400.json"), Query::native("{\"match_all\":{}}")).await;
    assert_eq!(
        e,
        SourceError::Query("script_exception: compile error; caused by illegal_argument_exception: cannot resolve symbol [invalid]".into())
    );

    let e = search_error(Reply::fixture(500, "quickwit/error_sort_on_ip_field_500.json"), Query::kql("")).await;
    assert!(matches!(&e, SourceError::Server { status: 500, message } if message.contains("Unsupported sort field type")), "{e}");
}

#[tokio::test]
async fn rejections_429_are_retried_with_backoff_and_said() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let server = EsServer::start(quickwit(move |_| {
        let mut n = c.lock().unwrap();
        *n += 1;
        match *n {
            1 => Reply::fixture(429, "reference/error_es_rejected_execution_exception_429.json"),
            2 => Reply::fixture(429, "reference/error_circuit_breaking_exception_429.json"),
            _ => Reply::fixture(200, "quickwit/search_sort_desc_page1.json"),
        }
    }))
    .await;
    let es = source(&server.url);
    let page = es.search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: None }).await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(page.warnings.len(), 3, "{:?}", page.warnings);
    assert!(page.warnings[0].starts_with("server busy (429 remote_transport_exception:"), "{:?}", page.warnings);
    assert!(page.warnings[1].starts_with("server busy (429 circuit_breaking_exception: [parent] Data too large"));
    assert_eq!(page.warnings[2], "the server was busy; the request succeeded after 2 retries");
    assert_eq!(server.bodies(SEARCH).len(), 3);

    let server = EsServer::start(quickwit(|_| Reply::fixture(429, "reference/error_circuit_breaking_exception_429.json"))).await;
    let e = source(&server.url)
        .search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: None })
        .await
        .unwrap_err();
    assert!(matches!(&e, SourceError::Server { status: 429, message } if message.ends_with("(still rejected after 3 retries)")), "{e}");
    assert_eq!(server.bodies(SEARCH).len(), 4);
}

#[tokio::test]
async fn partial_shard_failures_are_warnings() {
    let server = EsServer::start(quickwit(|_| {
        let mut answer = fixture("quickwit/search_sort_desc_page1.json");
        answer["_shards"] = json!({"total": 5, "successful": 4, "skipped": 0, "failed": 1,
            "failures": [fixture("reference/shard_failure_es_rejected_execution_exception.json")]});
        Reply::json(answer)
    }))
    .await;
    let es = source(&server.url);
    let page = es.search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: None }).await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(page.warnings.len(), 1);
    assert!(
        page.warnings[0].starts_with("1 of 5 shards failed; results are partial: my-index-000001[0]: es_rejected_execution_exception: rejected execution"),
        "{:?}",
        page.warnings
    );
    let top = es.top(TopRequest { query: Query::kql(""), range: hour_range(), field: "status".into(), size: 3 }).await.unwrap();
    assert!(top.partial);
    assert!(top.note.unwrap().contains("shards failed"));
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let server = EsServer::start(|r: &Recorded| {
        let mut reply = match r.path.as_str() {
            "/" => quickwit_info(),
            CAPS => Reply::fixture(200, "quickwit/field_caps.json"),
            _ => Reply::fixture(200, "quickwit/search_sort_desc_page1.json"),
        };
        if r.path == SEARCH {
            reply.delay = Some(Duration::from_secs(30));
        }
        reply
    })
    .await;
    let mut c = config(&server.url, "nginx-access");
    c.http.timeout = Duration::from_millis(300);
    let es = EsSource::new(c).unwrap();
    let started = std::time::Instant::now();
    let e = es.search(SearchRequest { query: Query::kql(""), range: hour_range(), limit: 3, cursor: None }).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(&e, SourceError::Unreachable { target, reason } if target == &server.url && reason.contains("timed out")), "{e}");
}

#[tokio::test]
async fn surrounding_documents_before_and_after() {
    let data = tied_dataset(true);
    let d = data.clone();
    let server = EsServer::start(quickwit(move |r| Reply::json(d.search(r.body.as_ref().unwrap())))).await;
    let es = source(&server.url);
    // anchor: document 10 (time base+30, among 5 tied documents 9..=13)
    let hit = json!({"_index": "logs", "_id": "id-10", "_source": Dataset::source(1_795_335_000_030, 10), "sort": [1_795_335_000_030_i64]});
    let anchor: Record = logsleuth::sources::elasticsearch::response::record_from_hit(&hit, "@timestamp");
    let around = es.context(anchor, 2, 3).await.unwrap();
    let lines: Vec<&str> = around.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(lines, vec!["line 7", "line 8", "line 10", "line 9", "line 11", "line 12"]);
    let bodies = server.bodies(SEARCH);
    assert_eq!(
        bodies[0],
        json!({"size": 2, "track_total_hits": false, "sort": [{"@timestamp": {"order": "desc"}}],
               "query": {"bool": {"filter": [{"range": {"@timestamp": {"lt": "2026-11-22T08:10:00.030Z", "format": "strict_date_optional_time"}}}]}}})
    );
    assert_eq!(bodies[1]["size"], json!(4));
    assert_eq!(bodies[1]["sort"], json!([{"@timestamp": {"order": "asc"}}]));
}

#[tokio::test]
async fn live_tail_polls_without_duplicates_or_misses_on_equal_timestamps() {
    let base = 1_795_335_000_000_i64;
    let data = Arc::new(Mutex::new(Dataset { docs: vec![(base - 5, 0), (base, 1), (base, 2)], with_ids: false }));
    let d = data.clone();
    let server = EsServer::start(quickwit(move |r| Reply::json(d.lock().unwrap().search(r.body.as_ref().unwrap())))).await;
    let es = source(&server.url);
    let mut rx = es.tail(TailRequest { query: Query::native("message:line"), since: Some(base * 1_000_000) }).unwrap();
    let mut got: Vec<String> = Vec::new();
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut step = 0;
    while got.len() < 7 && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(TailEvent::Records(rs))) => got.extend(rs.iter().map(|r| r.message.clone())),
            Ok(Some(TailEvent::Status(s))) => statuses.push(s),
            Ok(Some(other)) => panic!("unexpected {other:?}"),
            Ok(None) | Err(_) => break,
        }
        // new documents arrive, some on the millisecond already tailed
        step += 1;
        let mut data = data.lock().unwrap();
        match step {
            2 => data.docs.extend([(base, 3), (base + 1, 4)]),
            4 => data.docs.extend([(base + 1, 5), (base + 1, 6), (base + 2, 7)]),
            _ => {}
        }
    }
    assert_eq!(got, ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]);
    assert_eq!(statuses[0], "polling nginx-access every 40ms");
    assert!(statuses.iter().any(|s| s.starts_with("live: ") && s.ends_with(" docs/s")), "{statuses:?}");
    let body = &server.bodies(SEARCH)[0];
    assert_eq!(
        body,
        &json!({"size": 500, "track_total_hits": false, "sort": [{"@timestamp": {"order": "asc"}}],
                "query": {"bool": {"filter": [{"query_string": {"query": "message:line"}},
                    {"range": {"@timestamp": {"gte": "2026-11-22T08:10:00.000Z", "format": "strict_date_optional_time"}}}]}}})
    );
    drop(rx);
}

#[tokio::test]
async fn tail_ends_with_the_error_when_the_index_is_gone() {
    let server = EsServer::start(quickwit(|_| Reply::fixture(404, "reference/error_index_not_found_exception_404.json"))).await;
    let es = source(&server.url);
    let mut rx = es.tail(TailRequest { query: Query::kql(""), since: None }).unwrap();
    let mut failed = None;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        if let TailEvent::Failed(e) = ev {
            failed = Some(e);
            break;
        }
    }
    assert!(matches!(failed, Some(SourceError::Server { status: 404, .. })), "{failed:?}");
}

#[tokio::test]
async fn kql_is_translated_with_the_index_field_caps_and_time_zone() {
    let server = EsServer::start(quickwit(|_| Reply::fixture(200, "quickwit/search_size0_track_total_hits_true.json"))).await;
    let mut c = config(&server.url, "nginx-access");
    c.time_zone = Some("Europe/Paris".into());
    let es = EsSource::new(c).unwrap();
    for q in ["status >= 400 and not method:GET", "@timestamp >= \"2026-11-22\""] {
        es.search(SearchRequest { query: Query::kql(q), range: hour_range(), limit: 5, cursor: None }).await.unwrap();
    }
    let bodies = server.bodies(SEARCH);
    // Kibana's translation (status is a long, method a keyword in the field caps)
    let kql = json!({"bool": {"filter": [
        {"bool": {"should": [{"range": {"status": {"gte": "400"}}}], "minimum_should_match": 1}},
        {"bool": {"must_not": {"bool": {"should": [{"match": {"method": "GET"}}], "minimum_should_match": 1}}}}]}});
    assert_eq!(bodies[0]["query"], json!({"bool": {"filter": [kql, range_clause()]}}));
    let date = json!({"bool": {"should": [{"range": {"@timestamp": {"gte": "2026-11-22", "time_zone": "Europe/Paris"}}}], "minimum_should_match": 1}});
    assert_eq!(bodies[1]["query"], json!({"bool": {"filter": [date, range_clause()]}}));

    // a KQL syntax error is a query error (exit status 2) with the caret, and nothing is sent
    let err = es.search(SearchRequest { query: Query::kql("status:("), range: hour_range(), limit: 5, cursor: None }).await.unwrap_err();
    assert!(matches!(&err, SourceError::Query(m) if m.contains("line 1, column 9") && m.contains('^')), "{err}");
    assert_eq!(err.exit_code(), 2);
    assert_eq!(server.bodies(SEARCH).len(), 2);
}

#[tokio::test]
async fn open_range_histograms_ask_for_the_data_span_first() {
    let server = EsServer::start(quickwit(|r| {
        let body = r.body.as_ref().unwrap();
        if body["aggs"].get("min_time").is_some() {
            // answer shape of a min/max aggregation on a date field (value in epoch ms, float)
            Reply::json(json!({"hits": {"total": {"value": 2383, "relation": "eq"}, "hits": []},
                "aggregations": {"min_time": {"value": 1795331682000.0_f64, "value_as_string": "2026-11-22T07:14:42Z"},
                                 "max_time": {"value": 1795335281000.0_f64, "value_as_string": "2026-11-22T08:14:41Z"}}}))
        } else {
            Reply::fixture(200, "quickwit/search_date_histogram.json")
        }
    }))
    .await;
    let es = source(&server.url);
    let h = es
        .histogram(HistogramRequest { query: Query::kql(""), range: TimeRange::ALL, interval: None, target_buckets: 6, split: Split::None })
        .await
        .unwrap();
    let bodies = server.bodies(SEARCH);
    assert_eq!(
        bodies[0],
        json!({"size": 0, "track_total_hits": true, "query": {"bool": {"filter": []}},
               "aggs": {"min_time": {"min": {"field": "@timestamp"}}, "max_time": {"max": {"field": "@timestamp"}}}})
    );
    assert_eq!(bodies[1]["aggs"]["over_time"]["date_histogram"]["fixed_interval"], json!("10m"));
    assert_eq!(h.buckets.first().map(|b| b.start), Some(at("2026-11-22T07:10:00Z")));
    assert_eq!(h.buckets.last().map(|b| b.start), Some(at("2026-11-22T08:10:00Z")));
}

#[tokio::test]
async fn field_values_for_autocomplete() {
    let server = EsServer::start(quickwit(|_| {
        let mut answer = fixture("quickwit/search_terms_aggs_status_clientip_useragent.json");
        answer["aggregations"] = json!({"top": answer["aggregations"]["status"].take()});
        Reply::json(answer)
    }))
    .await;
    let es = source(&server.url);
    let values = es.field_values("status".into(), hour_range(), 5).await.unwrap();
    assert_eq!(values, ["404", "304", "200", "206", "403"]);
    assert_eq!(
        server.bodies(SEARCH)[0],
        json!({"size": 0, "track_total_hits": true, "query": {"bool": {"filter": [range_clause()]}},
               "aggs": {"top": {"terms": {"field": "status", "size": 5}}}})
    );
}

#[tokio::test]
async fn tail_from_now_starts_at_the_newest_document_without_repeating_it() {
    // The server's newest documents are a little behind this machine's clock (ingestion lag).
    let base = logsleuth::time::now_nanos() / 1_000_000 - 3_000;
    let data = Arc::new(Mutex::new(Dataset { docs: vec![(base - 5, 0), (base, 1), (base, 2)], with_ids: true }));
    let d = data.clone();
    let server = EsServer::start(quickwit(move |r| Reply::json(d.lock().unwrap().search(r.body.as_ref().unwrap())))).await;
    let es = source(&server.url);
    let mut rx = es.tail(TailRequest { query: Query::kql(""), since: None }).unwrap();
    let mut got: Vec<String> = Vec::new();
    let mut polls = 0;
    while got.len() < 2 && polls < 200 {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(TailEvent::Records(rs))) => got.extend(rs.iter().map(|r| r.message.clone())),
            Ok(Some(TailEvent::Status(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
        polls += 1;
        if polls == 2 {
            // written late, on the newest millisecond already there, and after it
            data.lock().unwrap().docs.extend([(base, 3), (base + 1, 4)]);
        }
    }
    assert_eq!(got, ["line 3", "line 4"]);
    let first = &server.bodies(SEARCH)[0];
    assert_eq!(first["sort"], json!([{"@timestamp": {"order": "desc"}}]));
    assert_eq!(first["size"], json!(100));
}

#[tokio::test]
async fn a_failed_first_page_closes_its_point_in_time() {
    let server = EsServer::start(|r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(None, "8.13.4"),
        ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/logs/_pit?keep_alive=5m") => Reply::fixture(200, "reference/open_pit.json"),
        ("POST", "/_search") => Reply::fixture(400, "reference/error_parsing_exception_400.json"),
        ("DELETE", "/_pit") => Reply::fixture(200, "reference/close_pit.json"),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let es = EsSource::new(config(&server.url, "logs")).unwrap();
    let err = es
        .search(SearchRequest { query: Query::native(r#"{"terms": {"ohno": 1}}"#), range: hour_range(), limit: 5, cursor: None })
        .await
        .unwrap_err();
    assert_eq!(err, SourceError::Query("parsing_exception: [terms] query does not support [ohno]".into()));
    let methods: Vec<(String, String)> = server.requests().into_iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(methods.last(), Some(&("DELETE".to_string(), "/_pit".to_string())));
}

#[tokio::test]
async fn a_role_without_point_in_time_permission_pages_without_one() {
    let data = tied_dataset(true);
    let d = data.clone();
    let server = EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => cluster_info(Some("opensearch"), "2.11.1"),
        ("GET", "/logs/_field_caps?fields=*") => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/logs/_search/point_in_time?keep_alive=5m") => Reply::status(403, json!({"error": {"root_cause": [{"type": "security_exception",
            "reason": "no permissions for [indices:data/read/point_in_time/create] and User [name=reader, backend_roles=[], requestedTenant=null]"}],
            "type": "security_exception", "reason": "no permissions for [indices:data/read/point_in_time/create] and User [name=reader, backend_roles=[], requestedTenant=null]"}, "status": 403})),
        ("POST", "/logs/_search") => Reply::json(d.search(r.body.as_ref().unwrap())),
        _ => Reply::status(400, json!({"error": "unexpected request"})),
    })
    .await;
    let es = EsSource::new(config(&server.url, "logs")).unwrap();
    let first = es
        .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit: 4, cursor: None })
        .await
        .unwrap();
    assert_eq!(first.warnings.len(), 1);
    assert!(first.warnings[0].contains("indices:data/read/point_in_time/create"), "{:?}", first.warnings);
    assert_eq!(page_all(&es, 4).await, expected_order(&data));
    assert_eq!(server.requests().iter().filter(|r| r.path.contains("point_in_time")).count(), 1);
}

const TIES_CAPS: &str = "/nginx-ties/_field_caps?fields=*";
const TIES_SEARCH: &str = "/nginx-ties/_search";

/// The captured `nginx-ties` index (51,462 nginx lines on 20 whole seconds) behind an
/// ES-API server: Quickwit's (no point in time, hits without `_id`) or Elasticsearch 8's.
fn ties_server(index: Arc<TiedIndex>, elasticsearch: bool) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |r: &Recorded| {
        let body = r.body.clone().unwrap_or(Json::Null);
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") if elasticsearch => cluster_info(None, "8.13.4"),
            ("GET", "/") => quickwit_info(),
            ("GET", TIES_CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
            ("POST", "/nginx-ties/_pit?keep_alive=5m") if elasticsearch => Reply::json(json!({"id": "pit-1"})),
            ("DELETE", "/_pit") if elasticsearch => Reply::fixture(200, "reference/close_pit.json"),
            ("POST", "/_search") if elasticsearch => Reply::json(index.search(&body)),
            ("POST", TIES_SEARCH) => Reply::json(index.search(&body)),
            ("POST", "/nginx-ties/_search?scroll=5m") => Reply::json(index.scroll_start(&body)),
            ("POST", "/_search/scroll") => index.scroll_next(&body),
            ("DELETE", "/_search/scroll") => index.scroll_delete(&body),
            _ => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
        }
    }
}

fn tied_index(with_ids: bool) -> (Arc<TiedIndex>, TimeRange) {
    let first = at("2026-12-01T19:36:35Z") / 1_000_000;
    let index = Arc::new(TiedIndex::new(nginx_lines(), first, 20, with_ids));
    (index, TimeRange::between(at("2026-12-01T19:36:35Z"), at("2026-12-01T19:36:55Z")))
}

/// Reads every page; returns the messages and the warnings.
async fn read_all(es: &EsSource, range: TimeRange, limit: usize) -> (Vec<String>, Vec<String>) {
    let mut request = SearchRequest { query: Query::kql(""), range, limit, cursor: None };
    let (mut lines, mut warnings) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let page = es.search(request.clone()).await.unwrap();
        assert!(page.records.len() <= limit);
        assert!(page.records.windows(2).all(|w| w[0].timestamp >= w[1].timestamp), "newest first");
        lines.extend(page.records.into_iter().map(|r| r.message));
        warnings.extend(page.warnings);
        match page.next {
            Some(c) => request.cursor = Some(c),
            None => return (lines, warnings),
        }
    }
    panic!("paging must end");
}

fn assert_each_line_once(mut got: Vec<String>) {
    let mut want = nginx_lines();
    assert_eq!(got.len(), want.len(), "every document, none twice");
    got.sort();
    want.sort();
    assert!(got == want, "the same lines");
}

#[tokio::test]
async fn ties_larger_than_the_remembered_identities_are_read_by_scroll() {
    let (index, range) = tied_index(false);
    let server = EsServer::start(ties_server(index.clone(), false)).await;
    let es = EsSource::new(config(&server.url, "nginx-ties")).unwrap();
    // 2,500 a page: the first timestamp's ~2,573 documents fill more than the 2,000 the
    // cursor remembers, so the rest is read through a scroll.
    let (lines, warnings) = read_all(&es, range, 2_500).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_each_line_once(lines);
    let reqs = server.requests();
    let start: Vec<&Recorded> = reqs.iter().filter(|r| r.path == "/nginx-ties/_search?scroll=5m").collect();
    assert_eq!(start.len(), 1, "one scroll");
    let body = start[0].body.as_ref().unwrap();
    assert_eq!(body["sort"], json!([{"@timestamp": {"order": "desc"}}]));
    assert_eq!(body.get("search_after"), None);
    // The scroll covers what is at or before the crowded second.
    assert_eq!(
        body["query"]["bool"]["filter"][0]["range"]["@timestamp"],
        json!({"gte": "2026-12-01T19:36:35.000Z", "lt": "2026-12-01T19:36:54.001Z", "format": "strict_date_optional_time"})
    );
    let next = reqs.iter().filter(|r| r.path == "/_search/scroll" && r.method == "POST").count();
    assert!(next >= 19, "{next} scroll pages");
    assert_eq!(reqs.iter().filter(|r| r.method == "DELETE" && r.path == "/_search/scroll").count(), 1, "the scroll is deleted");
    assert_eq!(index.open_scrolls(), 0);
}

#[tokio::test]
async fn ties_inside_a_point_in_time_page_exactly_on_shard_doc() {
    let (index, range) = tied_index(true);
    let server = EsServer::start(ties_server(index.clone(), true)).await;
    let es = EsSource::new(config(&server.url, "nginx-ties")).unwrap();
    let (lines, warnings) = read_all(&es, range, 2_500).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_each_line_once(lines);
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| !r.path.contains("scroll")), "no scroll needed inside a point in time");
    let bodies = server.bodies("/_search");
    assert!(bodies.iter().all(|b| b["sort"][1] == json!({"_shard_doc": "desc"})));
    assert_eq!(bodies.len(), 21);
}

#[tokio::test]
async fn without_a_scroll_the_old_continuation_says_what_it_may_skip() {
    let (index, range) = tied_index(false);
    let tied = ties_server(index, false);
    let server = EsServer::start(move |r: &Recorded| {
        if r.path.contains("scroll") { Reply::fixture(404, "quickwit/error_open_pit_404.json") } else { tied(r) }
    })
    .await;
    let es = EsSource::new(config(&server.url, "nginx-ties")).unwrap();
    let (_, warnings) = read_all(&es, range, 2_500).await;
    assert!(warnings.iter().any(|w| w.contains("refused a scroll")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("may skip some")), "{warnings:?}");
}
