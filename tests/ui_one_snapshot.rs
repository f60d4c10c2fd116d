//! One snapshot per screen (issue 14.3): the hit count, histogram and charts of one query come
//! from one resolved range, even while the source grows under them. The source is the
//! product's own stdin reader (`LocalSource::from_reader`) with the real nginx parser; lines
//! arrive through a pipe between the query and the charts.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use logsleuth::model::Nanos;
use logsleuth::sources::Source;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::ui::app::App;
use logsleuth::ui::history::History;
use logsleuth_testing::{buffer_text, press, render, settle};
use logsleuth::ui::{Theme, update};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

async fn wait_for_lines(source: &LocalSource, n: usize) {
    for _ in 0..500 {
        if source.line_count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the reader took more than 5 s to index {n} lines (has {})", source.line_count());
}

#[tokio::test]
async fn charts_opened_after_the_source_grew_count_the_same_lines_as_the_hit_count() {
    let lines: Vec<&str> = SAMPLE.lines().collect();
    assert!(lines.len() >= 300, "the sample has {} lines", lines.len());
    let (reader, mut writer) = std::io::pipe().unwrap();
    for l in &lines[..200] {
        writeln!(writer, "{l}").unwrap();
    }
    let source = Arc::new(LocalSource::from_reader("-", reader, LocalOptions::default()).unwrap());
    wait_for_lines(&source, 200).await;

    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 40);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    let screen = buffer_text(&render(&app));
    assert!(screen.contains("200 hits"), "{screen}");

    // The source grows, as the demo's generator or a service writing its log does, before
    // the charts are opened: new lines, stamped after the query ran (the clock moved on).
    for (i, l) in lines[200..300].iter().enumerate() {
        let stamp = format!("[17/May/2015:16:{:02}:{:02} +0000]", 11 + i / 60, i % 60);
        let (head, rest) = l.split_once('[').unwrap();
        let (_, tail) = rest.split_once(']').unwrap();
        writeln!(writer, "{head}{stamp}{tail}").unwrap();
    }
    writer.flush().unwrap();
    wait_for_lines(&source, 300).await;

    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    let charts = buffer_text(&render(&app));
    assert!(charts.contains("200 events"), "the charts count the query's snapshot, not the grown source:\n{charts}");
    assert!(!charts.contains("300 events"), "{charts}");

    // Running the query again (the clock has moved past the new lines) takes them, in the hit
    // count and the charts together.
    press(&mut app, KeyCode::Esc);
    update(&mut app, logsleuth::ui::Action::Tick(now() + 10 * 60 * 1_000_000_000));
    let effects = press(&mut app, KeyCode::Char('/'));
    settle(&mut app, &source, effects).await;
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    let screen = buffer_text(&render(&app));
    assert!(screen.contains("300 hits"), "{screen}");
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    let charts = buffer_text(&render(&app));
    assert!(charts.contains("300 events"), "{charts}");
    drop(writer);
    let _ = source.info();
}
