//! "What changed?" in the TUI (issue #16) on the product's real parsers: the nginx sample with a
//! planted incident, ten minutes of 502s on `POST /api/checkout` from a new client address and
//! user agent. `]` puts the histogram cursor on the burst (a spike by the one rule), `C`
//! compares its buckets with the ten minutes before through the real runtime (the engine of
//! `logsleuth compare`): the planted status and address rank first, new; `b` compares with the
//! day before instead; Enter filters the pane for the value. `P` mines the pane's patterns: the
//! burst's template is there with its exact count, and `+` filters the pane for it with a KQL
//! of its literal text that matches exactly the burst's lines.

use std::sync::Arc;

use crossterm::event::KeyCode;
use logsleuth::model::Nanos;
use logsleuth::sources::Source;
use logsleuth::sources::HitCount;
use logsleuth::ui::app::Mode;
use logsleuth::ui::features::comparison::{Baseline, WindowSource};
use logsleuth::ui::history::History;
use logsleuth::ui::{App, Effect, Theme, update};
use logsleuth_testing::{MemorySource, buffer_text, press, render, settle};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");
const BURST_IP: &str = "203.0.113.77";
const BURST_AGENT: &str = "EvilBot/9.9";
/// Lines of the burst: one a second, 15:10:00 – 15:19:59.
const BURST_LINES: usize = 600;

fn at(text: &str) -> Nanos {
    logsleuth::time::parse_absolute(text, None).unwrap()
}

/// The sample and the burst (one line a second, 15:10:00 – 15:19:59, from [`BURST_IP`] as
/// [`BURST_AGENT`]), in nginx's combined format; the screenshots' "what changed" scenes too.
fn log() -> String {
    let text = logsleuth_testing::with_burst(SAMPLE);
    assert_eq!(text.lines().filter(|l| l.starts_with(BURST_IP) && l.ends_with(&format!("\"{BURST_AGENT}\""))).count(), BURST_LINES);
    text
}

async fn app() -> (App, Arc<MemorySource>) {
    let source = Arc::new(MemorySource::from_access_log("access.log", &log()));
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), at("2015-05-17T16:10:00Z"));
    app.viewport = Rect::new(0, 0, 120, 40);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    (app, source)
}

async fn key(app: &mut App, source: &Arc<MemorySource>, code: KeyCode) -> Vec<Effect> {
    let effects = press(app, code);
    settle(app, source, effects.clone()).await;
    effects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comparison_view_ranks_the_planted_status_and_address_first() {
    let (mut app, source) = app().await;
    key(&mut app, &source, KeyCode::Char(']')).await;
    let message = app.message.clone().unwrap_or_default();
    assert!(message.starts_with("spike at 2015-05-17 15:1"), "{message}");
    let effects = key(&mut app, &source, KeyCode::Char('C')).await;
    // The key asks the runtime for the comparison of the spike's buckets with the hour before
    // (the same length, at least an hour).
    let [Effect::Compare { request, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(request.window, (at("2015-05-17T15:10:00Z"), at("2015-05-17T15:20:00Z")), "the run of spike buckets");
    assert_eq!(request.baseline, (at("2015-05-17T14:10:00Z"), at("2015-05-17T15:10:00Z")));
    assert_eq!(app.mode, Mode::Comparison);
    assert_eq!(app.comparison.source, Some(WindowSource::Spike));
    let c = app.comparison.result.clone().expect("answered").expect("compared");
    assert_eq!(c.window.2, BURST_LINES as u64);
    // The sample's lines of 14:10–15:10 are the baseline.
    let baseline_lines = SAMPLE
        .lines()
        .filter(|l| ["17/May/2015:14:1", "17/May/2015:14:2", "17/May/2015:14:3", "17/May/2015:14:4", "17/May/2015:14:5", "17/May/2015:15:0"].iter().any(|p| l.contains(p)))
        .count() as u64;
    assert_eq!(c.baseline.2, baseline_lines);
    let first = |field: &str| {
        let (_, changes) = c.fields.iter().find(|(f, _)| f == field).unwrap_or_else(|| panic!("{field} in {:?}", c.fields));
        changes[0].clone()
    };
    assert_eq!(first("status").value, "502");
    assert!(first("status").is_new());
    assert_eq!(first("remote_addr").value, BURST_IP);
    assert_eq!(first("http_user_agent").value, BURST_AGENT);
    assert_eq!(c.fields[0].0, "status", "the status field comes first: {:?}", c.fields.iter().map(|f| &f.0).collect::<Vec<_>>());
    assert!(c.patterns[0].value.contains("POST /api/checkout") && c.patterns[0].is_new(), "{:?}", c.patterns);
    // Kept on the pane for the report.
    assert_eq!(app.pane().shown_comparison.as_ref(), Some(&c));
    assert_eq!(app.pane().shown_comparison_query.as_deref(), Some(""));
    // The comparison shown goes into the postmortem report: in the evidence, and its window on
    // the timeline.
    let report = logsleuth::export::report::render(&logsleuth::ui::investigate::report_data(&app));
    assert!(report.contains("#### Comparison: `2015-05-17T15:10:00Z` → `2015-05-17T15:20:00Z`"), "{report}");
    assert!(report.contains(&format!("| `remote_addr` | `{BURST_IP}` |")), "{report}");
    assert!(report.contains("Pane 1: comparison window starts"), "{report}");
    let screen = buffer_text(&render(&app));
    insta::assert_snapshot!("comparison_view", screen);

    // The day before: nothing in the sample then, every value of the window is new.
    let effects = key(&mut app, &source, KeyCode::Char('b')).await;
    let [Effect::Compare { request, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(request.baseline, (at("2015-05-16T15:10:00Z"), at("2015-05-16T15:20:00Z")));
    assert_eq!(app.comparison.baseline, Baseline::Yesterday);
    let c = app.comparison.result.clone().unwrap().unwrap();
    assert_eq!(c.baseline.2, 0);
    assert!(c.fields.iter().all(|(_, ch)| ch.iter().all(|v| v.is_new())), "{:?}", c.fields);
    let screen = buffer_text(&render(&app));
    assert!(screen.contains("yesterday, same time"), "{screen}");
    // Back to just before, then Enter on the first row (status 502) filters the pane for it.
    key(&mut app, &source, KeyCode::Char('b')).await;
    assert_eq!(app.comparison.baseline, Baseline::JustBefore);
    key(&mut app, &source, KeyCode::Enter).await;
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.pane().editor.text, "status:502");
    assert_eq!(app.pane().total, Some(HitCount::Exact(BURST_LINES as u64)));
    // The next row, out: the second status of the window, as `not`.
    key(&mut app, &source, KeyCode::Char('C')).await;
    let c = app.comparison.result.clone().unwrap().unwrap();
    let (field, changes) = &c.fields[0];
    assert_eq!((field.as_str(), changes[0].value.as_str()), ("status", "502"), "only 502s in the window now");
    key(&mut app, &source, KeyCode::Char('j')).await;
    let second = logsleuth::ui::features::comparison::rows(&c)[1];
    key(&mut app, &source, KeyCode::Char('-')).await;
    let logsleuth::ui::features::comparison::Row::Value { field, value } = second else { panic!("{second:?}") };
    let (name, changes) = &c.fields[field];
    let expected = logsleuth::ui::features::comparison::value_clause(name, &changes[value].value, true);
    assert_eq!(app.pane().editor.text, format!("status:502 and {expected}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pattern_view_shows_the_burst_template_and_filters_for_it() {
    let (mut app, source) = app().await;
    let effects = press(&mut app, KeyCode::Char('P'));
    assert_eq!(app.mode, Mode::Patterns);
    let [Effect::Patterns { request, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!((request.size, request.query.text.as_str()), (30, ""));
    // While the source mines: the progress line.
    let waiting = buffer_text(&render(&app));
    assert!(waiting.contains("mining patterns…"), "{waiting}");
    settle(&mut app, &source, effects).await;
    let r = app.patterns.result.clone().expect("answered").expect("mined");
    assert_eq!(r.total, (SAMPLE.lines().count() + BURST_LINES) as u64);
    assert!(r.exact, "a local file is mined whole");
    assert_eq!(r.patterns.iter().map(|p| p.count).sum::<u64>(), r.total, "every line in one template");
    // Over the whole day the burst shares its template with the sample's other one-word agents.
    assert!(r.patterns.iter().any(|p| p.count >= BURST_LINES as u64 && p.count < BURST_LINES as u64 + 10), "{:?}", r.patterns);
    assert_eq!(app.pane().shown_patterns.as_ref(), Some(&r));
    insta::assert_snapshot!("pattern_view_all", buffer_text(&render(&app)));
    // The wheel moves the selection (three rows a notch, within the list).
    use logsleuth::ui::action::MouseAction;
    update(&mut app, logsleuth::ui::Action::Mouse(MouseAction::ScrollDown(60, 20)));
    assert_eq!(app.patterns.cursor, 3.min(r.patterns.len() - 1));
    update(&mut app, logsleuth::ui::Action::Mouse(MouseAction::ScrollUp(60, 20)));
    assert_eq!(app.patterns.cursor, 0);
    key(&mut app, &source, KeyCode::Esc).await;
    assert_eq!(app.mode, Mode::Normal);

    // The spike's ten minutes: `]` to its bucket (ten minutes a bar), zoom in.
    for k in [']', 'z'] {
        key(&mut app, &source, KeyCode::Char(k)).await;
    }
    assert_eq!(app.pane().resolved, logsleuth::model::TimeRange::between(at("2015-05-17T15:10:00Z"), at("2015-05-17T15:20:00Z")));
    key(&mut app, &source, KeyCode::Char('P')).await;
    let r = app.patterns.result.clone().expect("answered").expect("mined");
    let burst = &r.patterns[0];
    assert_eq!(burst.count, BURST_LINES as u64);
    assert!(burst.pattern.contains("POST /api/checkout") && burst.pattern.contains(BURST_AGENT), "{burst:?}");
    assert!(burst.example.starts_with(BURST_IP), "{burst:?}");
    assert_eq!(app.pane().shown_patterns_for.as_ref().map(|f| f.1), Some(app.pane().resolved));
    insta::assert_snapshot!("pattern_view_spike", buffer_text(&render(&app)));
    key(&mut app, &source, KeyCode::Char('+')).await;
    assert_eq!(app.mode, Mode::Normal);
    let query = app.pane().editor.text.clone();
    assert!(query.contains(r#""\"POST /api/checkout HTTP/1.1\"""#), "{query}");
    assert!(logsleuth::kql::parse(&query).is_ok(), "{query}");
    // Back out to the whole day: exactly the burst's lines match its text.
    key(&mut app, &source, KeyCode::Char('u')).await;
    assert_eq!(app.pane().resolved.from, None);
    assert_eq!(app.pane().total, Some(HitCount::Exact(BURST_LINES as u64)), "{query}");
    // And out: everything else.
    key(&mut app, &source, KeyCode::Char('P')).await;
    let r = app.patterns.result.clone().unwrap().unwrap();
    assert_eq!(r.patterns.len(), 1, "{:?}", r.patterns);
    key(&mut app, &source, KeyCode::Char('-')).await;
    let out = app.pane().editor.text.clone();
    assert!(out.starts_with(&format!("{query} and not (")), "{out}");
    assert_eq!(app.pane().total, Some(HitCount::Exact(0)), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_query_does_not_strand_the_pattern_view() {
    use logsleuth::ui::Action;
    use logsleuth::ui::features::patterns::PatternsAction;
    use std::time::Duration;
    let (mut app, _) = app().await;
    let slow: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("access.log", &log()).with_delay(Duration::from_millis(300)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = logsleuth::ui::runtime::Runtime::new(vec![slow], tx, None);
    for effect in press(&mut app, KeyCode::Char('P')) {
        runtime.run(effect);
    }
    // While the source mines, the pane's tasks are aborted (Esc on its running query, a new query,
    // the end of indexing): the view's work is not among them and still answers.
    runtime.run(Effect::Cancel { pane: app.pane().id });
    let action = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("an answer in time").expect("an open channel");
    assert!(matches!(action, Action::Patterns(PatternsAction::Done { .. })), "{action:?}");
    update(&mut app, action);
    let r = app.patterns.result.clone().expect("answered").expect("mined");
    assert_eq!(r.total, (SAMPLE.lines().count() + BURST_LINES) as u64);
    assert!(!buffer_text(&render(&app)).contains("mining patterns…"));
    runtime.shutdown();
}

/// Logs are hostile: templates, example lines, values and errors are drawn sanitized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_in_both_views_is_drawn_escaped() {
    use logsleuth::sources::compare::{Change, Comparison};
    use logsleuth_core::patterns::{Pattern, PatternMethod, PatternsResult};
    let (mut app, _) = app().await;
    let evil = "GET /\u{1b}[2J\u{1b}]52;c;aGk=\u{7}x\u{202e}y";
    app.patterns.result = Some(Ok(PatternsResult {
        total: 3,
        exact: false,
        method: PatternMethod::Elasticsearch,
        patterns: vec![Pattern { pattern: format!("{evil} <_>"), count: 3, example: format!("{evil} 1"), samples: vec![(0, 1), (60, 2)] }],
        note: Some(format!("note {evil}")),
    }));
    app.mode = Mode::Patterns;
    let screen = buffer_text(&render(&app));
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}') && !screen.contains('\u{202e}'), "{screen}");
    assert!(screen.contains("~3") && screen.contains("estimated · elasticsearch"), "{screen}");
    let change = Change { value: evil.to_string(), window: 3, baseline: 0, score: 4.2 };
    app.comparison.result = Some(Ok(Comparison {
        window: (0, 60_000_000_000, 3),
        baseline: (-60_000_000_000, 0, 0),
        fields: vec![(evil.to_string(), vec![change.clone()])],
        patterns: vec![change],
    }));
    app.mode = Mode::Comparison;
    let screen = buffer_text(&render(&app));
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}') && !screen.contains('\u{202e}'), "{screen}");
    assert!(screen.contains("new"), "{screen}");
    app.comparison.result = Some(Err(format!("server said {evil}")));
    let screen = buffer_text(&render(&app));
    assert!(!screen.contains('\u{1b}') && screen.contains("error: server said"), "{screen}");
}
