//! Syslog, RFC 3164 (BSD: `<PRI>Mmm dd HH:MM:SS host tag[pid]: msg`, `<PRI>` optional, no
//! year, no zone: UTC assumed) and RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`).

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::ParseOptions;
use super::access::month_number;
use logsleuth_core::model::{Fields, Nanos, Record, Value};

/// The parts of a syslog line, borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Syslog<'a> {
    pub pri: Option<u8>,
    pub timestamp: Option<Nanos>,
    pub hostname: Option<&'a str>,
    pub appname: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<&'a str>,
    pub msg: &'a str,
}

const SEVERITIES: [&str; 8] = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"];
const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
    "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

fn split_pri(line: &str) -> Option<(Option<u8>, &str)> {
    let Some(rest) = line.strip_prefix('<') else { return Some((None, line)) };
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pri: u8 = digits.parse().ok().filter(|p| *p <= 191)?;
    Some((Some(pri), &rest[end + 1..]))
}

fn nil(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

/// Whether the line starts like RFC 5424 (`<PRI>1 `).
pub(super) fn is_5424(line: &str) -> bool {
    matches!(split_pri(line), Some((Some(_), rest)) if rest.starts_with("1 "))
}

/// Scans a line as RFC 5424, else RFC 3164.
pub(super) fn scan<'a>(line: &'a str, opts: &ParseOptions) -> Option<Syslog<'a>> {
    let (pri, rest) = split_pri(line)?;
    if pri.is_some()
        && let Some(body) = rest.strip_prefix("1 ")
    {
        return scan_5424(pri, body);
    }
    scan_3164(pri, rest, opts)
}

fn scan_5424(pri: Option<u8>, body: &str) -> Option<Syslog<'_>> {
    let mut parts = body.splitn(6, ' ');
    let ts = parts.next()?;
    let timestamp = if ts == "-" { None } else { Some(chrono::DateTime::parse_from_rfc3339(ts).ok()?.timestamp_nanos_opt()?) };
    let hostname = nil(parts.next()?);
    let appname = nil(parts.next()?);
    let procid = nil(parts.next()?);
    let msgid = nil(parts.next()?);
    let rest = parts.next().unwrap_or("");
    let (sd, msg) = if let Some(after) = rest.strip_prefix('-') {
        (None, after)
    } else if rest.starts_with('[') {
        let end = structured_data_end(rest)?;
        (Some(&rest[..end]), &rest[end..])
    } else {
        return None;
    };
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    Some(Syslog { pri, timestamp, hostname, appname, procid, msgid, structured_data: sd, msg })
}

/// End (exclusive) of `[id k="v"][id2 …]`, honouring `\"` and `\]` escapes in values.
fn structured_data_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b'[' {
        let mut in_quotes = false;
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' if in_quotes => i += 2,
                b'"' => {
                    in_quotes = !in_quotes;
                    i += 1
                }
                b']' if !in_quotes => {
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
    }
    Some(i)
}

fn scan_3164<'a>(pri: Option<u8>, rest: &'a str, opts: &ParseOptions) -> Option<Syslog<'a>> {
    let b = rest.as_bytes();
    let (timestamp, after) = if b.len() >= 16 && b[3] == b' ' && b[6] == b' ' && b[9] == b':' && b[12] == b':' && b[15] == b' ' {
        let month = month_number(&b[0..3])?;
        let day: u32 = rest[4..6].trim_start().parse().ok()?;
        let h: u32 = rest[7..9].parse().ok()?;
        let m: u32 = rest[10..12].parse().ok()?;
        let s: u32 = rest[13..15].parse().ok()?;
        (year_less_time(month, day, h, m, s, opts.now), &rest[16..])
    } else {
        // rsyslog's high-precision form: an RFC 3339 time in place of the BSD one.
        let (ts, after) = rest.split_once(' ')?;
        (Some(chrono::DateTime::parse_from_rfc3339(ts).ok()?.timestamp_nanos_opt()?), after)
    };
    let (hostname, body) = after.split_once(' ').unwrap_or((after, ""));
    if hostname.is_empty() && pri.is_none() {
        return None;
    }
    let mut out = Syslog {
        pri,
        timestamp,
        hostname: (!hostname.is_empty()).then_some(hostname),
        appname: None,
        procid: None,
        msgid: None,
        structured_data: None,
        msg: body,
    };
    // `tag[pid]: msg` or `tag: msg`; anything else is all message.
    if let Some((tag, msg)) = body.split_once(": ")
        && !tag.is_empty()
        && !tag.contains(' ')
    {
        let (app, pid) = match tag.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
            Some((app, pid)) => (app, Some(pid)),
            None => (tag, None),
        };
        out.appname = Some(app);
        out.procid = pid;
        out.msg = msg;
    }
    Some(out)
}

/// A BSD timestamp has no year: take the latest year that does not put it more than a day
/// after `now` (the day absorbs clock skew and zones).
fn year_less_time(month: u32, day: u32, h: u32, m: u32, s: u32, now: Nanos) -> Option<Nanos> {
    let now_dt = Utc.timestamp_nanos(now);
    let build = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(h, m, s))
            .and_then(|dt| dt.and_utc().timestamp_nanos_opt())
    };
    let year = now_dt.year();
    match build(year) {
        Some(ts) if ts <= now.saturating_add(86_400_000_000_000) => Some(ts),
        // Feb 29 of a year that is not leap this year: try earlier years.
        _ => (1..=8).find_map(|back| build(year - back).filter(|ts| *ts <= now)),
    }
}

impl Syslog<'_> {
    /// Builds the record; `line` is the whole line.
    pub(super) fn to_record(&self, line: &str) -> Record {
        let mut f = Fields::new();
        if let Some(pri) = self.pri {
            f.push("level", Value::Str(SEVERITIES[usize::from(pri % 8)].into()));
            if let Some(fac) = FACILITIES.get(usize::from(pri / 8)) {
                f.push("facility", Value::Str((*fac).into()));
            }
        }
        let mut opt = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                f.push(k, Value::Str(v.into()));
            }
        };
        opt("hostname", self.hostname);
        opt("appname", self.appname);
        opt("procid", self.procid);
        opt("msgid", self.msgid);
        opt("structured_data", self.structured_data);
        f.push("msg", Value::Str(self.msg.into()));
        Record { timestamp: self.timestamp, message: line.to_string(), fields: f, ..Record::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::parse_absolute;

    fn opts(now: &str) -> ParseOptions {
        ParseOptions { now: parse_absolute(now, None).unwrap() }
    }

    #[test]
    fn bsd_line_without_pri_and_year() {
        let line = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186";
        let s = scan(line, &opts("2026-11-22T00:00:00Z")).unwrap();
        // December 10 would be in the future in November 2026: it is 2025.
        assert_eq!(s.timestamp, Some(parse_absolute("2025-12-10T06:55:46Z", None).unwrap()));
        assert_eq!((s.hostname, s.appname, s.procid), (Some("LabSZ"), Some("sshd"), Some("24200")));
        assert_eq!(s.msg, "Invalid user webmaster from 173.234.31.186");
        let s = scan(line, &opts("2026-12-31T00:00:00Z")).unwrap();
        assert_eq!(s.timestamp, Some(parse_absolute("2026-12-10T06:55:46Z", None).unwrap()));
    }

    #[test]
    fn bsd_variants_padded_day_odd_tags_and_pri() {
        let o = opts("2026-11-22T00:00:00Z");
        let s = scan("Jul  3 04:05:06 combo sshd(pam_unix)[19939]: check pass; user unknown", &o).unwrap();
        assert_eq!(s.appname, Some("sshd(pam_unix)"));
        assert_eq!(s.timestamp, Some(parse_absolute("2026-07-03T04:05:06Z", None).unwrap()));
        let s = scan("Jul  3 04:05:06 combo syslogd 1.4.1: restart.", &o).unwrap();
        assert_eq!((s.appname, s.msg), (None, "syslogd 1.4.1: restart."));
        let r = scan("<34>Oct 11 22:14:15 mymachine su: 'su root' failed", &o).unwrap().to_record("x");
        assert_eq!(r.fields.get("level"), Some(&Value::Str("crit".into())));
        assert_eq!(r.fields.get("facility"), Some(&Value::Str("auth".into())));
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let o = opts("2026-11-22T00:00:00Z");
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App\]lication"] An application event"#;
        let s = scan(line, &o).unwrap();
        assert_eq!(s.timestamp, Some(parse_absolute("2003-10-11T22:14:15.003Z", None).unwrap()));
        assert_eq!(s.appname, Some("evntslog"));
        assert_eq!(s.procid, None);
        assert_eq!(s.msgid, Some("ID47"));
        assert_eq!(s.msg, "An application event");
        assert!(s.structured_data.unwrap().ends_with("lication\"]"));
        let r = s.to_record(line);
        assert_eq!(r.fields.get("level"), Some(&Value::Str("notice".into())));
    }

    #[test]
    fn non_syslog_is_rejected() {
        let o = opts("2026-11-22T00:00:00Z");
        for line in ["hello", "<999>Oct 11 22:14:15 h x", "Foo 11 22:14:15 h x", "<34>1 notatime h a p m - x", ""] {
            assert!(scan(line, &o).is_none(), "{line}");
        }
    }
}
