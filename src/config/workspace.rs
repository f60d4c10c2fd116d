//! Workspace files (`--workspace NAME`): the tabs and their pane layouts, and for each pane its
//! source, query, columns and time range, so a team can share "the checkout incident view".
//!
//! A workspace names sources the way the command line does (files, `loki`+`selector`, `es`+
//! `index`, or a configuration `source` name) and never holds credentials: a source that needs
//! them is referred to by its configuration name, or by the environment variables its flags
//! name (`password_env`, …), as on the command line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::args::{AuthArgs, LogFormatArg, SourceArgs};

/// How to open a pane's source: the non-secret part of the command line's source flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A named source of the configuration file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The bundled demo data (with its generator of live lines).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// Log files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PathBuf>,
    /// Forced log format (`nginx`, `json`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Loki base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loki: Option<String>,
    /// Loki stream selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Loki tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Loki parser stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parser: Option<String>,
    /// Elasticsearch base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
    /// Elasticsearch index pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Elasticsearch time field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_field: Option<String>,
    /// Field roles, `ROLE=FIELD`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Basic-auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Environment variable holding the bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Environment variable holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Skip TLS verification (as `--insecure`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

impl SourceSpec {
    /// The spec of the source the command line's flags open, or `None` for stdin (which cannot
    /// be opened again). Extra headers are left out: they may carry credentials.
    pub fn from_args(args: &SourceArgs) -> Option<SourceSpec> {
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
            format: args.format.map(|f| format_name(f).to_string()),
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

    /// The bundled demo.
    pub fn demo() -> SourceSpec {
        SourceSpec { demo: true, ..SourceSpec::default() }
    }

    /// The command line flags this spec stands for (`config` is the `--config` in effect).
    pub fn to_args(&self, config: Option<PathBuf>) -> Result<SourceArgs, String> {
        let format = match &self.format {
            Some(name) => Some(
                <LogFormatArg as clap::ValueEnum>::from_str(name, true).map_err(|_| format!("unknown log format '{name}'"))?,
            ),
            None => None,
        };
        Ok(SourceArgs {
            files: self.files.clone(),
            format,
            loki: self.loki.clone(),
            selector: self.selector.clone(),
            tenant: self.tenant.clone(),
            parser: self.parser.clone(),
            es: self.es.clone(),
            index: self.index.clone(),
            time_field: self.time_field.clone(),
            roles: self.roles.clone(),
            source: self.source.clone(),
            config,
            auth: AuthArgs {
                user: self.user.clone(),
                password_env: self.password_env.clone(),
                token_env: self.token_env.clone(),
                api_key_env: self.api_key_env.clone(),
                headers: Vec::new(),
                ca_file: self.ca_file.clone(),
                insecure: self.insecure,
            },
        })
    }

    /// Parses what a user types in the pane source picker: `loki URL [SELECTOR]`,
    /// `es URL [INDEX]`, or file paths separated by spaces.
    pub fn parse_typed(text: &str) -> Result<SourceSpec, String> {
        let text = text.trim();
        let mut words = text.splitn(3, char::is_whitespace);
        let first = words.next().unwrap_or("");
        match first {
            "loki" => {
                let url = words.next().ok_or("loki needs a URL: loki URL {selector}")?;
                let selector = words.next().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                Ok(SourceSpec { loki: Some(url.to_string()), selector, ..SourceSpec::default() })
            }
            "es" | "elasticsearch" | "opensearch" => {
                let url = words.next().ok_or("es needs a URL: es URL [index]")?;
                let index = words.next().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                Ok(SourceSpec { es: Some(url.to_string()), index, ..SourceSpec::default() })
            }
            "" => Err("type a file path, loki URL {selector} or es URL [index]".into()),
            _ => Ok(SourceSpec { files: text.split_whitespace().map(PathBuf::from).collect(), ..SourceSpec::default() }),
        }
    }

    /// A short description for titles and reports (never credentials).
    pub fn label(&self) -> String {
        if let Some(name) = &self.source {
            return name.clone();
        }
        if self.demo {
            return "demo".into();
        }
        if let Some(url) = &self.loki {
            return format!("loki {} {}", strip_userinfo(url), self.selector.as_deref().unwrap_or(""))
                .trim_end()
                .to_string();
        }
        if let Some(url) = &self.es {
            return format!("es {} {}", strip_userinfo(url), self.index.as_deref().unwrap_or("")).trim_end().to_string();
        }
        self.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" ")
    }
}

/// The URL without `user:password@`: a workspace never stores credentials (a source that
/// needs them is opened by its configuration name).
fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => crate::sources::http::redact_url_text(url),
    }
}

fn format_name(format: LogFormatArg) -> String {
    use clap::ValueEnum;
    format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

/// A pane's time range in a workspace: `{ last = "1h" }`, `{ from = "…", to = "…" }` (RFC 3339
/// or date math), or nothing for the source's whole span.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeSpecFile {
    /// A duration ending now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Fixed start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Fixed end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A pane of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaneFile {
    /// Its source.
    pub source: SourceSpec,
    /// The query text.
    #[serde(default)]
    pub query: String,
    /// `kql` (default) or `native` (LogQL, ES DSL/Lucene, regex).
    #[serde(default, skip_serializing_if = "is_kql")]
    pub language: String,
    /// Table columns after the time; the source's defaults when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The time range; the source's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeSpecFile>,
    /// Follows the shared time range of the linked panes.
    #[serde(default = "yes")]
    pub linked: bool,
}

fn is_kql(language: &str) -> bool {
    language.is_empty() || language.eq_ignore_ascii_case("kql")
}

fn yes() -> bool {
    true
}

/// A tab of a workspace: its layout, whose leaves are indices into [`WorkspaceFile::panes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabFile {
    /// The focused pane (an index into `panes`).
    #[serde(default)]
    pub focus: usize,
    /// The layout.
    pub layout: crate::ui::tiles::Tile,
}

/// A workspace file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceFile {
    /// The shown tab.
    #[serde(default)]
    pub tab: usize,
    /// The panes of every tab.
    pub panes: Vec<PaneFile>,
    /// The tabs.
    pub tabs: Vec<TabFile>,
}

impl WorkspaceFile {
    /// Checks that the layouts name existing panes, each exactly once, and that there is
    /// something to show.
    pub fn validate(&self) -> Result<(), String> {
        if self.panes.is_empty() || self.tabs.is_empty() {
            return Err("a workspace needs at least one pane and one tab".into());
        }
        let mut seen = vec![false; self.panes.len()];
        for (t, tab) in self.tabs.iter().enumerate() {
            let panes = tab.layout.panes();
            for p in &panes {
                let Some(slot) = seen.get_mut(*p) else {
                    return Err(format!("tabs[{t}] names pane {p}, but there are only {} panes", self.panes.len()));
                };
                if *slot {
                    return Err(format!("pane {p} appears more than once in the layouts"));
                }
                *slot = true;
            }
            if !panes.contains(&tab.focus) {
                return Err(format!("tabs[{t}].focus = {} is not a pane of that tab", tab.focus));
            }
        }
        if let Some(p) = seen.iter().position(|s| !s) {
            return Err(format!("pane {p} is in no tab's layout"));
        }
        if self.tab >= self.tabs.len() {
            return Err(format!("tab = {} but there are {} tabs", self.tab, self.tabs.len()));
        }
        Ok(())
    }

    /// Parses and validates a workspace.
    pub fn parse(text: &str) -> Result<WorkspaceFile, String> {
        let file: WorkspaceFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.validate()?;
        Ok(file)
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!("# logsleuth workspace: tabs of pane layouts; each pane's source, query, columns and range.\n{body}")
    }
}

/// Where workspace `name` lives: `name` itself when it is a path (has a `/` or ends in
/// `.toml`), else `workspaces/NAME.toml` next to the configuration file.
pub fn path_for(name: &str) -> Result<PathBuf, String> {
    if name.contains('/') || name.ends_with(".toml") {
        return Ok(PathBuf::from(name));
    }
    if name.is_empty() || name.starts_with('.') || name.contains('\\') {
        return Err(format!("'{name}' is not a workspace name (letters, digits, - and _)"));
    }
    let config = super::default_path().ok_or("no configuration directory: give the workspace as a path")?;
    let dir = config.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(dir.join("workspaces").join(format!("{name}.toml")))
}

/// Reads workspace `name`.
pub fn load(name: &str) -> Result<(PathBuf, WorkspaceFile), String> {
    let path = path_for(name)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("workspace {}: {e}", path.display()))?;
    let file = WorkspaceFile::parse(&text).map_err(|e| format!("workspace {}: {e}", path.display()))?;
    Ok((path, file))
}

/// Writes workspace `name` (atomically: a temporary file renamed over the old one).
pub fn save(name: &str, file: &WorkspaceFile) -> Result<PathBuf, String> {
    let path = path_for(name)?;
    let io = |e: std::io::Error| format!("workspace {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, file.to_toml()).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tiles::{Direction, Tile};

    fn sample() -> WorkspaceFile {
        WorkspaceFile {
            tab: 0,
            panes: vec![
                PaneFile {
                    source: SourceSpec { loki: Some("http://loki:3100".into()), selector: Some("{job=\"nginx\"}".into()), ..Default::default() },
                    query: "status >= 500".into(),
                    range: Some(RangeSpecFile { last: Some("1h".into()), ..Default::default() }),
                    linked: true,
                    ..Default::default()
                },
                PaneFile {
                    source: SourceSpec { source: Some("app-es".into()), ..Default::default() },
                    query: "log.level:error".into(),
                    columns: vec!["service".into(), "message".into()],
                    linked: true,
                    ..Default::default()
                },
            ],
            tabs: vec![TabFile {
                focus: 1,
                layout: Tile::Split {
                    direction: Direction::Vertical,
                    ratio: 40,
                    first: Box::new(Tile::Pane(0)),
                    second: Box::new(Tile::Pane(1)),
                },
            }],
        }
    }

    #[test]
    fn a_workspace_round_trips_through_its_file() {
        let file = sample();
        let text = file.to_toml();
        assert_eq!(WorkspaceFile::parse(&text).unwrap(), file, "{text}");
        assert!(text.contains("status >= 500") && text.contains("app-es"), "{text}");
    }

    #[test]
    fn bad_layouts_are_refused_with_the_reason() {
        let mut file = sample();
        file.tabs[0].layout = Tile::Pane(0);
        assert_eq!(file.validate().unwrap_err(), "tabs[0].focus = 1 is not a pane of that tab");
        file.tabs[0].focus = 0;
        assert_eq!(file.validate().unwrap_err(), "pane 1 is in no tab's layout");
        file.tabs[0].layout = Tile::Split {
            direction: Direction::Horizontal,
            ratio: 50,
            first: Box::new(Tile::Pane(0)),
            second: Box::new(Tile::Pane(5)),
        };
        assert!(file.validate().unwrap_err().contains("names pane 5"));
        assert!(WorkspaceFile::parse("tabs = []\npanes = []\n").unwrap_err().contains("at least one pane"));
        assert!(WorkspaceFile::parse("bogus = 1\n").is_err());
    }

    #[test]
    fn typed_sources_parse_like_the_flags() {
        let s = SourceSpec::parse_typed("loki http://localhost:3100 {job=\"nginx\", env=\"prod\"}").unwrap();
        assert_eq!(s.loki.as_deref(), Some("http://localhost:3100"));
        assert_eq!(s.selector.as_deref(), Some("{job=\"nginx\", env=\"prod\"}"));
        let s = SourceSpec::parse_typed("es https://es:9200 logs-*").unwrap();
        assert_eq!((s.es.as_deref(), s.index.as_deref()), (Some("https://es:9200"), Some("logs-*")));
        let s = SourceSpec::parse_typed("/var/log/nginx/access.log /var/log/nginx/error.log").unwrap();
        assert_eq!(s.files.len(), 2);
        assert!(SourceSpec::parse_typed("  ").is_err());
        assert!(SourceSpec::parse_typed("loki").is_err());
    }

    #[test]
    fn specs_never_keep_credentials() {
        let args = SourceArgs {
            es: Some("https://elastic:hunter2@es.example:9200".into()),
            auth: AuthArgs { headers: vec!["Authorization: Bearer abc".into()], ..Default::default() },
            ..Default::default()
        };
        let spec = SourceSpec::from_args(&args).unwrap();
        let text = toml::to_string(&spec).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("Bearer"), "{text}");
        assert!(!spec.label().contains("hunter2"));
        let stdin = SourceArgs { files: vec!["-".into()], ..Default::default() };
        assert_eq!(SourceSpec::from_args(&stdin), None, "stdin cannot be reopened");
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(path_for("./team/checkout.toml").unwrap(), PathBuf::from("./team/checkout.toml"));
        assert!(path_for("checkout").unwrap().ends_with("logsleuth/workspaces/checkout.toml"));
        assert!(path_for("..").is_err());
    }
}
