//! Integration tests that drive the app with key and mouse events: through the reducer against
//! the in-memory source (deterministic), and through the real event loop with its tokio tasks,
//! a scripted event stream and a TestBackend terminal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use logsleuth::model::{Nanos, Record, TimeRange};
use logsleuth::sources::{HitCount, SearchPage, Source, Split, TailEvent};
use logsleuth::ui::action::{Action, Effect, MouseAction};
use logsleuth::ui::app::{App, Element, MAX_RECORDS, Mode, PAGE_SIZE, RangeSpec};
use logsleuth::ui::history::History;
use logsleuth_testing::{MemorySource, access_record, buffer_text, press, press_with, render, resolve_ranges, settle, type_text};
use logsleuth::ui::view::layout;
use logsleuth::ui::{Theme, update};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn at(s: &str) -> Nanos {
    logsleuth::time::parse_absolute(s, None).unwrap()
}

fn now() -> Nanos {
    at("2015-05-17T16:10:00Z")
}

fn source() -> Arc<MemorySource> {
    Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE))
}

async fn loaded() -> (App, Arc<MemorySource>) {
    let source = source();
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 40);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    (app, source)
}

/// Counts fixture lines matching a predicate on the parsed record.
fn count(pred: impl Fn(&Record) -> bool) -> u64 {
    SAMPLE.lines().enumerate().filter_map(|(i, l)| access_record(l, i as u64)).filter(|r| pred(r)).count() as u64
}

fn total(app: &App) -> Option<HitCount> {
    app.pane().total
}

#[tokio::test]
async fn enter_runs_the_typed_query() {
    let (mut app, source) = loaded().await;
    assert_eq!(total(&app), Some(HitCount::Exact(1000)));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:200");
    let effects = press(&mut app, KeyCode::Enter);
    let effects = resolve_ranges(&mut app, &source, effects).await;
    assert!(effects.iter().any(|e| matches!(e, Effect::Search { request, append: false, .. } if request.query.text == "status:200")));
    assert!(effects.iter().any(|e| matches!(e, Effect::SaveHistory(h) if h == &vec!["status:200".to_string()])));
    assert!(app.pane().loading.search);
    settle(&mut app, &source, effects).await;
    let expected = count(|r| r.get("status").map(|v| v.as_text()) == Some("200".into()));
    assert_eq!(expected, 35);
    assert_eq!(total(&app), Some(HitCount::Exact(expected)));
    assert!(!app.pane().loading.any());
    assert_eq!(app.mode, Mode::Normal);
    let hist_sum: u64 = app.pane().histogram.as_ref().unwrap().buckets.iter().map(|b| b.count).sum();
    assert_eq!(hist_sum, expected, "the histogram follows the query");
}

#[tokio::test]
async fn detail_actions_filter_for_out_exists_and_toggle_columns() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail);
    let status_row = logsleuth::ui::app::detail_rows(app.pane().selected_record().unwrap())
        .iter()
        .position(|r| r.name == "status")
        .unwrap();
    for _ in 0..status_row {
        press(&mut app, KeyCode::Char('j'));
    }
    let status = app.pane().selected_record().unwrap().get("status").unwrap().as_text();
    let effects = press(&mut app, KeyCode::Char('+'));
    assert_eq!(app.pane().applied.text, format!("status:{status}"));
    assert_eq!(app.mode, Mode::Normal);
    settle(&mut app, &source, effects).await;
    let matching = count(|r| r.get("status").map(|v| v.as_text()) == Some(status.clone()));
    assert_eq!(total(&app), Some(HitCount::Exact(matching)));

    // Filter out on a fresh query.
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Enter);
    for _ in 0..status_row {
        press(&mut app, KeyCode::Char('j'));
    }
    let effects = press(&mut app, KeyCode::Char('-'));
    assert_eq!(app.pane().applied.text, format!("not status:{status}"));
    settle(&mut app, &source, effects).await;
    assert_eq!(total(&app), Some(HitCount::Exact(1000 - matching)));

    // Toggle a column, then "exists" combines with the existing query.
    press(&mut app, KeyCode::Enter);
    let protocol_row = logsleuth::ui::app::detail_rows(app.pane().selected_record().unwrap())
        .iter()
        .position(|r| r.name == "protocol")
        .unwrap();
    press(&mut app, KeyCode::Char('g'));
    for _ in 0..protocol_row {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('t'));
    assert!(app.pane().columns.contains(&"protocol".to_string()));
    press(&mut app, KeyCode::Char('t'));
    assert!(!app.pane().columns.contains(&"protocol".to_string()));
    let effects = press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.pane().applied.text, format!("not status:{status} and protocol:*"));
    settle(&mut app, &source, effects).await;
    assert_eq!(total(&app), Some(HitCount::Exact(1000 - matching)));
}

#[tokio::test]
async fn zoom_narrows_the_range_and_steps_back_out() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.pane().element, Element::Histogram);
    press(&mut app, KeyCode::Char('v'));
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('l'));
    }
    let h = app.pane().histogram.clone().unwrap();
    let expected = TimeRange::between(h.buckets[0].start, h.buckets[5].start + h.interval);
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.pane().range, RangeSpec::Absolute(expected));
    settle(&mut app, &source, effects).await;
    let inside = count(|r| r.timestamp.is_some_and(|t| expected.contains(t)));
    assert_eq!(total(&app), Some(HitCount::Exact(inside)));
    assert!(inside > 0 && inside < 1000);
    let zh = app.pane().histogram.as_ref().unwrap();
    assert!(zh.interval < h.interval, "zooming in gives finer buckets");

    let effects = press(&mut app, KeyCode::Char('u'));
    assert_eq!(app.pane().range, RangeSpec::All);
    settle(&mut app, &source, effects).await;
    assert_eq!(total(&app), Some(HitCount::Exact(1000)));
    assert!(press(&mut app, KeyCode::Char('u')).is_empty(), "nothing left to step out of");
}

#[tokio::test]
async fn mouse_drag_on_the_histogram_zooms() {
    let (mut app, source) = loaded().await;
    let plot = layout::histogram_plot(layout::main_layout(&app).histogram.unwrap());
    let y = plot.y + 1;
    update(&mut app, Action::Mouse(MouseAction::Down(plot.x + 2, y)));
    update(&mut app, Action::Mouse(MouseAction::Drag(plot.x + 20, y)));
    let effects = update(&mut app, Action::Mouse(MouseAction::Up(plot.x + 20, y)));
    assert!(matches!(app.pane().range, RangeSpec::Absolute(_)));
    assert_eq!(app.pane().zoom_stack, vec![RangeSpec::All]);
    settle(&mut app, &source, effects).await;
    assert!(matches!(total(&app), Some(HitCount::Exact(n)) if n < 1000));
}

#[tokio::test]
async fn mouse_click_selects_then_opens_and_wheel_scrolls() {
    let (mut app, _) = loaded().await;
    let body = layout::table_body(layout::main_layout(&app).table);
    update(&mut app, Action::Mouse(MouseAction::Down(body.x + 5, body.y + 3)));
    assert_eq!(app.pane().selected, 3);
    update(&mut app, Action::Mouse(MouseAction::ScrollDown(body.x + 5, body.y + 3)));
    assert_eq!(app.pane().selected, 6);
    update(&mut app, Action::Mouse(MouseAction::Down(body.x + 5, body.y + 6)));
    assert_eq!(app.mode, Mode::Detail);
    assert_eq!(app.detail.as_ref().unwrap().index, 6);
}

#[tokio::test]
async fn time_picker_quick_and_absolute_ranges() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('j'));
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.pane().range, RangeSpec::Last(3600 * 1_000_000_000));
    settle(&mut app, &source, effects).await;
    let last_hour = TimeRange::between(now() - 3600 * 1_000_000_000, now());
    assert_eq!(app.pane().resolved, last_hour);
    assert_eq!(total(&app), Some(HitCount::Exact(count(|r| r.timestamp.is_some_and(|t| last_hour.contains(t))))));

    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Tab);
    press_with(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut app, "yesterday");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::TimePicker);
    assert!(app.picker.error.as_deref().unwrap_or("").contains("yesterday"));
    press_with(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut app, "2015-05-17T08:00:00Z");
    press(&mut app, KeyCode::Tab);
    press_with(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut app, "2015-05-17T09:00:00Z");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    settle(&mut app, &source, effects).await;
    let r = TimeRange::between(at("2015-05-17T08:00:00Z"), at("2015-05-17T09:00:00Z") + 999_999_999);
    let expected = count(|rec| rec.timestamp.is_some_and(|t| t >= r.from.unwrap() && t < r.to.unwrap()));
    assert!(expected > 0);
    assert_eq!(total(&app), Some(HitCount::Exact(expected)));
}

#[tokio::test]
async fn scrolling_fetches_pages_on_demand_with_the_cursor() {
    let (mut app, source) = loaded().await;
    assert_eq!(app.pane().records.len(), PAGE_SIZE);
    let effects = press(&mut app, KeyCode::Char('G'));
    let cursor = effects.iter().find_map(|e| match e {
        Effect::Search { append: true, request, .. } => request.cursor.clone(),
        _ => None,
    });
    assert!(cursor.is_some(), "the next page is asked for after the first one");
    assert!(press(&mut app, KeyCode::Char('k')).is_empty(), "no second fetch while one is running");
    settle(&mut app, &source, effects).await;
    assert_eq!(app.pane().records.len(), 2 * PAGE_SIZE);
    for _ in 0..10 {
        let effects = press(&mut app, KeyCode::Char('G'));
        settle(&mut app, &source, effects).await;
    }
    assert_eq!(app.pane().records.len(), 1000);
    assert!(app.pane().next.is_none());
    assert!(app.pane().records.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
}

#[tokio::test]
async fn stale_answers_are_dropped() {
    let (mut app, _) = loaded().await;
    let old = app.pane().generation;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:304");
    press(&mut app, KeyCode::Enter);
    let stale = SearchPage { records: vec![Record::plain("stale")], total: Some(HitCount::Exact(1)), next: None, warnings: vec![] };
    update(&mut app, Action::SearchDone { pane: 0, generation: old, append: false, result: Ok(stale) });
    assert_eq!(total(&app), Some(HitCount::Exact(1000)), "the old generation's answer is ignored");
    assert!(app.pane().loading.search);
}

#[tokio::test]
async fn completion_of_field_then_value() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Char('/'));
    let effects = type_text(&mut app, "stat");
    settle(&mut app, &source, effects).await;
    let effects = press(&mut app, KeyCode::Tab);
    assert_eq!(app.pane().editor.text, "status:");
    assert!(effects.iter().any(|e| matches!(e, Effect::FieldValues { field, .. } if field == "status")));
    settle(&mut app, &source, effects).await;
    assert_eq!(app.completion.items.first().map(|s| s.label.as_str()), Some("404"));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.pane().editor.text, "status:304 ");
}

#[tokio::test]
async fn history_is_browsed_with_up_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history");
    logsleuth::ui::history::save(&path, &["status:404".to_string(), "method:HEAD".to_string()]).unwrap();
    let source = source();
    let mut app = App::new(source.info(), None, None, Theme::default(), History::load(Some(path)), now());
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "draft");
    // A completion list would take the arrows; there is none for "draft" among field names.
    app.completion = Default::default();
    press(&mut app, KeyCode::Up);
    assert_eq!(app.pane().editor.text, "method:HEAD");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.pane().editor.text, "status:404");
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.pane().editor.text, "draft");
}

fn live(i: i64) -> Record {
    let line = format!("10.0.0.{i} - - [17/May/2015:16:06:{i:02} +0000] \"GET /live/{i} HTTP/1.1\" 200 12 \"-\" \"curl/8.0\"");
    access_record(&line, 10_000 + i as u64).unwrap()
}

#[tokio::test]
async fn tail_streams_pauses_without_losing_lines_and_shows_the_rate() {
    let (mut app, _) = loaded().await;
    let effects = press(&mut app, KeyCode::Char('t'));
    assert!(effects.iter().any(|e| matches!(e, Effect::StartTail { .. })));
    let g = app.pane().tail_generation;
    update(&mut app, Action::Tail { pane: 0, generation: g, event: TailEvent::Records(vec![live(1), live(2)]) });
    assert_eq!(app.pane().records[0].get("path").unwrap().as_text(), "/live/2");
    assert_eq!(total(&app), Some(HitCount::Exact(1002)));

    // Select a row: new lines keep that row selected.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    let selected = app.pane().selected_record().cloned();
    update(&mut app, Action::Tail { pane: 0, generation: g, event: TailEvent::Records(vec![live(3)]) });
    assert_eq!(app.pane().selected_record().cloned(), selected);

    press(&mut app, KeyCode::Char(' '));
    update(&mut app, Action::Tail { pane: 0, generation: g, event: TailEvent::Records((4..9).map(live).collect()) });
    assert_eq!(app.pane().tail.as_ref().unwrap().pending.len(), 5);
    assert_eq!(app.pane().records[0].get("path").unwrap().as_text(), "/live/3");
    let text = buffer_text(&render(&app));
    assert!(text.contains("PAUSED 5 waiting"), "{text}");
    assert!(text.contains("1.6 lines/s"), "{text}");

    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.pane().records[0].get("path").unwrap().as_text(), "/live/8");
    assert_eq!(total(&app), Some(HitCount::Exact(1008)));

    // The rate decays once lines stop.
    update(&mut app, Action::Tick(now() + 10_000_000_000));
    assert_eq!(app.pane().tail.as_ref().unwrap().rate, 0.0);

    // Events of a stopped tail are ignored.
    let effects = press(&mut app, KeyCode::Char('t'));
    assert!(effects.iter().any(|e| matches!(e, Effect::StopTail { .. })));
    update(&mut app, Action::Tail { pane: 0, generation: g, event: TailEvent::Records(vec![live(9)]) });
    assert_eq!(app.pane().records[0].get("path").unwrap().as_text(), "/live/8");
}

#[tokio::test]
async fn rendering_is_virtualised() {
    let (mut app, _) = loaded().await;
    let big: Vec<Record> = (0..MAX_RECORDS as i64).map(|i| Record { timestamp: Some(now() - i), ..Record::plain(format!("line {i}")) }).collect();
    app.panes[0].records = big;
    app.panes[0].columns = vec!["message".into()];
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.pane().selected, MAX_RECORDS - 1);
    let height = layout::table_body(layout::main_layout(&app).table).height as usize;
    let rows = logsleuth::ui::view::table::visible_rows(app.pane(), height);
    assert_eq!(rows.len(), height);
    assert!(rows.contains(&(MAX_RECORDS - 1)));
    let start = Instant::now();
    let text = buffer_text(&render(&app));
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(text.contains("line 99999"), "{text}");
    // The cap holds: no page is fetched beyond it.
    app.panes[0].next = Some(logsleuth::sources::Cursor("x".into()));
    assert!(press(&mut app, KeyCode::Char('G')).is_empty());
}

#[tokio::test]
async fn split_cycles_and_refetches_the_histogram() {
    let (mut app, _) = loaded().await;
    assert_eq!(app.pane().split, Split::StatusClass);
    let effects = press(&mut app, KeyCode::Char('s'));
    assert!(effects.iter().any(|e| matches!(e, Effect::Histogram { request, .. } if request.split == Split::None)));
}

#[tokio::test]
async fn help_toggles_and_quit_keys() {
    let (mut app, _) = loaded().await;
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.mode, Mode::Help);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Char('q'));
    assert!(!app.quit, "q types into the query bar");
    press_with(&mut app, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(app.quit);
}

/// Runs the real event loop on a TestBackend with a scripted event stream.
async fn run_loop(source: Arc<dyn Source>, history: Option<std::path::PathBuf>, script: Vec<(u64, Event)>) -> (App, String) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let events = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) }));
    tokio::spawn(async move {
        for (wait_ms, ev) in script {
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let app = App::new(source.info(), None, None, Theme::default(), History::load(history.clone()), now());
    let app = logsleuth::ui::event_loop(&mut terminal, app, vec![source], history, events).await.unwrap();
    let text = buffer_text(terminal.backend().buffer());
    (app, text)
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_loop_runs_queries_in_tasks_and_saves_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/history");
    let mut script = vec![(300, key(KeyCode::Char('/')))];
    script.extend("method:HEAD".chars().map(|c| (5, key(KeyCode::Char(c)))));
    script.push((5, key(KeyCode::Enter)));
    script.push((500, key(KeyCode::Char('q'))));
    let (app, text) = run_loop(source(), Some(path.clone()), script).await;
    let expected = count(|r| r.get("method").map(|v| v.as_text()) == Some("HEAD".into()));
    assert_eq!(total(&app), Some(HitCount::Exact(expected)));
    assert!(text.contains(&format!("{expected} hits")), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "method:HEAD\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_cancels_a_running_query() {
    let slow: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("slow.log", SAMPLE).with_delay(Duration::from_secs(30)));
    let started = Instant::now();
    let script = vec![(300, key(KeyCode::Esc)), (200, key(KeyCode::Char('q')))];
    let (app, text) = run_loop(slow, None, script).await;
    assert!(started.elapsed() < Duration::from_secs(10), "the loop never waited for the slow source");
    assert!(!app.pane().loading.any());
    assert!(app.pane().records.is_empty());
    assert!(text.contains("query cancelled"), "{text}");
}

#[tokio::test]
async fn the_query_runs_again_when_background_indexing_finishes() {
    let (mut app, source) = loaded().await;
    let effects = update(&mut app, Action::Progress(Some(logsleuth::sources::Progress { done: 10, total: 100 })));
    assert!(effects.is_empty());
    let text = buffer_text(&render(&app));
    assert!(text.contains("indexing  10%"), "{text}");
    let effects = update(&mut app, Action::Progress(Some(logsleuth::sources::Progress { done: 60, total: 100 })));
    assert!(effects.is_empty());
    let effects = update(&mut app, Action::Progress(None));
    let effects = resolve_ranges(&mut app, &source, effects).await;
    assert!(effects.iter().any(|e| matches!(e, Effect::Search { append: false, .. })));
    assert!(effects.iter().any(|e| matches!(e, Effect::Histogram { .. })));
    assert!(effects.iter().any(|e| matches!(e, Effect::Fields { .. })));
}

#[tokio::test]
async fn an_initial_query_with_a_syntax_error_is_shown_not_run() {
    let source = source();
    let mut app = App::new(source.info(), Some("status:(404".into()), None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 40);
    let effects = update::start(&mut app);
    assert_eq!(app.mode, Mode::Query);
    assert!(app.pane().query_error.as_ref().is_some_and(|e| e.offset.is_some()));
    // The bar keeps the text to fix; what runs is the match-everything query.
    assert_eq!(app.pane().editor.text, "status:(404");
    assert!(effects.iter().all(|e| !matches!(e, Effect::Search { request, .. } if !request.query.text.is_empty())));
}

#[tokio::test]
async fn resizing_asks_for_a_histogram_that_fits() {
    let (mut app, _) = loaded().await;
    let effects = update(&mut app, Action::Resize(200, 50));
    let target = effects.iter().find_map(|e| match e {
        Effect::Histogram { request, .. } => Some(request.target_buckets),
        _ => None,
    });
    let plot = layout::histogram_plot(layout::main_layout(&app).histogram.unwrap());
    assert_eq!(target, Some(plot.width as usize));
    assert!(update(&mut app, Action::Resize(200, 50)).is_empty(), "same size, nothing to fetch");
}

#[tokio::test]
async fn detail_steps_through_records() {
    let (mut app, _) = loaded().await;
    press(&mut app, KeyCode::Enter);
    let first = app.pane().records[0].clone();
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.detail.as_ref().unwrap().index, 2);
    assert_eq!(app.pane().selected, 2);
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.detail.as_ref().unwrap().index, 0);
    assert_eq!(app.pane().selected_record(), Some(&first));
}

#[tokio::test]
async fn random_keys_and_clicks_never_panic() {
    let (base, source) = loaded().await;
    let keys = [
        KeyCode::Char('/'), KeyCode::Char('s'), KeyCode::Char(':'), KeyCode::Char('4'), KeyCode::Char('('),
        KeyCode::Char('"'), KeyCode::Char(' '), KeyCode::Char('j'), KeyCode::Char('k'), KeyCode::Char('l'),
        KeyCode::Char('h'), KeyCode::Char('v'), KeyCode::Char('z'), KeyCode::Char('u'), KeyCode::Char('t'),
        KeyCode::Char('c'), KeyCode::Char('f'), KeyCode::Char('r'), KeyCode::Char('?'), KeyCode::Char('+'),
        KeyCode::Char('-'), KeyCode::Char('e'), KeyCode::Char('n'), KeyCode::Char('p'), KeyCode::Char('s'),
        KeyCode::Char('G'), KeyCode::Char('g'), KeyCode::Enter, KeyCode::Esc, KeyCode::Tab, KeyCode::BackTab,
        KeyCode::Backspace, KeyCode::Delete, KeyCode::Left, KeyCode::Right, KeyCode::Up, KeyCode::Down,
        KeyCode::PageDown, KeyCode::PageUp, KeyCode::Home, KeyCode::End,
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..40 {
        let mut app = base.clone();
        for _ in 0..60 {
            let effects = match next(10) {
                0 => {
                    let (x, y) = (next(120) as u16, next(40) as u16);
                    let m = [MouseAction::Down(x, y), MouseAction::Drag(x, y), MouseAction::Up(x, y), MouseAction::ScrollDown(x, y), MouseAction::ScrollUp(x, y)];
                    update(&mut app, Action::Mouse(m[next(m.len())]))
                }
                1 => {
                    let generation = app.pane().tail_generation;
                    let event = TailEvent::Records(vec![live(next(50) as i64)]);
                    update(&mut app, Action::Tail { pane: 0, generation, event })
                }
                _ => press(&mut app, keys[next(keys.len())]),
            };
            // Answers arrive for some requests only, as when the user is faster than the source.
            if next(3) > 0 {
                settle(&mut app, &source, effects).await;
            }
            if app.quit {
                break;
            }
        }
        render(&app);
    }
}

#[tokio::test]
async fn the_query_bar_switches_to_the_native_language_and_back() {
    use logsleuth::sources::QueryLanguage;
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Char('/'));
    press_with(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    assert_eq!(app.pane().language, QueryLanguage::Native);
    assert_eq!(app.pane().language_name(), "regex");
    // Not KQL: no syntax error, no completion, and the text goes to the source as native.
    type_text(&mut app, "(GET|HEAD) /downloads/product_2 ");
    assert!(app.pane().query_error.is_none());
    assert!(app.completion.items.is_empty());
    let screen = buffer_text(&render(&app));
    assert!(screen.contains("Query (regex)"), "{screen}");
    let effects = press(&mut app, KeyCode::Enter);
    let effects = resolve_ranges(&mut app, &source, effects).await;
    assert!(effects.iter().any(|e| matches!(e, Effect::Search { request, .. }
        if request.query.language == QueryLanguage::Native && request.query.text == "(GET|HEAD) /downloads/product_2")));
    settle(&mut app, &source, effects).await;
    // Filter actions build KQL, so they refuse to touch a native query and say why.
    press(&mut app, KeyCode::Enter);
    let effects = press(&mut app, KeyCode::Char('+'));
    assert!(effects.is_empty());
    assert!(app.pane().error.as_deref().is_some_and(|e| e.contains("KQL")));
    // F2 switches back; KQL syntax errors show again.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::F(2));
    assert_eq!(app.pane().language, QueryLanguage::Kql);
    assert!(app.pane().query_error.is_some(), "the regex text is not valid KQL");
}

#[tokio::test]
async fn columns_and_split_follow_a_source_that_learns_its_roles_late() {
    // Server sources (ES field caps, Loki parser detection) only know their field roles after
    // their first answers; the pane must take the new defaults then.
    let full = source().info();
    let bare = logsleuth::sources::SourceInfo {
        roles: Default::default(),
        default_columns: Vec::new(),
        ..full.clone()
    };
    let mut app = App::new(bare, None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 40);
    assert_eq!(app.pane().columns, vec!["message".to_string()]);
    assert_eq!(app.pane().split, Split::None);
    let effects = update::update(&mut app, Action::SourceInfo { pane: 0, info: full.clone() });
    assert_eq!(app.pane().columns, full.default_columns);
    assert_eq!(app.pane().split, Split::StatusClass);
    assert!(effects.iter().any(|e| matches!(e, Effect::Histogram { request, .. } if request.split == Split::StatusClass)));
    // The same description again changes nothing.
    assert!(update::update(&mut app, Action::SourceInfo { pane: 0, info: full.clone() }).is_empty());

    // Columns the user chose are kept when the source's defaults change.
    let mut app = App::new(full.clone(), None, None, Theme::default(), History::default(), now());
    app.pane_mut().choose_columns(vec!["status".into()]);
    let fewer = logsleuth::sources::SourceInfo { default_columns: vec!["path".into()], ..full };
    update::update(&mut app, Action::SourceInfo { pane: 0, info: fewer });
    assert_eq!(app.pane().columns, vec!["status".to_string()]);
}

#[tokio::test]
async fn detail_shows_the_records_around_a_record_and_esc_returns_to_it() {
    use logsleuth::ui::app::DetailView;
    let (mut app, source) = loaded().await;
    // The fifth newest record, with plenty of lines around it in the file.
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail);
    let anchor = app.pane().records[4].clone();
    let effects = press(&mut app, KeyCode::Char('x'));
    assert!(matches!(effects.as_slice(), [Effect::Context { record, lines: 10, .. }] if **record == anchor));
    settle(&mut app, &source, effects).await;
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.view, DetailView::Context);
    let c = d.context.as_ref().unwrap();
    // The lines around it in the file, in file order (a real log is not in time order within
    // a second): the 10 lines before it, the record itself, the 10 lines after it.
    let logsleuth::model::RecordId::Line { line, .. } = anchor.id else { panic!("a file line: {:?}", anchor.id) };
    let line = line as usize;
    let messages: Vec<&str> = c.records.iter().map(|r| r.message.as_str()).collect();
    let around: Vec<&str> = SAMPLE.lines().skip(line - 10).take(21).collect();
    assert_eq!(messages, around);
    assert_eq!(c.anchor, Some(10));
    assert_eq!(c.records[10], anchor);
    let screen = buffer_text(&render(&app));
    assert!(screen.contains("Context · 10 before · 10 after"), "{screen}");
    assert!(screen.contains(&format!("▶ {}", logsleuth::time::format_rfc3339(anchor.timestamp.unwrap()))), "{screen}");
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.detail.as_ref().unwrap().context.as_ref().unwrap().cursor, 9);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Detail);
    assert_eq!(app.detail.as_ref().unwrap().view, DetailView::Fields);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}
