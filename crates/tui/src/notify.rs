//! Telling the user a watch fired, through the terminal: the bell, and a desktop notification
//! by OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal) and OSC 777 (`notify;TITLE;BODY`: VTE
//! terminals, foot, urxvt), each wrapped for tmux or GNU screen by the same passthrough as the
//! OSC 52 clipboard ([`crate::clipboard::passthrough`]). Terminals that know neither ignore
//! them.
//!
//! The text comes from rule names and the KQL of the user, but a value may echo a log: every
//! control character is dropped (an ESC or BEL would end the sequence and start another), and
//! `;` (OSC 777's field separator) becomes `,`.

use crate::clipboard::{Multiplexer, passthrough};

/// Longest title and body sent, in characters (notification daemons cut them anyway).
const MAX_TITLE: usize = 60;
const MAX_BODY: usize = 200;

/// Text safe inside an OSC string: no control characters, no `;`, at most `max` characters.
pub fn clean(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).map(|c| if c == ';' { ',' } else { c }).take(max).collect()
}

/// The bytes that ring the bell and show `title` / `body` as a desktop notification.
pub fn alert_sequence(title: &str, body: &str, multiplexer: Multiplexer) -> String {
    let (title, body) = (clean(title, MAX_TITLE), clean(body, MAX_BODY));
    let osc9 = format!("\x1b]9;{title}: {body}\x07");
    let osc777 = format!("\x1b]777;notify;{title};{body}\x07");
    // The bell is the multiplexer's own business (tmux passes it on by its bell-action).
    format!("\x07{}{}", passthrough(&osc9, multiplexer), passthrough(&osc777, multiplexer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_terminal_gets_the_bell_osc9_and_osc777() {
        assert_eq!(
            alert_sequence("logsleuth: errors firing", "12 > 3 per 1m", Multiplexer::None),
            "\x07\x1b]9;logsleuth: errors firing: 12 > 3 per 1m\x07\x1b]777;notify;logsleuth: errors firing;12 > 3 per 1m\x07"
        );
    }

    #[test]
    fn tmux_gets_each_notification_in_a_passthrough_with_escapes_doubled() {
        assert_eq!(
            alert_sequence("t", "b", Multiplexer::Tmux),
            "\x07\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\\x1bPtmux;\x1b\x1b]777;notify;t;b\x07\x1b\\"
        );
    }

    #[test]
    fn hostile_text_cannot_end_the_sequence_or_add_fields() {
        let seq = alert_sequence("x\x1b]0;pwned\x07", "a;b\nc\u{9b}d", Multiplexer::None);
        // One bell, and the two sequences' own ESC and BEL only.
        assert_eq!(seq.matches('\x1b').count(), 2, "{seq:?}");
        assert_eq!(seq.matches('\x07').count(), 3, "{seq:?}");
        assert!(!seq.contains('\u{9b}') && !seq.contains('\n'));
        assert!(seq.contains("\x1b]777;notify;x]0,pwned;a,bcd\x07"), "{seq:?}");
        assert_eq!(clean(&"é".repeat(500), 60).chars().count(), 60);
    }

    #[test]
    fn screen_chunks_keep_utf8_whole() {
        let seq = alert_sequence("ünïcödé", &"é".repeat(150), Multiplexer::Screen);
        assert!(seq.starts_with("\x07\x1bP"));
        for chunk in seq[1..].split("\x1b\\").filter(|c| !c.is_empty()) {
            assert!(chunk.starts_with("\x1bP") && chunk.len() <= 78, "{chunk:?}");
        }
    }
}
