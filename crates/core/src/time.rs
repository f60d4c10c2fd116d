//! Time parsing and formatting: durations (`15m`), RFC 3339, and Elasticsearch-style date math
//! (`now-1h`, `now/d`, `2024-01-01||+1M/d`). Used by the CLI's `--since/--from/--to`, the time
//! picker and KQL date ranges.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::model::{Nanos, TimeRange};

/// Errors from parsing times and durations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// A duration like `15m` was malformed.
    #[error("invalid duration '{0}': expected a number and a unit (ms, s, m, h, d, w), e.g. 15m")]
    Duration(String),
    /// A timestamp or date-math expression was malformed.
    #[error("invalid time '{0}': expected RFC 3339 (2024-05-01T10:00:00Z) or date math (now-1h, now/d)")]
    Time(String),
    /// A timestamp was outside the range representable in nanoseconds (years 1677..2262).
    #[error("time '{0}' is out of range")]
    OutOfRange(String),
    /// A range whose start is not before its end (RFC 3339 texts of both).
    #[error("the start ({from}) must be before the end ({to})")]
    Reversed {
        /// The start, resolved.
        from: String,
        /// The end, resolved.
        to: String,
    },
}

/// Nanoseconds per unit.
pub const NS_PER_SEC: i64 = 1_000_000_000;

/// The current time in ns.
pub fn now_nanos() -> Nanos {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Parses a duration: an integer and a unit among `ms s m h d w` (`90s`, `15m`, `7d`), or
/// several such parts (`1h30m`). Returns nanoseconds.
pub fn parse_duration(text: &str) -> Result<Nanos, TimeError> {
    let err = || TimeError::Duration(text.to_string());
    let s = text.trim();
    if s.is_empty() {
        return Err(err());
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(err());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| err())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let per = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NS_PER_SEC,
            "m" => 60 * NS_PER_SEC,
            "h" => 3600 * NS_PER_SEC,
            "d" => 86_400 * NS_PER_SEC,
            "w" => 7 * 86_400 * NS_PER_SEC,
            _ => return Err(err()),
        };
        total = n.checked_mul(per).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
    }
    Ok(total)
}

/// Formats a duration compactly with the largest exact unit (`90s` → `90s`, `3600s` → `1h`).
pub fn format_duration(ns: Nanos) -> String {
    const UNITS: [(&str, i64); 7] = [
        ("w", 7 * 86_400 * NS_PER_SEC),
        ("d", 86_400 * NS_PER_SEC),
        ("h", 3600 * NS_PER_SEC),
        ("m", 60 * NS_PER_SEC),
        ("s", NS_PER_SEC),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (unit, per) in UNITS {
        if ns % per == 0 {
            return format!("{}{unit}", ns / per);
        }
    }
    format!("{ns}ns")
}

/// A length of time for people, to the second: `6h 3m 36s`, `10m`, `2d 1h` (under a second:
/// [`format_duration`]'s exact form). Unlike [`format_duration`], not meant to be parsed back.
pub fn format_span(ns: Nanos) -> String {
    if ns.unsigned_abs() < NS_PER_SEC as u64 {
        return format_duration(ns);
    }
    let mut left = ns.abs() / NS_PER_SEC;
    let mut parts = Vec::new();
    for (unit, per) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if left >= per {
            parts.push(format!("{}{unit}", left / per));
            left %= per;
        }
    }
    format!("{}{}", if ns < 0 { "-" } else { "" }, parts.join(" "))
}

/// Formats a timestamp as RFC 3339 UTC with the shortest exact fraction
/// (`2024-05-01T10:00:00Z`, `…:00.123Z`, `…:00.123456789Z`).
pub fn format_rfc3339(ns: Nanos) -> String {
    let dt = Utc.timestamp_nanos(ns);
    let frac = dt.nanosecond();
    let base = dt.format("%Y-%m-%dT%H:%M:%S");
    if frac == 0 {
        format!("{base}Z")
    } else if frac.is_multiple_of(1_000_000) {
        format!("{base}.{:03}Z", frac / 1_000_000)
    } else if frac.is_multiple_of(1_000) {
        format!("{base}.{:06}Z", frac / 1_000)
    } else {
        format!("{base}.{frac:09}Z")
    }
}

/// Formats a timestamp as RFC 3339 UTC with exactly three fraction digits, the form every
/// Elasticsearch-compatible server accepts for `strict_date_optional_time`.
pub fn format_rfc3339_millis(ns: Nanos) -> String {
    Utc.timestamp_nanos(ns).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Converts a chrono time to ns, failing outside the representable range.
pub fn to_nanos<T: TimeZone>(dt: &DateTime<T>) -> Option<Nanos> {
    dt.timestamp_nanos_opt()
}

/// Parses an absolute time: RFC 3339, or a date/date-time without zone (taken in `tz`, UTC if
/// none), or epoch milliseconds as digits only.
pub fn parse_absolute(text: &str, tz: Option<Tz>) -> Result<Nanos, TimeError> {
    let s = text.trim();
    let err = || TimeError::Time(text.to_string());
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return to_nanos(&dt).ok_or_else(|| TimeError::OutOfRange(text.into()));
    }
    if !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().map_err(|_| err())?;
        return ms.checked_mul(1_000_000).ok_or_else(|| TimeError::OutOfRange(text.into()));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
    .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
    .or_else(|| {
        // `2024` alone is a year, as in ES date parsing.
        (s.len() == 4)
            .then(|| s.parse::<i32>().ok())
            .flatten()
            .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .ok_or_else(err)?;
    local_to_nanos(naive, tz).ok_or_else(|| TimeError::OutOfRange(text.into()))
}

fn local_to_nanos(naive: NaiveDateTime, tz: Option<Tz>) -> Option<Nanos> {
    match tz {
        None => to_nanos(&Utc.from_utc_datetime(&naive)),
        Some(tz) => tz.from_local_datetime(&naive).earliest().and_then(|dt| to_nanos(&dt)),
    }
}

/// Parses a time given as RFC 3339 / absolute date, or as date math relative to `now`
/// (`now`, `now-15m`, `now-1d/d`, `2024-01-01||+1M`). Rounding (`/d`) rounds down, or up to the
/// last nanosecond of the unit when `round_up` (ES's behaviour for `lte`/`to` bounds).
/// Calendar units round in `tz` (UTC if none).
pub fn parse_time(text: &str, now: Nanos, tz: Option<Tz>, round_up: bool) -> Result<Nanos, TimeError> {
    let s = text.trim();
    let (anchor, math) = if let Some(rest) = s.strip_prefix("now") {
        (now, rest)
    } else if let Some((date, rest)) = s.split_once("||") {
        (parse_absolute(date, tz)?, rest)
    } else {
        return parse_absolute(s, tz);
    };
    apply_date_math(anchor, math, tz, round_up).ok_or_else(|| TimeError::Time(text.to_string()))
}

/// The one way a time range given as text is resolved (the CLI's `--from/--to`, the time
/// picker and workspace ranges): `from` and `to` as [`parse_time`] reads them at `now`, a side
/// left out staying open. A rounded end (`now/d`, `now-1d/d`, `2024-05-01||/M`) means "through
/// the end of that day / month", as in Kibana's time picker and Elasticsearch's `lte`: it is
/// rounded up and made exclusive, so `to = now/d` ends at the next midnight and
/// [`TimeRange::to`] stays an exclusive bound. A start that is not before the end is an error.
pub fn resolve_range(from: Option<&str>, to: Option<&str>, now: Nanos, tz: Option<Tz>) -> Result<TimeRange, TimeError> {
    let from = from.map(|t| parse_time(t, now, tz, false)).transpose()?;
    let to = to.map(|t| parse_end(t, now, tz)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(TimeError::Reversed { from: format_rfc3339(f), to: format_rfc3339(t) });
    }
    Ok(TimeRange { from, to })
}

/// The exclusive end a `to` text stands for: rounded date math rounds up to the last
/// nanosecond of its unit, plus one.
fn parse_end(text: &str, now: Nanos, tz: Option<Tz>) -> Result<Nanos, TimeError> {
    let rounded = is_date_math(text) && text.contains('/');
    let end = parse_time(text, now, tz, rounded)?;
    Ok(if rounded { end.saturating_add(1) } else { end })
}

/// True when `text` is date math (starts with `now` or contains `||`).
pub fn is_date_math(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("now") || t.contains("||")
}

fn apply_date_math(anchor: Nanos, math: &str, tz: Option<Tz>, round_up: bool) -> Option<Nanos> {
    let tz = tz.unwrap_or(chrono_tz::UTC);
    let mut dt = tz.timestamp_nanos(anchor);
    let bytes = math.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let op = bytes[i];
        i += 1;
        match op {
            b'+' | b'-' => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let n: i64 = if start == i { 1 } else { math[start..i].parse().ok()? };
                let unit = *bytes.get(i)?;
                i += 1;
                let n = if op == b'-' { -n } else { n };
                dt = add_unit(dt, n, unit)?;
            }
            b'/' => {
                let unit = *bytes.get(i)?;
                i += 1;
                dt = round_down(dt, unit)?;
                if round_up {
                    dt = add_unit(dt, 1, unit)? - Duration::nanoseconds(1);
                }
            }
            _ => return None,
        }
    }
    dt.timestamp_nanos_opt()
}

fn add_unit(dt: DateTime<Tz>, n: i64, unit: u8) -> Option<DateTime<Tz>> {
    let months = |m: i64| -> Option<DateTime<Tz>> {
        let m32 = i32::try_from(m).ok()?;
        if m32 >= 0 {
            dt.checked_add_months(chrono::Months::new(m32 as u32))
        } else {
            dt.checked_sub_months(chrono::Months::new(m32.unsigned_abs()))
        }
    };
    match unit {
        b'y' => months(n.checked_mul(12)?),
        b'M' => months(n),
        b'w' => dt.checked_add_signed(Duration::try_weeks(n)?),
        b'd' => dt.checked_add_signed(Duration::try_days(n)?),
        b'h' | b'H' => dt.checked_add_signed(Duration::try_hours(n)?),
        b'm' => dt.checked_add_signed(Duration::try_minutes(n)?),
        b's' => dt.checked_add_signed(Duration::try_seconds(n)?),
        _ => None,
    }
}

fn round_down(dt: DateTime<Tz>, unit: u8) -> Option<DateTime<Tz>> {
    let tz = dt.timezone();
    let date = dt.date_naive();
    let naive = match unit {
        b'y' => NaiveDate::from_ymd_opt(date.year(), 1, 1)?.and_hms_opt(0, 0, 0)?,
        b'M' => NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?.and_hms_opt(0, 0, 0)?,
        b'w' => {
            let back = date.weekday().num_days_from_monday() as i64;
            (date - Duration::days(back)).and_hms_opt(0, 0, 0)?
        }
        b'd' => date.and_hms_opt(0, 0, 0)?,
        b'h' | b'H' => date.and_hms_opt(dt.hour(), 0, 0)?,
        b'm' => date.and_hms_opt(dt.hour(), dt.minute(), 0)?,
        b's' => date.and_hms_opt(dt.hour(), dt.minute(), dt.second())?,
        _ => return None,
    };
    tz.from_local_datetime(&naive).earliest()
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(format_span(21_816 * NS_PER_SEC), "6h 3m 36s");
        assert_eq!(format_span(600 * NS_PER_SEC), "10m");
        assert_eq!(format_span(90_000 * NS_PER_SEC), "1d 1h");
        assert_eq!(format_span(1_500_000), "1500us");
    }

    use super::*;

    fn at(s: &str) -> Nanos {
        parse_absolute(s, None).unwrap()
    }

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("15m").unwrap(), 15 * 60 * NS_PER_SEC);
        assert_eq!(parse_duration("1h30m").unwrap(), 90 * 60 * NS_PER_SEC);
        assert_eq!(parse_duration("7d").unwrap(), 7 * 86_400 * NS_PER_SEC);
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
        assert_eq!(format_duration(3600 * NS_PER_SEC), "1h");
        assert_eq!(format_duration(90 * NS_PER_SEC), "90s");
    }

    #[test]
    fn rfc3339_formatting_uses_shortest_exact_fraction() {
        assert_eq!(format_rfc3339(at("2024-05-01T10:00:00Z")), "2024-05-01T10:00:00Z");
        assert_eq!(format_rfc3339(at("2024-05-01T10:00:00.120Z")), "2024-05-01T10:00:00.120Z");
        assert_eq!(format_rfc3339(1_795_313_033_558_632_019), "2026-11-22T02:03:53.558632019Z");
        assert_eq!(format_rfc3339_millis(at("2024-05-01T10:00:00Z")), "2024-05-01T10:00:00.000Z");
    }

    #[test]
    fn date_math_relative_to_now_with_rounding() {
        let now = at("2024-05-15T10:31:12Z");
        assert_eq!(parse_time("now", now, None, false).unwrap(), now);
        assert_eq!(parse_time("now-15m", now, None, false).unwrap(), at("2024-05-15T10:16:12Z"));
        assert_eq!(parse_time("now-1d/d", now, None, false).unwrap(), at("2024-05-14T00:00:00Z"));
        assert_eq!(parse_time("now/d", now, None, true).unwrap(), at("2024-05-16T00:00:00Z") - 1);
        assert_eq!(parse_time("now-1M", now, None, false).unwrap(), at("2024-04-15T10:31:12Z"));
        assert_eq!(parse_time("2024-01-31||+1M", now, None, false).unwrap(), at("2024-02-29T00:00:00Z"));
        assert!(parse_time("now-", now, None, false).is_err());
        assert!(parse_time("now-1q", now, None, false).is_err());
    }

    #[test]
    fn rounding_honours_the_time_zone() {
        let now = at("2024-05-15T02:00:00Z");
        let tz: Tz = "America/New_York".parse().unwrap();
        // 02:00Z is 22:00 the day before in New York (EDT, UTC-4).
        assert_eq!(parse_time("now/d", now, Some(tz), false).unwrap(), at("2024-05-14T04:00:00Z"));
    }

    #[test]
    fn ranges_resolve_with_an_exclusive_rounded_end() {
        let now = at("2024-05-15T10:31:12Z");
        let r = resolve_range(Some("now-1d/d"), Some("now/d"), now, None).unwrap();
        assert_eq!(r, TimeRange::between(at("2024-05-14T00:00:00Z"), at("2024-05-16T00:00:00Z")));
        let r = resolve_range(Some("2024-05-01T00:00:00Z"), Some("now"), now, None).unwrap();
        assert_eq!(r, TimeRange::between(at("2024-05-01T00:00:00Z"), now));
        assert_eq!(resolve_range(Some("now-1h"), None, now, None).unwrap(), TimeRange { from: Some(at("2024-05-15T09:31:12Z")), to: None });
        assert_eq!(resolve_range(None, None, now, None).unwrap(), TimeRange::ALL);
        // A rounded end is the next unit's start: 2024-05-01||/M ends at June's first instant.
        assert_eq!(resolve_range(None, Some("2024-05-01||/M"), now, None).unwrap().to, Some(at("2024-06-01T00:00:00Z")));
        assert_eq!(
            resolve_range(Some("now"), Some("now-1h"), now, None).unwrap_err().to_string(),
            "the start (2024-05-15T10:31:12Z) must be before the end (2024-05-15T09:31:12Z)"
        );
        assert!(matches!(resolve_range(Some("soon"), None, now, None), Err(TimeError::Time(_))));
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(at("2024-05-01"), at("2024-05-01T00:00:00Z"));
        assert_eq!(at("2024-05-01T12:00:00+02:00"), at("2024-05-01T10:00:00Z"));
        assert_eq!(at("1714557600000"), at("2024-05-01T10:00:00Z"));
        assert!(parse_absolute("yesterday", None).is_err());
    }
}
