//! Building a source from the command line, and resolving its time range and filter.

use std::path::Path;
use std::sync::Arc;

use super::CliError;
use super::args::{FilterArgs, LogFormatArg, SourceArgs, TimeArgs};
use crate::model::{Nanos, TimeRange};
use crate::sources::spec::{Credentials, Overrides, SourceSpec};
use crate::sources::{Query, Source, SourceInfo};

/// Opens the source the arguments name: local files / stdin, Loki, Elasticsearch, or a named
/// source of the configuration file (`--source NAME`, else its `default_source` when nothing
/// else is given). File errors are source errors (exit 1); a missing source is a usage error.
pub fn open_source(args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    let spec = match spec_from_args(args)? {
        Some(spec) => spec,
        None => match crate::config::open::default_source(args.config.as_deref())? {
            Some(name) => SourceSpec::named(name).apply(&overrides(args)?),
            None => {
                return Err(CliError::usage(
                    "no input: give log files (- for stdin), --loki URL, --es URL, --cloudwatch GROUP or --source NAME (or set default_source in the config file)",
                ));
            }
        },
    };
    open_spec(&spec, args.config.as_deref())
}

/// Opens a spec; a named source is looked up in the configuration (`config` is `--config`).
pub fn open_spec(spec: &SourceSpec, config: Option<&Path>) -> Result<Arc<dyn Source>, CliError> {
    let resolved;
    let spec = match spec {
        SourceSpec::Named { name, overrides } => {
            resolved = crate::config::open::resolve_named(name, overrides, config)?;
            &resolved
        }
        other => other,
    };
    Ok(crate::sources::spec::open(spec)?)
}

/// The settings the flags give beside a source: they replace a named source's settings, and
/// fill in a source given by URL.
pub fn overrides(args: &SourceArgs) -> Result<Overrides, CliError> {
    let a = &args.auth;
    let mut headers = Vec::new();
    for header in &a.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("--header '{}' must be 'Name: value'", crate::text::sanitize(header))))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(Overrides {
        format: args.format.map(LogFormatArg::name),
        selector: args.selector.clone(),
        tenant: args.tenant.clone(),
        parser: args.parser.clone(),
        index: args.index.clone(),
        time_field: args.time_field.clone(),
        roles: crate::sources::spec::parse_roles(&args.roles).map_err(CliError::usage)?,
        credentials: Credentials {
            user: a.user.clone(),
            password_env: a.password_env.clone(),
            token_env: a.token_env.clone(),
            api_key_env: a.api_key_env.clone(),
        },
        headers,
        ca_file: a.ca_file.clone(),
        insecure: a.insecure,
        stream_prefix: args.stream_prefix.clone(),
        region: args.region.clone(),
        profile: args.profile.clone(),
        endpoint: args.endpoint.clone(),
        no_insights: args.no_insights,
    })
}

/// The spec the flags describe, or `None` when they name no source (the configuration's
/// `default_source` may then apply).
pub fn spec_from_args(args: &SourceArgs) -> Result<Option<SourceSpec>, CliError> {
    let overrides = overrides(args)?;
    let base = if let Some(url) = &args.loki {
        SourceSpec::loki(url.clone(), None)
    } else if let Some(url) = &args.es {
        SourceSpec::elasticsearch(url.clone(), None)
    } else if !args.cloudwatch.is_empty() {
        SourceSpec::cloudwatch(args.cloudwatch.clone())
    } else if let Some(name) = &args.source {
        SourceSpec::named(name.clone())
    } else if !args.files.is_empty() {
        SourceSpec::files(args.files.clone())
    } else {
        return Ok(None);
    };
    Ok(Some(base.apply(&overrides)))
}

/// The spec a workspace keeps for the flags' source, or `None` for stdin (which cannot be
/// opened again). Files become absolute, so the workspace opens them from any directory;
/// headers and resolved credentials are never written (see `SourceSpec`'s file form).
pub fn origin_spec(args: &SourceArgs) -> Option<SourceSpec> {
    let mut spec = spec_from_args(args).ok().flatten()?;
    if spec.reads_stdin() {
        return None;
    }
    if let SourceSpec::Local(local) = &mut spec {
        for f in &mut local.files {
            *f = std::path::absolute(&*f).unwrap_or_else(|_| f.clone());
        }
    }
    Some(spec)
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
            return Err(CliError::usage(format!("--logql needs a Loki source (--loki URL); this is a {} source: use --kql", info.kind)));
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
    use crate::cli::args::AuthArgs;
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
        for bad in [
            TimeArgs { since: Some("soon".into()), ..TimeArgs::default() },
            TimeArgs { from: Some("now".into()), to: Some("now-1h".into()), ..TimeArgs::default() },
        ] {
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

    fn flags(argv: &[&str]) -> SourceArgs {
        <crate::cli::Cli as clap::Parser>::try_parse_from(argv).expect("valid command line").source
    }

    fn loki_of(args: &SourceArgs) -> Result<crate::sources::loki::LokiConfig, CliError> {
        match spec_from_args(args)? {
            Some(SourceSpec::Loki(l)) => Ok(crate::sources::spec::loki_config(&l)?),
            other => panic!("not Loki: {other:?}"),
        }
    }

    #[test]
    fn loki_flags_become_a_spec_with_tenant_headers_and_a_checked_selector() {
        let a = flags(&[
            "logsleuth",
            "--loki",
            "http://127.0.0.1:3100",
            "--tenant",
            "team-a",
            "--selector",
            "{job=\"nginx\"}",
            "--parser",
            "json",
            "--header",
            "X-Trace: 1",
        ]);
        let c = loki_of(&a).unwrap();
        assert!(c.http.headers.contains(&("X-Scope-OrgID".into(), "team-a".into())));
        assert!(c.http.headers.contains(&("X-Trace".into(), "1".into())));
        assert_eq!(c.parser, Some(crate::sources::loki::logql::LogqlParser::Json));
        let a = flags(&["logsleuth", "--loki", "http://127.0.0.1:3100", "--selector", "job=nginx"]);
        assert_eq!(loki_of(&a).unwrap_err().code, 2);
        let a = flags(&["logsleuth", "--loki", "http://127.0.0.1:3100", "--header", "Authorization: Bearer x"]);
        assert_eq!(loki_of(&a).unwrap_err().code, 2);
        let a = flags(&["logsleuth", "--loki", "http://127.0.0.1:3100", "--api-key-env", "K"]);
        assert!(loki_of(&a).unwrap_err().message.contains("for Elasticsearch"));
    }

    #[test]
    fn role_flags_set_field_roles_and_bad_ones_are_usage_errors() {
        let a = flags(&[
            "logsleuth",
            "--es",
            "http://127.0.0.1:9200",
            "--index",
            "web",
            "--role",
            "status=response",
            "--role",
            "client_ip = clientip",
        ]);
        let Some(SourceSpec::Elasticsearch(e)) = spec_from_args(&a).unwrap() else { panic!("not ES") };
        assert_eq!(e.roles.status.as_deref(), Some("response"));
        assert_eq!(e.roles.client_ip.as_deref(), Some("clientip"));
        assert_eq!(e.roles.user_agent, None);
        for bad in ["status", "status=", "colour=red"] {
            let a = flags(&["logsleuth", "--es", "http://127.0.0.1:9200", "--index", "web", "--role", bad]);
            assert_eq!(spec_from_args(&a).unwrap_err().code, 2, "{bad}");
        }
    }

    #[test]
    fn specs_never_keep_credentials() {
        let args = SourceArgs {
            es: Some("https://elastic:hunter2@es.example:9200".into()),
            auth: AuthArgs { headers: vec!["Authorization: Bearer abc".into()], ..Default::default() },
            ..Default::default()
        };
        let spec = origin_spec(&args).unwrap();
        let text = toml::to_string(&spec).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("Bearer"), "{text}");
        assert!(!spec.label().contains("hunter2"));
        let stdin = SourceArgs { files: vec!["-".into()], ..Default::default() };
        assert_eq!(origin_spec(&stdin), None, "stdin cannot be reopened");
    }
}
