//! Decoding Loki's JSON answers: log streams (with or without `categorize-labels`), matrix
//! and vector samples, label lists and tail frames. Every accessor tolerates missing keys
//! (Loki omits `data` when a list is empty) and never panics on malformed input.

use std::sync::Arc;

use serde_json::Value as Json;

use logsleuth_core::model::{Fields, Nanos, Record, RecordId, Value};
use crate::SourceError;

/// Labels Loki adds to parsed labels when a parser stage fails on a line. Stripped when the
/// parser stage was added by logsleuth (not written by the user), as they are noise then.
pub const ERROR_LABELS: [&str; 2] = ["__error__", "__error_details__"];

/// One decoded log entry with its stream's canonical label string.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Canonical `{a="b",…}` of the stream labels (sorted by name), shared by the stream's
    /// entries.
    pub stream: Arc<str>,
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
        .map(|(k, v)| format!("{k}={}", crate::loki::logql::quote(v)))
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
pub(crate) fn parsed_value(text: &str) -> Value {
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
        let labels = Arc::new(string_map(stream.get("stream")));
        let key: Arc<str> = canonical_labels(&labels).into();
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

/// A log query's answer: its `resultType` and entries, in Loki's order.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAnswer {
    /// `streams` for a log query (empty when Loki left `data` out).
    pub kind: String,
    /// Whether `result` was absent or null.
    pub result_is_null: bool,
    /// The entries ([`decode_streams`]).
    pub entries: Vec<Entry>,
}

/// Decodes a log query's answer body: what [`result`] and [`decode_streams`] give on its
/// `serde_json::Value`, and the same errors, about twice as fast.
///
/// The common shape (every label, line and parsed value a string) is deserialized straight
/// from the bytes into borrowed strings, without building a `Value` tree; each stream's labels
/// are built once. Anything else (another result type, an error envelope, a malformed or
/// unusual answer) is decoded through `Value`, whose accessors tolerate every shape.
pub fn decode_log_answer(body: &[u8], strip_errors: bool) -> Result<LogAnswer, SourceError> {
    // One UTF-8 check of the whole body (a fast SIMD pass) lets the parser skip checking
    // each string; a body that fails it goes the `Value` way, which reports the error.
    if let Ok(text) = std::str::from_utf8(body)
        && let Some(answer) = typed::decode(text, strip_errors)
    {
        return Ok(answer);
    }
    let json: Json = serde_json::from_slice(body).map_err(|e| json_error(&e, body))?;
    let (kind, result) = result(&json)?;
    Ok(LogAnswer { kind: kind.to_string(), result_is_null: result.is_null(), entries: decode_streams(result, strip_errors) })
}

/// The error for an answer that is not JSON, with its start (sanitized) to show what it was.
pub fn json_error(e: &serde_json::Error, body: &[u8]) -> SourceError {
    let start = logsleuth_core::text::sanitize_bytes(&body[..body.len().min(120)]);
    SourceError::Decode(format!("{e} (answer starts with: {start})"))
}

/// Streaming decoder of a `streams` answer: entries are built while the bytes are parsed,
/// without a `Value` tree or intermediate lists. It gives up (`None`, and the caller decodes
/// through `Value`) on any shape the `Value` decoder would read differently: non-string
/// labels, lines or parsed values, duplicate keys, a `result` that is not a list of streams,
/// a status other than `success`.
mod typed {
    use std::borrow::Cow;
    use std::fmt;
    use std::sync::Arc;

    use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    use super::{ERROR_LABELS, Entry, LogAnswer, canonical_labels, parse_ns, parsed_value};
    use logsleuth_core::model::{Fields, Record, RecordId, Value};
    use crate::seed::{OrNull, duplicate};

    /// Decodes `text` if it has the common shape; `None` otherwise.
    pub(super) fn decode(text: &str, strip_errors: bool) -> Option<LogAnswer> {
        let mut de = serde_json::Deserializer::from_str(text);
        let answer = EnvelopeSeed { strip_errors }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        answer
    }

    /// Decodes a tail frame (`{"streams": [...], "dropped_entries": [...]}`) if it has the
    /// common shape: its entries in Loki's order and how many entries were dropped.
    pub(super) fn decode_tail(text: &str, strip_errors: bool) -> Option<(Vec<Entry>, u64)> {
        let mut de = serde_json::Deserializer::from_str(text);
        let frame = TailSeed { strip_errors }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(frame)
    }

    /// A key of an object, borrowed from the body when it has no escapes.
    type Key<'de> = Cow<'de, str>;

    /// A string, borrowed from the body when it has no escapes; anything else is an error.
    struct Borrowed<'de>(Cow<'de, str>);

    impl<'de> de::Deserialize<'de> for Borrowed<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Borrowed<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Borrowed<'de>, E> {
                    Ok(Borrowed(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Borrowed<'de>, E> {
                    Ok(Borrowed(Cow::Owned(v.to_string())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Borrowed<'de>, E> {
                    Ok(Borrowed(Cow::Owned(v)))
                }
            }
            d.deserialize_str(V)
        }
    }

    /// The top level: `Some(answer)` for a success, `None` for any other status.
    struct EnvelopeSeed {
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for EnvelopeSeed {
        type Value = Option<LogAnswer>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for EnvelopeSeed {
        type Value = Option<LogAnswer>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a Loki answer")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let (mut status, mut data) = (None, None);
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.as_ref() {
                    "status" if status.is_some() => return Err(duplicate(&key)),
                    "status" => status = Some(map.next_value::<Borrowed<'de>>()?.0),
                    "data" if data.is_some() => return Err(duplicate(&key)),
                    "data" => data = Some(map.next_value_seed(OrNull(DataSeed { strip_errors: self.strip_errors }))?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            if status.as_deref().is_some_and(|s| s != "success") {
                return Ok(None);
            }
            let empty = || LogAnswer { kind: String::new(), result_is_null: true, entries: Vec::new() };
            Ok(Some(data.flatten().unwrap_or_else(empty)))
        }
    }

    /// A tail frame: `streams` and the count of `dropped_entries`.
    struct TailSeed {
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for TailSeed {
        type Value = (Vec<Entry>, u64);
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for TailSeed {
        type Value = (Vec<Entry>, u64);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a tail frame")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let (mut streams, mut dropped) = (None, None);
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.as_ref() {
                    "streams" if streams.is_some() => return Err(duplicate(&key)),
                    "streams" => streams = Some(map.next_value_seed(OrNull(ResultSeed { strip_errors: self.strip_errors }))?),
                    "dropped_entries" if dropped.is_some() => return Err(duplicate(&key)),
                    "dropped_entries" => dropped = Some(map.next_value_seed(OrNull(CountSeed))?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok((streams.flatten().unwrap_or_default(), dropped.flatten().unwrap_or(0)))
        }
    }

    /// The length of a list, its elements skipped.
    struct CountSeed;

    impl<'de> DeserializeSeed<'de> for CountSeed {
        type Value = u64;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for CountSeed {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<u64, S::Error> {
            let mut n = 0;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }

    /// `data`.
    struct DataSeed {
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for DataSeed {
        type Value = LogAnswer;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LogAnswer, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for DataSeed {
        type Value = LogAnswer;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object with resultType and result")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let (mut kind, mut result) = (None, None);
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.as_ref() {
                    "resultType" if kind.is_some() => return Err(duplicate(&key)),
                    "resultType" => kind = Some(map.next_value::<Borrowed<'de>>()?.0),
                    "result" if result.is_some() => return Err(duplicate(&key)),
                    "result" => result = Some(map.next_value_seed(OrNull(ResultSeed { strip_errors: self.strip_errors }))?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            let kind = kind.map(Cow::into_owned).unwrap_or_default();
            Ok(match result.flatten() {
                Some(entries) => LogAnswer { kind, result_is_null: false, entries },
                None => LogAnswer { kind, result_is_null: true, entries: Vec::new() },
            })
        }
    }

    /// `result`: the entries of every stream.
    struct ResultSeed {
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for ResultSeed {
        type Value = Vec<Entry>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for ResultSeed {
        type Value = Vec<Entry>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of streams")
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
            let mut entries = Vec::new();
            while seq.next_element_seed(StreamSeed { strip_errors: self.strip_errors, entries: &mut entries })?.is_some() {}
            Ok(entries)
        }
    }

    /// One stream: its entries are appended to `entries`, all sharing the stream's labels.
    struct StreamSeed<'e> {
        strip_errors: bool,
        entries: &'e mut Vec<Entry>,
    }

    impl<'de> DeserializeSeed<'de> for StreamSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for StreamSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a stream")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
            let first = self.entries.len();
            let (mut stream, mut seen_values) = (None, false);
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.as_ref() {
                    "stream" if stream.is_some() => return Err(duplicate(&key)),
                    "stream" => {
                        let labels = map.next_value_seed(OrNull(FieldsSeed { parsed: false, strip_errors: false }))?.unwrap_or_default();
                        let key: Arc<str> = canonical_labels(&labels).into();
                        stream = Some((Arc::new(labels), key));
                    }
                    "values" if seen_values => return Err(duplicate(&key)),
                    "values" => {
                        seen_values = true;
                        let shared = stream.clone().unwrap_or_default();
                        map.next_value_seed(OrNull(ValuesSeed { strip_errors: self.strip_errors, stream: shared, entries: self.entries }))?;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            // `values` came before `stream`: give its entries their labels now.
            if let Some((labels, key)) = stream
                && self.entries[first..].first().is_some_and(|e| !Arc::ptr_eq(&e.record.labels, &labels))
            {
                for entry in &mut self.entries[first..] {
                    entry.record.labels = labels.clone();
                    entry.stream = key.clone();
                }
            }
            Ok(())
        }
    }

    /// A stream's `values`, appended to `entries` with the stream's labels and key.
    struct ValuesSeed<'e> {
        strip_errors: bool,
        stream: (Arc<Fields>, Arc<str>),
        entries: &'e mut Vec<Entry>,
    }

    impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for ValuesSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of [timestamp, line, labels]")
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
            let (labels, key) = self.stream;
            if let Some(n) = seq.size_hint() {
                self.entries.reserve(n);
            }
            while let Some(line) = seq.next_element_seed(LineSeed { strip_errors: self.strip_errors })? {
                // A timestamp that is not a number of ns skips the line, as the `Value` decoder does.
                let Some((timestamp, message, metadata, fields)) = line else { continue };
                self.entries.push(Entry {
                    stream: key.clone(),
                    record: Record { timestamp: Some(timestamp), message, fields, labels: labels.clone(), metadata, id: RecordId::None },
                });
            }
            Ok(())
        }
    }

    /// `[ts, line]` or `[ts, line, {structuredMetadata, parsed}]`; later elements are ignored,
    /// as the `Value` decoder ignores them. `None` when the timestamp is not a number.
    struct LineSeed {
        strip_errors: bool,
    }

    type Line = Option<(logsleuth_core::model::Nanos, String, Fields, Fields)>;

    impl<'de> DeserializeSeed<'de> for LineSeed {
        type Value = Line;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Line, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for LineSeed {
        type Value = Line;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("[timestamp, line, labels]")
        }
        fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Line, S::Error> {
            let Borrowed(ts) = seq.next_element()?.ok_or_else(|| de::Error::custom("no timestamp"))?;
            let Borrowed(line) = seq.next_element()?.ok_or_else(|| de::Error::custom("no line"))?;
            let extra = seq.next_element_seed(OrNull(ExtraSeed { strip_errors: self.strip_errors }))?.flatten();
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            let (metadata, fields) = extra.unwrap_or_default();
            Ok(parse_ns(&ts).map(|ts| (ts, line.into_owned(), metadata, fields)))
        }
    }

    /// The third element of a line: `(structuredMetadata, parsed)`.
    struct ExtraSeed {
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for ExtraSeed {
        type Value = (Fields, Fields);
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for ExtraSeed {
        type Value = (Fields, Fields);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object with structuredMetadata and parsed")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let (mut metadata, mut parsed) = (None, None);
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.as_ref() {
                    "structuredMetadata" if metadata.is_some() => return Err(duplicate(&key)),
                    "structuredMetadata" => metadata = Some(map.next_value_seed(OrNull(FieldsSeed { parsed: false, strip_errors: false }))?),
                    "parsed" if parsed.is_some() => return Err(duplicate(&key)),
                    "parsed" => parsed = Some(map.next_value_seed(OrNull(FieldsSeed { parsed: true, strip_errors: self.strip_errors }))?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok((metadata.flatten().unwrap_or_default(), parsed.flatten().unwrap_or_default()))
        }
    }

    /// An object of strings into fields, in document order (as `preserve_order` keeps them).
    /// `parsed` values become numbers where they are integers
    /// ([`parsed_value`]) and, with `strip_errors`, parser error labels are left out.
    struct FieldsSeed {
        parsed: bool,
        strip_errors: bool,
    }

    impl<'de> DeserializeSeed<'de> for FieldsSeed {
        type Value = Fields;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fields, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for FieldsSeed {
        type Value = Fields;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of strings")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut out: Vec<(String, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(if self.parsed { 16 } else { 4 }));
            while let Some(key) = map.next_key::<Key<'de>>()? {
                let Borrowed(text) = map.next_value::<Borrowed<'de>>()?;
                if self.strip_errors && ERROR_LABELS.contains(&key.as_ref()) {
                    continue;
                }
                if out.iter().any(|(k, _)| *k == key) {
                    return Err(duplicate(&key));
                }
                let value = if self.parsed { parsed_value(&text) } else { Value::Str(text.into_owned()) };
                out.push((key.into_owned(), value));
            }
            Ok(Fields(out))
        }
    }
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
    let mut seq: std::collections::HashMap<(Arc<str>, Nanos), u32, foldhash::fast::RandomState> = Default::default();
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
            Err(SourceError::Server { status: 200, message: logsleuth_core::text::sanitize(message).into_owned() })
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
        other => Err(SourceError::Decode(format!("unknown result type '{}'", logsleuth_core::text::sanitize(other)))),
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

/// Decodes one tail websocket text frame: streaming, as [`decode_log_answer`] does, with the
/// same fallback through `Value` for any other shape.
pub fn decode_tail_frame(text: &str, strip_errors: bool) -> Result<TailFrame, SourceError> {
    let (mut entries, dropped) = match typed::decode_tail(text, strip_errors) {
        Some(frame) => frame,
        None => tail_frame_via_value(text, strip_errors)?,
    };
    finish_oldest_first(&mut entries);
    Ok(TailFrame { entries, dropped })
}

/// A tail frame's entries (Loki's order) and dropped count, through `Value`.
fn tail_frame_via_value(text: &str, strip_errors: bool) -> Result<(Vec<Entry>, u64), SourceError> {
    let json: Json = serde_json::from_str(text).map_err(|e| SourceError::Decode(format!("tail frame: {e}")))?;
    let entries = decode_streams(json.get("streams").unwrap_or(&Json::Null), strip_errors);
    let dropped = json.get("dropped_entries").and_then(Json::as_array).map(|d| d.len() as u64).unwrap_or(0);
    Ok((entries, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The general decoding: `Value`, then the accessors.
    fn via_value(body: &[u8], strip: bool) -> Result<LogAnswer, SourceError> {
        let json: Json = serde_json::from_slice(body).map_err(|e| json_error(&e, body))?;
        let (kind, result) = result(&json)?;
        Ok(LogAnswer { kind: kind.to_string(), result_is_null: result.is_null(), entries: decode_streams(result, strip) })
    }

    #[test]
    fn typed_decoding_gives_what_value_decoding_gives() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/loki");
        let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json" || e == "txt") {
                bodies.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
        // Shapes the typed path leaves to `Value`: numbers, duplicates, junk entries, errors.
        let odd = [
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a","n":5},"values":[["1","x"]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a","job":"b"},"values":[["1","x"]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["1","x",{"parsed":{"status":500,"__error__":"E"}}],["x","y"],[2,"z"],"junk",["3"],["4","w",null,7]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["1","x",{"parsed":{"a":"1","__error__":"E"},"structuredMetadata":{"t":"é
"},"other":[1]}],["2","esc"aped"]]},{"values":null},{"stream":{}}]}}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795313100,"3"]]}]}}"#,
            // Keys in another order than Loki's: the labels still reach every entry.
            r#"{"data":{"result":[{"values":[["2","b",{"parsed":{"a":"7"}}],["1","a"]],"stream":{"job":"late","z":"1"}},{"stream":{"job":"early"},"values":[["3","c"]]}],"resultType":"streams"},"status":"success"}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["1","x",{"parsed":{"__error__":"E","__error__":"F","a":"-0","b":"007","c":"-12"}}]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["1","x"]]}]},"data":null}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["1","x"]],"values":[]}]}}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":null,"values":[["1","x",{"structuredMetadata":null,"parsed":null}]]}]}}"#,
            r#"{"status":"success","data":null}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[]}} trailing"#,
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
            r#"{"status":"success"}"#,
            r#"{"data":{"resultType":"streams","result":null}}"#,
            r#"{"status":"success","data":[1]}"#,
            "not json at all",
            "",
        ];
        let captured = bodies.len();
        bodies.extend(odd.iter().map(|b| (b.to_string(), b.as_bytes().to_vec())));
        let (mut streams, mut typed_streams) = (0, 0);
        for (i, (name, body)) in bodies.iter().enumerate() {
            for strip in [false, true] {
                let fast = decode_log_answer(body, strip);
                let slow = via_value(body, strip);
                match (&fast, &slow) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                    _ => panic!("{name}: {fast:?} vs {slow:?}"),
                }
            }
            if i < captured && via_value(body, true).is_ok_and(|a| a.kind == "streams" && !a.entries.is_empty()) {
                streams += 1;
                if typed::decode(std::str::from_utf8(body).unwrap(), true).is_some() {
                    typed_streams += 1;
                }
            }
        }
        assert!(streams >= 3 && typed_streams == streams, "captured log answers take the typed path: {typed_streams} of {streams}");
        // The reordered answer is decoded by the streaming path, labels patched in.
        let late = typed::decode(odd[5], true).expect("streaming path");
        let jobs: Vec<_> = late.entries.iter().map(|e| (e.record.labels.get("job").cloned(), e.stream.to_string())).collect();
        assert_eq!(jobs[0], (Some(Value::Str("late".into())), "{job=\"late\", z=\"1\"}".to_string()));
        assert_eq!(jobs.len(), 3);
        assert_eq!(jobs[2].0, Some(Value::Str("early".into())));
    }

    #[test]
    fn streaming_tail_frames_give_what_value_decoding_gives() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/loki");
        let mut frames: Vec<String> = ["tail_frames_categorized.jsonl", "tail_frames_dropped.jsonl"]
            .iter()
            .flat_map(|f| std::fs::read_to_string(dir.join(f)).unwrap().lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        let captured = frames.len();
        assert!(captured >= 2);
        frames.extend(
            [
                r#"{"dropped_entries":[{"labels":{"job":"a"},"timestamp":"1"},{"labels":{},"timestamp":"2"}],"streams":[{"values":[["5","x"]],"stream":{"job":"a"}}]}"#,
                r#"{"streams":null,"dropped_entries":null}"#,
                r#"{"streams":[{"stream":{"job":"a"},"values":[["1",2]]}]}"#,
                r#"{"streams":[],"streams":[]}"#,
                r#"{"dropped_entries":7}"#,
                "{}",
                "[]",
                "not json",
            ]
            .map(str::to_string),
        );
        for (i, frame) in frames.iter().enumerate() {
            for strip in [false, true] {
                let fast = decode_tail_frame(frame, strip);
                let slow = tail_frame_via_value(frame, strip).map(|(mut entries, dropped)| {
                    finish_oldest_first(&mut entries);
                    TailFrame { entries, dropped }
                });
                match (&fast, &slow) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{frame}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{frame}"),
                    _ => panic!("{frame}: {fast:?} vs {slow:?}"),
                }
            }
            if i < captured {
                assert!(typed::decode_tail(frame, true).is_some(), "captured frames take the streaming path: {frame}");
            }
        }
        let reordered = decode_tail_frame(&frames[captured], true).unwrap();
        assert_eq!((reordered.entries.len(), reordered.dropped), (1, 2));
        assert_eq!(reordered.entries[0].record.labels.get("job"), Some(&Value::Str("a".into())));
    }

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
        assert_eq!(&*entries[0].stream, "{env=\"prod\", job=\"shop-api\"}");
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
