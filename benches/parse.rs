//! Benchmark 5 of issue 6: decoding a 5000-line Loki `query_range` answer and a 500-hit
//! Elasticsearch `_search` answer with aggregations, against plain `serde_json::from_slice`
//! into a `serde_json::Value` of the same bytes (the reference: the decoders must stay within 1.5x of it).
//!
//! The bodies are built from captured answers in `tests/fixtures/` (a categorized Loki
//! `query_range` of JSON lines, and a Quickwit `_search` page plus its aggregation answers) by
//! repeating their entries until the sizes above are reached, so every entry has the shape a
//! real server sent.

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

use logsleuth::sources::elasticsearch::{hits, response};
use logsleuth::sources::loki::decode;

const LOKI_QUERY_RANGE: &str = include_str!("../tests/fixtures/loki/query_range_json_label_filter_categorized.json");
const ES_PAGE: &str = include_str!("../tests/fixtures/elasticsearch/quickwit/search_sort_desc_page1.json");
const ES_TERMS: &str = include_str!("../tests/fixtures/elasticsearch/quickwit/search_terms_aggs_status_clientip_useragent.json");
const ES_HISTOGRAM: &str = include_str!("../tests/fixtures/elasticsearch/quickwit/search_date_histogram_with_terms_subagg.json");

/// A `query_range` answer with `lines` entries, cycling through the captured ones.
pub fn loki_body(lines: usize) -> Vec<u8> {
    let mut body: Value = serde_json::from_str(LOKI_QUERY_RANGE).expect("fixture is JSON");
    let result = body["data"]["result"].as_array_mut().expect("streams");
    let streams = result.len();
    for (i, stream) in result.iter_mut().enumerate() {
        let values = stream["values"].as_array().expect("values").clone();
        let want = lines / streams + usize::from(i < lines % streams);
        let mut out = Vec::with_capacity(want);
        for k in 0..want {
            let mut v = values[k % values.len()].clone();
            // Distinct, descending times like a backward query.
            let ts: i128 = v[0].as_str().and_then(|s| s.parse().ok()).expect("ns");
            v[0] = Value::String((ts - (k / values.len()) as i128 * 1_000_000_000).to_string());
            out.push(v);
        }
        stream["values"] = Value::Array(out);
    }
    serde_json::to_vec(&body).expect("serializable")
}

/// A `_search` answer with `hits` hits and the captured terms and date-histogram aggregations.
pub fn es_body(hits: usize) -> Vec<u8> {
    let mut body: Value = serde_json::from_str(ES_PAGE).expect("fixture is JSON");
    let captured = body["hits"]["hits"].as_array().expect("hits").clone();
    let many: Vec<Value> = (0..hits)
        .map(|i| {
            let mut h = captured[i % captured.len()].clone();
            if let Some(s) = h.get_mut("sort").and_then(|s| s.get_mut(0)) {
                *s = json!(s.as_i64().unwrap_or(0) - i as i64 * 1000);
            }
            h
        })
        .collect();
    body["hits"]["hits"] = Value::Array(many);
    let terms: Value = serde_json::from_str(ES_TERMS).expect("fixture is JSON");
    let histogram: Value = serde_json::from_str(ES_HISTOGRAM).expect("fixture is JSON");
    let mut aggs = terms["aggregations"].as_object().expect("aggs").clone();
    aggs.extend(histogram["aggregations"].as_object().expect("aggs").clone());
    body["aggregations"] = Value::Object(aggs);
    serde_json::to_vec(&body).expect("serializable")
}

/// What the Loki source does with a `query_range` answer: decode it (typed, from the bytes)
/// and order its entries newest first.
fn decode_loki(bytes: &[u8]) -> usize {
    let mut entries = decode::decode_log_answer(bytes, true).expect("streams answer").entries;
    decode::finish_newest_first(&mut entries);
    entries.len()
}

/// The same through `serde_json::Value` (the decoding before the typed one), for reference.
fn decode_loki_value(bytes: &[u8]) -> usize {
    let json: Value = serde_json::from_slice(bytes).expect("valid");
    let (_, result) = decode::result(&json).expect("streams answer");
    let mut entries = decode::decode_streams(result, true);
    decode::finish_newest_first(&mut entries);
    entries.len()
}

/// What the Elasticsearch source does with a search answer: records of the hits (read
/// streaming), the terms and the date histogram (with its split).
fn decode_es(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let answer = hits::decode_search(text, "@timestamp").expect("valid");
    let (json, records) = (answer.json, answer.records);
    let aggs = &json["aggregations"];
    let terms: usize = ["status", "clientip", "user_agent"].iter().map(|a| response::parse_terms(&aggs[*a]).buckets.len()).sum();
    let buckets = response::parse_date_histogram(&aggs["over_time"]).len();
    records.len() + terms + buckets
}

fn bench(c: &mut Criterion) {
    let loki = loki_body(5000);
    assert_eq!(decode_loki(&loki), 5000);
    assert_eq!(decode_loki_value(&loki), 5000);
    let es = es_body(500);
    assert!(decode_es(&es) > 500);
    let mut g = c.benchmark_group("parse");
    g.bench_function("loki_query_range_5000/serde_value", |b| b.iter(|| serde_json::from_slice::<Value>(black_box(&loki)).map(|_| ())));
    g.bench_function("loki_query_range_5000/logsleuth", |b| b.iter(|| decode_loki(black_box(&loki))));
    g.bench_function("loki_query_range_5000/logsleuth_via_value", |b| b.iter(|| decode_loki_value(black_box(&loki))));
    g.bench_function("es_search_500_aggs/serde_value", |b| b.iter(|| serde_json::from_slice::<Value>(black_box(&es)).map(|_| ())));
    g.bench_function("es_search_500_aggs/logsleuth", |b| b.iter(|| decode_es(black_box(&es))));
    g.finish();
    eprintln!("body sizes: loki {} bytes, es {} bytes", loki.len(), es.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
