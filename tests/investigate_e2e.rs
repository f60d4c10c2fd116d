//! End to end: the `logsleuth` binary in a pseudo-terminal with a configuration that rebinds
//! quit and defines a saved search. Checks what only the real program does: the config's
//! `[keys]` reach the UI, `y` writes an OSC 52 sequence to the terminal, the report export and
//! the saved-searches file are written by the runtime (under the working directory and
//! `$XDG_STATE_HOME`).

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > timeout {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

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

    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    cmd.args(["--config", config.to_str().unwrap(), fixture]);
    cmd.cwd(&work);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    cmd.env("XDG_STATE_HOME", dir.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", dir.path().join("xdg"));
    for var in ["TMUX", "STY", "LOGSLEUTH_OSC52", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let raw = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = raw.clone();
    let reader_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let output = || String::from_utf8_lossy(&raw.lock().unwrap()).into_owned();
    let mut send = |bytes: &[u8]| {
        writer.write_all(bytes).unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    };

    wait_until("the first results", Duration::from_secs(30), || output().contains("1,000 hits"));

    // `q` is no longer quit (the config moved it to Ctrl-q).
    send(b"q");
    std::thread::sleep(Duration::from_millis(400));
    assert!(child.try_wait().unwrap().is_none(), "q quit despite [keys] quit = \"ctrl-q\"");

    // `y`: the selected (newest) line goes to the terminal as OSC 52.
    send(b"y");
    wait_until("an OSC 52 sequence", Duration::from_secs(10), || output().contains("\x1b]52;c;"));
    let out = output();
    let start = out.find("\x1b]52;c;").unwrap() + "\x1b]52;c;".len();
    let end = start + out[start..].find('\x07').unwrap();
    let copied = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&out[start..end]).unwrap()).unwrap();
    assert!(SAMPLE.lines().any(|l| l == copied), "not a line of the log: {copied:?}");
    assert!(copied.contains("[17/May/2015:16:05:57 +0000]"), "the newest line is selected: {copied}");

    // `E` Enter Enter: the report with its default name in the working directory.
    send(b"E");
    send(b"\r");
    send(b"\r");
    wait_until("the report file", Duration::from_secs(10), || find_file(&work, "logsleuth-report-").is_some());
    let report_path = find_file(&work, "logsleuth-report-").unwrap();
    assert!(report_path.extension().is_some_and(|e| e == "md"));
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(report.starts_with("# Investigation report\n"), "{report}");
    assert!(report.contains("- **Hits:** 1,000 (200 loaded)"), "{report}");

    // `S`: the current search saved under $XDG_STATE_HOME, owner-only.
    send(b"S");
    send(b"everything\r");
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
    send(b"o");
    send(b"notfound\r");
    wait_until("the saved search's results", Duration::from_secs(30), || output().contains("688 hits"));

    send(b"\x11");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("logsleuth did not quit on ctrl-q");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    drop(writer);
    drop(pair.master);
    let _ = reader_thread.join();
}
