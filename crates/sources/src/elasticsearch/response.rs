//! Reading search answers: hits into [`Record`]s, hit counts, and aggregation buckets. Answers
//! come from many servers, so nothing is assumed present: hits may lack `_id`/`_score`, bucket
//! keys may be floats (`1795331400000.0`), `hits.total` may be a plain number (6.x).

use std::hash::{Hash, Hasher};

use serde_json::Value as Json;

use logsleuth_core::model::{Fields, Nanos, Record, RecordId, TopBucket, Value};
use crate::HitCount;

/// `hits.total`: `{"value": n, "relation": "eq"|"gte"}` or a plain number.
pub fn hit_count(response: &Json) -> Option<HitCount> {
    let total = response.get("hits")?.get("total")?;
    if let Some(n) = total.as_u64() {
        return Some(HitCount::Exact(n));
    }
    let value = total.get("value")?.as_u64()?;
    Some(match total.get("relation").and_then(Json::as_str) {
        Some("gte") => HitCount::AtLeast(value),
        _ => HitCount::Exact(value),
    })
}

/// Takes the `hits.hits` array out of an answer (empty when missing), for
/// [`record_from_owned_hit`]; the rest of the answer (`hits.total`, aggregations) stays.
pub fn take_hits(response: &mut Json) -> Vec<Json> {
    match response.get_mut("hits").and_then(|h| h.get_mut("hits")).map(Json::take) {
        Some(Json::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// A sort value or timestamp number in an unknown unit, as ns: ES dates sort as epoch
/// milliseconds, `date_nanos` may come back in ns; present-day values tell them apart.
pub fn epoch_number_to_nanos(v: f64) -> Option<Nanos> {
    if !v.is_finite() {
        return None;
    }
    let abs = v.abs();
    let ns = if abs < 1e14 {
        v * 1e6
    } else if abs < 1e17 {
        v * 1e3
    } else {
        v
    };
    (ns.abs() < 9.2e18).then_some(ns as Nanos)
}

fn timestamp_of(fields: &Fields, time_field: &str, sort: Option<&Json>) -> Option<Nanos> {
    match fields.get_path(time_field) {
        Some(Value::Str(s)) => {
            if let Ok(ns) = logsleuth_core::time::parse_absolute(s, None) {
                return Some(ns);
            }
        }
        Some(Value::Int(i)) => return epoch_number_to_nanos(*i as f64),
        Some(Value::Float(f)) => return epoch_number_to_nanos(*f),
        Some(Value::Array(items)) => {
            if let Some(Value::Str(s)) = items.first()
                && let Ok(ns) = logsleuth_core::time::parse_absolute(s, None)
            {
                return Some(ns);
            }
        }
        _ => {}
    }
    // The first sort value is the time field in every request this source sends.
    sort.and_then(|s| s.get(0)).and_then(Json::as_f64).and_then(epoch_number_to_nanos)
}

/// The record message: `message`, else `event.original`, else the `_source` JSON on one line.
pub fn message_of(source: &Json, fields: &Fields) -> String {
    for name in ["message", "event.original"] {
        match fields.get_path(name) {
            Some(Value::Str(s)) => return s.clone(),
            Some(Value::Null) | None => {}
            Some(other) => return other.as_text(),
        }
    }
    if source.is_null() { String::new() } else { source.to_string() }
}

/// Maps one hit to a record as [`record_from_hit`] does, taking the hit apart instead of
/// copying it: the strings of `_source` move into the record's fields.
pub fn record_from_owned_hit(mut hit: Json, time_field: &str) -> Record {
    let source = hit.get_mut("_source").map(Json::take).unwrap_or(Json::Null);
    // The message is the `_source` text itself when it has no message field: print it first.
    let has_message = ["message", "event.original"].iter().any(|name| json_path(&source, name).is_some_and(|v| !v.is_null()));
    let source_text = (!has_message && !source.is_null()).then(|| source.to_string());
    let fields = match value_from_owned(source) {
        Value::Object(f) => f,
        Value::Null => Fields::new(),
        other => Fields(vec![("_source".into(), other)]),
    };
    let message = match source_text {
        Some(text) => text,
        None => message_of(&Json::Null, &fields),
    };
    finish_record(&hit, fields, message, time_field)
}

/// [`Value::from_json`], moving strings and keys instead of copying them.
fn value_from_owned(json: Json) -> Value {
    match json {
        Json::String(s) => Value::Str(s),
        Json::Array(items) => Value::Array(items.into_iter().map(value_from_owned).collect()),
        Json::Object(map) => Value::Object(Fields(map.into_iter().map(|(k, v)| (k, value_from_owned(v))).collect())),
        other => Value::from_json(&other),
    }
}

/// [`Fields::get_path`] on the JSON the fields come from.
fn json_path<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    let map = json.as_object()?;
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let mut rest = path;
    while let Some(dot) = rest.find('.') {
        let (head, tail) = (&path[..path.len() - rest.len() + dot], &rest[dot + 1..]);
        if let Some(inner @ Json::Object(_)) = map.get(head)
            && let Some(v) = json_path(inner, tail)
        {
            return Some(v);
        }
        rest = tail;
    }
    None
}

/// Maps one hit to a record: `_source` → fields, `_index`/`_id` → labels, the time field →
/// timestamp, sort values → [`RecordId::Es`].
pub fn record_from_hit(hit: &Json, time_field: &str) -> Record {
    let source = hit.get("_source").unwrap_or(&Json::Null);
    let fields = match Value::from_json(source) {
        Value::Object(f) => f,
        Value::Null => Fields::new(),
        other => Fields(vec![("_source".into(), other)]),
    };
    let message = message_of(source, &fields);
    finish_record(hit, fields, message, time_field)
}

/// The record of a hit whose `_source` became `fields` and `message`.
fn finish_record(hit: &Json, fields: Fields, message: String, time_field: &str) -> Record {
    finish_record_parts(hit.get("_index"), hit.get("_id"), hit.get("sort"), fields, message, time_field)
}

/// [`finish_record`] from the hit's `_index`, `_id` and `sort`.
pub(super) fn finish_record_parts(
    index: Option<&Json>,
    id: Option<&Json>,
    sort: Option<&Json>,
    fields: Fields,
    message: String,
    time_field: &str,
) -> Record {
    let index = index.and_then(Json::as_str).unwrap_or("").to_string();
    let id = id.and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())));
    let mut labels = Fields::new();
    if !index.is_empty() {
        labels.push("_index", Value::Str(index.clone()));
    }
    if let Some(id) = &id {
        labels.push("_id", Value::Str(id.clone()));
    }
    let timestamp = timestamp_of(&fields, time_field, sort);
    let sort_text = sort.map(Json::to_string).unwrap_or_else(|| "[]".into());
    Record {
        timestamp,
        message,
        fields,
        labels: labels.into(),
        metadata: Fields::new(),
        id: RecordId::Es { index, id, sort: sort_text },
    }
}

/// A stable identity for de-duplicating records at a paging boundary: index and `_id`, or
/// (servers that send no `_id`) index and a hash of the document.
pub fn identity(record: &Record) -> String {
    let (index, id) = match &record.id {
        RecordId::Es { index, id, .. } => (index.as_str(), id.as_deref()),
        _ => ("", None),
    };
    match id {
        Some(id) => format!("{index}\u{0}{id}"),
        None => {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            record.fields.to_json().to_string().hash(&mut hasher);
            record.message.hash(&mut hasher);
            format!("{index}\u{0}#{:016x}", hasher.finish())
        }
    }
}

/// The sort values of a record, as sent by the server.
pub fn sort_values(record: &Record) -> Option<Vec<Json>> {
    match &record.id {
        RecordId::Es { sort, .. } => serde_json::from_str::<Json>(sort).ok().and_then(|v| v.as_array().cloned()),
        _ => None,
    }
}

/// A bucket key as text: `key_as_string` when the server gives one for a non-numeric field,
/// else the key, integers without a fraction (`404`, not `404.0`).
pub fn bucket_key_text(bucket: &Json) -> String {
    let key = bucket.get("key");
    match key {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => {
            if let Some(s) = bucket.get("key_as_string").and_then(Json::as_str) {
                // booleans (`1` → "true") and dates have a meaningful text form.
                if !s.parse::<f64>().is_ok_and(|f| Some(f) == n.as_f64()) {
                    return s.to_string();
                }
            }
            number_text(n)
        }
        Some(other) => other.to_string(),
        None => bucket.get("key_as_string").and_then(Json::as_str).unwrap_or("").to_string(),
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

/// A `terms` aggregation: buckets, `sum_other_doc_count` and `doc_count_error_upper_bound`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// Values and counts, in the server's order.
    pub buckets: Vec<TopBucket>,
    /// Documents with other values.
    pub other: u64,
    /// Error bound on counts.
    pub error_bound: u64,
}

/// Parses a terms aggregation object.
pub fn parse_terms(agg: &Json) -> Terms {
    let buckets = agg
        .get("buckets")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|b| TopBucket { value: bucket_key_text(b), count: doc_count(b) })
        .collect();
    Terms {
        buckets,
        other: agg.get("sum_other_doc_count").and_then(Json::as_u64).unwrap_or(0),
        error_bound: agg.get("doc_count_error_upper_bound").and_then(Json::as_u64).unwrap_or(0),
    }
}

/// `doc_count` of a bucket (0 when missing or not a count).
pub fn doc_count(bucket: &Json) -> u64 {
    bucket.get("doc_count").and_then(|c| c.as_u64().or_else(|| c.as_f64().map(|f| f.max(0.0) as u64))).unwrap_or(0)
}

/// One `date_histogram` bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeBucket {
    /// Bucket start, ns.
    pub start: Nanos,
    /// Documents in it.
    pub count: u64,
    /// The split sub-aggregation, when asked for.
    pub split: Option<Terms>,
}

/// Parses a `date_histogram` aggregation (keys as integer or float epoch ms; a keyed object of
/// buckets is accepted too).
pub fn parse_date_histogram(agg: &Json) -> Vec<TimeBucket> {
    let buckets: Vec<&Json> = match agg.get("buckets") {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(Json::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    };
    buckets
        .into_iter()
        .filter_map(|b| {
            let start = match b.get("key") {
                Some(k) => k.as_f64().map(|ms| (ms * 1e6) as Nanos),
                None => b.get("key_as_string").and_then(Json::as_str).and_then(|s| logsleuth_core::time::parse_absolute(s, None).ok()),
            }?;
            Some(TimeBucket { start, count: doc_count(b), split: b.get("split").map(parse_terms) })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hits_without_id_or_score_map_to_records() {
        let hit = json!({"_index": "nginx-access", "_source": {"@timestamp": "2026-11-22T08:11:11.95Z", "status": 404,
            "message": "GET /x"}, "sort": [1795335071950_i64]});
        let r = record_from_hit(&hit, "@timestamp");
        assert_eq!(r.timestamp, Some(1_795_335_071_950_000_000));
        assert_eq!(r.message, "GET /x");
        assert_eq!(r.labels.get("_index"), Some(&Value::Str("nginx-access".into())));
        assert_eq!(r.labels.get("_id"), None);
        assert_eq!(r.id, RecordId::Es { index: "nginx-access".into(), id: None, sort: "[1795335071950]".into() });
        assert_eq!(sort_values(&r), Some(vec![json!(1795335071950_i64)]));
    }

    #[test]
    fn message_falls_back_to_event_original_then_source_json() {
        let hit = json!({"_index": "i", "_id": "1", "_source": {"event": {"original": "raw line"}}});
        assert_eq!(record_from_hit(&hit, "@timestamp").message, "raw line");
        let hit = json!({"_index": "i", "_id": "1", "_source": {"a": 1, "b": "x"}, "sort": [1000]});
        let r = record_from_hit(&hit, "@timestamp");
        assert_eq!(r.message, r#"{"a":1,"b":"x"}"#);
        assert_eq!(r.timestamp, Some(1_000_000_000), "falls back to the sort value in ms");
    }

    #[test]
    fn owned_hits_give_the_records_borrowed_hits_give() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elasticsearch");
        let mut hits: Vec<Json> = vec![
            json!({"_index": "i", "_id": 7, "_source": {"event": {"original": "raw"}, "message": null}}),
            json!({"_index": "i", "_source": {"a": 18446744073709551615_u64, "b": [1.5, "x", {"c": null}]}, "sort": [1000]}),
            json!({"_index": "i", "_source": {"event.original": 5, "@timestamp": ["2024-01-01T00:00:00Z"]}}),
            json!({"_index": "i", "_source": "not an object"}),
            json!({"_index": "i", "_source": null}),
            json!({"_index": "i"}),
        ];
        let mut stack = vec![dir];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "json")
                && let Ok(mut answer) = serde_json::from_slice::<Json>(&std::fs::read(&path).unwrap())
            {
                hits.extend(take_hits(&mut answer));
            }
        }
        assert!(hits.len() >= 30, "the captured answers have hits ({})", hits.len());
        for hit in hits {
            for time_field in ["@timestamp", "timestamp"] {
                assert_eq!(record_from_owned_hit(hit.clone(), time_field), record_from_hit(&hit, time_field), "{hit}");
            }
        }
    }

    #[test]
    fn float_keys_and_key_as_string() {
        assert_eq!(bucket_key_text(&json!({"key": 404, "doc_count": 1})), "404");
        assert_eq!(bucket_key_text(&json!({"key": 404.0, "doc_count": 1})), "404");
        assert_eq!(bucket_key_text(&json!({"key": 1, "key_as_string": "true"})), "true");
        assert_eq!(bucket_key_text(&json!({"key": 2.5})), "2.5");
        let h = parse_date_histogram(&json!({"buckets": [{"key": 1795331400000.0_f64, "doc_count": 235}]}));
        assert_eq!(h, vec![TimeBucket { start: 1_795_331_400_000_000_000, count: 235, split: None }]);
    }

    #[test]
    fn totals_in_both_shapes() {
        assert_eq!(hit_count(&json!({"hits": {"total": {"value": 10000, "relation": "gte"}}})), Some(HitCount::AtLeast(10000)));
        assert_eq!(hit_count(&json!({"hits": {"total": 42}})), Some(HitCount::Exact(42)));
        assert_eq!(hit_count(&json!({})), None);
    }
}
