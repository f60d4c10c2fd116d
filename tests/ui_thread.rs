//! "Follow in all panes" and the thread view on the product's real parsers: the nginx sample
//! (access log, `remote_addr`) above, a checkout API's JSON lines (`client_ip`) below. `F` on
//! the API line's client address filters both panes on their own client field (the client
//! role), visible in each query bar; `T` shows their lines merged on one clock with the gaps and
//! the first error (the API's 504) marked; `w` narrows to ±5 minutes around the line; `m` puts
//! the thread in the report; `U` takes the condition out again, the rest of the query kept.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};
use logsleuth::model::Nanos;
use logsleuth::sources::Source;
use logsleuth::sources::spec::SourceSpec;
use logsleuth::ui::action::{Effect, PaneId};
use logsleuth::ui::app::{Mode, detail_rows};
use logsleuth::ui::history::History;
use logsleuth::ui::runtime::SourceOpener;
use logsleuth::ui::{App, Theme, update};
use logsleuth_testing::{MemorySource, buffer_text, press, press_with, render, settle_panes, type_text};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");
const CLIENT: &str = "212.67.220.58";

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

/// The checkout API's log (the screenshots' too): the followed client's checkout and its
/// failure, and another client.
fn checkout_api() -> Arc<MemorySource> {
    Arc::new(logsleuth_testing::checkout_api())
}

struct TestOpener(Arc<MemorySource>);

impl SourceOpener for TestOpener {
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        match spec {
            SourceSpec::Named { name, .. } if name == "checkout-api" => Ok(self.0.clone()),
            _ => Err(format!("cannot open {}", spec.label())),
        }
    }
}

struct Harness {
    app: App,
    sources: HashMap<PaneId, Arc<dyn Source>>,
    opener: Arc<dyn SourceOpener>,
}

impl Harness {
    async fn new() -> Harness {
        let nginx: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
        let mut app = App::new(nginx.info(), Some("not status:404".into()), None, Theme::default(), History::default(), now());
        app.viewport = Rect::new(0, 0, 120, 36);
        app.named_sources = vec!["checkout-api".into()];
        let mut h = Harness { app, sources: HashMap::from([(0, nginx)]), opener: Arc::new(TestOpener(checkout_api())) };
        let effects = update::start(&mut h.app);
        h.settle(effects).await;
        // The API below.
        let effects = press_with(&mut h.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
        h.settle(effects).await;
        h.key(KeyCode::Char('s')).await;
        let effects = type_text(&mut h.app, "checkout-api");
        h.settle(effects).await;
        h.key(KeyCode::Enter).await;
        assert_eq!(h.app.panes.len(), 2);
        assert_eq!(h.app.focus, 1, "the new pane has the focus");
        h
    }

    async fn settle(&mut self, effects: Vec<Effect>) {
        settle_panes(&mut self.app, &mut self.sources, Some(self.opener.clone()), effects).await;
    }

    async fn key(&mut self, code: KeyCode) {
        let effects = press(&mut self.app, code);
        self.settle(effects).await;
    }

    fn screen(&self) -> String {
        buffer_text(&render(&self.app))
    }

    fn queries(&self) -> Vec<String> {
        self.app.panes.iter().map(|p| p.applied.text.clone()).collect()
    }
}

#[tokio::test]
async fn follow_a_client_through_both_panes_and_read_the_thread() {
    let mut h = Harness::new().await;
    // The API's newest line is the followed client's 504; open it and go to its client field.
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.mode, Mode::Detail);
    let record = h.app.panes[1].records[0].clone();
    let row = detail_rows(&record).iter().position(|r| r.name == "client_ip").expect("a client_ip row");
    for _ in 0..row {
        h.key(KeyCode::Char('j')).await;
    }
    h.key(KeyCode::Char('F')).await;
    assert_eq!(h.app.mode, Mode::Normal);

    // Each pane on its own client field (nginx: remote_addr, by the client role), the rest of
    // its query kept.
    assert_eq!(h.queries(), vec![format!(r#"(not status:404) and remote_addr:"{CLIENT}""#), format!(r#"client_ip:"{CLIENT}""#)]);
    let nginx: Vec<String> = h.app.panes[0].records.iter().map(|r| r.message.clone()).collect();
    assert_eq!(nginx.len(), 3, "{nginx:?}");
    assert!(nginx.iter().all(|m| m.starts_with(CLIENT)));
    assert_eq!(h.app.panes[1].records.len(), 2);
    let text = h.screen();
    assert!(text.contains(&format!(r#"remote_addr:"{CLIENT}""#)), "{text}");
    insta::assert_snapshot!("thread_follow_panes", text);

    // The thread: oldest first, tagged with the pane, gaps, the first error marked.
    h.key(KeyCode::Char('T')).await;
    assert_eq!(h.app.mode, Mode::Thread);
    let thread = logsleuth::ui::features::thread::lines(&h.app);
    let path: Vec<(String, String)> = thread
        .iter()
        .map(|l| (logsleuth::time::format_rfc3339(l.record.timestamp.unwrap()), l.tag.clone()))
        .collect();
    let nginx_tag = "1 nginx_sample.log".to_string();
    let api_tag = "2 checkout-api.json".to_string();
    assert_eq!(
        path,
        vec![
            ("2015-05-17T15:05:59Z".to_string(), nginx_tag.clone()),
            ("2015-05-17T16:05:09Z".to_string(), nginx_tag.clone()),
            ("2015-05-17T16:05:09.500Z".to_string(), api_tag.clone()),
            ("2015-05-17T16:05:14.200Z".to_string(), api_tag.clone()),
            ("2015-05-17T16:05:16Z".to_string(), nginx_tag.clone()),
        ]
    );
    assert_eq!(thread.iter().map(|l| l.first_error).collect::<Vec<_>>(), vec![false, false, false, true, false]);
    let text = h.screen();
    assert!(text.contains("▶ 16:05:14.200"), "{text}");
    insta::assert_snapshot!("thread_view", text);

    // Marked: the report's request path.
    h.key(KeyCode::Char('m')).await;
    let report = logsleuth::ui::investigate::report_data(&h.app);
    assert_eq!(report.request_paths.len(), 1);
    assert_eq!(report.request_paths[0].title, format!("client_ip = {CLIENT}"));
    let markdown = logsleuth::ui::export::report::render(&report);
    assert!(markdown.contains("## Request path"), "{markdown}");
    assert!(markdown.contains("First error: `2015-05-17T16:05:14.200Z` in `2 checkout-api.json`"), "{markdown}");

    // ±5 minutes around the line the follow started from: the 15:05 visit goes.
    h.key(KeyCode::Char('w')).await;
    let thread = logsleuth::ui::features::thread::lines(&h.app);
    assert_eq!(thread.len(), 4, "{thread:?}");
    assert_eq!(logsleuth::time::format_rfc3339(thread[0].record.timestamp.unwrap()), "2015-05-17T16:05:09Z");

    // U: the condition goes, the rest of each query stays.
    h.key(KeyCode::Char('U')).await;
    assert_eq!(h.app.mode, Mode::Normal);
    assert_eq!(h.queries(), vec!["not status:404".to_string(), String::new()]);
    assert_eq!(h.app.panes[1].records.len(), 3);
    assert!(h.app.thread.active.is_none());
}

#[tokio::test]
async fn the_keys_are_in_the_help() {
    let mut h = Harness::new().await;
    h.key(KeyCode::Char('?')).await;
    let sections = logsleuth::ui::keymap::help_sections(&h.app.keymap);
    let all: String = format!("{sections:?}");
    for what in ["follow the value in all panes of the tab", "stop following", "the thread: the followed value's lines", "mark the thread"] {
        assert!(all.contains(what), "{what} missing from the help");
    }
}
