//! Log patterns from Elasticsearch: its `categorize_text` aggregation (Elasticsearch ≥ 7.16, the
//! engine of Kibana's log pattern analysis) groups every matching document's message into
//! categories on the server, each with a `date_histogram` for its sparkline and one example
//! document (`top_hits`). A server without it (OpenSearch, older Elasticsearch, an index with no
//! message field) answers 400 or has nothing to categorize: the caller then mines a sample with
//! Drain, as for any backend.
//!
//! The answer, as the Elasticsearch reference documents it:
//! `{"aggregations":{"patterns":{"buckets":[{"doc_count":3,"key":"Node shutting down",
//! "regex":".*?Node.+?shutting.+?down.*?","max_matching_length":49}]}}}`. A category's `key` is
//! the tokens its messages share, in order; what lies between them varies (variable tokens are
//! left out, so between two tokens there may be nothing but a space). Its template here puts
//! `<_>` between the tokens, so it reads as the other backends' templates do and filters the
//! same way (its literal parts as phrases, in any order); here `<_>` may stand for nothing.

use serde_json::{Value as Json, json};

use super::{Inner, body, response};
use crate::patterns::{PatternsRequest, grid_of};
use crate::{SourceError, SourceResult};
use logsleuth_core::model::{HitCount, Nanos};
use logsleuth_core::patterns::{Pattern, PatternMethod, PatternsResult, WILDCARD};

/// Fields a document's message is read from, in order (ECS `message`, then the raw event).
pub const MESSAGE_FIELDS: &[&str] = &["message", "event.original", "log.original", "msg"];

/// The request body: the query and range, `categorize_text` on `field` with a date histogram
/// of `interval` over `[from, to)` and one example per category.
pub fn categorize_body(query: Json, field: &str, size: usize, time_field: &str, grid: (Nanos, Nanos, Nanos)) -> Json {
    let (from, to, interval) = grid;
    json!({
        "size": 0,
        "track_total_hits": true,
        "query": query,
        "aggs": {"patterns": {
            "categorize_text": {"field": field, "size": size.max(1)},
            "aggs": {
                "over_time": {"date_histogram": {
                    "field": time_field,
                    "fixed_interval": body::fixed_interval(interval),
                    "min_doc_count": 0,
                    "extended_bounds": {"min": from / 1_000_000, "max": (to - 1) / 1_000_000}
                }},
                "example": {"top_hits": {"size": 1, "_source": {"includes": [field]}}}
            }
        }}
    })
}

/// `Node shutting down` → `Node <_> shutting <_> down`.
pub fn template_of(key: &str) -> String {
    key.split_whitespace().collect::<Vec<_>>().join(&format!(" {WILDCARD} "))
}

/// The categories of an answer, with samples on the grid (`start`, `interval`, `buckets`).
pub fn decode_categories(answer: &Json, field: &str, start: Nanos, interval: Nanos, buckets: usize) -> Vec<Pattern> {
    let Some(list) = answer.pointer("/aggregations/patterns/buckets").and_then(Json::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|b| {
            let key = b.get("key")?.as_str()?;
            let count = b.get("doc_count")?.as_u64()?;
            let mut samples: Vec<(i64, u64)> =
                (0..buckets).map(|i| ((start + i as Nanos * interval).div_euclid(1_000_000_000), 0)).collect();
            for h in b.pointer("/over_time/buckets").and_then(Json::as_array).into_iter().flatten() {
                let (Some(ms), Some(n)) = (h.get("key").and_then(Json::as_i64), h.get("doc_count").and_then(Json::as_u64)) else { continue };
                let ns = ms as i128 * 1_000_000;
                if ns < start as i128 || interval <= 0 {
                    continue;
                }
                if let Some(slot) = samples.get_mut(((ns - start as i128) / interval as i128) as usize) {
                    slot.1 += n;
                }
            }
            let example = b
                .pointer("/example/hits/hits/0/_source")
                .and_then(|s| field.split('.').try_fold(s, |v, part| v.get(part)))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            Some(Pattern { pattern: template_of(key), count, example, samples })
        })
        .collect()
}

impl Inner {
    /// The patterns by `categorize_text`, or `None` where the server cannot categorize (no
    /// message field, or a 400: OpenSearch and Elasticsearch before 7.16 have no such
    /// aggregation): then Drain on a sample.
    pub(super) async fn es_patterns(&self, request: &PatternsRequest) -> SourceResult<Option<PatternsResult>> {
        let schema = self.schema().await?.clone();
        let Some(field) = MESSAGE_FIELDS.iter().copied().find(|f| schema.field(f).is_some()).map(str::to_string) else {
            return Ok(None);
        };
        let query = self.filtered(&schema, &request.query, request.range)?;
        let (from, to) = match (request.range.from, request.range.to) {
            (Some(a), Some(b)) => (a, b),
            _ => match self.data_span(&schema, &query, request.range).await? {
                Some(span) => span,
                None => return Ok(Some(PatternsResult { total: 0, exact: true, method: PatternMethod::Elasticsearch, patterns: Vec::new(), note: None })),
            },
        };
        let grid = grid_of(from, to, request.target_buckets);
        // fixed_interval has millisecond resolution.
        let interval = grid.interval.max(1_000_000) / 1_000_000 * 1_000_000;
        let request_body = categorize_body(query, &field, request.size, &schema.time_field, (grid.start, to.max(grid.start + 1), interval));
        let (answer, notes, partial) = match self.aggregate(&request_body).await {
            Ok(a) => a,
            // No such aggregation (a `parsing_exception`, a 400): Drain. A query the server
            // refuses for another reason fails again, and says so, in the sample's searches.
            Err(SourceError::Server { status: 400, .. } | SourceError::Query(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let total = match response::hit_count(&answer) {
            Some(HitCount::Exact(n) | HitCount::AtLeast(n)) => n,
            None => 0,
        };
        let buckets = usize::try_from((to.max(grid.start + 1) - grid.start + interval - 1) / interval).unwrap_or(0);
        let patterns = decode_categories(&answer, &field, grid.start, interval, buckets);
        let mut note = notes;
        if partial {
            note.insert(0, "some shards failed: the categories cover the documents of the others".into());
        }
        let mut result = PatternsResult {
            total,
            exact: !partial,
            method: PatternMethod::Elasticsearch,
            patterns,
            note: (!note.is_empty()).then(|| note.join("; ")),
        };
        result.rank(request.size);
        Ok(Some(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_become_templates_with_samples_on_the_grid() {
        let answer = json!({"hits": {"total": {"value": 5, "relation": "eq"}, "hits": []}, "aggregations": {"patterns": {"buckets": [
            {"doc_count": 3, "key": "Node shutting down", "regex": ".*?Node.+?shutting.+?down.*?", "max_matching_length": 49,
             "over_time": {"buckets": [{"key": 60_000, "doc_count": 1}, {"key": 120_000, "doc_count": 2}]},
             "example": {"hits": {"hits": [{"_source": {"message": "Node 3 shutting down"}}]}}}
        ]}}});
        let p = decode_categories(&answer, "message", 60 * 1_000_000_000, 60 * 1_000_000_000, 3);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pattern, "Node <_> shutting <_> down");
        assert_eq!((p[0].count, p[0].example.as_str()), (3, "Node 3 shutting down"));
        assert_eq!(p[0].samples, [(60, 1), (120, 2), (180, 0)]);
        // Its literal parts are the category's tokens, as the filter for it takes them.
        let parts: Vec<&str> = p[0].pattern.split(WILDCARD).map(str::trim).collect();
        assert_eq!(parts, ["Node", "shutting", "down"]);
    }
}
