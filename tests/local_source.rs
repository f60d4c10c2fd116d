//! The local source through the `Source` API, on real data: the reference counts of
//! /work/shared/data/README.md (copied fixtures), ordering, paging, merge, gzip, context.

use std::io::Read;
use std::path::{Path, PathBuf};

use logsleuth::formats::LogFormat;
use logsleuth::model::{RecordId, TimeRange, Value};
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{HistogramRequest, HitCount, Query, SearchRequest, Source, Split, TopRequest};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local").join(name)
}

/// Decompresses a gzip fixture into a temporary plain file.
fn plain_copy(dir: &tempfile::TempDir, gz: &str) -> PathBuf {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture(gz)).unwrap()).read_to_end(&mut text).unwrap();
    let path = dir.path().join(gz.trim_end_matches(".gz"));
    std::fs::write(&path, text).unwrap();
    path
}

async fn open(paths: &[PathBuf]) -> LocalSource {
    let source = LocalSource::open(paths, LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    source
}

async fn top(source: &LocalSource, field: &str, size: usize) -> Vec<(String, u64)> {
    let r = source
        .top(TopRequest { query: Query::default(), range: TimeRange::ALL, field: field.into(), size })
        .await
        .unwrap();
    r.buckets.into_iter().map(|b| (b.value, b.count)).collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(v, c)| (v.to_string(), *c)).collect()
}

#[tokio::test]
async fn nginx_reference_counts() {
    let source = open(&[fixture("nginx_logs.gz")]).await;
    assert_eq!(source.formats()[0].1, LogFormat::AccessCombined);
    assert_eq!(source.line_count(), 51_462);
    assert_eq!(source.unparsed_lines(), 0);
    assert_eq!(
        top(&source, "status", 10).await,
        pairs(&[("404", 33876), ("304", 13330), ("200", 4028), ("206", 186), ("403", 38), ("416", 4)])
    );
    let ips = top(&source, "remote_addr", 11).await;
    assert_eq!(
        ips[..10],
        pairs(&[
            ("216.46.173.126", 2350),
            ("180.179.174.219", 1720),
            ("204.77.168.241", 1439),
            ("65.39.197.164", 1365),
            ("80.91.33.133", 1202),
            ("84.208.15.12", 1120),
            ("74.125.60.158", 1084),
            ("119.252.76.162", 1064),
            ("79.136.114.202", 628),
            ("54.207.57.55", 532),
        ])[..]
    );
    assert_eq!(ips[10].1, 495);
    assert_eq!(
        top(&source, "http_user_agent", 5).await,
        pairs(&[
            ("Debian APT-HTTP/1.3 (1.0.1ubuntu2)", 11830),
            ("Debian APT-HTTP/1.3 (0.9.7.9)", 11365),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)", 6719),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.16)", 5740),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.22)", 3855),
        ])
    );
    let span = source.time_span().await.unwrap();
    assert_eq!(span.from, Some(logsleuth::time::parse_absolute("2015-05-17T08:05:00Z", None).unwrap()));
    assert_eq!(span.to, Some(logsleuth::time::parse_absolute("2015-06-04T07:06:52Z", None).unwrap() + 1));
}

#[tokio::test]
async fn apache_malformed_line_is_kept_but_never_counted() {
    let source = open(&[fixture("apache_logs.gz")]).await;
    assert_eq!(source.line_count(), 10_000);
    assert_eq!(source.unparsed_lines(), 1);
    assert_eq!(
        top(&source, "status", 10).await,
        pairs(&[("200", 9125), ("304", 445), ("404", 213), ("301", 164), ("206", 45), ("500", 3), ("403", 2), ("416", 2)])
    );
    let ips = top(&source, "remote_addr", 10).await;
    assert_eq!(ips[0], ("66.249.73.135".to_string(), 482));
    assert_eq!(ips[9], ("198.46.149.143".to_string(), 82));
    let agents = top(&source, "http_user_agent", 5).await;
    assert_eq!(agents[2], ("UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/".to_string(), 364));
    assert_eq!(agents[4].1, 271);
    // The malformed line 8899 (0-based 8898) is a visible plain record.
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 10_000, cursor: None })
        .await
        .unwrap();
    let bad: Vec<_> = page.records.iter().filter(|r| r.fields.get("unparsed") == Some(&Value::Bool(true))).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].id, RecordId::Line { file: 0, line: 8898 });
    assert!(bad[0].message.starts_with("46.118.127.106 "));
    assert!(page.warnings.iter().any(|w| w.contains("1 line did not parse")), "{:?}", page.warnings);
}

#[tokio::test]
async fn search_is_newest_first_and_pages_without_duplicates() {
    let source = open(&[fixture("apache_logs.gz")]).await;
    let mut cursor = None;
    let mut seen = std::collections::HashSet::new();
    let mut last = i64::MAX;
    let mut pages = 0;
    loop {
        let page = source
            .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 1500, cursor })
            .await
            .unwrap();
        assert_eq!(page.total, Some(HitCount::Exact(10_000)));
        for r in &page.records {
            let ts = r.timestamp.unwrap();
            assert!(ts <= last, "not newest first");
            last = ts;
            assert!(seen.insert(r.id.clone()), "duplicate {:?}", r.id);
        }
        pages += 1;
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert_eq!(pages, 7);
}

#[tokio::test]
async fn time_range_bounds_results() {
    let source = open(&[fixture("nginx_logs.gz")]).await;
    let from = logsleuth::time::parse_absolute("2015-05-20T00:00:00Z", None).unwrap();
    let to = logsleuth::time::parse_absolute("2015-05-21T00:00:00Z", None).unwrap();
    let range = TimeRange::between(from, to);
    let page = source.search(SearchRequest { query: Query::default(), range, limit: 5, cursor: None }).await.unwrap();
    assert_eq!(page.total, Some(HitCount::Exact(2851)));
    assert!(page.records.iter().all(|r| range.contains(r.timestamp.unwrap())));
    let t = source.top(TopRequest { query: Query::default(), range, field: "status".into(), size: 3 }).await.unwrap();
    assert_eq!(t.total, 2851);
    assert_eq!(t.buckets.iter().map(|b| b.count).sum::<u64>() + t.other, 2851);
}

#[tokio::test]
async fn histogram_buckets_are_aligned_complete_and_split_by_status_class() {
    let source = open(&[fixture("nginx_logs.gz")]).await;
    let day = 86_400 * 1_000_000_000i64;
    let h = source
        .histogram(HistogramRequest {
            query: Query::default(),
            range: TimeRange::ALL,
            interval: Some(day),
            target_buckets: 100,
            split: Split::StatusClass,
        })
        .await
        .unwrap();
    assert_eq!(h.interval, day);
    assert_eq!(h.buckets.len(), 19);
    assert!(h.buckets.iter().all(|b| b.start % day == 0));
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 51_462);
    let class = |k: &str| h.buckets.iter().map(|b| b.split.get(k).copied().unwrap_or(0)).sum::<u64>();
    assert_eq!(class("2xx"), 4028 + 186);
    assert_eq!(class("3xx"), 13330);
    assert_eq!(class("4xx"), 33876 + 38 + 4);
    // Empty buckets are included: a range past the data has zero-count buckets.
    let from = logsleuth::time::parse_absolute("2015-06-04T00:00:00Z", None).unwrap();
    let h = source
        .histogram(HistogramRequest {
            query: Query::default(),
            range: TimeRange::between(from, from + 3 * day),
            interval: Some(day),
            target_buckets: 10,
            split: Split::None,
        })
        .await
        .unwrap();
    assert_eq!(h.buckets.iter().map(|b| b.count).collect::<Vec<_>>(), vec![896, 0, 0]);
}

#[tokio::test]
async fn several_files_merge_in_time_order_with_a_file_label() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    std::fs::write(&a, "2024-01-01T00:00:01Z a1\n2024-01-01T00:00:03Z a3\n").unwrap();
    std::fs::write(&b, "2024-01-01T00:00:02Z b2\n2024-01-01T00:00:04Z b4\n").unwrap();
    let source = open(&[a.clone(), b]).await;
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 10, cursor: None })
        .await
        .unwrap();
    let msgs: Vec<&str> = page.records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(msgs, ["2024-01-01T00:00:04Z b4", "2024-01-01T00:00:03Z a3", "2024-01-01T00:00:02Z b2", "2024-01-01T00:00:01Z a1"]);
    assert_eq!(page.records[1].get("file"), Some(Value::Str(a.display().to_string())));
    assert!(source.info().default_columns.contains(&"file".to_string()));
    let files = top(&source, "file", 5).await;
    assert_eq!(files.len(), 2);
}

#[tokio::test]
async fn gzip_and_plain_copies_agree() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_copy(&dir, "apache_logs.gz");
    let a = open(&[plain]).await;
    let b = open(&[fixture("apache_logs.gz")]).await;
    assert_eq!(top(&a, "status", 10).await, top(&b, "status", 10).await);
    assert_eq!(a.time_span().await, b.time_span().await);
}

#[tokio::test]
async fn context_gives_neighbouring_lines_of_the_same_file() {
    let source = open(&[fixture("apache_logs.gz")]).await;
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 1, cursor: None })
        .await
        .unwrap();
    let record = page.records[0].clone();
    let RecordId::Line { line, .. } = record.id else { panic!("line id expected") };
    let ctx = source.context(record.clone(), 2, 2).await.unwrap();
    let lines: Vec<u64> = ctx.iter().map(|r| match r.id { RecordId::Line { line, .. } => line, _ => u64::MAX }).collect();
    let want: Vec<u64> = (line.saturating_sub(2)..=(line + 2).min(9_999)).collect();
    assert_eq!(lines, want);
    assert!(ctx.contains(&record));
}

#[tokio::test]
async fn fields_and_values_come_from_the_data() {
    let source = open(&[fixture("nginx_logs.gz")]).await;
    let fields = source.fields(TimeRange::ALL).await.unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    for want in ["@timestamp", "remote_addr", "status", "http_user_agent", "file", "message"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert_eq!(fields.iter().find(|f| f.name == "remote_addr").unwrap().kind, logsleuth::sources::FieldKind::Ip);
    assert_eq!(fields.iter().find(|f| f.name == "file").unwrap().origin, logsleuth::sources::FieldOrigin::Label);
    let status = fields.iter().find(|f| f.name == "status").unwrap();
    assert_eq!(status.kind, logsleuth::sources::FieldKind::Number);
    let values = source.field_values("status".into(), TimeRange::ALL, 3).await.unwrap();
    assert_eq!(values, ["404", "304", "200"]);
    let info = source.info();
    assert_eq!(info.roles.status.as_deref(), Some("status"));
    assert_eq!(info.roles.client_ip.as_deref(), Some("remote_addr"));
    assert!(!info.is_remote);
}

#[tokio::test]
async fn lnav_logfmt_and_bunyan_samples() {
    let logfmt = open(&[fixture("lnav/logfile_logfmt.0")]).await;
    assert_eq!(logfmt.formats()[0].1, LogFormat::Logfmt);
    assert_eq!(top(&logfmt, "level", 5).await, pairs(&[("error", 2), ("info", 2), ("warning", 1)]));
    let h = logfmt
        .histogram(HistogramRequest {
            query: Query::default(),
            range: TimeRange::ALL,
            interval: Some(60_000_000_000),
            target_buckets: 10,
            split: Split::Level,
        })
        .await
        .unwrap();
    assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 5);
    assert_eq!(h.buckets.iter().map(|b| b.split.get("warn").copied().unwrap_or(0)).sum::<u64>(), 1);

    let bunyan = open(&[fixture("lnav/logfile_bunyan.0")]).await;
    assert_eq!(bunyan.formats()[0].1, LogFormat::Json);
    assert_eq!(bunyan.line_count(), 10);
    assert_eq!(bunyan.unparsed_lines(), 0);
    let span = bunyan.time_span().await.unwrap();
    assert_eq!(span.from, Some(logsleuth::time::parse_absolute("2023-03-24T14:26:16.243Z", None).unwrap()));
    assert_eq!(bunyan.info().roles.level.as_deref(), Some("level"));
    // bunyan's numeric levels (20, 30) are named.
    assert_eq!(top(&bunyan, "level", 5).await, pairs(&[("debug", 9), ("info", 1)]));
    let page = bunyan
        .search(SearchRequest { query: Query::kql("level:info"), range: TimeRange::ALL, limit: 10, cursor: None })
        .await
        .unwrap();
    assert_eq!(page.total, Some(HitCount::Exact(1)));
}

#[tokio::test]
async fn native_queries_are_regular_expressions_and_bad_ones_are_query_errors() {
    let source = open(&[fixture("apache_logs.gz")]).await;
    let page = source
        .search(SearchRequest { query: Query::native(r#"" 500 (\d+|-) "#), range: TimeRange::ALL, limit: 100, cursor: None })
        .await
        .unwrap();
    assert_eq!(page.total, Some(HitCount::Exact(3)));
    let err = source
        .search(SearchRequest { query: Query::native("("), range: TimeRange::ALL, limit: 1, cursor: None })
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test]
async fn opening_missing_files_fails_at_once() {
    let err = LocalSource::open(&[PathBuf::from("/definitely/not/here.log")], LocalOptions::default()).err().unwrap();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("not/here.log"));
    assert!(LocalSource::open(&[], LocalOptions::default()).is_err());
    let dir = tempfile::tempdir().unwrap();
    assert!(LocalSource::open(&[dir.path().to_path_buf()], LocalOptions::default()).is_err());
}

#[tokio::test]
async fn kibana_sample_web_logs_as_json_lines() {
    let source = open(&[fixture("opensearch-dashboards/logs.json.gz")]).await;
    assert_eq!(source.formats()[0].1, LogFormat::Json);
    assert_eq!(source.line_count(), 14_074);
    assert_eq!(top(&source, "response", 10).await, pairs(&[("200", 12832), ("404", 801), ("503", 441)]));
    assert_eq!(
        top(&source, "machine.os", 5).await,
        pairs(&[("win xp", 2885), ("osx", 2825), ("win 7", 2814), ("win 8", 2813), ("ios", 2737)])
    );
    assert_eq!(top(&source, "clientip", 1).await, pairs(&[("30.156.16.164", 100)]));
    let info = source.info();
    assert_eq!(info.roles.status.as_deref(), Some("response"));
    assert_eq!(info.roles.client_ip.as_deref(), Some("clientip"));
    assert_eq!(info.roles.user_agent.as_deref(), Some("agent"));
    let span = source.time_span().await.unwrap();
    assert_eq!(span.from, Some(logsleuth::time::parse_absolute("2018-07-22T00:39:02.912Z", None).unwrap()));
    assert_eq!(span.to, Some(logsleuth::time::parse_absolute("2018-09-20T21:45:26.749Z", None).unwrap() + 1));
    // The status-class split uses the `response` role.
    let h = source
        .histogram(HistogramRequest {
            query: Query::default(),
            range: TimeRange::ALL,
            interval: None,
            target_buckets: 30,
            split: Split::StatusClass,
        })
        .await
        .unwrap();
    let class = |k: &str| h.buckets.iter().map(|b| b.split.get(k).copied().unwrap_or(0)).sum::<u64>();
    assert_eq!((class("2xx"), class("4xx"), class("5xx")), (12832, 801, 441));
    // KQL on nested fields.
    let page = source
        .search(SearchRequest { query: Query::kql("machine.os:osx and response:503"), range: TimeRange::ALL, limit: 1000, cursor: None })
        .await
        .unwrap();
    let Some(HitCount::Exact(n)) = page.total else { panic!("exact total expected") };
    assert!(n > 0 && n < 441);
    assert_eq!(page.records.len() as u64, n);
    assert!(page.records.iter().all(|r| r.get("machine.os") == Some(Value::Str("osx".into())) && r.get("response") == Some(Value::Int(503))));
}
