//! logfmt: `key=value key2="quoted value" empty=`. Every token must be a pair, so prose that
//! happens to contain `a=b` is not mistaken for logfmt. Values stay strings (logfmt is untyped).

use logsleuth_core::model::{Fields, Nanos, Record, Value};

/// One `key=value` pair, borrowed; `quoted` values still hold their escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pair<'a> {
    pub key: &'a str,
    pub raw: &'a str,
    pub quoted: bool,
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@' | b'/' | b':')
}

/// Scans a line into pairs; `None` unless the whole line is at least two pairs.
pub(super) fn scan(line: &str) -> Option<Vec<Pair<'_>>> {
    let b = line.as_bytes();
    let mut pairs = Vec::with_capacity(8);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < b.len() && is_key_byte(b[i]) {
            i += 1;
        }
        if i == key_start || i >= b.len() || b[i] != b'=' {
            return None;
        }
        let key = &line[key_start..i];
        i += 1;
        if i < b.len() && b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            loop {
                match b.get(j) {
                    None => return None,
                    Some(b'\\') => j += 2,
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            pairs.push(Pair { key, raw: &line[start..j], quoted: true });
            i = j + 1;
            if i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                return None;
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                i += 1;
            }
            let raw = &line[start..i];
            if raw.contains('"') {
                return None;
            }
            pairs.push(Pair { key, raw, quoted: false });
        }
    }
    (pairs.len() >= 2).then_some(pairs)
}

fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn value_of(p: &Pair<'_>) -> String {
    if p.quoted { unescape(p.raw) } else { p.raw.to_string() }
}

/// The timestamp from `time`, `ts`, `timestamp` or `t`.
pub(super) fn timestamp(pairs: &[Pair<'_>]) -> Option<Nanos> {
    ["time", "ts", "timestamp", "t", "@timestamp"].iter().find_map(|k| {
        pairs.iter().find(|p| p.key == *k).and_then(|p| super::json::parse_text_time(&value_of(p)))
    })
}

/// Builds the record (a repeated key keeps its last value, as Loki's logfmt stage does).
pub(super) fn to_record(line: &str, pairs: &[Pair<'_>]) -> Record {
    let mut fields = Fields(Vec::with_capacity(pairs.len()));
    for p in pairs {
        fields.set(p.key, Value::Str(value_of(p)));
    }
    Record { timestamp: timestamp(pairs), message: line.to_string(), fields, ..Record::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_and_empty_values() {
        let line = r#"time="2021-09-15T21:17:10.220731Z" level=error msg="error \"x\" found: PodNotFound" reason= status=Pending"#;
        let pairs = scan(line).unwrap();
        let r = to_record(line, &pairs);
        assert_eq!(r.timestamp, Some(logsleuth_core::time::parse_absolute("2021-09-15T21:17:10.220731Z", None).unwrap()));
        assert_eq!(r.fields.get("level"), Some(&Value::Str("error".into())));
        assert_eq!(r.fields.get("msg"), Some(&Value::Str("error \"x\" found: PodNotFound".into())));
        assert_eq!(r.fields.get("reason"), Some(&Value::Str(String::new())));
        assert_eq!(r.fields.get("status"), Some(&Value::Str("Pending".into())));
    }

    #[test]
    fn prose_and_broken_quotes_are_not_logfmt() {
        assert!(scan("authentication failure; logname= uid=0 euid=0").is_none());
        assert!(scan(r#"a=1 b="unterminated"#).is_none());
        assert!(scan("a=1").is_none());
        assert!(scan(r#"a="x"y b=2"#).is_none());
        assert!(scan("").is_none());
    }
}
