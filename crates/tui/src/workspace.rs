//! Workspace files (`--workspace NAME`): the tabs and their pane layouts, and for each pane its
//! source, query, columns and time range, so a team can share "the checkout incident view".
//!
//! A workspace names sources as [`SourceSpec`]s (files, `loki`+`selector`, `es`+`index`, or a
//! configuration `source` name) and never holds credentials: a source that needs them is
//! referred to by its configuration name, or by the environment variables its flags name
//! (`password_env`, …), as on the command line.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use logsleuth_core::model::Nanos;
use logsleuth_sources::spec::SourceSpec;

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
    pub layout: super::tiles::Tile,
}

/// A mark of a workspace: a line or a span of a pane, with its note, so that the report can be
/// written again after the fact (`logsleuth report --workspace NAME`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkFile {
    /// The pane (an index into `panes`).
    pub pane: usize,
    /// The line's time or the span's start (RFC 3339).
    pub time: String,
    /// The span's end (exclusive), for a span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// The note (`cause: …`, `fix: …`, `todo: …` land under their report headings).
    #[serde(default)]
    pub note: String,
    /// The marked line's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The line's shown fields, `[name, value]` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
    /// Events in the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl MarkFile {
    /// The mark's start and end as times.
    pub fn times(&self) -> Result<(Nanos, Option<Nanos>), String> {
        let at = |t: &str| logsleuth_core::time::parse_absolute(t, None).map_err(|e| format!("mark time {t:?}: {e}"));
        Ok((at(&self.time)?, self.end.as_deref().map(at).transpose()?))
    }
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
    /// The marks, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkFile>,
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
        for (i, m) in self.marks.iter().enumerate() {
            if m.pane >= self.panes.len() {
                return Err(format!("marks[{i}] is on pane {}, but there are only {} panes", m.pane, self.panes.len()));
            }
            m.times().map_err(|e| format!("marks[{i}]: {e}"))?;
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
        format!("# logsleuth workspace: tabs of pane layouts; each pane's source, query, columns and range; the marks.\n{body}")
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
    let dir = super::theme::default_config_dir().ok_or("no configuration directory: give the workspace as a path")?;
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
    use crate::tiles::{Direction, Tile};

    fn sample() -> WorkspaceFile {
        WorkspaceFile {
            tab: 0,
            panes: vec![
                PaneFile {
                    source: SourceSpec::loki("http://loki:3100", Some("{job=\"nginx\"}".into())),
                    query: "status >= 500".into(),
                    range: Some(RangeSpecFile { last: Some("1h".into()), ..Default::default() }),
                    linked: true,
                    ..Default::default()
                },
                PaneFile {
                    source: SourceSpec::named("app-es"),
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
            marks: vec![MarkFile {
                pane: 1,
                time: "2015-05-17T08:05:32Z".into(),
                note: "cause: the pool was full".into(),
                line: Some("GET /api/checkout 502".into()),
                fields: vec![("status".into(), "502".into())],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_workspace_round_trips_through_its_file() {
        let file = sample();
        let text = file.to_toml();
        assert_eq!(WorkspaceFile::parse(&text).unwrap(), file, "{text}");
        assert!(text.contains("status >= 500") && text.contains("app-es"), "{text}");
        assert!(text.contains("[[marks]]") && text.contains("cause: the pool was full"), "{text}");
    }

    #[test]
    fn bad_layouts_are_refused_with_the_reason() {
        let mut file = sample();
        file.tabs[0].layout = Tile::Pane(0);
        assert_eq!(file.validate().unwrap_err(), "tabs[0].focus = 1 is not a pane of that tab");
        file.tabs[0].focus = 0;
        assert_eq!(file.validate().unwrap_err(), "pane 1 is in no tab's layout");
        let mut file = sample();
        file.marks[0].pane = 2;
        assert_eq!(file.validate().unwrap_err(), "marks[0] is on pane 2, but there are only 2 panes");
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
    fn names_and_paths() {
        assert_eq!(path_for("./team/checkout.toml").unwrap(), PathBuf::from("./team/checkout.toml"));
        assert!(path_for("checkout").unwrap().ends_with("logsleuth/workspaces/checkout.toml"));
        assert!(path_for("..").is_err());
    }
}
