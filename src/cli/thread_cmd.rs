//! `logsleuth thread`: follow one value (order id, trace id, client address) through several
//! sources and print their matching lines merged on one clock, each tagged with its source,
//! with the gap since the previous line and the first error line flagged. The rule for each
//! source's condition is `sources::thread` (shared with the TUI's "follow in all panes").

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::CliError;
use super::args::{SourceArgs, ThreadArgs, ThreadOutput};
use super::source::{open_spec, resolve_range, spec_from_args};
use crate::sources::thread::{Condition, FieldAliases, Follow, Strand, ThreadLine, condition, format_gap, merge};
use crate::sources::{Query, Source};


/// One source of the command line, with the tag its lines carry.
struct Named {
    tag: String,
    args: SourceArgs,
}

/// Every source the flags name, in the order: files, `--source`, `--loki`, `--es`.
fn sources_of(args: &ThreadArgs, config: Option<&Path>) -> Result<Vec<Named>, CliError> {
    let base = SourceArgs { auth: args.auth.clone(), config: config.map(Path::to_path_buf), format: args.format, ..SourceArgs::default() };
    let mut out = Vec::new();
    for f in &args.files {
        let tag = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| f.display().to_string());
        out.push(Named { tag, args: SourceArgs { files: vec![f.clone()], ..base.clone() } });
    }
    for name in &args.sources {
        out.push(Named { tag: name.clone(), args: SourceArgs { source: Some(name.clone()), ..base.clone() } });
    }
    if args.selectors.len() > args.loki.len() {
        return Err(CliError::usage("more --selector than --loki: each --selector goes with the --loki of the same rank"));
    }
    for (i, url) in args.loki.iter().enumerate() {
        let selector = args.selectors.get(i).cloned();
        let tag = selector.clone().unwrap_or_else(|| url.clone());
        out.push(Named { tag, args: SourceArgs { loki: Some(url.clone()), selector, ..base.clone() } });
    }
    if args.indexes.len() > args.es.len() {
        return Err(CliError::usage("more --index than --es: each --index goes with the --es of the same rank"));
    }
    for (i, url) in args.es.iter().enumerate() {
        let index = args.indexes.get(i).cloned();
        let tag = index.clone().unwrap_or_else(|| url.clone());
        out.push(Named { tag, args: SourceArgs { es: Some(url.clone()), index, ..base.clone() } });
    }
    if out.is_empty() {
        return Err(CliError::usage("no source: give log files, --source NAME, --loki URL --selector S or --es URL --index I (each repeatable)"));
    }
    Ok(out)
}

/// The field aliases of the configuration's `[thread.aliases]` (none without a file).
fn aliases(config: Option<&Path>) -> Result<FieldAliases, CliError> {
    let loaded = crate::config::open::load_for_cli(config)?;
    Ok(loaded.map(|l| FieldAliases::new(&l.config.thread.aliases)).unwrap_or_default())
}

/// The condition of one source, from its fields and roles.
async fn condition_for(source: &Arc<dyn Source>, follow: &Follow, aliases: &FieldAliases, range: crate::model::TimeRange) -> Condition {
    let known: Vec<String> = if follow.field.is_some() {
        match source.fields(range).await {
            Ok(fields) => fields.into_iter().map(|f| f.name).collect(),
            // Without the field list the phrase still finds the lines.
            Err(e) => {
                eprintln!("logsleuth: fields not available ({}), following as free text", crate::text::sanitize(&e.to_string()));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    condition(follow, aliases, &known, &source.info().roles)
}

/// `logsleuth thread`.
pub fn run(args: ThreadArgs, config: Option<&Path>) -> Result<(), CliError> {
    if args.value.is_empty() {
        return Err(CliError::usage("--value must not be empty"));
    }
    let named = sources_of(&args, config)?;
    let aliases = aliases(config)?;
    let follow = Follow { value: args.value.clone(), field: args.field.clone() };
    let mut opened = Vec::new();
    for n in named {
        let spec = spec_from_args(&n.args)?.ok_or_else(|| CliError::usage("no source"))?;
        opened.push((n.tag, open_spec(&spec, config)?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::source(format!("cannot start the runtime: {e}")))?;
    let now = crate::time::now_nanos();
    let strands = runtime.block_on(async {
        let mut strands = Vec::new();
        for (tag, source) in &opened {
            // Whole fields and lines (a local source indexes in the background).
            super::commands::wait_ready(source).await;
            let range = resolve_range(&args.time, source.info().is_remote, now)?;
            let cond = condition_for(source, &follow, &aliases, range).await;
            // Said on stderr so a person sees how each source was asked.
            eprintln!("logsleuth: {}: {}", crate::text::sanitize(tag), crate::text::sanitize(cond.kql()));
            let query = Query::kql(cond.kql());
            let records = super::commands::fetch_records(source.as_ref(), &query, range, args.limit, crate::sources::read::DEFAULT_SLICES, |w| {
                eprintln!("logsleuth: {}: {}", crate::text::sanitize(tag), crate::text::sanitize(w))
            })
            .await?;
            strands.push(Strand { tag: tag.clone(), roles: source.info().roles, records });
        }
        Ok::<_, CliError>(strands)
    })?;
    let lines = merge(strands, usize::MAX);
    print(args.output, &lines)
}

/// The NDJSON shape of a thread line: the record's export shape plus `@thread`.
pub fn line_json(line: &ThreadLine) -> serde_json::Value {
    let mut json = line.record.to_json();
    let gap_ms = line.gap.map(|g| serde_json::json!(g as f64 / 1e6)).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = json.as_object_mut() {
        obj.insert(
            "@thread".into(),
            serde_json::json!({"source": line.tag, "gap_ms": gap_ms, "error": line.error, "first_error": line.first_error}),
        );
    }
    json
}

fn print(output: ThreadOutput, lines: &[ThreadLine]) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout);
    let mut write = |text: &str| -> Result<(), CliError> {
        match writeln!(out, "{text}") {
            Ok(()) => Ok(()),
            // `| head`: the reader has what it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            Err(e) => Err(CliError::source(format!("cannot write output: {e}"))),
        }
    };
    match output {
        ThreadOutput::Ndjson => {
            for l in lines {
                write(&crate::export::records::json_line(&line_json(l)))?;
            }
        }
        ThreadOutput::Table => {
            let tag_width = lines.iter().map(|l| l.tag.chars().count()).max().unwrap_or(6).clamp(6, 30);
            write(&format!("{:<30}  {:>8}  {:<tag_width$}  {:<2}  line", "@timestamp", "gap", "source", "!"))?;
            for l in lines {
                let ts = l.record.timestamp.map(crate::time::format_rfc3339).unwrap_or_else(|| "-".into());
                let gap = l.gap.map(format_gap).unwrap_or_default();
                let mark = if l.first_error { "!!" } else if l.error { "!" } else { "" };
                let tag = crate::text::truncate_chars(&crate::text::sanitize(&l.tag), tag_width).into_owned();
                // Log text: always sanitised in a table, which is for people.
                let text = crate::text::sanitize(&l.record.message).into_owned();
                write(&format!("{ts:<30}  {gap:>8}  {tag:<tag_width$}  {mark:<2}  {text}"))?;
            }
        }
    }
    out.flush().map_err(|e| CliError::source(format!("cannot write output: {e}")))
}
