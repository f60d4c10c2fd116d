//! Fuzzes decoding of Elasticsearch / OpenSearch / Quickwit answers: hits into records, hit
//! counts, terms and date histogram aggregations, field caps and error bodies.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run es_response -- -max_total_time=90` (from the repo root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logsleuth::sources::FieldRoles;
use logsleuth::sources::elasticsearch::error::{ServerError, shard_failure_warning};
use logsleuth::sources::elasticsearch::fields::Schema;
use logsleuth::sources::elasticsearch::response;
use logsleuth::text::is_unsafe_char;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for status in [400, 404, 429, 500, 503] {
        let _ = ServerError::parse(status, text).into_source_error(true);
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let _ = response::hit_count(&body);
    for hit in response::hits(&body) {
        let record = response::record_from_hit(hit, "@timestamp");
        let _ = response::identity(&record);
        let _ = response::sort_values(&record);
    }
    if let Some(aggs) = body.get("aggregations").and_then(|a| a.as_object()) {
        for agg in aggs.values() {
            let _ = response::parse_terms(agg);
            let _ = response::parse_date_histogram(agg);
        }
    }
    let _ = response::parse_terms(&body);
    let _ = response::parse_date_histogram(&body);
    if let Some(shards) = body.get("_shards") {
        if let Some(w) = shard_failure_warning(shards) {
            assert!(!w.chars().any(is_unsafe_char), "{w:?}");
        }
    }
    let _ = Schema::from_field_caps(body, Some("@timestamp"), &FieldRoles::default());
});
