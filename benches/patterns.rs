//! Pattern mining speed (issue 16): Drain with masking over the real nginx log
//! (`tests/fixtures/local/nginx_logs.gz`, 51,462 lines, repeated), one miner on one core, and
//! the local source's whole-range mining (fixed chunks on both cores, merged in order) over a
//! file of the same lines (1,029,240 lines). Target: ≥ 1M lines/s on this 2-core box. Criterion
//! reports both as throughput (`thrpt`, lines/s).
//!
//! `cargo bench --bench patterns`; the figures are in docs/performance.md.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logsleuth::sources::Source;
use logsleuth::sources::patterns::PatternsRequest;
use logsleuth_core::patterns::{Grid, Miner};

fn nginx_lines() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/local/nginx_logs.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("fixture")).read_to_string(&mut text).expect("gzip");
    text.lines().map(str::to_string).collect()
}

fn bench(c: &mut Criterion) {
    let lines = nginx_lines();
    let grid = Grid { start: 0, interval: 1, buckets: 0 };
    let mut g = c.benchmark_group("patterns");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    g.bench_function("drain_one_core_nginx", |b| {
        b.iter(|| {
            let mut m = Miner::new(grid);
            for l in &lines {
                m.add(l, None);
            }
            m.finish().len()
        })
    });
    g.finish();

    // The local source over a file of the lines repeated (about 1M lines), both cores.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("access.log");
    let repeat = 20;
    let mut text = String::new();
    for _ in 0..repeat {
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    std::fs::write(&path, text).expect("write");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let source =
        logsleuth::sources::local::LocalSource::open(&[path.clone()], Default::default()).expect("open");
    rt.block_on(source.wait_indexed());
    let n = (lines.len() * repeat) as u64;
    let mut g = c.benchmark_group("patterns");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("local_source_whole_file", |b| {
        b.iter(|| {
            let r = rt
                .block_on(source.patterns(PatternsRequest {
                    query: Default::default(),
                    range: Default::default(),
                    size: 20,
                    target_buckets: 30,
                }))
                .expect("patterns");
            assert_eq!(r.total, n);
            r.patterns.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
