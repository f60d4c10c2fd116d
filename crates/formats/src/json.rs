//! JSON lines: one object per line. The timestamp comes from `@timestamp`, `time`,
//! `timestamp` or `ts` (RFC 3339 or epoch seconds/milliseconds/micro/nanoseconds); a numeric
//! bunyan/pino `level` (10 … 60) becomes its name (`trace` … `fatal`).

use serde::Deserialize;
use serde::de::IgnoredAny;

use logsleuth_core::model::{Fields, Nanos, Record, Value};

/// Timestamp keys, in order of preference.
const TIME_KEYS: [&str; 4] = ["@timestamp", "time", "timestamp", "ts"];

/// The name of a bunyan numeric level (10 trace … 60 fatal).
pub fn bunyan_level_name(level: i64) -> Option<&'static str> {
    logsleuth_core::agg::level_of_number(level)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Num(f64),
    Str(String),
    #[allow(dead_code)]
    Other(IgnoredAny),
}

/// Only the timestamp keys; serde skips the rest of the object without building it.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "@timestamp", default)]
    at_timestamp: Option<TimeValue>,
    #[serde(default)]
    time: Option<TimeValue>,
    #[serde(default)]
    timestamp: Option<TimeValue>,
    #[serde(default)]
    ts: Option<TimeValue>,
}

/// Validates a JSON-object line and returns its timestamp (`Some(None)`: an object without
/// one). `None` when the line is not a JSON object.
pub(super) fn summarize(line: &str) -> Option<Option<Nanos>> {
    if !line.trim_start().starts_with('{') {
        return None;
    }
    let probe: Probe = match serde_json::from_str(line) {
        Ok(p) => p,
        // A repeated timestamp key fails the probe but is valid JSON (the last one wins).
        Err(_) => return parse(line).map(|r| r.timestamp),
    };
    let ts = [probe.at_timestamp, probe.time, probe.timestamp, probe.ts].into_iter().flatten().find_map(|v| match v {
        TimeValue::Num(n) => epoch_to_nanos(n),
        TimeValue::Str(s) => text_to_nanos(&s),
        TimeValue::Other(_) => None,
    });
    Some(ts)
}

/// Parses a JSON-object line into a record whose fields are the object's members.
pub(super) fn parse(line: &str) -> Option<Record> {
    if !line.trim_start().starts_with('{') {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(line).ok()?;
    let Value::Object(mut fields) = Value::from_json(&json) else { return None };
    let timestamp = timestamp_of(&fields);
    // bunyan/pino write levels as numbers; names make `level:error` and level colours work.
    if let Some(Value::Int(n)) = fields.get("level")
        && let Some(name) = bunyan_level_name(*n)
    {
        fields.set("level", Value::Str(name.into()));
    }
    Some(Record { timestamp, message: line.to_string(), fields, ..Record::default() })
}

fn timestamp_of(fields: &Fields) -> Option<Nanos> {
    TIME_KEYS.iter().filter_map(|k| fields.get(k)).find_map(|v| match v {
        Value::Int(n) => epoch_to_nanos(*n as f64),
        Value::Float(f) => epoch_to_nanos(*f),
        Value::Str(s) => text_to_nanos(s),
        _ => None,
    })
}

/// Epoch in s, ms, µs or ns, told apart by magnitude (as most log shippers do).
fn epoch_to_nanos(n: f64) -> Option<Nanos> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let ns = if n >= 1e17 {
        n
    } else if n >= 1e14 {
        n * 1e3
    } else if n >= 1e11 {
        n * 1e6
    } else {
        n * 1e9
    };
    (ns < i64::MAX as f64).then_some(ns as i64)
}

fn text_to_nanos(s: &str) -> Option<Nanos> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return t.parse::<f64>().ok().and_then(epoch_to_nanos);
    }
    logsleuth_core::time::parse_absolute(t, None).ok()
}

/// Shared with logfmt: a timestamp written as text.
pub(super) fn parse_text_time(s: &str) -> Option<Nanos> {
    text_to_nanos(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::parse_absolute;

    #[test]
    fn bunyan_line_gets_a_level_name_and_its_time() {
        let line = r#"{"name":"renovate","hostname":"h","pid":7,"level":20,"msg":"Found npm package files","time":"2023-03-24T14:26:16.243Z","v":0}"#;
        let r = parse(line).unwrap();
        assert_eq!(r.timestamp, Some(parse_absolute("2023-03-24T14:26:16.243Z", None).unwrap()));
        assert_eq!(r.fields.get("level"), Some(&Value::Str("debug".into())));
        assert_eq!(parse(r#"{"level":35}"#).unwrap().fields.get("level"), Some(&Value::Int(35)));
        assert_eq!(summarize(line), Some(r.timestamp));
        assert_eq!(bunyan_level_name(20), Some("debug"));
    }

    #[test]
    fn epoch_timestamps_in_any_unit() {
        let want = parse_absolute("2024-05-01T10:00:00Z", None).unwrap();
        for line in [r#"{"ts":1714557600}"#, r#"{"ts":1714557600000}"#, r#"{"ts":"1714557600000"}"#, r#"{"@timestamp":1714557600000000000}"#] {
            assert_eq!(parse(line).unwrap().timestamp, Some(want), "{line}");
            assert_eq!(summarize(line), Some(Some(want)), "{line}");
        }
        assert_eq!(parse(r#"{"ts":1714557600.5}"#).unwrap().timestamp, Some(want + 500_000_000));
    }

    #[test]
    fn non_objects_and_broken_json_are_rejected() {
        for line in ["[1,2]", "42", "{\"a\":", "", "{\"a\":1}}", "\u{0}{}"] {
            assert!(parse(line).is_none(), "{line:?}");
            assert!(summarize(line).is_none(), "{line:?}");
        }
        assert_eq!(summarize(r#"{"msg":"no time"}"#), Some(None));
        assert_eq!(summarize(r#"{"time":{"nested":1}}"#), Some(None));
        let dup = r#"{"time":"2024-01-01T00:00:00Z","time":"2024-01-02T00:00:00Z"}"#;
        assert_eq!(summarize(dup), Some(parse(dup).unwrap().timestamp));
        assert!(summarize(dup).unwrap().is_some());
    }
}
