//! Building a source from the command line, and resolving its time range and filter.

use std::sync::Arc;

use super::CliError;
use super::args::{AuthArgs, FilterArgs, LogFormatArg, SourceArgs, TimeArgs};
use crate::model::{Nanos, TimeRange};
use crate::sources::local::{LocalOptions, LocalSource};
use crate::sources::spec::{SourceSpec, strip_userinfo};
use crate::sources::{Query, Source, SourceInfo};

/// Opens the source the arguments name: local files / stdin, Loki, Elasticsearch, or a named
/// source of the configuration file (`--source NAME`, else its `default_source` when nothing
/// else is given). File errors are source errors (exit 1); a missing source is a usage error.
pub fn open_source(args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    if args.loki.is_some() {
        return crate::cli::loki::open_loki(args);
    }
    if args.es.is_some() {
        return crate::cli::es::open_es(args);
    }
    if let Some(name) = &args.source {
        return crate::config::open::open_named(name, args);
    }
    if args.files.is_empty() {
        if let Some(name) = crate::config::open::default_source(args)? {
            return crate::config::open::open_named(&name, args);
        }
        return Err(CliError::usage(
            "no input: give log files (- for stdin), --loki URL, --es URL or --source NAME (or set default_source in the config file)",
        ));
    }
    let options = LocalOptions { format: args.format.map(super::args::LogFormatArg::format), now: None };
    let source = LocalSource::open(&args.files, options)?;
    Ok(Arc::new(source))
}

/// The spec of the source the command line's flags open, or `None` for stdin (which cannot
/// be opened again). Extra headers are left out: they may carry credentials.
pub fn spec_from_args(args: &SourceArgs) -> Option<SourceSpec> {
    if args.files.iter().any(|f| f.as_os_str() == "-") {
        return None;
    }
    let files = args
        .files
        .iter()
        // Absolute, so the workspace opens the same files from any directory.
        .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
        .collect();
    Some(SourceSpec {
        source: args.source.clone(),
        demo: false,
        files,
        format: args.format.map(LogFormatArg::name),
        loki: args.loki.as_deref().map(strip_userinfo),
        selector: args.selector.clone(),
        tenant: args.tenant.clone(),
        parser: args.parser.clone(),
        es: args.es.as_deref().map(strip_userinfo),
        index: args.index.clone(),
        time_field: args.time_field.clone(),
        roles: args.roles.clone(),
        user: args.auth.user.clone(),
        password_env: args.auth.password_env.clone(),
        token_env: args.auth.token_env.clone(),
        api_key_env: args.auth.api_key_env.clone(),
        ca_file: args.auth.ca_file.clone(),
        insecure: args.auth.insecure,
    })
}

/// The command line flags a spec stands for (`config` is the `--config` in effect).
pub fn args_from_spec(spec: &SourceSpec, config: Option<std::path::PathBuf>) -> Result<SourceArgs, String> {
    let format = match &spec.format {
        Some(name) => Some(
            <LogFormatArg as clap::ValueEnum>::from_str(name, true).map_err(|_| format!("unknown log format '{name}'"))?,
        ),
        None => None,
    };
    Ok(SourceArgs {
        files: spec.files.clone(),
        format,
        loki: spec.loki.clone(),
        selector: spec.selector.clone(),
        tenant: spec.tenant.clone(),
        parser: spec.parser.clone(),
        es: spec.es.clone(),
        index: spec.index.clone(),
        time_field: spec.time_field.clone(),
        roles: spec.roles.clone(),
        source: spec.source.clone(),
        config,
        auth: AuthArgs {
            user: spec.user.clone(),
            password_env: spec.password_env.clone(),
            token_env: spec.token_env.clone(),
            api_key_env: spec.api_key_env.clone(),
            headers: Vec::new(),
            ca_file: spec.ca_file.clone(),
            insecure: spec.insecure,
        },
    })
}

/// Resolves `--since` / `--from` / `--to` at `now`. Without them a local source covers its
/// whole span (unbounded range) and a server the last hour. Bad times are usage errors.
pub fn resolve_range(time: &TimeArgs, is_remote: bool, now: Nanos) -> Result<TimeRange, CliError> {
    let bad = |e: crate::time::TimeError| CliError::usage(e.to_string());
    if let Some(since) = &time.since {
        let d = crate::time::parse_duration(since).map_err(bad)?;
        return Ok(TimeRange::between(now.saturating_sub(d), now));
    }
    // The one range rule (logsleuth_core::time::resolve_range): a rounded `--to now/d` is
    // exclusive at the next midnight; the start must come before the end.
    let TimeRange { from, to } = match crate::time::resolve_range(time.from.as_deref(), time.to.as_deref(), now, None) {
        Ok(range) => range,
        Err(crate::time::TimeError::Reversed { from, to }) => {
            return Err(CliError::usage(format!("--from ({from}) must be before --to ({to})")));
        }
        Err(e) => return Err(bad(e)),
    };
    if is_remote {
        return Ok(TimeRange { from: from.or(Some(now.saturating_sub(3600 * crate::time::NS_PER_SEC))), to: to.or(Some(now)) });
    }
    Ok(TimeRange { from, to })
}

/// The query the filter flags give, checked against the source: `--logql` needs Loki and
/// `--dsl` Elasticsearch (usage errors otherwise).
pub fn filter_query(filter: &FilterArgs, info: &SourceInfo) -> Result<Query, CliError> {
    if let Some(logql) = &filter.logql {
        if info.kind != "loki" {
            return Err(CliError::usage(format!(
                "--logql needs a Loki source (--loki URL); this is a {} source: use --kql",
                info.kind
            )));
        }
        return Ok(Query::native(logql.clone()));
    }
    if let Some(dsl) = &filter.dsl {
        if info.kind != "elasticsearch" {
            return Err(CliError::usage(format!(
                "--dsl needs an Elasticsearch source (--es URL); this is a {} source: use --kql",
                info.kind
            )));
        }
        return Ok(Query::native(dsl.clone()));
    }
    Ok(Query::kql(filter.kql.clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_absolute;

    fn at(s: &str) -> Nanos {
        parse_absolute(s, None).unwrap()
    }

    #[test]
    fn local_defaults_to_whole_span_and_servers_to_last_hour() {
        let now = at("2024-05-15T10:00:00Z");
        assert_eq!(resolve_range(&TimeArgs::default(), false, now).unwrap(), TimeRange::ALL);
        assert_eq!(resolve_range(&TimeArgs::default(), true, now).unwrap(), TimeRange::between(at("2024-05-15T09:00:00Z"), now));
    }

    #[test]
    fn since_from_to_and_errors() {
        let now = at("2024-05-15T10:00:00Z");
        let t = TimeArgs { since: Some("15m".into()), ..TimeArgs::default() };
        assert_eq!(resolve_range(&t, false, now).unwrap(), TimeRange::between(at("2024-05-15T09:45:00Z"), now));
        let t = TimeArgs { from: Some("2024-05-01T00:00:00Z".into()), to: Some("now/d".into()), ..TimeArgs::default() };
        assert_eq!(resolve_range(&t, false, now).unwrap(), TimeRange::between(at("2024-05-01T00:00:00Z"), at("2024-05-16T00:00:00Z")));
        let t = TimeArgs { from: Some("now-1h".into()), ..TimeArgs::default() };
        assert_eq!(resolve_range(&t, false, now).unwrap(), TimeRange { from: Some(at("2024-05-15T09:00:00Z")), to: None });
        for bad in [TimeArgs { since: Some("soon".into()), ..TimeArgs::default() }, TimeArgs { from: Some("now".into()), to: Some("now-1h".into()), ..TimeArgs::default() }] {
            assert_eq!(resolve_range(&bad, false, now).unwrap_err().code, 2);
        }
    }

    #[test]
    fn native_flags_must_match_the_source() {
        let info = SourceInfo {
            kind: "local",
            description: String::new(),
            roles: Default::default(),
            default_columns: vec![],
            is_remote: false,
            warning: None,
        };
        let f = FilterArgs { logql: Some("{job=\"x\"}".into()), ..FilterArgs::default() };
        assert_eq!(filter_query(&f, &info).unwrap_err().code, 2);
        let f = FilterArgs { dsl: Some("{}".into()), ..FilterArgs::default() };
        assert_eq!(filter_query(&f, &info).unwrap_err().code, 2);
        let f = FilterArgs { kql: Some("status:404".into()), ..FilterArgs::default() };
        assert_eq!(filter_query(&f, &info).unwrap(), Query::kql("status:404"));
    }

    #[test]
    fn specs_never_keep_credentials() {
        let args = SourceArgs {
            es: Some("https://elastic:hunter2@es.example:9200".into()),
            auth: AuthArgs { headers: vec!["Authorization: Bearer abc".into()], ..Default::default() },
            ..Default::default()
        };
        let spec = spec_from_args(&args).unwrap();
        let text = toml::to_string(&spec).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("Bearer"), "{text}");
        assert!(!spec.label().contains("hunter2"));
        let stdin = SourceArgs { files: vec!["-".into()], ..Default::default() };
        assert_eq!(spec_from_args(&stdin), None, "stdin cannot be reopened");
    }
}
