//! Issue 14: no line lost or repeated when a followed file is rotated while it is written,
//! with real file operations: rename rotation (logrotate's default), `copytruncate` (copy
//! away, then truncate in place) and a plain truncation (`: > file`), each twice in 300 lines,
//! at 2,000 lines/s (10 runs one after the other) and at 100 lines/s (10 runs at once, so the
//! slow rate costs 3 s and not 30).
//!
//! A plain truncation destroys what was not read yet, and nothing can read a line that is
//! truncated away in the microseconds after it was written: the truncation here comes 20 ms
//! after the last write (a poll every 200 ms loses the lines of those 20 ms; reading on change
//! events does not). `copytruncate` comes right after the last write, with no pause: what the
//! follower had not read yet is read from the copy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{Query, Source, TailEvent, TailRequest};

const LINES: usize = 300;

#[derive(Clone, Copy, Debug)]
enum Rotation {
    Rename,
    CopyTruncate,
    Truncate,
}

/// Writes `LINES` lines at `rate` lines/s into `path`, rotating it at lines 100 and 200.
fn write(path: &Path, rate: u32, rotation: Rotation) {
    let open = |p: &Path| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
    let mut out = open(path);
    let start = Instant::now();
    let interval = Duration::from_secs(1) / rate;
    for i in 0..LINES {
        if i == 100 || i == 200 {
            let old = path.with_extension(format!("log.{}", i / 100));
            match rotation {
                Rotation::Rename => {
                    std::fs::rename(path, &old).unwrap();
                    // The writer reopens its log (as after logrotate's postrotate HUP).
                    out = open(path);
                }
                Rotation::CopyTruncate => {
                    std::fs::copy(path, &old).unwrap();
                    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
                }
                Rotation::Truncate => {
                    std::thread::sleep(Duration::from_millis(20));
                    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
                }
            }
        }
        let due = start + interval * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        // One write per line, as loggers do (O_APPEND: after a truncation it lands at 0).
        let line = format!("2024-01-01T00:00:00.{i:06}Z seq={i:05} GET /api/items?page={i} status=200 {}\n", "x".repeat(40));
        out.write_all(line.as_bytes()).unwrap();
    }
}

/// One run: follow an empty file, write into it with rotations, collect what the tail sends.
async fn run(rate: u32, rotation: Rotation) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("app.log");
    std::fs::write(&path, "").unwrap();
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    let mut rx = source.tail(TailRequest { query: Query::default(), since: None }).unwrap();
    // The follower is running once the tail says so.
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(TailEvent::Status(s))) if s.starts_with("following") => break,
            Ok(Some(_)) => {}
            other => return Err(format!("no start: {other:?}")),
        }
    }
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || write(&path, rate, rotation))
    };
    let mut seqs: Vec<usize> = Vec::new();
    let mut statuses = Vec::new();
    let mut written_at: Option<Instant> = None;
    loop {
        if written_at.is_none() && writer.is_finished() {
            written_at = Some(Instant::now());
        }
        // Everything written is read within a second of the last write, or it is lost.
        if seqs.len() >= LINES || written_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            Ok(Some(TailEvent::Records(rs))) => {
                for r in rs {
                    let seq = r.message.split("seq=").nth(1).and_then(|s| s.get(..5)).and_then(|s| s.parse().ok());
                    seqs.push(seq.ok_or_else(|| format!("not a written line: {:?}", r.message))?);
                }
            }
            Ok(Some(TailEvent::Status(s))) => statuses.push(s),
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => return Err("the tail ended".into()),
        }
    }
    writer.join().unwrap();
    // A little longer: a duplicate would come now.
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        if let TailEvent::Records(rs) = ev {
            seqs.extend(rs.iter().filter_map(|r| r.message.split("seq=").nth(1)?.get(..5)?.parse::<usize>().ok()));
        }
    }
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let duplicated = seqs.len() - sorted.len();
    let lost: Vec<usize> = (0..LINES).filter(|i| sorted.binary_search(i).is_err()).collect();
    if !lost.is_empty() || duplicated > 0 {
        return Err(format!("{rotation:?} at {rate}/s: lost {lost:?}, {duplicated} duplicated; statuses {statuses:?}"));
    }
    // Every line is searchable too, once.
    let want = match rotation {
        Rotation::Rename => "rotated",
        Rotation::CopyTruncate | Rotation::Truncate => "truncated",
    };
    if !statuses.iter().any(|s| s.contains(want)) {
        return Err(format!("{rotation:?}: no {want} status in {statuses:?}"));
    }
    if source.line_count() != LINES {
        return Err(format!("{rotation:?}: {} lines indexed", source.line_count()));
    }
    Ok(())
}

async fn fast(rotation: Rotation) {
    for _ in 0..10 {
        run(2000, rotation).await.unwrap();
    }
}

async fn slow(rotation: Rotation) {
    let runs: Vec<_> = (0..10).map(|_| tokio::spawn(run(100, rotation))).collect();
    for r in runs {
        r.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_rotation_at_2000_lines_per_second() {
    fast(Rotation::Rename).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_at_2000_lines_per_second() {
    fast(Rotation::CopyTruncate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncation_at_2000_lines_per_second() {
    fast(Rotation::Truncate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_rotation_at_100_lines_per_second() {
    slow(Rotation::Rename).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_at_100_lines_per_second() {
    slow(Rotation::CopyTruncate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncation_at_100_lines_per_second() {
    slow(Rotation::Truncate).await;
}
