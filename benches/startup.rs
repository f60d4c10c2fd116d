//! Benchmark 7 of issue 6: from process start to the first frame of `logsleuth demo`, run in
//! a 200x60 pseudo-terminal (the release binary when run by `cargo bench`). Two marks:
//! `first_frame`, the first drawn frame (the query bar's border after the switch to the
//! alternate screen), and `first_hits`, the first frame showing the demo's hit count (the
//! bundled log decompressed, indexed and queried). Target: first frame under 100 ms.
//!
//! With `STARTUP_FILE=PATH` (issue 15: a 10 GiB log from `examples/gen_access_log.rs`), the
//! same marks for `logsleuth PATH`: the first frame, and the first frame with hits (the first
//! page of a file still being indexed).
//!
//! `startup_loki_200x60/first_rows` (issue 15): `logsleuth --loki URL --selector '{job="nginx"}'`
//! against a Loki replay on 127.0.0.1 (`tests/support/loki_server.rs`, answering with the
//! captured `query_range_streams_backward.json`): from process start to the first frame whose
//! table shows one of the answer's lines. The replay answers at once, so the figure is
//! logsleuth's own share of the first page: start, requests, decoding, parsing, drawing.
//! Target: under 150 ms.

#[allow(dead_code)]
#[path = "../tests/support/loki_server.rs"]
mod loki_server;

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Which mark to time.
#[derive(Clone, Copy)]
enum Mark {
    FirstFrame,
    FirstHits,
    /// A line of the Loki replay's answer in the table.
    FirstRows,
}

/// What to start.
#[derive(Clone, Copy)]
enum Target<'a> {
    Demo,
    File(&'a str),
    Loki(&'a str),
}

/// Starts `logsleuth demo` (or `logsleuth FILE`) in a pty and returns the time until `mark`
/// was seen.
fn time_to(mark: Mark, home: &std::path::Path, target: Target<'_>) -> Duration {
    let pty = native_pty_system()
        .openpty(PtySize { rows: 60, cols: 200, pixel_width: 0, pixel_height: 0 })
        .expect("a pseudo-terminal");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    match target {
        Target::File(f) => cmd.arg(f),
        Target::Demo => cmd.arg("demo"),
        Target::Loki(url) => {
            cmd.args(["--loki", url, "--selector", r#"{job="nginx"}"#, "--from", "2026-11-22T02:00:00Z", "--to", "2026-11-22T08:10:00Z"]);
        }
    }
    // History and themes stay out of the user's home.
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home);
    cmd.env("XDG_DATA_HOME", home);
    cmd.env("TERM", "xterm-256color");
    let mut reader = pty.master.try_clone_reader().expect("pty reader");
    let started = Instant::now();
    let mut child = pty.slave.spawn_command(cmd).expect("logsleuth starts");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<u8> = Vec::new();
    let elapsed = loop {
        let chunk = rx.recv_timeout(Duration::from_secs(60)).expect("logsleuth draws within 60 s");
        seen.extend_from_slice(&chunk);
        let text = String::from_utf8_lossy(&seen);
        let Some(alt) = text.find("\x1b[?1049h") else { continue };
        let screen = &text[alt..];
        let done = match mark {
            Mark::FirstFrame => screen.contains('─'),
            Mark::FirstHits => screen.contains(" hits"),
            // A client address of the captured answer's lines, in a table row.
            Mark::FirstRows => screen.contains("79.136.114.202"),
        };
        if done {
            break started.elapsed();
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn bench(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("startup_demo_200x60");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(8));
    for (name, mark) in [("first_frame", Mark::FirstFrame), ("first_hits", Mark::FirstHits)] {
        g.bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| time_to(mark, home.path(), Target::Demo)).sum()));
    }
    g.finish();
    loki(c, home.path());
    if let Ok(file) = std::env::var("STARTUP_FILE") {
        let mut g = c.benchmark_group("startup_file_200x60");
        g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(10));
        for (name, mark) in [("first_frame", Mark::FirstFrame), ("first_hits", Mark::FirstHits)] {
            g.bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| time_to(mark, home.path(), Target::File(&file))).sum()));
        }
        g.finish();
    }
}

/// The first rows from a Loki replay on loopback.
fn loki(c: &mut Criterion, home: &std::path::Path) {
    use loki_server::{LokiServer, Recorded, Reply, json_fixture};
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let server = runtime.block_on(LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/query_range" if r.param("step").is_some() => json_fixture("matrix_empty.json"),
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        "/loki/api/v1/query" => Reply::Json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795334716.161,"100"]}]}}"#.into(),
        ),
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        "/loki/api/v1/detected_fields" => json_fixture("detected_fields_empty.json"),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }));
    let url = server.url.clone();
    let mut g = c.benchmark_group("startup_loki_200x60");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(8));
    g.bench_function("first_rows", |b| b.iter_custom(|iters| (0..iters).map(|_| time_to(Mark::FirstRows, home, Target::Loki(&url))).sum()));
    g.finish();
    drop(server);
    drop(runtime);
}

criterion_group!(benches, bench);
criterion_main!(benches);
