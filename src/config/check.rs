//! Validation of a configuration file, with diagnostics that say precisely what is wrong:
//! the file, the line and column, the key path (`sources.prod.url`) and what was expected.
//!
//! TOML and type errors come from the toml crate (its spans give the position); the rest are
//! checked here on the parsed file, located by a scan of the text for the key. Secret values
//! never appear in a diagnostic: a snippet of a line that sets a secret is redacted.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use super::secrets::{AuthPlan, SecretSource};
use super::{Config, SourceConfig, SourceType};
use crate::sources::http::HttpConfig;
use crate::ui::bindings as keys;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The file cannot be used.
    Error,
    /// The file can be used but something is probably not what was meant.
    Warning,
}

/// One finding about a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The key path, e.g. `sources.prod.url` (empty for the whole file).
    pub key: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong (never a secret value).
    pub message: String,
    /// The offending line with a caret under the column (secrets redacted), when known.
    pub snippet: Option<String>,
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col: error: key: message`, plus the snippet on the next lines.
    pub fn render(&self, path: &Path) -> String {
        let mut out = path.display().to_string();
        if let Some((line, col)) = self.position {
            out.push_str(&format!(":{line}:{col}"));
        }
        out.push_str(match self.severity {
            Severity::Error => ": error: ",
            Severity::Warning => ": warning: ",
        });
        if !self.key.is_empty() {
            out.push_str(&self.key);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        if let Some(snippet) = &self.snippet {
            out.push('\n');
            out.push_str(snippet);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Path::new("config")))
    }
}

/// The outcome of checking a file: the parsed configuration when the TOML was readable, and
/// every finding.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The configuration, when it parsed.
    pub config: Option<Config>,
    /// Errors and warnings, in file order where known.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads and checks a file, including its permissions.
pub fn check_file(path: &Path) -> CheckReport {
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return failed(error("", None, "the file is not valid UTF-8")),
        },
        Err(e) => {
            return failed(error("", None, &format!("cannot read the configuration file: {e}")));
        }
    };
    let mut report = check_text_in(&text, path.parent());
    if let Some(config) = &report.config
        && let Some(d) = permission_problem(path, config)
    {
        report.diagnostics.insert(0, d);
    }
    report
}

fn failed(d: Diagnostic) -> CheckReport {
    CheckReport { config: None, diagnostics: vec![d] }
}

fn error(key: &str, position: Option<(usize, usize)>, message: &str) -> Diagnostic {
    Diagnostic { severity: Severity::Error, key: key.into(), position, message: message.into(), snippet: None }
}

/// A file holding a literal secret must not be readable by group or others.
#[cfg(unix)]
fn permission_problem(path: &Path, config: &Config) -> Option<Diagnostic> {
    use std::os::unix::fs::PermissionsExt;
    let holders: Vec<&str> = config.sources.iter().filter(|(_, s)| s.has_literal_secret()).map(|(n, _)| n.as_str()).collect();
    if holders.is_empty() {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    Some(error(
        "",
        None,
        &format!(
            "{} holds secrets (sources {}) but its mode is {mode:04o}, readable by others; refusing to use it. Fix: chmod 600 {}, or move the secrets to *_env / *_command",
            path.display(),
            holders.join(", "),
            path.display()
        ),
    ))
}

/// Permissions are not checked where there are no Unix modes.
#[cfg(not(unix))]
fn permission_problem(_path: &Path, _config: &Config) -> Option<Diagnostic> {
    None
}

/// Checks the text of a configuration file (everything but permissions); relative paths are
/// taken from the working directory.
pub fn check_text(text: &str) -> CheckReport {
    check_text_in(text, None)
}

/// Checks the text of a configuration file whose relative paths (`files`, `ca_file`) are
/// relative to `base_dir`, as when it is used.
pub fn check_text_in(text: &str, base_dir: Option<&Path>) -> CheckReport {
    let config: Config = match toml::from_str(text) {
        Ok(c) => c,
        Err(e) => return failed(toml_diagnostic(text, &e)),
    };
    let mut v = Validator { text, base_dir, out: Vec::new() };
    v.validate(&config);
    let mut diagnostics = v.out;
    diagnostics.sort_by_key(|d| d.position.map_or(usize::MAX, |p| p.0));
    CheckReport { config: Some(config), diagnostics }
}

fn toml_diagnostic(text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().replace('\n', "; ");
    let Some(span) = e.span() else {
        return error("", None, &message);
    };
    let (line, col) = line_col(text, span.start);
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let key = key_path_at(text, line);
    // Type errors quote the value (`invalid type: integer `1234``): not for a secret.
    let quotes_value = ["invalid type", "invalid value", "invalid length"].iter().any(|m| message.starts_with(m));
    let message = if quotes_value && key.rsplit('.').next().is_some_and(is_secret_key) { redact_quoted(&message) } else { message };
    let shown = redact_line(line_text);
    let snippet = format!("  {line:>4} | {shown}\n       | {}^", " ".repeat(col.saturating_sub(1).min(shown.chars().count())));
    Diagnostic { severity: Severity::Error, key, position: Some((line, col)), message, snippet: Some(snippet) }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Whether a key's value may be a secret: the secret keys, and anything that looks like one
/// (a misspelt `pasword` must not be echoed either).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    !k.ends_with("_env")
        && !k.ends_with("_command")
        && ["pas", "pw", "word", "tok", "key", "sec", "auth", "cred"].iter().any(|w| k.contains(w))
}

/// Replaces every `quoted` part of a message with `***`.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        out.push_str(if i % 2 == 1 { "***" } else { part });
    }
    out
}

/// The line with the value of a secret-looking key replaced, and any `user:password@` of a
/// URL removed.
fn redact_line(line: &str) -> String {
    if let Some((key, _)) = line.split_once('=')
        && is_secret_key(key.trim().trim_matches('"'))
    {
        return format!("{} = ***", key.trim_end());
    }
    crate::text::sanitize(&crate::sources::http::redact_url_text(line)).into_owned()
}

/// The table headers in the text, by line: (1-based line, path).
fn headers(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            let inner = t
                .strip_prefix("[[")
                .and_then(|r| r.split("]]").next())
                .or_else(|| t.strip_prefix('[').and_then(|r| r.split(']').next()))?;
            Some((i + 1, split_key(inner)))
        })
        .collect()
}

/// Splits a dotted TOML key, honouring quotes: `sources."my.src".roles` → 3 parts.
fn split_key(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => parts.push(std::mem::take(&mut cur).trim().to_string()),
            (None, c) => cur.push(c),
        }
    }
    parts.push(cur.trim().to_string());
    parts
}

/// The key path of line `line`: the table header above it plus the key set on it.
fn key_path_at(text: &str, line: usize) -> String {
    let header = headers(text).into_iter().rfind(|(l, _)| *l <= line);
    let mut path = match &header {
        Some((_, p)) => p.clone(),
        None => Vec::new(),
    };
    let is_header_line = header.as_ref().is_some_and(|(l, _)| *l == line);
    if !is_header_line && let Some((key, _)) = text.lines().nth(line - 1).and_then(|l| l.split_once('=')) {
        path.extend(split_key(key.trim()));
    }
    path.join(".")
}

/// Finds where `path` is set: the key's line in its table (`[sources.x]` then `url = …`), else
/// the table header, else a dotted key anywhere. Returns 1-based (line, column).
fn locate(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let hdrs = headers(text);
    // `saved_searches[2].query`: the key in the third `[[saved_searches]]` table.
    if let Some((array, index)) = path.first().and_then(|p| p.strip_suffix(']')).and_then(|p| p.split_once('[')) {
        let index: usize = index.parse().ok()?;
        let starts: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim().strip_prefix("[[").and_then(|r| r.split("]]").next()).is_some_and(|h| split_key(h) == [array]))
            .map(|(i, _)| i + 1)
            .collect();
        let start = *starts.get(index)?;
        let end = hdrs.iter().map(|h| h.0).find(|l| *l > start).unwrap_or(lines.len() + 1);
        let found = (start + 1..end).find(|n| {
            lines
                .get(n - 1)
                .and_then(|l| l.split_once('='))
                .is_some_and(|(k, _)| path.get(1).is_some_and(|want| split_key(k.trim()) == [*want]))
        });
        return Some((found.unwrap_or(start), 1));
    }
    for split in (0..=path.len()).rev() {
        let (table, key) = path.split_at(split);
        let section_lines: Vec<(usize, usize)> = if table.is_empty() {
            vec![(1, hdrs.first().map_or(lines.len() + 1, |h| h.0))]
        } else {
            hdrs.iter()
                .enumerate()
                .filter(|(_, (_, p))| p.iter().map(String::as_str).eq(table.iter().copied()))
                .map(|(i, (l, _))| (*l, hdrs.get(i + 1).map_or(lines.len() + 1, |h| h.0)))
                .collect()
        };
        let mut header = None;
        for (start, end) in section_lines {
            let col = lines.get(start - 1).map_or(1, |l| l.len() - l.trim_start().len() + 1);
            if key.is_empty() {
                return Some((start, col));
            }
            for n in start..end {
                let Some(l) = lines.get(n - 1) else { continue };
                if let Some((k, _)) = l.split_once('=')
                    && split_key(k.trim()).iter().map(String::as_str).eq(key.iter().copied())
                {
                    return Some((n, l.len() - l.trim_start().len() + 1));
                }
            }
            // The key is not written in its table (missing, or set another way): the header.
            if !table.is_empty() {
                header = header.or(Some((start, col)));
            }
        }
        if header.is_some() {
            return header;
        }
    }
    None
}

struct Validator<'a> {
    text: &'a str,
    base_dir: Option<&'a Path>,
    out: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, severity: Severity, path: &[&str], message: String) {
        let position = locate(self.text, path);
        let snippet = None;
        self.out.push(Diagnostic { severity, key: path.join("."), position, message, snippet });
    }

    fn error(&mut self, path: &[&str], message: impl Into<String>) {
        self.push(Severity::Error, path, message.into());
    }

    fn warn(&mut self, path: &[&str], message: impl Into<String>) {
        self.push(Severity::Warning, path, message.into());
    }

    fn validate(&mut self, config: &Config) {
        if let Some(name) = &config.default_source
            && !config.sources.contains_key(name)
        {
            self.error(&["default_source"], format!("no source named '{name}'; {}", known_names(config)));
        }
        if let Some(theme) = &config.theme {
            let dir = crate::ui::theme::default_config_dir();
            if let Err(e) = crate::ui::Theme::load(Some(theme), dir.as_deref(), false) {
                self.error(&["theme"], e.to_string());
            }
        }
        if let Some(range) = &config.default_range {
            self.duration(&["default_range"], range);
        }
        if let Some(size) = &config.max_memory
            && let Err(e) = crate::sources::local::parse_size(size)
        {
            self.error(&["max_memory"], e);
        }
        for (name, source) in &config.sources {
            self.source(name, source);
        }
        if let Err(errors) = keys::parse_overrides(&config.keys) {
            for (action, message) in errors {
                self.error(&["keys", &action], message);
            }
        }
        let mut seen = BTreeSet::new();
        for (i, search) in config.saved_searches.iter().enumerate() {
            let label = format!("saved_searches[{i}]");
            let name = search.name.trim();
            if name.is_empty() {
                self.error(&[&label, "name"], "a saved search needs a name");
            } else if !seen.insert(name.to_string()) {
                self.error(&[&label, "name"], format!("saved search '{name}' is defined twice"));
            }
            if let Err(e) = crate::kql::parse(&search.query) {
                self.error(&[&label, "query"], format!("invalid KQL: {e}"));
            }
            if let Some(range) = &search.range {
                self.duration(&[&label, "range"], range);
            }
            if let Some(src) = &search.source
                && !config.sources.contains_key(src)
            {
                self.error(&[&label, "source"], format!("no source named '{src}'; {}", known_names(config)));
            }
        }
        self.watches(config);
    }

    fn watches(&mut self, config: &Config) {
        for (i, key, message) in super::watches::problems(&config.watches, &|s| config.sources.contains_key(s)) {
            let label = format!("watches[{i}]");
            let message = if key == "source" { format!("{message}; {}", known_names(config)) } else { message };
            self.error(&[&label, key], message);
        }
    }

    fn duration(&mut self, path: &[&str], text: &str) {
        match crate::time::parse_duration(text) {
            Ok(0) => self.error(path, "expected a duration greater than zero"),
            Ok(_) => {}
            Err(e) => self.error(path, format!("expected a duration such as 15m, 1h or 7d, found '{text}': {e}")),
        }
    }

    fn source(&mut self, name: &str, s: &SourceConfig) {
        let at = |key: &'static str| -> [&str; 3] { ["sources", name, key] };
        let kind = s.kind.name();
        // Keys that belong to other kinds of source are mistakes, not silent no-ops.
        let misplaced: &[(&str, bool, &[SourceType])] = &[
            ("url", s.url.is_some(), &[SourceType::Loki, SourceType::Elasticsearch]),
            ("selector", s.selector.is_some(), &[SourceType::Loki]),
            ("tenant", s.tenant.is_some(), &[SourceType::Loki]),
            ("parser", s.parser.is_some(), &[SourceType::Loki]),
            ("index", s.index.is_some(), &[SourceType::Elasticsearch]),
            ("time_field", s.time_field.is_some(), &[SourceType::Elasticsearch]),
            ("time_zone", s.time_zone.is_some(), &[SourceType::Elasticsearch]),
            ("files", !s.files.is_empty(), &[SourceType::Local]),
            ("format", s.format.is_some(), &[SourceType::Local, SourceType::CloudWatch]),
            ("groups", !s.groups.is_empty(), &[SourceType::CloudWatch]),
            ("stream_prefix", s.stream_prefix.is_some(), &[SourceType::CloudWatch]),
            ("region", s.region.is_some(), &[SourceType::CloudWatch]),
            ("profile", s.profile.is_some(), &[SourceType::CloudWatch]),
            ("endpoint", s.endpoint.is_some(), &[SourceType::CloudWatch]),
            ("no_insights", s.no_insights, &[SourceType::CloudWatch]),
        ];
        for (key, given, kinds) in misplaced {
            if *given && !kinds.contains(&s.kind) {
                let for_kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                self.error(&at(key), format!("'{key}' is for {} sources; this one is type = \"{kind}\"", for_kinds.join("/")));
            }
        }
        match s.kind {
            SourceType::Local => self.local(name, s),
            SourceType::Loki | SourceType::Elasticsearch => self.server(name, s),
            SourceType::CloudWatch => self.cloudwatch(name, s),
        }
    }

    fn cloudwatch(&mut self, name: &str, s: &SourceConfig) {
        if s.groups.iter().all(|g| g.trim().is_empty()) {
            self.error(&["sources", name], "missing 'groups' (a list of log group names) for a cloudwatch source");
        }
        if let Some(format) = &s.format
            && <crate::cli::args::LogFormatArg as clap::ValueEnum>::from_str(format, true).is_err()
        {
            self.error(
                &["sources", name, "format"],
                format!("unknown format '{format}': expected access, nginx, apache, json, logfmt, syslog or plain"),
            );
        }
        if let Some(url) = &s.endpoint
            && url::Url::parse(url).is_err()
        {
            self.error(&["sources", name, "endpoint"], format!("'{url}' is not a URL"));
        }
        // AWS credentials come from the AWS chain (environment, profiles, SSO, instance role).
        for (key, given) in [
            ("url", s.url.is_some()),
            ("user", s.user.is_some()),
            ("password", s.password.is_some() || s.password_env.is_some() || s.password_command.is_some()),
            ("token", s.token.is_some() || s.token_env.is_some() || s.token_command.is_some()),
            ("api_key", s.api_key.is_some() || s.api_key_env.is_some() || s.api_key_command.is_some()),
            ("headers", !s.headers.is_empty()),
            ("ca_file", s.ca_file.is_some()),
            ("insecure", s.insecure),
        ] {
            if given {
                self.error(&["sources", name, key], format!("'{key}' is not used by cloudwatch sources: credentials come from the AWS chain (environment, ~/.aws, SSO, instance role)"));
            }
        }
    }

    fn local(&mut self, name: &str, s: &SourceConfig) {
        if s.files.is_empty() {
            self.error(&["sources", name], "missing 'files' (a list of paths) for a local source");
        }
        for file in &s.files {
            let file = super::open::resolve_file(file, self.base_dir);
            // Logs come and go (rotation): a warning, the open itself fails if it is still missing.
            if file != Path::new("-") && !file.exists() {
                self.warn(&["sources", name, "files"], format!("no such file: {}", file.display()));
            }
        }
        if let Some(format) = &s.format
            && <crate::cli::args::LogFormatArg as clap::ValueEnum>::from_str(format, true).is_err()
        {
            self.error(
                &["sources", name, "format"],
                format!("unknown format '{format}': expected access, nginx, apache, json, logfmt, syslog or plain"),
            );
        }
        let server_keys = [
            ("headers", !s.headers.is_empty()),
            ("ca_file", s.ca_file.is_some()),
            ("insecure", s.insecure),
            ("user", s.user.is_some()),
            ("roles", !s.roles.is_empty()),
        ];
        for (key, given) in server_keys {
            if given {
                self.error(&["sources", name, key], format!("'{key}' is for server sources (loki, elasticsearch)"));
            }
        }
        if AuthPlan::of(s).is_ok_and(|p| p != AuthPlan::None) {
            self.error(&["sources", name], "credentials are for server sources (loki, elasticsearch)");
        }
    }

    fn server(&mut self, name: &str, s: &SourceConfig) {
        match &s.url {
            None => self.error(&["sources", name], format!("missing 'url' for a {} source", s.kind.name())),
            Some(url) => {
                if let Err(e) = HttpConfig::new(url) {
                    self.error(&["sources", name, "url"], format!("bad URL: {e}"));
                }
            }
        }
        if s.kind == SourceType::Elasticsearch && s.index.as_deref().is_none_or(|i| i.trim().is_empty()) {
            self.error(&["sources", name], "missing 'index' (e.g. index = \"logs-*\") for an elasticsearch source");
        }
        if let Some(sel) = &s.selector
            && !sel.trim().is_empty()
            && !crate::sources::loki::logql::has_stream_selector(sel)
        {
            self.error(&["sources", name, "selector"], format!("expected a stream selector such as {{job=\"nginx\"}}, found '{sel}'"));
        }
        if let Some(parser) = &s.parser
            && let Err(e) = parser.parse::<crate::sources::loki::logql::LogqlParser>()
        {
            self.error(&["sources", name, "parser"], e.to_string());
        }
        if let Some(tz) = &s.time_zone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            self.error(&["sources", name, "time_zone"], format!("unknown time zone '{tz}' (expected an IANA name such as Europe/Paris)"));
        }
        if s.kind == SourceType::Loki && !s.roles.is_empty() {
            self.warn(
                &["sources", name, "roles"],
                "roles are used by elasticsearch sources; Loki sources detect them from the parsed fields",
            );
        }
        for (header, value) in &s.headers {
            let path = ["sources", name, "headers", header.as_str()];
            if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
                self.error(&path, format!("'{header}' is not a valid HTTP header name"));
            } else if header.eq_ignore_ascii_case("authorization") {
                self.error(&path, "credentials do not go in headers: use user + password*, token* or api_key*");
            } else if reqwest::header::HeaderValue::from_str(value).is_err() {
                self.error(&path, "the value holds characters not allowed in an HTTP header");
            }
        }
        if let Some(ca) = &s.ca_file {
            let ca = super::open::resolve_file(ca, self.base_dir);
            if !ca.is_file() {
                self.error(&["sources", name, "ca_file"], format!("no such file: {}", ca.display()));
            }
        }
        if s.insecure {
            self.warn(&["sources", name, "insecure"], "TLS certificate verification is OFF for this source");
        }
        match AuthPlan::of(s) {
            Err(e) => self.error(&["sources", name], e),
            Ok(plan) => {
                if s.kind == SourceType::Loki && matches!(plan, AuthPlan::ApiKey(_)) {
                    self.error(&["sources", name], "api_key is for elasticsearch sources; Loki takes a token or user + password");
                }
                if let Some((key, source)) = plan.secret() {
                    let setting = match source {
                        SecretSource::Literal(_) => key.to_string(),
                        SecretSource::Env(_) => format!("{key}_env"),
                        SecretSource::Command(_) => format!("{key}_command"),
                    };
                    match source {
                        SecretSource::Command(c) if c.trim().is_empty() => self.error(&["sources", name, &setting], "the command is empty"),
                        SecretSource::Literal(s) if s.expose().is_empty() => self.error(&["sources", name, &setting], "the value is empty"),
                        _ => {}
                    }
                    if let Some(w) = source.warning() {
                        self.warn(&["sources", name, &setting], w);
                    }
                }
            }
        }
    }
}

fn known_names(config: &Config) -> String {
    if config.sources.is_empty() {
        "no sources are defined ([sources.NAME])".into()
    } else {
        format!("known sources: {}", config.sources.keys().cloned().collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<Diagnostic> {
        check_text(text).diagnostics
    }

    #[test]
    fn a_good_file_has_no_findings() {
        let text = r#"
default_source = "web"
theme = "light"
default_range = "6h"

[sources.web]
type = "loki"
url = "http://127.0.0.1:3100"
selector = '{job="nginx"}'
tenant = "acme"
parser = "nginx"
headers = { "X-Team" = "sre" }

[sources.app]
type = "elasticsearch"
url = "https://es.example:9200/prefix"
index = "logs-*"
time_field = "@timestamp"
api_key_command = "echo key"

[sources.app.roles]
status = "http.response.status_code"

[sources.files]
type = "local"
files = ["/dev/null"]
format = "nginx"

[keys]
quit = "ctrl-q"

[[saved_searches]]
name = "5xx"
query = "status >= 500"
range = "1h"
columns = ["status", "path"]
"#;
        let report = check_text(text);
        assert_eq!(report.diagnostics, vec![], "{:?}", report.diagnostics);
        let config = report.config.unwrap();
        assert_eq!(config.sources.len(), 3);
        assert_eq!(config.sources["app"].roles.status.as_deref(), Some("http.response.status_code"));
        assert_eq!(config.saved_searches[0].columns, vec!["status", "path"]);
    }

    #[test]
    fn cloudwatch_sources_take_groups_and_the_aws_chain() {
        let good =
            "[sources.checkout]\ntype = \"cloudwatch\"\ngroups = [\"/aws/lambda/checkout\"]\nregion = \"eu-west-1\"\nformat = \"json\"\n";
        let report = check_text(good);
        assert_eq!(report.diagnostics, vec![], "{:?}", report.diagnostics);
        let spec = super::super::open::entry_spec("checkout", &report.config.unwrap().sources["checkout"], None, true).unwrap();
        assert_eq!(spec.command_args().as_deref(), Some("--cloudwatch /aws/lambda/checkout --region eu-west-1 --format json"));
        let d = errors("[sources.c]\ntype = \"cloudwatch\"\n");
        assert!(d.iter().any(|d| d.message.contains("missing 'groups'")), "{d:?}");
        let d = errors("[sources.c]\ntype = \"cloudwatch\"\ngroups = [\"g\"]\ntoken_env = \"T\"\n");
        assert!(d.iter().any(|d| d.key == "sources.c.token" && d.message.contains("AWS chain")), "{d:?}");
        let d = errors("[sources.l]\ntype = \"loki\"\nurl = \"http://l\"\nregion = \"eu-west-1\"\n");
        assert!(d.iter().any(|d| d.key == "sources.l.region"), "{d:?}");
    }

    #[test]
    fn bad_toml_is_reported_with_line_column_and_key() {
        let d = &errors("[sources.web]\ntype = \"loki\"\nurl = \"http://x\nselector = 1\n")[0];
        assert_eq!(d.position.map(|p| p.0), Some(3), "{d:?}");
        assert!(d.key.starts_with("sources.web"), "{d:?}");
        let d = &errors("[sources.web]\ntype = \"loki\"\nurl = 3100\n")[0];
        assert_eq!(d.position, Some((3, 7)), "{d:?}");
        assert!(d.message.contains("invalid type") && d.message.contains("string"), "{d:?}");
        assert_eq!(d.key, "sources.web.url");
        let d = &errors("[sources.web]\ntype = \"loki\"\nurl = \"http://u:hunter2@x\"\npasword = \"hunter2\"\n")[0];
        assert_eq!(d.position.map(|p| p.0), Some(4), "{d:?}");
        assert!(d.snippet.as_deref().unwrap().contains("pasword = ***"), "a misspelt secret key is redacted too: {d:?}");
    }

    #[test]
    fn unknown_keys_and_types_are_errors_with_expected_values() {
        let d = &errors("[sources.web]\ntype = \"loki\"\nurl = \"http://x\"\npasword = \"x\"\n")[0];
        assert_eq!(d.position.map(|p| p.0), Some(4), "{d:?}");
        assert!(d.message.contains("unknown field `pasword`") && d.message.contains("password"), "{d:?}");
        let d = &errors("[sources.web]\ntype = \"graylog\"\n")[0];
        assert!(d.message.contains("graylog") && d.message.contains("loki"), "{d:?}");
        assert_eq!(d.position.map(|p| p.0), Some(2));
        let d = &errors("colour = \"dark\"\n")[0];
        assert!(d.message.contains("unknown field `colour`"), "{d:?}");
        let d = &errors("[sources.web]\nurl = \"http://x\"\n")[0];
        assert!(d.message.contains("missing field `type`"), "{d:?}");
    }

    #[test]
    fn semantic_errors_are_located_by_key() {
        let text = "default_source = \"nope\"\n\n[sources.es]\ntype = \"elasticsearch\"\nurl = \"ftp://es\"\n\n[sources.lk]\ntype = \"loki\"\nselector = \"nginx\"\napi_key_env = \"K\"\n";
        let ds = errors(text);
        let find = |key: &str| ds.iter().find(|d| d.key == key).unwrap_or_else(|| panic!("{key}: {ds:?}"));
        assert!(find("default_source").message.contains("known sources: es, lk"));
        assert_eq!(find("sources.es.url").position, Some((5, 1)));
        assert!(find("sources.es.url").message.contains("unsupported URL scheme"));
        assert!(ds.iter().any(|d| d.key == "sources.es" && d.message.contains("missing 'index'")));
        assert!(ds.iter().any(|d| d.key == "sources.lk" && d.message.contains("missing 'url'") && d.position == Some((7, 1))));
        assert!(find("sources.lk.selector").message.contains("stream selector"));
        assert!(ds.iter().any(|d| d.message.contains("api_key is for elasticsearch")));
        // the one warning: the (unset) variable K
        let warnings: Vec<&Diagnostic> = ds.iter().filter(|d| !d.is_error()).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].key, "sources.lk.api_key_env");
    }

    #[test]
    fn env_not_set_and_insecure_are_warnings() {
        let text = "[sources.lk]\ntype = \"loki\"\nurl = \"https://l\"\ninsecure = true\ntoken_env = \"LOGSLEUTH_TEST_SURELY_UNSET\"\n";
        let ds = errors(text);
        assert_eq!(ds.len(), 2, "{ds:?}");
        assert!(ds.iter().all(|d| d.severity == Severity::Warning));
        assert!(ds.iter().any(|d| d.key == "sources.lk.token_env" && d.message.contains("not set") && d.position == Some((5, 1))));
    }

    #[test]
    fn secrets_never_appear_in_diagnostics() {
        let text = "[sources.lk]\ntype = \"loki\"\nurl = \"http://u:hunter2@l\ntoken = \"x\"\n";
        let d = &errors(text)[0];
        let shown = d.render(Path::new("c.toml"));
        assert!(!shown.contains("hunter2"), "{shown}");
        let d = &errors("[sources.lk]\ntype = \"loki\"\nurl = \"http://l\"\ntoken = 20242025\n")[0];
        assert_eq!(d.message, "invalid type: integer `***`, expected a string");
        let text = "[sources.lk]\ntype = \"loki\"\nurl = \"h ttp://u:hunter2@l\"\ntoken = \"hunter2\"\n";
        for d in errors(text) {
            assert!(!d.render(Path::new("c.toml")).contains("hunter2"), "{d:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn literal_secrets_need_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[sources.lk]\ntype = \"loki\"\nurl = \"http://l\"\ntoken = \"t0ken\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let report = check_file(&path);
        let d = report.diagnostics.iter().find(|d| d.is_error()).expect("refused");
        assert!(d.message.contains("0644") && d.message.contains("chmod 600") && d.message.contains(&path.display().to_string()), "{d:?}");
        assert!(!d.message.contains("t0ken"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(!check_file(&path).has_errors());
        // Without literal secrets the mode does not matter.
        std::fs::write(&path, "[sources.lk]\ntype = \"loki\"\nurl = \"http://l\"\ntoken_env = \"PATH\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!check_file(&path).has_errors());
    }

    #[test]
    fn locate_handles_quoted_names_and_dotted_keys() {
        let text = "[sources.\"a.b\"]\ntype = \"loki\"\n  url = \"x\"\n[sources.\"a.b\".roles]\nstatus = \"s\"\n";
        assert_eq!(locate(text, &["sources", "a.b", "url"]), Some((3, 3)));
        assert_eq!(locate(text, &["sources", "a.b", "roles", "status"]), Some((5, 1)));
        assert_eq!(locate(text, &["sources", "a.b", "nothing"]), Some((1, 1)));
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        let text = "[[saved_searches]]\nname = \"a\"\n\n[[saved_searches]]\nname = \"b\"\nquery = \"x\"\n";
        assert_eq!(locate(text, &["saved_searches[1]", "query"]), Some((6, 1)));
        assert_eq!(locate(text, &["saved_searches[1]", "range"]), Some((4, 1)));
    }
}
