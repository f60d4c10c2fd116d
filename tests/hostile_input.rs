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
    // Gone: the tail waits (tail -F) or says so; it neither panics nor spins out.
    let after = tokio::time::timeout(Duration::from_millis(1500), async {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        events
    })
    .await;
    if let Ok(events) = after {
        assert!(events.iter().all(|e| !matches!(e, TailEvent::Records(_))), "{events:?}");
    }
    // The source still answers searches about what it had read.
    let page = source
        .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, i64::MAX / 2), limit: 10, cursor: None })
        .await;
    if let Err(e) = page {
        assert!(!e.to_string().is_empty());
    }
}
