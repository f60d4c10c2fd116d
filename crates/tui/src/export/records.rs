//! The result set as NDJSON (one [`Record::to_json`] object a line, the shape of
//! `logsleuth query --output ndjson`) or CSV (RFC 4180, via the `csv` crate: `@timestamp` and
//! the pane's columns).

use std::io::Write;

use logsleuth_core::model::Record;

/// One NDJSON line (without the newline) for a record: the CLI's `query`/`tail` output.
/// Control characters in strings are `\u` escapes even in files and pipes: the same JSON
/// value, and safe if the file is `cat` later.
pub fn ndjson_line(record: &Record) -> String {
    json_line(&record.to_json())
}

/// A JSON value on one line with control characters escaped (see [`ndjson_line`]).
pub fn json_line(value: &serde_json::Value) -> String {
    logsleuth_core::text::escape_json_controls(&serde_json::to_string(value).unwrap_or_default()).into_owned()
}

/// Writes the records as NDJSON, in the order given; returns the number of lines.
pub fn write_ndjson<W: Write>(mut out: W, records: &[Record]) -> std::io::Result<usize> {
    for r in records {
        out.write_all(ndjson_line(r).as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(records.len())
}

/// The CSV header: `@timestamp`, then the columns (a `@timestamp` column is not repeated).
pub fn csv_header(columns: &[String]) -> Vec<String> {
    std::iter::once("@timestamp".to_string()).chain(columns.iter().filter(|c| *c != "@timestamp").cloned()).collect()
}

/// A cell: the value as text (`message` is the raw line), empty when the record lacks it.
fn csv_cell(record: &Record, column: &str) -> String {
    match column {
        "@timestamp" => record.timestamp.map(logsleuth_core::time::format_rfc3339).unwrap_or_default(),
        "message" => record.message.clone(),
        _ => record.get(column).map(|v| v.as_text()).unwrap_or_default(),
    }
}

/// Writes the records as CSV with a header row; returns the number of data rows. Values are
/// written as they are (quoted per RFC 4180 when they hold commas, quotes or newlines).
pub fn write_csv<W: Write>(out: W, records: &[Record], columns: &[String]) -> std::io::Result<usize> {
    let header = csv_header(columns);
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    w.write_record(&header)?;
    for r in records {
        w.write_record(header.iter().map(|c| csv_cell(r, c)))?;
    }
    w.flush()?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::{Fields, Value};

    fn record() -> Record {
        let mut fields = Fields::new();
        fields.push("status", Value::Int(500));
        fields.push("path", Value::Str("/a,\"b\"".into()));
        Record {
            timestamp: Some(logsleuth_core::time::parse_absolute("2015-05-17T08:05:32Z", None).unwrap()),
            message: "line one\nline two \x1b[31m".into(),
            fields,
            ..Record::default()
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        let mut out = Vec::new();
        let n = write_csv(&mut out, &[record()], &["status".into(), "path".into(), "missing".into(), "message".into()]).unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "@timestamp,status,path,missing,message\r\n2015-05-17T08:05:32Z,500,\"/a,\"\"b\"\"\",,\"line one\nline two \x1b[31m\"\r\n"
        );
    }

    #[test]
    fn ndjson_is_the_record_json_with_controls_escaped() {
        let mut out = Vec::new();
        write_ndjson(&mut out, &[record(), Record::plain("x")]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(!text.contains('\x1b'), "{text}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v, record().to_json());
        assert_eq!(v["status"], 500);
        assert_eq!(lines[1], r#"{"message":"x"}"#);
    }
}
