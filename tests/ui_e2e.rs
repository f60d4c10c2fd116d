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
        let text = match std::str::from_utf8(&self.pending) {
            Ok(t) => t.to_string(),
            Err(e) => {
                // Keep an incomplete UTF-8 sequence for the next read.
                let valid = e.valid_up_to();
                let t = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
                self.pending.drain(..valid);
                self.apply(&t);
                return;
            }
        };
        self.pending.clear();
        self.apply(&text);
    }

    fn apply(&mut self, text: &str) {
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
                        let Some(&fin) = chars.get(j) else { break };
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
                        i = j + if chars.get(j) == Some(&'\u{7}') { 1 } else { 2 };
                    }
                    Some(_) => i += 2,
                    None => break,
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
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: ROWS as u16, cols: COLS as u16, pixel_width: 0, pixel_height: 0 }).unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    cmd.arg(fixture);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir.path());
    cmd.env("XDG_STATE_HOME", dir.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
    cmd.env_remove("NO_COLOR");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let screen = Arc::new(Mutex::new(Screen::new()));
    let feed = screen.clone();
    let reader_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().unwrap().feed(&buf[..n]);
        }
    });

    let text = wait_for(&screen, "1,000 hits", Duration::from_secs(30));
    assert!(text.contains("Query (KQL)"), "{text}");
    assert!(text.contains("Events over time"), "{text}");
    assert!(text.contains("/downloads/"), "{text}");

    writer.write_all(b"/status:200").unwrap();
    writer.flush().unwrap();
    wait_for(&screen, "status:200", Duration::from_secs(10));
    writer.write_all(b"\r").unwrap();
    writer.flush().unwrap();
    let text = wait_for(&screen, "35 hits", Duration::from_secs(30));
    assert!(!text.contains(" 404 "), "only 200s are listed:\n{text}");

    // A hostile-free screen: nothing but printable text was drawn.
    writer.write_all(b"?").unwrap();
    writer.flush().unwrap();
    wait_for(&screen, "Keys (j/k scroll, Esc close)", Duration::from_secs(10));
    writer.write_all(b"\x1b").unwrap();
    writer.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();

    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("logsleuth did not quit on q");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    drop(writer);
    drop(pair.master);
    let _ = reader_thread.join();
    let raw = String::from_utf8_lossy(&screen.lock().unwrap().raw).into_owned();
    assert!(raw.contains("\u{1b}[?1049h"), "entered the alternate screen");
    assert!(raw.contains("\u{1b}[?1049l"), "left the alternate screen on quit");
    assert!(raw.contains("\u{1b}[?1000h") || raw.contains("\u{1b}[?1002h"), "mouse capture was on");
    // The history was saved under XDG_STATE_HOME.
    let history = std::fs::read_to_string(dir.path().join("state/logsleuth/history")).unwrap();
    assert_eq!(history, "status:200\n");
}
