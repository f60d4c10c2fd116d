//! Log patterns through any [`Source`]: the request, and the default way every backend without
//! a pattern engine of its own answers it: Drain ([`logsleuth_core::patterns`]) over a bounded
//! sample spread evenly over the range, its counts scaled per slice to the slice's hit count
//! and marked estimated (`exact: false`).

use logsleuth_core::model::{HitCount, Nanos, TimeRange};
use logsleuth_core::patterns::{Grid, Miner, PatternMethod, PatternsResult};

use crate::{Query, SearchRequest, Source, SourceResult, choose_interval};

/// A request for the log patterns of a query over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternsRequest {
    /// The filter.
    pub query: Query,
    /// The time range (a source with an unbounded range uses its data's span).
    pub range: TimeRange,
    /// Most patterns returned.
    pub size: usize,
    /// Sample buckets (the sparkline's width) over the range.
    pub target_buckets: usize,
}

/// Slices the range is cut into for an even sample.
pub const SAMPLE_SLICES: usize = 20;
/// Lines fetched per slice (20 × 250 = 5,000 lines: Loki's default `max_entries_limit_per_query`
/// for one request, and a few pages of Elasticsearch).
pub const SAMPLE_PER_SLICE: usize = 250;

/// The sample grid of a bounded range.
pub fn grid_of(from: Nanos, to: Nanos, target_buckets: usize) -> Grid {
    let to = to.max(from.saturating_add(1));
    let interval = choose_interval(to - from, target_buckets.max(1));
    let start = from.div_euclid(interval) * interval;
    let buckets = ((to - start + interval - 1) / interval) as usize;
    Grid { start, interval, buckets }
}

/// Patterns by Drain over an evenly spread sample of `source`'s matching lines: the range is cut
/// into [`SAMPLE_SLICES`] slices and the newest [`SAMPLE_PER_SLICE`] lines of each are mined.
/// A slice's lines stand for all its hits (the page's hit count), so the counts are estimates
/// of the whole range (`exact: false`); a slice whose count the source does not give counts its
/// lines as they are.
pub async fn sample_patterns<S: Source + ?Sized>(source: &S, request: PatternsRequest) -> SourceResult<PatternsResult> {
    let span = source.time_span().await;
    let from = request.range.from.or(span.and_then(|s| s.from));
    let to = request.range.to.or(span.and_then(|s| s.to)).or_else(|| Some(logsleuth_core::time::now_nanos()));
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(PatternsResult { total: 0, exact: false, method: PatternMethod::Drain, patterns: Vec::new(), note: None });
    };
    let to = to.max(from.saturating_add(1));
    let grid = grid_of(from, to, request.target_buckets);
    let slice = ((to - from) / SAMPLE_SLICES as Nanos).max(1);
    let mut miners = Vec::new();
    let mut total = 0u64;
    let mut sampled = 0u64;
    let mut bounded = false;
    let mut a = from;
    while a < to {
        let b = if to - a < 2 * slice { to } else { a + slice };
        let page = source
            .search(SearchRequest {
                query: request.query.clone(),
                range: TimeRange { from: Some(a), to: Some(b) },
                limit: SAMPLE_PER_SLICE,
                cursor: None,
            })
            .await?;
        let hits = match page.total {
            Some(HitCount::Exact(n)) => n,
            Some(HitCount::AtLeast(n)) => {
                bounded = true;
                n
            }
            None => page.records.len() as u64,
        }
        .max(page.records.len() as u64);
        total += hits;
        sampled += page.records.len() as u64;
        if !page.records.is_empty() {
            let mut m = Miner::new(grid);
            for r in &page.records {
                m.add(&r.message, r.timestamp);
            }
            miners.push((m, hits as f64 / page.records.len() as f64));
        }
        a = b;
    }
    let patterns = scale_and_merge(miners, grid);
    let mut result = PatternsResult {
        total,
        exact: sampled == total && !bounded,
        method: PatternMethod::Drain,
        patterns,
        note: (sampled < total).then(|| format!("patterns mined from a sample of {sampled} of {total} lines; counts are estimates")),
    };
    result.rank(request.size);
    Ok(result)
}

/// Each slice's patterns weighted by its hits per sampled line, merged in time order.
fn scale_and_merge(miners: Vec<(Miner, f64)>, grid: Grid) -> Vec<logsleuth_core::patterns::Pattern> {
    let mut global = Miner::new(grid);
    for (mut m, w) in miners {
        m.scale(w);
        global.merge(m);
    }
    global.finish()
}
