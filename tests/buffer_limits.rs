//! Bounded memory: a pane keeps at most `--max-lines` records; live tail beyond it drops the
//! oldest lines and the status line says how many; the pause buffer is bounded the same way.

use std::sync::Arc;

use crossterm::event::KeyCode;
use logsleuth::model::{Nanos, Record};
use logsleuth::sources::{Source, TailEvent};
use logsleuth::ui::app::BufferLimits;
use logsleuth::ui::history::History;
use logsleuth_testing::{MemorySource, buffer_text, press, render, settle};
use logsleuth::ui::{Action, App, Theme, update};
use ratatui::layout::Rect;

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

fn line(i: i64) -> Record {
    Record { timestamp: Some(now() - 3_600_000_000_000 + i * 1_000_000_000), message: format!("line {i}"), ..Record::default() }
}

async fn tailing_app(max_lines: usize) -> App {
    // Five plain lines, read by the product's local source.
    let text: String = (0..5).map(|i| format!("{} line {i}\n", logsleuth::time::format_rfc3339(line(i).timestamp.unwrap()))).collect();
    let source = Arc::new(MemorySource::from_log("cap.log", &text));
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 30);
    app.panes[0].limits = BufferLimits::with_max_lines(max_lines);
    let effects = logsleuth::ui::update::start(&mut app);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.panes[0].records.len(), 5);
    press(&mut app, KeyCode::Char('t'));
    app
}

fn tail(app: &mut App, event: TailEvent) {
    let generation = app.panes[0].tail_generation;
    update(app, Action::Tail { pane: 0, generation, event });
}

#[tokio::test]
async fn live_tail_beyond_the_cap_drops_the_oldest_and_says_how_many() {
    let mut app = tailing_app(10).await;
    for chunk in 0..5 {
        tail(&mut app, TailEvent::Records((0..5).map(|i| line(100 + chunk * 5 + i)).collect()));
    }
    let pane = &app.panes[0];
    assert_eq!(pane.records.len(), 10, "the cap holds");
    // Newest first: the 10 newest tailed lines; the 5 searched and 15 oldest tailed are gone.
    assert_eq!(pane.records[0].message, "line 124");
    assert_eq!(pane.records[9].message, "line 115");
    assert_eq!(pane.tail.as_ref().unwrap().dropped, 20);
    let text = buffer_text(&render(&app));
    assert!(text.contains("20 dropped"), "{text}");
    // Server-side drops add to the same count.
    tail(&mut app, TailEvent::Dropped(3));
    assert!(buffer_text(&render(&app)).contains("23 dropped"));
}

#[tokio::test]
async fn the_pause_buffer_is_bounded_too() {
    let mut app = tailing_app(8).await;
    press(&mut app, KeyCode::Char(' '));
    tail(&mut app, TailEvent::Records((0..20).map(|i| line(100 + i)).collect()));
    let t = app.panes[0].tail.as_ref().unwrap();
    assert_eq!(t.pending.len(), 8);
    assert_eq!(t.dropped, 12);
    assert_eq!(t.pending.front().unwrap().message, "line 112", "the oldest waiting lines went first");
    let text = buffer_text(&render(&app));
    assert!(text.contains("PAUSED 8 waiting") && text.contains("12 dropped"), "{text}");
    // Resuming puts them in the table, still within the cap: the 5 searched lines go too.
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.panes[0].records.len(), 8);
    assert_eq!(app.panes[0].tail.as_ref().unwrap().dropped, 12 + 5);
}

#[test]
fn max_lines_is_at_least_one_and_bounds_the_pause_buffer() {
    assert_eq!(BufferLimits::with_max_lines(0).records, 1);
    assert_eq!(BufferLimits::with_max_lines(1_000_000).pending, logsleuth::ui::app::MAX_PENDING);
    assert_eq!(BufferLimits::default().records, logsleuth::ui::app::MAX_RECORDS);
}

#[test]
fn the_cap_is_a_documented_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--max-lines <N>"), "{help}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(["--max-lines", "0", "x.log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "zero is refused");
}
