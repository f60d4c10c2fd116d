//! One data set through the three backends (local file, a replayed Loki, a replayed
//! Elasticsearch) must give the same charts: the rules of `logsleuth::agg` (split keys,
//! `other` folding, level names, status classes, top-N order) are shared, not re-written per
//! backend. The replay servers answer in the real servers' shapes (Loki 3.4 `matrix`/`vector`/
//! categorized `streams`, ES `_field_caps`, `date_histogram` + `terms`), computed from the same
//! events, as the servers would: Loki groups raw label values (`WARNING` and `warn` are two
//! series), ES gives each time bucket its own top `size` terms and a `sum_other_doc_count`.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use logsleuth::model::{HistogramBucket, Nanos, TimeRange};
use logsleuth::sources::elasticsearch::{EsConfig, EsSource, RetryPolicy};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::loki::logql::LogqlParser;
use logsleuth::sources::loki::tail::Backoff;
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{HistogramRequest, Query, Source, Split, TopRequest};
use logsleuth::time::{NS_PER_SEC, format_rfc3339, parse_absolute};
use pretty_assertions::assert_eq;
use serde_json::{Value as Json, json};

const MINUTE: Nanos = 60 * NS_PER_SEC;

/// One event of the data set.
#[derive(Debug, Clone)]
struct Event {
    ts: Nanos,
    level: &'static str,
    status: String,
    user: Option<String>,
}

impl Event {
    fn json(&self) -> Json {
        let mut doc = json!({"ts": format_rfc3339(self.ts), "level": self.level, "status": self.status, "msg": "request"});
        if let Some(u) = &self.user {
            doc["user"] = json!(u);
        }
        doc
    }

    /// The event's field as text, as Loki's `| json` and ES's keyword fields see it.
    fn field(&self, name: &str) -> Option<String> {
        match name {
            "level" => Some(self.level.to_string()),
            "status" => Some(self.status.clone()),
            "user" => self.user.clone(),
            _ => None,
        }
    }
}

fn t0() -> Nanos {
    parse_absolute("2026-11-22T08:00:00Z", None).unwrap()
}

fn range() -> TimeRange {
    TimeRange::between(t0(), t0() + 3 * MINUTE)
}

/// Three one-minute buckets. Minute 0 has all 12 users (u01..u10 twice, u11 and u12 once);
/// minute 1 has u01..u05 and u11 once each; minute 2 has u01 three times, u02 once and two
/// events without a user. Over the range u06..u11 tie at 2, so the 10 series kept are
/// u01..u10 (ties by value) and u11, u12 fold into `other` even in minute 1, where an ES
/// bucket's own top 10 lists u11. Levels mix `WARNING`/`warn`/`Warning`, `ERR`/`error`,
/// `INFO`/`info`/`information`; one status is `-`.
fn events() -> Vec<Event> {
    let levels = ["WARNING", "info", "warn", "ERR", "INFO", "error", "Warning", "information"];
    let statuses = ["200", "404", "200", "503", "301", "-", "200", "500", "302"];
    let mut users: Vec<(i64, Option<String>)> = Vec::new();
    let u = |n: u32| Some(format!("u{n:02}"));
    for n in 1..=10 {
        users.push((0, u(n)));
        users.push((0, u(n)));
    }
    users.push((0, u(11)));
    users.push((0, u(12)));
    for n in 1..=5 {
        users.push((1, u(n)));
    }
    users.push((1, u(11)));
    for _ in 0..3 {
        users.push((2, u(1)));
    }
    users.push((2, u(2)));
    users.push((2, None));
    users.push((2, None));
    let mut per_minute: HashMap<i64, i64> = HashMap::new();
    users
        .into_iter()
        .enumerate()
        .map(|(i, (minute, user))| {
            let k = per_minute.entry(minute).or_default();
            *k += 1;
            // Never on a bucket boundary: Loki counts (t - step, t], the others [start, end).
            let ts = t0() + minute * MINUTE + *k * 2 * NS_PER_SEC + 1_000_000 * (i as i64 % 7 + 1);
            Event { ts, level: levels[i % levels.len()], status: statuses[i % statuses.len()].to_string(), user }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Loki, replayed: it evaluates the metric queries logsleuth sends over the events.

fn loki_answer(events: &[Event], r: &support::loki_server::Recorded) -> support::loki_server::Reply {
    use support::loki_server::Reply;
    let query = r.param("query").unwrap_or_default().to_string();
    let by = query.split("sum by (").nth(1).and_then(|rest| rest.split(')').next()).map(str::to_string);
    let needs = |label: &str| query.contains(&format!("| {label} != \"\""));
    let wanted = |e: &Event| ["user", "level", "status"].iter().all(|l| !needs(l) || e.field(l).is_some_and(|v| !v.is_empty()));
    let group = |e: &Event| -> Json {
        match &by {
            Some(label) => match e.field(label) {
                Some(v) => json!({ label.as_str(): v }),
                None => json!({}),
            },
            None => json!({}),
        }
    };
    let ns = |name: &str| r.param(name).and_then(|v| v.parse::<i64>().ok());
    match r.path.as_str() {
        "/loki/api/v1/query_range" if r.param("step").is_some() => {
            let step = logsleuth::time::parse_duration(r.param("step").unwrap()).unwrap();
            let (start, end) = (ns("start").unwrap(), ns("end").unwrap());
            assert!(query.contains(&format!("[{}]", r.param("step").unwrap())), "{query}");
            // series (by metric) → samples at each evaluation time t, counting (t - step, t].
            let mut series: BTreeMap<String, (Json, Vec<Json>)> = BTreeMap::new();
            let mut t = start;
            while t <= end {
                let mut counts: BTreeMap<String, (Json, u64)> = BTreeMap::new();
                for e in events.iter().filter(|e| e.ts > t - step && e.ts <= t && wanted(e)) {
                    let metric = group(e);
                    counts.entry(metric.to_string()).or_insert((metric, 0)).1 += 1;
                }
                for (key, (metric, n)) in counts {
                    series.entry(key).or_insert((metric, Vec::new())).1.push(json!([t / NS_PER_SEC, n.to_string()]));
                }
                t += step;
            }
            let result: Vec<Json> = series.into_values().map(|(metric, values)| json!({"metric": metric, "values": values})).collect();
            Reply::Json(200, json!({"status": "success", "data": {"resultType": "matrix", "result": result}}).to_string())
        }
        "/loki/api/v1/query_range" => {
            // A log query (the sample the source learns field roles from): categorized streams.
            let limit: usize = r.param("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
            let mut newest: Vec<&Event> = events.iter().collect();
            newest.sort_by_key(|e| std::cmp::Reverse(e.ts));
            let values: Vec<Json> = newest
                .into_iter()
                .take(limit)
                .map(|e| {
                    let parsed: serde_json::Map<String, Json> = e
                        .json()
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))))
                        .collect();
                    json!([e.ts.to_string(), e.json().to_string(), {"structuredMetadata": {"detected_level": e.level.to_ascii_lowercase()}, "parsed": parsed}])
                })
                .collect();
            let stream = json!({"stream": {"job": "app", "service_name": "app"}, "values": values});
            Reply::Json(
                200,
                json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": [stream]}}).to_string(),
            )
        }
        "/loki/api/v1/query" => {
            let time = ns("time").unwrap();
            let span = query.rsplit('[').next().and_then(|s| s.split(']').next()).unwrap();
            let span = logsleuth::time::parse_duration(span).unwrap();
            let mut counts: BTreeMap<String, (Json, u64)> = BTreeMap::new();
            for e in events.iter().filter(|e| e.ts > time - span && e.ts <= time && wanted(e)) {
                let metric = group(e);
                counts.entry(metric.to_string()).or_insert((metric, 0)).1 += 1;
            }
            let mut samples: Vec<(Json, u64)> = counts.into_values().collect();
            if let Some(k) = query.strip_prefix("topk(").and_then(|q| q.split(',').next()).and_then(|k| k.parse::<usize>().ok()) {
                // topk keeps the k largest; Loki answers them ordered by label set, and reversed
                // here so nothing relies on the server's order.
                samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
                samples.truncate(k);
                samples.sort_by_key(|s| std::cmp::Reverse(s.0.to_string()));
            }
            let result: Vec<Json> =
                samples.into_iter().map(|(metric, n)| json!({"metric": metric, "value": [time as f64 / 1e9, n.to_string()]})).collect();
            Reply::Json(200, json!({"status": "success", "data": {"resultType": "vector", "result": result}}).to_string())
        }
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch, replayed: `_field_caps` for the index and the aggregations logsleuth asks for.

fn keyword() -> Json {
    json!({"keyword": {"type": "keyword", "metadata_field": false, "searchable": true, "aggregatable": true}})
}

fn es_field_caps() -> Json {
    json!({"indices": ["app-2026.11.22"], "fields": {
        "@timestamp": {"date": {"type": "date", "metadata_field": false, "searchable": true, "aggregatable": true}},
        "level": keyword(), "status": keyword(), "user": keyword(),
        "msg": {"text": {"type": "text", "metadata_field": false, "searchable": true, "aggregatable": false}},
        "_id": {"_id": {"type": "_id", "metadata_field": true, "searchable": true, "aggregatable": false}}}})
}

/// A `terms` aggregation over `events` as ES computes it: count desc, key asc, `size` kept.
fn terms(events: &[&Event], field: &str, size: usize) -> Json {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        if let Some(v) = e.field(field) {
            *counts.entry(v).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other: u64 = ranked.iter().skip(size).map(|(_, n)| n).sum();
    let buckets: Vec<Json> = ranked.into_iter().take(size).map(|(k, n)| json!({"key": k, "doc_count": n})).collect();
    json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets})
}

fn es_search(events: &[Event], body: &Json) -> Json {
    let filters = body["query"]["bool"]["filter"].as_array().expect("a bool filter");
    let range = &filters.iter().find(|f| f.get("range").is_some()).expect("a time range")["range"]["@timestamp"];
    let gte = parse_absolute(range["gte"].as_str().expect("a time range"), None).unwrap();
    let lt = parse_absolute(range["lt"].as_str().unwrap(), None).unwrap();
    let hits: Vec<&Event> = events.iter().filter(|e| e.ts >= gte && e.ts < lt).collect();
    let total = json!({"total": {"value": hits.len(), "relation": "eq"}, "max_score": null, "hits": []});
    let aggs = &body["aggs"];
    let aggregations = if let Some(top) = aggs.get("top") {
        let t = &top["terms"];
        json!({"top": terms(&hits, t["field"].as_str().unwrap(), t["size"].as_u64().unwrap() as usize)})
    } else {
        let h = &aggs["over_time"]["date_histogram"];
        assert_eq!(h["fixed_interval"], json!("1m"));
        let interval = 60_000i64;
        let split = aggs["over_time"]["aggs"]["split"]["terms"].clone();
        let mut by_key: BTreeMap<i64, Vec<&Event>> = BTreeMap::new();
        for e in &hits {
            by_key.entry((e.ts / 1_000_000).div_euclid(interval) * interval).or_default().push(e);
        }
        let (first, last) = (*by_key.keys().next().unwrap(), *by_key.keys().last().unwrap());
        let buckets: Vec<Json> = (0..=(last - first) / interval)
            .map(|i| {
                let key = first + i * interval;
                let docs = by_key.get(&key).cloned().unwrap_or_default();
                let mut b = json!({"key_as_string": format_rfc3339(key * 1_000_000), "key": key, "doc_count": docs.len()});
                if split.is_object() {
                    b["split"] = terms(&docs, split["field"].as_str().unwrap(), split["size"].as_u64().unwrap() as usize);
                }
                b
            })
            .collect();
        json!({"over_time": {"buckets": buckets}})
    };
    json!({"took": 2, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
           "hits": total, "aggregations": aggregations})
}

// ---------------------------------------------------------------------------------------------

struct Backends {
    local: LocalSource,
    loki: LokiSource,
    es: EsSource,
    _dir: tempfile::TempDir,
    _loki_server: support::loki_server::LokiServer,
    _es_server: support::es_server::EsServer,
}

async fn backends() -> Backends {
    let events = events();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let text: String = events.iter().map(|e| format!("{}\n", e.json())).collect();
    std::fs::write(&path, text).unwrap();
    let local = LocalSource::open(&[path], LocalOptions::default()).unwrap();
    local.wait_indexed().await;

    let for_loki = events.clone();
    let loki_server = support::loki_server::LokiServer::start(move |r| loki_answer(&for_loki, r)).await;
    let mut http = HttpConfig::new(&loki_server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let backoff = Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) };
    let loki = LokiSource::new(LokiConfig { http, selector: r#"{job="app"}"#.into(), parser: Some(LogqlParser::Json), tenant: None, backoff })
        .unwrap();

    let for_es = events.clone();
    let es_server = support::es_server::EsServer::start(move |r| {
        use support::es_server::Reply;
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/app-*/_field_caps?fields=*") => Reply::json(es_field_caps()),
            ("POST", "/app-*/_search") => Reply::json(es_search(&for_es, r.body.as_ref().unwrap())),
            _ => Reply::status(404, json!({"error": {"type": "resource_not_found_exception", "reason": "no such path"}, "status": 404})),
        }
    })
    .await;
    let mut http = HttpConfig::new(&es_server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let mut config = EsConfig::new(http, "app-*");
    config.retry = RetryPolicy { max_retries: 1, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(20) };
    let es = EsSource::new(config).unwrap();
    Backends { local, loki, es, _dir: dir, _loki_server: loki_server, _es_server: es_server }
}

fn sources(b: &Backends) -> [(&'static str, &dyn Source); 3] {
    [("local", &b.local as &dyn Source), ("loki", &b.loki), ("elasticsearch", &b.es)]
}

/// Each backend's histogram for a split, as (start, count, split) per bucket.
async fn histograms(b: &Backends, split: Split) -> Vec<(&'static str, Vec<HistogramBucket>)> {
    let mut out = Vec::new();
    for (name, source) in sources(b) {
        let request = HistogramRequest { query: Query::kql(""), range: range(), interval: Some(MINUTE), target_buckets: 3, split: split.clone() };
        let h = source.histogram(request).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!h.partial, "{name}: {:?}", h.note);
        out.push((name, h.buckets));
    }
    out
}

fn split_of(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn assert_all_equal(answers: &[(&'static str, Vec<HistogramBucket>)], expected: &[BTreeMap<String, u64>]) {
    for (name, buckets) in answers {
        let starts: Vec<Nanos> = buckets.iter().map(|b| b.start).collect();
        assert_eq!(starts, [t0(), t0() + MINUTE, t0() + 2 * MINUTE], "{name}: bucket starts");
        let counts: Vec<u64> = buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, [22, 6, 6], "{name}: bucket counts");
        let splits: Vec<BTreeMap<String, u64>> = buckets.iter().map(|b| b.split.clone()).collect();
        assert_eq!(splits, expected, "{name}: split");
    }
}

#[tokio::test]
async fn a_field_split_keeps_the_same_ten_series_and_folds_the_rest_into_other_everywhere() {
    let b = backends().await;
    let answers = histograms(&b, Split::Field("user".into())).await;
    let users = |n: std::ops::RangeInclusive<u32>, count: u64| n.map(move |i| (format!("u{i:02}"), count));
    let mut minute0: BTreeMap<String, u64> = users(1..=10, 2).collect();
    minute0.insert("other".into(), 2);
    let mut minute1: BTreeMap<String, u64> = users(1..=5, 1).collect();
    minute1.insert("other".into(), 1);
    let minute2 = split_of(&[("u01", 3), ("u02", 1)]);
    assert_all_equal(&answers, &[minute0, minute1, minute2]);
}

#[tokio::test]
async fn a_level_split_has_the_same_normalised_level_names_everywhere() {
    let b = backends().await;
    let answers = histograms(&b, Split::Level).await;
    // Levels cycle WARNING info warn ERR INFO error Warning information over the 34 events.
    let expected = [
        split_of(&[("warn", 8), ("info", 8), ("error", 6)]),
        split_of(&[("warn", 3), ("info", 2), ("error", 1)]),
        split_of(&[("warn", 2), ("info", 3), ("error", 1)]),
    ];
    assert_all_equal(&answers, &expected);
    for (name, buckets) in &answers {
        let names: std::collections::BTreeSet<&str> = buckets.iter().flat_map(|b| b.split.keys().map(String::as_str)).collect();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["error", "info", "warn"], "{name}");
    }
}

#[tokio::test]
async fn a_status_split_has_the_same_classes_and_other_everywhere() {
    let b = backends().await;
    let answers = histograms(&b, Split::StatusClass).await;
    let expected = [
        split_of(&[("2xx", 8), ("3xx", 4), ("4xx", 3), ("5xx", 5), ("other", 2)]),
        split_of(&[("2xx", 2), ("3xx", 2), ("5xx", 1), ("other", 1)]),
        split_of(&[("2xx", 2), ("3xx", 1), ("4xx", 1), ("5xx", 1), ("other", 1)]),
    ];
    assert_all_equal(&answers, &expected);
}

#[tokio::test]
async fn top_values_come_in_the_same_order_everywhere() {
    let b = backends().await;
    let mut answers = Vec::new();
    for (name, source) in sources(&b) {
        let top = source
            .top(TopRequest { query: Query::kql(""), range: range(), field: "user".into(), size: 7 })
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let buckets: Vec<(String, u64)> = top.buckets.iter().map(|b| (b.value.clone(), b.count)).collect();
        answers.push((name, buckets, top.total, top.other));
    }
    // u06..u11 tie at 2: the order among them is by value.
    let expected: Vec<(String, u64)> =
        [("u01", 6), ("u02", 4), ("u03", 3), ("u04", 3), ("u05", 3), ("u06", 2), ("u07", 2)].iter().map(|(v, c)| (v.to_string(), *c)).collect();
    for (name, buckets, total, other) in answers {
        assert_eq!(buckets, expected, "{name}: top order");
        assert_eq!((total, other), (34, 9), "{name}: total and other");
    }
}
