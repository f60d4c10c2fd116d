//! One log event, whatever source it came from.

use std::sync::Arc;

use super::{Fields, Nanos, Value};

/// A stable identity for a record within its source, used for paging without duplicates and
/// for "show context". Each backend fills it its own way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum RecordId {
    /// No identity known.
    #[default]
    None,
    /// Local source: file number and line number (0-based) in that file.
    Line {
        /// Index of the file among the source's files.
        file: u32,
        /// 0-based line number.
        line: u64,
    },
    /// Loki: the stream's label set (canonical string), timestamp and line text hash.
    Loki {
        /// Canonical `{a="b",…}` string of the stream labels (shared by the stream's records).
        stream: Arc<str>,
        /// Entry timestamp.
        ts: Nanos,
        /// Index of the entry among entries of the same stream with the same timestamp.
        seq: u32,
    },
    /// Elasticsearch: index, `_id` (may be missing on ES-compatible servers) and sort values.
    Es {
        /// `_index` of the hit.
        index: String,
        /// `_id`, if the server sent one.
        id: Option<String>,
        /// The hit's `sort` array, as JSON text, for `search_after`.
        sort: String,
    },
    /// CloudWatch Logs: the log group and stream (shared by their records) and the event's
    /// `eventId`, unique within the group.
    CloudWatch {
        /// Log group name.
        group: Arc<str>,
        /// Log stream name.
        stream: Arc<str>,
        /// The event's `eventId`.
        event_id: String,
    },
}

/// A log event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Event time, if one could be found.
    pub timestamp: Option<Nanos>,
    /// The raw line (local, Loki) or the message field (ES; `_source` JSON when there is none).
    pub message: String,
    /// Queryable fields (parsed from the line, or the document's `_source`).
    pub fields: Fields,
    /// Where the record lives: file name (`file`), Loki stream labels, ES `_index`. Queryable too.
    /// Shared: the records of one stream or file hold the same list, so a page of 5,000 Loki
    /// lines does not copy its stream's labels 5,000 times.
    pub labels: Arc<Fields>,
    /// Loki structured metadata; empty elsewhere. Queryable too.
    pub metadata: Fields,
    /// Identity for paging and context.
    pub id: RecordId,
}

impl Record {
    /// A record holding just a line of text.
    pub fn plain(message: impl Into<String>) -> Self {
        Record { message: message.into(), ..Record::default() }
    }

    /// Looks a field up by (dotted) name in fields, then labels, then metadata.
    /// `@timestamp` and `message` always resolve, as every record has them.
    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.fields.get_path(name).or_else(|| self.labels.get_path(name)).or_else(|| self.metadata.get_path(name)) {
            return Some(v.clone());
        }
        match name {
            "message" => Some(Value::Str(self.message.clone())),
            "@timestamp" => self.timestamp.map(|ts| Value::Str(crate::time::format_rfc3339(ts))),
            _ => None,
        }
    }

    /// Every field name the record has (dotted leaves of fields, labels and metadata), plus
    /// `@timestamp` and `message`. Used by the field sidebar and by KQL wildcard field names.
    pub fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if self.timestamp.is_some() {
            names.push("@timestamp".into());
        }
        for group in [&self.fields, &self.labels, &self.metadata] {
            for (name, _) in group.flatten() {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        if !names.iter().any(|n| n == "message") {
            names.push("message".into());
        }
        names
    }

    /// The record as one JSON object: `@timestamp`, labels, metadata, fields, `message`.
    /// This is the NDJSON export shape.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        if let Some(ts) = self.timestamp {
            obj.insert("@timestamp".into(), crate::time::format_rfc3339(ts).into());
        }
        for group in [&self.labels, &self.metadata, &self.fields] {
            for (k, v) in group.iter() {
                obj.insert(k.to_string(), v.to_json());
            }
        }
        obj.entry("message").or_insert_with(|| self.message.clone().into());
        serde_json::Value::Object(obj)
    }
}
