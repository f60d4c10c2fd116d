//! Exports of an investigation, independent of the UI: the Markdown postmortem report
//! ([`report`]) and the result set as NDJSON or CSV ([`records`]). Both are pure functions of
//! plain data, so the TUI, the CLI and tests share them; [`write_atomic`] puts the text on disk.

pub mod markdown;
pub mod postmortem;
pub mod records;
pub mod report;
pub mod request_path;

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a
/// rename, so a reader (or a crash) never sees half a file. With `private`, the file is created
/// readable by its owner only (0600 on Unix), for state such as saved searches. Creates the
/// directory when missing.
pub fn write_atomic(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        write_atomic(&path, b"one", false).unwrap();
        write_atomic(&path, b"two", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.toml");
        write_atomic(&path, b"x", true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_failed_write_reports_the_error() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails and the temporary file is removed.
        let err = write_atomic(dir.path(), b"x", false);
        assert!(err.is_err());
    }
}
