//! Prints the Drain templates of a file (plain text): `cargo run -p logsleuth-core --release
//! --example drain_file -- FILE [N]`. For looking at what the miner makes of a real log.
use logsleuth_core::patterns::{Grid, Miner};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("FILE");
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(30);
    let bytes = std::fs::read(&path).expect("readable file");
    let text = String::from_utf8_lossy(&bytes);
    let t = std::time::Instant::now();
    let mut m = Miner::new(Grid { start: 0, interval: 1, buckets: 0 });
    for line in text.lines() {
        m.add(line, None);
    }
    let lines = m.lines();
    let p = m.finish();
    let secs = t.elapsed().as_secs_f64();
    eprintln!("{lines} lines, {} templates, {:.2} M lines/s", p.len(), lines as f64 / secs / 1e6);
    for p in p.iter().take(n) {
        println!("{:>8}  {}", p.count, p.pattern);
    }
}
