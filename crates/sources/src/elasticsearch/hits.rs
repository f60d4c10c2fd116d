//! Search answers decoded streaming: each hit of `hits.hits` becomes a [`Record`] while the
//! bytes are parsed — `_source` straight into the record's fields, without the
//! `serde_json::Value` tree and its hashed maps — and the rest of the answer (`hits.total`,
//! aggregations, `_shards`, `pit_id`) stays a `Value` for the accessors in
//! [`response`](super::response).
//!
//! Any shape the `Value` decoding would read differently (a hit that is not an object, a
//! duplicate key in the envelope or a hit, `hits.hits` not a list) makes the streaming decoder
//! give up, and the answer is decoded through `Value` as before: both give the same records
//! and the same rest (a test compares them on every captured answer).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::response::{finish_record_parts, message_of, record_from_owned_hit, take_hits};
use crate::seed::{OrNull, duplicate};
use logsleuth_core::model::{Fields, Record, Value};

/// A search answer: its records, in the server's order, and the rest of the answer with
/// `hits.hits` left `null` (as [`take_hits`] leaves it).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchAnswer {
    /// Everything but the hits.
    pub json: Json,
    /// One record a hit.
    pub records: Vec<Record>,
}

/// Decodes a search answer, streaming when it has the common shape, else through `Value`.
pub fn decode_search(text: &str, time_field: &str) -> serde_json::Result<SearchAnswer> {
    if let Some(answer) = streaming(text, time_field) {
        return Ok(answer);
    }
    via_value(text, time_field)
}

/// The decoding through `Value`: parse, take the hits, map each.
pub fn via_value(text: &str, time_field: &str) -> serde_json::Result<SearchAnswer> {
    let mut json: Json = serde_json::from_str(text)?;
    let records = take_hits(&mut json).into_iter().map(|h| record_from_owned_hit(h, time_field)).collect();
    Ok(SearchAnswer { json, records })
}

/// The streaming decoding, `None` when the answer has another shape.
fn streaming(text: &str, time_field: &str) -> Option<SearchAnswer> {
    let mut de = serde_json::Deserializer::from_str(text);
    let (json, hits) = AnswerSeed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    let records = hits.into_iter().map(|h| h.into_record(time_field)).collect::<Option<Vec<_>>>()?;
    Some(SearchAnswer { json, records })
}

/// One hit as read: the parts a record needs, `_source` still as text.
struct RawHit<'de> {
    index: Option<Json>,
    id: Option<Json>,
    sort: Option<Json>,
    source: Option<&'de RawValue>,
}

impl RawHit<'_> {
    /// The record [`record_from_owned_hit`] makes of the same hit.
    fn into_record(self, time_field: &str) -> Option<Record> {
        let source = match self.source {
            Some(raw) => serde_json::from_str::<ModelValue>(raw.get()).ok()?.0,
            None => Value::Null,
        };
        let source_is_null = source == Value::Null;
        let fields = match source {
            Value::Object(f) => f,
            Value::Null => Fields::new(),
            other => Fields(vec![("_source".into(), other)]),
        };
        let has_message = ["message", "event.original"].iter().any(|name| fields.get_path(name).is_some_and(|v| *v != Value::Null));
        let message = match (has_message, self.source) {
            (true, _) => message_of(&Json::Null, &fields),
            // The `_source` text itself, printed as the `Value` decoding prints it.
            (false, Some(raw)) if !source_is_null => serde_json::from_str::<Json>(raw.get()).ok()?.to_string(),
            (false, _) => String::new(),
        };
        Some(finish_record_parts(self.index.as_ref(), self.id.as_ref(), self.sort.as_ref(), fields, message, time_field))
    }
}

/// The whole answer: the rest as `Value`, the hits apart.
struct AnswerSeed;

impl<'de> DeserializeSeed<'de> for AnswerSeed {
    type Value = (Json, Vec<RawHit<'de>>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnswerSeed {
    type Value = (Json, Vec<RawHit<'de>>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a search answer")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut rest = serde_json::Map::new();
        let mut hits = None;
        while let Some(key) = map.next_key::<String>()? {
            if rest.contains_key(&key) {
                return Err(duplicate(&key));
            }
            if key == "hits" {
                let (part, list) = map.next_value_seed(HitsSeed)?;
                hits = Some(list);
                rest.insert(key, part);
            } else {
                let value = map.next_value::<Json>()?;
                rest.insert(key, value);
            }
        }
        Ok((Json::Object(rest), hits.unwrap_or_default()))
    }
}

/// `hits`: `total` and the rest as `Value`, `hits` apart (left `null`). Not an object: an
/// error, so the `Value` decoding takes over.
struct HitsSeed;

impl<'de> DeserializeSeed<'de> for HitsSeed {
    type Value = (Json, Vec<RawHit<'de>>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HitsSeed {
    type Value = (Json, Vec<RawHit<'de>>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the hits object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut rest = serde_json::Map::new();
        let mut hits = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if rest.contains_key(&key) {
                return Err(duplicate(&key));
            }
            if key == "hits" {
                hits = map.next_value_seed(OrNull(HitListSeed))?.unwrap_or_default();
                rest.insert(key, Json::Null);
            } else {
                let value = map.next_value::<Json>()?;
                rest.insert(key, value);
            }
        }
        Ok((Json::Object(rest), hits))
    }
}

/// `hits.hits`: a list of hits (`null`, read with [`OrNull`], is none, as [`take_hits`]
/// reads it).
struct HitListSeed;

impl<'de> DeserializeSeed<'de> for HitListSeed {
    type Value = Vec<RawHit<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for HitListSeed {
    type Value = Vec<RawHit<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of hits")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut hits = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(hit) = seq.next_element_seed(HitSeed)? {
            hits.push(hit);
        }
        Ok(hits)
    }
}

/// One hit: `_index`, `_id`, `sort` as `Value` (they are small), `_source` as its text.
struct HitSeed;

impl<'de> DeserializeSeed<'de> for HitSeed {
    type Value = RawHit<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HitSeed {
    type Value = RawHit<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a hit")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut hit = RawHit { index: None, id: None, sort: None, source: None };
        // Only the keys read need the duplicate check: the last of an ignored key is ignored too.
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "_index" if hit.index.is_some() => return Err(duplicate(&key)),
                "_index" => hit.index = Some(map.next_value()?),
                "_id" if hit.id.is_some() => return Err(duplicate(&key)),
                "_id" => hit.id = Some(map.next_value()?),
                "sort" if hit.sort.is_some() => return Err(duplicate(&key)),
                "sort" => hit.sort = Some(map.next_value()?),
                "_source" if hit.source.is_some() => return Err(duplicate(&key)),
                "_source" => hit.source = Some(map.next_value::<&'de RawValue>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(hit)
    }
}

/// A JSON value read straight into a [`Value`], as [`Value::from_json`] converts the
/// `serde_json::Value` of the same text: integers that fit `i64` stay integers, a key given
/// twice keeps its first place and its last value (as the ordered map does).
struct ModelValue(Value);

impl<'de> de::Deserialize<'de> for ModelValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ModelVisitor).map(ModelValue)
    }
}

struct ModelVisitor;

impl<'de> Visitor<'de> for ModelVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        // serde_json makes a non-finite float `null`.
        Ok(if f.is_finite() { Value::Float(f) } else { Value::Null })
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Value, S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(ModelValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Value, M::Error> {
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key::<String>()? {
            let ModelValue(value) = map.next_value()?;
            // Linear: documents have tens of fields; a wide one pays for its width.
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => fields.push((key, value)),
            }
        }
        Ok(Value::Object(Fields(fields)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every captured search answer and some odd ones: the streaming decoding gives what the
    /// `Value` decoding gives, and takes the captured answers with hits.
    #[test]
    fn streaming_gives_what_value_decoding_gives() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elasticsearch");
        let mut bodies: Vec<(String, String)> = Vec::new();
        let mut stack = vec![dir];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "json") {
                bodies.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        let captured = bodies.len();
        let odd = [
            r#"{"hits":{"hits":[{"_index":"i","_id":7,"_source":{"event":{"original":"raw"},"message":null}}]}}"#,
            r#"{"hits":{"hits":[{"_index":"i","_source":{"a":18446744073709551615,"b":[1.5,"x",{"c":null}],"d":1,"e":-3,"d":2},"sort":[1000]}]}}"#,
            r#"{"hits":{"hits":[{"_index":"i","_source":{"event.original":5,"@timestamp":["2024-01-01T00:00:00Z"]}}]}}"#,
            r#"{"hits":{"hits":[{"_index":"i","_source":"not an object"},{"_index":"i","_source":null},{"_index":"i"}]}}"#,
            r#"{"hits":{"hits":[{"_index":5,"_id":[1],"_source":{ "msg" : "spaced \u00e9",  "n": 1.0e2 }}]},"took":1}"#,
            r#"{"hits":{"total":{"value":3,"relation":"eq"},"hits":null},"aggregations":{"a":{"buckets":[]}}}"#,
            r#"{"hits":{"hits":[1,2]}}"#,
            r#"{"hits":{"hits":[{"_source":{},"_source":{}}]}}"#,
            r#"{"hits":{"hits":[{"_id":"a","_id":"b","_source":{}}]}}"#,
            r#"{"hits":{"hits":[{"_score":1,"_score":2,"_source":{"message":"m"}}]}}"#,
            r#"{"hits":[],"took":1}"#,
            r#"{"took":1,"took":2}"#,
            r#"{"hits":{"hits":[{"_source":{"a":1}}]}} trailing"#,
            "[]",
            "not json",
        ];
        bodies.extend(odd.iter().map(|b| (b.to_string(), b.to_string())));
        let mut with_hits = 0;
        for (i, (name, body)) in bodies.iter().enumerate() {
            for time_field in ["@timestamp", "timestamp"] {
                let fast = decode_search(body, time_field);
                let slow = via_value(body, time_field);
                match (&fast, &slow) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                    _ => panic!("{name}: {fast:?} vs {slow:?}"),
                }
            }
            if i < captured && via_value(body, "@timestamp").is_ok_and(|a| !a.records.is_empty()) {
                with_hits += 1;
                assert!(streaming(body, "@timestamp").is_some(), "{name} takes the streaming path");
            }
        }
        assert!(with_hits >= 10, "captured answers with hits: {with_hits}");
        // The odd but valid shapes are decoded streaming too.
        for body in odd[..6].iter().chain(&odd[9..10]) {
            assert!(streaming(body, "@timestamp").is_some(), "{body}");
        }
        assert!(streaming(odd[8], "@timestamp").is_none(), "a duplicate _id leaves it to Value");
    }
}
