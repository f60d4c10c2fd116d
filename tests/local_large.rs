//! A large access log (1 GiB by default; `LOGSLEUTH_LARGE_MB` to change) stays usable: the
//! first page comes long before indexing ends, progress is reported, memory stays bounded.
//! Slow, so ignored by default: `cargo test --release --test local_large -- --ignored --nocapture`.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use logsleuth::model::TimeRange;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{HitCount, Query, SearchRequest, Source};

/// Anonymous resident memory (KiB): the process's own allocations, not the page cache of the
/// memory-mapped file, which the kernel can drop at will.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("RssAnon:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: builds a large file"]
async fn a_large_access_log_is_usable_before_it_is_indexed() {
    let mb: u64 = std::env::var("LOGSLEUTH_LARGE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let mut sample = Vec::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz");
    flate2::read::GzDecoder::new(std::fs::File::open(fixture).unwrap()).read_to_end(&mut sample).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big_access.log");
    let mut w = BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut written = 0u64;
    let mut copies = 0u64;
    while written < mb << 20 {
        w.write_all(&sample).unwrap();
        written += sample.len() as u64;
        copies += 1;
    }
    w.flush().unwrap();
    drop(w);
    let rss_before = rss_kib();

    let started = Instant::now();
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    let mut first = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 50, cursor: None })
        .await
        .unwrap();
    while first.records.is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        first = source
            .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 50, cursor: None })
            .await
            .unwrap();
    }
    let first_page = started.elapsed();
    let progress_seen = source.progress();
    source.wait_indexed().await;
    let indexed = started.elapsed();
    let lines = source.line_count() as u64;
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 50, cursor: None })
        .await
        .unwrap();
    let rss_after = rss_kib();
    eprintln!(
        "{written} bytes, {lines} lines: first page after {first_page:?} (progress then {progress_seen:?}), \
         indexed after {indexed:?}; anonymous RSS {} MiB → {} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert_eq!(lines, copies * 51_462);
    assert_eq!(page.total, Some(HitCount::Exact(lines)));
    assert!(first_page < indexed / 2, "the first page must not wait for the whole file");
    assert!(progress_seen.is_some(), "progress is reported while indexing");
    // Index (20 B/line) and time order (4 B/line) — not copies of the text.
    let budget_kib = rss_before + lines * 40 / 1024 + 64 * 1024;
    assert!(rss_after < budget_kib, "anonymous RSS {rss_after} KiB over budget {budget_kib} KiB");
}
