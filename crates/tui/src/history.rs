//! Query history, persisted one query a line under the XDG state directory
//! (`~/.local/state/logsleuth/history`). The path is injectable so tests use a temp dir.

use std::path::{Path, PathBuf};

/// Most queries kept.
pub const MAX_HISTORY: usize = 500;

/// Past queries, oldest first, without duplicates (re-running a query moves it to the end).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Entries, oldest first.
    pub entries: Vec<String>,
    /// Where they are saved; `None` keeps them in memory only.
    pub path: Option<PathBuf>,
    /// Position while browsing with Up/Down: index into `entries`, `None` when not browsing.
    pub browse: Option<usize>,
    /// The text being edited before browsing started, restored when browsing past the newest.
    pub draft: String,
}

impl History {
    /// The default file: `$XDG_STATE_HOME/logsleuth/history`, else the data dir.
    pub fn default_path() -> Option<PathBuf> {
        dirs::state_dir().or_else(dirs::data_dir).map(|d| d.join("logsleuth").join("history"))
    }

    /// Loads the history at `path` (a missing or unreadable file gives an empty history).
    pub fn load(path: Option<PathBuf>) -> History {
        let entries = path
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| parse(&text))
            .unwrap_or_default();
        History { entries, path, browse: None, draft: String::new() }
    }

    /// Records a query that was run. Blank queries are not kept.
    pub fn push(&mut self, query: &str) {
        let q = query.trim();
        self.browse = None;
        if q.is_empty() || q.contains('\n') {
            return;
        }
        self.entries.retain(|e| e != q);
        self.entries.push(q.to_string());
        if self.entries.len() > MAX_HISTORY {
            let extra = self.entries.len() - MAX_HISTORY;
            self.entries.drain(..extra);
        }
    }

    /// Steps back (older); returns the entry to show. `current` is the editor text, kept as
    /// the draft when browsing starts.
    pub fn older(&mut self, current: &str) -> Option<&str> {
        let next = match self.browse {
            None => {
                self.draft = current.to_string();
                self.entries.len().checked_sub(1)?
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.browse = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    /// Steps forward (newer); past the newest entry returns the draft.
    pub fn newer(&mut self) -> Option<String> {
        let i = self.browse?;
        if i + 1 < self.entries.len() {
            self.browse = Some(i + 1);
            self.entries.get(i + 1).cloned()
        } else {
            self.browse = None;
            Some(std::mem::take(&mut self.draft))
        }
    }

    /// The file contents for [`History::entries`].
    pub fn serialize(entries: &[String]) -> String {
        let mut out = String::new();
        for e in entries {
            out.push_str(e);
            out.push('\n');
        }
        out
    }
}

fn parse(text: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        entries.retain(|e| e != line);
        entries.push(line.to_string());
    }
    let extra = entries.len().saturating_sub(MAX_HISTORY);
    entries.drain(..extra);
    entries
}

/// Writes the history file, creating its directory.
pub fn save(path: &Path, entries: &[String]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, History::serialize(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_dedups_and_browsing_restores_the_draft() {
        let mut h = History::default();
        h.push("status:500");
        h.push("method:GET");
        h.push("status:500");
        h.push("   ");
        assert_eq!(h.entries, vec!["method:GET", "status:500"]);
        assert_eq!(h.older("draft"), Some("status:500"));
        assert_eq!(h.older(""), Some("method:GET"));
        assert_eq!(h.older(""), Some("method:GET"));
        assert_eq!(h.newer().as_deref(), Some("status:500"));
        assert_eq!(h.newer().as_deref(), Some("draft"));
        assert_eq!(h.newer(), None);
    }

    #[test]
    fn persists_across_loads_and_caps_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/logsleuth/history");
        let mut h = History::load(Some(path.clone()));
        assert!(h.entries.is_empty());
        for i in 0..MAX_HISTORY + 10 {
            h.push(&format!("status:{i}"));
        }
        save(&path, &h.entries).unwrap();
        let again = History::load(Some(path));
        assert_eq!(again.entries.len(), MAX_HISTORY);
        assert_eq!(again.entries.first().map(String::as_str), Some("status:10"));
        assert_eq!(again.entries.last().map(String::as_str), Some(format!("status:{}", MAX_HISTORY + 9).as_str()));
    }
}
