//! The `logsleuth` binary in a pseudo-terminal, for end-to-end tests: spawned with an
//! environment of its own, typed at, read back (the raw bytes, and the screen through a
//! minimal terminal emulator: cursor moves, clears and printable text; colours ignored), and
//! waited for.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, SlavePty, native_pty_system};

/// Variables of the test runner's terminal that would change what the program writes.
const INHERITED_TERMINAL_VARS: [&str; 4] = ["NO_COLOR", "TMUX", "STY", "LOGSLEUTH_OSC52"];

/// A command running the binary with `args`, its home, state and config directories under
/// `home`, and the terminal variables of the test runner removed.
pub fn command(args: &[&str], home: &Path) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home);
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    for var in INHERITED_TERMINAL_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Polls `done` every 50 ms; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the program wrote: the bytes, and the screen they draw.
struct Output {
    raw: Vec<u8>,
    screen: Screen,
}

/// The program running in a pty.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    /// Our handle on the terminal side, kept until [`Pty::close`] so the pty (and its
    /// termios) outlives the child.
    slave: Option<Box<dyn SlavePty + Send>>,
    writer: Option<Box<dyn Write + Send>>,
    output: Arc<Mutex<Output>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    /// Spawns `cmd` in a `rows` x `cols` pty and starts reading what it writes.
    pub fn spawn(cmd: CommandBuilder, rows: u16, cols: u16) -> Pty {
        let pair = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let output = Arc::new(Mutex::new(Output { raw: Vec::new(), screen: Screen::new(rows as usize, cols as usize) }));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut out = sink.lock().unwrap();
                out.raw.extend_from_slice(&buf[..n]);
                out.screen.feed(&buf[..n]);
            }
        });
        Pty { child, master: pair.master, slave: Some(pair.slave), writer: Some(writer), output, reader: Some(reader) }
    }

    /// Types `bytes`, then gives the program a moment: keys typed too fast after Esc read as
    /// Alt+key.
    pub fn keys(&mut self, bytes: &[u8]) {
        let writer = self.writer.as_mut().expect("the pty is open");
        writer.write_all(bytes).unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap().raw).into_owned()
    }

    /// The screen as drawn so far: its rows, trailing spaces trimmed.
    pub fn screen(&self) -> String {
        self.output.lock().unwrap().screen.text()
    }

    /// Waits until `what` is on the screen and returns the screen.
    pub fn wait_screen(&self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.screen();
            if text.contains(what) {
                return text;
            }
            assert!(start.elapsed() < timeout, "{what:?} not on screen after {timeout:?}:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `what` is in the output (or the program ended) and returns the output.
    pub fn wait_output(&mut self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.output();
            if text.contains(what) || self.try_wait().is_some() {
                return text;
            }
            assert!(start.elapsed() < timeout, "never saw {what:?} after {timeout:?}: {text:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The exit status, if the program has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("child pid")
    }

    /// The terminal's line discipline, seen from the parent: (ICANON, ECHO).
    #[cfg(unix)]
    pub fn cooked(&self) -> (bool, bool) {
        let fd = self.master.as_raw_fd().expect("a pty master has a descriptor");
        // SAFETY: tcgetattr fills a zeroed termios for a descriptor we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        (t.c_lflag & libc::ICANON != 0, t.c_lflag & libc::ECHO != 0)
    }

    /// Waits for the exit; after `timeout` kills the program and panics with its output.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("logsleuth did not exit within {timeout:?}:\n{:?}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the program (if it still runs) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes the pty and reads the output to its end; returns all of it.
    pub fn close(mut self) -> String {
        drop(self.slave.take());
        drop(self.writer.take());
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.output()
    }

    /// Types `key`, expects a successful exit within 10 s, and closes the pty; returns the
    /// output.
    pub fn quit_with(mut self, key: &[u8]) -> String {
        self.keys(key);
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "{status:?}");
        self.close()
    }
}

/// A screen fed with the bytes the program writes.
struct Screen {
    rows: usize,
    cols: usize,
    cells: Vec<Vec<char>>,
    row: usize,
    col: usize,
    pending: Vec<u8>,
}

impl Screen {
    fn new(rows: usize, cols: usize) -> Self {
        Screen { rows, cols, cells: vec![vec![' '; cols]; rows], row: 0, col: 0, pending: Vec::new() }
    }

    fn feed(&mut self, bytes: &[u8]) {
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
                '\n' => self.row = (self.row + 1).min(self.rows - 1),
                c if c.is_control() => {}
                c => {
                    if self.row < self.rows && self.col < self.cols {
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
            'J' if nums.first() == Some(&2) => self.cells = vec![vec![' '; self.cols]; self.rows],
            'K' if self.row < self.rows => {
                for c in self.col..self.cols {
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
