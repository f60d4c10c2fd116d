//! Fuzzes decoding of Loki answers: query_range streams and matrices, label lists, detected
//! fields and tail websocket frames, on arbitrary bytes from a hostile or broken server.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run loki_decode -- -max_total_time=90` (from the repo root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logsleuth::sources::loki::decode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for strip in [false, true] {
        let _ = decode::decode_tail_frame(text, strip);
    }
    let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let _ = decode::decode_string_list(&body);
    let _ = decode::decode_detected_fields(&body);
    if let Ok((kind, result)) = decode::result(&body) {
        let mut entries = decode::decode_streams(result, true);
        decode::finish_newest_first(&mut entries);
        decode::finish_oldest_first(&mut entries);
        for e in &entries {
            let _ = decode::canonical_labels(&e.record.labels);
        }
        let _ = decode::decode_series(kind, result);
        let _ = decode::decode_series("matrix", result);
        let _ = decode::decode_series("vector", result);
    }
    let _ = decode::parse_sample_time(&body);
    let _ = decode::parse_sample_count(&body);
});
