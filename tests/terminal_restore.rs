//! The terminal is always given back: the binary runs in a pseudo-terminal, is ended by a
//! signal (SIGTERM, SIGHUP as when an SSH session drops, SIGINT from outside), by Ctrl-C or by a
//! panic, and its output must end by leaving the alternate screen, showing the cursor and
//! turning mouse capture off; and the pty's line discipline must be back in cooked mode
//! (ICANON and ECHO set again, read from the parent side with `tcgetattr` on the master, after
//! checking that they were off while the TUI ran).

#![cfg(unix)]

mod support;

use std::time::Duration;

use support::pty::{self, Pty};

const ENTER_ALT: &str = "\u{1b}[?1049h";
const LEAVE_ALT: &str = "\u{1b}[?1049l";
const SHOW_CURSOR: &str = "\u{1b}[?25h";
const MOUSE_OFF: &str = "\u{1b}[?1000l";

/// The TUI on the sample log in a 100x30 pty, with its own home.
struct Run {
    pty: Pty,
    _dir: tempfile::TempDir,
}

impl Run {
    fn start(envs: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = pty::command(&[concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log")], dir.path());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Run { pty: Pty::spawn(cmd, 30, 100), _dir: dir }
    }

    /// Waits until the TUI has drawn `what`, and checks that it put the terminal in raw mode
    /// (which makes the later check of its restoration meaningful).
    fn wait_raw(&mut self, what: &str) {
        self.pty.wait_output(what, Duration::from_secs(30));
        assert_eq!(self.pty.cooked(), (false, false), "raw mode while the TUI runs");
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(self.pty.pid().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the exit and returns (exit code, all output), checking that the terminal is
    /// back in cooked mode.
    fn finish(mut self) -> (u32, String) {
        let status = self.pty.wait_exit(Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(200));
        let cooked = self.pty.cooked();
        let text = self.pty.close();
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
    let mut run = Run::start(&[]);
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
    run.pty.keys(b"\x03");
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
    run.pty.keys(b"q");
    let (exit, text) = run.finish();
    assert_restored(&text);
    assert_eq!(exit, 0);
}
