//! `logsleuth cloudwatch groups`: the log groups an account has, to pick from.

use std::io::Write;

use super::CliError;
use super::args::{CloudwatchGroupsArgs, GroupsOutput};
use crate::sources::cloudwatch::{CloudWatchSource, Endpoint};

/// Lists the log groups.
pub fn groups(args: &CloudwatchGroupsArgs) -> Result<(), CliError> {
    let endpoint = Endpoint { region: args.region.clone(), profile: args.profile.clone(), endpoint: args.endpoint.clone() };
    let runtime = super::commands::runtime()?;
    let groups = runtime.block_on(CloudWatchSource::list_groups(&endpoint, args.prefix.as_deref(), args.limit))?;
    let mut out = std::io::stdout().lock();
    let write_err = |e: std::io::Error| CliError::source(format!("cannot write output: {e}"));
    for g in &groups {
        match args.output {
            GroupsOutput::Json => {
                let json = serde_json::json!({
                    "name": g.name,
                    "stored_bytes": g.stored_bytes,
                    "retention_days": g.retention_days,
                });
                writeln!(out, "{json}").map_err(write_err)?;
            }
            GroupsOutput::Text => {
                let stored = g.stored_bytes.map_or_else(|| "-".to_string(), |b| format!("{b} B"));
                let retention = g.retention_days.map_or_else(|| "never expires".to_string(), |d| format!("{d} days"));
                let name = crate::text::sanitize(&g.name);
                writeln!(out, "{name}\t{stored}\t{retention}").map_err(write_err)?;
            }
        }
    }
    if groups.is_empty() && args.output == GroupsOutput::Text {
        eprintln!("logsleuth: no log groups{}", args.prefix.as_ref().map(|p| format!(" starting with '{p}'")).unwrap_or_default());
    }
    Ok(())
}
