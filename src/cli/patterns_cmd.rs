//! `logsleuth patterns`: the log templates of a query over a range, from the backend's pattern
//! engine where it has one (Loki's pattern ingester) and from Drain elsewhere (every line of
//! local files; an evenly spread sample of a server, counts marked estimated).

use clap::Args;

use super::CliError;
use super::args::{AggOutput, FilterArgs, SourceArgs, TimeArgs};
use super::commands::{Out, runtime, wait_ready};
use super::source::{filter_query, open_source, resolve_range};
use crate::sources::patterns::PatternsRequest;
use logsleuth_core::patterns::{PatternsResult, share};

/// Sample buckets of each pattern over the range (the sparkline).
const SAMPLE_BUCKETS: usize = 30;

/// `logsleuth patterns`
#[derive(Debug, Args, Clone)]
pub struct PatternsArgs {
    /// The source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The time range.
    #[command(flatten)]
    pub time: TimeArgs,
    /// The filter.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Number of patterns.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub size: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AggOutput::Table)]
    pub output: AggOutput,
}

/// The `patterns --output json` contract:
/// `{"total","exact","method","patterns":[{"pattern","count","share","example","samples":[[s,n]]}]}`.
pub fn patterns_json(result: &PatternsResult) -> serde_json::Value {
    serde_json::json!({
        "total": result.total,
        "exact": result.exact,
        "method": result.method.name(),
        "patterns": result.patterns.iter().map(|p| serde_json::json!({
            "pattern": p.pattern,
            "count": p.count,
            "share": share(p.count, result.total),
            "example": p.example,
            "samples": p.samples.iter().map(|(t, n)| serde_json::json!([t, n])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Fetches the patterns of `args`.
pub fn fetch(source: &SourceArgs, time: &TimeArgs, filter: &FilterArgs, size: usize) -> Result<PatternsResult, CliError> {
    let source = open_source(source)?;
    let info = source.info();
    let query = filter_query(filter, &info)?;
    let range = resolve_range(time, info.is_remote, crate::time::now_nanos())?;
    Ok(runtime()?.block_on(async {
        wait_ready(&source).await;
        source.patterns(PatternsRequest { query, range, size, target_buckets: SAMPLE_BUCKETS }).await
    })?)
}

/// `logsleuth patterns`.
pub fn run(args: PatternsArgs) -> Result<(), CliError> {
    let result = fetch(&args.source, &args.time, &args.filter, args.size)?;
    let mut out = Out::new();
    match args.output {
        AggOutput::Json => out.line(&crate::export::records::json_line(&patterns_json(&result)))?,
        AggOutput::Table => {
            out.line(&format!("{:>9}  {:>6}  pattern", "count", "share"))?;
            let approx = if result.exact { "" } else { "~" };
            for p in &result.patterns {
                let pct = 100.0 * share(p.count, result.total);
                out.raw(&format!("{approx}{:>8}  {pct:>5.1}%  {}", p.count, p.pattern))?;
            }
            let how = if result.exact { "exact" } else { "estimated" };
            out.line(&format!("total {}, {how}, by {}", result.total, result.method.name()))?;
        }
    }
    if let Some(note) = &result.note {
        eprintln!("logsleuth: {}", crate::text::sanitize(note));
    }
    out.flush()
}
