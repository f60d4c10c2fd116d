//! Request bodies, built with serde_json. They are a contract with the server (and asserted
//! exactly in the tests), chosen to work on Elasticsearch 7/8, OpenSearch and ES-compatible
//! servers alike: absolute RFC 3339 millisecond bounds (no date math), `fixed_interval`,
//! `track_total_hits: true` where a count matters, `_source` rather than the fields API.

use serde_json::{Map, Value as Json, json};

use logsleuth_core::model::{Nanos, TimeRange};
use logsleuth_core::time::format_rfc3339_millis;

/// Sort direction on the time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first (search, "before" context).
    Desc,
    /// Oldest first (tail, "after" context).
    Asc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Desc => "desc",
            Order::Asc => "asc",
        }
    }
}

/// The time range clause: `{"range":{"<tf>":{"gte":…,"lt":…,"format":"strict_date_optional_time"}}}`,
/// or `None` for an unbounded range.
pub fn range_clause(time_field: &str, range: TimeRange) -> Option<Json> {
    if range.from.is_none() && range.to.is_none() {
        return None;
    }
    let mut bounds = Map::new();
    if let Some(from) = range.from {
        bounds.insert("gte".into(), format_rfc3339_millis(from).into());
    }
    if let Some(to) = range.to {
        bounds.insert("lt".into(), format_rfc3339_millis(to).into());
    }
    bounds.insert("format".into(), "strict_date_optional_time".into());
    Some(json!({"range": {time_field: bounds}}))
}

/// The query part of every request: the translated query and the time range in a bool filter.
pub fn filtered_query(query: Option<&Json>, time_field: &str, range: TimeRange) -> Json {
    let mut filter: Vec<Json> = Vec::new();
    if let Some(q) = query {
        filter.push(q.clone());
    }
    if let Some(r) = range_clause(time_field, range) {
        filter.push(r);
    }
    json!({"bool": {"filter": filter}})
}

/// A page of documents sorted on the time field.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchBody {
    /// The filtered query (from [`filtered_query`]).
    pub query: Json,
    /// The time field.
    pub time_field: String,
    /// Page size.
    pub size: usize,
    /// Sort direction.
    pub order: Order,
    /// Add `_shard_doc` as the tiebreaker (Elasticsearch inside a point in time only).
    pub shard_doc_tiebreaker: bool,
    /// Sort values to continue after.
    pub search_after: Option<Vec<Json>>,
    /// Point-in-time id and keep-alive.
    pub pit: Option<(String, String)>,
    /// Ask for an exact hit count.
    pub track_total_hits: bool,
}

impl SearchBody {
    /// The JSON body.
    pub fn to_json(&self) -> Json {
        let mut body = Map::new();
        body.insert("size".into(), self.size.into());
        body.insert("track_total_hits".into(), self.track_total_hits.into());
        body.insert("query".into(), self.query.clone());
        let mut sort = vec![json!({self.time_field.as_str(): {"order": self.order.as_str()}})];
        if self.shard_doc_tiebreaker {
            sort.push(json!({"_shard_doc": self.order.as_str()}));
        }
        body.insert("sort".into(), Json::Array(sort));
        if let Some(after) = &self.search_after {
            body.insert("search_after".into(), Json::Array(after.clone()));
        }
        if let Some((id, keep_alive)) = &self.pit {
            body.insert("pit".into(), json!({"id": id, "keep_alive": keep_alive}));
        }
        Json::Object(body)
    }
}

/// How a histogram bucket is split: a `terms` sub-aggregation on a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitAgg {
    /// The (aggregatable) field.
    pub field: String,
    /// How many values.
    pub size: usize,
    /// Values each shard sends (`shard_size`), for an exact recount; the server's default
    /// when `None`.
    pub shard_size: Option<usize>,
}

/// Events over time: `date_histogram` with `fixed_interval` (and `time_zone` when one is set),
/// `min_doc_count: 0`, optionally split by a `terms` sub-aggregation.
pub fn histogram(query: Json, time_field: &str, interval: Nanos, time_zone: Option<&str>, split: Option<&SplitAgg>) -> Json {
    let mut date_histogram = Map::new();
    date_histogram.insert("field".into(), time_field.into());
    date_histogram.insert("fixed_interval".into(), fixed_interval(interval).into());
    date_histogram.insert("min_doc_count".into(), 0.into());
    if let Some(tz) = time_zone {
        date_histogram.insert("time_zone".into(), tz.into());
    }
    let mut over_time = Map::new();
    over_time.insert("date_histogram".into(), Json::Object(date_histogram));
    if let Some(split) = split {
        let mut terms = json!({"field": split.field, "size": split.size});
        if let Some(shard_size) = split.shard_size {
            terms["shard_size"] = shard_size.max(split.size).into();
        }
        over_time.insert("aggs".into(), json!({"split": {"terms": terms}}));
    }
    json!({"size": 0, "track_total_hits": true, "query": query, "aggs": {"over_time": over_time}})
}

/// The top values of a field: a `terms` aggregation.
pub fn terms(query: Json, field: &str, size: usize) -> Json {
    json!({"size": 0, "track_total_hits": true, "query": query, "aggs": {"top": {"terms": {"field": field, "size": size.max(1)}}}})
}

/// Precision asked of `cardinality`: ES's largest. Below it the estimate is close to exact;
/// above it, HyperLogLog++ errs by a few percent at most.
pub const CARDINALITY_PRECISION: u64 = 40_000;

/// The distinct values of `field` over `query`: a `cardinality` aggregation (an estimate).
pub fn cardinality(query: Json, field: &str) -> Json {
    json!({"size": 0, "track_total_hits": false, "query": query,
        "aggs": {"distinct": {"cardinality": {"field": field, "precision_threshold": CARDINALITY_PRECISION}}}})
}

/// [`terms`] with each shard (segment, split) asked for its `shard_size` best values instead
/// of the default `size * 1.5 + 10`: where every shard has at most that many values, the
/// counts are exact (`doc_count_error_upper_bound` 0) and the top values are the true ones.
pub fn terms_with_shard_size(query: Json, field: &str, size: usize, shard_size: usize) -> Json {
    let size = size.max(1);
    json!({"size": 0, "track_total_hits": true, "query": query,
        "aggs": {"top": {"terms": {"field": field, "size": size, "shard_size": shard_size.max(size)}}}})
}

/// A `fixed_interval` value in the largest exact unit ES accepts (`d h m s ms`; not `w`).
pub fn fixed_interval(ns: Nanos) -> String {
    const MS: Nanos = 1_000_000;
    let ms = (ns / MS).max(1);
    for (unit, per) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::parse_absolute;

    #[test]
    fn fixed_intervals_use_units_every_server_accepts() {
        let s = 1_000_000_000;
        assert_eq!(fixed_interval(60 * s), "1m");
        assert_eq!(fixed_interval(7 * 86_400 * s), "7d");
        assert_eq!(fixed_interval(90 * s), "90s");
        assert_eq!(fixed_interval(1_500_000), "1ms");
    }

    #[test]
    fn range_uses_absolute_millisecond_bounds() {
        let from = parse_absolute("2026-11-22T07:14:42Z", None).unwrap();
        let to = parse_absolute("2026-11-22T08:14:42.5Z", None).unwrap();
        assert_eq!(
            filtered_query(Some(&json!({"match_all": {}})), "@timestamp", TimeRange::between(from, to)),
            json!({"bool": {"filter": [{"match_all": {}}, {"range": {"@timestamp": {
                "gte": "2026-11-22T07:14:42.000Z", "lt": "2026-11-22T08:14:42.500Z", "format": "strict_date_optional_time"}}}]}})
        );
        assert_eq!(filtered_query(None, "ts", TimeRange::ALL), json!({"bool": {"filter": []}}));
    }
}
