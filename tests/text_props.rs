//! Property tests of the terminal-safety helpers on arbitrary text, including every control
//! and bidi character: the output never holds an unsafe character, clean text is unchanged,
//! and escaped JSON keeps its value.

use logsleuth::text::{escape_json_controls, is_unsafe_char, sanitize, sanitize_bytes, truncate_chars};
use proptest::prelude::*;

/// Strings rich in the characters that matter.
fn hostile_text() -> impl Strategy<Value = String> {
    let interesting = prop_oneof![
        any::<char>(),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
        prop::sample::select(vec!['\u{1b}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{061c}', '\u{feff}', '[', ']', ';', '\\']),
    ];
    prop::collection::vec(interesting, 0..64).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn sanitized_text_is_safe(text in hostile_text()) {
        let safe = sanitize(&text);
        prop_assert!(!safe.chars().any(|c| is_unsafe_char(c) || c == '\t'), "{:?}", safe);
        if !text.chars().any(|c| is_unsafe_char(c) || c == '\t') {
            prop_assert_eq!(safe.as_ref(), text.as_str());
        }
    }

    #[test]
    fn sanitized_bytes_are_safe(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        prop_assert!(!sanitize_bytes(&bytes).chars().any(is_unsafe_char));
    }

    #[test]
    fn escaped_json_keeps_its_value(text in hostile_text(), key in hostile_text()) {
        let value = serde_json::json!({ key: text });
        let printed = serde_json::to_string(&value).unwrap();
        let safe = escape_json_controls(&printed);
        prop_assert!(!safe.chars().any(is_unsafe_char));
        prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }

    #[test]
    fn truncation_never_splits_a_character(text in hostile_text(), n in 0usize..80) {
        let cut = truncate_chars(&text, n);
        prop_assert!(cut.chars().count() <= n + 1);
        prop_assert!(text.starts_with(cut.trim_end_matches('…')) || cut.is_empty());
    }
}
