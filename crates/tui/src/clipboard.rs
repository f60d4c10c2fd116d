//! Copying to the clipboard with OSC 52, which works over SSH: the terminal emulator on the
//! user's machine receives `ESC ] 52 ; c ; BASE64 BEL` and sets its clipboard. Inside tmux or
//! GNU screen the sequence is wrapped in a DCS passthrough so the multiplexer hands it on.
//!
//! The payload is base64, so hostile text cannot inject terminal sequences through it. Not
//! every terminal supports OSC 52 (and some limit its size), so the UI says what it did and
//! offers a file instead when OSC 52 is turned off (`LOGSLEUTH_OSC52=off`) or the text is too
//! large ([`MAX_OSC52_BYTES`]).

use base64::Engine as _;

/// Largest text sent by OSC 52 (terminals cap the sequence; xterm's default is about 100 kB).
pub const MAX_OSC52_BYTES: usize = 100_000;

/// The environment variable that turns OSC 52 off (`0`, `off`, `false`, `no`).
pub const OSC52_ENV: &str = "LOGSLEUTH_OSC52";

/// The terminal multiplexer between us and the terminal, which needs the sequence wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Multiplexer {
    /// None: the sequence goes straight to the terminal.
    #[default]
    None,
    /// tmux (`$TMUX` set): DCS `tmux;` passthrough with ESC doubled (needs
    /// `set -g allow-passthrough on` in tmux 3.3+, or `set-clipboard on`).
    Tmux,
    /// GNU screen (`$STY` set): DCS passthrough in chunks (screen limits a DCS string).
    Screen,
}

impl Multiplexer {
    /// From `$TMUX` / `$STY`.
    pub fn from_env() -> Multiplexer {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if set("TMUX") {
            Multiplexer::Tmux
        } else if set("STY") {
            Multiplexer::Screen
        } else {
            Multiplexer::None
        }
    }
}

/// How copying works in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipboardOptions {
    /// OSC 52 may be used.
    pub osc52: bool,
    /// The multiplexer to wrap the sequence for.
    pub multiplexer: Multiplexer,
}

impl Default for ClipboardOptions {
    fn default() -> Self {
        ClipboardOptions { osc52: true, multiplexer: Multiplexer::None }
    }
}

impl ClipboardOptions {
    /// From the environment: [`OSC52_ENV`], `$TMUX`, `$STY`.
    pub fn from_env() -> ClipboardOptions {
        let off = std::env::var(OSC52_ENV)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "off" | "false" | "no"))
            .unwrap_or(false);
        ClipboardOptions { osc52: !off, multiplexer: Multiplexer::from_env() }
    }
}

/// Bytes per DCS chunk inside GNU screen (its limit is 768; stay well below).
const SCREEN_CHUNK: usize = 76;

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &str, multiplexer: Multiplexer) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    passthrough(&format!("\x1b]52;c;{payload}\x07"), multiplexer)
}

/// Wraps a terminal sequence so the multiplexer hands it on to the terminal (OSC 52, the
/// watches' OSC 9 / OSC 777 notifications): as it is outside one, a DCS `tmux;` passthrough
/// with every ESC doubled inside tmux, short DCS chunks inside GNU screen.
pub fn passthrough(inner: &str, multiplexer: Multiplexer) -> String {
    match multiplexer {
        Multiplexer::None => inner.to_string(),
        // Inside the passthrough every ESC of the inner sequence is doubled.
        Multiplexer::Tmux => format!("\x1bPtmux;{}\x1b\\", inner.replace('\x1b', "\x1b\x1b")),
        Multiplexer::Screen => {
            let mut out = String::with_capacity(inner.len() + inner.len() / SCREEN_CHUNK * 4 + 8);
            let mut chunk = String::new();
            // Chunks end on character boundaries (a notification's text may be UTF-8).
            for c in inner.chars() {
                if chunk.len() + c.len_utf8() > SCREEN_CHUNK {
                    out.push_str("\x1bP");
                    out.push_str(&chunk);
                    out.push_str("\x1b\\");
                    chunk.clear();
                }
                chunk.push(c);
            }
            if !chunk.is_empty() {
                out.push_str("\x1bP");
                out.push_str(&chunk);
                out.push_str("\x1b\\");
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_osc52_is_base64_between_the_introducer_and_bel() {
        assert_eq!(osc52("hello", Multiplexer::None), "\x1b]52;c;aGVsbG8=\x07");
        // Hostile text cannot break out: the payload is base64.
        let seq = osc52("\x1b]0;pwned\x07", Multiplexer::None);
        assert_eq!(seq.matches('\x1b').count(), 1);
        assert_eq!(seq.matches('\x07').count(), 1);
    }

    #[test]
    fn tmux_wraps_in_a_passthrough_with_escapes_doubled() {
        assert_eq!(osc52("hi", Multiplexer::Tmux), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn screen_splits_into_short_dcs_chunks() {
        let text = "x".repeat(300);
        let seq = osc52(&text, Multiplexer::Screen);
        let chunks: Vec<&str> = seq.split("\x1b\\").filter(|c| !c.is_empty()).collect();
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.starts_with("\x1bP") && c.len() <= SCREEN_CHUNK + 2), "{chunks:?}");
        let inner: String = chunks.iter().map(|c| &c[2..]).collect();
        assert_eq!(inner, osc52(&text, Multiplexer::None));
    }
}
