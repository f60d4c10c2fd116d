//! Benchmark 6 of issue 6: lines per second through the live-tail pipeline into the view
//! while keys keep being answered, and the key-to-redraw latency meanwhile.
//!
//! The real pipeline end to end: a writer thread appends nginx lines to a file at
//! `TAIL_RATE` lines/s (default 50,000) for `TAIL_SECS` seconds (default 5); the local source
//! follows the file; its tail task sends batches to the real UI loop (`ui::event_loop`), which
//! updates the state and draws every change into a 200x60 `TestBackend`. A key (`j`/`k`) is
//! sent every 50 ms. Latency is from sending a key to the end of the first frame drawn after
//! the loop took the key. Target: 50,000 lines/s sustained, latency under 50 ms.
//!
//! Run with `cargo bench --bench tail` (a plain `main`, not criterion: it measures a rate over
//! seconds, not a repeated function).

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use logsleuth::sources::Source;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::ui::history::History;
use logsleuth::ui::{App, Theme};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

const SAMPLE: &str = include_str!("../tests/fixtures/ui/nginx_sample.log");

/// A `TestBackend` that notes when each frame was finished.
struct TimedBackend {
    inner: TestBackend,
    frames: Arc<Mutex<Vec<Instant>>>,
}

impl Backend for TimedBackend {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(&mut self, content: I) -> Result<(), Self::Error> {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        if let Ok(mut f) = self.frames.lock() {
            f.push(Instant::now());
        }
        Ok(())
    }
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips this run.
    if std::env::args().skip(1).any(|a| !a.starts_with('-') && !"tail".contains(a.as_str())) {
        return;
    }
    let rate = env_num("TAIL_RATE", 50_000);
    let secs = env_num("TAIL_SECS", 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("access.log");
    std::fs::write(&path, SAMPLE).expect("write sample");
    let lines: Vec<&str> = SAMPLE.lines().collect();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let source: Arc<dyn Source> = Arc::new(LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).expect("open"));
    let frames = Arc::new(Mutex::new(Vec::new()));
    let taken = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let mut sent = Vec::new();

    let (key_tx, key_rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let taken2 = taken.clone();
    let events = Box::pin(futures_util::stream::unfold(key_rx, move |mut rx| {
        let taken = taken2.clone();
        async move {
            let ev = rx.recv().await?;
            if let Ok(mut t) = taken.lock() {
                t.push(Instant::now());
            }
            Some((Ok::<_, std::io::Error>(ev), rx))
        }
    }));

    let app = App::new(source.info(), None, None, Theme::default(), History::default(), logsleuth::time::now_nanos());
    let backend = TimedBackend { inner: TestBackend::new(200, 60), frames: frames.clone() };
    let mut terminal = Terminal::new(backend).expect("terminal");
    let loop_source = source.clone();
    let ui = rt.spawn(async move {
        let app = logsleuth::ui::event_loop(&mut terminal, app, vec![loop_source], None, events).await;
        app.map(|a| a.pane().tail.as_ref().map_or(0, |t| t.received))
    });

    // Let the first search land, then start following.
    std::thread::sleep(Duration::from_millis(1500));
    key_tx.send(key('t')).expect("ui running");
    std::thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    let writer = {
        let path = path.clone();
        let lines: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("append");
            let tick = Duration::from_millis(10);
            let per_tick = (rate / 100).max(1) as usize;
            let mut written = 0usize;
            let mut next = Instant::now();
            let end = Instant::now() + Duration::from_secs(secs);
            while Instant::now() < end {
                let mut buf = String::with_capacity(per_tick * 200);
                for k in 0..per_tick {
                    buf.push_str(&lines[(written + k) % lines.len()]);
                }
                file.write_all(buf.as_bytes()).expect("append");
                written += per_tick;
                next += tick;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            written
        })
    };
    let mut up = false;
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
        sent.push(Instant::now());
        key_tx.send(key(if up { 'k' } else { 'j' })).expect("ui running");
        up = !up;
    }
    let written = writer.join().expect("writer");
    let write_secs = started.elapsed().as_secs_f64();
    // Give the last poll time to arrive, then quit.
    std::thread::sleep(Duration::from_millis(600));
    key_tx.send(key('q')).expect("ui running");
    let received = rt.block_on(ui).expect("ui task").expect("ui loop");
    let total_secs = started.elapsed().as_secs_f64();

    let frames = frames.lock().map(|f| f.clone()).unwrap_or_default();
    let taken = taken.lock().map(|t| t.clone()).unwrap_or_default();
    // Keys are taken in order; the first two were `t` (start) — skip it.
    let mut latencies: Vec<f64> = sent
        .iter()
        .zip(taken.iter().skip(1))
        .filter_map(|(s, t)| frames.iter().find(|f| *f > t).map(|f| f.duration_since(*s).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    println!("tail: written {written} lines in {write_secs:.2} s ({:.0} lines/s offered)", written as f64 / write_secs);
    println!(
        "tail: received {received} lines into the view ({:.0} lines/s over {total_secs:.2} s incl. the last poll); {}",
        received as f64 / total_secs,
        if received as usize >= written { "kept up" } else { "fell behind" }
    );
    println!("tail: {} frames drawn", frames.len());
    println!(
        "keys: {} answered; key-to-redraw latency ms: median {:.1}, p95 {:.1}, max {:.1}",
        latencies.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
}
