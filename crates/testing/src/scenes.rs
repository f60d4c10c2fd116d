//! The screens of `screenshots/`, built by driving the app with keys.

use std::sync::Arc;

use logsleuth_core::model::{Nanos, Value};
use logsleuth_sources::{Source, TailEvent};

use crate::{MemorySource, press, press_with, settle, settle_panes, type_text};

/// One screenshot: a file stem, the app state and the terminal palette to draw it on.
pub struct Scene {
    /// File name without extension.
    pub name: &'static str,
    /// The state to render.
    pub app: logsleuth_tui::App,
    /// Terminal colours behind the theme.
    pub palette: logsleuth_tui::svg::Palette,
}

/// The screens shown in `screenshots/`, built by driving the app with keys over an access log
/// (`text`) with a fixed "now" just after its newest line.
pub async fn screenshot_scenes(text: &str) -> Vec<Scene> {
    use crossterm::event::KeyCode;
    use logsleuth_tui::svg::{DARK, LIGHT};
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", text));
    let newest = source.newest().await.unwrap_or(0);
    let now = newest + 60 * 1_000_000_000;
    let base = |theme: &str| {
        let theme = logsleuth_tui::Theme::load(Some(theme), None, false).unwrap_or_default();
        let mut app = logsleuth_tui::App::new(source.info(), None, None, theme, logsleuth_tui::history::History::default(), now);
        app.viewport = ratatui::layout::Rect::new(0, 0, 120, 36);
        app
    };
    let mut out = Vec::new();
    for (name, theme, palette) in [("main-dark", "dark", DARK), ("main-light", "light", LIGHT), ("main-high-contrast", "high-contrast", DARK)] {
        let mut app = base(theme);
        let e = logsleuth_tui::update::start(&mut app);
        settle(&mut app, &source, e).await;
        out.push(Scene { name, app, palette });
    }
    // An 80×24 SSH window: the time shortened before any column is cut.
    let mut narrow = base("dark");
    narrow.viewport = ratatui::layout::Rect::new(0, 0, 80, 24);
    let e = logsleuth_tui::update::start(&mut narrow);
    settle(&mut narrow, &source, e).await;
    let loaded = out[0].app.clone();
    out.push(Scene { name: "main-80x24", app: narrow, palette: DARK });
    let scene = |name, keys: &[KeyCode]| {
        let mut app = loaded.clone();
        let effects: Vec<_> = keys.iter().flat_map(|k| press(&mut app, *k)).collect();
        (name, app, effects)
    };
    use KeyCode::*;
    let scripted: Vec<(&'static str, Vec<KeyCode>)> = vec![
        ("query-completion", "/status:404 and http_user_agent:deb".chars().map(Char).collect()),
        ("query-error", "/status:404 and (method:GET".chars().map(Char).collect()),
        ("histogram-selection", vec![BackTab, Char('l'), Char('l'), Char('v'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l')]),
        ("zoomed", vec![BackTab, Char('v'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Enter]),
        ("fields", vec![Char('f'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j')]),
        ("detail", vec![Char('j'), Enter, Char('j'), Char('j'), Char('j')]),
        ("charts", vec![Char('c'), Char('j')]),
        ("help", vec![Char('?')]),
        ("time-picker", vec![Char('r'), Char('j')]),
    ];
    for (name, keys) in scripted {
        let (name, mut app, effects) = scene(name, &keys);
        settle(&mut app, &source, effects).await;
        out.push(Scene { name, app, palette: DARK });
    }
    // Live tail, paused with lines waiting.
    let mut app = loaded.clone();
    press(&mut app, Char('t'));
    let generation = app.pane().tail_generation;
    let newest_record = loaded.panes[0].records.first().cloned().unwrap_or_default();
    let live = |i: i64| {
        let mut r = newest_record.clone();
        r.timestamp = Some(newest + i * 1_000_000_000);
        // Lines after the newest loaded one, as the file's tail would send them.
        if let logsleuth_core::model::RecordId::Line { file, line } = r.id {
            r.id = logsleuth_core::model::RecordId::Line { file, line: line + i as u64 };
        }
        r.fields.set("path", Value::Str(format!("/downloads/product_{}", i % 3 + 1)));
        r
    };
    logsleuth_tui::update(&mut app, logsleuth_tui::Action::Tick(now));
    logsleuth_tui::update(&mut app, logsleuth_tui::Action::Tail { pane: 0, generation, event: TailEvent::Records((1..4).map(live).collect()) });
    press(&mut app, Char(' '));
    logsleuth_tui::update(&mut app, logsleuth_tui::Action::Tail { pane: 0, generation, event: TailEvent::Records((4..16).map(live).collect()) });
    out.push(Scene { name: "tail-paused", app, palette: DARK });
    out.extend(pane_scenes(text, now).await);
    out.push(thread_scene(text).await);
    out.extend(changes_scenes(text).await);
    let mut watches = watches_app(text).await;
    press(&mut watches, Char('!'));
    out.push(Scene { name: "watches-panel", app: watches, palette: DARK });
    out
}

/// The rules of the watches screenshot and tests, on the nginx sample (it has no 5xx: the
/// `errors` rule stays ok; most of its lines are 404s).
pub const WATCH_RULES: [&str; 4] = [
    "errors: status >= 500 > 3 per 1h",
    "not_found: status:404 > 50 per 1h",
    "not_found_ratio: status:404 > 75% of * per 1h",
    "forbidden: status:403 >= 1 per 1h for 2h",
];

/// The app over the nginx sample with [`WATCH_RULES`] evaluated once an hour through its
/// eight hours by the product's runtime (ticks, measurements, marks), "now" just after its
/// newest line.
pub async fn watches_app(text: &str) -> logsleuth_tui::App {
    const HOUR: Nanos = 3600 * 1_000_000_000;
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", text));
    let now = source.newest().await.unwrap_or(0) + 1_000_000_000;
    let theme = logsleuth_tui::Theme::load(Some("dark"), None, false).unwrap_or_default();
    let mut app = logsleuth_tui::App::new(source.info(), None, None, theme, logsleuth_tui::history::History::default(), now);
    app.viewport = ratatui::layout::Rect::new(0, 0, 120, 36);
    let e = logsleuth_tui::update::start(&mut app);
    settle(&mut app, &source, e).await;
    app.watches.every = HOUR;
    for rule in WATCH_RULES {
        let rule = logsleuth_sources::watch::parse_rule(rule).expect("the scene's rules parse");
        app.watches.add(logsleuth_sources::watch::Watch::new(rule), 0);
    }
    for k in (0..8).rev() {
        let e = logsleuth_tui::update(&mut app, logsleuth_tui::Action::Tick(now - k * HOUR));
        settle(&mut app, &source, e).await;
    }
    app
}

/// The checkout API's JSON lines around one client of the nginx sample (`client_ip`): its
/// checkout, another client's, and the followed client's gateway timeout.
pub fn checkout_api() -> MemorySource {
    let lines = [
        r#"{"time":"2015-05-17T16:05:09.500Z","level":"info","service":"checkout-api","msg":"POST /api/checkout accepted","client_ip":"212.67.220.58","order":7311,"status":202}"#,
        r#"{"time":"2015-05-17T16:05:10.000Z","level":"info","service":"checkout-api","msg":"POST /api/checkout accepted","client_ip":"94.23.21.169","order":7312,"status":202}"#,
        r#"{"time":"2015-05-17T16:05:14.200Z","level":"error","service":"checkout-api","msg":"payment gateway timeout after 4.7s","client_ip":"212.67.220.58","order":7311,"status":504}"#,
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    MemorySource::from_log("checkout-api.json", &text)
}

/// The thread view: `F` on the API's failing line (its client, by role `remote_addr` in nginx),
/// then `T`: both services' lines of that client on one clock, the 504 marked first error.
/// The nginx sample with a planted incident: ten minutes of 502s on `POST /api/checkout` from a
/// new client address and agent, one a second from 15:10:00 (`tests/ui_changes.rs` too).
pub fn with_burst(text: &str) -> String {
    let mut out = text.to_string();
    for i in 0..600 {
        out.push_str(&format!(
            "203.0.113.77 - - [17/May/2015:15:{:02}:{:02} +0000] \"POST /api/checkout HTTP/1.1\" 502 {} \"-\" \"EvilBot/9.9\"\n",
            10 + i / 60,
            i % 60,
            150 + i % 7
        ));
    }
    out
}

/// "What changed?": the pattern view of the sample with the burst (`P`), and the comparison of
/// the burst's spike with the ten minutes before (`]` then `C`).
async fn changes_scenes(text: &str) -> Vec<Scene> {
    use crossterm::event::KeyCode::*;
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", &with_burst(text)));
    let now = logsleuth_core::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap_or(0);
    let mut app = logsleuth_tui::App::new(source.info(), None, None, logsleuth_tui::Theme::default(), logsleuth_tui::history::History::default(), now);
    app.viewport = ratatui::layout::Rect::new(0, 0, 120, 36);
    let e = logsleuth_tui::update::start(&mut app);
    settle(&mut app, &source, e).await;
    let mut patterns = app.clone();
    let e = press(&mut patterns, Char('P'));
    settle(&mut patterns, &source, e).await;
    let mut comparison = app;
    for k in [']', 'C'] {
        let e = press(&mut comparison, Char(k));
        settle(&mut comparison, &source, e).await;
    }
    vec![
        Scene { name: "patterns", app: patterns, palette: logsleuth_tui::svg::DARK },
        Scene { name: "comparison", app: comparison, palette: logsleuth_tui::svg::DARK },
    ]
}

async fn thread_scene(text: &str) -> Scene {
    use crossterm::event::{KeyCode::*, KeyModifiers};
    let nginx: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", text));
    let opener: Arc<dyn logsleuth_tui::runtime::SourceOpener> = Arc::new(CheckoutOpener(Arc::new(checkout_api())));
    let now = logsleuth_core::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap_or(0);
    let mut app = logsleuth_tui::App::new(nginx.info(), None, None, logsleuth_tui::Theme::default(), logsleuth_tui::history::History::default(), now);
    app.viewport = ratatui::layout::Rect::new(0, 0, 120, 36);
    app.named_sources = vec!["checkout-api".into()];
    let mut sources: std::collections::HashMap<logsleuth_tui::action::PaneId, Arc<dyn Source>> = std::collections::HashMap::from([(0, nginx)]);
    let e = logsleuth_tui::update::start(&mut app);
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    press_with(&mut app, Char('w'), KeyModifiers::CONTROL);
    press(&mut app, Char('s'));
    type_text(&mut app, "checkout-api");
    let e = press(&mut app, Enter);
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    // The newest API line (the 504): F on a bare row follows its client.
    let e = press(&mut app, Char('F'));
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    press(&mut app, Char('T'));
    Scene { name: "thread", app, palette: logsleuth_tui::svg::DARK }
}

/// An application's error log (JSON lines) during the nginx sample's hours, read by the
/// product's local source: the second source of the multi-pane screenshots.
pub fn checkout_errors() -> MemorySource {
    let start = logsleuth_core::time::parse_absolute("2015-05-17T09:00:00Z", None).unwrap_or(0);
    let text: String = (0..40i64)
        .map(|i| {
            let level = if i % 5 == 0 { "error" } else { "warn" };
            let msg = if i % 5 == 0 { format!("payment gateway timeout after 30s (order {})", 7310 + i) } else { format!("retrying payment call ({})", i % 5) };
            let time = logsleuth_core::time::format_rfc3339(start + i * 12 * 60 * 1_000_000_000);
            let line = serde_json::json!({ "time": time, "level": level, "service": "checkout", "msg": msg });
            format!("{line}\n")
        })
        .collect();
    MemorySource::from_log("checkout-errors.json", &text)
}

/// Opens [`checkout_errors`] for any spec (the screenshots' configured source `checkout`).
struct CheckoutOpener(Arc<MemorySource>);

impl logsleuth_tui::runtime::SourceOpener for CheckoutOpener {
    fn open(&self, _spec: &logsleuth_sources::spec::SourceSpec) -> Result<Arc<dyn Source>, String> {
        Ok(self.0.clone())
    }
}

/// Screens of the incident workflow: the nginx log above and the application's errors below on
/// one clock (the instant under the cursor marked below), the marks list, the source picker.
async fn pane_scenes(text: &str, now: Nanos) -> Vec<Scene> {
    use crossterm::event::{KeyCode::*, KeyModifiers};
    use logsleuth_tui::svg::DARK;
    let nginx: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", text));
    let opener: Arc<dyn logsleuth_tui::runtime::SourceOpener> = Arc::new(CheckoutOpener(Arc::new(checkout_errors())));
    let mut app = logsleuth_tui::App::new(nginx.info(), None, None, logsleuth_tui::Theme::default(), logsleuth_tui::history::History::default(), now);
    app.viewport = ratatui::layout::Rect::new(0, 0, 140, 48);
    app.named_sources = vec!["checkout".into()];
    let mut sources: std::collections::HashMap<logsleuth_tui::action::PaneId, Arc<dyn Source>> = std::collections::HashMap::from([(0, nginx)]);
    let mut out = Vec::new();
    let e = logsleuth_tui::update::start(&mut app);
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    press_with(&mut app, Char('w'), KeyModifiers::CONTROL);
    press(&mut app, Char('s'));
    type_text(&mut app, "check");
    out.push(Scene { name: "source-picker", app: app.clone(), palette: DARK });
    let e = press(&mut app, Enter);
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    press_with(&mut app, Char('w'), KeyModifiers::CONTROL);
    press(&mut app, Char('k'));
    let mut e = type_text(&mut app, "/status:404");
    e.extend(press(&mut app, Enter));
    settle_panes(&mut app, &mut sources, Some(opener.clone()), e).await;
    for _ in 0..22 {
        press(&mut app, Char('j'));
    }
    press(&mut app, Char('m'));
    type_text(&mut app, "404s on product_2 while checkout retries");
    press(&mut app, Enter);
    out.push(Scene { name: "panes", app: app.clone(), palette: DARK });
    press(&mut app, Char('M'));
    out.push(Scene { name: "marks", app, palette: DARK });
    out
}

