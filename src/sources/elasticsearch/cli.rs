//! Opening an Elasticsearch source from the command line (`--es URL --index PATTERN` plus the
//! auth and TLS flags). Named sources from the config file (`crate::config::open`) reuse
//! [`es_config`] and [`open_es_config`].

use std::sync::Arc;

use super::{EsConfig, EsSource};
use crate::cli::CliError;
use crate::cli::args::SourceArgs;
use crate::sources::Source;
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
    Ok(config)
}

/// Opens the Elasticsearch source for `--es URL --index PATTERN`.
pub fn open_es(args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    open_es_config(es_config(args)?)
}

/// Opens an Elasticsearch source from a finished configuration (flags, or a config entry).
pub fn open_es_config(config: EsConfig) -> Result<Arc<dyn Source>, CliError> {
    Ok(Arc::new(EsSource::new(config)?))
}
