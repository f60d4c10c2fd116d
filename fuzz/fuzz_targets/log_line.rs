//! Fuzzes every log-line parser: format detection, the indexer's summary and the full parse,
//! for each format, on arbitrary bytes (decoded lossily, as the local source does).
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run log_line -- -max_total_time=90` (from the repo root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logsleuth::formats::{self, LogFormat, ParseOptions};
use logsleuth::text::{is_unsafe_char, sanitize};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A fixed "now" keeps runs reproducible (syslog 3164 picks the year from it).
    let opts = ParseOptions { now: 1_795_334_716_000_000_000 };
    let lines: Vec<&str> = text.split('\n').collect();
    let _ = formats::detect(&lines);
    for line in &lines {
        let line = formats::trim_eol(line);
        for format in LogFormat::ALL {
            let summary = formats::summarize(format, line, &opts);
            let parsed = formats::parse(format, line, &opts);
            let (record, ok) = formats::parse_or_plain(format, line, &opts);
            assert_eq!(parsed.is_some(), ok, "{format:?} parse and parse_or_plain disagree on {line:?}");
            // The indexer and the parser must agree on whether the line fits and on the time
            // it is filed under, or counts and searches disagree.
            assert_eq!(summary.parsed, ok, "{format:?} on {line:?}");
            assert_eq!(summary.timestamp, record.timestamp, "{format:?} on {line:?}");
            for (name, value) in record.fields.iter() {
                let shown = format!("{} {}", sanitize(name), sanitize(&value.to_string()));
                assert!(!shown.chars().any(is_unsafe_char));
            }
            assert!(!sanitize(&record.message).chars().any(is_unsafe_char));
            let _ = formats::level_name(&logsleuth::model::Value::Str(line.to_string()));
        }
    }
});
