//! End to end: runs the `logsleuth` binary in a pseudo-terminal on a sample access log, types
//! keys, and reads the screen back through a minimal terminal emulator (cursor moves, clears
//! and printable text; colours ignored).

mod support;

use std::time::Duration;

use support::pty::{self, Pty};

/// The binary on `args` in a 120x40 pty, its home under `home`.
fn spawn(args: &[&str], home: &std::path::Path) -> Pty {
    Pty::spawn(pty::command(args, home), 40, 120)
}

#[test]
fn tui_runs_in_a_pty_filters_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let mut app = spawn(&[fixture], dir.path());

    let text = app.wait_screen("1,000 hits", Duration::from_secs(30));
    assert!(text.contains("Query (KQL)"), "{text}");
    assert!(text.contains("Events over time"), "{text}");
    assert!(text.contains("/downloads/"), "{text}");

    app.keys(b"/status:200");
    app.wait_screen("status:200", Duration::from_secs(10));
    app.keys(b"\r");
    let text = app.wait_screen("35 hits", Duration::from_secs(30));
    assert!(!text.contains(" 404 "), "only 200s are listed:\n{text}");

    // A hostile-free screen: nothing but printable text was drawn.
    app.keys(b"?");
    app.wait_screen("Keys (j/k scroll, Esc close)", Duration::from_secs(10));
    app.keys(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    let raw = app.quit_with(b"q");
    assert!(raw.contains("\u{1b}[?1049h"), "entered the alternate screen");
    assert!(raw.contains("\u{1b}[?1049l"), "left the alternate screen on quit");
    assert!(raw.contains("\u{1b}[?1000h") || raw.contains("\u{1b}[?1002h"), "mouse capture was on");
    // The history was saved under XDG_STATE_HOME.
    let history = std::fs::read_to_string(dir.path().join("state/logsleuth/history")).unwrap();
    assert_eq!(history, "status:200\n");
}

/// A new workspace: the flags' file in one pane, a second file opened beside it with
/// `Ctrl-w v` and the source picker, saved with `Ctrl-w S`; then `--workspace NAME` alone
/// reopens both panes with their queries.
#[test]
fn a_workspace_is_built_with_pane_keys_saved_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let shop = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/local/lnav/logfile_logfmt.0");
    let mut app = spawn(&["--workspace", "e2e-incident", nginx], dir.path());
    app.wait_screen("1,000 hits", Duration::from_secs(30));
    app.keys(b"\x17"); // Ctrl-w
    app.wait_screen("Ctrl-w  v beside", Duration::from_secs(10));
    app.keys(b"v");
    app.wait_screen("New pane on the right: source", Duration::from_secs(10));
    app.keys(shop.as_bytes());
    app.wait_screen("open: ", Duration::from_secs(10));
    app.keys(b"\r");
    let text = app.wait_screen("_logfmt.0 ─", Duration::from_secs(30));
    assert_eq!(text.matches("Query (KQL) ·").count(), 2, "two panes:\n{text}");
    app.keys(b"/status:200\r");
    app.keys(b"\x17S");
    app.wait_screen("workspace saved to", Duration::from_secs(10));
    app.quit_with(b"q");

    let saved = std::fs::read_to_string(dir.path().join("config/logsleuth/workspaces/e2e-incident.toml")).unwrap();
    assert!(saved.contains("nginx_sample.log") && saved.contains("logfile_logfmt.0"), "{saved}");
    assert!(saved.contains("query = \"status:200\""), "{saved}");

    let mut again = spawn(&["--workspace", "e2e-incident"], dir.path());
    let text = again.wait_screen("status:200", Duration::from_secs(30));
    again.wait_screen("1,000 hits", Duration::from_secs(30));
    assert_eq!(text.matches("Query (KQL) ·").count(), 2, "both panes are back:\n{text}");
    assert!(text.contains("_logfmt.0 ─") && text.contains("ample.log ─"), "{text}");
    again.keys(b"\x17c");
    pty::wait_until("one pane left after Ctrl-w c", Duration::from_secs(10), || again.screen().matches("Query (KQL)").count() == 1);
    again.quit_with(b"q");
}
