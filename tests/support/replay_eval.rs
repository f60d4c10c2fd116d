//! Replay evaluators over one set of real log lines: the shared nginx log
//! (`tests/fixtures/local/nginx_logs.gz`) plus the planted burst of `tests/changes_cli.rs`
//! (ten minutes of 502s from a new client address and agent), each line parsed by the product's
//! own nginx parser ([`logsleuth::formats`]). [`LokiEval`] answers the Loki 3.4 API the way a Loki
//! holding these lines in `{job="nginx"}` would (metric queries over `| pattern`, `|>` line
//! filters and `| L != ""` label filters, log queries in the categorized `streams` shape,
//! labels, and the pattern ingester or its 404); [`EsEval`] answers Elasticsearch's
//! `_field_caps` (the captured Quickwit `nginx-access` caps), `terms`, `date_histogram`,
//! `categorize_text` (or its 400) and search pages. Anything else they are asked panics, so a
//! test through them also asserts what logsleuth sends.
#![allow(dead_code)]

use std::collections::BTreeMap;

use logsleuth::formats::{LogFormat, ParseOptions};
use logsleuth::model::Nanos;
use logsleuth::time::{NS_PER_SEC, format_rfc3339_millis, parse_absolute};
use serde_json::{Value as Json, json};

/// The burst's client address.
pub const BURST_IP: &str = "203.0.113.77";
/// The burst's user agent.
pub const BURST_AGENT: &str = "EvilBot/9.9";
/// Lines of the burst: one every two seconds for ten minutes (12:00:00 – 12:09:58).
pub const BURST_LINES: usize = 300;
/// The stream selector the lines are in.
pub const SELECTOR: &str = r#"{job="nginx"}"#;
/// The `| pattern` stage Loki is sent for nginx (`--parser nginx`): the labels it extracts.
pub const NGINX_STAGE: &str = r#"| pattern `<remote_addr> - <remote_user> [<time_local>] "<method> <path> <protocol>" <status> <body_bytes_sent> "<http_referer>" "<http_user_agent>"`"#;
/// Labels the nginx pattern stage extracts.
const PATTERN_LABELS: [&str; 10] =
    ["remote_addr", "remote_user", "time_local", "method", "path", "protocol", "status", "body_bytes_sent", "http_referer", "http_user_agent"];
/// Servers store a line at its arrival, a little after the second its text says: every line is
/// 250 ms after it, so no line sits on a bucket boundary (Loki counts `(t - span, t]`, the
/// others `[start, end)`; off the boundaries they agree).
pub const ARRIVAL: Nanos = 250_000_000;

/// The burst's lines, in nginx's combined format (as `tests/changes_cli.rs` writes them).
pub fn burst_lines() -> Vec<String> {
    (0..BURST_LINES)
        .map(|i| {
            let s = i * 2;
            format!(
                "{BURST_IP} - - [20/May/2015:12:{:02}:{:02} +0000] \"POST /api/checkout HTTP/1.1\" 502 {} \"-\" \"{BURST_AGENT}\"",
                s / 60,
                s % 60,
                150 + i % 7
            )
        })
        .collect()
}

/// One stored line.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stored timestamp, ns.
    pub ts: Nanos,
    /// The raw line.
    pub line: String,
    /// Fields by the product's nginx parser (values as text).
    pub fields: BTreeMap<String, String>,
}

/// The nginx log and the burst, parsed, oldest first.
pub fn events() -> Vec<Event> {
    let mut lines = super::es_server::nginx_lines();
    lines.extend(burst_lines());
    let opts = ParseOptions::default();
    let mut out: Vec<Event> = lines
        .into_iter()
        .map(|line| {
            let record = logsleuth::formats::parse(LogFormat::AccessCombined, &line, &opts).unwrap_or_else(|| panic!("nginx line: {line}"));
            let fields = record.fields.iter().map(|(k, v)| (k.to_string(), v.as_text())).collect();
            Event { ts: record.timestamp.expect("a timestamp") + ARRIVAL, line, fields }
        })
        .collect();
    out.sort_by_key(|e| e.ts);
    out
}

/// Events with `from <= ts < to` (sorted input).
fn between(events: &[Event], from: Nanos, to: Nanos) -> &[Event] {
    let a = events.partition_point(|e| e.ts < from);
    let b = events.partition_point(|e| e.ts < to);
    &events[a..b.max(a)]
}

/// Events with `from < ts <= to` (Loki's metric range).
fn after_until(events: &[Event], from: Nanos, to: Nanos) -> &[Event] {
    let a = events.partition_point(|e| e.ts <= from);
    let b = events.partition_point(|e| e.ts <= to);
    &events[a..b.max(a)]
}

/// Loki's pattern matching (`|>`, the ingester's templates): `<_>` (or any `<name>`) matches
/// any text, up to the next literal; the literals in order, the first at the start, the last at
/// the end when the template ends with one.
pub fn pattern_matches(template: &str, line: &str) -> bool {
    let mut literals: Vec<&str> = Vec::new();
    let mut rest = template;
    let starts_with_capture = template.starts_with('<');
    while let Some(open) = rest.find('<') {
        match rest[open..].find('>') {
            Some(close) => {
                literals.push(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    let ends_with_literal = !rest.is_empty();
    literals.push(rest);
    if literals.len() == 1 {
        return template == line;
    }
    let mut at = 0usize;
    let n = literals.len();
    for (i, lit) in literals.iter().enumerate() {
        if lit.is_empty() {
            continue;
        }
        if i == 0 && !starts_with_capture {
            if !line.starts_with(lit) {
                return false;
            }
            at = lit.len();
        } else if i == n - 1 && ends_with_literal {
            return line.len() >= at + lit.len() && line.ends_with(lit);
        } else {
            match line[at..].find(lit) {
                Some(p) => at += p + lit.len(),
                None => return false,
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Loki

/// One stage of a log query.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// `| pattern <nginx>`.
    Pattern,
    /// `|> <template>`.
    PatternFilter(String),
    /// `| L != ""`.
    NonEmpty(String),
}

/// Parses the log queries logsleuth sends for these lines: `{job="nginx"}` and the stages above.
fn parse_log_query(q: &str) -> Vec<Stage> {
    let mut rest = q.trim().strip_prefix(SELECTOR).unwrap_or_else(|| panic!("selector {SELECTOR} expected: {q}")).trim_start();
    let mut stages = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(NGINX_STAGE) {
            stages.push(Stage::Pattern);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("|> `") {
            let end = r.find('`').unwrap_or_else(|| panic!("unclosed pattern literal: {q}"));
            stages.push(Stage::PatternFilter(r[..end].to_string()));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("|> ") {
            // A double-quoted (Go/JSON-escaped) template, for one holding a backquote.
            let mut end = None;
            let mut escaped = false;
            for (i, c) in r.char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.filter(|_| r.starts_with('"')).unwrap_or_else(|| panic!("bad pattern literal: {q}"));
            stages.push(Stage::PatternFilter(serde_json::from_str(&r[..end]).unwrap_or_else(|e| panic!("{e}: {q}"))));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("| ") {
            let (label, r) = r.split_once(" != \"\"").unwrap_or_else(|| panic!("unexpected stage in {q}"));
            assert!(label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "label {label} in {q}");
            stages.push(Stage::NonEmpty(label.to_string()));
            rest = r;
        } else {
            panic!("unexpected LogQL {rest:?} in {q}");
        }
        rest = rest.trim_start();
    }
    stages
}

/// Labels of an event through the stages (`None`: filtered out).
fn through(e: &Event, stages: &[Stage]) -> Option<BTreeMap<String, String>> {
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for s in stages {
        match s {
            Stage::Pattern => {
                for name in PATTERN_LABELS {
                    if let Some(v) = e.fields.get(name).filter(|v| !v.is_empty()) {
                        labels.insert(name.to_string(), v.clone());
                    }
                }
            }
            Stage::PatternFilter(t) => {
                if !pattern_matches(t, &e.line) {
                    return None;
                }
            }
            Stage::NonEmpty(l) => {
                if labels.get(l).is_none_or(|v| v.is_empty()) {
                    return None;
                }
            }
        }
    }
    Some(labels)
}

/// A metric query: `[topk(N, ] sum [by (L)] (count_over_time(<log> [<range>]))[)]`.
#[derive(Debug, Clone)]
struct Metric {
    topk: Option<usize>,
    by: Option<String>,
    stages: Vec<Stage>,
    range: Nanos,
}

fn parse_metric(q: &str) -> Metric {
    let mut s = q.trim();
    let mut topk = None;
    if let Some(r) = s.strip_prefix("topk(") {
        let (k, r) = r.split_once(", ").unwrap_or_else(|| panic!("topk: {q}"));
        topk = Some(k.parse().unwrap_or_else(|_| panic!("topk k: {q}")));
        s = r.strip_suffix(')').unwrap_or_else(|| panic!("topk: {q}"));
    }
    let (by, inner) = if let Some(r) = s.strip_prefix("sum by (") {
        let (label, r) = r.split_once(") (").unwrap_or_else(|| panic!("sum by: {q}"));
        (Some(label.to_string()), r.strip_suffix(')').unwrap_or_else(|| panic!("sum by: {q}")))
    } else if let Some(r) = s.strip_prefix("sum(") {
        (None, r.strip_suffix(')').unwrap_or_else(|| panic!("sum: {q}")))
    } else {
        panic!("unexpected metric query {q}")
    };
    let inner = inner.strip_prefix("count_over_time(").and_then(|r| r.strip_suffix("])")).unwrap_or_else(|| panic!("count_over_time: {q}"));
    let (log, range) = inner.rsplit_once(" [").unwrap_or_else(|| panic!("range: {q}"));
    let range = logsleuth::time::parse_duration(range).unwrap_or_else(|e| panic!("range {range}: {e}"));
    Metric { topk, by, stages: parse_log_query(log), range }
}

/// Counts of a metric over events, per label set of `by`.
fn counts(m: &Metric, events: &[Event]) -> BTreeMap<String, (Json, u64)> {
    let mut out: BTreeMap<String, (Json, u64)> = BTreeMap::new();
    for e in events {
        let Some(labels) = through(e, &m.stages) else { continue };
        let metric = match &m.by {
            Some(l) => match labels.get(l) {
                Some(v) => json!({ l.as_str(): v }),
                None => json!({}),
            },
            None => json!({}),
        };
        out.entry(metric.to_string()).or_insert((metric, 0)).1 += 1;
    }
    out
}

/// What a Loki pattern ingester answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ingester {
    /// None: `/loki/api/v1/patterns` is a 404.
    Absent,
    /// One: templates from the lines.
    Present,
}

/// A Loki holding the events in `{job="nginx"}`.
pub struct LokiEval {
    /// The events.
    pub events: Vec<Event>,
    /// Whether it has a pattern ingester.
    pub ingester: Ingester,
}

fn ns(r: &super::loki_server::Recorded, name: &str) -> Nanos {
    r.param(name).unwrap_or_else(|| panic!("{name} in {r:?}")).parse().unwrap_or_else(|_| panic!("{name} in {r:?}"))
}

/// The ingester's template of an nginx line: what varies between requests of one kind
/// (address, time, status, size) is `<_>`; the request line, referer and agent are kept.
pub fn ingester_template(e: &Event) -> String {
    let f = |n: &str| e.fields.get(n).cloned().unwrap_or_default();
    format!(
        "<_> - - [<_> +0000] \"{} {} {}\" <_> <_> \"{}\" \"{}\"",
        f("method"),
        f("path"),
        f("protocol"),
        f("http_referer"),
        f("http_user_agent")
    )
}

impl LokiEval {
    /// The answer to one request (panics on a request it does not understand).
    pub fn answer(&self, r: &super::loki_server::Recorded) -> super::loki_server::Reply {
        use super::loki_server::Reply;
        let ok = |data: Json| Reply::Json(200, json!({"status": "success", "data": data}).to_string());
        let query = r.param("query").unwrap_or_default();
        match r.path.as_str() {
            "/loki/api/v1/query_range" if r.param("step").is_some() => {
                let m = parse_metric(query);
                assert!(m.topk.is_none(), "{query}");
                let step = logsleuth::time::parse_duration(r.param("step").unwrap()).unwrap();
                assert_eq!(m.range, step, "a histogram counts each step once: {query}");
                let (start, end) = (ns(r, "start"), ns(r, "end"));
                let mut series: BTreeMap<String, (Json, Vec<Json>)> = BTreeMap::new();
                let mut t = start;
                while t <= end {
                    for (key, (metric, n)) in counts(&m, after_until(&self.events, t - m.range, t)) {
                        series.entry(key).or_insert((metric, Vec::new())).1.push(json!([t / NS_PER_SEC, n.to_string()]));
                    }
                    t += step;
                }
                let result: Vec<Json> = series.into_values().map(|(metric, values)| json!({"metric": metric, "values": values})).collect();
                ok(json!({"resultType": "matrix", "result": result}))
            }
            "/loki/api/v1/query_range" => {
                let stages = parse_log_query(query);
                assert_eq!(r.param("direction"), Some("backward"), "{r:?}");
                let limit: usize = r.param("limit").unwrap().parse().unwrap();
                let (start, end) = (ns(r, "start"), ns(r, "end"));
                let values: Vec<Json> = between(&self.events, start, end)
                    .iter()
                    .rev()
                    .filter_map(|e| Some((e, through(e, &stages)?)))
                    .take(limit)
                    .map(|(e, labels)| {
                        let mut extra = json!({});
                        if !labels.is_empty() {
                            extra["parsed"] = json!(labels);
                        }
                        json!([e.ts.to_string(), e.line, extra])
                    })
                    .collect();
                let result: Vec<Json> = if values.is_empty() {
                    Vec::new()
                } else {
                    vec![json!({"stream": {"job": "nginx", "service_name": "nginx"}, "values": values})]
                };
                ok(json!({"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": result}))
            }
            "/loki/api/v1/query" => {
                let m = parse_metric(query);
                let time = ns(r, "time");
                let mut samples: Vec<(Json, u64)> = counts(&m, after_until(&self.events, time - m.range, time)).into_values().collect();
                if let Some(k) = m.topk {
                    // topk keeps the k largest; Loki lists them by label set, reversed here so
                    // nothing relies on the server's order.
                    samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
                    samples.truncate(k);
                    samples.sort_by_key(|s| std::cmp::Reverse(s.0.to_string()));
                }
                let result: Vec<Json> =
                    samples.into_iter().map(|(metric, n)| json!({"metric": metric, "value": [time as f64 / 1e9, n.to_string()]})).collect();
                ok(json!({"resultType": "vector", "result": result}))
            }
            // The stream labels (the captured answer's shape, `tests/fixtures/loki/labels.json`).
            "/loki/api/v1/labels" => ok(json!(["job", "service_name"])),
            // Loki 3.4 detects json and logfmt fields only: for access-log lines it finds none
            // and answers `{}` (the shape of tests/fixtures/loki/detected_fields_empty.json).
            "/loki/api/v1/detected_fields" => {
                assert_eq!(query, SELECTOR, "{r:?}");
                Reply::Json(200, "{}".into())
            }
            "/loki/api/v1/patterns" => match self.ingester {
                Ingester::Absent => Reply::Text(404, "404 page not found\n".into()),
                Ingester::Present => {
                    assert_eq!(query, SELECTOR, "the ingester knows streams only");
                    let step = r.param("step").unwrap().parse::<i64>().unwrap() * NS_PER_SEC;
                    let (start, end) = (ns(r, "start"), ns(r, "end"));
                    // The shape of tests/fixtures/loki/patterns_nginx.json: samples per step.
                    let mut found: BTreeMap<String, BTreeMap<i64, u64>> = BTreeMap::new();
                    for e in between(&self.events, start, end) {
                        let bucket = (start + (e.ts - start) / step * step) / NS_PER_SEC;
                        *found.entry(ingester_template(e)).or_default().entry(bucket).or_default() += 1;
                    }
                    let data: Vec<Json> = found
                        .into_iter()
                        .map(|(pattern, samples)| json!({"pattern": pattern, "samples": samples.into_iter().map(|(t, n)| json!([t, n])).collect::<Vec<_>>()}))
                        .collect();
                    ok(json!(data))
                }
            },
            other => panic!("unexpected Loki request {other}: {r:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch

/// The index name of the captured Quickwit field caps.
pub const INDEX: &str = "nginx-access";

/// How the server answers `categorize_text`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Categorize {
    /// Elasticsearch 7.10: the real `parsing_exception` 400.
    Refused,
    /// Elasticsearch ≥ 7.16: categories.
    Categories,
}

/// An Elasticsearch index holding the events (documents named as the captured Quickwit
/// `nginx-access` index names them: `clientip`, `user_agent`, `status` a long, …).
pub struct EsEval {
    /// The events.
    pub events: Vec<Event>,
    /// `categorize_text` support.
    pub categorize: Categorize,
}

/// Month and day names: Elasticsearch's categorization analyzer drops them.
const DATE_WORDS: [&str; 19] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A category key as `categorize_text`'s default analyzer gives it: the message's words
/// (letters, `-`, `_`), without the ones holding digits or naming dates.
pub fn category_key(message: &str) -> String {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-'))
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()) && !DATE_WORDS.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Event {
    /// The document field as the index has it.
    pub fn es_field(&self, name: &str) -> Option<Json> {
        let f = |n: &str| self.fields.get(n).cloned();
        Some(match name {
            "clientip" => json!(f("remote_addr")?),
            "user_agent" => json!(f("http_user_agent")?),
            "status" => json!(f("status")?.parse::<i64>().ok()?),
            "bytes" => json!(f("body_bytes_sent")?.parse::<i64>().ok()?),
            "path" | "method" | "request" => json!(f(name)?),
            "referer" => json!(f("http_referer")?),
            "http_version" => json!(f("protocol")?),
            "message" => json!(self.line),
            _ => return None,
        })
    }

    /// The `_source`.
    pub fn source(&self) -> Json {
        let mut doc = json!({"@timestamp": format_rfc3339_millis(self.ts), "host": "edge-1"});
        for name in ["message", "clientip", "user_agent", "status", "bytes", "path", "method", "request", "referer", "http_version"] {
            if let Some(v) = self.es_field(name) {
                doc[name] = v;
            }
        }
        doc
    }
}

fn millis(v: &Json) -> Nanos {
    parse_absolute(v.as_str().expect("RFC 3339 bound"), None).expect("RFC 3339 bound")
}

/// `terms` over events: count desc, key asc; numbers as numbers (with no `key_as_string`).
fn terms(events: &[&Event], terms: &Json) -> Json {
    let field = terms["field"].as_str().unwrap();
    let size = terms["size"].as_u64().unwrap() as usize;
    if let Some(s) = terms.get("shard_size") {
        assert!(s.as_u64().unwrap() as usize >= size, "{terms}");
    }
    let mut counts: BTreeMap<String, (Json, u64)> = BTreeMap::new();
    for e in events {
        if let Some(v) = e.es_field(field) {
            counts.entry(v.to_string()).or_insert((v, 0)).1 += 1;
        }
    }
    let mut ranked: Vec<(Json, u64)> = counts.into_values().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
    let other: u64 = ranked.iter().skip(size).map(|(_, n)| n).sum();
    let buckets: Vec<Json> = ranked.into_iter().take(size).map(|(k, n)| json!({"key": k, "doc_count": n})).collect();
    json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets})
}

fn fixed_interval(text: &str) -> Nanos {
    logsleuth::time::parse_duration(text).unwrap_or_else(|e| panic!("fixed_interval {text}: {e}"))
}

/// Time buckets `[key, key + interval)` from the first document's to the last's (or over
/// `extended_bounds`), in ms.
fn date_buckets<'a>(hits: &[&'a Event], h: &Json) -> Vec<(i64, Vec<&'a Event>)> {
    let interval = fixed_interval(h["fixed_interval"].as_str().unwrap()) / 1_000_000;
    assert_eq!(h["min_doc_count"], 0, "{h}");
    let mut by_key: BTreeMap<i64, Vec<&Event>> = BTreeMap::new();
    for e in hits {
        by_key.entry((e.ts / 1_000_000).div_euclid(interval) * interval).or_default().push(e);
    }
    let bounds = h.get("extended_bounds").map(|b| (b["min"].as_i64().unwrap().div_euclid(interval) * interval, b["max"].as_i64().unwrap()));
    let (first, last) = match (bounds, by_key.keys().next(), by_key.keys().last()) {
        (Some((a, b)), _, _) => (a, b.div_euclid(interval) * interval),
        (None, Some(a), Some(b)) => (*a, *b),
        _ => return Vec::new(),
    };
    (0..=(last - first) / interval).map(|i| first + i * interval).map(|k| (k, by_key.remove(&k).unwrap_or_default())).collect()
}

impl EsEval {
    /// The answer to one request (panics on one it does not understand).
    pub fn answer(&self, r: &super::es_server::Recorded) -> super::es_server::Reply {
        use super::es_server::{Reply, cluster_info};
        let caps = format!("/{INDEX}/_field_caps?fields=*");
        let search = format!("/{INDEX}/_search");
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/") => match self.categorize {
                Categorize::Refused => cluster_info(None, "7.10.2"),
                Categorize::Categories => cluster_info(None, "8.13.4"),
            },
            ("GET", p) if p == caps => Reply::fixture(200, "quickwit/field_caps.json"),
            ("POST", p) if p == search => self.search(r.body.as_ref().expect("a body")),
            _ => panic!("unexpected Elasticsearch request {r:?}"),
        }
    }

    fn search(&self, body: &Json) -> super::es_server::Reply {
        use super::es_server::Reply;
        let filters = body["query"]["bool"]["filter"].as_array().unwrap_or_else(|| panic!("a bool filter: {body}"));
        assert_eq!(filters.len(), 1, "only the time range: {body}");
        let range = &filters[0]["range"]["@timestamp"];
        assert_eq!(range["format"], "strict_date_optional_time", "{body}");
        let hits: Vec<&Event> = between(&self.events, millis(&range["gte"]), millis(&range["lt"])).iter().collect();
        let answer = |hits_json: Json, aggregations: Option<Json>| {
            let mut a = json!({"took": 3, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": null, "hits": hits_json}});
            if let Some(aggs) = aggregations {
                a["aggregations"] = aggs;
            }
            Reply::json(a)
        };
        let Some(aggs) = body.get("aggs") else {
            // A page of lines, newest first.
            assert_eq!(body["sort"], json!([{"@timestamp": {"order": "desc"}}]), "{body}");
            assert!(body.get("search_after").is_none() && body.get("pit").is_none(), "{body}");
            let size = body["size"].as_u64().unwrap() as usize;
            let page: Vec<Json> = hits
                .iter()
                .rev()
                .take(size)
                .enumerate()
                .map(|(i, e)| json!({"_index": INDEX, "_id": format!("d{}-{i}", e.ts), "_score": null, "_source": e.source(), "sort": [e.ts / 1_000_000]}))
                .collect();
            return answer(json!(page), None);
        };
        assert_eq!((body["size"].clone(), body["track_total_hits"].clone()), (json!(0), json!(true)), "{body}");
        if let Some(top) = aggs.get("top") {
            return answer(json!([]), Some(json!({"top": terms(&hits, &top["terms"])})));
        }
        if let Some(over_time) = aggs.get("over_time") {
            let h = &over_time["date_histogram"];
            assert_eq!(h["field"], "@timestamp");
            let split = over_time.pointer("/aggs/split/terms");
            let buckets: Vec<Json> = date_buckets(&hits, h)
                .into_iter()
                .map(|(key, docs)| {
                    let mut b = json!({"key_as_string": format_rfc3339_millis(key * 1_000_000), "key": key, "doc_count": docs.len()});
                    if let Some(t) = split {
                        b["split"] = terms(&docs, t);
                    }
                    b
                })
                .collect();
            return answer(json!([]), Some(json!({"over_time": {"buckets": buckets}})));
        }
        if let Some(patterns) = aggs.get("patterns") {
            let c = &patterns["categorize_text"];
            if self.categorize == Categorize::Refused {
                return Reply::fixture(400, "reference/error_parsing_exception_400.json");
            }
            assert_eq!(c["field"], "message", "{body}");
            let size = c["size"].as_u64().unwrap() as usize;
            let mut groups: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
            for e in &hits {
                groups.entry(category_key(&e.line)).or_default().push(e);
            }
            let mut ranked: Vec<(String, Vec<&Event>)> = groups.into_iter().collect();
            ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
            let h = &patterns["aggs"]["over_time"]["date_histogram"];
            assert_eq!(patterns["aggs"]["example"], json!({"top_hits": {"size": 1, "_source": {"includes": ["message"]}}}), "{body}");
            let buckets: Vec<Json> = ranked
                .into_iter()
                .take(size)
                .map(|(key, docs)| {
                    let regex = format!(".*?{}.*?", key.split(' ').collect::<Vec<_>>().join(".+?"));
                    let over: Vec<Json> = date_buckets(&docs, h)
                        .into_iter()
                        .map(|(k, d)| json!({"key_as_string": format_rfc3339_millis(k * 1_000_000), "key": k, "doc_count": d.len()}))
                        .collect();
                    let example = docs[0];
                    json!({"doc_count": docs.len(), "key": key, "regex": regex, "max_matching_length": example.line.len() + 10,
                        "over_time": {"buckets": over},
                        "example": {"hits": {"total": {"value": docs.len(), "relation": "eq"}, "max_score": 1.0, "hits": [
                            {"_index": INDEX, "_id": "x", "_score": 1.0, "_source": {"message": example.line}}]}}})
                })
                .collect();
            return answer(json!([]), Some(json!({"patterns": {"buckets": buckets}})));
        }
        panic!("unexpected aggregation: {body}")
    }
}
