//! Baseline versus window through any [`Source`]: for each field that matters (the source's
//! roles: status, client address, user agent, path, level; and any field asked for), the values
//! whose counts changed most, ranked by the log-likelihood ratio (G-test,
//! [`logsleuth_core::changes::g_test`]) of their count against the windows' totals; and the
//! patterns of the window with their baseline count. Every count comes from the backend over
//! the whole windows (the source's own top-N: exact local counts, ES `terms`, Loki metric
//! queries), never from a page of lines. The CLI's `compare`, the TUI's comparison view and
//! the postmortem report all run this one engine.

use std::collections::{BTreeSet, HashMap};

use logsleuth_core::changes::g_test;
use logsleuth_core::model::{FieldRoles, Nanos, TimeRange, TopResult};

use crate::patterns::PatternsRequest;
use crate::{Query, Source, SourceResult, TopRequest};

/// Values fetched per field and window: enough that a value in one window's list is counted in
/// the other's too (what is beyond it is in `other`).
pub const FETCH_VALUES: usize = 1000;
/// Patterns mined per window to find the new ones.
pub const FETCH_PATTERNS: usize = 200;

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRequest {
    /// The filter both windows share.
    pub query: Query,
    /// The window that may differ: `[from, to)`.
    pub window: (Nanos, Nanos),
    /// The baseline: `[from, to)`.
    pub baseline: (Nanos, Nanos),
    /// Fields compared besides the source's roles.
    pub extra_fields: Vec<String>,
    /// Values kept per field (and patterns).
    pub size: usize,
    /// Whether to mine the patterns of both windows too (the slow part on a server).
    pub patterns: bool,
}

impl CompareRequest {
    /// A comparison of `window` against the same length just before it.
    pub fn before(query: Query, window: (Nanos, Nanos), size: usize) -> CompareRequest {
        CompareRequest { query, window, baseline: baseline_before(window), extra_fields: Vec::new(), size, patterns: true }
    }
}

/// The shortest default baseline: logs written in bursts (every line of an hour in one minute,
/// as the shared nginx log) leave a baseline of a few minutes empty, and a share against
/// nothing says nothing.
pub const MIN_BASELINE: Nanos = 3600 * logsleuth_core::time::NS_PER_SEC;

/// The default baseline, for the CLI's `compare`, the TUI's comparison view and the report
/// alike: the same length just before the window, and at least [`MIN_BASELINE`].
pub fn baseline_before(window: (Nanos, Nanos)) -> (Nanos, Nanos) {
    let len = (window.1 - window.0).max(MIN_BASELINE);
    (window.0.saturating_sub(len), window.0)
}

/// One value's change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The value.
    pub value: String,
    /// Its count in the window.
    pub window: u64,
    /// Its count in the baseline.
    pub baseline: u64,
    /// G statistic.
    pub score: f64,
}

impl Change {
    /// In the window and not in the baseline.
    pub fn is_new(&self) -> bool {
        self.baseline == 0 && self.window > 0
    }

    /// In the baseline and not in the window.
    pub fn is_gone(&self) -> bool {
        self.window == 0 && self.baseline > 0
    }
}

/// The comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Window range and total.
    pub window: (Nanos, Nanos, u64),
    /// Baseline range and total.
    pub baseline: (Nanos, Nanos, u64),
    /// Per field, changes ranked by score.
    pub fields: Vec<(String, Vec<Change>)>,
    /// Patterns of the window with their baseline count, ranked by score.
    pub patterns: Vec<Change>,
}

/// Ranks the changes of one field from its top values in each window.
pub fn rank_changes(window: &TopResult, baseline: &TopResult) -> Vec<Change> {
    let w: HashMap<&str, u64> = window.buckets.iter().map(|b| (b.value.as_str(), b.count)).collect();
    let b: HashMap<&str, u64> = baseline.buckets.iter().map(|b| (b.value.as_str(), b.count)).collect();
    let values: BTreeSet<&str> = w.keys().chain(b.keys()).copied().collect();
    let mut out: Vec<Change> = values
        .into_iter()
        .map(|v| {
            let (cw, cb) = (w.get(v).copied().unwrap_or(0), b.get(v).copied().unwrap_or(0));
            Change { value: v.to_string(), window: cw, baseline: cb, score: g_test(cw, window.total, cb, baseline.total) }
        })
        .collect();
    sort_changes(&mut out);
    out
}

/// Highest score first; ties by window count, then value (a stable order for tests).
fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| b.window.cmp(&a.window)).then_with(|| a.value.cmp(&b.value)));
}

/// The fields compared by default: the source's roles, in the order, then `extra`.
pub fn fields_of(source: &dyn Source, extra: &[String]) -> Vec<String> {
    let roles = source.info().roles;
    let mut fields: Vec<String> = [roles.status, roles.client_ip, roles.user_agent, roles.path, roles.level].into_iter().flatten().collect();
    for f in extra {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    fields
}

async fn top(source: &dyn Source, query: &Query, range: (Nanos, Nanos), field: &str) -> SourceResult<TopResult> {
    source
        .top(TopRequest { query: query.clone(), range: TimeRange::between(range.0, range.1), field: field.to_string(), size: FETCH_VALUES })
        .await
}

/// Makes sure a server source knows its fields' roles before they are used: it learns them from
/// its first answers (Elasticsearch's field caps, Loki's lines), so a comparison or a report run
/// before any search (the CLI's) asks for the fields first, or it would find none.
pub async fn learn_roles(source: &dyn Source, range: (Nanos, Nanos)) -> SourceResult<()> {
    let info = source.info();
    if info.is_remote && info.roles == FieldRoles::default() {
        source.fields(TimeRange::between(range.0, range.1)).await?;
    }
    Ok(())
}

/// Runs the comparison on `source`.
pub async fn compare(source: &dyn Source, request: &CompareRequest) -> SourceResult<Comparison> {
    let CompareRequest { query, window, baseline, size, .. } = request;
    let (window, baseline) = (*window, *baseline);
    let (mut wt, mut bt) = (None, None);
    let mut out_fields = Vec::new();
    learn_roles(source, window).await?;
    for field in fields_of(source, &request.extra_fields) {
        let (w, b) = tokio::join!(top(source, query, window, &field), top(source, query, baseline, &field));
        let (w, b) = (w?, b?);
        wt.get_or_insert(w.total);
        bt.get_or_insert(b.total);
        let mut changes = rank_changes(&w, &b);
        changes.truncate(*size);
        out_fields.push((field, changes));
    }
    let mut pats = Vec::new();
    if request.patterns {
        let patterns = |range: (Nanos, Nanos)| {
            source.patterns(PatternsRequest {
                query: query.clone(),
                range: TimeRange::between(range.0, range.1),
                size: FETCH_PATTERNS,
                target_buckets: 1,
            })
        };
        let (pw, pb) = tokio::join!(patterns(window), patterns(baseline));
        let (pw, pb) = (pw?, pb?);
        wt.get_or_insert(pw.total);
        bt.get_or_insert(pb.total);
        let base: HashMap<&str, u64> = pb.patterns.iter().map(|p| (p.pattern.as_str(), p.count)).collect();
        pats = pw
            .patterns
            .iter()
            .map(|p| {
                let b = base.get(p.pattern.as_str()).copied().unwrap_or(0);
                Change { value: p.pattern.clone(), window: p.count, baseline: b, score: g_test(p.count, pw.total, b, pb.total) }
            })
            .collect();
        sort_changes(&mut pats);
        pats.truncate(*size);
    }
    Ok(Comparison {
        window: (window.0, window.1, wt.unwrap_or(0)),
        baseline: (baseline.0, baseline.1, bt.unwrap_or(0)),
        fields: out_fields,
        patterns: pats,
    })
}
