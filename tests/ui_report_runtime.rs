//! Issue 22 in the TUI: the report export goes through the real runtime, which asks the panes'
//! sources for the draft's figures before writing the file. A pane on the shared nginx log plus
//! a planted burst of 502s (the burst of `tests/support/replay_eval.rs`), with a `cause:` mark, exports a
//! draft whose summary states the burst's figures and cites them, and whose root cause is the
//! mark's note.

mod support;

use std::sync::Arc;
use std::time::Duration;

use logsleuth::model::{Record, TimeRange};
use logsleuth::sources::Source;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::time::parse_absolute;
use logsleuth::ui::action::{Action, Effect};
use logsleuth::ui::history::History;
use logsleuth::ui::investigate::{ExportJob, InvestigateEffect, Mark, report_data};
use logsleuth::ui::runtime::Runtime;
use logsleuth::ui::{App, Theme, update};

fn at(s: &str) -> i64 {
    parse_absolute(s, None).unwrap()
}

/// Runs the UI's loop by hand until `done` holds, failing after twenty seconds.
async fn drive(app: &mut App, runtime: &mut Runtime, rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>, done: impl Fn(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(app) {
        assert!(tokio::time::Instant::now() < deadline, "timed out; message {:?}", app.message);
        while let Ok(Some(action)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            for e in update::update(app, action) {
                runtime.run(e);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_report_states_the_figures_the_sources_give() {
    let dir = tempfile::tempdir().unwrap();
    let burst_path = dir.path().join("burst.log");
    std::fs::write(&burst_path, support::replay_eval::burst_lines().join("\n") + "\n").unwrap();
    let nginx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz");
    let source = LocalSource::open(&[nginx, burst_path], LocalOptions::default()).unwrap();
    source.wait_indexed().await;
    let source: Arc<dyn Source> = Arc::new(source);
    let range = TimeRange::between(at("2015-05-20T07:00:00Z"), at("2015-05-20T17:00:00Z"));
    let mut app = App::new(source.info(), None, Some(range), Theme::default(), History::default(), at("2015-05-21T09:00:00Z"));
    app.viewport = ratatui::layout::Rect::new(0, 0, 140, 40);
    app.report_authors = vec!["oncall".into()];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = Runtime::new(vec![source.clone()], tx, None);
    for e in update::start(&mut app) {
        runtime.run(e);
    }
    drive(&mut app, &mut runtime, &mut rx, |a| a.panes[0].histogram.is_some() && a.panes[0].total.is_some()).await;
    let mut line = Record::plain("203.0.113.77 - - [20/May/2015:12:00:00 +0000] \"POST /api/checkout HTTP/1.1\" 502 150 \"-\" \"EvilBot/9.9\"");
    line.timestamp = Some(at("2015-05-20T12:00:00Z"));
    app.marks.push(Mark {
        pane: app.panes[0].id,
        source: "access".into(),
        time: at("2015-05-20T12:00:00Z"),
        end: None,
        line: Some(line),
        fields: vec![],
        count: None,
        note: "cause: the payment gateway timed out".into(),
    });

    let path = dir.path().join("postmortem.md");
    let job = ExportJob::Report(Box::new(report_data(&app)), app.panes.iter().map(|p| p.id).collect());
    runtime.run(Effect::Investigate(InvestigateEffect::Export { path: path.clone(), job }));
    drive(&mut app, &mut runtime, &mut rx, |a| a.message.as_deref().is_some_and(|m| m.starts_with("wrote") || m.starts_with("could not"))).await;
    runtime.shutdown();
    assert!(app.message.as_deref().unwrap().starts_with("wrote the report"), "{:?}", app.message);
    let report = std::fs::read_to_string(&path).unwrap();
    let draft = report.split("## Evidence").next().unwrap();
    assert!(draft.contains("- **Authors:** oncall"), "{report}");
    assert!(draft.contains("The incident window is `2015-05-20T12:00:00Z` → `2015-05-20T12:10:00Z`"), "{report}");
    assert!(draft.contains("5xx went from 0.0% (0 of 109) to 72.3% (300 of 415) of requests [F2, F4, F1, F3]"), "{report}");
    assert!(draft.contains("one new client address, `203.0.113.77`, made 100.0% of them"), "{report}");
    assert!(draft.contains("## Root cause\n\n- the payment gateway timed out ("), "{report}");
    assert!(report.contains("- **F1** (Pane 1): 415 requests in the window"), "{report}");
}
