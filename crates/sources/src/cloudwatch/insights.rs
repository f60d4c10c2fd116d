//! Charts by Logs Insights: `stats count(*) as n by bin(…)` and `… by FIELD`, over the whole
//! range, computed by CloudWatch. A query is made only where the KQL query has an exact
//! Insights filter ([`logsleuth_kql::to_insights_filter`]) and the messages' fields can be
//! named: JSON (Insights discovers the fields) and access logs (a `parse` with the access-log
//! parser's field names). The answer is checked for the columns asked for; an answer without
//! them (an emulator, an account without Insights) is a refusal, and the chart is counted from
//! the events instead.

use std::time::{Duration, Instant};

use logsleuth_core::model::{HistogramBucket, Nanos, TimeRange, TopResult};
use logsleuth_formats::LogFormat;

use super::{Inner, range_ms};
use crate::{HistogramRequest, QueryLanguage, SourceError, SourceResult, Split, TopRequest};

/// Insights returns at most this many rows.
pub const MAX_ROWS: usize = 10_000;

/// How long a query may run before it is stopped and the chart counted from events.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// Above this many stored bytes in the groups, charts say what Insights may scan, before
/// they run ([`cost_note`]) and in their answers.
pub const LARGE_SCAN_BYTES: i64 = 10 << 30;

/// What charts by Insights may cost over groups storing `stored` bytes (`None` below
/// [`LARGE_SCAN_BYTES`]).
pub fn cost_note(stored: i64) -> Option<String> {
    (stored > LARGE_SCAN_BYTES).then(|| {
        format!(
            "these log groups store {}: each chart is a Logs Insights query, billed per GB it scans \
             (a narrower time range scans less; --no-insights counts charts from the events instead)",
            human_bytes(stored as f64)
        )
    })
}

/// Access-log fields for Insights, named as the access-log parser names them.
const ACCESS_PARSE: &str = r#"parse @message /^(?<remote_addr>\S+) (?<ident>\S+) (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "(?<request>[^"]*)" (?<status>\d{3}) (?<body_bytes_sent>\d+|-)(?: "(?<http_referer>[^"]*)" "(?<http_user_agent>[^"]*)")?/ | parse request /^(?<method>\S+) (?<path>\S+)/"#;

/// What an Insights query answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// Rows: (field, value) pairs.
    pub rows: Vec<Vec<(String, String)>>,
    /// Bytes scanned, from the query's statistics.
    pub bytes_scanned: f64,
    /// The groups' stored bytes, when above [`LARGE_SCAN_BYTES`].
    pub large: Option<i64>,
}

/// The part of a query before `stats`: field extraction and the filter. `None` when Insights
/// cannot be asked the same question.
fn prefix(format: &LogFormat, query: &crate::Query) -> SourceResult<Option<String>> {
    let parse = match format {
        LogFormat::AccessCombined | LogFormat::AccessCommon => ACCESS_PARSE,
        LogFormat::Json => "",
        _ => return Ok(None),
    };
    let filter = if query.is_empty() {
        String::new()
    } else if query.language == QueryLanguage::Native {
        // A native query is a filter pattern: Insights has no such filter.
        return Ok(None);
    } else {
        let ast = logsleuth_kql::parse(&query.text)?;
        match logsleuth_kql::to_insights_filter(&ast) {
            Some(f) => f,
            None => return Ok(None),
        }
    };
    let mut parts: Vec<String> = Vec::new();
    if !parse.is_empty() {
        parts.push(parse.to_string());
    }
    if !filter.is_empty() {
        parts.push(format!("filter {filter}"));
    }
    Ok(Some(parts.join(" | ")))
}

fn field_name(f: &str) -> Option<String> {
    let simple = !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || "_.@".contains(c));
    if simple {
        Some(f.to_string())
    } else if f.contains('`') || f.chars().any(char::is_control) {
        None
    } else {
        Some(format!("`{f}`"))
    }
}

fn with_prefix(prefix: String, stats: String) -> String {
    if prefix.is_empty() { stats } else { format!("{prefix} | {stats}") }
}

/// The top-N query: every value's count, largest first (the N are cut here, so that the
/// total and `other` are exact while the values fit in [`MAX_ROWS`]).
pub fn top_query(format: &LogFormat, request: &TopRequest) -> SourceResult<Option<String>> {
    let Some(prefix) = prefix(format, &request.query)? else {
        return Ok(None);
    };
    let Some(field) = field_name(&request.field) else {
        return Ok(None);
    };
    Ok(Some(with_prefix(prefix, format!("stats count(*) as n by {field} | sort n desc | limit {MAX_ROWS}"))))
}

/// The histogram query: counts per `bin`, split by the split field's values (the status
/// classes and level names are made here from the values, by the rule every backend shares).
pub fn histogram_query(
    format: &LogFormat,
    request: &HistogramRequest,
    interval: Nanos,
    split_field: Option<&str>,
) -> SourceResult<Option<String>> {
    let Some(prefix) = prefix(format, &request.query)? else {
        return Ok(None);
    };
    if interval % 1_000_000_000 != 0 {
        return Ok(None);
    }
    let bin = format!("bin({}s)", interval / 1_000_000_000);
    let by = match split_field {
        Some(f) => match field_name(f) {
            Some(f) => format!("{bin}, {f}"),
            None => return Ok(None),
        },
        None => bin,
    };
    Ok(Some(with_prefix(prefix, format!("stats count(*) as n by {by} | limit {MAX_ROWS}"))))
}

fn get<'a>(row: &'a [(String, String)], name: &str) -> Option<&'a str> {
    row.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The top-N answer, or `None` when the rows do not hold the counts asked for.
pub fn top_result(request: &TopRequest, answer: &Answer) -> Option<TopResult> {
    let field = request.field.trim_matches('`');
    let mut total = 0u64;
    let mut counts: Vec<(String, u64)> = Vec::new();
    for row in &answer.rows {
        let n: u64 = get(row, "n")?.parse().ok()?;
        total += n;
        match get(row, field) {
            Some(v) if !v.is_empty() => counts.push((v.to_string(), n)),
            _ => {}
        }
    }
    let distinct = counts.len() as u64;
    let (buckets, other) = logsleuth_core::agg::top_n(counts, request.size);
    let cut = answer.rows.len() >= MAX_ROWS;
    let mut notes = vec![scan_note(answer)];
    if cut {
        notes.push(format!(
            "the field has more than {MAX_ROWS} values (Logs Insights' row limit): the total and 'other' leave out the rarest"
        ));
    }
    Some(TopResult {
        field: request.field.clone(),
        total,
        other,
        buckets,
        error_bound: None,
        partial: cut,
        note: Some(notes.join("; ")),
        distinct: (!cut).then_some(distinct),
        distinct_estimated: false,
    })
}

fn scan_note(answer: &Answer) -> String {
    let mut note = format!("Logs Insights scanned {}", human_bytes(answer.bytes_scanned));
    if let Some(stored) = answer.large {
        note.push_str(&format!(" (the groups store {}; Insights is billed per GB scanned)", human_bytes(stored as f64)));
    }
    note
}

fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b.max(0.0);
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{v:.0} {}", UNITS[0]) } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// Parses a `bin(…)` value: `2026-12-02 17:05:00.000` (UTC).
fn bin_time(text: &str) -> Option<Nanos> {
    let t = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    t.and_utc().timestamp_nanos_opt()
}

/// Fills `buckets` from a histogram answer. `None` when the rows do not hold the counts and
/// bins asked for; else whether rows were cut at the row limit, and the note to show.
pub fn fill_histogram(
    answer: &Answer,
    split: &Split,
    first: Nanos,
    interval: Nanos,
    buckets: &mut [HistogramBucket],
) -> Option<(bool, String)> {
    let bin_name = format!("bin({}s)", interval / 1_000_000_000);
    let split_name = match split {
        Split::None => None,
        _ => {
            answer.rows.first().and_then(|r| r.iter().map(|(n, _)| n.as_str()).find(|n| *n != "n" && *n != bin_name && !n.starts_with('@')))
        }
    };
    for row in &answer.rows {
        let n: u64 = get(row, "n")?.parse().ok()?;
        let t = bin_time(get(row, &bin_name)?)?;
        let Some(bucket) = usize::try_from((t - first).div_euclid(interval)).ok().and_then(|i| buckets.get_mut(i)) else {
            continue;
        };
        bucket.count += n;
        if let Some(name) = split_name
            && let Some(key) = split.key(get(row, name).filter(|v| !v.is_empty()))
        {
            *bucket.split.entry(key).or_default() += n;
        }
    }
    let mut note = scan_note(answer);
    let cut = answer.rows.len() >= MAX_ROWS;
    if cut {
        note.push_str(&format!("; more than {MAX_ROWS} rows (Logs Insights' row limit): some counts are missing"));
    }
    Some((cut, note))
}

/// Whether an error means "Insights cannot answer this here" (then the chart is counted from
/// events) rather than a failure to report.
pub fn is_refusal(e: &SourceError) -> bool {
    matches!(e, SourceError::Unsupported(_) | SourceError::Decode(_) | SourceError::Query(_) | SourceError::Server { .. })
}

/// Runs a query over the source's groups and range and waits for its answer.
pub async fn run(inner: &Inner, range: &TimeRange, query: &str) -> SourceResult<Answer> {
    let client = inner.client().await?;
    let groups: Vec<String> = inner.groups().map(|(_, g)| g.to_string()).collect();
    let (lo, hi) = range_ms(range);
    let large = inner.stored_bytes().await.filter(|b| *b > LARGE_SCAN_BYTES);
    let started = client
        .start_query()
        .set_log_group_names(Some(groups))
        .start_time(lo.div_euclid(1000))
        .end_time((hi + 999).div_euclid(1000))
        .query_string(query)
        .limit(MAX_ROWS as i32)
        .send()
        .await
        .map_err(|e| super::client::error("StartQuery", e))?;
    let id = started.query_id().ok_or_else(|| SourceError::Decode("StartQuery answered without a query id".into()))?.to_string();
    let deadline = Instant::now() + MAX_WAIT;
    let mut wait = Duration::from_millis(200);
    loop {
        let out = client.get_query_results().query_id(&id).send().await.map_err(|e| super::client::error("GetQueryResults", e))?;
        use aws_sdk_cloudwatchlogs::types::QueryStatus;
        match out.status() {
            Some(QueryStatus::Complete) => {
                let rows = out
                    .results()
                    .iter()
                    .map(|row| row.iter().map(|f| (f.field().unwrap_or("").to_string(), f.value().unwrap_or("").to_string())).collect())
                    .collect();
                let bytes_scanned = out.statistics().map_or(0.0, |s| s.bytes_scanned());
                return Ok(Answer { rows, bytes_scanned, large });
            }
            Some(QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::Timeout) => {
                return Err(SourceError::Server { status: 500, message: format!("Logs Insights query {id} ended: {:?}", out.status()) });
            }
            _ => {}
        }
        if Instant::now() >= deadline {
            let _ = client.stop_query().query_id(&id).send().await;
            return Err(SourceError::Unsupported(format!("Logs Insights did not finish within {} s", MAX_WAIT.as_secs())));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// The groups' stored bytes (asked once).
pub(super) async fn stored_bytes(inner: &Inner) -> Option<i64> {
    let client = inner.client().await.ok()?;
    let mut total = 0i64;
    for (_, group) in inner.groups() {
        let groups = super::client::list_groups(client, Some(group), 50).await.ok()?;
        total += groups.iter().filter(|g| g.name == group).filter_map(|g| g.stored_bytes).sum::<i64>();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    #[test]
    fn large_groups_are_said_to_cost_before_charts_run() {
        assert_eq!(cost_note(LARGE_SCAN_BYTES), None);
        let note = cost_note(250 * 1_000_000_000).unwrap();
        assert!(note.starts_with("these log groups store 250.0 GB: each chart is a Logs Insights query"), "{note}");
        assert!(note.contains("--no-insights"), "{note}");
    }

    fn row(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn queries_name_the_access_log_fields_and_the_filter() {
        let top = TopRequest { query: Query::kql("status >= 500"), range: TimeRange::between(0, 1), field: "remote_addr".into(), size: 5 };
        let q = top_query(&LogFormat::AccessCombined, &top).unwrap().unwrap();
        assert!(q.starts_with("parse @message /^(?<remote_addr>"), "{q}");
        assert!(q.ends_with("| filter status >= 500 | stats count(*) as n by remote_addr | sort n desc | limit 10000"), "{q}");
        let q = top_query(&LogFormat::Json, &TopRequest { query: Query::default(), ..top.clone() }).unwrap().unwrap();
        assert_eq!(q, "stats count(*) as n by remote_addr | sort n desc | limit 10000");
        // Plain text has no fields Insights could name; a native query is a filter pattern.
        assert_eq!(top_query(&LogFormat::Plain, &top).unwrap(), None);
        assert_eq!(top_query(&LogFormat::Json, &TopRequest { query: Query::native("ERROR"), ..top }).unwrap(), None);
        let h = HistogramRequest {
            query: Query::default(),
            range: TimeRange::between(0, 1),
            interval: None,
            target_buckets: 60,
            split: Split::StatusClass,
        };
        let q = histogram_query(&LogFormat::Json, &h, 300 * 1_000_000_000, Some("status")).unwrap().unwrap();
        assert_eq!(q, "stats count(*) as n by bin(300s), status | limit 10000");
        assert_eq!(histogram_query(&LogFormat::Json, &h, 1_500_000_000, None).unwrap(), None, "bins are whole seconds");
    }

    #[test]
    fn answers_without_the_counts_are_refusals() {
        let top = TopRequest { query: Query::default(), range: TimeRange::between(0, 1), field: "status".into(), size: 2 };
        // What moto answers to a stats query: pointers only.
        let moto = Answer { rows: vec![row(&[("@ptr", "1")]), row(&[("@ptr", "0")])], ..Answer::default() };
        assert_eq!(top_result(&top, &moto), None);
        let mut buckets = vec![HistogramBucket { start: 0, count: 0, split: Default::default() }];
        assert_eq!(fill_histogram(&moto, &Split::None, 0, 60_000_000_000, &mut buckets), None);
    }

    #[test]
    fn top_answers_keep_total_and_other_exact() {
        let top = TopRequest { query: Query::default(), range: TimeRange::between(0, 1), field: "status".into(), size: 2 };
        let answer = Answer {
            rows: vec![
                row(&[("status", "200"), ("n", "50")]),
                row(&[("status", "404"), ("n", "30")]),
                row(&[("status", "502"), ("n", "5")]),
                row(&[("n", "2")]),
            ],
            bytes_scanned: 1_234_567.0,
            large: None,
        };
        let r = top_result(&top, &answer).unwrap();
        assert_eq!((r.total, r.other, r.distinct), (87, 5, Some(3)));
        assert_eq!(r.buckets.iter().map(|b| (b.value.as_str(), b.count)).collect::<Vec<_>>(), vec![("200", 50), ("404", 30)]);
        assert_eq!(r.note.as_deref(), Some("Logs Insights scanned 1.2 MB"));
        assert!(!r.partial);
    }

    #[test]
    fn histogram_answers_fill_the_shared_buckets_and_split_rule() {
        let minute = 60_000_000_000;
        let first = bin_time("2026-12-02 17:00:00.000").unwrap();
        let answer = Answer {
            rows: vec![
                row(&[("bin(60s)", "2026-12-02 17:00:00.000"), ("status", "200"), ("n", "7")]),
                row(&[("bin(60s)", "2026-12-02 17:01:00.000"), ("status", "502"), ("n", "3")]),
                row(&[("bin(60s)", "2026-12-02 17:01:00.000"), ("status", "504"), ("n", "1")]),
            ],
            ..Answer::default()
        };
        let mut buckets: Vec<HistogramBucket> =
            (0..2).map(|i| HistogramBucket { start: first + i * minute, count: 0, split: Default::default() }).collect();
        assert_eq!(
            fill_histogram(&answer, &Split::StatusClass, first, minute, &mut buckets),
            Some((false, "Logs Insights scanned 0 B".to_string()))
        );
        assert_eq!((buckets[0].count, buckets[1].count), (7, 4));
        assert_eq!(buckets[1].split.get("5xx"), Some(&4));
        assert_eq!(buckets[0].split.get("2xx"), Some(&7));
    }
}
