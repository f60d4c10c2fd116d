//! Benchmark 4 of issue 6: one frame of the main screen at 200x60 (ratatui `TestBackend`,
//! the real view code), with the pane's result at 1,000 hits (its first page loaded) and at 10 million hits (the
//! pane then holds its cap of `MAX_RECORDS` loaded records, the selection deep inside them).
//! The target is under 2 ms and independent of the row count.

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use logsleuth::model::Nanos;
use logsleuth::sources::{HitCount, Source};
use logsleuth::ui::app::MAX_RECORDS;
use logsleuth::ui::history::History;
use logsleuth_testing::{MemorySource, settle};
use logsleuth::ui::{App, Theme, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("../tests/fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).expect("valid time")
}

/// The main screen after loading the 1,000-line sample, as the snapshot tests build it.
fn loaded_app() -> App {
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 200, 60);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let effects = update::start(&mut app);
        settle(&mut app, &source, effects).await;
    });
    app
}

/// The same screen with 10 million hits: `MAX_RECORDS` records loaded (the sample repeated),
/// the selection in the middle of them.
fn ten_million(mut app: App) -> App {
    let p = app.pane_mut();
    let base = p.records.clone();
    while p.records.len() < MAX_RECORDS {
        let take = (MAX_RECORDS - p.records.len()).min(base.len());
        p.records.extend_from_slice(&base[..take]);
    }
    p.total = Some(HitCount::Exact(10_000_000));
    p.selected = MAX_RECORDS / 2;
    p.offset = MAX_RECORDS / 2 - 20;
    app
}

fn bench(c: &mut Criterion) {
    let small = loaded_app();
    // The first page (PAGE_SIZE records) of 1,000 hits, as after start-up.
    assert_eq!(small.pane().total, Some(HitCount::Exact(1000)));
    let big = ten_million(loaded_app());
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test backend");
    let mut g = c.benchmark_group("render_main_200x60");
    g.bench_function("hits_1000", |b| {
        b.iter(|| terminal.draw(|f| logsleuth::ui::view::render(f, &small)).map(|_| ()).expect("draw"))
    });
    g.bench_function("hits_10000000", |b| {
        b.iter(|| terminal.draw(|f| logsleuth::ui::view::render(f, &big)).map(|_| ()).expect("draw"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
