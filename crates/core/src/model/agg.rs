//! Aggregation results: top-N values of a field and events over time.
//! Their JSON shapes are the CLI contract (`top --output json`, `histogram --output json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Nanos;

/// One value of a top-N chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopBucket {
    /// The field value, as text.
    pub value: String,
    /// How many events carry it.
    pub count: u64,
}

/// The top values of a field over a query and time range.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TopResult {
    /// The field aggregated.
    pub field: String,
    /// Events matching the query (with or without the field).
    pub total: u64,
    /// Events whose value is not among the buckets (ES `sum_other_doc_count`).
    pub other: u64,
    /// Values, largest count first, ties broken by value.
    pub buckets: Vec<TopBucket>,
    /// Upper bound of the error on bucket counts (ES `doc_count_error_upper_bound`), when not 0.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_bound: Option<u64>,
    /// True when computed from a partial sample (e.g. the fetched page after a server refused).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub partial: bool,
    /// Why the result is partial or approximate, for the user.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// How many distinct values the field has over the query and range, where the backend
    /// counts them (a local count; ES `cardinality`, Loki `count(count by …)` when asked).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub distinct: Option<u64>,
    /// The distinct count is the server's estimate (ES `cardinality` is HyperLogLog++), not a
    /// count.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub distinct_estimated: bool,
}

/// How many distinct values a field has over a query and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distinct {
    /// The number of distinct values.
    pub count: u64,
    /// True when the backend estimates it rather than counts it.
    pub estimated: bool,
}

/// One time bucket of the events-over-time histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Bucket start (inclusive), ns since epoch. Serialized as RFC 3339 by the CLI.
    pub start: Nanos,
    /// Events in the bucket.
    pub count: u64,
    /// Counts per value of the split field (e.g. `2xx`, `5xx`, or `error`, `info`).
    pub split: BTreeMap<String, u64>,
}

/// Events over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramResult {
    /// Bucket width in ns.
    pub interval: Nanos,
    /// The split field, if any (`status_class`, `level`, or any field).
    pub split_by: Option<String>,
    /// Buckets in time order, empty buckets included so the chart has no gaps.
    pub buckets: Vec<HistogramBucket>,
    /// True when computed from a partial sample.
    pub partial: bool,
    /// Why the result is partial, for the user.
    pub note: Option<String>,
    /// Upper bound of the error on a split series' counts in one bucket (a server's `terms`
    /// aggregation over several shards that could not be recounted exactly), when not 0.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub split_error_bound: Option<u64>,
}
