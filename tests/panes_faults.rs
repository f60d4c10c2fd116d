//! "The other panes keep working", at the UI level: the real event loop (`ui::event_loop` on a
//! TestBackend, scripted keys) with two panes, one on an Elasticsearch replay server in a 503
//! storm, one on a healthy source. The failing pane must end with its own error (after the
//! retries), the healthy pane must get its results, and neither may take the other's answer.
//! Kept small on purpose: it builds the App with two panes directly (`App::add_pane`).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use logsleuth::model::TimeRange;
use logsleuth::sources::elasticsearch::{EsConfig, EsSource, RetryPolicy};
use logsleuth::sources::http::HttpConfig;
use logsleuth::sources::{HitCount, Source};
use logsleuth::ui::app::{App, Pane, RangeSpec};
use logsleuth::ui::history::History;
use logsleuth_testing::{MemorySource, buffer_text};
use logsleuth::ui::Theme;
use support::es_server::{self, EsServer};

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pane_in_a_503_storm_shows_its_error_while_the_other_pane_answers() {
    let searches = Arc::new(AtomicUsize::new(0));
    let counted = searches.clone();
    let server = EsServer::start(move |r: &es_server::Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => es_server::quickwit_info(),
        ("GET", p) if p.contains("_field_caps") => es_server::Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", p) if p.ends_with("/_search") => {
            counted.fetch_add(1, Ordering::SeqCst);
            es_server::Reply { status: 503, body: "upstream storm".into(), delay: None, fault: None }
        }
        _ => es_server::Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await;
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let mut config = EsConfig::new(http, "nginx-access");
    config.retry = RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(50), max_delay: Duration::from_millis(200) };
    let failing: Arc<dyn Source> = Arc::new(EsSource::new(config).unwrap());
    let healthy: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("healthy.log", SAMPLE));

    let range = TimeRange::between(0, i64::MAX / 2);
    let mut app = App::new(failing.info(), None, Some(range), Theme::default(), History::default(), 0);
    app.add_pane(Pane::new(healthy.info(), RangeSpec::Absolute(range), ""));

    // The user waits, then quits; the loop returns the final state.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let events = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) }));
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = tx.send(Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)));
    });
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(240, 30)).unwrap();
    let app = tokio::time::timeout(Duration::from_secs(30), logsleuth::ui::event_loop(&mut terminal, app, vec![failing, healthy], None, events))
        .await
        .expect("the loop ends")
        .unwrap();

    let failed = &app.panes[0];
    let error = failed.error.as_deref().expect("the failing pane says why");
    assert!(error.contains("503") && error.contains("upstream storm") && error.contains("after 3 retries"), "{error}");
    assert!(failed.records.is_empty());
    assert_eq!(searches.load(Ordering::SeqCst) % 4, 0, "every search was retried 3 times");

    let answered = &app.panes[1];
    assert!(answered.error.is_none(), "{:?}", answered.error);
    let lines = SAMPLE.lines().count();
    assert_eq!(answered.total, Some(HitCount::Exact(lines as u64)));
    assert!(!answered.records.is_empty());
    assert!(answered.records.iter().all(|r| SAMPLE.contains(r.message.as_str())), "the healthy source's own lines");

    // The focused (failing) pane's error is on its status line (a wide terminal so it fits).
    let text = buffer_text(terminal.backend().buffer());
    let status = text.lines().last().unwrap_or_default();
    assert!(status.contains("error:") && status.contains("503") && status.contains("upstream storm"), "{status}");
}
