//! Opening an Elasticsearch source from the command line (`--es URL --index PATTERN` plus the
//! auth and TLS flags). Named sources from the config file (`crate::config::open`) reuse
//! [`es_config`] and [`open_es_config`].

use std::sync::Arc;

use crate::sources::elasticsearch::{EsConfig, EsSource};
use crate::cli::CliError;
use crate::cli::args::SourceArgs;
use crate::sources::{FieldRoles, Source};
use crate::sources::http::{Auth, HttpConfig, Secret};

/// Builds the [`EsConfig`] the flags describe (no request is sent).
pub fn es_config(args: &SourceArgs) -> Result<EsConfig, CliError> {
    let url = args.es.as_deref().ok_or_else(|| CliError::usage("--es URL is required for an Elasticsearch source"))?;
    let index = args
        .index
        .as_deref()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| CliError::usage("--es needs --index PATTERN (e.g. --index 'logs-*')"))?;
    let mut http = HttpConfig::new(url)?;
    let a = &args.auth;
    let chosen = [a.password_env.is_some() || a.user.is_some(), a.token_env.is_some(), a.api_key_env.is_some()];
    if chosen.iter().filter(|c| **c).count() > 1 {
        return Err(CliError::usage("use only one of --user/--password-env, --token-env and --api-key-env"));
    }
    let secret = |var: &str| Secret::from_env(var).map_err(CliError::usage);
    if let Some(var) = &a.token_env {
        http.auth = Auth::Bearer(secret(var)?);
    } else if let Some(var) = &a.api_key_env {
        http.auth = Auth::ApiKey(secret(var)?);
    } else if let Some(var) = &a.password_env {
        let user = match (&a.user, &http.auth) {
            (Some(u), _) => u.clone(),
            (None, Auth::Basic { user, .. }) => user.clone(),
            (None, _) => return Err(CliError::usage("--password-env needs --user NAME")),
        };
        http.auth = Auth::Basic { user, password: secret(var)? };
    } else if let Some(user) = &a.user {
        return Err(CliError::usage(format!("--user {user} needs --password-env VAR (passwords are never taken on the command line)")));
    }
    for header in &a.headers {
        let Some((name, value)) = header.split_once(':') else {
            return Err(CliError::usage(format!("--header '{header}' must be 'Name: value'")));
        };
        http.headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    http.ca_file = a.ca_file.clone();
    http.insecure = a.insecure;
    let mut config = EsConfig::new(http, index.trim());
    config.time_field = args.time_field.clone();
    config.roles = parse_roles(&args.roles)?;
    Ok(config)
}

/// Parses `--role ROLE=FIELD` flags into field roles (unset roles stay `None`).
pub fn parse_roles(flags: &[String]) -> Result<FieldRoles, CliError> {
    let mut roles = FieldRoles::default();
    for flag in flags {
        let (role, field) = flag
            .split_once('=')
            .map(|(r, f)| (r.trim(), f.trim()))
            .filter(|(_, f)| !f.is_empty())
            .ok_or_else(|| CliError::usage(format!("--role '{flag}' must be ROLE=FIELD, e.g. status=http.response.status_code")))?;
        let slot = match role {
            "status" => &mut roles.status,
            "client_ip" => &mut roles.client_ip,
            "user_agent" => &mut roles.user_agent,
            "level" => &mut roles.level,
            "method" => &mut roles.method,
            "path" => &mut roles.path,
            other => {
                return Err(CliError::usage(format!(
                    "unknown role '{other}' in --role: use status, client_ip, user_agent, level, method or path"
                )));
            }
        };
        *slot = Some(field.to_string());
    }
    Ok(roles)
}

/// Opens the Elasticsearch source for `--es URL --index PATTERN`.
pub fn open_es(args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    open_es_config(es_config(args)?)
}

/// Opens an Elasticsearch source from a finished configuration (flags, or a config entry).
pub fn open_es_config(config: EsConfig) -> Result<Arc<dyn Source>, CliError> {
    Ok(Arc::new(EsSource::new(config)?))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn source_args(argv: &[&str]) -> SourceArgs {
        Cli::try_parse_from(argv).expect("valid command line").source
    }

    #[test]
    fn role_flags_set_field_roles() {
        let args = source_args(&[
            "logsleuth", "--es", "http://127.0.0.1:9200", "--index", "web", "--role", "status=response",
            "--role", "client_ip = clientip",
        ]);
        let config = es_config(&args).unwrap();
        assert_eq!(config.roles.status.as_deref(), Some("response"));
        assert_eq!(config.roles.client_ip.as_deref(), Some("clientip"));
        assert_eq!(config.roles.user_agent, None);
    }

    #[test]
    fn bad_role_flags_are_usage_errors() {
        for bad in ["status", "status=", "colour=red"] {
            let err = parse_roles(&[bad.to_string()]).unwrap_err();
            assert_eq!(err.code, 2, "{bad}");
        }
    }
}
