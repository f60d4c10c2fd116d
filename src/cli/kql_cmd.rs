//! `logsleuth kql`: parse a KQL query and print it as Elasticsearch DSL, LogQL or a syntax tree.

use std::io::Write;

use super::CliError;
use super::args::{KqlArgs, KqlTarget};
use crate::kql::{self, EsOptions, FieldCaps, LogqlOptions, LogqlParser, ParseOptions};

/// Runs the subcommand, printing the result on stdout.
pub fn run(args: &KqlArgs) -> Result<(), CliError> {
    let output = translate(args)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{output}").map_err(|e| CliError::source(format!("cannot write output: {e}")))?;
    Ok(())
}

/// The text `run` prints (without the final newline).
pub fn translate(args: &KqlArgs) -> Result<String, CliError> {
    let parse_options = ParseOptions { allow_leading_wildcards: !args.no_leading_wildcards };
    let ast = kql::parse_with(&args.query, parse_options).map_err(|e| CliError::usage(e.message))?;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    match args.to {
        KqlTarget::Ast => Ok(pretty(&ast.to_kuery_json())),
        KqlTarget::Es => {
            let fields = match &args.fields {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
                    let json: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| CliError::usage(format!("{} is not JSON: {e}", path.display())))?;
                    Some(FieldCaps::from_json(&json).map_err(|e| CliError::usage(format!("{}: {}", path.display(), e.message)))?)
                }
                None => None,
            };
            let options = EsOptions {
                fields,
                time_zone: args.time_zone.clone(),
                case_insensitive: args.case_insensitive,
                allow_leading_wildcards: !args.no_leading_wildcards,
            };
            let dsl = kql::to_es(&ast, &options).map_err(|e| CliError::usage(e.message))?;
            Ok(pretty(&dsl))
        }
        KqlTarget::Cloudwatch => {
            use crate::formats::LogFormat;
            let format = args.format.map_or(LogFormat::Json, |f| f.format());
            let filter = match format {
                LogFormat::AccessCombined => kql::to_cloudwatch(&ast, &kql::CloudWatchLayout::access_combined()),
                LogFormat::AccessCommon => kql::to_cloudwatch(&ast, &kql::CloudWatchLayout::access_common()),
                LogFormat::Json => kql::to_cloudwatch(&ast, &kql::CloudWatchLayout::Json { kinds: None }),
                _ => kql::to_cloudwatch(&ast, &kql::CloudWatchLayout::Unstructured),
            };
            if !filter.complete {
                // What the pattern leaves out, logsleuth checks on every event it gets back.
                eprintln!("logsleuth: the pattern does not say the whole query; logsleuth evaluates the KQL on the events it returns");
            }
            // Both forms CloudWatch is sent: the pattern for lines, the Insights filter for charts.
            let insights = match kql::to_insights_filter(&ast) {
                Some(f) if f.is_empty() => "(no filter)".to_string(),
                Some(f) => format!("filter {f}"),
                None => "(none: nested or wildcard field names; charts are counted from the events)".to_string(),
            };
            let pattern = if filter.pattern.is_empty() { "(none: every event of the range is fetched)" } else { &filter.pattern };
            Ok(format!("filter pattern: {pattern}\nlogs insights:  {insights}"))
        }
        KqlTarget::Insights => kql::to_insights_filter(&ast)
            .map(|f| if f.is_empty() { String::new() } else { format!("filter {f}") })
            .ok_or_else(|| CliError::usage("this query has no Logs Insights filter of the same meaning (nested or wildcard field names)")),
        KqlTarget::Logql => {
            let parser = match &args.parser {
                Some(p) => Some(p.parse::<LogqlParser>().map_err(|e| CliError::usage(e.message))?),
                None => None,
            };
            let options = LogqlOptions { selector: args.selector.clone().unwrap_or_default(), labels: args.labels.clone(), parser };
            kql::to_logql(&ast, &options).map_err(|e| CliError::usage(e.message))
        }
    }
}
