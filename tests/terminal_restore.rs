//! The terminal is always given back: the binary runs in a pseudo-terminal, is ended by a
//! signal (SIGTERM, SIGHUP as when an SSH session drops, SIGINT from outside), by Ctrl-C or by a
//! panic, and its output must end by leaving the alternate screen, showing the cursor and
//! turning mouse capture off; and the pty's line discipline must be back in cooked mode
//! (ICANON and ECHO set again, read from the parent side with `tcgetattr` on the master, after
//! checking that they were off while the TUI ran).

#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

const ENTER_ALT: &str = "\u{1b}[?1049h";
const LEAVE_ALT: &str = "\u{1b}[?1049l";
const SHOW_CURSOR: &str = "\u{1b}[?25h";
const MOUSE_OFF: &str = "\u{1b}[?1000l";

struct Run {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    /// Our handle on the terminal side, kept until the end so the pty (and its termios)
    /// outlives the child.
    slave: Option<Box<dyn SlavePty + Send>>,
    writer: Box<dyn Write + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Run {
    fn start(envs: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let pair = native_pty_system().openpty(PtySize { rows: 30, cols: 100, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", dir.path());
        cmd.env("XDG_STATE_HOME", dir.path().join("state"));
        cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Run { child, master: pair.master, slave: Some(pair.slave), writer, output, reader: Some(reader), _dir: dir }
    }

    /// The terminal's line discipline, seen from the parent: (ICANON, ECHO).
    fn cooked(&self) -> (bool, bool) {
        let fd = self.master.as_raw_fd().expect("a pty master has a descriptor");
        // SAFETY: tcgetattr fills a zeroed termios for a descriptor we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        (t.c_lflag & libc::ICANON != 0, t.c_lflag & libc::ECHO != 0)
    }

    /// Waits until the TUI has drawn `what`, and checks that it put the terminal in raw mode
    /// (which makes the later check of its restoration meaningful).
    fn wait_raw(&self, what: &str) {
        self.wait_for(what);
        assert_eq!(self.cooked(), (false, false), "raw mode while the TUI runs");
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, what: &str) {
        let start = Instant::now();
        while !self.text().contains(what) {
            assert!(start.elapsed() < Duration::from_secs(30), "never saw {what:?}:\n{:?}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("child pid");
        let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the exit and returns (exit code, all output).
    fn finish(mut self) -> (u32, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("logsleuth did not exit:\n{:?}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(200));
        let cooked = self.cooked();
        drop(self.slave.take());
        drop(self.writer);
        drop(self.master);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let text = String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned();
        assert_eq!(cooked, (true, true), "raw mode left (ICANON and ECHO set again) after exit {status:?}:\n{text:?}");
        (status.exit_code(), text)
    }
}

/// The restore sequences come after the last drawing, in the right order.
fn assert_restored(text: &str) {
    let enter = text.find(ENTER_ALT).unwrap_or_else(|| panic!("never entered the alternate screen: {text:?}"));
    let leave = text.rfind(LEAVE_ALT).unwrap_or_else(|| panic!("alternate screen not left: {text:?}"));
    assert!(leave > enter);
    let shown = text.rfind(SHOW_CURSOR).unwrap_or_else(|| panic!("cursor not shown: {text:?}"));
    assert!(shown > enter);
    let mouse_off = text.rfind(MOUSE_OFF).unwrap_or_else(|| panic!("mouse capture not turned off: {text:?}"));
    assert!(mouse_off > enter);
    // Nothing is drawn after leaving the alternate screen (it would land in the shell's screen).
    let tail = &text[leave..];
    assert!(!tail.contains("hits"), "drawing after restore: {tail:?}");
}

fn ended_by(signal: &str, code: u32) {
    let run = Run::start(&[]);
    run.wait_raw("1,000 hits");
    run.signal(signal);
    let (exit, text) = run.finish();
    assert_restored(&text);
    assert_eq!(exit, code, "exit status after SIG{signal}");
}

#[test]
fn sigterm_restores_the_terminal() {
    ended_by("TERM", 143);
}

#[test]
fn sighup_restores_the_terminal() {
    ended_by("HUP", 129);
}

#[test]
fn sigint_from_outside_restores_the_terminal() {
    ended_by("INT", 130);
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let mut run = Run::start(&[]);
    run.wait_raw("1,000 hits");
    run.writer.write_all(b"\x03").unwrap();
    run.writer.flush().unwrap();
    let (exit, text) = run.finish();
    assert_restored(&text);
    assert_eq!(exit, 0);
}

#[test]
fn a_panic_restores_the_terminal_then_prints_the_message() {
    let run = Run::start(&[("LOGSLEUTH_DEBUG_PANIC", "1")]);
    let (exit, text) = run.finish();
    assert_ne!(exit, 0);
    assert_restored(&text);
    let leave = text.rfind(LEAVE_ALT).unwrap();
    let message = text.find("LOGSLEUTH_DEBUG_PANIC is set").unwrap_or_else(|| panic!("no panic message: {text:?}"));
    assert!(message > leave, "the panic message is printed after the restore, where it stays readable: {text:?}");
}

#[test]
fn q_quits_and_restores_the_terminal() {
    let mut run = Run::start(&[]);
    run.wait_raw("1,000 hits");
    run.writer.write_all(b"q").unwrap();
    run.writer.flush().unwrap();
    let (exit, text) = run.finish();
    assert_restored(&text);
    assert_eq!(exit, 0);
}
