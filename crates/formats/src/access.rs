//! nginx/apache access logs, `combined` and `common`:
//! `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`.
//! Field names follow the nginx variables.

use chrono::NaiveDate;

use logsleuth_core::model::{Fields, Nanos, Record, Value};

/// The parts of an access-log line, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Access<'a> {
    pub remote_addr: &'a str,
    pub remote_user: &'a str,
    pub time_local: &'a str,
    pub request: &'a str,
    pub status: u16,
    /// `None` for `-` (apache's "no body").
    pub body_bytes_sent: Option<u64>,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// A trailing quoted field (nginx setups often log `$http_x_forwarded_for` there).
    pub forwarded: Option<&'a str>,
}

/// A byte range of the line.
type Span = (usize, usize);

/// Where the parts of an access-log line are. Every cut is at an ASCII delimiter (space,
/// bracket, quote) or an end of the line, so on a `&str` every span is on char boundaries; on
/// bytes that are not UTF-8 the spans are those of the lossy text's scan (invalid sequences
/// never hold ASCII bytes, and the lossy text keeps every ASCII byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    remote_addr: Span,
    remote_user: Span,
    time_local: Span,
    request: Span,
    status: u16,
    body_bytes_sent: Option<u64>,
    referer: Option<Span>,
    user_agent: Option<Span>,
    forwarded: Option<Span>,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    // Inlined into `scan_parts`: profiled as separate calls, a fifth of `top`'s time.
    #[inline(always)]
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.b.get(self.pos) == Some(&b)).then(|| self.pos += 1)
    }

    /// A non-empty run of non-space bytes.
    #[inline(always)]
    fn token(&mut self) -> Option<Span> {
        let rest = &self.b[self.pos..];
        // A plain loop, not memchr: these tokens (address, ident, user, status, size) are a
        // few bytes long, shorter than a SIMD search's call and setup.
        let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        let span = (self.pos, self.pos + len);
        self.pos += len;
        Some(span)
    }

    /// Text up to `end` (exclusive), consuming `end`.
    #[inline(always)]
    fn until(&mut self, end: u8) -> Option<Span> {
        let len = memchr::memchr(end, &self.b[self.pos..])?;
        let span = (self.pos, self.pos + len);
        self.pos += len + 1;
        Some(span)
    }

    /// `[time]`'s text: nginx's `$time_local` has 26 bytes, checked first without a search.
    #[inline(always)]
    fn bracketed_time(&mut self) -> Option<Span> {
        self.eat(b'[')?;
        let b = self.b;
        if b.get(self.pos + 26) == Some(&b']') && !b[self.pos..self.pos + 26].iter().any(|&c| c == b']') {
            let span = (self.pos, self.pos + 26);
            self.pos += 27;
            return Some(span);
        }
        self.until(b']')
    }

    /// A double-quoted string allowing backslash escapes; the raw inside.
    #[inline(always)]
    fn quoted(&mut self) -> Option<Span> {
        self.eat(b'"')?;
        let bytes = self.b;
        let start = self.pos;
        // `"-"` (no referer, the most common value) without a search.
        if bytes.get(start) == Some(&b'-') && bytes.get(start + 1) == Some(&b'"') {
            self.pos = start + 2;
            return Some((start, start + 1));
        }
        let mut i = start;
        // Jumps from quote or backslash to the next (SIMD search): user agents are long.
        while let Some(found) = bytes.get(i..).and_then(|rest| memchr::memchr2(b'\\', b'"', rest)) {
            i += found;
            if bytes[i] == b'"' {
                self.pos = i + 1;
                return Some((start, i));
            }
            i += 2;
        }
        None
    }

    #[inline(always)]
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }
}

/// Finds the parts of a line; `None` when it is not an access-log line.
#[inline]
fn scan_parts(line: &[u8]) -> Option<Parts> {
    let mut c = Cursor { b: line, pos: 0 };
    let remote_addr = c.token()?;
    c.eat(b' ')?;
    let _ident = c.token()?;
    c.eat(b' ')?;
    let remote_user = c.token()?;
    c.eat(b' ')?;
    let time_local = c.bracketed_time()?;
    c.eat(b' ')?;
    let request = c.quoted()?;
    c.eat(b' ')?;
    let status_text = c.token()?;
    let status = match line[status_text.0..status_text.1] {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return None,
    };
    c.eat(b' ')?;
    let bytes_text = c.token()?;
    let bytes_text = &line[bytes_text.0..bytes_text.1];
    let body_bytes_sent = if bytes_text == b"-" { None } else { Some(digits(bytes_text)?) };
    let mut parts = Parts {
        remote_addr,
        remote_user,
        time_local,
        request,
        status,
        body_bytes_sent,
        referer: None,
        user_agent: None,
        forwarded: None,
    };
    if c.at_end() {
        return Some(parts);
    }
    c.eat(b' ')?;
    parts.referer = Some(c.quoted()?);
    c.eat(b' ')?;
    parts.user_agent = Some(c.quoted()?);
    if c.at_end() {
        return Some(parts);
    }
    // Tolerate extra fields after the agent; keep a quoted one as x-forwarded-for.
    c.eat(b' ')?;
    if let Some(fwd) = c.quoted() {
        parts.forwarded = Some(fwd);
    }
    Some(parts)
}

/// Scans a line; `None` when it is not an access-log line.
pub(super) fn scan(line: &str) -> Option<Access<'_>> {
    let p = scan_parts(line.as_bytes())?;
    // Spans end at ASCII delimiters (see `Parts`): always char boundaries.
    let text = |(a, b): Span| &line[a..b];
    Some(Access {
        remote_addr: text(p.remote_addr),
        remote_user: text(p.remote_user),
        time_local: text(p.time_local),
        request: text(p.request),
        status: p.status,
        body_bytes_sent: p.body_bytes_sent,
        referer: p.referer.map(text),
        user_agent: p.user_agent.map(text),
        forwarded: p.forwarded.map(text),
    })
}

/// The value an integer field (`status`, `body_bytes_sent`) has in the record of `line`, read
/// from its bytes without UTF-8 validation: what [`field`] gives on the scanned (or, for bytes
/// that are not UTF-8, the lossy) text. `None` when `name` is not an integer field or the line
/// does not fit the format.
pub(super) fn int_field(line: &[u8], name: &str) -> Option<i64> {
    let p = scan_parts(line)?;
    match name {
        "status" => Some(i64::from(p.status)),
        "body_bytes_sent" => Some(p.body_bytes_sent.map_or(0, |b| b.min(i64::MAX as u64) as i64)),
        _ => None,
    }
}

/// A decimal number of ASCII digits only (no sign), `None` if it is not one or overflows.
#[inline]
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().copied().try_fold(0u64, |n, b| if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(b - b'0')) } else { None })
}

impl Access<'_> {
    /// Builds the record; `line` is the whole line (the record's message).
    pub(super) fn to_record(self, line: &str) -> Record {
        let mut f = Fields(Vec::with_capacity(12));
        f.push("remote_addr", Value::Str(self.remote_addr.into()));
        f.push("remote_user", Value::Str(self.remote_user.into()));
        f.push("time_local", Value::Str(self.time_local.into()));
        f.push("request", Value::Str(self.request.into()));
        let mut parts = self.request.splitn(3, ' ');
        if let (Some(method), Some(path), Some(protocol)) = (parts.next(), parts.next(), parts.next()) {
            f.push("method", Value::Str(method.into()));
            f.push("path", Value::Str(path.into()));
            f.push("protocol", Value::Str(protocol.into()));
        } else if let (Some(method), Some(path)) = {
            let mut p = self.request.splitn(2, ' ');
            (p.next(), p.next())
        } {
            // HTTP/0.9 style `GET /`.
            f.push("method", Value::Str(method.into()));
            f.push("path", Value::Str(path.into()));
        }
        f.push("status", Value::Int(i64::from(self.status)));
        // `-` means no body was sent (Apache's %b), i.e. 0 bytes.
        f.push("body_bytes_sent", Value::Int(self.body_bytes_sent.map_or(0, |b| b.min(i64::MAX as u64) as i64)));
        if let Some(r) = self.referer {
            f.push("http_referer", Value::Str(r.into()));
        }
        if let Some(a) = self.user_agent {
            f.push("http_user_agent", Value::Str(a.into()));
        }
        if let Some(x) = self.forwarded {
            f.push("http_x_forwarded_for", Value::Str(x.into()));
        }
        Record { timestamp: parse_time(self.time_local), message: line.to_string(), fields: f, ..Record::default() }
    }
}

/// Every field name `to_record` may give, in its order.
pub(super) const FIELD_NAMES: [&str; 12] = [
    "remote_addr",
    "remote_user",
    "time_local",
    "request",
    "method",
    "path",
    "protocol",
    "status",
    "body_bytes_sent",
    "http_referer",
    "http_user_agent",
    "http_x_forwarded_for",
];

/// The value `to_record` would give field `name`, read from the scanned line without building
/// a record: `None` when the name is not an access-log field, `Some(None)` when this line
/// lacks it. Kept next to `to_record` so both name the fields alike.
pub(super) fn field<'a>(a: &Access<'a>, name: &str) -> Option<Option<super::FieldRef<'a>>> {
    use super::FieldRef::{Int, Str};
    // `to_record` splits the request in three, or (HTTP/0.9 `GET /`) in two.
    let request_part = |i: usize| {
        let mut parts = a.request.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next(), i) {
            (Some(method), Some(_), _, 0) => Some(Str(method)),
            (Some(_), Some(path), _, 1) => Some(Str(path)),
            (Some(_), Some(_), Some(protocol), 2) => Some(Str(protocol)),
            _ => None,
        }
    };
    Some(match name {
        "remote_addr" => Some(Str(a.remote_addr)),
        "remote_user" => Some(Str(a.remote_user)),
        "time_local" => Some(Str(a.time_local)),
        "request" => Some(Str(a.request)),
        "method" => request_part(0),
        "path" => request_part(1),
        "protocol" => request_part(2),
        "status" => Some(Int(i64::from(a.status))),
        "body_bytes_sent" => Some(Int(a.body_bytes_sent.map_or(0, |b| b.min(i64::MAX as u64) as i64))),
        "http_referer" => a.referer.map(Str),
        "http_user_agent" => a.user_agent.map(Str),
        "http_x_forwarded_for" => a.forwarded.map(Str),
        _ => return None,
    })
}

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Month number (1-based) of an English three-letter abbreviation.
pub(super) fn month_number(m: &[u8]) -> Option<u32> {
    MONTHS.iter().position(|name| name.eq_ignore_ascii_case(m)).map(|i| i as u32 + 1)
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n.saturating_mul(10).saturating_add(u32::from(d - b'0'))))
}

/// Parses `17/May/2015:08:05:32 +0000` (nginx `$time_local`, apache `%t`) or an ISO 8601 /
/// RFC 3339 time (`2018-07-22T00:39:02.912Z`, as Kibana's sample data writes in brackets).
pub(super) fn parse_time(text: &str) -> Option<Nanos> {
    let b = text.as_bytes();
    if b.len() == 26 && b[2] == b'/' && b[6] == b'/' && b[11] == b':' && b[20] == b' ' {
        let day = num(&b[0..2])?;
        let month = month_number(&b[3..6])?;
        let year = num(&b[7..11])?;
        let (h, m, s) = (num(&b[12..14])?, num(&b[15..17])?, num(&b[18..20])?);
        let sign = match b[21] {
            b'+' => 1i64,
            b'-' => -1,
            _ => return None,
        };
        let off = sign * (i64::from(num(&b[22..24])?) * 3600 + i64::from(num(&b[24..26])?) * 60);
        let naive = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(h, m, s)?;
        let secs = naive.and_utc().timestamp() - off;
        return secs.checked_mul(1_000_000_000);
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().and_then(|d| d.timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::parse_absolute;

    fn at(s: &str) -> Nanos {
        parse_absolute(s, None).unwrap()
    }

    #[test]
    fn combined_line_gives_nginx_variable_names() {
        let line = r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#;
        let r = scan(line).unwrap().to_record(line);
        assert_eq!(r.timestamp, Some(at("2015-05-17T08:05:32Z")));
        assert_eq!(r.message, line);
        let get = |k: &str| r.fields.get(k).cloned();
        assert_eq!(get("remote_addr"), Some(Value::Str("93.180.71.3".into())));
        assert_eq!(get("remote_user"), Some(Value::Str("-".into())));
        assert_eq!(get("time_local"), Some(Value::Str("17/May/2015:08:05:32 +0000".into())));
        assert_eq!(get("method"), Some(Value::Str("GET".into())));
        assert_eq!(get("path"), Some(Value::Str("/downloads/product_1".into())));
        assert_eq!(get("protocol"), Some(Value::Str("HTTP/1.1".into())));
        assert_eq!(get("status"), Some(Value::Int(304)));
        assert_eq!(get("body_bytes_sent"), Some(Value::Int(0)));
        assert_eq!(get("http_referer"), Some(Value::Str("-".into())));
        assert_eq!(get("http_user_agent"), Some(Value::Str("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)".into())));
    }

    #[test]
    fn shortcuts_for_dash_referer_and_nginx_time_read_as_the_general_path() {
        let dash = r#"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 12 "-" "-""#;
        let a = scan(dash).unwrap();
        assert_eq!((a.referer, a.user_agent, a.time_local), (Some("-"), Some("-"), "17/May/2015:08:05:32 +0000"));
        let near = r##"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 12 "-x" "-\"x""##;
        let a = scan(near).unwrap();
        assert_eq!((a.referer, a.user_agent), (Some("-x"), Some(r#"-\"x"#)));
        // A `]` inside the first 26 bytes ends the time there, as the search does.
        let short = r#"1.2.3.4 - - [17/May/2015] "GET / HTTP/1.1" 200 12"#;
        assert_eq!(scan(short).unwrap().time_local, "17/May/2015");
        assert!(scan(r#"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 2x0 12"#).is_none());
        assert!(scan(r#"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 99999999999999999999"#).is_none(), "size overflows");
    }

    #[test]
    fn common_layout_dash_bytes_and_zone_offsets() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 -"#;
        let a = scan(line).unwrap();
        assert_eq!(a.body_bytes_sent, None);
        assert_eq!(a.user_agent, None);
        let r = a.to_record(line);
        assert_eq!(r.timestamp, Some(at("2000-10-10T20:55:36Z")));
        assert_eq!(r.fields.get("body_bytes_sent"), Some(&Value::Int(0)));
        assert_eq!(r.fields.get("remote_user"), Some(&Value::Str("frank".into())));
    }

    #[test]
    fn iso_time_in_brackets_and_trailing_forwarded_for() {
        let line = r#"1.2.3.4 - - [2018-07-22T00:39:02.912Z] "GET /a HTTP/1.1" 200 6219 "-" "UA" "5.6.7.8""#;
        let a = scan(line).unwrap();
        assert_eq!(parse_time(a.time_local), Some(at("2018-07-22T00:39:02.912Z")));
        assert_eq!(a.forwarded, Some("5.6.7.8"));
        let shop = r#"5.1.2.3 - - [22/Jan/2019:03:56:14 +0330] "GET /x HTTP/1.1" 200 30577 "-" "bingbot/2.0" "-""#;
        assert_eq!(parse_time(scan(shop).unwrap().time_local), Some(at("2019-01-22T00:26:14Z")));
    }

    #[test]
    fn escaped_quotes_stay_inside_fields() {
        let line = r#"1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "x \"y\"""#;
        let a = scan(line).unwrap();
        assert_eq!(a.request, r#"GET /a\"b HTTP/1.1"#);
        assert_eq!(a.user_agent, Some(r#"x \"y\""#));
    }

    #[test]
    fn malformed_lines_are_rejected() {
        // apache_logs line 8899: the user agent has no closing quote.
        let bad = r#"46.118.127.106 - - [20/May/2015:12:05:17 +0000] "GET /scripts/grok-py-test/configlib.py HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"#;
        assert!(scan(bad).is_none());
        assert!(scan("").is_none());
        assert!(scan("1.2.3.4 - - [17/May/2015:08:05:32 +0000] \"GET / HTTP/1.1\" 2000 1").is_none());
        assert!(scan("1.2.3.4 - - [17/May/2015:08:05:32 +0000] \"GET / HTTP/1.1\" 200 12a").is_none());
        assert!(scan("\0\0\0 - - [\u{fffd}] \"\" 200 1").is_some_and(|a| parse_time(a.time_local).is_none()));
        assert_eq!(parse_time("99/Foo/2015:08:05:32 +0000"), None);
        assert_eq!(parse_time("32/May/2015:08:05:32 +0000"), None);
    }
    #[test]
    fn field_reads_what_to_record_gives() {
        use crate::FieldRef;
        let lines = [
            r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#,
            r#"10.0.0.1 - bob [17/May/2015:08:05:32 +0000] "GET /" 200 - "-" "curl" "1.2.3.4""#,
            r#"10.0.0.1 - - [17/May/2015:08:05:32 +0000] "-" 400 12"#,
        ];
        let names = [
            "remote_addr", "remote_user", "time_local", "request", "method", "path", "protocol", "status",
            "body_bytes_sent", "http_referer", "http_user_agent", "http_x_forwarded_for",
        ];
        for line in lines {
            let a = scan(line).unwrap();
            let record = a.to_record(line);
            for name in names {
                let expected = record.fields.get(name).map(|v| v.as_text());
                let got = field(&a, name).expect("an access-log field").map(FieldRef::to_text);
                assert_eq!(got, expected, "{name} of {line}");
            }
            let listed: Vec<&str> = record.fields.iter().map(|(name, _)| name).collect();
            let scanned: Vec<&str> = FIELD_NAMES.iter().copied().filter(|n| field(&a, n).flatten().is_some()).collect();
            assert_eq!(scanned, listed, "FIELD_NAMES lists the record's fields in order");
            assert_eq!(field(&a, "message"), None);
            assert_eq!(field(&a, "file"), None);
        }
    }
}
