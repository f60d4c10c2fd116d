//! The fast paths of the local source give exactly the answers of the general one: KQL
//! evaluated on scanned lines (indexed queries) and the command line's one-shot scans
//! (`OneShot`, no index), and the indexed top and histogram (fields read in place), against
//! records parsed in full and matched with `Matcher::matches`, on real access logs (copied
//! fixtures) and on a file of hostile lines.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use logsleuth::kql::{EvalOptions, Matcher};
use logsleuth::model::{Record, TimeRange, Value};
use logsleuth::sources::local::{LocalOptions, LocalSource, OneShot};
use logsleuth::sources::{HistogramRequest, HitCount, Query, SearchRequest, Source, Split, TopRequest};
use logsleuth::time::parse_absolute;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local").join(name)
}

fn gunzip(name: &str) -> Vec<u8> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture(name)).unwrap()).read_to_end(&mut text).unwrap();
    text
}

/// Pieces of this many bytes in the one-shot scans: many piece boundaries in every file.
const PIECE: usize = 16 << 10;

/// A file mixing real apache lines with what logs throw at a parser: runs of lines without a
/// time across piece boundaries (they take the time before them), bytes that are not UTF-8,
/// CRLF endings, a time that goes back, a scannable line whose time does not parse, empty
/// lines, and no final newline.
fn hostile_file(apache: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = apache.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut out = Vec::new();
    for l in &lines[..300] {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    // Three pieces without a time.
    for i in 0..700 {
        writeln!(out, "    at com.example.Handler.serve(Handler.java:{i}) POST 500 Googlebot").unwrap();
    }
    for (i, l) in lines[300..2300].iter().enumerate() {
        out.extend_from_slice(l);
        match i % 97 {
            1 => out.extend_from_slice(b"\r\n"),
            2 => out.extend_from_slice(b"\n\n"),
            3 => out.extend_from_slice(b" \"agent \xff\xfe bytes\"\n"),
            _ => out.push(b'\n'),
        }
        if i == 1000 {
            out.extend_from_slice(b"10.0.0.9 - - [17/May/2015:10:05:03 +0000] \"POST /back/in/time HTTP/1.1\" 503 17 \"-\" \"x\"\n");
            out.extend_from_slice(b"10.0.0.9 - - [99/Foo/2015:10:05:03 +0000] \"POST /no/time HTTP/1.1\" 500 17 \"-\" \"caf\xc3\xa9\"\n");
            out.extend_from_slice(b"\xff\xff not an access line at all, 500 POST\n");
        }
    }
    out.extend_from_slice(b"10.0.0.9 - - [20/May/2015:21:05:03 +0000] \"POST /last HTTP/1.1\" 502 1 \"-\" \"no newline\"");
    out
}

struct Files {
    _dir: tempfile::TempDir,
    nginx: PathBuf,
    apache: PathBuf,
    hostile: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let nginx = dir.path().join("nginx.log");
    let apache = dir.path().join("apache.log");
    let hostile = dir.path().join("hostile.log");
    std::fs::write(&nginx, gunzip("nginx_logs.gz")).unwrap();
    let apache_text = gunzip("apache_logs.gz");
    std::fs::write(&apache, &apache_text).unwrap();
    let hostile_text = hostile_file(&apache_text);
    assert!(hostile_text.len() > 20 * PIECE, "spans many pieces");
    std::fs::write(&hostile, hostile_text).unwrap();
    Files { _dir: dir, nginx, apache, hostile }
}

const QUERIES: &[&str] = &[
    "",
    "status >= 500 and method:POST",
    "status:404 or status:403",
    "not status:200",
    "status >= 300 and status < 400",
    "method:GET and not path:/downloads/*",
    "path:*.css",
    "Googlebot",
    "\"Mozilla/5.0 (Windows\"",
    "unknown_field:x",
    "not unknown_field:*",
    "file:*hostile*",
    "message:*java*",
    "*:*bot*",
    "unparsed:true",
    "http_user_agent:*Firefox* or remote_addr:10.*",
    "@timestamp >= \"2015-05-18T00:00:00Z\" and @timestamp < \"2015-05-19T00:00:00Z\"",
    "@timestamp:2015-05-17",
    "remote_user:-",
    "body_bytes_sent > 100000",
    "status:4*",
    "protocol:\"HTTP/1.0\"",
    "method:post",
    "status:(500 or 502 or 503) and not path:/back/*",
    "time_local:*May*",
    "http_x_forwarded_for:*",
];

fn ranges() -> Vec<TimeRange> {
    let at = |s: &str| parse_absolute(s, None).unwrap();
    vec![
        TimeRange::ALL,
        TimeRange::between(at("2015-05-18T00:00:00Z"), at("2015-05-19T12:00:00Z")),
        TimeRange { from: None, to: Some(at("2015-05-17T12:00:00Z")) },
    ]
}

/// Every record in the range, newest first: the general path (no filter, records parsed in full).
async fn all_records(source: &LocalSource, range: TimeRange) -> Vec<Record> {
    let page = source.search(SearchRequest { query: Query::default(), range, limit: usize::MAX, cursor: None }).await.unwrap();
    assert!(page.next.is_none());
    page.records
}

fn matcher(query: &str) -> Matcher {
    let ast = logsleuth::kql::parse(query).unwrap();
    Matcher::new(&ast, &EvalOptions { now: logsleuth::time::now_nanos(), ..EvalOptions::default() }).unwrap()
}

/// Pages through the indexed source as the command line does.
async fn indexed_search(source: &LocalSource, query: &str, range: TimeRange) -> Vec<Record> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = source.search(SearchRequest { query: Query::kql(query), range, limit: 1000, cursor }).await.unwrap();
        out.extend(page.records);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

fn texts(v: Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.into_iter().for_each(|i| texts(i, out)),
        other => out.push(other.as_text()),
    }
}

/// Top counts from records: (total, value → count).
fn reference_top(records: &[Record], field: &str) -> (u64, HashMap<String, u64>) {
    let mut counts = HashMap::new();
    for r in records {
        if let Some(v) = r.get(field) {
            let mut t = Vec::new();
            texts(v, &mut t);
            for t in t {
                *counts.entry(t).or_default() += 1;
            }
        }
    }
    (records.len() as u64, counts)
}

/// The split key of a record, as a histogram bucket counts it.
fn reference_split(split: &Split, r: &Record) -> Option<String> {
    let value = match split {
        Split::None => return None,
        Split::StatusClass => return logsleuth::model::status_class_of(r.get("status")?.as_f64()?),
        Split::Level => return None,
        Split::Field(name) => r.get(name)?,
    };
    let mut t = Vec::new();
    texts(value, &mut t);
    t.into_iter().next()
}

/// The indexed histogram against buckets counted from the matching records.
async fn check_histogram(source: &LocalSource, query: &str, range: TimeRange, expected: &[Record], what: &str) {
    for split in [Split::StatusClass, Split::Field("method".into()), Split::None] {
        let request = HistogramRequest { query: Query::kql(query), range, interval: Some(6 * 3_600_000_000_000), target_buckets: 100, split: split.clone() };
        let got = source.histogram(request).await.unwrap();
        let n = got.buckets.len();
        let Some(first) = got.buckets.first().map(|b| b.start) else {
            assert!(expected.iter().all(|r| r.timestamp.is_none()), "no buckets but timed records: {what}");
            continue;
        };
        let (mut counts, mut splits) = (vec![0u64; n], vec![BTreeMap::<String, u64>::new(); n]);
        for r in expected {
            let Some(ts) = r.timestamp.filter(|&ts| ts >= first) else { continue };
            let b = ((ts - first) / got.interval) as usize;
            if b < n {
                counts[b] += 1;
                if let Some(key) = reference_split(&split, r) {
                    *splits[b].entry(key).or_default() += 1;
                }
            }
        }
        assert_eq!(got.buckets.iter().map(|b| b.count).collect::<Vec<_>>(), counts, "histogram counts, {split:?}: {what}");
        assert_eq!(got.buckets.iter().map(|b| b.split.clone()).collect::<Vec<_>>(), splits, "histogram splits, {split:?}: {what}");
    }
}

fn top_map(r: &logsleuth::model::TopResult) -> (u64, HashMap<String, u64>) {
    (r.total, r.buckets.iter().map(|b| (b.value.clone(), b.count)).collect())
}

async fn check_paths(paths: &[PathBuf], ranges: &[TimeRange]) {
    let source = LocalSource::open(paths, LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    let shot = OneShot::open(paths, &LocalOptions::default()).unwrap().expect("access logs are scanned in place").with_piece_bytes(PIECE);
    assert_eq!(shot.info().default_columns, source.info().default_columns);
    for &range in ranges {
        let all = all_records(&source, range).await;
        for &query in QUERIES {
            let m = matcher(query);
            let expected: Vec<Record> = all.iter().filter(|r| m.matches(r)).cloned().collect();
            let what = format!("{query:?} in {range:?} on {paths:?}");
            let indexed = indexed_search(&source, query, range).await;
            assert!(indexed == expected, "indexed search differs: {what}");
            let page = shot.search(&Query::kql(query), &range, usize::MAX).unwrap();
            assert_eq!(page.total, Some(HitCount::Exact(expected.len() as u64)), "{what}");
            assert!(page.records == expected, "one-shot search differs: {what}");
            let few = shot.search(&Query::kql(query), &range, 7).unwrap();
            assert!(few.records[..] == expected[..expected.len().min(7)], "one-shot first page differs: {what}");
            // Top for a few of the queries (and every field for the first two).
            let fields: &[&str] = match QUERIES.iter().position(|q| *q == query) {
                Some(0) | Some(1) => &["status", "body_bytes_sent", "http_user_agent", "method", "file", "unparsed", "message", "@timestamp", "nope"],
                Some(i) if i % 4 == 0 => &["status", "path"],
                _ => &[],
            };
            if !fields.is_empty() {
                check_histogram(&source, query, range, &expected, &what).await;
            }
            for &field in fields {
                let want = reference_top(&expected, field);
                let request = TopRequest { query: Query::kql(query), range, field: field.into(), size: usize::MAX };
                assert_eq!(top_map(&source.top(request).await.unwrap()), want, "indexed top {field}: {what}");
                let got = shot.top(&Query::kql(query), &range, field, usize::MAX).unwrap();
                assert_eq!(top_map(&got), want, "one-shot top {field}: {what}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_answers_agree() {
    let f = files();
    // The whole span only: 51,462 lines a query is the slow part of this file.
    check_paths(std::slice::from_ref(&f.nginx), &ranges()[..1]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_lines_agree_alone_and_merged_with_apache() {
    let f = files();
    check_paths(std::slice::from_ref(&f.hostile), &ranges()).await;
    check_paths(&[f.hostile.clone(), f.apache.clone()], &ranges()).await;
}

#[test]
fn unparsed_lines_are_warned_once_per_file() {
    let f = files();
    let shot = OneShot::open(&[f.apache.clone(), f.nginx.clone()], &LocalOptions::default()).unwrap().unwrap();
    let page = shot.search(&Query::kql("status:200"), &TimeRange::ALL, 1).unwrap();
    assert_eq!(page.warnings.len(), 1, "{:?}", page.warnings);
    assert!(page.warnings[0].contains("apache.log: 1 line did not parse as access-combined"), "{:?}", page.warnings);
}

#[test]
fn inputs_without_a_line_scanner_take_the_indexed_path() {
    let f = files();
    // gzip, stdin, and formats other than access logs.
    assert!(OneShot::open(&[fixture("nginx_logs.gz")], &LocalOptions::default()).unwrap().is_none());
    assert!(OneShot::open(&[PathBuf::from("-")], &LocalOptions::default()).unwrap().is_none());
    assert!(OneShot::open(&[fixture("lnav/logfile_logfmt.0")], &LocalOptions::default()).unwrap().is_none());
    assert!(OneShot::open(&[f.nginx.clone(), fixture("lnav/logfile_bunyan.0")], &LocalOptions::default()).unwrap().is_none());
    // Missing files are errors, as when opening the source.
    assert!(OneShot::open(&[f.nginx.with_extension("missing")], &LocalOptions::default()).is_err());
}
