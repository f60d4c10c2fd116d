//! Prints the Drain templates of a file (plain text) and how fast they were mined:
//! `cargo run -p logsleuth-core --release --example drain_file -- FILE [N] [THREADS]`.
//! For looking at what the miner makes of a real log, and for timing it (issue 16): with
//! THREADS > 1 the lines are mined as the local source does, in 64 Ki-line chunks on THREADS
//! threads, one miner a chunk, merged in chunk order (the same templates as one miner).
use std::sync::atomic::{AtomicUsize, Ordering};

use logsleuth_core::patterns::{Grid, Miner};

/// The local source's chunk (crates/sources/src/local/patterns.rs).
const CHUNK: usize = 64 * 1024;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("FILE");
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(30);
    let threads: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let bytes = std::fs::read(&path).expect("readable file");
    let text = String::from_utf8_lossy(&bytes);
    let grid = Grid { start: 0, interval: 1, buckets: 0 };
    let t = std::time::Instant::now();
    let m = if threads == 1 {
        let mut m = Miner::new(grid);
        for line in text.lines() {
            m.add(line, None);
        }
        m
    } else {
        let lines: Vec<&str> = text.lines().collect();
        let chunks: Vec<&[&str]> = lines.chunks(CHUNK).collect();
        let next = AtomicUsize::new(0);
        let mut done: Vec<(usize, Miner)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(chunk) = chunks.get(i) else { return out };
                            let mut m = Miner::new(grid);
                            for line in chunk.iter() {
                                m.add(line, None);
                            }
                            out.push((i, m));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
        });
        done.sort_by_key(|(i, _)| *i);
        let mut all = Miner::new(grid);
        for (_, m) in done {
            all.merge(m);
        }
        all
    };
    let lines = m.lines();
    let p = m.finish();
    let secs = t.elapsed().as_secs_f64();
    eprintln!("{lines} lines, {} templates, {secs:.3} s, {:.2} M lines/s ({threads} threads)", p.len(), lines as f64 / secs / 1e6);
    for p in p.iter().take(n) {
        println!("{:>8}  {}", p.count, p.pattern);
    }
}
