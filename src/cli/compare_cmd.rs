//! `logsleuth compare`: what changed between a baseline and a window, by the sources crate's
//! one comparison engine ([`logsleuth::sources::compare`]): for each field that matters, the
//! values whose counts changed most, ranked by the G-test; and the patterns new in the window.

use clap::Args;

use super::CliError;
use super::args::{AggOutput, FilterArgs, SourceArgs, TimeArgs};
use super::commands::{Out, runtime, wait_ready};
use super::source::{filter_query, open_source, resolve_range};
use crate::model::Nanos;
pub use crate::sources::compare::{Change, Comparison};
use crate::sources::compare::{CompareRequest, baseline_before};

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
    /// The baseline: FROM..TO; by default the same length just before the window, at least an hour.
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

/// Runs the comparison.
pub fn compare(args: &CompareArgs) -> Result<Comparison, CliError> {
    let now = crate::time::now_nanos();
    let window = parse_span(&args.window, "--window", now)?;
    let baseline = match &args.baseline {
        Some(b) => parse_span(b, "--baseline", now)?,
        None => baseline_before(window),
    };
    let source = open_source(&args.source)?;
    let info = source.info();
    let query = filter_query(&args.filter, &info)?;
    let request = CompareRequest { query, window, baseline, extra_fields: args.fields.clone(), size: args.size, patterns: true };
    runtime()?.block_on(async {
        wait_ready(&source).await;
        Ok(crate::sources::compare::compare(source.as_ref(), &request).await?)
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
                "new": ch.is_new(),
                "gone": ch.is_gone(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "patterns": c.patterns.iter().map(|p| serde_json::json!({
            "pattern": p.value,
            "window": p.window,
            "baseline": p.baseline,
            "new": p.is_new(),
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
