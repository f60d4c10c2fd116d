//! "Follow in all panes" in the TUI across three backends, driven through the real runtime:
//! the shop frontend's JSON-lines file (a real local source, `orderId`), the shop API on a
//! replayed Loki (`order_id`, JSON) and the edge nginx on a replayed Elasticsearch-compatible
//! server (the order id only inside the request line). `F` on the frontend line's `orderId`
//! puts a condition in every pane's query bar; the replay servers assert the queries they
//! received; the thread view orders the order's lines on one clock and highlights the planted
//! error (the API's 504) as the first error line. The answers are the real captured ones that
//! `tests/thread_cli.rs` uses, cut to the order's lines when the query asks for the order
//! (tests/fixtures/README.md, "thread").

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};
use logsleuth::model::{Nanos, TimeRange};
use logsleuth::sources::Source;
use logsleuth::sources::spec::{EsSpec, LocalSpec, LokiSpec, SourceSpec};
use logsleuth::ui::action::{Effect, PaneId};
use logsleuth::ui::app::{Mode, detail_rows};
use logsleuth::ui::history::History;
use logsleuth::ui::runtime::SourceOpener;
use logsleuth::ui::{App, Theme, update};
use logsleuth_testing::{buffer_text, press, press_with, render, settle_panes, type_text};
use ratatui::layout::Rect;
use serde_json::json;
use support::es_server::{EsServer, Recorded as EsRecorded, Reply as EsReply, quickwit_info};
use support::loki_server::{LokiServer, Recorded, Reply, json_fixture};
use support::thread::{FROM, FRONTEND, ORDER, TO, edge_answer, shop_api_answer};


fn nanos(t: &str) -> Nanos {
    logsleuth::time::parse_absolute(t, None).unwrap()
}


fn loki_replay(r: &Recorded) -> Reply {
    match r.path.as_str() {
        "/loki/api/v1/query_range" if r.param("step").is_some() => json_fixture("matrix_volume_by_level.json"),
        "/loki/api/v1/query_range" => Reply::Json(200, shop_api_answer(r.param("query").unwrap_or_default().contains(ORDER))),
        "/loki/api/v1/detected_fields" => json_fixture("detected_fields.json"),
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        "/loki/api/v1/query" => Reply::Json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795334716.161,"1"]}]}}"#.into(),
        ),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}


async fn es_server() -> EsServer {
    EsServer::start(|r: &EsRecorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => quickwit_info(),
        ("GET", "/nginx-access/_field_caps?fields=*") => EsReply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/nginx-access/_search") => {
            let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
            EsReply::json(edge_answer(body.contains(ORDER)))
        }
        _ => EsReply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await
}

/// Opens the two server panes by name, as the source picker does for configured sources.
struct ServerOpener {
    loki: String,
    es: String,
}

impl SourceOpener for ServerOpener {
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String> {
        let spec = match spec {
            SourceSpec::Named { name, .. } if name == "shop-api" => SourceSpec::Loki(LokiSpec {
                url: self.loki.clone(),
                selector: Some(r#"{job="shop-api"}"#.into()),
                tenant: None,
                parser: None,
                connection: Default::default(),
            }),
            SourceSpec::Named { name, .. } if name == "edge" => SourceSpec::Elasticsearch(EsSpec {
                url: self.es.clone(),
                index: Some("nginx-access".into()),
                time_field: None,
                roles: Default::default(),
                time_zone: None,
                connection: Default::default(),
            }),
            _ => return Err(format!("cannot open {}", spec.label())),
        };
        logsleuth::sources::spec::open(&spec).map_err(|e| e.to_string())
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    app: App,
    sources: HashMap<PaneId, Arc<dyn Source>>,
    opener: Arc<dyn SourceOpener>,
    loki: LokiServer,
    es: EsServer,
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shop-frontend.jsonl");
        std::fs::write(&file, FRONTEND).unwrap();
        let frontend = logsleuth::sources::spec::open(&SourceSpec::Local(LocalSpec { files: vec![file], format: None })).unwrap();
        let loki = LokiServer::start(loki_replay).await;
        let es = es_server().await;
        let range = TimeRange::between(nanos(FROM), nanos(TO));
        let mut app = App::new(frontend.info(), None, Some(range), Theme::default(), History::default(), nanos(TO));
        app.viewport = Rect::new(0, 0, 140, 40);
        app.named_sources = vec!["shop-api".into(), "edge".into()];
        let mut aliases = std::collections::BTreeMap::new();
        aliases.insert("order_id".to_string(), vec!["orderId".to_string(), "order.id".to_string(), "ctx.order".to_string()]);
        app.thread.aliases = logsleuth::sources::thread::FieldAliases::new(&aliases);
        let opener: Arc<dyn SourceOpener> = Arc::new(ServerOpener { loki: loki.url.clone(), es: es.url.clone() });
        let mut h = Harness { _dir: dir, app, sources: HashMap::from([(0, frontend)]), opener, loki, es };
        let effects = update::start(&mut h.app);
        h.settle(effects).await;
        for name in ["shop-api", "edge"] {
            let effects = press_with(&mut h.app, KeyCode::Char('w'), KeyModifiers::CONTROL);
            h.settle(effects).await;
            h.key(KeyCode::Char('s')).await;
            let effects = type_text(&mut h.app, name);
            h.settle(effects).await;
            h.key(KeyCode::Enter).await;
        }
        assert_eq!(h.app.panes.len(), 3);
        for p in &h.app.panes {
            assert!(p.error.is_none(), "{}: {:?}", p.info.description, p.error);
            assert!(!p.records.is_empty(), "{} loaded nothing", p.info.description);
        }
        // Back to the frontend, on its newest line (the order's failed payment).
        h.app.focus = 0;
        h
    }

    async fn settle(&mut self, effects: Vec<Effect>) {
        settle_panes(&mut self.app, &mut self.sources, Some(self.opener.clone()), effects).await;
    }

    async fn key(&mut self, code: KeyCode) {
        let effects = press(&mut self.app, code);
        self.settle(effects).await;
    }

    /// The screen with what differs per run (the servers' ports, the temporary directory) made
    /// fixed, padded to the same width so the layout is unchanged.
    fn stable(&self, text: &str) -> String {
        let dir = self._dir.path().display().to_string();
        let mut out = text.to_string();
        out = out.replace(&dir, &format!("{:<w$}", "/tmp", w = dir.chars().count()));
        // Ports are ephemeral (always five digits on Linux): each digit becomes `P`.
        let mut fixed = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find("127.0.0.1:") {
            let (head, tail) = rest.split_at(at + "127.0.0.1:".len());
            fixed.push_str(head);
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            fixed.extend(std::iter::repeat_n('P', digits));
            rest = &tail[digits..];
        }
        fixed.push_str(rest);
        fixed
    }

    fn queries(&self) -> Vec<String> {
        self.app.panes.iter().map(|p| p.applied.text.clone()).collect()
    }

    /// The LogQL of the line queries Loki received (not the metric ones).
    fn loki_line_queries(&self) -> Vec<String> {
        self.loki
            .requests_to("/loki/api/v1/query_range")
            .iter()
            .filter(|r| r.param("step").is_none())
            .map(|r| r.param("query").unwrap_or_default().to_string())
            .collect()
    }

    /// Checks what every pane was asked once the follow is in place, and the thread's order.
    fn assert_followed(&self) {
        assert_eq!(
            self.queries(),
            vec![format!(r#"orderId:"{ORDER}""#), format!(r#"order_id:"{ORDER}""#), format!(r#""{ORDER}""#)],
            "the alias on the file, the same name on Loki, a phrase on Elasticsearch (no field of that meaning)"
        );
        let logql = self.loki_line_queries();
        assert_eq!(logql.last().map(String::as_str), Some(r#"{job="shop-api"} | json | order_id="ord-830664""#), "{logql:?}");
        let searches = self.es.bodies("/nginx-access/_search");
        let last = searches.iter().rev().find(|b| b["size"].as_u64().unwrap_or(0) > 0).expect("a search for lines");
        assert_eq!(
            last["query"]["bool"]["filter"][0],
            json!({"multi_match": {"type": "phrase", "query": ORDER, "lenient": true}}),
            "{last}"
        );
        let thread = logsleuth::ui::features::thread::lines(&self.app);
        let path: Vec<(String, String)> = thread
            .iter()
            .map(|l| (logsleuth::time::format_rfc3339(l.record.timestamp.unwrap()), l.tag.clone()))
            .collect();
        // Tags are the pane's number and its source (the servers' loopback URLs vary per run).
        let tags: Vec<String> = (0..3).map(|i| format!("{} {}", i + 1, self.app.panes[i].info.description)).collect();
        for (tag, end) in tags.iter().zip(["shop-frontend.jsonl", r#"{job="shop-api"}"#, "nginx-access"]) {
            assert!(tag.ends_with(end), "{tag}");
        }
        assert_eq!(
            path,
            vec![
                ("2026-11-22T06:49:23.871Z".to_string(), tags[0].to_string()),
                ("2026-11-22T06:49:23.902Z".to_string(), tags[2].to_string()),
                ("2026-11-22T06:49:40.483113158Z".to_string(), tags[1].to_string()),
                ("2026-11-22T06:49:40.612Z".to_string(), tags[0].to_string()),
            ]
        );
        let first: Vec<bool> = thread.iter().map(|l| l.first_error).collect();
        assert_eq!(first, vec![false, false, true, false], "the API's 504 is the first error line");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_an_order_from_the_detail_view_through_file_loki_and_elasticsearch() {
    let mut h = Harness::new().await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.mode, Mode::Detail);
    let record = h.app.panes[0].records[0].clone();
    let row = detail_rows(&record).iter().position(|r| r.name == "orderId").expect("an orderId row");
    for _ in 0..row {
        h.key(KeyCode::Char('j')).await;
    }
    h.key(KeyCode::Char('F')).await;
    assert_eq!(h.app.mode, Mode::Normal);
    h.assert_followed();
    let panes = buffer_text(&render(&h.app));
    for shown in [r#"orderId:"ord-830664""#, r#"order_id:"ord-830664""#, r#""ord-830664""#] {
        assert!(panes.contains(shown), "{shown} not in a query bar:\n{panes}");
    }
    insta::assert_snapshot!("thread_backends_panes", h.stable(&panes));

    h.key(KeyCode::Char('T')).await;
    assert_eq!(h.app.mode, Mode::Thread);
    let text = buffer_text(&render(&h.app));
    assert!(text.contains("▶ 06:49:40.483"), "{text}");
    assert!(text.contains("Thread: orderId = ord-830664 · 4 lines · 3 panes"), "{text}");
    insta::assert_snapshot!("thread_backends_view", h.stable(&text));

    // The widen key reaches further each press, and says how far the next one goes.
    h.key(KeyCode::Char('w')).await;
    assert!(h.app.message.as_deref().unwrap_or_default().contains("±5 min") && h.app.message.as_deref().unwrap().contains("±15 min"));
    let centre = nanos("2026-11-22T06:49:40.612Z");
    let five = logsleuth::ui::app::RangeSpec::Absolute(TimeRange::between(centre - 300_000_000_000, centre + 300_000_000_000));
    assert!(h.app.panes.iter().all(|p| p.range == five), "every followed pane on ±5 min");
    h.key(KeyCode::Char('w')).await;
    let fifteen = logsleuth::ui::app::RangeSpec::Absolute(TimeRange::between(centre - 900_000_000_000, centre + 900_000_000_000));
    assert!(h.app.panes.iter().all(|p| p.range == fifteen), "the second press: ±15 min");
    assert_eq!(logsleuth::ui::features::thread::lines(&h.app).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_from_a_bare_table_row_takes_the_rows_request_id() {
    let mut h = Harness::new().await;
    assert_eq!(h.app.mode, Mode::Normal);
    // No field pointed at: the row's declared id (the alias group's `orderId`) is followed.
    h.key(KeyCode::Char('F')).await;
    h.assert_followed();
    let followed = h.app.thread.active.as_ref().unwrap();
    assert_eq!(followed.follow.field.as_deref(), Some("orderId"));
    assert_eq!(followed.anchor, Some(nanos("2026-11-22T06:49:40.612Z")), "the widen key's centre is the row's time");
}
