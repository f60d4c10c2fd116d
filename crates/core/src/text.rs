//! Making hostile text safe to draw. Log lines, field names, label values and server error
//! bodies are attacker-controlled: no byte of them may reach the terminal as a control sequence.

use std::borrow::Cow;

/// True for characters that must never be written raw to a terminal: C0 controls (including
/// ESC, but not tab which callers expand), DEL, C1 controls (U+0080..U+009F, which some
/// terminals treat as CSI/OSC introducers), and Unicode bidi overrides/isolates that can make
/// text read differently from what it is ("Trojan Source").
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}' | '\u{000A}'..='\u{001F}' | '\u{007F}'..='\u{009F}'
        | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

/// Returns `text` with every unsafe character shown escaped (`\e`, `\n`, `\x07`, `\u{202e}`)
/// and tabs replaced by a space. Borrowed when nothing needed escaping, which is the usual case.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\t' || is_unsafe_char(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 && is_unsafe_char(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Lossily decodes bytes as UTF-8 (invalid sequences become U+FFFD) and sanitizes the result.
pub fn sanitize_bytes(bytes: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(bytes)).into_owned()
}

/// Makes serialized JSON safe to print: serde_json escapes C0 controls but leaves DEL, C1
/// controls (U+009B is CSI on some terminals) and bidi overrides raw. They can only occur
/// inside JSON strings, where `\uXXXX` means the same character, so the document's value is
/// unchanged while no byte of it can act on a terminal.
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe_char) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Marker appended to text cut short on screen.
pub const TRUNCATION_MARKER: &str = "…";

/// Cuts `text` to at most `max_chars` characters, appending [`TRUNCATION_MARKER`] when cut.
/// Cuts on a character boundary, never inside a UTF-8 sequence.
pub fn truncate_chars(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some(_) if max_chars == 0 => Cow::Borrowed(""),
        Some(_) => {
            let cut = text.char_indices().nth(max_chars - 1).map(|(i, _)| i).unwrap_or(text.len());
            Cow::Owned(format!("{}{TRUNCATION_MARKER}", &text[..cut]))
        }
    }
}

/// Cuts `text` to at most `max_chars` characters by replacing its middle with
/// [`TRUNCATION_MARKER`], keeping both ends. For values that share long prefixes and differ at
/// the end (user agents, URLs, versioned names), where cutting the tail hides the difference.
pub fn truncate_middle(text: &str, max_chars: usize) -> Cow<'_, str> {
    let len = text.chars().count();
    if len <= max_chars {
        return Cow::Borrowed(text);
    }
    if max_chars < 3 {
        return truncate_chars(text, max_chars);
    }
    let keep = max_chars - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let head_end = text.char_indices().nth(head).map(|(i, _)| i).unwrap_or(text.len());
    let tail_start = text.char_indices().nth(len - tail).map(|(i, _)| i).unwrap_or(text.len());
    Cow::Owned(format!("{}{TRUNCATION_MARKER}{}", &text[..head_end], &text[tail_start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        let hostile = "GET /\x1b[2J\x1b]0;pwned\x07 \u{9b}31m \u{202e}abc";
        let safe = sanitize(hostile);
        assert!(!safe.chars().any(is_unsafe_char), "{safe:?}");
        assert_eq!(safe, "GET /\\e[2J\\e]0;pwned\\x07 \\x9b31m \\u{202e}abc");
    }

    #[test]
    fn json_keeps_its_value_without_raw_controls() {
        let value = serde_json::json!({"m": "a\u{9b}2J\u{7f}\u{202e}\x1b[31m b"});
        let text = serde_json::to_string(&value).unwrap();
        let safe = escape_json_controls(&text);
        assert!(!safe.chars().any(is_unsafe_char), "{safe}");
        assert_eq!(safe, r#"{"m":"a\u009b2J\u007f\u202e\u001b[31m b"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
        assert!(matches!(escape_json_controls("{}"), Cow::Borrowed(_)));
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("plain text"), Cow::Borrowed(_)));
        assert_eq!(sanitize("a\tb"), "a b");
    }

    #[test]
    fn middle_truncation_keeps_both_ends() {
        assert_eq!(truncate_middle("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)", 20), "Debian APT…ntu10.21)");
        assert_eq!(truncate_middle("short", 10), "short");
        assert_eq!(truncate_middle("héllo wörld", 6), "hél…ld");
        assert_eq!(truncate_middle("abcdef", 2), "a…");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("abc", 0), "");
    }
}
