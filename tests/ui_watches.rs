//! Watches in the TUI: the panel and the status line's firing count over the real nginx
//! sample (snapshots), "watch this" from the query, and the real runtime evaluating a rule on
//! a local file being appended to until it fires: the panel, the status line, the mark with
//! its note and the bell / OSC 777 notification written to the terminal.

mod watch_common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::KeyCode;
use logsleuth::sources::Source;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::watch::State;
use logsleuth::ui::action::Action;
use logsleuth::ui::app::Mode;
use logsleuth::ui::history::History;
use logsleuth::ui::runtime::Runtime;
use logsleuth::ui::{App, Theme, update};
use logsleuth_testing::{buffer_text, press, render, type_text, watches_app};
use watch_common::receiver;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn status_line(app: &App) -> String {
    buffer_text(&render(app)).lines().last().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_and_the_status_line_show_the_rules_over_the_nginx_sample() {
    let mut app = watches_app(SAMPLE).await;
    let states: Vec<(&str, State)> = app.watches.entries.iter().map(|e| (e.watch.rule.name.as_str(), e.tracker.state)).collect();
    assert_eq!(
        states,
        // The 404s passed 50 an hour, then fell back in the last hour; their share stayed above
        // 75%; the two 403s were never an hour apart enough to hold for 2h.
        [("errors", State::Ok), ("not_found", State::Resolved), ("not_found_ratio", State::Firing), ("forbidden", State::Ok)],
    );
    // Every value is the local source's own count of the hour before each evaluation.
    let not_found = &app.watches.entries[1].tracker;
    assert_eq!(not_found.history.len(), 8);
    assert_eq!(not_found.history.iter().flatten().sum::<f64>(), last_8_hours_404s(), "the 404s of the last 8 hours");
    let status = status_line(&app);
    assert!(status.contains("⚠ 1 firing"), "{status}");
    insta::assert_snapshot!("watches_status_line", status);
    // The firings and resolutions are marks with the notes the report reads.
    let notes: Vec<&str> = app.marks.iter().map(|m| m.note.as_str()).filter(|n| n.starts_with("watch: ")).collect();
    assert!(notes.iter().any(|n| n.starts_with("watch: not_found firing (") && n.ends_with(" > 50 per 1h)")), "{notes:?}");
    assert!(notes.iter().any(|n| n.starts_with("watch: not_found resolved (")), "{notes:?}");
    assert!(notes.iter().any(|n| n.starts_with("watch: not_found_ratio firing (") && n.contains("% > 75% per 1h)")), "{notes:?}");
    assert!(!notes.iter().any(|n| n.contains("errors") || n.contains("forbidden")), "{notes:?}");
    press(&mut app, KeyCode::Char('!'));
    assert_eq!(app.mode, Mode::Watches);
    insta::assert_snapshot!("watches_panel", buffer_text(&render(&app)));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.watches.entries.len(), 3, "d deletes the selected watch");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
}

/// The sample's 404s in the eight hours before "now" (its newest line's time + 1 s), counted
/// here from the text: the status field and the bracketed time of each line.
fn last_8_hours_404s() -> f64 {
    let parsed: Vec<(chrono::DateTime<chrono::FixedOffset>, &str)> = SAMPLE
        .lines()
        .map(|l| {
            let t = &l[l.find('[').unwrap() + 1..l.find(']').unwrap()];
            (chrono::DateTime::parse_from_str(t, "%d/%b/%Y:%H:%M:%S %z").unwrap(), l.split(' ').nth(8).unwrap())
        })
        .collect();
    let now = parsed.iter().map(|(t, _)| *t).max().unwrap() + chrono::Duration::seconds(1);
    let from = now - chrono::Duration::hours(8);
    parsed.iter().filter(|(t, s)| *s == "404" && *t >= from && *t < now).count() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_this_makes_a_rule_of_the_query_and_shows_a_bad_one_at_its_mistake() {
    let mut app = watches_app(SAMPLE).await;
    app.viewport = ratatui::layout::Rect::new(0, 0, 100, 30);
    app.pane_mut().applied = logsleuth::sources::Query::kql("status:404");
    press(&mut app, KeyCode::Char('W'));
    assert_eq!(app.prompt.as_ref().unwrap().editor.text, "watch5: status:404 > 10 per 1m");
    // Replace the window with a mistake.
    for _ in 0..2 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "soon");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Prompt, "a bad rule keeps the prompt");
    insta::assert_snapshot!("watches_bad_rule_prompt", buffer_text(&render(&app)));
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "1h");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.watches.entries.last().unwrap().watch.rule.text(), "watch5: status:404 > 10 per 1h");
    assert_eq!(effects.len(), 1, "evaluated at once: {effects:?}");
}

/// A terminal that keeps what was written to it.
#[derive(Clone, Default)]
struct Terminal(Arc<Mutex<Vec<u8>>>);

impl Write for Terminal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn access_line(status: u16) -> String {
    let now = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    format!("10.0.0.1 - - [{now}] \"GET /api/orders HTTP/1.1\" {status} 512 \"-\" \"curl/8.5.0\"\n")
}

/// Runs the UI's loop by hand (ticks, effects into the real runtime, answers into the reducer)
/// until `done` holds, failing after ten seconds.
async fn drive(app: &mut App, runtime: &mut Runtime, rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>, done: impl Fn(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(app) {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {:?}", app.watches.entries);
        for e in update(app, Action::Tick(logsleuth::time::now_nanos())) {
            runtime.run(e);
        }
        while let Ok(Some(action)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            for e in update(app, action) {
                runtime.run(e);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_fires_a_rule_on_a_file_being_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    std::fs::write(&path, (0..3).map(|_| access_line(200)).collect::<String>()).unwrap();
    let source = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    let source: Arc<dyn Source> = Arc::new(source);
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), logsleuth::time::now_nanos());
    app.viewport = ratatui::layout::Rect::new(0, 0, 120, 30);
    app.watches.every = 200_000_000;
    let rule = logsleuth::sources::watch::parse_rule("errors: status >= 500 > 3 per 1m").unwrap();
    app.watches.add(logsleuth::sources::watch::Watch::new(rule), 0);
    // A webhook of the test's own, and an Alertmanager nobody listens for (port 9, discard).
    let (hook, got) = receiver().await;
    app.watches.webhook = vec![hook];
    app.watches.alertmanager = vec!["http://127.0.0.1:9".into()];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let terminal = Terminal::default();
    let mut runtime = Runtime::new(vec![source.clone()], tx, None).with_terminal_output(Box::new(terminal.clone()));
    for e in logsleuth::ui::update::start(&mut app) {
        runtime.run(e);
    }
    // Evaluated on the three 200s: ok, with a value of 0.
    drive(&mut app, &mut runtime, &mut rx, |a| a.watches.entries[0].tracker.history.len() >= 2).await;
    assert_eq!((app.watches.entries[0].tracker.state, app.watches.entries[0].tracker.value), (State::Ok, Some(0.0)));
    assert!(!status_line(&app).contains("firing"));
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all((0..5).map(|_| access_line(503)).collect::<String>().as_bytes()).unwrap();
    drop(f);
    drive(&mut app, &mut runtime, &mut rx, |a| a.watches.firing() == 1).await;
    // The unreachable Alertmanager is reported in the panel; the watch and the UI go on.
    drive(&mut app, &mut runtime, &mut rx, |a| a.watches.delivery_note.as_deref().is_some_and(|n| n.contains("127.0.0.1:9"))).await;
    let note = app.watches.delivery_note.clone().unwrap();
    assert!(note.contains("cannot reach"), "{note}");
    assert_eq!(app.watches.firing(), 1);
    let body = got.lock().unwrap().first().cloned().expect("the webhook got the firing");
    assert_eq!((body["rule"].as_str(), body["state"].as_str(), body["value"].as_i64()), (Some("errors"), Some("firing"), Some(5)));
    assert_eq!(body["kql"], "status >= 500");
    runtime.shutdown();
    let mark = app.marks.iter().find(|m| m.note.starts_with("watch: ")).expect("a mark at the firing");
    assert_eq!(mark.note, "watch: errors firing (5 > 3 per 1m)");
    assert_eq!(mark.pane, app.panes[0].id);
    let written = String::from_utf8(terminal.0.lock().unwrap().clone()).unwrap();
    assert!(written.starts_with('\x07'), "the bell: {written:?}");
    assert!(written.contains("\x1b]9;logsleuth: errors firing: 5 > 3 per 1m\x07"), "{written:?}");
    assert!(written.contains("\x1b]777;notify;logsleuth: errors firing;5 > 3 per 1m\x07"), "{written:?}");
    assert!(status_line(&app).contains("⚠ 1 firing"), "{}", status_line(&app));
    press(&mut app, KeyCode::Char('!'));
    let panel = buffer_text(&render(&app));
    assert!(panel.contains("firing") && panel.contains("5 > 3 per 1m") && panel.contains("errors: status >= 500 > 3 per 1m"), "{panel}");
    assert!(panel.contains("alerts (2 receivers): alertmanager http://127.0.0.1:9: cannot reach"), "{panel}");
}

#[test]
fn a_bad_watch_flag_is_a_usage_error_at_its_mistake_before_the_terminal_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    std::fs::write(&path, access_line(200)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .arg(&path)
        .args(["--watch", "errors: status >= 500 > 3 per soon"])
        .env("XDG_CONFIG_HOME", "/nonexistent-logsleuth-test")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--watch: watch rule error at column 31: not a duration"), "{err}");
    assert!(err.contains(&format!("{}^", "-".repeat(30))), "{err}");
}
