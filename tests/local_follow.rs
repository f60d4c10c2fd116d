//! Follow mode (`tail -F` semantics) on temporary files: appends, truncation, rotation, a
//! final line without newline that continues, streams that end, and the demo generator.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use logsleuth::model::TimeRange;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{HitCount, Query, SearchRequest, Source, TailEvent, TailRequest};
use tokio::sync::mpsc::Receiver;

/// Collects tail events until `done` says so, failing after a timeout.
async fn until(rx: &mut Receiver<TailEvent>, mut done: impl FnMut(&[String], &[String]) -> bool) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&lines, &statuses) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(TailEvent::Records(rs))) => lines.extend(rs.into_iter().map(|r| r.message)),
            Ok(Some(TailEvent::Status(s))) => statuses.push(s),
            Ok(Some(other)) => panic!("unexpected {other:?}"),
            Ok(None) => break,
            Err(_) => panic!("timed out; lines {lines:?}, statuses {statuses:?}"),
        }
    }
    (lines, statuses)
}

fn append(path: &PathBuf, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

async fn open(path: &PathBuf) -> LocalSource {
    let s = LocalSource::open(std::slice::from_ref(path), LocalOptions::default()).unwrap();
    s.wait_indexed().await;
    s
}

fn tail(source: &LocalSource, kql: &str) -> Receiver<TailEvent> {
    source.tail(TailRequest { query: Query::kql(kql), since: None }).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_lines_arrive_live_and_old_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "2024-01-01T00:00:00Z old one\n2024-01-01T00:00:01Z old two\n").unwrap();
    let source = open(&path).await;
    let count = |q: &'static str| {
        let source = &source;
        async move {
            let req = SearchRequest { query: Query::native(q), range: TimeRange::ALL, limit: 1, cursor: None };
            source.search(req).await.unwrap().total
        }
    };
    assert_eq!(count("Z ").await, Some(HitCount::Exact(2)));
    let mut rx = tail(&source, "");
    until(&mut rx, |_, s| !s.is_empty()).await;
    append(&path, "2024-01-01T00:00:02Z new three\n2024-01-01T00:00:03Z new four\n");
    let (lines, _) = until(&mut rx, |l, _| l.len() >= 2).await;
    assert_eq!(lines, ["2024-01-01T00:00:02Z new three", "2024-01-01T00:00:03Z new four"]);
    // Appended lines are searchable too.
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 10, cursor: None })
        .await
        .unwrap();
    assert_eq!(page.records.len(), 4);
    assert_eq!(page.records[0].message, "2024-01-01T00:00:03Z new four");
    // Totals grow with the file (counted incrementally from the previous total).
    assert_eq!(count("Z ").await, Some(HitCount::Exact(4)));
    assert_eq!(count("new").await, Some(HitCount::Exact(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncation_restarts_from_the_beginning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "2024-01-01T00:00:00Z a long first line to be truncated away\n").unwrap();
    let source = open(&path).await;
    let mut rx = tail(&source, "");
    until(&mut rx, |_, s| !s.is_empty()).await;
    std::fs::write(&path, "2024-01-01T00:01:00Z after\n").unwrap();
    let (lines, statuses) = until(&mut rx, |l, _| !l.is_empty()).await;
    assert_eq!(lines, ["2024-01-01T00:01:00Z after"]);
    assert!(statuses.iter().any(|s| s.contains("truncated")), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_finishes_the_old_file_then_follows_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "2024-01-01T00:00:00Z first\n").unwrap();
    let source = open(&path).await;
    let mut rx = tail(&source, "");
    until(&mut rx, |_, s| !s.is_empty()).await;
    // Written just before the rename: must not be lost.
    append(&path, "2024-01-01T00:00:01Z last words of the old file\n");
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&path, "2024-01-01T00:00:02Z hello from the new file\n").unwrap();
    let (lines, statuses) = until(&mut rx, |l, _| l.len() >= 2).await;
    assert_eq!(lines, ["2024-01-01T00:00:01Z last words of the old file", "2024-01-01T00:00:02Z hello from the new file"]);
    assert!(statuses.iter().any(|s| s.contains("rotated")), "{statuses:?}");
    append(&path, "2024-01-01T00:00:03Z more\n");
    let (lines, _) = until(&mut rx, |l, _| !l.is_empty()).await;
    assert_eq!(lines, ["2024-01-01T00:00:03Z more"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_line_without_newline_is_completed_not_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "first\nsecond hal").unwrap();
    let source = open(&path).await;
    assert_eq!(source.line_count(), 2);
    let mut rx = tail(&source, "");
    until(&mut rx, |_, s| !s.is_empty()).await;
    append(&path, "f\nthird\n");
    let (lines, _) = until(&mut rx, |l, _| l.len() >= 2).await;
    assert_eq!(lines, ["second half", "third"]);
    assert_eq!(source.line_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_filters_with_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "").unwrap();
    let source = open(&path).await;
    // A regular expression (the local native language) works whatever the KQL branch's state.
    let mut rx = source.tail(TailRequest { query: Query::native("ERROR"), since: None }).unwrap();
    until(&mut rx, |_, s| !s.is_empty()).await;
    append(&path, "INFO fine\nERROR boom\nINFO fine again\nERROR again\n");
    let (lines, _) = until(&mut rx, |l, _| l.len() >= 2).await;
    assert_eq!(lines, ["ERROR boom", "ERROR again"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_tailed_from_its_start_and_the_tail_ends_with_it() {
    let text = "{\"level\":\"info\",\"msg\":\"one\"}\n{\"level\":\"error\",\"msg\":\"two\"}\n{\"level\":\"info\",\"msg\":\"three\"}";
    let source = LocalSource::from_reader("stdin", std::io::Cursor::new(text.as_bytes().to_vec()), LocalOptions::default()).unwrap();
    let mut rx = tail(&source, "");
    let (lines, statuses) = until(&mut rx, |_, _| false).await;
    assert_eq!(lines.len(), 3);
    assert!(lines[2].contains("three"));
    assert_eq!(statuses.last().map(String::as_str), Some("end of input"));
    assert_eq!(source.formats()[0].1, logsleuth::formats::LogFormat::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_generator_feeds_the_tail() {
    let source = LocalSource::demo(true);
    assert!(source.line_count() >= 4000);
    let span = source.time_span().await.unwrap();
    let now = logsleuth::time::now_nanos();
    assert!((now - span.to.unwrap()).abs() < 60 * 1_000_000_000, "demo data ends now");
    let mut rx = tail(&source, "");
    let (lines, _) = until(&mut rx, |l, _| l.len() >= 2).await;
    for l in &lines {
        let r = logsleuth::formats::parse(logsleuth::formats::LogFormat::AccessCombined, l, &Default::default());
        assert!(r.is_some(), "generated line does not parse: {l}");
    }
    let still = LocalSource::demo(false);
    assert_eq!(still.line_count(), 4000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_out_of_order_lines_join_the_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "2024-01-01T00:00:05Z e\n2024-01-01T00:00:01Z a\n2024-01-01T00:00:03Z c\n").unwrap();
    let source = open(&path).await;
    let all = || async {
        let req = SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 100, cursor: None };
        source.search(req).await.unwrap().records.into_iter().map(|r| r.message[21..].to_string()).collect::<Vec<_>>()
    };
    assert_eq!(all().await, ["e", "c", "a"]);
    let mut rx = tail(&source, "");
    until(&mut rx, |_, s| !s.is_empty()).await;
    append(&path, "2024-01-01T00:00:04Z d\n2024-01-01T00:00:00Z z\n2024-01-01T00:00:03Z c2\n2024-01-01T00:00:06Z f\n");
    until(&mut rx, |l, _| l.len() >= 4).await;
    assert_eq!(all().await, ["f", "e", "d", "c2", "c", "a", "z"]);
}
