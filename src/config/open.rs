//! Named sources on the command line (`--source NAME`, `default_source`) and the UI defaults
//! from the configuration file. A config entry becomes a [`SourceSpec`] like the flags do
//! ([`entry_spec`]); the flags given beside `--source NAME` then replace its settings
//! ([`SourceSpec::apply`]), and `sources::spec::open` opens it like any other spec.

use std::path::{Path, PathBuf};

use super::secrets::AuthPlan;
use super::{LoadedConfig, SourceConfig, SourceType};
use crate::cli::CliError;
use crate::model::Nanos;
use crate::sources::spec::{CloudWatchSpec, Connection, Credentials, EsSpec, LocalSpec, LokiSpec, Overrides, SourceSpec};

/// Loads the configuration for the command line: `--config PATH`, else the default file if it
/// exists. An unusable file is a usage error (exit 2) with every diagnostic.
pub fn load_for_cli(explicit: Option<&Path>) -> Result<Option<LoadedConfig>, CliError> {
    super::load_optional(explicit).map_err(|e| CliError::usage(format!("invalid configuration:\n{e}")))
}

/// The spec of the source named `name` in the configuration, with `overrides` (the flags
/// given beside `--source NAME`) replacing its settings.
pub fn resolve_named(name: &str, overrides: &Overrides, config: Option<&Path>) -> Result<SourceSpec, CliError> {
    let loaded = load_for_cli(config)?.ok_or_else(|| {
        let wanted = super::default_path().map_or_else(|| "no default location".to_string(), |p| p.display().to_string());
        CliError::usage(format!("--source {name} needs a configuration file, and there is none ({wanted}); give --config PATH"))
    })?;
    let Some(entry) = loaded.config.sources.get(name) else {
        let known: Vec<&str> = loaded.config.sources.keys().map(String::as_str).collect();
        let list = if known.is_empty() { "none are defined".to_string() } else { format!("known sources: {}", known.join(", ")) };
        return Err(CliError::usage(format!("no source named '{name}' in {} ({list})", loaded.path.display())));
    };
    // Credential flags replace the entry's credentials entirely: then the entry's are not
    // even resolved (no password_command runs).
    let resolve_auth = !overrides.credentials.is_set();
    Ok(entry_spec(name, entry, loaded.path.parent(), resolve_auth)?.apply(overrides))
}

/// The `default_source` of the configuration, when there is a configuration with one.
pub fn default_source(config: Option<&Path>) -> Result<Option<String>, CliError> {
    Ok(load_for_cli(config)?.and_then(|l| l.config.default_source))
}

/// The spec a config entry stands for. Relative `files` and `ca_file` are relative to the
/// configuration file's directory; credentials are resolved (environment, command, literal)
/// when `resolve_auth`.
pub fn entry_spec(name: &str, entry: &SourceConfig, base_dir: Option<&Path>, resolve_auth: bool) -> Result<SourceSpec, CliError> {
    let in_source = |e: String| CliError::usage(format!("source '{name}': {e}"));
    let url = || entry.url.clone().ok_or_else(|| in_source("url is required".into()));
    let connection = || -> Result<Connection, CliError> {
        let auth = if resolve_auth { AuthPlan::of(entry).and_then(|p| p.resolve()).map_err(in_source)? } else { None };
        Ok(Connection {
            credentials: Credentials::default(),
            auth,
            headers: entry.headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect(),
            ca_file: entry.ca_file.as_ref().map(|f| resolve_file(f, base_dir)),
            insecure: entry.insecure,
        })
    };
    Ok(match entry.kind {
        SourceType::Local => {
            if let Some(format) = &entry.format
                && crate::formats::LogFormat::from_name(format).is_none()
            {
                return Err(CliError::usage(format!("unknown format '{format}' in the configuration")));
            }
            SourceSpec::Local(LocalSpec {
                files: entry.files.iter().map(|f| resolve_file(f, base_dir)).collect(),
                format: entry.format.clone(),
            })
        }
        SourceType::Loki => SourceSpec::Loki(LokiSpec {
            url: url()?,
            selector: entry.selector.clone(),
            tenant: entry.tenant.clone(),
            parser: entry.parser.clone(),
            connection: connection()?,
        }),
        SourceType::Elasticsearch => SourceSpec::Elasticsearch(EsSpec {
            url: url()?,
            index: entry.index.clone(),
            time_field: entry.time_field.clone(),
            roles: entry.roles.clone(),
            time_zone: entry.time_zone.clone(),
            connection: connection()?,
        }),
        SourceType::CloudWatch => SourceSpec::CloudWatch(CloudWatchSpec {
            groups: entry.groups.clone(),
            stream_prefix: entry.stream_prefix.clone(),
            region: entry.region.clone(),
            profile: entry.profile.clone(),
            endpoint: entry.endpoint.clone(),
            format: entry.format.clone(),
            no_insights: entry.no_insights,
        }),
    })
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
    /// Field aliases for following a value, `[thread.aliases]`.
    pub thread_aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// The thread view's first widening, minutes each side (`[thread] widen_minutes`).
    pub thread_widen_minutes: Option<u32>,
    /// Alert rules, `[[watches]]` (the TUI runs those on the sources it shows).
    pub watches: Vec<super::watches::WatchConfig>,
    /// The report's authors, `[report] authors` (empty: `$USER` is used).
    pub report_authors: Vec<String>,
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
        thread_aliases: loaded.config.thread.aliases,
        thread_widen_minutes: loaded.config.thread.widen_minutes,
        watches: loaded.config.watches,
        report_authors: loaded.config.report.authors,
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
        let e = entry(
            "type = \"loki\"\nurl = \"http://l\"\nselector = '{job=\"a\"}'\ntenant = \"t1\"\nheaders = { \"X-A\" = \"1\", \"X-B\" = \"2\" }",
        );
        let flags = Overrides { tenant: Some("t2".into()), headers: vec![("x-b".into(), "3".into())], ..Overrides::default() };
        let SourceSpec::Loki(m) = entry_spec("x", &e, None, true).unwrap().apply(&flags) else { panic!("not Loki") };
        assert_eq!(m.url, "http://l");
        assert_eq!(m.selector.as_deref(), Some("{job=\"a\"}"));
        assert_eq!(m.tenant.as_deref(), Some("t2"));
        assert_eq!(m.connection.headers, vec![("X-A".to_string(), "1".to_string()), ("x-b".to_string(), "3".to_string())]);
    }

    #[test]
    fn local_files_are_relative_to_the_config_file() {
        let e = entry("type = \"local\"\nfiles = [\"logs/a.log\", \"/abs/b.log\"]\nformat = \"nginx\"");
        let SourceSpec::Local(m) = entry_spec("x", &e, Some(Path::new("/etc/ls")), true).unwrap() else { panic!("not local") };
        assert_eq!(m.files, vec![PathBuf::from("/etc/ls/logs/a.log"), PathBuf::from("/abs/b.log")]);
        assert_eq!(m.format.as_deref(), Some("nginx"));
        let bad = entry("type = \"local\"\nfiles = [\"a.log\"]\nformat = \"xml\"");
        assert_eq!(entry_spec("x", &bad, None, true).unwrap_err().code, 2);
    }

    #[test]
    fn credential_flags_keep_the_entrys_secrets_unresolved() {
        let e = entry("type = \"es\"\nurl = \"http://e\"\nindex = \"web\"\nuser = \"bob\"\npassword_env = \"LOGSLEUTH_TEST_UNSET_PW\"");
        assert!(entry_spec("x", &e, None, true).is_err(), "the entry's password variable is not set");
        assert!(entry_spec("x", &e, None, false).is_ok(), "flags replace it, so it is not read");
    }
}
