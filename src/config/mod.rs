//! The configuration file: named sources, defaults (theme, time range), key overrides and saved
//! searches, read from `$XDG_CONFIG_HOME/logsleuth/config.toml` or `--config PATH`.
//!
//! - this module: the file's types (deserialized with `deny_unknown_fields`, so a typo is an
//!   error rather than a silently ignored setting) and loading;
//! - [`secrets`]: passwords, tokens and API keys from the file, the environment or a command;
//! - [`check`]: validation with precise diagnostics (file, line, column, key path);
//! - [`keys`]: key-binding overrides;
//! - [`open`]: turning a named source into a [`crate::sources::Source`] (`--source NAME`),
//!   and the UI defaults;
//! - [`command`]: `logsleuth config check`.

pub mod check;
pub mod command;
pub mod open;
pub mod secrets;
pub mod watches;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sources::FieldRoles;
use crate::sources::http::Secret;

pub use check::{Diagnostic, Severity};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The source `logsleuth` opens when no files, URL or `--source` are given.
    pub default_source: Option<String>,
    /// Default colour theme (overridden by `--theme`).
    pub theme: Option<String>,
    /// Default time range of the TUI, as a duration ending now (`1h`, `15m`, `7d`).
    pub default_range: Option<String>,
    /// Memory budget of files and stdin (`2G`, `512M`, `10%`; default 10% of the machine's
    /// memory), overridden by `--max-memory`.
    pub max_memory: Option<String>,
    /// Named sources, `[sources.NAME]`.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    /// Key overrides, `[keys]`: action name → key (`quit = "ctrl-q"`).
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// Saved searches, `[[saved_searches]]`.
    #[serde(default)]
    pub saved_searches: Vec<SavedSearch>,
    /// Alert rules, `[[watches]]` (docs/watches.md).
    #[serde(default)]
    pub watches: Vec<watches::WatchConfig>,
    /// Following a request across sources, `[thread]` (`logsleuth thread`, "follow in all
    /// panes").
    #[serde(default)]
    pub thread: ThreadConfig,
    /// The postmortem report, `[report]`.
    #[serde(default)]
    pub report: ReportConfig,
}

/// `[report]`: what the postmortem report says of its authors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// `authors = ["Ada", "Grace"]`: the report's authors (default: `$USER`).
    #[serde(default)]
    pub authors: Vec<String>,
}

/// The report's authors: the configuration's, else the login name (`$USER`), else none.
pub fn report_authors(configured: &[String]) -> Vec<String> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    std::env::var("USER").ok().filter(|u| !u.trim().is_empty()).into_iter().collect()
}

/// `[thread]`: how a followed value finds its field in other services.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadConfig {
    /// `[thread.aliases]`: field name → the names other services give it
    /// (`order_id = ["orderId", "order.id", "ctx.order"]`).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// `widen_minutes`: how far the thread view's widen key first reaches each side of the
    /// followed line (default 5; pressed again: three, then twelve times that).
    #[serde(default)]
    pub widen_minutes: Option<u32>,
}

/// The kind of a named source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// Grafana Loki.
    Loki,
    /// Elasticsearch or OpenSearch (or an ES-compatible API).
    #[serde(alias = "es", alias = "opensearch")]
    Elasticsearch,
    /// Local files.
    Local,
    /// AWS CloudWatch Logs.
    #[serde(alias = "cw")]
    CloudWatch,
}

impl SourceType {
    /// The name used in the file and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            SourceType::Loki => "loki",
            SourceType::Elasticsearch => "elasticsearch",
            SourceType::Local => "local",
            SourceType::CloudWatch => "cloudwatch",
        }
    }
}

/// One named source, `[sources.NAME]`. `Debug` never shows secret values ([`Secret`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `loki`, `elasticsearch` (alias `es`, `opensearch`), `local` or `cloudwatch`.
    #[serde(rename = "type")]
    pub kind: SourceType,
    /// Server base URL (Loki, Elasticsearch); may carry a path prefix.
    pub url: Option<String>,
    /// Loki base stream selector, e.g. `{job="nginx"}`.
    pub selector: Option<String>,
    /// Elasticsearch index pattern, e.g. `logs-*`.
    pub index: Option<String>,
    /// Loki tenant (`X-Scope-OrgID`).
    pub tenant: Option<String>,
    /// Loki parser stage (`json`, `logfmt`, `nginx`, `apache`, `regexp:<RE>`).
    pub parser: Option<String>,
    /// Elasticsearch time field (detected when absent).
    pub time_field: Option<String>,
    /// Elasticsearch time zone for histograms and KQL dates (IANA name).
    pub time_zone: Option<String>,
    /// Local files (`type = "local"`).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Local log format (`access`, `nginx`, `apache`, `json`, `logfmt`, `syslog`, `plain`).
    pub format: Option<String>,
    /// Field roles, `[sources.NAME.roles]`.
    #[serde(default)]
    pub roles: FieldRoles,
    /// Extra request headers (not secret; credentials go in the auth keys).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// PEM file of extra CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (warned about, never the default).
    #[serde(default)]
    pub insecure: bool,
    /// Basic-auth user name.
    pub user: Option<String>,
    /// Basic-auth password, literally (the file must then be private: `chmod 600`).
    #[serde(default, deserialize_with = "de_secret")]
    pub password: Option<Secret>,
    /// Environment variable holding the password.
    pub password_env: Option<String>,
    /// Command printing the password (`sh -c`, stdout trimmed).
    pub password_command: Option<String>,
    /// Bearer token, literally.
    #[serde(default, deserialize_with = "de_secret")]
    pub token: Option<Secret>,
    /// Environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// Command printing the bearer token.
    pub token_command: Option<String>,
    /// Elasticsearch API key (`Authorization: ApiKey …`), literally.
    #[serde(default, deserialize_with = "de_secret")]
    pub api_key: Option<Secret>,
    /// Environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// Command printing the API key.
    pub api_key_command: Option<String>,
    /// CloudWatch log groups (`type = "cloudwatch"`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// CloudWatch stream name prefix.
    pub stream_prefix: Option<String>,
    /// CloudWatch AWS region.
    pub region: Option<String>,
    /// CloudWatch AWS profile.
    pub profile: Option<String>,
    /// CloudWatch endpoint URL.
    pub endpoint: Option<String>,
    /// CloudWatch: never run Logs Insights.
    #[serde(default)]
    pub no_insights: bool,
}

impl SourceConfig {
    /// Whether the entry holds a secret value literally (which makes the file's permissions
    /// matter): a password, token or API key, or a password in the URL.
    pub fn has_literal_secret(&self) -> bool {
        self.password.is_some()
            || self.token.is_some()
            || self.api_key.is_some()
            || self.url.as_deref().and_then(|u| url::Url::parse(u).ok()).is_some_and(|u| u.password().is_some())
    }
}

/// A saved search, `[[saved_searches]]` (the TUI's type: the file is read straight into it).
pub use crate::ui::saved::SearchEntry as SavedSearch;

fn de_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(d).map(|v| v.map(Secret::new))
}

/// A configuration file that was read and validated (no errors; maybe warnings).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its contents.
    pub config: Config,
    /// Warnings found while validating.
    pub warnings: Vec<Diagnostic>,
}

/// A configuration file that cannot be used: its diagnostics (at least one error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(path, diagnostics))]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (errors and warnings).
    pub diagnostics: Vec<Diagnostic>,
}

fn render(path: &Path, diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().map(|d| d.render(path)).collect::<Vec<_>>().join("\n")
}

/// The default configuration file: `$XDG_CONFIG_HOME/logsleuth/config.toml` when that
/// variable holds an absolute path, else the platform's config dir (`~/.config` on Linux).
pub fn default_path() -> Option<PathBuf> {
    crate::ui::theme::default_config_dir().map(|d| d.join("config.toml"))
}

/// Reads and validates a configuration file. Any error-level diagnostic (bad TOML, unknown
/// key, unsafe permissions, …) refuses the whole file.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let report = check::check_file(path);
    match report.config {
        Some(config) if !report.diagnostics.iter().any(Diagnostic::is_error) => {
            Ok(LoadedConfig { path: path.to_path_buf(), config, warnings: report.diagnostics })
        }
        _ => Err(ConfigError { path: path.to_path_buf(), diagnostics: report.diagnostics }),
    }
}

/// The configuration in effect: the file given with `--config` (which must exist), else the
/// default file when there is one. `Ok(None)` when there is no configuration at all.
pub fn load_optional(explicit: Option<&Path>) -> Result<Option<LoadedConfig>, ConfigError> {
    match explicit {
        Some(path) => load(path).map(Some),
        None => match default_path() {
            Some(path) if path.exists() => load(&path).map(Some),
            _ => Ok(None),
        },
    }
}
