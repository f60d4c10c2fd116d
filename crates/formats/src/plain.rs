//! Plain lines: the line as is, plus a timestamp and level when a cheap look at the start of
//! the line finds them (ISO 8601 / log4j times, Apache error-log brackets, HDFS `yyMMdd HHmmss`).

use chrono::NaiveDate;

use super::access::month_number;
use logsleuth_core::model::{Fields, Nanos, Record, Value};

const LEVELS: [&str; 11] = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "CRITICAL", "FATAL", "SEVERE"];

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n.saturating_mul(10).saturating_add(u32::from(d - b'0'))))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Option<Nanos> {
    NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, s, nanos)?.and_utc().timestamp_nanos_opt()
}

/// Finds a timestamp at the start of the line, if there is one of the known shapes.
pub(super) fn sniff_timestamp(line: &str) -> Option<Nanos> {
    let b = line.as_bytes();
    if b.first() == Some(&b'[') {
        return apache_error_time(line).map(|(ts, _)| ts);
    }
    if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && (b[10] == b'T' || b[10] == b' ') && b[13] == b':' {
        return iso_time(line);
    }
    if b.len() >= 14 && b[6] == b' ' && b[13] == b' ' {
        // HDFS / log4j compact: `081109 203615 …`
        let (d, t) = (num(&b[0..6])?, num(&b[7..13])?);
        return utc(2000 + (d / 10000) as i32, d / 100 % 100, d % 100, t / 10000, t / 100 % 100, t % 100, 0);
    }
    None
}

/// `2024-05-01T10:00:00Z`, `2024-05-01 10:00:00,123`, `2024-05-01T10:00:00.5+02:00`.
fn iso_time(line: &str) -> Option<Nanos> {
    let b = line.as_bytes();
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if b[16] != b':' {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &line[start..i.min(start + 9)];
        if !digits.is_empty() {
            nanos = digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32);
        }
    }
    let base = utc(y as i32, mo, d, h, mi, s, nanos)?;
    let offset_secs: i64 = match b.get(i) {
        Some(b'+') | Some(b'-') if b.len() >= i + 3 => {
            let sign = if b[i] == b'+' { 1 } else { -1 };
            let hh = num(&b[i + 1..i + 3])?;
            let rest = &b[i + 3..];
            let mm = match rest {
                [b':', m1, m2, ..] => num(&[*m1, *m2])?,
                [m1, m2, ..] if m1.is_ascii_digit() => num(&[*m1, *m2])?,
                _ => 0,
            };
            sign * i64::from(hh * 3600 + mm * 60)
        }
        _ => 0,
    };
    base.checked_sub(offset_secs * 1_000_000_000)
}

/// `[Sun Dec 04 04:47:44 2005] [error] …` (Apache 2.4 adds microseconds) → time and the
/// rest of the line after the bracket.
fn apache_error_time(line: &str) -> Option<(Nanos, &str)> {
    let end = line.find(']')?;
    let inner = &line[1..end];
    let mut parts = inner.split_ascii_whitespace();
    let _weekday = parts.next()?;
    let month = month_number(parts.next()?.as_bytes())?;
    let day = num(parts.next()?.as_bytes())?;
    let time = parts.next()?;
    let year = num(parts.next()?.as_bytes())?;
    let tb = time.as_bytes();
    if tb.len() < 8 || tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&tb[0..2])?, num(&tb[3..5])?, num(&tb[6..8])?);
    let micros = if tb.len() > 9 && tb[8] == b'.' { num(&tb[9..tb.len().min(15)])? } else { 0 };
    Some((utc(year as i32, month, day, h, m, s, micros.saturating_mul(1000))?, &line[end + 1..]))
}

fn sniff_level(line: &str) -> Option<String> {
    if line.starts_with('[')
        && let Some((_, rest)) = apache_error_time(line)
        && let Some(inner) = rest.trim_start().strip_prefix('[').and_then(|r| r.split_once(']')).map(|(l, _)| l)
    {
        // `[error]` or Apache 2.4's `[core:error]`.
        let level = inner.rsplit(':').next().unwrap_or(inner);
        if !level.is_empty() && level.len() <= 8 && level.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(super::normalize_level(level));
        }
    }
    line.split_ascii_whitespace().take(6).find_map(|tok| {
        let t = tok.trim_matches(|c| c == '[' || c == ']' || c == ':');
        LEVELS.contains(&t).then(|| super::normalize_level(t))
    })
}

/// A plain record: the line, its sniffed timestamp, and `level` when found.
pub(super) fn parse(line: &str) -> Record {
    let mut fields = Fields::new();
    if let Some(level) = sniff_level(line) {
        fields.push("level", Value::Str(level));
    }
    Record { timestamp: sniff_timestamp(line), message: line.to_string(), fields, ..Record::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::parse_absolute;

    fn at(s: &str) -> Nanos {
        parse_absolute(s, None).unwrap()
    }

    #[test]
    fn apache_error_log_lines() {
        let r = parse("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6");
        assert_eq!(r.timestamp, Some(at("2005-12-04T04:47:44Z")));
        assert_eq!(r.fields.get("level"), Some(&Value::Str("error".into())));
        let r = parse("[Wed Oct 11 14:32:52.123456 2000] [core:notice] [pid 1] x");
        assert_eq!(r.timestamp, Some(at("2000-10-11T14:32:52.123456Z")));
        assert_eq!(r.fields.get("level"), Some(&Value::Str("notice".into())));
    }

    #[test]
    fn iso_and_hdfs_prefixes() {
        assert_eq!(sniff_timestamp("2024-05-01 10:00:00,123 INFO x"), Some(at("2024-05-01T10:00:00.123Z")));
        assert_eq!(sniff_timestamp("2024-05-01T12:00:00+02:00 x"), Some(at("2024-05-01T10:00:00Z")));
        assert_eq!(sniff_timestamp("2024-05-01T10:00:00Z"), Some(at("2024-05-01T10:00:00Z")));
        let r = parse("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating");
        assert_eq!(r.timestamp, Some(at("2008-11-09T20:36:15Z")));
        assert_eq!(r.fields.get("level"), Some(&Value::Str("info".into())));
    }

    #[test]
    fn hostile_starts_do_not_panic() {
        for line in ["[", "[]", "[Sun", "2024-99-99T99:99:99Z", "\0\0\0\0\0\0 \0\0\0\0\0\0 ", "é", "[é é é é é]", "2024-05-01T10:00:00.é"] {
            let _ = parse(line);
        }
        assert_eq!(sniff_timestamp("just text"), None);
    }
}
