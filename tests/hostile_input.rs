//! Hostile files: invalid UTF-8 and NUL bytes, a 10 MB single line, 100k fields in one JSON
//! object, deeply nested JSON, timestamps out of range, and files that shrink or vanish while
//! followed. The binary and the local source must answer (no panic, no hang) and keep working.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use logsleuth::model::TimeRange;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{Query, SearchRequest, Source, TailEvent, TailRequest};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs the binary with a time limit; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Read the output while waiting (a 10 MB line would fill the pipe otherwise).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => {
            let out = out.unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        }
        Err(_) => {
            let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
            panic!("logsleuth {args:?} hangs");
        }
    }
}

fn hostile_files(dir: &Path) -> Vec<PathBuf> {
    let json_line = |extra: &str| format!("{{\"time\":\"2026-11-22T08:00:00Z\",\"level\":\"info\",\"msg\":\"m\"{extra}}}\n");
    let mut files = Vec::new();
    // Invalid UTF-8 and NUL bytes between good lines.
    let mut bytes = json_line("").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\x00\x00garbage \xc3\x28 \x00 nul\n");
    bytes.extend_from_slice(json_line(",\"k\":\"\\u0000\"").as_bytes());
    files.push(write(dir, "invalid.log", &bytes));
    // One 10 MB line (and a normal one after it).
    let big = format!("{}{}", json_line(&format!(",\"big\":\"{}\"", "x".repeat(10 << 20))), json_line(""));
    files.push(write(dir, "ten_mb_line.log", big.as_bytes()));
    // 100k fields in one object.
    let fields: String = (0..100_000).map(|i| format!(",\"f{i}\":{i}")).collect();
    files.push(write(dir, "many_fields.log", format!("{}{}", json_line(&fields), json_line("")).as_bytes()));
    // Nesting far beyond any parser's recursion limit.
    let deep = format!(",\"deep\":{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!(",\"o\":{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    files.push(write(dir, "deep.log", format!("{}{}{}", json_line(&deep), json_line(&deep_obj), json_line("")).as_bytes()));
    // Timestamps out of any range.
    let times = [
        "{\"time\":\"99999-12-31T23:59:59Z\",\"msg\":\"far future\"}",
        "{\"time\":\"-0001-01-01T00:00:00Z\",\"msg\":\"before year 0\"}",
        "{\"time\":1e300,\"msg\":\"huge epoch\"}",
        "{\"time\":-9223372036854775808,\"msg\":\"min i64\"}",
        "{\"time\":18446744073709551615,\"msg\":\"max u64\"}",
        "{\"time\":\"2026-02-30T25:61:61Z\",\"msg\":\"impossible date\"}",
        "<13>Feb 30 25:61:61 host app: impossible syslog",
        "10.0.0.1 - - [99/Foo/99999:99:99:99 +9999] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        "{\"time\":\"2026-11-22T08:00:00Z\",\"msg\":\"normal\"}",
    ];
    files.push(write(dir, "times.log", (times.join("\n") + "\n").as_bytes()));
    files
}

#[test]
fn the_cli_answers_on_every_hostile_file() {
    let dir = tempfile::tempdir().unwrap();
    for file in hostile_files(dir.path()) {
        let f = file.to_str().unwrap();
        for args in [
            vec!["query", f, "--limit", "5", "--output", "raw"],
            vec!["query", f, "--limit", "5"],
            vec!["top", f, "--field", "level"],
            vec!["histogram", f],
            vec!["query", f, "--kql", "msg:m or big:*x* or deep:1"],
        ] {
            let (code, out, err) = run(&args);
            assert!(!err.contains("panicked"), "logsleuth {args:?} panicked: {err}");
            assert!(code == Some(0), "logsleuth {args:?} failed ({code:?}): {err}");
            if args[0] == "query" && args.len() == 6 && args[5] == "raw" {
                assert!(!out.is_empty(), "{args:?} shows the lines");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_source_searches_every_hostile_file() {
    let dir = tempfile::tempdir().unwrap();
    for file in hostile_files(dir.path()) {
        let source = LocalSource::open(std::slice::from_ref(&file), LocalOptions::default()).unwrap();
        tokio::time::timeout(Duration::from_secs(60), source.wait_indexed()).await.expect("indexing ends");
        let range = TimeRange::between(i64::MIN / 2, i64::MAX / 2);
        let page = tokio::time::timeout(Duration::from_secs(60), source.search(SearchRequest { query: Query::kql(""), range, limit: 50, cursor: None }))
            .await
            .expect("search ends")
            .unwrap();
        assert!(!page.records.is_empty(), "{file:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_file_that_shrinks_then_vanishes_does_not_break_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "app.log", b"{\"time\":\"2026-11-22T08:00:00Z\",\"msg\":\"one\"}\n");
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    let mut rx = source.tail(TailRequest { query: Query::kql(""), since: None }).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Shrinks to nothing, gets a line, then vanishes.
    std::fs::write(&path, b"").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"time\":\"2026-11-22T08:00:01Z\",\"msg\":\"two\"}\n").unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(|m: &String| m.contains("two")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await.expect("the line after truncation arrives") {
            Some(TailEvent::Records(r)) => seen.extend(r.into_iter().map(|r| r.message)),
            Some(_) => {}
            None => panic!("tail ended"),
        }
    }
    std::fs::remove_file(&path).unwrap();
    // Gone: the tail keeps waiting (tail -F), at most saying so; it neither ends, nor invents
    // lines, nor spins out.
    let mut after = Vec::new();
    let window = Instant::now() + Duration::from_millis(1500);
    let ended = loop {
        match tokio::time::timeout(window.saturating_duration_since(Instant::now()), rx.recv()).await {
            Err(_) => break false,
            Ok(Some(event)) => after.push(event),
            Ok(None) => break true,
        }
    };
    assert!(!ended, "the tail ended when its file vanished: {after:?}");
    assert!(after.iter().all(|e| matches!(e, TailEvent::Status(_))), "only statuses after the file is gone: {after:?}");
    assert!(after.len() < 10, "the tail spins: {after:?}");
    // The source still answers searches about what it had read: the line after the truncation.
    let page = source
        .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit: 10, cursor: None })
        .await
        .expect("the source still answers searches");
    let messages: Vec<&str> = page.records.iter().map(|r| r.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("\"two\"")), "{messages:?}");
    assert_eq!(page.total, Some(logsleuth::sources::HitCount::Exact(page.records.len() as u64)), "{messages:?}");
}

/// Above the 64 MiB mmap threshold (src/sources/local/index.rs): such files are mapped, and
/// reading a mapped page past the end of a file that shrank raises SIGBUS unless guarded.
const MAPPED_SIZE: usize = (64 << 20) + (1 << 20);

/// An access log just above the mmap threshold, one distinct path per line; returns the
/// line count.
fn write_large_access_log(path: &Path) -> usize {
    let mut text = String::with_capacity(MAPPED_SIZE + 200);
    let mut n = 0;
    while text.len() < MAPPED_SIZE {
        let (m, s) = ((n / 60) % 60, n % 60);
        text.push_str(&format!("10.0.0.{} - - [22/Nov/2026:08:{m:02}:{s:02} +0000] \"GET /old/{n} HTTP/1.1\" {} 512 \"-\" \"curl/8\"\n", n % 250, if n % 10 == 0 { 503 } else { 200 }));
        n += 1;
    }
    std::fs::write(path, text).unwrap();
    n
}

async fn all_records(source: &LocalSource, limit: usize) -> logsleuth::sources::SearchPage {
    let request = SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit, cursor: None };
    tokio::time::timeout(Duration::from_secs(60), source.search(request)).await.expect("search ends").expect("search answers")
}

async fn top_status(source: &LocalSource) -> logsleuth::model::TopResult {
    let request = logsleuth::sources::TopRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), field: "status".into(), size: 5 };
    tokio::time::timeout(Duration::from_secs(60), source.top(request)).await.expect("top ends").expect("top answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_mapped_file_truncated_while_open_is_no_crash_and_is_read_again_when_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let lines = write_large_access_log(&path);
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    tokio::time::timeout(Duration::from_secs(120), source.wait_indexed()).await.expect("indexing ends");
    assert_eq!(source.line_count(), lines);
    let page = all_records(&source, 5).await;
    assert!(page.records[0].message.contains("/old/"), "{:?}", page.records[0]);
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    let errors = || SearchRequest { query: Query::kql("status:503"), range: TimeRange::between(0, i64::MAX / 2), limit: 5, cursor: None };
    let before = source.search(errors()).await.unwrap();
    assert_eq!(before.total, Some(logsleuth::sources::HitCount::Exact(lines.div_ceil(10) as u64)));
    let mut rx = source.tail(TailRequest { query: Query::kql(""), since: None }).unwrap();

    // `copytruncate` / `> big.log`: the mapped pages past the new end are gone.
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    // Browsing (newest page, next page, context of a line) and aggregations go on, and say why
    // the old lines are missing.
    let page = all_records(&source, 50).await;
    assert_eq!(page.records.len(), 50);
    assert!(page.records.iter().all(|r| r.message.contains("line lost")), "{:?}", page.records[0]);
    let warning = page.warnings.iter().find(|w| w.contains("shrank")).unwrap_or_else(|| panic!("no shrink warning: {:?}", page.warnings));
    assert!(warning.contains("big.log") && warning.contains("lost"), "{warning}");
    // The same query as before the truncation is counted again, not taken from a cache.
    let after = source.search(errors()).await.unwrap();
    assert_eq!((after.total, after.records.len()), (Some(logsleuth::sources::HitCount::Exact(0)), 0));
    let next = SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit: 50, cursor: page.next.clone() };
    assert_eq!(source.search(next).await.unwrap().records.len(), 50);
    let around = source.context(page.records[3].clone(), 2, 2).await.unwrap();
    assert_eq!(around.len(), 5);
    let top = top_status(&source).await;
    assert!(top.partial && top.note.as_deref().is_some_and(|n| n.contains("shrank")), "{top:?}");
    assert!(top.buckets.iter().all(|b| b.value != "503"), "no old line is read: {top:?}");

    // The writer goes on in the emptied file: the follower notices the truncation and reads
    // the file again from its start, as `tail -F` does.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"10.0.0.9 - - [22/Nov/2026:09:00:00 +0000] \"GET /new/1 HTTP/1.1\" 201 1 \"-\" \"curl/8\"\n").unwrap();
    let mut statuses = Vec::new();
    let mut new = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while new.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await.expect("the new line arrives") {
            Some(TailEvent::Records(r)) => new.extend(r.into_iter().map(|r| r.message)),
            Some(TailEvent::Status(s)) => statuses.push(s),
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("the tail ended"),
        }
    }
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0].contains("/new/1"), "{new:?}");
    assert!(statuses.iter().any(|s| s.contains("truncated")), "{statuses:?}");
    let top = top_status(&source).await;
    assert!(top.buckets.iter().any(|b| b.value == "201" && b.count == 1), "{top:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_mapped_file_that_shrinks_while_being_indexed_is_no_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    write_large_access_log(&path);
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    // Cut in the middle of a line while the indexer is (most likely) still reading.
    let keep = 20 << 20;
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(keep + 17).unwrap();
    tokio::time::timeout(Duration::from_secs(120), source.wait_indexed()).await.expect("indexing ends");
    let page = all_records(&source, 20).await;
    assert!(!page.records.is_empty());
    for r in &page.records {
        assert!(r.message.contains("/old/") || r.message.contains("line lost"), "{r:?}");
    }
    assert!(page.warnings.iter().any(|w| w.contains("shrank to 20971537 bytes")), "{:?}", page.warnings);
    // Every line still readable is intact.
    let top = top_status(&source).await;
    assert!(top.buckets.iter().all(|b| b.value == "200" || b.value == "503"), "{top:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_mapped_file_that_vanishes_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let lines = write_large_access_log(&path);
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    tokio::time::timeout(Duration::from_secs(120), source.wait_indexed()).await.expect("indexing ends");
    let mut rx = source.tail(TailRequest { query: Query::kql(""), since: None }).unwrap();
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The open handle keeps the data: everything stays searchable, nothing is reported lost.
    let page = all_records(&source, 10).await;
    assert_eq!(page.total, Some(logsleuth::sources::HitCount::Exact(lines as u64)));
    assert!(page.records.iter().all(|r| r.message.contains("/old/")), "{:?}", page.records[0]);
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    let top = top_status(&source).await;
    assert_eq!(top.total, lines as u64);
    assert!(!top.partial, "{top:?}");
    // The tail neither ends nor invents lines.
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await {
        let event = event.expect("the tail goes on after its file vanished");
        assert!(matches!(event, TailEvent::Status(_)), "{event:?}");
    }
}
