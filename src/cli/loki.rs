//! Building a Loki source from the command line (`--loki URL --selector … --tenant …`).
//!
//! Secrets come only from environment variables named on the command line (`--password-env`,
//! `--token-env`) or the URL's user info; config-file sources and `password_command` are
//! handled by the configuration layer (`crate::config::open`), which calls [`loki_config`]
//! and [`open_loki_config`].

use std::sync::Arc;

use crate::sources::loki::logql::LogqlParser;
use crate::sources::loki::{LokiConfig, LokiSource};
use crate::cli::CliError;
use crate::cli::args::SourceArgs;
use crate::sources::Source;
use crate::sources::http::{Auth, HttpConfig, Secret};

/// The tenant header Loki reads in multi-tenant mode.
pub const TENANT_HEADER: &str = "X-Scope-OrgID";

/// The Loki configuration the arguments describe (no network).
pub fn loki_config(args: &SourceArgs) -> Result<LokiConfig, CliError> {
    let url = args.loki.as_deref().ok_or_else(|| CliError::usage("--loki URL is required"))?;
    let mut http = HttpConfig::new(url)?;
    let auth = &args.auth;
    if auth.api_key_env.is_some() {
        return Err(CliError::usage("--api-key-env is for Elasticsearch; use --token-env or --user/--password-env with Loki"));
    }
    let env_secret = |var: &str| Secret::from_env(var).map_err(CliError::usage);
    match (&auth.user, &auth.password_env, &auth.token_env) {
        (_, _, Some(_)) if auth.user.is_some() || auth.password_env.is_some() => {
            return Err(CliError::usage("give either --token-env or --user/--password-env, not both"));
        }
        (None, None, Some(var)) => http.auth = Auth::Bearer(env_secret(var)?),
        (Some(user), Some(var), None) => http.auth = Auth::Basic { user: user.clone(), password: env_secret(var)? },
        (Some(user), None, None) => match &http.auth {
            Auth::Basic { password, .. } => http.auth = Auth::Basic { user: user.clone(), password: password.clone() },
            _ => return Err(CliError::usage("--user needs --password-env VAR (the password is never taken from the command line)")),
        },
        (None, Some(_), None) => return Err(CliError::usage("--password-env needs --user")),
        _ => {}
    }
    for header in &auth.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("--header must be 'Name: value', got '{}'", crate::text::sanitize(header))))?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("authorization") {
            return Err(CliError::usage("do not pass credentials with --header; use --token-env or --user/--password-env"));
        }
        http.headers.push((name.to_string(), value.trim().to_string()));
    }
    if let Some(tenant) = args.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        http.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(TENANT_HEADER));
        http.headers.push((TENANT_HEADER.to_string(), tenant.to_string()));
    }
    http.ca_file = auth.ca_file.clone();
    http.insecure = auth.insecure;
    let parser = match args.parser.as_deref() {
        Some(p) => Some(p.parse::<LogqlParser>().map_err(|e| CliError::usage(e.message))?),
        None => None,
    };
    let selector = args.selector.clone().unwrap_or_default();
    if !selector.trim().is_empty() && !crate::sources::loki::logql::has_stream_selector(&selector) {
        return Err(CliError::usage(format!(
            "--selector must be a stream selector such as '{{job=\"nginx\"}}', got '{}'",
            crate::text::sanitize(&selector)
        )));
    }
    Ok(LokiConfig { http, selector, parser, tenant: args.tenant.clone(), backoff: Default::default() })
}

/// Opens a Loki source for `--loki` (the dispatcher in `cli::source` calls this).
pub fn open_loki(args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    open_loki_config(loki_config(args)?)
}

/// Opens a Loki source from a finished configuration (flags, or a config-file entry).
pub fn open_loki_config(config: LokiConfig) -> Result<Arc<dyn Source>, CliError> {
    if config.http.insecure {
        eprintln!("logsleuth: WARNING: TLS certificate verification is OFF (--insecure)");
    }
    Ok(Arc::new(LokiSource::new(config)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::AuthArgs;

    fn args(url: &str) -> SourceArgs {
        SourceArgs { loki: Some(url.into()), ..SourceArgs::default() }
    }

    #[test]
    fn tenant_headers_and_selector_are_checked() {
        let mut a = args("http://127.0.0.1:3100");
        a.tenant = Some("team-a".into());
        a.selector = Some("{job=\"nginx\"}".into());
        a.parser = Some("json".into());
        a.auth = AuthArgs { headers: vec!["X-Trace: 1".into()], ..AuthArgs::default() };
        let c = loki_config(&a).unwrap();
        assert!(c.http.headers.contains(&("X-Scope-OrgID".into(), "team-a".into())));
        assert!(c.http.headers.contains(&("X-Trace".into(), "1".into())));
        assert_eq!(c.parser, Some(LogqlParser::Json));
        a.selector = Some("job=nginx".into());
        assert_eq!(loki_config(&a).unwrap_err().code, 2);
    }

    #[test]
    fn secrets_only_from_the_environment() {
        let mut a = args("http://127.0.0.1:3100");
        a.auth.user = Some("bob".into());
        assert!(loki_config(&a).is_err(), "--user alone has no password");
        a.auth.password_env = Some("LOGSLEUTH_TEST_UNSET_VAR_X".into());
        assert!(loki_config(&a).unwrap_err().message.contains("not set"));
        let mut b = args("http://127.0.0.1:3100");
        b.auth.headers = vec!["Authorization: Bearer x".into()];
        assert!(loki_config(&b).is_err());
        let c = loki_config(&args("http://alice:pw@127.0.0.1:3100")).unwrap();
        assert!(matches!(c.http.auth, Auth::Basic { ref user, .. } if user == "alice"));
        assert!(!format!("{c:?}").contains("pw@"));
    }
}
