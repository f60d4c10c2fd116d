//! Panes side by side: splitting, the source picker, focus, resize, maximise, tabs, closing;
//! linked time ranges and the instant marker across panes (in memory and between replayed
//! Loki and Elasticsearch servers); workspace files. Screens are insta snapshots of a
//! TestBackend at fixed sizes with a fixed "now".

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};
use logsleuth::sources::spec::SourceSpec;
use logsleuth::ui::workspace::WorkspaceFile;
use logsleuth::model::{Nanos, TimeRange};
use logsleuth::sources::Source;
use logsleuth::ui::action::{Effect, PaneId};
use logsleuth::ui::app::{Element, Mode, RangeSpec};
use logsleuth::ui::history::History;
use logsleuth::ui::runtime::SourceOpener;
use logsleuth_testing::{MemorySource, buffer_text, press, press_with, render, settle_panes, type_text};
use logsleuth::ui::tiles::{Direction, Tile};
use logsleuth::ui::{App, StartLayout, StartPane, Theme, UiOptions, update};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

fn at(s: &str) -> Nanos {
    logsleuth::time::parse_absolute(s, None).unwrap()
}

/// Application errors (JSON lines, read by the product's local source) during the nginx
/// sample's hours: a second, different source.
fn app_errors() -> Arc<MemorySource> {
    let text: String = (0..40)
        .map(|i| {
            let time = logsleuth::time::format_rfc3339(at("2015-05-17T09:00:00Z") + i * 12 * 60 * 1_000_000_000);
            let level = if i % 5 == 0 { "error" } else { "warn" };
            let line = serde_json::json!({ "time": time, "level": level, "service": "checkout", "msg": format!("payment gateway timeout #{i}") });
            format!("{line}\n")
        })
        .collect();
    Arc::new(MemorySource::from_log("checkout-errors.json", &text))
}

/// Opens `checkout-errors` for the source picker's typed text and configured names.
struct TestOpener(Arc<MemorySource>);

impl SourceOpener for TestOpener {
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        match spec {
            SourceSpec::Named { name, .. } if name == "checkout" => Ok(self.0.clone()),
            SourceSpec::Local(l) if l.files.first().is_some_and(|f| f.ends_with("checkout-errors.json")) => Ok(self.0.clone()),
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
    async fn new(w: u16, h: u16) -> Harness {
        let nginx: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
        let mut app = App::new(nginx.info(), None, None, Theme::default(), History::default(), now());
        app.viewport = Rect::new(0, 0, w, h);
        app.named_sources = vec!["checkout".into(), "payments-loki".into()];
        let mut harness = Harness { app, sources: HashMap::from([(0, nginx)]), opener: Arc::new(TestOpener(app_errors())) };
        let effects = update::start(&mut harness.app);
        harness.settle(effects).await;
        harness
    }

    async fn settle(&mut self, effects: Vec<Effect>) {
        settle_panes(&mut self.app, &mut self.sources, Some(self.opener.clone()), effects).await;
    }

    async fn key(&mut self, code: KeyCode) {
        let effects = press(&mut self.app, code);
        self.settle(effects).await;
    }

    async fn ctrl_w(&mut self, code: KeyCode) {
        let effects = press_with(&mut self.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert!(effects.is_empty());
        assert!(self.app.pane_prefix);
        let effects = press(&mut self.app, code);
        assert!(!self.app.pane_prefix, "one key ends the pane command");
        self.settle(effects).await;
    }

    async fn typed(&mut self, text: &str) {
        let effects = type_text(&mut self.app, text);
        self.settle(effects).await;
    }

    /// Opens a pane beside (`v`) / below (`s`) / in a new tab (`t`) on what `choice` types in
    /// the picker (empty: the first choice, the same source).
    async fn open(&mut self, how: char, choice: &str) {
        self.ctrl_w(KeyCode::Char(how)).await;
        assert_eq!(self.app.mode, Mode::SourcePicker);
        self.typed(choice).await;
        self.key(KeyCode::Enter).await;
    }

    fn screen(&self) -> String {
        buffer_text(&render(&self.app))
    }

    fn shown(&self) -> Vec<(usize, Rect)> {
        logsleuth::ui::view::layout::screen_layout(&self.app).panes
    }
}

#[tokio::test]
async fn the_source_picker_offers_the_same_source_configured_ones_and_what_is_typed() {
    let mut h = Harness::new(120, 40).await;
    h.ctrl_w(KeyCode::Char('v')).await;
    let text = h.screen();
    assert!(text.contains("same source: nginx_sample.log"), "{text}");
    assert!(text.contains("configured: checkout") && text.contains("configured: payments-loki"), "{text}");
    insta::assert_snapshot!("panes_source_picker", text);
    // Fuzzy filter, then a typed path that cannot be opened says why in the pane.
    h.typed("pay").await;
    let choices = h.app.source_choices();
    assert_eq!(choices[0], logsleuth::ui::app::SourceChoice::Named("payments-loki".into()), "{choices:?}");
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.panes.len(), 2);
    let failed = &h.app.panes[1];
    assert_eq!(failed.error.as_deref(), Some("could not open the source: cannot open payments-loki"));
    let text = h.screen();
    assert!(text.contains("error: could not open the source: cannot open payments-loki"), "{text}");
    // The other pane keeps its results.
    assert_eq!(h.app.panes[0].records.len(), 200);
    // Esc closes the picker without opening anything.
    h.ctrl_w(KeyCode::Char('s')).await;
    h.key(KeyCode::Esc).await;
    assert_eq!((h.app.mode, h.app.panes.len()), (Mode::Normal, 2));
}

#[tokio::test]
async fn two_panes_side_by_side_have_their_own_queries() {
    let mut h = Harness::new(160, 40).await;
    h.open('v', "").await;
    assert_eq!(h.app.panes.len(), 2);
    assert_eq!(h.app.focus, 1, "the new pane has the focus");
    h.key(KeyCode::Char('/')).await;
    h.typed("status >= 400").await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.panes[0].applied.text, "");
    assert_eq!(h.app.panes[1].applied.text, "status >= 400");
    use logsleuth::sources::HitCount::Exact;
    let (Some(Exact(all)), Some(Exact(errors))) = (h.app.panes[0].total, h.app.panes[1].total) else { panic!("exact totals") };
    assert!(errors < all && errors > 0, "{errors} of {all}");
    let shown = h.shown();
    assert_eq!(shown, [(0, Rect::new(0, 0, 80, 39)), (1, Rect::new(80, 0, 80, 39))]);
    insta::assert_snapshot!("panes_side_by_side", h.screen());
    // A click in the left pane's table focuses it and selects the row clicked.
    use logsleuth::ui::action::{Action, MouseAction};
    let row_y = logsleuth::ui::view::layout::table_body(logsleuth::ui::view::layout::pane_layout(&h.app, 0, shown[0].1, Rect::default()).table).y + 2;
    let effects = update(&mut h.app, Action::Mouse(MouseAction::Down(10, row_y)));
    h.settle(effects).await;
    assert_eq!((h.app.pane().id, h.app.pane().selected), (0, 2));
    // The wheel over the right pane scrolls it, focused.
    let effects = update(&mut h.app, Action::Mouse(MouseAction::ScrollDown(120, row_y)));
    h.settle(effects).await;
    assert_eq!((h.app.pane().id, h.app.pane().selected), (1, 3));
}

#[tokio::test]
async fn focus_moves_by_side_and_panes_resize_maximise_and_close() {
    let mut h = Harness::new(160, 48).await;
    h.open('v', "").await; // [0 | 1]
    h.open('s', "checkout").await; // [0 | [1 / 2]]
    assert_eq!(h.app.current_tab().root.panes(), [0, 1, 2]);
    assert_eq!(h.app.pane().id, 2);
    assert_eq!(h.app.pane().info.description, "checkout-errors.json");
    h.ctrl_w(KeyCode::Char('k')).await;
    assert_eq!(h.app.pane().id, 1);
    h.ctrl_w(KeyCode::Char('h')).await;
    assert_eq!(h.app.pane().id, 0);
    h.ctrl_w(KeyCode::Char('l')).await;
    assert_eq!(h.app.pane().id, 1, "right of the left pane: the upper one");
    h.ctrl_w(KeyCode::Char('w')).await;
    assert_eq!(h.app.pane().id, 2);

    // Wider: the outer divider moves left; the histogram is asked again for the new width.
    let before = h.shown()[0].1.width;
    let effects = {
        press_with(&mut h.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
        press(&mut h.app, KeyCode::Char('>'))
    };
    assert_eq!(h.shown()[0].1.width, before - 8, "5% of 160 columns");
    assert!(effects.iter().any(|e| matches!(e, Effect::Histogram { pane: 0, .. })), "{effects:?}");
    h.settle(effects).await;
    // Taller: the inner divider.
    let before = h.shown()[2].1.height;
    h.ctrl_w(KeyCode::Char('+')).await;
    assert!(h.shown()[2].1.height > before);

    h.ctrl_w(KeyCode::Char('z')).await;
    assert_eq!(h.shown(), [(2, Rect::new(0, 0, 160, 47))], "maximised: the focused pane alone");
    insta::assert_snapshot!("panes_maximised", h.screen());
    h.ctrl_w(KeyCode::Char('z')).await;
    assert_eq!(h.shown().len(), 3);

    h.ctrl_w(KeyCode::Char('c')).await;
    assert_eq!(h.app.panes.iter().map(|p| p.id).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(h.app.pane().id, 1, "the pane before the closed one has the focus");
    h.ctrl_w(KeyCode::Char('c')).await;
    h.ctrl_w(KeyCode::Char('c')).await;
    assert_eq!(h.app.panes.len(), 1, "the last pane stays");
    assert!(h.app.message.as_deref().unwrap_or("").contains("last pane"));
    assert_eq!(h.shown(), [(0, Rect::new(0, 0, 160, 47))]);
}

#[tokio::test]
async fn stacked_panes_on_two_sources_mark_the_instant_under_the_cursor() {
    let mut h = Harness::new(140, 50).await;
    h.open('s', "checkout").await;
    // Back to the nginx pane; the cursor on a line at 08:05:59 marks that time below.
    h.ctrl_w(KeyCode::Char('k')).await;
    assert_eq!(h.app.pane().id, 0);
    for _ in 0..30 {
        press(&mut h.app, KeyCode::Char('j'));
    }
    let instant = h.app.instant.expect("the cursor's time is marked");
    assert_eq!(instant.pane, 0);
    assert_eq!(Some(instant.time), h.app.pane().selected_record().and_then(|r| r.timestamp));
    let errors = &h.app.panes[1];
    let nearest = logsleuth::ui::panes::nearest_row(errors, instant.time).unwrap();
    let best = errors.records.iter().map(|r| r.timestamp.unwrap().abs_diff(instant.time)).min().unwrap();
    assert_eq!(errors.records[nearest].timestamp.unwrap().abs_diff(instant.time), best, "the nearest error line");
    let rows = logsleuth::ui::view::layout::table_body(
        logsleuth::ui::view::layout::pane_layout(&h.app, 1, h.shown()[1].1, Rect::default()).table,
    )
    .height as usize;
    assert!(errors.offset <= nearest && nearest < errors.offset + rows, "the nearest line is scrolled into view");
    let text = h.screen();
    assert!(text.contains("(cursor in another pane)"), "{text}");
    insta::assert_snapshot!("panes_stacked_instant", text);
    // Focus follows to the errors pane: its cursor is marked in the nginx pane now.
    h.ctrl_w(KeyCode::Char('j')).await;
    assert_eq!(h.app.instant.map(|m| m.pane), Some(1));
    assert!(h.screen().contains("(cursor in another pane)"));
    // An unlinked pane follows nothing.
    h.ctrl_w(KeyCode::Char('L')).await;
    assert!(!h.app.pane().linked);
    h.ctrl_w(KeyCode::Char('k')).await;
    press(&mut h.app, KeyCode::Char('j'));
    assert_eq!(h.app.instant.map(|m| m.pane), Some(0));
    assert!(!h.screen().contains("(cursor in another pane)"));
}

#[tokio::test]
async fn linked_panes_share_zoom_and_picked_ranges_and_unlinked_ones_keep_theirs() {
    let mut h = Harness::new(140, 50).await;
    h.open('v', "checkout").await;
    h.open('t', "").await; // a tab of its own, still linked
    assert_eq!(h.app.tabs.len(), 2);
    assert!(h.screen().starts_with(" 1: nginx_sample.log · checkout   2: checkout"), "{}", h.screen());
    h.ctrl_w(KeyCode::Char('n')).await;
    assert_eq!(h.app.tab, 0);
    h.ctrl_w(KeyCode::Char('h')).await;
    assert_eq!(h.app.pane().id, 0);
    // Zoom into a histogram span of the nginx pane.
    h.app.pane_mut().element = Element::Histogram;
    h.key(KeyCode::Char('v')).await;
    for _ in 0..5 {
        h.key(KeyCode::Char('l')).await;
    }
    let effects = press(&mut h.app, KeyCode::Char('z'));
    let RangeSpec::Absolute(zoomed) = h.app.panes[0].range else { panic!("zoomed to fixed bounds") };
    for pane in [1, 2] {
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Search { pane: p, request, append: false, .. } if *p == pane && request.range == zoomed)),
            "pane {pane} searches the zoomed range: {effects:?}"
        );
    }
    h.settle(effects).await;
    for p in &h.app.panes {
        assert_eq!(p.range, RangeSpec::Absolute(zoomed), "pane {}", p.id);
        assert_eq!(p.zoom_stack.len(), 1);
        assert!(p.records.iter().all(|r| r.timestamp.is_some_and(|t| zoomed.contains(t))));
    }
    // Unlink the errors pane; zooming out moves only the linked ones.
    h.ctrl_w(KeyCode::Char('l')).await;
    h.ctrl_w(KeyCode::Char('L')).await;
    h.ctrl_w(KeyCode::Char('h')).await;
    h.key(KeyCode::Char('u')).await;
    assert_eq!(h.app.panes[0].range, RangeSpec::All);
    assert_eq!(h.app.panes[2].range, RangeSpec::All);
    assert_eq!(h.app.panes[1].range, RangeSpec::Absolute(zoomed), "unlinked");
    // The time picker's range reaches the linked panes too.
    h.key(KeyCode::Char('r')).await;
    h.key(KeyCode::Tab).await;
    press_with(&mut h.app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.typed("2015-05-17T10:00:00Z").await;
    h.key(KeyCode::Tab).await;
    press_with(&mut h.app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.typed("2015-05-17T11:00:00Z").await;
    h.key(KeyCode::Enter).await;
    let picked = RangeSpec::Absolute(TimeRange::between(at("2015-05-17T10:00:00Z"), at("2015-05-17T11:00:00Z")));
    assert_eq!((h.app.panes[0].range, h.app.panes[2].range), (picked, picked));
    assert_eq!(h.app.panes[1].range, RangeSpec::Absolute(zoomed));
    // Linking again takes the shared range.
    h.ctrl_w(KeyCode::Char('l')).await;
    h.ctrl_w(KeyCode::Char('L')).await;
    assert_eq!(h.app.panes[1].range, picked);
}

#[tokio::test]
async fn tabs_hold_their_own_layouts() {
    let mut h = Harness::new(120, 36).await;
    h.open('t', "checkout").await;
    h.open('v', "").await;
    assert_eq!(h.app.tab, 1);
    assert_eq!(h.shown().len(), 2);
    insta::assert_snapshot!("panes_second_tab", h.screen());
    h.ctrl_w(KeyCode::Char('p')).await;
    assert_eq!((h.app.tab, h.shown().len(), h.app.pane().id), (0, 1, 0));
    h.ctrl_w(KeyCode::Char('n')).await;
    assert_eq!(h.app.pane().id, 2, "a tab remembers its focused pane");
    // Closing both panes of the second tab closes the tab.
    h.ctrl_w(KeyCode::Char('x')).await;
    h.ctrl_w(KeyCode::Char('x')).await;
    assert_eq!((h.app.tabs.len(), h.app.tab, h.app.pane().id), (1, 0, 0));
    // An unknown pane command says so and changes nothing.
    h.ctrl_w(KeyCode::Char('!')).await;
    assert!(h.app.message.as_deref().unwrap_or("").contains("not a pane command"));
}

#[tokio::test]
async fn a_workspace_saves_and_reopens_the_layout_sources_queries_columns_and_ranges() {
    let mut h = Harness::new(140, 40).await;
    h.app.panes[0].origin = Some(SourceSpec::files(vec!["/var/log/nginx/access.log".into()]));
    h.open('s', "checkout").await;
    h.key(KeyCode::Char('/')).await;
    h.typed("level:error").await;
    h.key(KeyCode::Enter).await;
    h.app.panes[1].choose_columns(vec!["service".into(), "message".into()]);
    h.app.workspace = Some("checkout-incident".into());
    let effects = press_with(&mut h.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
    assert!(effects.is_empty());
    let effects = press(&mut h.app, KeyCode::Char('S'));
    let [Effect::SaveWorkspace { name, file }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(name, "checkout-incident");
    let text = file.to_toml();
    insta::assert_snapshot!("workspace_file", text);

    // Reopen it: same tabs, layout, queries, columns and ranges.
    let parsed = WorkspaceFile::parse(&text).unwrap();
    let opener: Arc<dyn SourceOpener> = Arc::new(FileOpener);
    let start = logsleuth::cli::tui::start_layout(&parsed, opener, now()).unwrap();
    let app = logsleuth::ui::build_app(&start, &UiOptions::default(), Theme::default(), History::default(), now());
    assert_eq!(app.panes.len(), 2);
    assert_eq!(app.tabs[0].root, Tile::Split { direction: Direction::Vertical, ratio: 50, first: Box::new(Tile::Pane(0)), second: Box::new(Tile::Pane(1)) });
    assert_eq!(app.pane().id, 1, "the focused pane is focused again");
    assert_eq!(app.panes[1].applied.text, "level:error");
    assert_eq!(app.panes[1].columns, ["service", "message"]);
    assert_eq!(app.panes[0].origin, Some(SourceSpec::files(vec!["/var/log/nginx/access.log".into()])));
    assert_eq!(app.panes[1].origin.as_ref().unwrap().name(), Some("checkout"));
}

/// Opens every spec as an empty in-memory source (workspace reopening without files).
struct FileOpener;

impl SourceOpener for FileOpener {
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        let source = MemorySource::from_log(&spec.label(), "");
        Ok(Arc::new(if matches!(spec, SourceSpec::Named { .. }) { source.with_columns(&["level", "message"]) } else { source }))
    }
}

/// Linked time between panes of different kinds of source: Loki's nginx log above, the
/// application's Elasticsearch index below, both replayed servers on loopback. Zooming the
/// Loki pane's histogram sends the ES pane a search for the same bounds, and moving the cursor
/// in Loki highlights the nearest ES document.
#[tokio::test]
async fn linked_time_between_replayed_loki_and_elasticsearch() {
    use logsleuth::sources::elasticsearch::{EsConfig, EsSource};
    use logsleuth::sources::http::HttpConfig;
    use logsleuth::sources::loki::tail::Backoff;
    use logsleuth::sources::loki::{LokiConfig, LokiSource};
    use support::es_server::{Dataset, EsServer, Reply as EsReply};
    use support::loki_server::{LokiServer, Recorded, Reply, json_fixture};

    // The Loki fixtures' capture window (tests/fixtures/loki/README.md).
    let start: Nanos = 1795313033558632019;
    let end: Nanos = 1795334716161919916;
    let loki_server = LokiServer::start(|r: &Recorded| match (r.path.as_str(), r.param("step")) {
        ("/loki/api/v1/query_range", Some(_)) => json_fixture("matrix_status_by_regexp.json"),
        ("/loki/api/v1/query_range", None) => json_fixture("query_range_streams_backward.json"),
        ("/loki/api/v1/query", _) => Reply::Json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795334716.161,"100"]}]}}"#.into(),
        ),
        _ => Reply::Text(404, "404 page not found\n".into()),
    })
    .await;
    let mut http = HttpConfig::new(&loki_server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let loki: Arc<dyn Source> = Arc::new(
        LokiSource::new(LokiConfig {
            http,
            selector: r#"{job="apache"}"#.into(),
            parser: Some(logsleuth::sources::loki::logql::LogqlParser::Regexp(r#"" (?P<status>\d{3}) "#.into())),
            tenant: None,
            backoff: Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) },
        })
        .unwrap(),
    );
    // One application document every 10 minutes across the window.
    let first_ms = start / 1_000_000;
    let data = Dataset { docs: (0..36).map(|i| (first_ms + i * 600_000, i as u64)).collect(), with_ids: true };
    let es_server = EsServer::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        // A Quickwit-like server (no point in time): the searches go to the index.
        ("GET", "/") => support::es_server::quickwit_info(),
        ("GET", "/app-logs/_field_caps?fields=*") => EsReply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/app-logs/_search") => {
            let body = r.body.clone().unwrap_or_default();
            if body.get("aggs").is_some() || body.get("aggregations").is_some() {
                EsReply::status(400, serde_json::json!({"error": {"type": "illegal_argument_exception", "reason": "no aggregations in this replay"}, "status": 400}))
            } else {
                EsReply::json(data.search(&body))
            }
        }
        _ => EsReply::status(404, serde_json::json!({"error": "not found", "status": 404})),
    })
    .await;
    let mut es_http = HttpConfig::new(&es_server.url).unwrap();
    es_http.timeout = Duration::from_secs(5);
    let es: Arc<dyn Source> = Arc::new(EsSource::new(EsConfig::new(es_http, "app-logs")).unwrap());

    let layout = StartLayout {
        panes: vec![
            StartPane { source: loki.clone(), origin: None, query: String::new(), native: false, columns: vec![], range: Some(RangeSpec::Absolute(TimeRange::between(start, end))), linked: true },
            StartPane { source: es.clone(), origin: None, query: String::new(), native: false, columns: vec![], range: Some(RangeSpec::Absolute(TimeRange::between(start, end))), linked: true },
        ],
        tabs: vec![(Tile::Split { direction: Direction::Vertical, ratio: 50, first: Box::new(Tile::Pane(0)), second: Box::new(Tile::Pane(1)) }, 0)],
        tab: 0,
        opener: None,
        marks: vec![],
    };
    let mut app = logsleuth::ui::build_app(&layout, &UiOptions::default(), Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 140, 50);
    let mut sources: HashMap<PaneId, Arc<dyn Source>> = HashMap::from([(0, loki), (1, es)]);
    let effects = update::start(&mut app);
    settle_panes(&mut app, &mut sources, None, effects).await;
    assert!(!app.panes[0].records.is_empty() && app.panes[0].histogram.is_some(), "{:?}", app.panes[0].error);
    assert_eq!(app.panes[1].records.len(), 36, "{:?} {:?}", app.panes[1].error, es_server.requests());

    // Zoom into the Loki histogram's first buckets.
    app.pane_mut().element = Element::Histogram;
    press(&mut app, KeyCode::Char('v'));
    for _ in 0..9 {
        press(&mut app, KeyCode::Char('l'));
    }
    let effects = press(&mut app, KeyCode::Char('z'));
    let RangeSpec::Absolute(zoomed) = app.panes[0].range else { panic!("zoomed") };
    let searches_before = es_server.bodies("/app-logs/_search").len();
    settle_panes(&mut app, &mut sources, None, effects).await;
    assert_eq!(app.panes[1].range, RangeSpec::Absolute(zoomed));
    let bodies = es_server.bodies("/app-logs/_search");
    let search = bodies[searches_before..].iter().find(|b| b.get("aggs").is_none()).expect("the ES pane searched again");
    let range = &search["query"]["bool"]["filter"][0]["range"]["@timestamp"];
    let iso = |ns: Nanos| chrono::DateTime::from_timestamp_nanos(ns).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    assert_eq!(range["gte"], iso(zoomed.from.unwrap()), "{search}");
    assert_eq!(range["lt"], iso(zoomed.to.unwrap()), "{search}");
    assert!(app.panes[1].records.iter().all(|r| r.timestamp.is_some_and(|t| zoomed.contains(t))));

    // The Loki line under the cursor marks its instant in the ES pane.
    app.pane_mut().element = Element::Table;
    press(&mut app, KeyCode::Char('j'));
    let instant = app.instant.expect("marked");
    let nearest = logsleuth::ui::panes::nearest_row(&app.panes[1], instant.time).expect("an ES document near it");
    let best = app.panes[1].records.iter().map(|r| r.timestamp.unwrap().abs_diff(instant.time)).min().unwrap();
    assert_eq!(app.panes[1].records[nearest].timestamp.unwrap().abs_diff(instant.time), best);
}

/// Marks in two panes of two tabs: the list jumps across tabs, and the postmortem report
/// holds both panes (their sources, queries, histograms) and the marks in time order,
/// compared byte for byte with `tests/fixtures/export/report_two_panes.md`
/// (`UPDATE_GOLDEN=1 cargo test --test ui_panes` rewrites it).
#[tokio::test]
async fn marks_across_tabs_and_a_report_of_every_pane() {
    let mut h = Harness::new(140, 44).await;
    h.key(KeyCode::Char('/')).await;
    h.typed("status:404").await;
    h.key(KeyCode::Enter).await;
    for _ in 0..3 {
        h.key(KeyCode::Char('j')).await;
    }
    h.key(KeyCode::Char('m')).await;
    h.typed("404 storm on product_2").await;
    h.key(KeyCode::Enter).await;
    h.open('t', "checkout").await;
    h.key(KeyCode::Char('/')).await;
    h.typed("level:error").await;
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Char('m')).await;
    h.typed("gateway timeouts start").await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.marks.len(), 2);
    let mut panes: Vec<PaneId> = h.app.marks.iter().map(|m| m.pane).collect();
    panes.sort();
    assert_eq!(panes, [0, 1]);

    // Back on the first tab, the marks list jumps to the errors pane's tab.
    h.ctrl_w(KeyCode::Char('p')).await;
    assert_eq!(h.app.tab, 0);
    h.key(KeyCode::Char('M')).await;
    let target = h.app.marks.iter().position(|m| m.pane == 1).unwrap();
    let sorted_cursor = {
        // The list is in time order; move to the errors pane's mark.
        let mut order: Vec<usize> = (0..h.app.marks.len()).collect();
        order.sort_by_key(|&i| h.app.marks[i].time);
        order.iter().position(|&i| i == target).unwrap()
    };
    for _ in 0..sorted_cursor {
        h.key(KeyCode::Char('j')).await;
    }
    h.key(KeyCode::Enter).await;
    assert_eq!((h.app.tab, h.app.pane().id), (1, 1), "{:?}", h.app.message);
    // A JSON line's record: the line is its message, the text its `msg` field.
    assert_eq!(h.app.pane().selected_record().and_then(|r| r.get("msg")).map(|v| v.as_text()).as_deref(), Some("payment gateway timeout #35"));

    let report = logsleuth::export::report::render(&logsleuth::ui::investigate::report_data(&h.app));
    assert!(report.contains("### Pane 1: `nginx_sample.log`") && report.contains("### Pane 2: `checkout-errors.json`"), "{report}");
    assert!(report.contains("level:error") && report.contains("status:404"), "{report}");
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/report_two_panes.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &report).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).expect("golden report (UPDATE_GOLDEN=1 writes it)");
    pretty_assertions::assert_eq!(report, expected);
}

/// A configured saved search made for source `checkout` opens that source in a new pane beside
/// the focused one, with its query, columns and range (which the linked panes share); recalled
/// again, it reuses that pane.
#[tokio::test]
async fn a_saved_search_for_another_source_runs_on_a_pane_of_that_source() {
    let mut h = Harness::new(140, 40).await;
    h.app.investigate.config_searches = vec![logsleuth::ui::saved::SavedSearch::from_config(&logsleuth::config::SavedSearch {
        name: "checkout errors".into(),
        query: "level:error".into(),
        range: Some("3h".into()),
        columns: vec!["message".into(), "level".into()],
        source: Some("checkout".into()),
    })];
    h.key(KeyCode::Char('o')).await;
    h.typed("checkout").await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.panes.len(), 2);
    let p = h.app.pane();
    assert_eq!((p.id, p.applied.text.as_str()), (1, "level:error"));
    assert_eq!(p.columns, ["message", "level"]);
    assert_eq!(p.range, RangeSpec::Last(3 * 3600 * 1_000_000_000));
    assert_eq!(h.app.panes[0].range, p.range, "the linked nginx pane shares the range");
    assert!(p.records.iter().all(|r| r.fields.get("level").map(|v| v.as_text()).as_deref() == Some("error")));
    assert!(!p.records.is_empty());
    // From the nginx pane again: the existing checkout pane is reused.
    h.ctrl_w(KeyCode::Char('h')).await;
    h.key(KeyCode::Char('o')).await;
    h.key(KeyCode::Enter).await;
    assert_eq!((h.app.panes.len(), h.app.pane().id), (2, 1));
}

/// Answers keep arriving while a popup of the incident workflow has the keys: a pane whose
/// source opens while the marks list is shown still opens and searches.
#[tokio::test]
async fn a_pane_opens_while_the_marks_list_is_shown() {
    let mut h = Harness::new(140, 40).await;
    press_with(&mut h.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
    press(&mut h.app, KeyCode::Char('v'));
    type_text(&mut h.app, "checkout");
    let opening = press(&mut h.app, KeyCode::Enter);
    assert!(h.app.pane().opening);
    press(&mut h.app, KeyCode::Char('M'));
    assert_eq!(h.app.mode, Mode::Marks);
    h.settle(opening).await;
    let p = h.app.pane();
    assert!(!p.opening, "the answer reached the pane");
    assert_eq!(p.info.description, "checkout-errors.json");
    assert_eq!(p.records.len(), 40);
    assert_eq!(h.app.mode, Mode::Marks, "the popup stays open");
}
