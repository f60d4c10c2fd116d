//! End to end: the `logsleuth` binary in a pseudo-terminal with a configuration that rebinds
//! quit and defines a saved search. Checks what only the real program does: the config's
//! `[keys]` reach the UI, `y` writes an OSC 52 sequence to the terminal, the report export and
//! the saved-searches file are written by the runtime (under the working directory and
//! `$XDG_STATE_HOME`).

mod support;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use support::pty::{self, Pty, wait_until};

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn find_file(dir: &Path, prefix: &str) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix) && !n.ends_with(".tmp")))
}

#[test]
fn keys_clipboard_export_and_saved_searches_in_the_real_program() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[keys]\nquit = \"ctrl-q\"\n\n[[saved_searches]]\nname = \"not found\"\nquery = \"status:404\"\n")
        .unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let mut cmd = pty::command(&["--config", config.to_str().unwrap(), fixture], dir.path());
    cmd.cwd(&work);
    let mut app = Pty::spawn(cmd, 40, 120);

    wait_until("the first results", Duration::from_secs(30), || app.output().contains("1,000 hits"));

    // `q` is no longer quit (the config moved it to Ctrl-q).
    app.keys(b"q");
    std::thread::sleep(Duration::from_millis(400));
    assert!(app.try_wait().is_none(), "q quit despite [keys] quit = \"ctrl-q\"");

    // `y`: the selected (newest) line goes to the terminal as OSC 52.
    app.keys(b"y");
    wait_until("an OSC 52 sequence", Duration::from_secs(10), || app.output().contains("\x1b]52;c;"));
    let out = app.output();
    let start = out.find("\x1b]52;c;").unwrap() + "\x1b]52;c;".len();
    let end = start + out[start..].find('\x07').unwrap();
    let copied = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&out[start..end]).unwrap()).unwrap();
    assert!(SAMPLE.lines().any(|l| l == copied), "not a line of the log: {copied:?}");
    assert!(copied.contains("[17/May/2015:16:05:57 +0000]"), "the newest line is selected: {copied}");

    // `m`: a mark whose note lands under the report's root cause.
    app.keys(b"m");
    std::thread::sleep(Duration::from_millis(200));
    app.keys(b"cause: the APT mirror\r");
    // (The screen is redrawn in changed cells only, so its text is not waited for; the report
    // below says whether the mark was made.)
    std::thread::sleep(Duration::from_millis(500));

    // `E` Enter Enter: the report with its default name in the working directory.
    app.keys(b"E");
    app.keys(b"\r");
    app.keys(b"\r");
    wait_until("the report file", Duration::from_secs(10), || find_file(&work, "logsleuth-report-").is_some());
    let report_path = find_file(&work, "logsleuth-report-").unwrap();
    assert!(report_path.extension().is_some_and(|e| e == "md"));
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(report.starts_with("# Incident report\n"), "{report}");
    assert!(report.contains("- **Status:** draft"), "{report}");
    assert!(report.contains("## Root cause\n\n- the APT mirror ("), "{report}");
    assert!(report.contains("- **Hits:** 1,000 (200 loaded)"), "{report}");

    // `S`: the current search saved under $XDG_STATE_HOME, owner-only.
    app.keys(b"S");
    app.keys(b"everything\r");
    let store = dir.path().join("state/logsleuth/saved_searches.toml");
    wait_until("the saved-searches file", Duration::from_secs(10), || {
        std::fs::read_to_string(&store).is_ok_and(|t| t.contains("everything"))
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // `o`: the config's saved search, picked by a fuzzy filter, runs.
    app.keys(b"o");
    app.keys(b"notfound\r");
    wait_until("the saved search's results", Duration::from_secs(30), || app.output().contains("688 hits"));

    app.quit_with(b"\x11");
}
