//! The non-interactive subcommands: `query`, `top`, `histogram`, `tail`. They work on any
//! [`Source`]; output formats are the contract documented in the README.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use super::CliError;
use super::args::{AggOutput, HistogramArgs, QueryArgs, QueryOutput, SourceArgs, TailArgs, TailOutput, TopArgs};
use super::source::{filter_query, open_source, resolve_range};
use crate::model::{HistogramResult, Record, TopResult};
use crate::sources::local::{LocalOptions, OneShot};
use crate::sources::{HistogramRequest, Source, Split, TailEvent, TailRequest, TopRequest};

/// Histogram buckets aimed at when no `--interval` is given.
const CLI_TARGET_BUCKETS: usize = 60;

/// Largest page asked of a source at once.
const PAGE: usize = 1000;

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::source(format!("cannot start the runtime: {e}")))
}

/// Waits until a local source has indexed everything (exact answers need the whole file).
pub(super) async fn wait_ready(source: &Arc<dyn Source>) {
    if source.info().is_remote {
        return;
    }
    let started = std::time::Instant::now();
    let show = std::io::stderr().is_terminal();
    let mut shown = false;
    while let Some(p) = source.progress() {
        // A large file takes a while: say how far along it is (only to a person).
        if show && started.elapsed() > Duration::from_millis(500) && p.total > 0 {
            eprint!("\rlogsleuth: indexing {}%", p.done.saturating_mul(100) / p.total.max(1));
            shown = true;
        }
        tokio::time::sleep(Duration::from_millis(if shown { 200 } else { 10 })).await;
    }
    if shown {
        eprint!("\r\x1b[2K");
    }
}

/// Stdout, with a broken pipe (`| head`) treated as a normal end.
pub(super) struct Out {
    inner: std::io::BufWriter<std::io::Stdout>,
    terminal: bool,
}

impl Out {
    pub(super) fn new() -> Out {
        Out { inner: std::io::BufWriter::new(std::io::stdout()), terminal: std::io::stdout().is_terminal() }
    }

    pub(super) fn line(&mut self, text: &str) -> Result<(), CliError> {
        writeln!(self.inner, "{text}").map_err(write_error)
    }

    /// Text that came from the logs: escaped when it goes to a terminal.
    pub(super) fn raw(&mut self, text: &str) -> Result<(), CliError> {
        if self.terminal {
            let safe = crate::text::sanitize(text).into_owned();
            self.line(&safe)
        } else {
            self.line(text)
        }
    }

    pub(super) fn flush(&mut self) -> Result<(), CliError> {
        self.inner.flush().map_err(write_error)
    }
}

fn write_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // Not an error for the user: the reader has what it wanted. Exit quietly.
        std::process::exit(0);
    }
    CliError::source(format!("cannot write output: {e}"))
}

/// Local files this one-shot command can scan in place, without indexing them first (the
/// same answers, several times sooner; see [`OneShot`]). `None`: open the source as usual.
fn one_shot(args: &SourceArgs) -> Result<Option<OneShot>, CliError> {
    if args.loki.is_some() || args.es.is_some() || args.source.is_some() || args.files.is_empty() {
        return Ok(None);
    }
    let options = LocalOptions { format: args.format.map(super::args::LogFormatArg::format), now: None };
    Ok(OneShot::open(&args.files, &options)?)
}

/// `logsleuth query`: matching lines, newest first.
pub fn query(args: QueryArgs) -> Result<(), CliError> {
    if let Some(shot) = one_shot(&args.source)? {
        let info = shot.info();
        let query = filter_query(&args.filter, &info)?;
        let range = resolve_range(&args.time, false, crate::time::now_nanos())?;
        let page = shot.search(&query, &range, args.limit)?;
        for w in &page.warnings {
            eprintln!("logsleuth: {}", crate::text::sanitize(w));
        }
        return print_records(args.output, &page.records, &info.default_columns);
    }
    let source = open_source(&args.source)?;
    let info = source.info();
    let query = filter_query(&args.filter, &info)?;
    let range = resolve_range(&args.time, info.is_remote, crate::time::now_nanos())?;
    let records = runtime()?.block_on(async {
        wait_ready(&source).await;
        fetch_records(source.as_ref(), &query, range, args.limit, usize::from(args.parallel), |w| eprintln!("logsleuth: {}", crate::text::sanitize(w)))
            .await
    })?;
    // Asked again now: server sources learn their columns (field roles) from the first
    // request, after `info` above was taken.
    print_records(args.output, &records, &source.info().default_columns)
}

/// Up to `limit` matching records, newest first, page after page (pages of at most [`PAGE`]),
/// the range cut into `slices` time slices read at once ([`crate::sources::read`]); each
/// page's warnings go to `warn`, once each. Shared by `query` and `thread`.
pub async fn fetch_records(
    source: &dyn Source,
    query: &crate::sources::Query,
    range: crate::model::TimeRange,
    limit: usize,
    slices: usize,
    mut warn: impl FnMut(&str) + Send,
) -> Result<Vec<Record>, CliError> {
    let plan = crate::sources::read::ReadPlan { limit, page: PAGE, slices };
    Ok(crate::sources::read::read_newest(source, query, range, plan, &mut warn).await?)
}

fn print_records(output: QueryOutput, records: &[Record], columns: &[String]) -> Result<(), CliError> {
    let mut out = Out::new();
    match output {
        QueryOutput::Ndjson => {
            for r in records {
                out.line(&crate::export::records::ndjson_line(r))?;
            }
        }
        QueryOutput::Raw => {
            for r in records {
                out.raw(&r.message)?;
            }
        }
        QueryOutput::Table => print_table(&mut out, records, columns)?,
    }
    out.flush()
}

fn print_table(out: &mut Out, records: &[Record], columns: &[String]) -> Result<(), CliError> {
    let mut cols: Vec<String> = vec!["@timestamp".into()];
    cols.extend(columns.iter().filter(|c| c.as_str() != "@timestamp").cloned());
    if !cols.iter().any(|c| c == "message") && columns.is_empty() {
        cols.push("message".into());
    }
    let cell = |r: &Record, c: &str| -> String {
        let text = r.get(c).map(|v| v.as_text()).unwrap_or_else(|| "-".into());
        crate::text::sanitize(&text).into_owned()
    };
    let rows: Vec<Vec<String>> = records.iter().map(|r| cols.iter().map(|c| cell(r, c)).collect()).collect();
    let widths: Vec<usize> = (0..cols.len())
        .map(|i| rows.iter().map(|row| row[i].chars().count()).chain([cols[i].chars().count()]).max().unwrap_or(0).min(60))
        .collect();
    let render = |cells: &[String]| -> String {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    let c = crate::text::truncate_chars(c, widths[i]);
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    out.line(&render(&cols))?;
    for row in &rows {
        out.line(&render(row))?;
    }
    Ok(())
}

/// Says what a chart may cost before it runs (CloudWatch Logs Insights over large groups).
async fn say_cost(source: &dyn crate::sources::Source) {
    if let Some(note) = source.cost_note().await {
        eprintln!("logsleuth: {}", crate::text::sanitize(&note));
    }
}

/// `logsleuth top`: top values of a field.
pub fn top(args: TopArgs) -> Result<(), CliError> {
    let mut result = match one_shot(&args.source)? {
        Some(shot) => {
            let query = filter_query(&args.filter, &shot.info())?;
            let range = resolve_range(&args.time, false, crate::time::now_nanos())?;
            shot.top(&query, &range, &args.field, args.size)?
        }
        None => {
            let source = open_source(&args.source)?;
            let info = source.info();
            let query = filter_query(&args.filter, &info)?;
            let range = resolve_range(&args.time, info.is_remote, crate::time::now_nanos())?;
            runtime()?.block_on(async {
                wait_ready(&source).await;
                say_cost(source.as_ref()).await;
                let request = TopRequest { query, range, field: args.field.clone(), size: args.size };
                let mut top = source.top(request.clone()).await?;
                if args.distinct {
                    crate::sources::add_distinct(source.as_ref(), request, &mut top).await?;
                }
                Ok::<_, crate::sources::SourceError>(top)
            })?
        }
    };
    if !args.distinct {
        // The output contract does not change unless asked (files count it anyway).
        result.distinct = None;
    }
    let mut out = Out::new();
    match args.output {
        AggOutput::Json => out.line(&crate::export::records::json_line(&top_json(&result)))?,
        AggOutput::Table => {
            let width = result.buckets.iter().map(|b| b.value.chars().count()).max().unwrap_or(0).max(result.field.len()).min(80);
            out.line(&format!("{:<width$}  count", crate::text::sanitize(&result.field)))?;
            // Approximate counts (a server's `terms` over several shards) carry their bound.
            let bound = result.error_bound.map(|e| format!(" ±{e}")).unwrap_or_default();
            for b in &result.buckets {
                out.raw(&format!("{:<width$}  {}{bound}", b.value, b.count))?;
            }
            out.line(&format!("total {}, other {}", result.total, result.other))?;
            if args.distinct
                && let Some(d) = result.distinct
            {
                out.line(&format!("distinct {}{d}", if result.distinct_estimated { "about " } else { "" }))?;
            }
        }
    }
    if let Some(note) = &result.note {
        eprintln!("logsleuth: {}", crate::text::sanitize(note));
    }
    out.flush()
}

/// The `top --output json` contract: `{"field","total","other","exact","buckets":[{"value","count"}]}`,
/// with `"exact": false, "error_bound": N` when the counts may be short by up to N (a
/// server's `terms` aggregation over several shards that could not be recounted exactly), and
/// `"distinct": N, "distinct_estimated": bool` with `--distinct`.
pub fn top_json(result: &TopResult) -> serde_json::Value {
    let mut json = serde_json::json!({
        "field": result.field,
        "total": result.total,
        "other": result.other,
        "exact": result.error_bound.is_none(),
        "buckets": result.buckets.iter().map(|b| serde_json::json!({"value": b.value, "count": b.count})).collect::<Vec<_>>(),
    });
    if let Some(e) = result.error_bound {
        json["error_bound"] = e.into();
    }
    if let Some(d) = result.distinct {
        json["distinct"] = d.into();
        json["distinct_estimated"] = result.distinct_estimated.into();
    }
    json
}

/// The `histogram --output json` contract:
/// `{"interval":"1h","exact":true,"buckets":[{"start":RFC3339,"count":C,"split":{V:C},"spike":B,"drop":B}]}`,
/// with `"exact": false, "split_error_bound": N` when a split series' counts may be short by up
/// to N in a bucket (a server's `terms` over several shards that could not be recounted), and
/// `"exact": false` when the counts come from a sample (a server refused the aggregation).
/// `spike` / `drop` are the rule of `logsleuth_core::changes::flag_buckets` over the counts, and
/// a bucket where a split series spikes is a spike too, its series listed in `"spike_series"`
/// (`logsleuth_core::changes::flag_histogram`).
pub fn histogram_json(result: &HistogramResult) -> serde_json::Value {
    let flags = histogram_flags(result);
    let series = logsleuth_core::changes::series_spikes(result, true);
    let mut json = serde_json::json!({
        "interval": crate::time::format_duration(result.interval),
        "exact": result.split_error_bound.is_none() && !result.partial,
        "buckets": result.buckets.iter().zip(&flags).map(|(b, f)| serde_json::json!({
            "start": crate::time::format_rfc3339(b.start),
            "count": b.count,
            "split": b.split,
            "spike": f.spike,
            "drop": f.drop,
        })).collect::<Vec<_>>(),
    });
    for (bucket, series) in json["buckets"].as_array_mut().into_iter().flatten().zip(series) {
        if !series.is_empty() {
            bucket["spike_series"] = series.into();
        }
    }
    if let Some(e) = result.split_error_bound {
        json["split_error_bound"] = e.into();
    }
    json
}

/// Spike / drop flags of a histogram's buckets. The last bucket is partial when the range ends
/// inside it (the grid ends at the bucket's end; a range "to now" usually does).
fn histogram_flags(result: &HistogramResult) -> Vec<logsleuth_core::changes::BucketFlag> {
    logsleuth_core::changes::flag_histogram(result, true)
}

/// Parses `--split-by`.
pub fn parse_split(text: Option<&str>) -> Split {
    match text {
        None => Split::None,
        Some("status_class") => Split::StatusClass,
        Some("level") => Split::Level,
        Some(field) => Split::Field(field.to_string()),
    }
}

/// `logsleuth histogram`: events over time.
pub fn histogram(args: HistogramArgs) -> Result<(), CliError> {
    let interval = args
        .interval
        .as_deref()
        .map(crate::time::parse_duration)
        .transpose()
        .map_err(|e| CliError::usage(e.to_string()))?;
    if interval == Some(0) {
        return Err(CliError::usage("--interval must be positive"));
    }
    let source = open_source(&args.source)?;
    let info = source.info();
    let query = filter_query(&args.filter, &info)?;
    let range = resolve_range(&args.time, info.is_remote, crate::time::now_nanos())?;
    let split = parse_split(args.split_by.as_deref());
    let result = runtime()?.block_on(async {
        wait_ready(&source).await;
        say_cost(source.as_ref()).await;
        source
            .histogram(HistogramRequest { query, range, interval, target_buckets: CLI_TARGET_BUCKETS, split })
            .await
    })?;
    let mut out = Out::new();
    match args.output {
        AggOutput::Json => out.line(&crate::export::records::json_line(&histogram_json(&result)))?,
        AggOutput::Table => {
            let keys: BTreeSet<&String> = result.buckets.iter().flat_map(|b| b.split.keys()).collect();
            let mut header = format!("{:<24}  {:>8}", "start", "count");
            for k in &keys {
                header.push_str(&format!("  {:>8}", crate::text::sanitize(k)));
            }
            out.line(&header)?;
            let flags = histogram_flags(&result);
            for (b, f) in result.buckets.iter().zip(&flags) {
                let mut row = format!("{:<24}  {:>8}", crate::time::format_rfc3339(b.start), b.count);
                for k in &keys {
                    row.push_str(&format!("  {:>8}", b.split.get(*k).copied().unwrap_or(0)));
                }
                // Flags go last so the columns of scripts reading the table stay where they were.
                if f.spike {
                    row.push_str("  spike");
                } else if f.drop {
                    row.push_str("  drop");
                }
                out.line(&row)?;
            }
            out.line(&format!("interval {}", crate::time::format_duration(result.interval)))?;
        }
    }
    if let Some(note) = &result.note {
        eprintln!("logsleuth: {}", crate::text::sanitize(note));
    }
    out.flush()
}

/// `logsleuth tail`: follows new matching lines until interrupted (or stdin ends).
pub fn tail(args: TailArgs) -> Result<(), CliError> {
    let source = open_source(&args.source)?;
    let info = source.info();
    let query = filter_query(&args.filter, &info)?;
    let rt = runtime()?;
    rt.block_on(async {
        // Follow from the end of what is there: wait for the initial load of files.
        if info.is_remote || source.progress().is_none_or(|p| p.total > 0) {
            wait_ready(&source).await;
        }
        let mut rx = source.tail(TailRequest { query, since: None })?;
        let mut out = Out::new();
        loop {
            let event = tokio::select! {
                e = rx.recv() => e,
                _ = tokio::signal::ctrl_c() => None,
            };
            match event {
                None => break,
                Some(TailEvent::Records(records)) => {
                    for r in &records {
                        match args.output {
                            TailOutput::Ndjson => out.line(&crate::export::records::ndjson_line(r))?,
                            TailOutput::Raw => out.raw(&r.message)?,
                        }
                    }
                    out.flush()?;
                }
                Some(TailEvent::Status(s)) => eprintln!("logsleuth: {}", crate::text::sanitize(&s)),
                Some(TailEvent::Dropped(n)) => eprintln!("logsleuth: {n} lines dropped"),
                Some(TailEvent::Failed(e)) => return Err(CliError::from(e)),
            }
        }
        out.flush()
    })?;
    // Threads reading stdin may still block; the runtime must not wait for them.
    rt.shutdown_background();
    Ok(())
}
