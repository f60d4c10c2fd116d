//! End to end: runs the `logsleuth` binary in a pseudo-terminal on a sample access log, types
//! keys, and reads the screen back through a minimal terminal emulator (cursor moves, clears
//! and printable text; colours ignored).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const COLS: usize = 120;
const ROWS: usize = 40;

/// A screen fed with the bytes the program writes.
struct Screen {
    cells: Vec<Vec<char>>,
    row: usize,
    col: usize,
    raw: Vec<u8>,
    pending: Vec<u8>,
}

impl Screen {
    fn new() -> Self {
        Screen { cells: vec![vec![' '; COLS]; ROWS], row: 0, col: 0, raw: Vec::new(), pending: Vec::new() }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
        self.pending.extend_from_slice(bytes);
        // Keep an incomplete UTF-8 sequence for the next read.
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        self.pending.drain(..valid);
        // An escape sequence cut by the read boundary waits for the rest, too.
        let rest = self.apply(&text);
        let mut kept = rest.into_bytes();
        kept.extend_from_slice(&self.pending);
        self.pending = kept;
    }

    /// Applies text; returns an incomplete escape sequence at its end, unapplied.
    fn apply(&mut self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\u{1b}' {
                match chars.get(i + 1) {
                    Some('[') => {
                        let mut j = i + 2;
                        while j < chars.len() && !('@'..='~').contains(&chars[j]) {
                            j += 1;
                        }
                        let Some(&fin) = chars.get(j) else { return chars[i..].iter().collect() };
                        let params: String = chars[i + 2..j].iter().collect();
                        self.csi(&params, fin);
                        i = j + 1;
                    }
                    Some(']') => {
                        // OSC: up to BEL or ST.
                        let mut j = i + 2;
                        while j < chars.len() && chars[j] != '\u{7}' && !(chars[j] == '\u{1b}' && chars.get(j + 1) == Some(&'\\')) {
                            j += 1;
                        }
                        if j + 1 >= chars.len() && chars.get(j) != Some(&'\u{7}') {
                            return chars[i..].iter().collect();
                        }
                        i = j + if chars.get(j) == Some(&'\u{7}') { 1 } else { 2 };
                    }
                    Some(_) => i += 2,
                    None => return chars[i..].iter().collect(),
                }
                continue;
            }
            match c {
                '\r' => self.col = 0,
                '\n' => self.row = (self.row + 1).min(ROWS - 1),
                c if c.is_control() => {}
                c => {
                    if self.row < ROWS && self.col < COLS {
                        self.cells[self.row][self.col] = c;
                    }
                    self.col += 1;
                }
            }
            i += 1;
        }
        String::new()
    }

    fn csi(&mut self, params: &str, fin: char) {
        let nums: Vec<usize> = params.trim_start_matches('?').split(';').map(|p| p.parse().unwrap_or(0)).collect();
        match fin {
            'H' | 'f' => {
                self.row = nums.first().copied().unwrap_or(1).max(1) - 1;
                self.col = nums.get(1).copied().unwrap_or(1).max(1) - 1;
            }
            'J' if nums.first() == Some(&2) => self.cells = vec![vec![' '; COLS]; ROWS],
            'K' if self.row < ROWS => {
                for c in self.col..COLS {
                    self.cells[self.row][c] = ' ';
                }
            }
            'C' => self.col += nums.first().copied().unwrap_or(1).max(1),
            _ => {}
        }
    }

    fn text(&self) -> String {
        self.cells.iter().map(|r| r.iter().collect::<String>().trim_end().to_string()).collect::<Vec<_>>().join("\n")
    }
}

fn wait_for(screen: &Arc<Mutex<Screen>>, what: &str, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let text = screen.lock().unwrap().text();
        if text.contains(what) {
            return text;
        }
        if start.elapsed() > timeout {
            panic!("'{what}' not on screen after {timeout:?}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tui_runs_in_a_pty_filters_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let mut app = spawn(&[fixture], dir.path());

    let text = wait_for(&app.screen, "1,000 hits", Duration::from_secs(30));
    assert!(text.contains("Query (KQL)"), "{text}");
    assert!(text.contains("Events over time"), "{text}");
    assert!(text.contains("/downloads/"), "{text}");

    app.keys(b"/status:200");
    wait_for(&app.screen, "status:200", Duration::from_secs(10));
    app.keys(b"\r");
    let text = wait_for(&app.screen, "35 hits", Duration::from_secs(30));
    assert!(!text.contains(" 404 "), "only 200s are listed:\n{text}");

    // A hostile-free screen: nothing but printable text was drawn.
    app.keys(b"?");
    wait_for(&app.screen, "Keys (j/k scroll, Esc close)", Duration::from_secs(10));
    app.keys(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));
    let screen = app.screen.clone();
    app.quit();
    let raw = String::from_utf8_lossy(&screen.lock().unwrap().raw).into_owned();
    assert!(raw.contains("\u{1b}[?1049h"), "entered the alternate screen");
    assert!(raw.contains("\u{1b}[?1049l"), "left the alternate screen on quit");
    assert!(raw.contains("\u{1b}[?1000h") || raw.contains("\u{1b}[?1002h"), "mouse capture was on");
    // The history was saved under XDG_STATE_HOME.
    let history = std::fs::read_to_string(dir.path().join("state/logsleuth/history")).unwrap();
    assert_eq!(history, "status:200\n");
}

/// The binary running in a pty: its pty's writer, the screen it draws, and the thread that
/// reads its output into the screen.
struct Running {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    reader: std::thread::JoinHandle<()>,
}

fn spawn(args: &[&str], home: &std::path::Path) -> Running {
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: ROWS as u16, cols: COLS as u16, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home);
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env_remove("NO_COLOR");
    let child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let screen = Arc::new(Mutex::new(Screen::new()));
    let feed = screen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().unwrap().feed(&buf[..n]);
        }
    });
    Running { child, writer, screen, master: pair.master, reader }
}

impl Running {
    fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        // Keys typed too fast after Esc read as Alt+key; give each batch a moment.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Presses `q`, waits for a successful exit, and reads the output to its end.
    fn quit(mut self) {
        self.keys(b"q");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("logsleuth did not quit on q");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
        drop(self.writer);
        drop(self.master);
        let _ = self.reader.join();
    }
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
    wait_for(&app.screen, "1,000 hits", Duration::from_secs(30));
    app.keys(b"\x17"); // Ctrl-w
    wait_for(&app.screen, "Ctrl-w  v beside", Duration::from_secs(10));
    app.keys(b"v");
    wait_for(&app.screen, "New pane on the right: source", Duration::from_secs(10));
    app.keys(shop.as_bytes());
    wait_for(&app.screen, "open: ", Duration::from_secs(10));
    app.keys(b"\r");
    let text = wait_for(&app.screen, "_logfmt.0 ─", Duration::from_secs(30));
    assert_eq!(text.matches("Query (KQL) ·").count(), 2, "two panes:\n{text}");
    app.keys(b"/status:200\r");
    app.keys(b"\x17S");
    wait_for(&app.screen, "workspace saved to", Duration::from_secs(10));
    app.quit();

    let saved = std::fs::read_to_string(dir.path().join("config/logsleuth/workspaces/e2e-incident.toml")).unwrap();
    assert!(saved.contains("nginx_sample.log") && saved.contains("logfile_logfmt.0"), "{saved}");
    assert!(saved.contains("query = \"status:200\""), "{saved}");

    let mut again = spawn(&["--workspace", "e2e-incident"], dir.path());
    let text = wait_for(&again.screen, "status:200", Duration::from_secs(30));
    wait_for(&again.screen, "1,000 hits", Duration::from_secs(30));
    assert_eq!(text.matches("Query (KQL) ·").count(), 2, "both panes are back:\n{text}");
    assert!(text.contains("_logfmt.0 ─") && text.contains("ample.log ─"), "{text}");
    again.keys(b"\x17c");
    let start = Instant::now();
    loop {
        let text = again.screen.lock().unwrap().text();
        if text.matches("Query (KQL)").count() == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "one pane left after Ctrl-w c:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
    again.quit();
}
