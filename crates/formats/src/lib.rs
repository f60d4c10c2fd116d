//! Log-line formats: parsers for access logs, JSON lines, logfmt and syslog, and detection
//! from a sample of lines. Shared by the local source and the Loki source (which picks a LogQL
//! parser stage from the detected format).
//!
//! Every parser works in two steps: a borrowing scanner that validates the line and finds its
//! parts without allocating (used by the local source's indexer on every line of a large
//! file), and a conversion of the scanned parts into a [`Record`] (done on demand, for the
//! lines a query looks at).

mod access;
mod json;
mod logfmt;
pub mod pattern;
mod plain;
mod syslog;

use logsleuth_core::model::{FieldRoles, Nanos, Record, Value};

pub use json::bunyan_level_name;

/// A log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LogFormat {
    /// nginx/apache `combined`: common plus quoted referer and user agent (and tolerated
    /// trailing fields such as x-forwarded-for).
    AccessCombined,
    /// nginx/apache `common`: `host ident user [time] "request" status bytes`.
    AccessCommon,
    /// One JSON object per line.
    Json,
    /// `key=value` pairs, values optionally quoted.
    Logfmt,
    /// BSD syslog (RFC 3164): `<PRI>Mmm dd HH:MM:SS host tag[pid]: msg`, `<PRI>` optional.
    Syslog3164,
    /// IETF syslog (RFC 5424): `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    Syslog5424,
    /// Anything else: the line as is, with a timestamp and level when cheaply recognisable.
    Plain,
}

/// Everything a parser needs besides the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// "Now", for formats whose timestamps carry no year (RFC 3164 syslog): the year chosen is
    /// the one that does not put the line in the future.
    pub now: Nanos,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { now: logsleuth_core::time::now_nanos() }
    }
}

/// What the indexer learns from a line without building a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSummary {
    /// The line's own timestamp, if it has one.
    pub timestamp: Option<Nanos>,
    /// Whether the line fits the format (false: it will be shown as a plain record).
    pub parsed: bool,
}

impl LogFormat {
    /// Every format, in detection preference order (most specific first).
    pub const ALL: [LogFormat; 7] = [
        LogFormat::Json,
        LogFormat::Syslog5424,
        LogFormat::AccessCombined,
        LogFormat::AccessCommon,
        LogFormat::Syslog3164,
        LogFormat::Logfmt,
        LogFormat::Plain,
    ];

    /// A short name for display and `--format` (`nginx-combined`, `json`, …).
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::AccessCombined => "access-combined",
            LogFormat::AccessCommon => "access-common",
            LogFormat::Json => "json",
            LogFormat::Logfmt => "logfmt",
            LogFormat::Syslog3164 => "syslog-rfc3164",
            LogFormat::Syslog5424 => "syslog-rfc5424",
            LogFormat::Plain => "plain",
        }
    }

    /// The format a user names (`--format`, a config entry's `format`): `access`, `nginx`,
    /// `apache`, `json`, `logfmt`, `syslog` or `plain`, any case. `None` for other names.
    pub fn from_name(name: &str) -> Option<LogFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            // The access parser accepts both layouts; combined is the superset.
            "access" | "nginx" | "apache" => LogFormat::AccessCombined,
            "json" => LogFormat::Json,
            "logfmt" => LogFormat::Logfmt,
            // The syslog parser accepts both RFCs whichever is named.
            "syslog" => LogFormat::Syslog3164,
            "plain" => LogFormat::Plain,
            _ => return None,
        })
    }

    /// Which field plays which role in records of this format. JSON and logfmt roles depend on
    /// the data: see [`roles_from_records`].
    pub fn roles(self) -> FieldRoles {
        match self {
            LogFormat::AccessCombined | LogFormat::AccessCommon => FieldRoles {
                status: Some("status".into()),
                client_ip: Some("remote_addr".into()),
                user_agent: (self == LogFormat::AccessCombined).then(|| "http_user_agent".into()),
                level: None,
                method: Some("method".into()),
                path: Some("path".into()),
            },
            LogFormat::Json | LogFormat::Logfmt | LogFormat::Syslog3164 | LogFormat::Syslog5424 | LogFormat::Plain => {
                FieldRoles { level: Some("level".into()), ..FieldRoles::default() }
            }
        }
    }

    /// Whether lines of this format can be scanned in place ([`scan_line`]).
    pub fn scans_in_place(self) -> bool {
        matches!(self, LogFormat::AccessCombined | LogFormat::AccessCommon)
    }

    /// Columns worth showing by default after the time.
    pub fn default_columns(self) -> Vec<String> {
        let cols: &[&str] = match self {
            LogFormat::AccessCombined => &["status", "method", "path", "remote_addr", "http_user_agent"],
            LogFormat::AccessCommon => &["status", "method", "path", "remote_addr"],
            LogFormat::Json | LogFormat::Logfmt => &["level", "msg"],
            LogFormat::Syslog3164 | LogFormat::Syslog5424 => &["hostname", "appname", "msg"],
            LogFormat::Plain => &["message"],
        };
        cols.iter().map(|c| c.to_string()).collect()
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Detects the format of a sample of lines (the first hundred or so of a file, or a page of
/// Loki lines). Pure: no I/O, no clock. Blank lines are ignored; a format must fit at least
/// half of the other lines to be chosen, otherwise the result is [`LogFormat::Plain`].
pub fn detect<S: AsRef<str>>(sample: &[S]) -> LogFormat {
    let opts = ParseOptions { now: i64::MAX };
    let lines: Vec<&str> = sample.iter().map(|s| s.as_ref()).filter(|l| !l.trim().is_empty()).take(1000).collect();
    if lines.is_empty() {
        return LogFormat::Plain;
    }
    let mut best = (LogFormat::Plain, 0usize);
    for format in LogFormat::ALL {
        if format == LogFormat::Plain {
            continue;
        }
        let score = lines
            .iter()
            .filter(|l| summarize(format, l, &opts).parsed)
            // One scanner reads both syslog RFCs; 5424 only counts lines with its version mark.
            .filter(|l| format != LogFormat::Syslog5424 || syslog::is_5424(l))
            .count();
        if score > best.1 {
            best = (format, score);
        }
    }
    if best.1 * 2 < lines.len() {
        return LogFormat::Plain;
    }
    if best.0 == LogFormat::AccessCombined || best.0 == LogFormat::AccessCommon {
        // Both scanners accept both layouts; combined when any line has the referer/agent pair.
        let combined = lines.iter().any(|l| access::scan(l).is_some_and(|a| a.user_agent.is_some()));
        return if combined { LogFormat::AccessCombined } else { LogFormat::AccessCommon };
    }
    best.0
}

/// Validates a line against `format` and extracts its timestamp, without allocating for the
/// common formats. The indexer calls this on every line.
#[inline]
pub fn summarize(format: LogFormat, line: &str, opts: &ParseOptions) -> LineSummary {
    let line = trim_eol(line);
    match format {
        LogFormat::AccessCombined | LogFormat::AccessCommon => match access::scan(line) {
            Some(a) => LineSummary { timestamp: access::parse_time(a.time_local), parsed: true },
            None => LineSummary { timestamp: plain::sniff_timestamp(line), parsed: false },
        },
        LogFormat::Json => match json::summarize(line) {
            Some(ts) => LineSummary { timestamp: ts, parsed: true },
            None => LineSummary { timestamp: plain::sniff_timestamp(line), parsed: false },
        },
        LogFormat::Logfmt => match logfmt::scan(line) {
            Some(pairs) => LineSummary { timestamp: logfmt::timestamp(&pairs), parsed: true },
            None => LineSummary { timestamp: plain::sniff_timestamp(line), parsed: false },
        },
        LogFormat::Syslog3164 | LogFormat::Syslog5424 => match syslog::scan(line, opts) {
            Some(s) => LineSummary { timestamp: s.timestamp, parsed: true },
            None => LineSummary { timestamp: plain::sniff_timestamp(line), parsed: false },
        },
        LogFormat::Plain => LineSummary { timestamp: plain::sniff_timestamp(line), parsed: true },
    }
}

/// Whether [`int_field_of_bytes`] reads `name` for lines of `format`.
pub fn has_int_field(format: LogFormat, name: &str) -> bool {
    matches!(format, LogFormat::AccessCombined | LogFormat::AccessCommon) && matches!(name, "status" | "body_bytes_sent")
}

/// The value of an integer field of the record of `line` (its raw bytes, line ending
/// included or not), read without UTF-8 validation or a record, for counting over millions of
/// lines: the value [`scan_line`] then [`ScannedLine::field`] give, or on bytes that are not
/// UTF-8 the value the lossy text's record has. `None` when there is no such shortcut
/// ([`has_int_field`]) or the line does not fit the format: the caller then sees the line the
/// general way.
#[inline]
pub fn int_field_of_bytes(format: LogFormat, line: &[u8], name: &str) -> Option<i64> {
    if !has_int_field(format, name) {
        return None;
    }
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    access::int_field(line, name)
}

/// A field value borrowed from a line (see [`field_ref`]); numbers stay numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldRef<'a> {
    /// Text, as [`Value::Str`].
    Str(&'a str),
    /// An integer, as [`Value::Int`].
    Int(i64),
}

impl FieldRef<'_> {
    /// The text [`Value::as_text`] gives the same value.
    #[inline]
    pub fn to_text(self) -> String {
        match self {
            FieldRef::Str(s) => s.to_string(),
            FieldRef::Int(i) => i.to_string(),
        }
    }

    /// The [`Value`] the record has for the same field.
    #[inline]
    pub fn to_value(self) -> Value {
        match self {
            FieldRef::Str(s) => Value::Str(s.to_string()),
            FieldRef::Int(i) => Value::Int(i),
        }
    }
}

/// The value the record of `line` ([`parse`]) has in its field `name`, read without building
/// the record, for aggregations over millions of lines. `None` when there is no such shortcut
/// (another format, a name that is not one of the format's fields, a line that does not fit):
/// the caller then parses the record. `Some(None)`: the line has no such field.
#[inline]
pub fn field_ref<'a>(format: LogFormat, line: &'a str, name: &str) -> Option<Option<FieldRef<'a>>> {
    scan_line(format, line)?.field(name)
}

/// A line scanned once (validated against its format, parts found, nothing allocated), whose
/// fields can then be read as its record ([`parse`]) would give them.
#[derive(Debug, Clone, Copy)]
pub struct ScannedLine<'a> {
    access: access::Access<'a>,
}

/// Scans `line` for reading its fields without a record. `None` when the format has no such
/// shortcut (only access logs have one) or the line does not fit the format: the caller then
/// parses it in full ([`parse_or_plain`]).
#[inline]
pub fn scan_line(format: LogFormat, line: &str) -> Option<ScannedLine<'_>> {
    match format {
        LogFormat::AccessCombined | LogFormat::AccessCommon => Some(ScannedLine { access: access::scan(trim_eol(line))? }),
        _ => None,
    }
}

impl<'a> ScannedLine<'a> {
    /// The value of field `name` (see [`field_ref`]): `None` when the name is not one of the
    /// format's fields, `Some(None)` when this line lacks it.
    #[inline]
    pub fn field(&self, name: &str) -> Option<Option<FieldRef<'a>>> {
        access::field(&self.access, name)
    }

    /// Every field the record has, with its value, in the record's order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, FieldRef<'a>)> + '_ {
        access::FIELD_NAMES.iter().filter_map(|&name| Some((name, access::field(&self.access, name)??)))
    }

    /// The line's own timestamp (the record's, before a line without one inherits one).
    #[inline]
    pub fn timestamp(&self) -> Option<Nanos> {
        access::parse_time(self.access.time_local)
    }
}

/// Parses a line as `format`. `None` when the line does not fit (see [`parse_or_plain`]).
/// The record's `message` is the raw line (without its line ending).
pub fn parse(format: LogFormat, line: &str, opts: &ParseOptions) -> Option<Record> {
    let line = trim_eol(line);
    match format {
        LogFormat::AccessCombined | LogFormat::AccessCommon => access::scan(line).map(|a| a.to_record(line)),
        LogFormat::Json => json::parse(line),
        LogFormat::Logfmt => logfmt::scan(line).map(|pairs| logfmt::to_record(line, &pairs)),
        LogFormat::Syslog3164 | LogFormat::Syslog5424 => syslog::scan(line, opts).map(|s| s.to_record(line)),
        LogFormat::Plain => Some(plain::parse(line)),
    }
}

/// Parses a line as `format`, falling back to a plain record (timestamp and level sniffed,
/// and an `unparsed: true` field so such lines can be found) when it does not fit. The flag
/// says whether the format fitted. Never fails, never drops the line.
pub fn parse_or_plain(format: LogFormat, line: &str, opts: &ParseOptions) -> (Record, bool) {
    match parse(format, line, opts) {
        Some(record) => (record, true),
        None => {
            let mut record = plain::parse(trim_eol(line));
            record.fields.push(UNPARSED_FIELD, Value::Bool(true));
            (record, false)
        }
    }
}

/// Field set on records whose line did not fit the file's format.
pub const UNPARSED_FIELD: &str = "unparsed";

/// Guesses field roles from parsed records (for JSON and logfmt, whose field names vary:
/// `status` vs `response` vs `http.response.status_code`). Starts from the format's roles.
pub fn roles_from_records(format: LogFormat, records: &[Record]) -> FieldRoles {
    let mut roles = format.roles();
    if !matches!(format, LogFormat::Json | LogFormat::Logfmt) {
        return roles;
    }
    // The one dictionary of role names (logsleuth_core::model::ROLE_NAMES); a JSON or logfmt
    // file without a level field keeps the format's `level`.
    let guessed = FieldRoles::guess(|name| records.iter().any(|r| r.fields.get_path(name).is_some()));
    let level = guessed.level.clone().or(roles.level);
    roles = FieldRoles { level, ..guessed };
    roles
}

/// The level of a record as a lower-case name (`error`, `warn`, `info`, …), normalising
/// bunyan's numeric levels and common spellings, for the histogram's level split: the one rule
/// every backend uses ([`logsleuth_core::agg::normalize_level`]).
#[inline]
pub fn level_name(value: &Value) -> Option<String> {
    match value {
        Value::Int(n) => Some(logsleuth_core::agg::normalize_level(&n.to_string())),
        Value::Str(s) if !s.is_empty() => Some(logsleuth_core::agg::normalize_level(s)),
        _ => None,
    }
}

/// The one level-name normalisation ([`logsleuth_core::agg::normalize_level`]).
fn normalize_level(s: &str) -> String {
    logsleuth_core::agg::normalize_level(s)
}

/// Strips one trailing `\n`, `\r\n` or `\r`.
#[inline]
pub fn trim_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fields_from_bytes_are_those_of_the_record() {
        let opts = ParseOptions::default();
        let lines: [&[u8]; 5] = [
            br#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /x HTTP/1.1" 304 0 "-" "Debian APT""#,
            b"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 -\r\n",
            // Not UTF-8 in the agent: the lossy text's record has the same status.
            b"1.2.3.4 - - [17/May/2015:08:05:32 +0000] \"GET / HTTP/1.1\" 502 7 \"-\" \"bot \xff\xfe\"",
            b"1.2.3.4 - - [17/May/2015:08:05:32 +0000] \"GET / HTTP/1.1\" 5x2 7",
            b"not an access log line",
        ];
        for line in lines {
            let text = String::from_utf8_lossy(line);
            let record = parse(LogFormat::AccessCombined, trim_eol(&text), &opts);
            for name in ["status", "body_bytes_sent"] {
                let want = record.as_ref().and_then(|r| r.fields.get(name)).and_then(|v| if let Value::Int(i) = v { Some(*i) } else { None });
                assert_eq!(int_field_of_bytes(LogFormat::AccessCombined, line, name), want, "{text} {name}");
            }
        }
        assert!(!has_int_field(LogFormat::Json, "status"));
        assert_eq!(int_field_of_bytes(LogFormat::AccessCombined, lines[0], "path"), None);
    }

    const NGINX: &str = r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(&[NGINX, NGINX]), LogFormat::AccessCombined);
        assert_eq!(detect(&[r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#]), LogFormat::AccessCommon);
        assert_eq!(detect(&[r#"{"level":"info","msg":"hi","time":"2024-01-01T00:00:00Z"}"#]), LogFormat::Json);
        assert_eq!(detect(&[r#"time="2021-09-15T21:17:10.220731Z" level=error msg="boom" reason="#]), LogFormat::Logfmt);
        assert_eq!(detect(&["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"]), LogFormat::Syslog3164);
        assert_eq!(detect(&["<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"]), LogFormat::Syslog5424);
        assert_eq!(detect(&["[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"]), LogFormat::Plain);
        assert_eq!(detect::<&str>(&[]), LogFormat::Plain);
        assert_eq!(detect(&["hello world", "", "another line"]), LogFormat::Plain);
    }

    #[test]
    fn detection_tolerates_a_minority_of_odd_lines() {
        assert_eq!(detect(&[NGINX, "garbage", NGINX]), LogFormat::AccessCombined);
    }

    #[test]
    fn unparsed_lines_become_flagged_plain_records() {
        let (rec, ok) = parse_or_plain(LogFormat::AccessCombined, "not an access log\r\n", &ParseOptions::default());
        assert!(!ok);
        assert_eq!(rec.message, "not an access log");
        assert_eq!(rec.fields.get(UNPARSED_FIELD), Some(&Value::Bool(true)));
        assert!(rec.get("status").is_none());
    }

    proptest::proptest! {
        /// Hostile lines: no parser panics, and the indexer's summary agrees with the parser.
        #[test]
        fn parsers_never_panic_and_agree_with_summaries(
            line in proptest::string::string_regex("([ -~]|é|\u{0}|\u{1b}|\u{202e}|\\|\"|\\[|\\]|<|>|=|:|\\{|\\}){0,80}").unwrap(),
            prefix in proptest::sample::select(vec![
                "", "1.2.3.4 - - [17/May/2015:08:05:32 +0000] \"", "{\"time\":", "<34>1 ", "<13>", "Dec 10 06:55:46 h ",
                "a=1 b=\"", "[Sun Dec 04 04:47:44 2005] [", "2024-05-01T10:00:00", "081109 203615 ",
            ]),
        ) {
            let line = format!("{prefix}{line}");
            let opts = ParseOptions { now: 1_700_000_000_000_000_000 };
            for format in LogFormat::ALL {
                let summary = summarize(format, &line, &opts);
                let (record, parsed) = parse_or_plain(format, &line, &opts);
                proptest::prop_assert_eq!(summary.parsed, parsed, "{:?} on {:?}", format, line);
                proptest::prop_assert_eq!(summary.timestamp, record.timestamp, "{:?} on {:?}", format, line);
            }
            let _ = detect(&[line.as_str()]);
        }
    }

    #[test]
    fn level_names_are_normalised() {
        assert_eq!(level_name(&Value::Int(50)).as_deref(), Some("error"));
        assert_eq!(level_name(&Value::Str("WARNING".into())).as_deref(), Some("warn"));
        assert_eq!(level_name(&Value::Null), None);
    }

    #[test]
    fn roles_are_found_in_json_records() {
        let rec = parse(LogFormat::Json, r#"{"response":503,"clientip":"1.2.3.4","agent":"x"}"#, &ParseOptions::default()).unwrap();
        let roles = roles_from_records(LogFormat::Json, &[rec]);
        assert_eq!(roles.status.as_deref(), Some("response"));
        assert_eq!(roles.client_ip.as_deref(), Some("clientip"));
        assert_eq!(roles.user_agent.as_deref(), Some("agent"));
    }
}
