//! One description of a source. The command line's flags, a configuration entry and a
//! workspace file all become a [`SourceSpec`], and [`open`] is the one way to turn a spec into
//! a [`Source`]. A spec holds credentials only as the names of the environment variables that
//! carry them, or as an already resolved [`Auth`] that is never written anywhere.
//!
//! A named source ([`SourceSpec::Named`]) is resolved by whoever owns the configuration file
//! (the binary): the sources know nothing of it.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::http::{Auth, HttpConfig, Secret};
use crate::{FieldRoles, Source, SourceError, SourceResult};

/// How to open a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SpecFile", into = "SpecFile")]
pub enum SourceSpec {
    /// A named source of the configuration file, with the settings given beside the name
    /// (flags such as `--tenant`) replacing the entry's.
    Named {
        /// The `[sources.NAME]` key.
        name: String,
        /// Settings that replace the entry's.
        overrides: Box<Overrides>,
    },
    /// The bundled demo data (with its generator of live lines).
    Demo,
    /// Local files (`-` for stdin).
    Local(LocalSpec),
    /// Grafana Loki.
    Loki(LokiSpec),
    /// Elasticsearch, OpenSearch or an ES-compatible API.
    Elasticsearch(EsSpec),
    /// AWS CloudWatch Logs.
    CloudWatch(CloudWatchSpec),
}

/// AWS CloudWatch Logs: log groups, with credentials from the standard AWS chain (never in
/// the spec).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudWatchSpec {
    /// Log group names.
    pub groups: Vec<String>,
    /// Only streams whose names start with this.
    pub stream_prefix: Option<String>,
    /// AWS region (else the chain's).
    pub region: Option<String>,
    /// Shared-config profile (else the chain's).
    pub profile: Option<String>,
    /// Endpoint URL (VPC endpoint, an emulator); the region's when `None`.
    pub endpoint: Option<String>,
    /// A forced message format (`nginx`, `json`, …); detected when `None`.
    pub format: Option<String>,
    /// Never ask Logs Insights (billed per GB scanned): charts are counted from the events.
    pub no_insights: bool,
}

impl CloudWatchSpec {
    /// Where the groups live: region, profile, endpoint.
    pub fn endpoint(&self) -> crate::cloudwatch::Endpoint {
        crate::cloudwatch::Endpoint { region: self.region.clone(), profile: self.profile.clone(), endpoint: self.endpoint.clone() }
    }

    /// Other groups of the same account and endpoint (a group picked beside this pane).
    pub fn with_groups(&self, groups: Vec<String>) -> CloudWatchSpec {
        CloudWatchSpec { groups, stream_prefix: None, format: None, ..self.clone() }
    }
}

/// Local files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalSpec {
    /// The files; `-` is stdin.
    pub files: Vec<PathBuf>,
    /// A forced format name (`nginx`, `json`, …, see `LogFormat::from_name`); detected when
    /// `None`.
    pub format: Option<String>,
}

/// A Loki server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LokiSpec {
    /// Base URL (may carry a path prefix, and user info that becomes basic auth).
    pub url: String,
    /// Base stream selector, e.g. `{job="nginx"}`.
    pub selector: Option<String>,
    /// Tenant, sent as `X-Scope-OrgID`.
    pub tenant: Option<String>,
    /// Parser stage (`json`, `logfmt`, `nginx`, `apache`, `regexp:<RE>`); detected when `None`.
    pub parser: Option<String>,
    /// Credentials, headers and TLS.
    pub connection: Connection,
}

/// An Elasticsearch server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsSpec {
    /// Base URL (may carry a path prefix).
    pub url: String,
    /// Index pattern (`logs-*`).
    pub index: Option<String>,
    /// Time field; detected from `_field_caps` when `None`.
    pub time_field: Option<String>,
    /// Field roles set by the user; the rest are detected by name.
    pub roles: FieldRoles,
    /// Time zone of date histograms and KQL dates (IANA name); UTC when `None`.
    pub time_zone: Option<String>,
    /// Credentials, headers and TLS.
    pub connection: Connection,
}

/// How to reach a server: credentials, extra headers, TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// Credentials named by environment variable (these may be written to a workspace).
    pub credentials: Credentials,
    /// Credentials already resolved (a config file's literal, a `password_command`); they win
    /// over `credentials` and are never written anywhere.
    pub auth: Option<Auth>,
    /// Extra request headers (never written to a workspace: they may carry secrets).
    pub headers: Vec<(String, String)>,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (shown loudly; never the default).
    pub insecure: bool,
}

/// Credentials as the names of the environment variables holding them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Basic-auth user name.
    pub user: Option<String>,
    /// Variable holding the basic-auth password.
    pub password_env: Option<String>,
    /// Variable holding a bearer token.
    pub token_env: Option<String>,
    /// Variable holding an Elasticsearch API key.
    pub api_key_env: Option<String>,
}

impl Credentials {
    /// Whether any credential is named.
    pub fn is_set(&self) -> bool {
        self.user.is_some() || self.password_env.is_some() || self.token_env.is_some() || self.api_key_env.is_some()
    }
}

/// Settings that replace those of a source they are applied to ([`SourceSpec::apply`]): the
/// command line's flags beside `--source NAME`, or beside a URL. Unset fields change nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Local: forced format.
    pub format: Option<String>,
    /// Loki: stream selector.
    pub selector: Option<String>,
    /// Loki: tenant.
    pub tenant: Option<String>,
    /// Loki: parser stage.
    pub parser: Option<String>,
    /// Elasticsearch: index pattern.
    pub index: Option<String>,
    /// Elasticsearch: time field.
    pub time_field: Option<String>,
    /// Elasticsearch: roles, each set role replacing the same role.
    pub roles: FieldRoles,
    /// Credentials; when any is set they replace the source's credentials entirely.
    pub credentials: Credentials,
    /// Headers, each replacing the source's header of the same name.
    pub headers: Vec<(String, String)>,
    /// Extra CA file.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification.
    pub insecure: bool,
    /// CloudWatch: stream name prefix.
    pub stream_prefix: Option<String>,
    /// CloudWatch: AWS region.
    pub region: Option<String>,
    /// CloudWatch: AWS profile.
    pub profile: Option<String>,
    /// CloudWatch: endpoint URL.
    pub endpoint: Option<String>,
    /// CloudWatch: no Logs Insights.
    pub no_insights: bool,
}

impl Overrides {
    fn apply_connection(&self, c: &mut Connection) {
        if self.credentials.is_set() {
            c.credentials = self.credentials.clone();
            c.auth = None;
        }
        replace_headers(&mut c.headers, &self.headers);
        if self.ca_file.is_some() {
            c.ca_file = self.ca_file.clone();
        }
        c.insecure |= self.insecure;
    }
}

/// `headers` with each of `with` replacing the header of the same name (names are not case
/// sensitive), the rest kept in order.
fn replace_headers(headers: &mut Vec<(String, String)>, with: &[(String, String)]) {
    headers.retain(|(n, _)| !with.iter().any(|(o, _)| o.eq_ignore_ascii_case(n)));
    headers.extend(with.iter().cloned());
}

fn replace(slot: &mut Option<String>, with: &Option<String>) {
    if with.is_some() {
        slot.clone_from(with);
    }
}

/// No source yet: local files, none given (opening it says so).
impl Default for SourceSpec {
    fn default() -> Self {
        SourceSpec::Local(LocalSpec::default())
    }
}

impl SourceSpec {
    /// Files (or `-` for stdin) with the format detected.
    pub fn files(files: Vec<PathBuf>) -> SourceSpec {
        SourceSpec::Local(LocalSpec { files, format: None })
    }

    /// A named source of the configuration, as it is there.
    pub fn named(name: impl Into<String>) -> SourceSpec {
        SourceSpec::Named { name: name.into(), overrides: Box::default() }
    }

    /// A Loki server at `url`.
    pub fn loki(url: impl Into<String>, selector: Option<String>) -> SourceSpec {
        SourceSpec::Loki(LokiSpec { url: url.into(), selector, tenant: None, parser: None, connection: Connection::default() })
    }

    /// An Elasticsearch server at `url`.
    pub fn elasticsearch(url: impl Into<String>, index: Option<String>) -> SourceSpec {
        SourceSpec::Elasticsearch(EsSpec {
            url: url.into(),
            index,
            time_field: None,
            roles: FieldRoles::default(),
            time_zone: None,
            connection: Connection::default(),
        })
    }

    /// This spec with `overrides` replacing its settings (for a named source they are kept
    /// until the name is resolved).
    pub fn apply(mut self, o: &Overrides) -> SourceSpec {
        match &mut self {
            SourceSpec::Named { overrides, .. } => {
                let mut merged = (**overrides).clone();
                merged.merge(o);
                **overrides = merged;
            }
            SourceSpec::Demo => {}
            SourceSpec::Local(l) => replace(&mut l.format, &o.format),
            SourceSpec::Loki(l) => {
                replace(&mut l.selector, &o.selector);
                replace(&mut l.tenant, &o.tenant);
                replace(&mut l.parser, &o.parser);
                o.apply_connection(&mut l.connection);
            }
            SourceSpec::Elasticsearch(e) => {
                replace(&mut e.index, &o.index);
                replace(&mut e.time_field, &o.time_field);
                e.roles = std::mem::take(&mut e.roles).overridden_by(o.roles.clone());
                o.apply_connection(&mut e.connection);
            }
            SourceSpec::CloudWatch(c) => {
                replace(&mut c.format, &o.format);
                replace(&mut c.stream_prefix, &o.stream_prefix);
                replace(&mut c.region, &o.region);
                replace(&mut c.profile, &o.profile);
                replace(&mut c.endpoint, &o.endpoint);
                c.no_insights |= o.no_insights;
            }
        }
        self
    }

    /// CloudWatch Logs groups.
    pub fn cloudwatch(groups: Vec<String>) -> SourceSpec {
        SourceSpec::CloudWatch(CloudWatchSpec { groups, ..CloudWatchSpec::default() })
    }

    /// The configuration name of a named source.
    pub fn name(&self) -> Option<&str> {
        match self {
            SourceSpec::Named { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Whether the spec reads stdin, which cannot be opened a second time.
    pub fn reads_stdin(&self) -> bool {
        matches!(self, SourceSpec::Local(l) if l.files.iter().any(|f| f.as_os_str() == "-"))
    }

    /// Parses what a user types in the pane source picker: `loki URL [SELECTOR]`,
    /// `es URL [INDEX]`, or file paths separated by spaces.
    pub fn parse_typed(text: &str) -> Result<SourceSpec, String> {
        let text = text.trim();
        let mut words = text.splitn(3, char::is_whitespace);
        let first = words.next().unwrap_or("");
        let rest = |w: Option<&str>| w.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        match first {
            "loki" => {
                let url = words.next().ok_or("loki needs a URL: loki URL {selector}")?;
                Ok(SourceSpec::loki(url, rest(words.next())))
            }
            "es" | "elasticsearch" | "opensearch" => {
                let url = words.next().ok_or("es needs a URL: es URL [index]")?;
                Ok(SourceSpec::elasticsearch(url, rest(words.next())))
            }
            "cloudwatch" | "cw" => {
                let groups: Vec<String> = text[first.len()..].split_whitespace().map(str::to_string).collect();
                if groups.is_empty() {
                    return Err("cloudwatch needs a log group: cloudwatch GROUP [GROUP…]".into());
                }
                Ok(SourceSpec::cloudwatch(groups))
            }
            "" => Err("type a file path, loki URL {selector}, es URL [index] or cloudwatch GROUP".into()),
            _ => Ok(SourceSpec::files(text.split_whitespace().map(PathBuf::from).collect())),
        }
    }

    /// The source as `logsleuth query`/`top`/`histogram` take it on the command line, quoted
    /// for a POSIX shell: URLs without credentials (the variables that hold them are named
    /// with their flags), files absolute. `None` for the demo and stdin, which a command cannot
    /// name again.
    pub fn command_args(&self) -> Option<String> {
        let q = crate::watch::shell_quote;
        let mut parts: Vec<String> = Vec::new();
        let creds = |parts: &mut Vec<String>, c: &Credentials| {
            if let Some(u) = &c.user {
                parts.push(format!("--user {}", q(u)));
            }
            if let Some(v) = &c.password_env {
                parts.push(format!("--password-env {}", q(v)));
            }
            if let Some(v) = &c.token_env {
                parts.push(format!("--token-env {}", q(v)));
            }
        };
        match self {
            SourceSpec::Demo => return None,
            SourceSpec::Named { name, overrides } => {
                parts.push(format!("--source {}", q(name)));
                if let Some(s) = &overrides.selector {
                    parts.push(format!("--selector {}", q(s)));
                }
                if let Some(i) = &overrides.index {
                    parts.push(format!("--index {}", q(i)));
                }
            }
            SourceSpec::Local(l) => {
                if l.files.is_empty() || l.files.iter().any(|f| f.as_os_str() == "-") {
                    return None;
                }
                for f in &l.files {
                    let f = std::path::absolute(f).unwrap_or_else(|_| f.clone());
                    parts.push(q(&f.to_string_lossy()));
                }
                if let Some(f) = &l.format {
                    parts.push(format!("--format {}", q(f)));
                }
            }
            SourceSpec::Loki(l) => {
                parts.push(format!("--loki {}", q(&strip_userinfo(&l.url))));
                if let Some(s) = &l.selector {
                    parts.push(format!("--selector {}", q(s)));
                }
                if let Some(p) = &l.parser {
                    parts.push(format!("--parser {}", q(p)));
                }
                if let Some(t) = &l.tenant {
                    parts.push(format!("--tenant {}", q(t)));
                }
                creds(&mut parts, &l.connection.credentials);
            }
            SourceSpec::Elasticsearch(e) => {
                parts.push(format!("--es {}", q(&strip_userinfo(&e.url))));
                if let Some(i) = &e.index {
                    parts.push(format!("--index {}", q(i)));
                }
                creds(&mut parts, &e.connection.credentials);
                if let Some(v) = &e.connection.credentials.api_key_env {
                    parts.push(format!("--api-key-env {}", q(v)));
                }
            }
            SourceSpec::CloudWatch(c) => {
                for g in &c.groups {
                    parts.push(format!("--cloudwatch {}", q(g)));
                }
                for (flag, value) in [
                    ("--stream-prefix", &c.stream_prefix),
                    ("--region", &c.region),
                    ("--profile", &c.profile),
                    ("--endpoint", &c.endpoint),
                    ("--format", &c.format),
                ] {
                    if let Some(v) = value {
                        parts.push(format!("{flag} {}", q(v)));
                    }
                }
                if c.no_insights {
                    parts.push("--no-insights".into());
                }
            }
        }
        Some(parts.join(" "))
    }

    /// A short description for titles and reports (never credentials).
    pub fn label(&self) -> String {
        match self {
            SourceSpec::Named { name, .. } => name.clone(),
            SourceSpec::Demo => "demo".into(),
            SourceSpec::Loki(l) => {
                format!("loki {} {}", strip_userinfo(&l.url), l.selector.as_deref().unwrap_or("")).trim_end().to_string()
            }
            SourceSpec::Elasticsearch(e) => {
                format!("es {} {}", strip_userinfo(&e.url), e.index.as_deref().unwrap_or("")).trim_end().to_string()
            }
            SourceSpec::Local(l) => l.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" "),
            SourceSpec::CloudWatch(c) => format!("cloudwatch {}", c.groups.join(" ")),
        }
    }
}

impl Overrides {
    /// `later` on top of these (each set field of `later` wins).
    pub fn merge(&mut self, later: &Overrides) {
        replace(&mut self.format, &later.format);
        replace(&mut self.selector, &later.selector);
        replace(&mut self.tenant, &later.tenant);
        replace(&mut self.parser, &later.parser);
        replace(&mut self.index, &later.index);
        replace(&mut self.time_field, &later.time_field);
        self.roles = std::mem::take(&mut self.roles).overridden_by(later.roles.clone());
        if later.credentials.is_set() {
            self.credentials = later.credentials.clone();
        }
        replace_headers(&mut self.headers, &later.headers);
        if later.ca_file.is_some() {
            self.ca_file.clone_from(&later.ca_file);
        }
        self.insecure |= later.insecure;
        replace(&mut self.stream_prefix, &later.stream_prefix);
        replace(&mut self.region, &later.region);
        replace(&mut self.profile, &later.profile);
        replace(&mut self.endpoint, &later.endpoint);
        self.no_insights |= later.no_insights;
    }
}

/// The tenant header Loki reads in multi-tenant mode.
pub const TENANT_HEADER: &str = "X-Scope-OrgID";

/// Opens the source a spec describes. A named source cannot be opened here (the configuration
/// resolves it first); invalid settings are [`SourceError::Query`] errors (exit status 2 on
/// the command line), unreachable servers are found later, on the first request.
pub fn open(spec: &SourceSpec) -> SourceResult<Arc<dyn Source>> {
    match spec {
        SourceSpec::Named { name, .. } => {
            Err(SourceError::Query(format!("the source '{name}' is named in the configuration file, which is not loaded here")))
        }
        SourceSpec::Demo => Ok(Arc::new(crate::local::LocalSource::demo(true))),
        SourceSpec::Local(l) => {
            let format = match &l.format {
                Some(name) => Some(
                    logsleuth_formats::LogFormat::from_name(name)
                        .ok_or_else(|| SourceError::Query(format!("unknown log format '{name}'")))?,
                ),
                None => None,
            };
            if l.files.is_empty() {
                return Err(SourceError::Query("no files given".into()));
            }
            let options = crate::local::LocalOptions { format, now: None };
            Ok(Arc::new(crate::local::LocalSource::open(&l.files, options)?))
        }
        SourceSpec::Loki(l) => {
            let config = loki_config(l)?;
            warn_insecure(config.http.insecure);
            Ok(Arc::new(crate::loki::LokiSource::new(config)?))
        }
        SourceSpec::Elasticsearch(e) => {
            let config = es_config(e)?;
            warn_insecure(config.http.insecure);
            Ok(Arc::new(crate::elasticsearch::EsSource::new(config)?))
        }
        SourceSpec::CloudWatch(c) => Ok(Arc::new(crate::cloudwatch::CloudWatchSource::new(cloudwatch_config(c)?)?)),
    }
}

/// The CloudWatch configuration a spec describes (no request is sent).
pub fn cloudwatch_config(spec: &CloudWatchSpec) -> SourceResult<crate::cloudwatch::CloudWatchConfig> {
    let groups: Vec<String> = spec.groups.iter().map(|g| g.trim().to_string()).filter(|g| !g.is_empty()).collect();
    if groups.is_empty() {
        return Err(invalid("--cloudwatch needs a log group name (list them with `logsleuth cloudwatch groups`)"));
    }
    let format = match &spec.format {
        Some(name) => {
            Some(logsleuth_formats::LogFormat::from_name(name).ok_or_else(|| SourceError::Query(format!("unknown log format '{name}'")))?)
        }
        None => None,
    };
    if let Some(url) = &spec.endpoint {
        let parsed = url::Url::parse(url).map_err(|e| invalid(format!("--endpoint '{url}' is not a URL: {e}")))?;
        if parsed.password().is_some() || !parsed.username().is_empty() {
            return Err(invalid("--endpoint must not carry credentials: AWS credentials come from the AWS chain"));
        }
    }
    Ok(crate::cloudwatch::CloudWatchConfig {
        groups,
        stream_prefix: spec.stream_prefix.clone().filter(|p| !p.is_empty()),
        endpoint: spec.endpoint(),
        format,
        no_insights: spec.no_insights,
    })
}

fn warn_insecure(insecure: bool) {
    if insecure {
        eprintln!("logsleuth: WARNING: TLS certificate verification is OFF (--insecure)");
    }
}

fn invalid(message: impl Into<String>) -> SourceError {
    SourceError::Query(message.into())
}

/// The HTTP settings of a connection: the URL's user info, then named or resolved credentials.
/// `api_key` says whether the backend takes API keys (Elasticsearch) or not (Loki).
fn http_config(url: &str, c: &Connection, api_key: bool) -> SourceResult<HttpConfig> {
    let mut http = HttpConfig::new(url)?;
    for (name, _) in &c.headers {
        if name.eq_ignore_ascii_case("authorization") {
            return Err(invalid(if api_key {
                "do not pass credentials with --header; use --token-env, --api-key-env or --user/--password-env"
            } else {
                "do not pass credentials with --header; use --token-env or --user/--password-env"
            }));
        }
    }
    http.headers.extend(c.headers.iter().cloned());
    http.ca_file.clone_from(&c.ca_file);
    http.insecure = c.insecure;
    if let Some(auth) = &c.auth {
        http.auth = auth.clone();
        return Ok(http);
    }
    let k = &c.credentials;
    let env = |var: &str| Secret::from_env(var).map_err(invalid);
    if k.api_key_env.is_some() && !api_key {
        return Err(invalid("--api-key-env is for Elasticsearch; use --token-env or --user/--password-env with Loki"));
    }
    let basic = k.user.is_some() || k.password_env.is_some();
    let chosen = [basic, k.token_env.is_some(), k.api_key_env.is_some()].iter().filter(|c| **c).count();
    if chosen > 1 {
        return Err(invalid(if api_key {
            "use only one of --user/--password-env, --token-env and --api-key-env"
        } else {
            "give either --token-env or --user/--password-env, not both"
        }));
    }
    if let Some(var) = &k.token_env {
        http.auth = Auth::Bearer(env(var)?);
    } else if let Some(var) = &k.api_key_env {
        http.auth = Auth::ApiKey(env(var)?);
    } else if let Some(var) = &k.password_env {
        // The user may come from the URL's user info.
        let user = match (&k.user, &http.auth) {
            (Some(u), _) => u.clone(),
            (None, Auth::Basic { user, .. }) => user.clone(),
            (None, _) => return Err(invalid("--password-env needs --user NAME")),
        };
        http.auth = Auth::Basic { user, password: env(var)? };
    } else if let Some(user) = &k.user {
        // A password may come from the URL's user info; never from the command line.
        match &http.auth {
            Auth::Basic { password, .. } => http.auth = Auth::Basic { user: user.clone(), password: password.clone() },
            _ => {
                return Err(invalid(format!("--user {user} needs --password-env VAR (passwords are never taken on the command line)")));
            }
        }
    }
    Ok(http)
}

/// The Loki configuration a spec describes (no request is sent).
pub fn loki_config(spec: &LokiSpec) -> SourceResult<crate::loki::LokiConfig> {
    let mut http = http_config(&spec.url, &spec.connection, false)?;
    if let Some(tenant) = spec.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        http.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(TENANT_HEADER));
        http.headers.push((TENANT_HEADER.to_string(), tenant.to_string()));
    }
    let parser = match spec.parser.as_deref() {
        Some(p) => Some(p.parse::<crate::loki::logql::LogqlParser>().map_err(|e| invalid(e.message))?),
        None => None,
    };
    let selector = spec.selector.clone().unwrap_or_default();
    if !selector.trim().is_empty() && !crate::loki::logql::has_stream_selector(&selector) {
        return Err(invalid(format!(
            "--selector must be a stream selector such as '{{job=\"nginx\"}}', got '{}'",
            logsleuth_core::text::sanitize(&selector)
        )));
    }
    Ok(crate::loki::LokiConfig { http, selector, parser, tenant: spec.tenant.clone(), backoff: Default::default() })
}

/// The Elasticsearch configuration a spec describes (no request is sent).
pub fn es_config(spec: &EsSpec) -> SourceResult<crate::elasticsearch::EsConfig> {
    let index = spec
        .index
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid("--es needs --index PATTERN (e.g. --index 'logs-*')"))?;
    let http = http_config(&spec.url, &spec.connection, true)?;
    let mut config = crate::elasticsearch::EsConfig::new(http, index);
    config.time_field.clone_from(&spec.time_field);
    config.roles = spec.roles.clone();
    config.time_zone.clone_from(&spec.time_zone);
    Ok(config)
}

/// Parses `ROLE=FIELD` settings (`--role`, a workspace's `roles`) into field roles.
pub fn parse_roles(settings: &[String]) -> Result<FieldRoles, String> {
    let mut roles = FieldRoles::default();
    for setting in settings {
        let (role, field) = setting
            .split_once('=')
            .map(|(r, f)| (r.trim(), f.trim()))
            .filter(|(_, f)| !f.is_empty())
            .ok_or_else(|| format!("--role '{setting}' must be ROLE=FIELD, e.g. status=http.response.status_code"))?;
        let slot = match role {
            "status" => &mut roles.status,
            "client_ip" => &mut roles.client_ip,
            "user_agent" => &mut roles.user_agent,
            "level" => &mut roles.level,
            "method" => &mut roles.method,
            "path" => &mut roles.path,
            other => {
                return Err(format!("unknown role '{other}' in --role: use status, client_ip, user_agent, level, method or path"));
            }
        };
        *slot = Some(field.to_string());
    }
    Ok(roles)
}

/// The roles as `ROLE=FIELD` settings (the inverse of [`parse_roles`]).
pub fn role_settings(roles: &FieldRoles) -> Vec<String> {
    [
        ("status", &roles.status),
        ("client_ip", &roles.client_ip),
        ("user_agent", &roles.user_agent),
        ("level", &roles.level),
        ("method", &roles.method),
        ("path", &roles.path),
    ]
    .into_iter()
    .filter_map(|(role, field)| field.as_ref().map(|f| format!("{role}={f}")))
    .collect()
}

/// The URL without `user:password@`: a workspace never stores credentials (a source that
/// needs them is opened by its configuration name).
pub fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => crate::http::redact_url_text(url),
    }
}

/// A spec as a workspace file stores it: the flat keys the command line's flags have
/// (`files`, `loki` + `selector`, `es` + `index`, `source`, `demo`, …), so workspace files
/// written before the spec was one type still load. Headers and resolved credentials are
/// never part of it; URLs lose their user info.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    demo: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    files: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loki: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    es: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    insecure: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cloudwatch: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    no_insights: bool,
}

impl SpecFile {
    fn connection(&self) -> Connection {
        Connection {
            credentials: Credentials {
                user: self.user.clone(),
                password_env: self.password_env.clone(),
                token_env: self.token_env.clone(),
                api_key_env: self.api_key_env.clone(),
            },
            auth: None,
            headers: Vec::new(),
            ca_file: self.ca_file.clone(),
            insecure: self.insecure,
        }
    }

    fn set_connection(&mut self, c: &Connection) {
        self.user.clone_from(&c.credentials.user);
        self.password_env.clone_from(&c.credentials.password_env);
        self.token_env.clone_from(&c.credentials.token_env);
        self.api_key_env.clone_from(&c.credentials.api_key_env);
        self.ca_file.clone_from(&c.ca_file);
        self.insecure = c.insecure;
    }
}

impl TryFrom<SpecFile> for SourceSpec {
    type Error = String;

    fn try_from(f: SpecFile) -> Result<SourceSpec, String> {
        let kinds = [f.source.is_some(), f.demo, !f.files.is_empty(), f.loki.is_some(), f.es.is_some(), !f.cloudwatch.is_empty()];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err("a source is one of source, demo, files, loki, es or cloudwatch".into());
        }
        let roles = parse_roles(&f.roles)?;
        let connection = f.connection();
        Ok(if let Some(name) = f.source.clone() {
            let overrides = Overrides {
                format: f.format,
                selector: f.selector,
                tenant: f.tenant,
                parser: f.parser,
                index: f.index,
                time_field: f.time_field,
                roles,
                credentials: connection.credentials,
                headers: Vec::new(),
                ca_file: connection.ca_file,
                insecure: connection.insecure,
                stream_prefix: f.stream_prefix,
                region: f.region,
                profile: f.profile,
                endpoint: f.endpoint,
                no_insights: f.no_insights,
            };
            SourceSpec::Named { name, overrides: Box::new(overrides) }
        } else if f.demo {
            SourceSpec::Demo
        } else if let Some(url) = f.loki {
            SourceSpec::Loki(LokiSpec { url, selector: f.selector, tenant: f.tenant, parser: f.parser, connection })
        } else if let Some(url) = f.es {
            SourceSpec::Elasticsearch(EsSpec { url, index: f.index, time_field: f.time_field, roles, time_zone: f.time_zone, connection })
        } else if !f.cloudwatch.is_empty() {
            SourceSpec::CloudWatch(CloudWatchSpec {
                groups: f.cloudwatch,
                stream_prefix: f.stream_prefix,
                region: f.region,
                profile: f.profile,
                endpoint: f.endpoint,
                format: f.format,
                no_insights: f.no_insights,
            })
        } else if !f.files.is_empty() {
            SourceSpec::Local(LocalSpec { files: f.files, format: f.format })
        } else {
            return Err("a source needs one of source, demo, files, loki, es or cloudwatch".into());
        })
    }
}

impl From<SourceSpec> for SpecFile {
    fn from(spec: SourceSpec) -> SpecFile {
        let mut f = SpecFile::default();
        match spec {
            SourceSpec::Named { name, overrides } => {
                let o = *overrides;
                f.source = Some(name);
                f.format = o.format;
                f.selector = o.selector;
                f.tenant = o.tenant;
                f.parser = o.parser;
                f.index = o.index;
                f.time_field = o.time_field;
                f.roles = role_settings(&o.roles);
                f.set_connection(&Connection {
                    credentials: o.credentials,
                    ca_file: o.ca_file,
                    insecure: o.insecure,
                    ..Connection::default()
                });
                f.stream_prefix = o.stream_prefix;
                f.region = o.region;
                f.profile = o.profile;
                f.endpoint = o.endpoint;
                f.no_insights = o.no_insights;
            }
            SourceSpec::Demo => f.demo = true,
            SourceSpec::Local(l) => {
                f.files = l.files;
                f.format = l.format;
            }
            SourceSpec::Loki(l) => {
                f.loki = Some(strip_userinfo(&l.url));
                f.selector = l.selector;
                f.tenant = l.tenant;
                f.parser = l.parser;
                f.set_connection(&l.connection);
            }
            SourceSpec::Elasticsearch(e) => {
                f.es = Some(strip_userinfo(&e.url));
                f.index = e.index;
                f.time_field = e.time_field;
                f.time_zone = e.time_zone;
                f.roles = role_settings(&e.roles);
                f.set_connection(&e.connection);
            }
            SourceSpec::CloudWatch(c) => {
                f.cloudwatch = c.groups;
                f.stream_prefix = c.stream_prefix;
                f.region = c.region;
                f.profile = c.profile;
                f.endpoint = c.endpoint;
                f.format = c.format;
                f.no_insights = c.no_insights;
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loki(spec: &SourceSpec) -> &LokiSpec {
        match spec {
            SourceSpec::Loki(l) => l,
            other => panic!("not Loki: {other:?}"),
        }
    }

    #[test]
    fn typed_sources_parse_like_the_flags() {
        let s = SourceSpec::parse_typed("loki http://localhost:3100 {job=\"nginx\", env=\"prod\"}").unwrap();
        assert_eq!(loki(&s).url, "http://localhost:3100");
        assert_eq!(loki(&s).selector.as_deref(), Some("{job=\"nginx\", env=\"prod\"}"));
        let s = SourceSpec::parse_typed("es https://es:9200 logs-*").unwrap();
        assert!(matches!(&s, SourceSpec::Elasticsearch(e) if e.url == "https://es:9200" && e.index.as_deref() == Some("logs-*")));
        let s = SourceSpec::parse_typed("/var/log/nginx/access.log /var/log/nginx/error.log").unwrap();
        assert!(matches!(&s, SourceSpec::Local(l) if l.files.len() == 2));
        assert!(SourceSpec::parse_typed("  ").is_err());
        assert!(SourceSpec::parse_typed("loki").is_err());
    }

    #[test]
    fn overrides_replace_settings_and_headers_by_name() {
        let mut base = SourceSpec::loki("http://l", Some("{job=\"a\"}".into()));
        if let SourceSpec::Loki(l) = &mut base {
            l.tenant = Some("t1".into());
            l.connection.headers = vec![("X-A".into(), "1".into()), ("X-B".into(), "2".into())];
            l.connection.auth = Some(Auth::Bearer(Secret::new("from-config")));
        }
        let flags = Overrides { tenant: Some("t2".into()), headers: vec![("x-b".into(), "3".into())], ..Overrides::default() };
        let merged = base.clone().apply(&flags);
        let l = loki(&merged);
        assert_eq!(l.selector.as_deref(), Some("{job=\"a\"}"));
        assert_eq!(l.tenant.as_deref(), Some("t2"));
        assert_eq!(l.connection.headers, vec![("X-A".to_string(), "1".to_string()), ("x-b".to_string(), "3".to_string())]);
        assert!(l.connection.auth.is_some(), "no credential flags: the entry's stay");
        let creds = Overrides { credentials: Credentials { token_env: Some("T".into()), ..Default::default() }, ..Overrides::default() };
        let l = base.apply(&creds);
        assert_eq!(loki(&l).connection.auth, None, "credential flags replace the entry's entirely");
    }

    #[test]
    fn workspace_form_round_trips_and_loads_the_old_keys() {
        let old = "loki = \"http://alice:pw@loki:3100\"\nselector = '{job=\"nginx\"}'\ntenant = \"team-a\"\n";
        let spec: SourceSpec = toml::from_str(old).unwrap();
        let l = loki(&spec);
        assert_eq!((l.selector.as_deref(), l.tenant.as_deref()), (Some("{job=\"nginx\"}"), Some("team-a")));
        let text = toml::to_string(&spec).unwrap();
        assert!(!text.contains("pw") && !text.contains("alice"), "{text}");
        let named: SourceSpec = toml::from_str("source = \"prod\"\ntenant = \"x\"\n").unwrap();
        assert!(matches!(&named, SourceSpec::Named { name, overrides } if name == "prod" && overrides.tenant.as_deref() == Some("x")));
        assert_eq!(toml::from_str::<SourceSpec>(&toml::to_string(&named).unwrap()).unwrap(), named);
        let es: SourceSpec = toml::from_str("es = \"https://es:9200\"\nindex = \"web\"\nroles = [\"status=response\"]\n").unwrap();
        assert!(matches!(&es, SourceSpec::Elasticsearch(e) if e.roles.status.as_deref() == Some("response")));
        assert_eq!(toml::from_str::<SourceSpec>(&toml::to_string(&es).unwrap()).unwrap(), es);
        assert_eq!(toml::from_str::<SourceSpec>("demo = true\n").unwrap(), SourceSpec::Demo);
        assert!(toml::from_str::<SourceSpec>("loki = \"http://l\"\nes = \"http://e\"\n").is_err());
        assert!(toml::from_str::<SourceSpec>("").is_err());
        let cw: SourceSpec =
            toml::from_str("cloudwatch = [\"/aws/app\", \"web\"]\nregion = \"eu-west-1\"\nstream_prefix = \"i-\"\n").unwrap();
        assert!(matches!(&cw, SourceSpec::CloudWatch(c) if c.groups.len() == 2 && c.region.as_deref() == Some("eu-west-1")));
        assert_eq!(toml::from_str::<SourceSpec>(&toml::to_string(&cw).unwrap()).unwrap(), cw);
        assert_eq!(cw.command_args().as_deref(), Some("--cloudwatch /aws/app --cloudwatch web --stream-prefix i- --region eu-west-1"));
        assert!(toml::from_str::<SourceSpec>("cloudwatch = [\"a\"]\nes = \"http://e\"\n").is_err());
        let typed = SourceSpec::parse_typed("cloudwatch /aws/lambda/checkout web").unwrap();
        assert_eq!(typed, SourceSpec::cloudwatch(vec!["/aws/lambda/checkout".into(), "web".into()]));
        assert!(SourceSpec::parse_typed("cw").is_err());
    }

    #[test]
    fn credentials_come_only_from_the_environment_or_resolved_auth() {
        let mut spec =
            LokiSpec { url: "http://127.0.0.1:3100".into(), selector: None, tenant: None, parser: None, connection: Connection::default() };
        spec.connection.credentials.user = Some("bob".into());
        assert!(loki_config(&spec).is_err(), "a user alone has no password");
        spec.connection.credentials.password_env = Some("LOGSLEUTH_TEST_UNSET_VAR_SPEC".into());
        assert!(loki_config(&spec).unwrap_err().to_string().contains("not set"));
        spec.connection.credentials = Credentials::default();
        spec.connection.headers = vec![("Authorization".into(), "Bearer x".into())];
        assert!(loki_config(&spec).is_err());
        spec.connection.headers.clear();
        spec.url = "http://alice:pw@127.0.0.1:3100".into();
        let c = loki_config(&spec).unwrap();
        assert!(matches!(c.http.auth, Auth::Basic { ref user, .. } if user == "alice"));
        assert!(!format!("{c:?}").contains("pw@"));
        spec.parser = Some("json".into());
        spec.tenant = Some("team-a".into());
        let c = loki_config(&spec).unwrap();
        assert!(c.http.headers.contains(&(TENANT_HEADER.into(), "team-a".into())));
        spec.selector = Some("job=nginx".into());
        assert!(matches!(loki_config(&spec), Err(SourceError::Query(_))));
    }

    #[test]
    fn roles_parse_and_print_back() {
        let roles = parse_roles(&["status=response".into(), "client_ip = clientip".into()]).unwrap();
        assert_eq!(roles.status.as_deref(), Some("response"));
        assert_eq!(roles.client_ip.as_deref(), Some("clientip"));
        assert_eq!(role_settings(&roles), vec!["status=response".to_string(), "client_ip=clientip".to_string()]);
        for bad in ["status", "status=", "colour=red"] {
            assert!(parse_roles(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
