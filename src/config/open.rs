//! Named sources on the command line (`--source NAME`, `default_source`) and the UI defaults
//! from the configuration file. Building the sources reuses the flag code of each backend
//! (`cli::loki::loki_config`, `cli::es::es_config`): a config entry is turned into
//! the flags it stands for, with the flags actually given taking precedence, and only the
//! credentials (which flags cannot carry) are set afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::secrets::AuthPlan;
use super::{LoadedConfig, SourceConfig, SourceType};
use crate::cli::CliError;
use crate::cli::args::{LogFormatArg, SourceArgs};
use crate::model::Nanos;
use crate::sources::Source;

/// Loads the configuration for the command line: `--config PATH`, else the default file if it
/// exists. An unusable file is a usage error (exit 2) with every diagnostic.
pub fn load_for_cli(explicit: Option<&Path>) -> Result<Option<LoadedConfig>, CliError> {
    super::load_optional(explicit).map_err(|e| CliError::usage(format!("invalid configuration:\n{e}")))
}

/// Opens the source named `name` in the configuration (`--source NAME`). Flags given on the
/// command line override the entry's values.
pub fn open_named(name: &str, args: &SourceArgs) -> Result<Arc<dyn Source>, CliError> {
    let loaded = load_for_cli(args.config.as_deref())?.ok_or_else(|| {
        let wanted = super::default_path().map_or_else(|| "no default location".to_string(), |p| p.display().to_string());
        CliError::usage(format!("--source {name} needs a configuration file, and there is none ({wanted}); give --config PATH"))
    })?;
    let Some(entry) = loaded.config.sources.get(name) else {
        let known: Vec<&str> = loaded.config.sources.keys().map(String::as_str).collect();
        let list = if known.is_empty() { "none are defined".to_string() } else { format!("known sources: {}", known.join(", ")) };
        return Err(CliError::usage(format!("no source named '{name}' in {} ({list})", loaded.path.display())));
    };
    open_entry(name, entry, args, loaded.path.parent())
}

/// The `default_source` of the configuration, when there is a configuration with one.
pub fn default_source(args: &SourceArgs) -> Result<Option<String>, CliError> {
    Ok(load_for_cli(args.config.as_deref())?.and_then(|l| l.config.default_source))
}

/// Opens a config entry with the flags in `args` taking precedence. Relative `files` of a
/// local source are relative to the configuration file's directory.
pub fn open_entry(name: &str, entry: &SourceConfig, args: &SourceArgs, base_dir: Option<&Path>) -> Result<Arc<dyn Source>, CliError> {
    let merged = merged_args(entry, args, base_dir)?;
    let in_source = |e: String| CliError::usage(format!("source '{name}': {e}"));
    // Auth flags given on the command line replace the entry's credentials entirely.
    let flags_auth = args.auth.user.is_some()
        || args.auth.password_env.is_some()
        || args.auth.token_env.is_some()
        || args.auth.api_key_env.is_some();
    let resolve_auth = || -> Result<Option<crate::sources::http::Auth>, CliError> {
        if flags_auth {
            return Ok(None);
        }
        AuthPlan::of(entry).and_then(|p| p.resolve()).map_err(in_source)
    };
    match entry.kind {
        SourceType::Local => crate::cli::source::open_source(&merged),
        SourceType::Loki => {
            let mut config = crate::cli::loki::loki_config(&merged)?;
            if let Some(auth) = resolve_auth()? {
                config.http.auth = auth;
            }
            crate::cli::loki::open_loki_config(config)
        }
        SourceType::Elasticsearch => {
            let mut config = crate::cli::es::es_config(&merged)?;
            if let Some(auth) = resolve_auth()? {
                config.http.auth = auth;
            }
            // Roles from the entry, each overridden by a --role flag for the same role.
            let flags = std::mem::take(&mut config.roles);
            config.roles = entry.roles.clone().overridden_by(flags);
            if entry.time_zone.is_some() {
                config.time_zone = entry.time_zone.clone();
            }
            crate::cli::es::open_es_config(config)
        }
    }
}

/// The flags a config entry stands for, merged with those given (which win). Credentials are
/// not part of it: they are resolved separately, as flags cannot carry them.
pub fn merged_args(entry: &SourceConfig, args: &SourceArgs, base_dir: Option<&Path>) -> Result<SourceArgs, CliError> {
    let mut m = args.clone();
    m.source = None;
    match entry.kind {
        SourceType::Loki => m.loki = entry.url.clone(),
        SourceType::Elasticsearch => m.es = entry.url.clone(),
        SourceType::Local => {
            m.files = entry.files.iter().map(|f| resolve_file(f, base_dir)).collect();
            if m.format.is_none()
                && let Some(format) = &entry.format
            {
                let arg = <LogFormatArg as clap::ValueEnum>::from_str(format, true)
                    .map_err(|_| CliError::usage(format!("unknown format '{format}' in the configuration")))?;
                m.format = Some(arg);
            }
        }
    }
    let pick = |flag: &Option<String>, value: &Option<String>| flag.clone().or_else(|| value.clone());
    m.selector = pick(&args.selector, &entry.selector);
    m.tenant = pick(&args.tenant, &entry.tenant);
    m.parser = pick(&args.parser, &entry.parser);
    m.index = pick(&args.index, &entry.index);
    m.time_field = pick(&args.time_field, &entry.time_field);
    // A header given as a flag replaces the entry's header of the same name.
    let flag_names: Vec<String> =
        args.auth.headers.iter().filter_map(|h| h.split_once(':')).map(|(n, _)| n.trim().to_ascii_lowercase()).collect();
    m.auth.headers = entry
        .headers
        .iter()
        .filter(|(n, _)| !flag_names.contains(&n.to_ascii_lowercase()))
        .map(|(n, v)| format!("{n}: {v}"))
        .chain(args.auth.headers.iter().cloned())
        .collect();
    m.auth.ca_file = args.auth.ca_file.clone().or_else(|| entry.ca_file.as_ref().map(|f| resolve_file(f, base_dir)));
    m.auth.insecure = args.auth.insecure || entry.insecure;
    Ok(m)
}

/// A path of the configuration file as used: `~/` is the home directory, a relative path is
/// relative to the configuration file's directory (`base_dir`).
pub fn resolve_file(path: &Path, base_dir: Option<&Path>) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    match base_dir {
        Some(dir) if path.is_relative() && path != Path::new("-") => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// What the configuration says about the TUI when the flags do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UiDefaults {
    /// Theme name.
    pub theme: Option<String>,
    /// Default range length, ending now (applies to server sources; local files open on their
    /// whole span).
    pub range: Option<Nanos>,
    /// Names of the configured sources (offered when opening a pane).
    pub sources: Vec<String>,
    /// Key overrides, the `[keys]` table (validated when the file was loaded).
    pub keys: std::collections::BTreeMap<String, String>,
    /// Saved searches, `[[saved_searches]]`.
    pub saved_searches: Vec<super::SavedSearch>,
}

/// The UI defaults of the configuration in effect (none without a configuration).
pub fn ui_defaults(explicit: Option<&Path>) -> Result<UiDefaults, CliError> {
    let Some(loaded) = load_for_cli(explicit)? else {
        return Ok(UiDefaults::default());
    };
    let range = loaded.config.default_range.as_deref().and_then(|r| crate::time::parse_duration(r).ok());
    let sources = loaded.config.sources.keys().cloned().collect();
    Ok(UiDefaults {
        theme: loaded.config.theme,
        range,
        sources,
        keys: loaded.config.keys,
        saved_searches: loaded.config.saved_searches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> SourceConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn flags_override_entry_values_and_headers_by_name() {
        let e = entry("type = \"loki\"\nurl = \"http://l\"\nselector = '{job=\"a\"}'\ntenant = \"t1\"\nheaders = { \"X-A\" = \"1\", \"X-B\" = \"2\" }");
        let mut args = SourceArgs { source: Some("x".into()), tenant: Some("t2".into()), ..SourceArgs::default() };
        args.auth.headers = vec!["x-b: 3".into()];
        let m = merged_args(&e, &args, None).unwrap();
        assert_eq!(m.loki.as_deref(), Some("http://l"));
        assert_eq!(m.source, None);
        assert_eq!(m.selector.as_deref(), Some("{job=\"a\"}"));
        assert_eq!(m.tenant.as_deref(), Some("t2"));
        assert_eq!(m.auth.headers, vec!["X-A: 1".to_string(), "x-b: 3".to_string()]);
    }

    #[test]
    fn local_files_are_relative_to_the_config_file() {
        let e = entry("type = \"local\"\nfiles = [\"logs/a.log\", \"/abs/b.log\"]\nformat = \"nginx\"");
        let m = merged_args(&e, &SourceArgs::default(), Some(Path::new("/etc/ls"))).unwrap();
        assert_eq!(m.files, vec![PathBuf::from("/etc/ls/logs/a.log"), PathBuf::from("/abs/b.log")]);
        assert_eq!(m.format, Some(LogFormatArg::Nginx));
    }
}
