//! Benchmark 7 of issue 6: from process start to the first frame of `logsleuth demo`, run in
//! a 200x60 pseudo-terminal (the release binary when run by `cargo bench`). Two marks:
//! `first_frame`, the first drawn frame (the query bar's border after the switch to the
//! alternate screen), and `first_hits`, the first frame showing the demo's hit count (the
//! bundled log decompressed, indexed and queried). Target: first frame under 100 ms.
//!
//! With `STARTUP_FILE=PATH` (issue 15: a 10 GiB log from `examples/gen_access_log.rs`), the
//! same marks for `logsleuth PATH`: the first frame, and the first frame with hits (the first
//! page of a file still being indexed).

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
}

/// Starts `logsleuth demo` (or `logsleuth FILE`) in a pty and returns the time until `mark`
/// was seen.
fn time_to(mark: Mark, home: &std::path::Path, file: Option<&str>) -> Duration {
    let pty = native_pty_system()
        .openpty(PtySize { rows: 60, cols: 200, pixel_width: 0, pixel_height: 0 })
        .expect("a pseudo-terminal");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_logsleuth"));
    match file {
        Some(f) => cmd.arg(f),
        None => cmd.arg("demo"),
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
        g.bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| time_to(mark, home.path(), None)).sum()));
    }
    g.finish();
    if let Ok(file) = std::env::var("STARTUP_FILE") {
        let mut g = c.benchmark_group("startup_file_200x60");
        g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(10));
        for (name, mark) in [("first_frame", Mark::FirstFrame), ("first_hits", Mark::FirstHits)] {
            g.bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| time_to(mark, home.path(), Some(&file))).sum()));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
