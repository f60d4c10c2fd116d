//! Decoding Loki's JSON answers: log streams (with or without `categorize-labels`), matrix
//! and vector samples, label lists and tail frames. Every accessor tolerates missing keys
//! (Loki omits `data` when a list is empty) and never panics on malformed input.

use serde_json::Value as Json;

use crate::model::{Fields, Nanos, Record, RecordId, Value};
use crate::sources::SourceError;

/// Labels Loki adds to parsed labels when a parser stage fails on a line. Stripped when the
/// parser stage was added by logsleuth (not written by the user), as they are noise then.
pub const ERROR_LABELS: [&str; 2] = ["__error__", "__error_details__"];

/// One decoded log entry with its stream's canonical label string.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Canonical `{a="b",…}` of the stream labels (sorted by name).
    pub stream: String,
    /// The record.
    pub record: Record,
}

/// Parses a decimal ns timestamp string exactly (never through f64).
pub fn parse_ns(text: &str) -> Option<Nanos> {
    text.trim().parse::<i64>().ok()
}

/// Parses a sample timestamp (Unix seconds as a JSON number, possibly with a fraction such as
/// `1795334716.161`) to ns. The number's shortest decimal form is parsed digit by digit, so a
/// millisecond timestamp stays exact.
pub fn parse_sample_time(json: &Json) -> Option<Nanos> {
    let text = match json {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.clone(),
        _ => return None,
    };
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text.as_str(), ""),
    };
    if text.contains(['e', 'E']) {
        // Exponent form: fall back to f64, rounded to the millisecond Loki works in.
        let secs: f64 = text.parse().ok()?;
        return ((secs * 1000.0).round() as i64).checked_mul(1_000_000);
    }
    let secs: i64 = int_part.parse().ok()?;
    let mut frac_ns: i64 = 0;
    for (i, c) in frac_part.chars().take(9).enumerate() {
        let d = c.to_digit(10)? as i64;
        frac_ns += d * 10_i64.pow(8 - i as u32);
    }
    secs.checked_mul(1_000_000_000)?.checked_add(if secs < 0 { -frac_ns } else { frac_ns })
}

/// Parses a sample value (`"801"`, `"0.0033"`, or a bare number in pattern answers) as a count.
/// Counts from `count_over_time` are integers; fractional values are rounded.
pub fn parse_sample_count(json: &Json) -> Option<u64> {
    let v: f64 = match json {
        Json::String(s) => s.trim().parse().ok()?,
        Json::Number(n) => n.as_f64()?,
        _ => return None,
    };
    if v.is_finite() && v >= 0.0 { Some(v.round() as u64) } else { None }
}

/// The canonical `{a="b",…}` string for a label map, names sorted, values escaped as LogQL
/// strings, so the same stream always gives the same key whatever order Loki sent.
pub fn canonical_labels(labels: &Fields) -> String {
    let mut pairs: Vec<(&str, String)> = labels.iter().map(|(k, v)| (k, v.as_text())).collect();
    pairs.sort();
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::sources::loki::logql::quote(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

fn string_map(json: Option<&Json>) -> Fields {
    let mut out = Fields::new();
    if let Some(Json::Object(map)) = json {
        for (k, v) in map {
            let text = match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(k.clone(), Value::Str(text));
        }
    }
    out
}

/// A parsed label value: integers become `Value::Int` (so `status` is a number, as it is in a
/// local access log), everything else stays text.
fn parsed_value(text: &str) -> Value {
    let plain_int = !text.is_empty()
        && text.len() <= 18
        && text.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-' && text.len() > 1))
        && !(text.len() > 1 && text.starts_with('0'))
        && !text.starts_with("-0");
    match plain_int.then(|| text.parse::<i64>().ok()).flatten() {
        Some(i) => Value::Int(i),
        None => Value::Str(text.to_string()),
    }
}

/// Decodes the `result` array of a `streams` answer (query_range or a tail frame's `streams`).
///
/// With `categorize-labels`, `stream` holds the indexed labels and each value's third element
/// carries `structuredMetadata` and `parsed`; without it everything is merged into `stream`
/// and kept as labels. `strip_errors` drops parser error labels (see [`ERROR_LABELS`]).
pub fn decode_streams(result: &Json, strip_errors: bool) -> Vec<Entry> {
    let mut entries = Vec::new();
    let Some(streams) = result.as_array() else { return entries };
    for stream in streams {
        let labels = string_map(stream.get("stream"));
        let key = canonical_labels(&labels);
        let Some(values) = stream.get("values").and_then(Json::as_array) else { continue };
        for value in values {
            let Some(parts) = value.as_array() else { continue };
            let Some(ts) = parts.first().and_then(Json::as_str).and_then(parse_ns) else { continue };
            let line = match parts.get(1) {
                Some(Json::String(s)) => s.clone(),
                _ => continue,
            };
            let extra = parts.get(2);
            let metadata = string_map(extra.and_then(|e| e.get("structuredMetadata")));
            let mut fields = Fields::new();
            if let Some(Json::Object(parsed)) = extra.and_then(|e| e.get("parsed")) {
                for (k, v) in parsed {
                    if strip_errors && ERROR_LABELS.contains(&k.as_str()) {
                        continue;
                    }
                    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    fields.push(k.clone(), parsed_value(&text));
                }
            }
            entries.push(Entry {
                stream: key.clone(),
                record: Record {
                    timestamp: Some(ts),
                    message: line,
                    fields,
                    labels: labels.clone(),
                    metadata,
                    id: RecordId::None,
                },
            });
        }
    }
    entries
}

/// Sorts entries newest first (stable, so Loki's order breaks ties) and numbers entries of the
/// same stream and timestamp for [`RecordId::Loki`].
pub fn finish_newest_first(entries: &mut [Entry]) {
    entries.sort_by_key(|e| std::cmp::Reverse(e.record.timestamp));
    assign_ids(entries);
}

/// Sorts entries oldest first and assigns ids.
pub fn finish_oldest_first(entries: &mut [Entry]) {
    entries.sort_by_key(|e| e.record.timestamp);
    assign_ids(entries);
}

fn assign_ids(entries: &mut [Entry]) {
    let mut seq: std::collections::HashMap<(String, Nanos), u32> = std::collections::HashMap::new();
    for e in entries.iter_mut() {
        let ts = e.record.timestamp.unwrap_or_default();
        let n = seq.entry((e.stream.clone(), ts)).or_insert(0);
        e.record.id = RecordId::Loki { stream: e.stream.clone(), ts, seq: *n };
        *n += 1;
    }
}

/// Checks the `{"status":"success","data":…}` envelope and returns `data` (Null when absent,
/// which Loki does for empty label lists).
pub fn data(body: &Json) -> Result<&Json, SourceError> {
    match body.get("status").and_then(Json::as_str) {
        Some("success") | None => Ok(body.get("data").unwrap_or(&Json::Null)),
        Some(other) => {
            let message = body.get("error").and_then(Json::as_str).unwrap_or(other);
            Err(SourceError::Server { status: 200, message: crate::text::sanitize(message).into_owned() })
        }
    }
}

/// The `resultType` and `result` of a query answer.
pub fn result(body: &Json) -> Result<(&str, &Json), SourceError> {
    let data = data(body)?;
    let kind = data.get("resultType").and_then(Json::as_str).unwrap_or("");
    Ok((kind, data.get("result").unwrap_or(&Json::Null)))
}

/// A metric series: its labels and samples `(ns, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series labels.
    pub metric: Fields,
    /// Samples in time order.
    pub samples: Vec<(Nanos, u64)>,
}

/// Decodes a `matrix` (`values`) or `vector` (`value`) result; a scalar becomes one unlabelled
/// series.
pub fn decode_series(kind: &str, result: &Json) -> Result<Vec<Series>, SourceError> {
    let sample = |pair: &Json| -> Option<(Nanos, u64)> {
        let parts = pair.as_array()?;
        Some((parse_sample_time(parts.first()?)?, parse_sample_count(parts.get(1)?)?))
    };
    match kind {
        "matrix" | "vector" => {
            let Some(items) = result.as_array() else { return Ok(Vec::new()) };
            Ok(items
                .iter()
                .map(|item| {
                    let metric = string_map(item.get("metric"));
                    let samples = match (item.get("values"), item.get("value")) {
                        (Some(Json::Array(values)), _) => values.iter().filter_map(sample).collect(),
                        (_, Some(v)) => sample(v).into_iter().collect(),
                        _ => Vec::new(),
                    };
                    Series { metric, samples }
                })
                .collect())
        }
        "scalar" => Ok(sample(result).map(|s| Series { metric: Fields::new(), samples: vec![s] }).into_iter().collect()),
        "streams" => Err(SourceError::Decode("expected a metric result, got log streams".into())),
        other => Err(SourceError::Decode(format!("unknown result type '{}'", crate::text::sanitize(other)))),
    }
}

/// Decodes a list of strings (`labels`, `label/<name>/values`); an absent `data` is empty.
pub fn decode_string_list(body: &Json) -> Result<Vec<String>, SourceError> {
    let data = data(body)?;
    Ok(data.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default())
}

/// A field from `/detected_fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedField {
    /// Label name.
    pub label: String,
    /// Loki's type: string, int, float, boolean, duration, bytes.
    pub kind: String,
    /// Parsers that produce it; empty for structured metadata.
    pub parsers: Vec<String>,
}

/// Decodes `/detected_fields` (a bare object; `{}` when nothing matched).
pub fn decode_detected_fields(body: &Json) -> Vec<DetectedField> {
    let Some(fields) = body.get("fields").and_then(Json::as_array) else { return Vec::new() };
    fields
        .iter()
        .filter_map(|f| {
            Some(DetectedField {
                label: f.get("label")?.as_str()?.to_string(),
                kind: f.get("type").and_then(Json::as_str).unwrap_or("string").to_string(),
                parsers: f
                    .get("parsers")
                    .and_then(Json::as_array)
                    .map(|p| p.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// A decoded tail frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TailFrame {
    /// Entries, oldest first.
    pub entries: Vec<Entry>,
    /// How many entries the server dropped.
    pub dropped: u64,
}

/// Decodes one tail websocket text frame.
pub fn decode_tail_frame(text: &str, strip_errors: bool) -> Result<TailFrame, SourceError> {
    let json: Json = serde_json::from_str(text).map_err(|e| SourceError::Decode(format!("tail frame: {e}")))?;
    let mut entries = decode_streams(json.get("streams").unwrap_or(&Json::Null), strip_errors);
    finish_oldest_first(&mut entries);
    let dropped = json.get("dropped_entries").and_then(Json::as_array).map(|d| d.len() as u64).unwrap_or(0);
    Ok(TailFrame { entries, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sample_times_keep_milliseconds_exact() {
        assert_eq!(parse_sample_time(&json!(1795334716.161)), Some(1_795_334_716_161_000_000));
        assert_eq!(parse_sample_time(&json!(1795313100)), Some(1_795_313_100_000_000_000));
        assert_eq!(parse_sample_time(&json!("x")), None);
        assert_eq!(parse_sample_count(&json!("801")), Some(801));
        assert_eq!(parse_sample_count(&json!(7)), Some(7));
        assert_eq!(parse_sample_count(&json!("NaN")), None);
    }

    #[test]
    fn categorized_entries_keep_labels_metadata_and_parsed_apart() {
        let result = json!([{
            "stream": {"job": "shop-api", "env": "prod"},
            "values": [["1795330180483113158", "{\"status\":504}",
                {"structuredMetadata": {"detected_level": "error"},
                 "parsed": {"status": "504", "trace_id": "3119b14b85f9d2ba", "__error__": "x", "zip": "0123"}}],
                ["garbage"], [12, "bad ts"]]
        }]);
        let entries = decode_streams(&result, true);
        assert_eq!(entries.len(), 1);
        let r = &entries[0].record;
        assert_eq!(r.timestamp, Some(1_795_330_180_483_113_158));
        assert_eq!(r.labels.get("job"), Some(&Value::Str("shop-api".into())));
        assert_eq!(r.metadata.get("detected_level"), Some(&Value::Str("error".into())));
        assert_eq!(r.fields.get("status"), Some(&Value::Int(504)));
        assert_eq!(r.fields.get("trace_id"), Some(&Value::Str("3119b14b85f9d2ba".into())));
        assert_eq!(r.fields.get("zip"), Some(&Value::Str("0123".into())));
        assert_eq!(r.fields.get("__error__"), None);
        assert_eq!(entries[0].stream, "{env=\"prod\", job=\"shop-api\"}");
    }

    #[test]
    fn garbage_never_panics() {
        for text in ["", "null", "[]", "{\"streams\":5}", "{\"streams\":[{\"values\":[[1,2,3]]}]}"] {
            let _ = decode_tail_frame(text, true);
        }
        assert!(decode_series("matrix", &json!([{"metric": 3, "values": [[1, "x"], "y"]}])).is_ok());
        assert!(decode_string_list(&json!({"status": "success"})).unwrap().is_empty());
    }
}
