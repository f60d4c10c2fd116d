//! Saved searches: a name for a query, its language, time range and columns. They come from
//! the configuration (`[[saved_searches]]`, read-only here) and from the user's own file,
//! `$XDG_STATE_HOME/logsleuth/saved_searches.toml` (next to the history), written atomically
//! and readable by its owner only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::app::RangeSpec;
use logsleuth_sources::QueryLanguage;

/// Where a saved search comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file.
    Config,
    /// The user's saved-searches file.
    File,
}

/// A saved search, `[[saved_searches]]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchEntry {
    /// Name shown in the list.
    pub name: String,
    /// KQL query (empty for everything).
    #[serde(default)]
    pub query: String,
    /// Time range as a duration ending now (`1h`); the current range when absent.
    pub range: Option<String>,
    /// Columns to show.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The named source it runs on; the current one when absent.
    pub source: Option<String>,
}

/// A saved search as the UI uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSearch {
    /// Name shown in the list.
    pub name: String,
    /// Query text (empty: everything).
    pub query: String,
    /// Its language.
    pub language: QueryLanguage,
    /// Time range; `None` keeps the pane's.
    pub range: Option<RangeSpec>,
    /// Columns; empty keeps the pane's.
    pub columns: Vec<String>,
    /// The named source it was meant for (config entries), if any.
    pub source: Option<String>,
    /// Config or file.
    pub origin: Origin,
}

impl SavedSearch {
    /// From a configuration entry (`range` is a duration ending now).
    pub fn from_config(c: &SearchEntry) -> SavedSearch {
        SavedSearch {
            name: c.name.clone(),
            query: c.query.clone(),
            language: QueryLanguage::Kql,
            range: c.range.as_deref().and_then(|r| logsleuth_core::time::parse_duration(r).ok()).map(RangeSpec::Last),
            columns: c.columns.clone(),
            source: c.source.clone(),
            origin: Origin::Config,
        }
    }

    /// A one-line summary for the picker: `KQL status >= 500 · Last 1h · 3 columns`.
    pub fn summary(&self) -> String {
        let lang = if self.language == QueryLanguage::Kql { "KQL" } else { "native" };
        let query = if self.query.is_empty() { "(everything)" } else { self.query.as_str() };
        let mut parts = vec![format!("{lang} {query}")];
        if let Some(r) = &self.range {
            parts.push(r.label());
        }
        if !self.columns.is_empty() {
            parts.push(self.columns.join(", "));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source {s}"));
        }
        parts.join(" · ")
    }
}

/// One entry of the saved-searches file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: String,
    #[serde(default)]
    query: String,
    /// `kql` or `native`.
    #[serde(default = "kql")]
    language: String,
    /// `all`, or a duration ending now (`1h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    /// Absolute start, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    /// Absolute end, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default)]
    columns: Vec<String>,
}

fn kql() -> String {
    "kql".into()
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileDoc {
    #[serde(default)]
    search: Vec<FileEntry>,
}

impl FileEntry {
    fn of(s: &SavedSearch) -> FileEntry {
        let (mut range, mut from, mut to) = (None, None, None);
        match s.range {
            Some(RangeSpec::All) => range = Some("all".to_string()),
            Some(RangeSpec::Last(d)) => range = Some(logsleuth_core::time::format_duration(d)),
            Some(RangeSpec::Absolute(r)) => {
                from = r.from.map(logsleuth_core::time::format_rfc3339);
                to = r.to.map(logsleuth_core::time::format_rfc3339);
            }
            None => {}
        }
        FileEntry {
            name: s.name.clone(),
            query: s.query.clone(),
            language: if s.language == QueryLanguage::Native { "native".into() } else { "kql".into() },
            range,
            from,
            to,
            columns: s.columns.clone(),
        }
    }

    fn to_saved(&self) -> SavedSearch {
        let parse = |t: &Option<String>| t.as_deref().and_then(|t| logsleuth_core::time::parse_absolute(t, None).ok());
        let range = match (self.range.as_deref(), parse(&self.from), parse(&self.to)) {
            (Some("all"), _, _) => Some(RangeSpec::All),
            (Some(d), _, _) => logsleuth_core::time::parse_duration(d).ok().map(RangeSpec::Last),
            (None, None, None) => None,
            (None, from, to) => Some(RangeSpec::Absolute(logsleuth_core::model::TimeRange { from, to })),
        };
        SavedSearch {
            name: self.name.clone(),
            query: self.query.clone(),
            language: if self.language == "native" { QueryLanguage::Native } else { QueryLanguage::Kql },
            range,
            columns: self.columns.clone(),
            source: None,
            origin: Origin::File,
        }
    }
}

/// The default file: `$XDG_STATE_HOME/logsleuth/saved_searches.toml`, else the data dir.
pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir().or_else(dirs::data_dir).map(|d| d.join("logsleuth").join("saved_searches.toml"))
}

/// The saved-searches file next to a history file (same directory).
pub fn path_next_to(history: &Path) -> Option<PathBuf> {
    history.parent().map(|d| d.join("saved_searches.toml"))
}

/// Reads the saved-searches file. A missing file is empty; an unreadable or invalid one is an
/// error message (the UI shows it and keeps going).
pub fn load(path: &Path) -> Result<Vec<SavedSearch>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let doc: FileDoc = toml::from_str(&text).map_err(|e| format!("invalid {}: {}", path.display(), e.message()))?;
    Ok(doc.search.iter().map(FileEntry::to_saved).collect())
}

/// The file contents for the user's saved searches (entries of [`Origin::File`]).
pub fn serialize(searches: &[SavedSearch]) -> String {
    let doc = FileDoc { search: searches.iter().filter(|s| s.origin == Origin::File).map(FileEntry::of).collect() };
    let body = toml::to_string(&doc).unwrap_or_default();
    format!("# logsleuth saved searches (written by the TUI: S saves, o opens)\n\n{body}")
}

/// Adds a search, replacing one of the same name.
pub fn upsert(searches: &mut Vec<SavedSearch>, search: SavedSearch) {
    match searches.iter_mut().find(|s| s.name == search.name) {
        Some(existing) => *existing = search,
        None => searches.push(search),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::TimeRange;

    fn search(name: &str, range: Option<RangeSpec>) -> SavedSearch {
        SavedSearch {
            name: name.into(),
            query: "status >= 500 and path:\"/a \\\"b\\\"\"".into(),
            language: QueryLanguage::Kql,
            range,
            columns: vec!["status".into(), "path".into()],
            source: None,
            origin: Origin::File,
        }
    }

    #[test]
    fn the_file_round_trips_every_kind_of_range() {
        let t = |s| logsleuth_core::time::parse_absolute(s, None).unwrap();
        let searches = vec![
            search("last hour", Some(RangeSpec::Last(3600 * logsleuth_core::time::NS_PER_SEC))),
            search("all", Some(RangeSpec::All)),
            search(
                "incident",
                Some(RangeSpec::Absolute(TimeRange::between(t("2015-05-17T08:00:00Z"), t("2015-05-17T09:30:00Z")))),
            ),
            SavedSearch { language: QueryLanguage::Native, ..search("keep range", None) },
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("saved_searches.toml");
        crate::export::write_atomic(&path, serialize(&searches).as_bytes(), true).unwrap();
        assert_eq!(load(&path).unwrap(), searches);
        assert!(serialize(&searches).contains("range = \"1h\""));
    }

    #[test]
    fn missing_is_empty_and_invalid_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(&dir.path().join("none.toml")).unwrap(), vec![]);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[[search]]\nname = 1\n").unwrap();
        assert!(load(&bad).unwrap_err().contains("invalid"));
    }

    #[test]
    fn upsert_replaces_by_name_and_config_entries_are_not_written() {
        let mut list = vec![search("a", None)];
        upsert(&mut list, SavedSearch { query: "x".into(), ..search("a", None) });
        upsert(&mut list, search("b", None));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].query, "x");
        let config = SearchEntry {
            name: "from config".into(),
            query: "level:error".into(),
            range: Some("15m".into()),
            columns: vec![],
            source: Some("prod".into()),
        };
        let c = SavedSearch::from_config(&config);
        assert_eq!(c.range, Some(RangeSpec::Last(15 * 60 * logsleuth_core::time::NS_PER_SEC)));
        list.push(c);
        assert!(!serialize(&list).contains("from config"));
    }
}
