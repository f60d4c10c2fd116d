//! Log patterns from Loki: its pattern ingester (`GET /loki/api/v1/patterns`) finds the
//! templates; each one is then counted exactly over the range with the pattern line filter
//! (`sum(count_over_time({…} |> `<template>` [range]))`, Loki ≥ 3.0). A Loki without the
//! pattern ingester answers 404 or nothing: the caller then mines a sample with Drain.

use serde_json::Value as Json;

use super::{Inner, resolve};
use crate::patterns::{PatternsRequest, grid_of};
use crate::{SourceError, SourceResult};
use logsleuth_core::model::Nanos;
use logsleuth_core::patterns::{Pattern, PatternMethod, PatternsResult};

/// Templates counted exactly at most (one instant query each, run together).
pub const MAX_EXACT: usize = 50;

/// A LogQL string literal for a template: backquoted unless it holds a backquote.
pub fn pattern_literal(template: &str) -> String {
    if template.contains('`') {
        serde_json::to_string(template).unwrap_or_default()
    } else {
        format!("`{template}`")
    }
}

/// Decodes a `/loki/api/v1/patterns` answer: `{"status","data":[{"pattern","samples":[[s,n]]}]}`.
pub fn decode_patterns(body: &Json) -> Vec<(String, Vec<(i64, u64)>)> {
    let Some(data) = body.get("data").and_then(Json::as_array) else { return Vec::new() };
    data.iter()
        .filter_map(|p| {
            let pattern = p.get("pattern")?.as_str()?.to_string();
            let samples = p
                .get("samples")
                .and_then(Json::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|pair| {
                            let pair = pair.as_array()?;
                            let t = pair.first()?.as_f64()? as i64;
                            let n = pair.get(1).and_then(|n| n.as_u64().or_else(|| n.as_str()?.parse().ok()))?;
                            Some((t, n))
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some((pattern, samples))
        })
        .collect()
}

impl Inner {
    /// The patterns by Loki, or `None` when it has no pattern ingester (404, empty answer) or
    /// the query filters lines (the ingester only knows streams): then Drain on a sample.
    pub(super) async fn loki_patterns(&self, request: &PatternsRequest) -> SourceResult<Option<PatternsResult>> {
        if !request.query.is_empty() {
            return Ok(None);
        }
        let (from, to) = resolve(request.range);
        let grid = grid_of(from, to, request.target_buckets);
        let selector = self.selector().trim().to_string();
        let step_seconds = (grid.interval / 1_000_000_000).max(1);
        let params = vec![
            ("query", selector.clone()),
            ("step", step_seconds.to_string()),
            ("start", from.to_string()),
            ("end", to.to_string()),
        ];
        let body = match self.client.get_json("/loki/api/v1/patterns", &params, false).await {
            Ok(b) => b,
            // No pattern ingester: 404 (or a Loki too old to have the endpoint).
            Err(SourceError::Server { status: 404, .. }) => return Ok(None),
            Err(SourceError::Unsupported(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut found = decode_patterns(&body);
        if found.is_empty() {
            return Ok(None);
        }
        // The ingester's own counts rank the templates; the first ones are recounted exactly.
        found.sort_by(|a, b| {
            let sum = |s: &[(i64, u64)]| s.iter().map(|x| x.1).sum::<u64>();
            sum(&b.1).cmp(&sum(&a.1)).then_with(|| a.0.cmp(&b.0))
        });
        found.truncate(request.size.min(MAX_EXACT));
        let range = (from, to);
        let total = self.count(&selector, range);
        let counts = futures_util::future::join_all(
            found.iter().map(|(p, _)| self.count_owned(format!("{selector} |> {}", pattern_literal(p)), range)),
        );
        let (total, counts) = futures_util::future::join(total, counts).await;
        let total = total?;
        let mut exact = true;
        let patterns = found
            .into_iter()
            .zip(counts)
            .map(|((pattern, samples), count)| {
                let count = match count {
                    Ok(n) => n,
                    Err(_) => {
                        exact = false;
                        samples.iter().map(|s| s.1).sum()
                    }
                };
                Pattern { pattern, count, example: String::new(), samples: on_grid(&samples, grid.start, grid.interval, grid.buckets) }
            })
            .collect();
        let mut result = PatternsResult {
            total,
            exact,
            method: PatternMethod::Loki,
            patterns,
            note: (!exact).then(|| "some pattern counts are Loki's pattern-ingester estimates".to_string()),
        };
        result.rank(request.size);
        Ok(Some(result))
    }

    async fn count_owned(&self, logql: String, range: (Nanos, Nanos)) -> SourceResult<u64> {
        self.count(&logql, range).await
    }
}

/// Loki's samples (unix seconds) on the grid's buckets.
fn on_grid(samples: &[(i64, u64)], start: Nanos, interval: Nanos, buckets: usize) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> =
        (0..buckets).map(|i| ((start + i as Nanos * interval).div_euclid(1_000_000_000), 0)).collect();
    for &(t, n) in samples {
        let ns = t as i128 * 1_000_000_000;
        if ns < start as i128 || interval <= 0 {
            continue;
        }
        let i = ((ns - start as i128) / interval as i128) as usize;
        if let Some(slot) = out.get_mut(i) {
            slot.1 += n;
        }
    }
    out
}
