//! `logsleuth compare`: what changed between a baseline and a window. For each field that
//! matters (status, client address, user agent, path, level by the source's field roles, and
//! any `--field`), the values whose counts changed most, ranked by the log-likelihood ratio
//! (G-test, [`logsleuth_core::changes::g_test`]) of their count against the windows' totals;
//! and the patterns new in the window. Every count comes from the backend over the whole
//! windows (the source's own top-N: exact local counts, ES `terms`, Loki metric queries).

use std::collections::{BTreeSet, HashMap};

use clap::Args;

use super::CliError;
use super::args::{AggOutput, FilterArgs, SourceArgs, TimeArgs};
use super::commands::{Out, runtime, wait_ready};
use super::source::{filter_query, open_source, resolve_range};
use crate::model::{Nanos, TimeRange, TopResult};
use crate::sources::patterns::PatternsRequest;
use crate::sources::{Source, TopRequest};
use logsleuth_core::changes::g_test;

/// Values fetched per field and window: enough that a value in one window's list is counted in
/// the other's too (what is beyond it is in `other`).
const FETCH_VALUES: usize = 1000;
/// Patterns mined per window to find the new ones.
const FETCH_PATTERNS: usize = 200;

/// `logsleuth compare`
#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The window that may differ: FROM..TO (RFC 3339 or date math, e.g. now-30m..now).
    #[arg(long, value_name = "FROM..TO")]
    pub window: String,
    /// The baseline: FROM..TO; by default the same length just before the window.
    #[arg(long, value_name = "FROM..TO")]
    pub baseline: Option<String>,
    /// A field to compare besides the default ones (repeatable).
    #[arg(long = "field", value_name = "F")]
    pub fields: Vec<String>,
    /// Values listed per field (and patterns).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub size: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AggOutput::Table)]
    pub output: AggOutput,
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

/// Parses `FROM..TO` at `now` (both ends required).
pub fn parse_span(text: &str, flag: &str, now: Nanos) -> Result<(Nanos, Nanos), CliError> {
    let Some((a, b)) = text.split_once("..") else {
        return Err(CliError::usage(format!("{flag} takes FROM..TO (e.g. now-30m..now), not {text:?}")));
    };
    let time = TimeArgs { since: None, from: Some(a.trim().to_string()), to: Some(b.trim().to_string()) };
    let range = resolve_range(&time, false, now)?;
    match (range.from, range.to) {
        (Some(f), Some(t)) => Ok((f, t)),
        _ => Err(CliError::usage(format!("{flag} needs both ends: FROM..TO"))),
    }
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

fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| b.window.cmp(&a.window)).then_with(|| a.value.cmp(&b.value)));
}

/// The fields compared by default: the source's roles, in the order.
fn default_fields(source: &dyn Source) -> Vec<String> {
    let roles = source.info().roles;
    [roles.status, roles.client_ip, roles.user_agent, roles.path, roles.level].into_iter().flatten().collect()
}

async fn top(source: &dyn Source, query: &crate::sources::Query, range: (Nanos, Nanos), field: &str) -> Result<TopResult, CliError> {
    Ok(source
        .top(TopRequest { query: query.clone(), range: TimeRange::between(range.0, range.1), field: field.to_string(), size: FETCH_VALUES })
        .await?)
}

/// Runs the comparison.
pub fn compare(args: &CompareArgs) -> Result<Comparison, CliError> {
    let now = crate::time::now_nanos();
    let window = parse_span(&args.window, "--window", now)?;
    let baseline = match &args.baseline {
        Some(b) => parse_span(b, "--baseline", now)?,
        None => (window.0 - (window.1 - window.0), window.0),
    };
    let source = open_source(&args.source)?;
    let info = source.info();
    let query = filter_query(&args.filter, &info)?;
    runtime()?.block_on(async {
        wait_ready(&source).await;
        let mut fields = default_fields(source.as_ref());
        for f in &args.fields {
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
        let (mut wt, mut bt) = (None, None);
        let mut out_fields = Vec::new();
        for field in fields {
            let (w, b) =
                tokio::join!(top(source.as_ref(), &query, window, &field), top(source.as_ref(), &query, baseline, &field));
            let (w, b) = (w?, b?);
            wt.get_or_insert(w.total);
            bt.get_or_insert(b.total);
            let mut changes = rank_changes(&w, &b);
            changes.truncate(args.size);
            out_fields.push((field, changes));
        }
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
        let wt = wt.unwrap_or(pw.total);
        let bt = bt.unwrap_or(pb.total);
        let base: HashMap<&str, u64> = pb.patterns.iter().map(|p| (p.pattern.as_str(), p.count)).collect();
        let mut pats: Vec<Change> = pw
            .patterns
            .iter()
            .map(|p| {
                let b = base.get(p.pattern.as_str()).copied().unwrap_or(0);
                Change { value: p.pattern.clone(), window: p.count, baseline: b, score: g_test(p.count, pw.total, b, pb.total) }
            })
            .collect();
        sort_changes(&mut pats);
        pats.truncate(args.size);
        Ok(Comparison { window: (window.0, window.1, wt), baseline: (baseline.0, baseline.1, bt), fields: out_fields, patterns: pats })
    })
}

/// The `compare --output json` contract (see docs/usage.md).
pub fn compare_json(c: &Comparison) -> serde_json::Value {
    let span = |(f, t, n): (Nanos, Nanos, u64)| {
        serde_json::json!({"from": crate::time::format_rfc3339(f), "to": crate::time::format_rfc3339(t), "total": n})
    };
    serde_json::json!({
        "window": span(c.window),
        "baseline": span(c.baseline),
        "fields": c.fields.iter().map(|(f, changes)| serde_json::json!({
            "field": f,
            "changes": changes.iter().map(|ch| serde_json::json!({
                "value": ch.value,
                "window": ch.window,
                "baseline": ch.baseline,
                "score": ch.score,
                "new": ch.baseline == 0 && ch.window > 0,
                "gone": ch.window == 0 && ch.baseline > 0,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "patterns": c.patterns.iter().map(|p| serde_json::json!({
            "pattern": p.value,
            "window": p.window,
            "baseline": p.baseline,
            "new": p.baseline == 0 && p.window > 0,
        })).collect::<Vec<_>>(),
    })
}

/// `logsleuth compare`.
pub fn run(args: CompareArgs) -> Result<(), CliError> {
    let c = compare(&args)?;
    let mut out = Out::new();
    match args.output {
        AggOutput::Json => out.line(&crate::export::records::json_line(&compare_json(&c)))?,
        AggOutput::Table => {
            let t = crate::time::format_rfc3339;
            out.line(&format!("window   {} .. {}  {} events", t(c.window.0), t(c.window.1), c.window.2))?;
            out.line(&format!("baseline {} .. {}  {} events", t(c.baseline.0), t(c.baseline.1), c.baseline.2))?;
            let flag = |ch: &Change| {
                if ch.baseline == 0 && ch.window > 0 {
                    "  new"
                } else if ch.window == 0 && ch.baseline > 0 {
                    "  gone"
                } else {
                    ""
                }
            };
            for (field, changes) in &c.fields {
                out.line("")?;
                out.line(&format!("{:<40}  {:>9}  {:>9}  {:>9}", crate::text::sanitize(field), "window", "baseline", "G"))?;
                for ch in changes {
                    let v = crate::text::truncate_chars(&ch.value, 40).into_owned();
                    out.raw(&format!("{v:<40}  {:>9}  {:>9}  {:>9.1}{}", ch.window, ch.baseline, ch.score, flag(ch)))?;
                }
            }
            out.line("")?;
            out.line("patterns (window, baseline)")?;
            for p in &c.patterns {
                out.raw(&format!("{:>9}  {:>9}  {}{}", p.window, p.baseline, p.value, flag(p)))?;
            }
        }
    }
    out.flush()
}
