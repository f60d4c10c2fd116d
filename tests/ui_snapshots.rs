//! Snapshot tests of every screen: the app is driven by key events against the in-memory
//! source holding 1,000 real nginx access-log lines, rendered into a ratatui TestBackend at
//! fixed sizes with a fixed "now", and compared with insta snapshots.

use std::sync::Arc;

use crossterm::event::KeyCode;
use logsleuth::model::{Fields, Nanos, Record, Value};
use logsleuth::sources::{Source, TailEvent};
use logsleuth::ui::app::Mode;
use logsleuth::ui::history::History;
use logsleuth_testing::{MemorySource, RecordSource, buffer_text, local_info, press, render, settle, type_text};
use logsleuth::ui::{App, Theme, update};
use ratatui::layout::Rect;
use ratatui::style::Modifier;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

async fn loaded_with(source: Arc<impl Source + 'static>, w: u16, h: u16, theme: Theme) -> App {
    let mut app = App::new(source.info(), None, None, theme, History::default(), now());
    app.viewport = Rect::new(0, 0, w, h);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    app
}

async fn loaded(w: u16, h: u16) -> (App, Arc<MemorySource>) {
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
    (loaded_with(source.clone(), w, h, Theme::default()).await, source)
}

fn screen(app: &App) -> String {
    buffer_text(&render(app))
}

#[tokio::test]
async fn main_screen() {
    let (app, _) = loaded(120, 40).await;
    let text = screen(&app);
    assert!(text.contains("1,000 hits"), "{text}");
    insta::assert_snapshot!("main_120x40", text);
}

#[tokio::test]
async fn main_screen_narrow_hides_the_sidebar() {
    let (app, _) = loaded(80, 24).await;
    let text = screen(&app);
    assert!(!text.contains("Fields"), "{text}");
    insta::assert_snapshot!("main_80x24", text);
}

#[tokio::test]
async fn query_editing_with_field_completion() {
    let (mut app, source) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('/'));
    let effects = type_text(&mut app, "sta");
    settle(&mut app, &source, effects).await;
    assert_eq!(app.mode, Mode::Query);
    assert_eq!(app.completion.items.first().map(|s| s.label.as_str()), Some("status"));
    insta::assert_snapshot!("query_field_completion", screen(&app));
}

#[tokio::test]
async fn query_editing_with_value_completion() {
    let (mut app, source) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('/'));
    let effects = type_text(&mut app, "http_user_agent:deb");
    settle(&mut app, &source, effects).await;
    assert!(app.completion.items.iter().all(|s| !s.is_field));
    assert!(app.completion.items[0].label.starts_with("Debian APT-HTTP"), "{:?}", app.completion.items);
    insta::assert_snapshot!("query_value_completion", screen(&app));
}

#[tokio::test]
async fn query_syntax_error_is_shown_at_its_position() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:404 and (method:GET");
    let err = app.panes[0].query_error.clone().expect("the KQL parser reports the error while typing");
    assert_eq!(err.offset, Some(26));
    // Enter does not run a query with a syntax error.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.is_empty());
    assert_eq!(app.mode, Mode::Query);
    let text = screen(&app);
    let error_line = text.lines().nth(3).unwrap();
    assert_eq!(error_line.find('^'), Some(27), "{text}");
    assert!(error_line.contains("Expected"), "{text}");
    insta::assert_snapshot!("query_syntax_error", text);
}

#[tokio::test]
async fn fields_sidebar_with_top_values() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.mode, Mode::Fields);
    let text = screen(&app);
    assert!(text.contains("404") && text.contains('%'), "{text}");
    insta::assert_snapshot!("fields_sidebar", text);
}

/// Issue 14.4: `x` on a field replaces the sample of the loaded rows with the exact top values
/// over the whole range, counted by the source, marked exact, with the distinct count.
#[tokio::test]
async fn fields_sidebar_exact_values_over_the_whole_range() {
    let (mut app, source) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('f'));
    let status = app.pane().field_stats.iter().position(|f| f.name == "status").expect("a status field");
    for _ in 0..status {
        press(&mut app, KeyCode::Char('j'));
    }
    let sample = screen(&app);
    assert!(sample.contains("top 5 of 200"), "{sample}");
    let effects = press(&mut app, KeyCode::Char('x'));
    let asked: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            logsleuth::ui::Effect::Top { request, .. } => Some((request.field.clone(), request.size, request.range)),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![("status".to_string(), 5, app.pane().resolved)], "one exact request over the query's range");
    assert!(screen(&app).contains("exact: counting"));
    settle(&mut app, &source, effects).await;
    let text = screen(&app);
    // The whole file: 688 of the 1,000 lines are 404s (the sample of 200 rows says otherwise).
    assert!(text.contains("exact of 1,000") && text.contains("distinct"), "{text}");
    assert!(text.contains(" 69%"), "{text}");
    insta::assert_snapshot!("fields_sidebar_exact", text);

    // A new query asks again, so the exact values always describe the query on screen.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "method:GET");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.pane().exact_values.as_ref().map(|e| e.field.as_str()), Some("status"));
    assert!(matches!(app.pane().exact_values.as_ref().and_then(|e| e.result.as_ref()), Some(Ok(t)) if t.total < 1000));

    // `x` again: back to the sample.
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Char('x'));
    assert!(screen(&app).contains("top 5 of"), "{}", screen(&app));
}

#[tokio::test]
async fn histogram_span_selection() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.panes[0].element, logsleuth::ui::app::Element::Histogram);
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('l'));
    }
    press(&mut app, KeyCode::Char('v'));
    for _ in 0..8 {
        press(&mut app, KeyCode::Char('l'));
    }
    insta::assert_snapshot!("histogram_selection", screen(&app));
}

#[tokio::test]
async fn zoomed_in_range() {
    let (mut app, source) = loaded(120, 40).await;
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('v'));
    for _ in 0..10 {
        press(&mut app, KeyCode::Char('l'));
    }
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.panes[0].zoom_stack.len(), 1);
    insta::assert_snapshot!("zoomed", screen(&app));
}

#[tokio::test]
async fn detail_view() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("detail", screen(&app));
}

#[tokio::test]
async fn context_view() {
    let (mut app, source) = loaded(120, 40).await;
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Enter);
    let effects = press(&mut app, KeyCode::Char('x'));
    settle(&mut app, &source, effects).await;
    insta::assert_snapshot!("context", screen(&app));
}

#[tokio::test]
async fn charts_view() {
    let (mut app, source) = loaded(120, 40).await;
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    assert_eq!(app.mode, Mode::Charts);
    let text = screen(&app);
    assert!(text.contains("Top status") && text.contains("Top remote_addr") && text.contains("Top http_user_agent"), "{text}");
    assert!(text.contains("other"), "{text}");
    insta::assert_snapshot!("charts", text);
}

#[tokio::test]
async fn help_view_lists_every_key() {
    let (mut app, _) = loaded(120, 60).await;
    press(&mut app, KeyCode::Char('?'));
    let text = screen(&app);
    for key in ["/", "Enter", "t", "space", "Tab", "f", "c", "?", "q", "Esc"] {
        assert!(text.lines().any(|l| l.split_whitespace().any(|w| w == key)), "{key} missing:\n{text}");
    }
    insta::assert_snapshot!("help", text);
}

#[tokio::test]
async fn time_picker() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.mode, Mode::TimePicker);
    insta::assert_snapshot!("time_picker", screen(&app));
}

fn tail_record(i: i64) -> Record {
    let line = format!("10.0.0.{i} - - [17/May/2015:16:06:0{i} +0000] \"GET /live/{i} HTTP/1.1\" 200 12 \"-\" \"curl/8.0\"");
    logsleuth_testing::access_record(&line, 10_000 + i as u64).unwrap()
}

#[tokio::test]
async fn live_tail_paused_with_waiting_lines() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('t'));
    let generation = app.panes[0].tail_generation;
    update(&mut app, logsleuth::ui::Action::Tail { pane: 0, generation, event: TailEvent::Records(vec![tail_record(1), tail_record(2)]) });
    press(&mut app, KeyCode::Char(' '));
    update(&mut app, logsleuth::ui::Action::Tail { pane: 0, generation, event: TailEvent::Records((3..6).map(tail_record).collect()) });
    let text = screen(&app);
    assert!(text.contains("PAUSED 3 waiting"), "{text}");
    assert!(text.contains("/live/2"), "{text}");
    assert!(!text.contains("/live/5"), "{text}");
    insta::assert_snapshot!("tail_paused", text);
}

#[tokio::test]
async fn hostile_and_long_lines_are_escaped_and_truncated() {
    let mut fields = Fields::new();
    fields.push("path", Value::Str("/\x1b[2J\x1b]0;pwned\x07".into()));
    let hostile = Record {
        timestamp: Some(now() - 1_000_000_000),
        message: "evil \x1b[31mred\x1b[0m \u{202e}txt.exe".into(),
        fields,
        ..Record::default()
    };
    let long = Record { timestamp: Some(now() - 2_000_000_000), message: "x".repeat(5_000), ..Record::default() };
    // Hand-made records: a message with escape sequences around text no parser would give.
    let mut info = local_info("hostile.log", logsleuth::formats::LogFormat::AccessCombined);
    info.default_columns = vec!["path".into(), "message".into()];
    let source = Arc::new(RecordSource::new(info, vec![hostile, long]));
    let app = loaded_with(source, 120, 30, Theme::default()).await;
    let buf = render(&app);
    let text = buffer_text(&buf);
    assert!(!buf.content().iter().any(|c| c.symbol().chars().any(logsleuth::text::is_unsafe_char)));
    assert!(text.contains("\\e[2J\\e]0;pwned\\x07"), "{text}");
    assert!(text.contains("\\e[31mred\\e[0m \\u{202e}txt.exe"), "{text}");
    assert!(text.contains("x…"), "{text}");
    insta::assert_snapshot!("hostile_lines", text);
}

#[tokio::test]
async fn no_color_theme_uses_modifiers_only() {
    let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
    let theme = Theme::load(Some("dark"), None, true).unwrap();
    let app = loaded_with(source, 120, 40, theme).await;
    let buf = render(&app);
    assert!(buf.content().iter().all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset));
    // The selected row is still visible: reversed.
    assert!(buf.content().iter().any(|c| c.modifier.contains(Modifier::REVERSED)));
}

#[tokio::test]
async fn themes_colour_the_status_column_by_class() {
    for name in ["dark", "light", "high-contrast"] {
        let source = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
        let theme = Theme::load(Some(name), None, false).unwrap();
        let expected = theme.series_style("4xx", 0).fg;
        let app = loaded_with(source, 120, 40, theme).await;
        let buf = render(&app);
        let text = buffer_text(&buf);
        // Find a 404 in the table body (below the header) and check its colour.
        let (y, line) = text.lines().enumerate().skip(20).find(|(_, l)| l.contains(" 404 ")).expect("a 404 row");
        let x = line.find(" 404 ").unwrap() + 1;
        let col = line[..x].chars().count() as u16;
        assert_eq!(buf[(col, y as u16)].fg, expected.unwrap(), "{name}");
    }
}

/// An application's JSON lines log (240 lines, levels taken in turn from `levels`), read by the
/// product's local source: its JSON parser, field roles, default columns and level split.
fn app_log(levels: &[&str]) -> MemorySource {
    let text: String = (0..240i64)
        .map(|i| {
            let level = levels[(i as usize * 7 + (i as usize / 30)) % levels.len()];
            // Denser towards now, so bar heights vary.
            let time = logsleuth::time::format_rfc3339(now() - (240 - i) * (240 - i) * 3600 / 57_600 * 1_000_000_000);
            // Bunyan writes levels as numbers.
            let level_json = level.parse::<i64>().map(serde_json::Value::from).unwrap_or_else(|_| level.into());
            let service = ["api", "worker", "billing"][i as usize % 3];
            let line = serde_json::json!({ "time": time, "level": level_json, "service": service, "msg": format!("{level}: request {i} handled") });
            format!("{line}\n")
        })
        .collect();
    let source = MemorySource::from_log("app.jsonl", &text);
    assert_eq!(source.format(), logsleuth::formats::LogFormat::Json);
    source
}

#[tokio::test]
async fn the_level_split_names_levels_as_the_product_does() {
    // Spellings of the same four levels: the split counts them under one name each.
    let source = Arc::new(app_log(&["info", "INFO", "Info", "20", "WARNING", "warn", "error", "ERR"]));
    let app = loaded_with(source, 120, 30, Theme::default()).await;
    assert_eq!(app.pane().split, logsleuth::sources::Split::Level);
    let histogram = app.pane().histogram.as_ref().expect("a histogram");
    let mut names: Vec<&str> = histogram.buckets.iter().flat_map(|b| b.split.keys().map(String::as_str)).collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["debug", "error", "info", "warn"]);
    assert_eq!(histogram.buckets.iter().map(|b| b.count).sum::<u64>(), 240);
}

#[tokio::test]
async fn histogram_split_by_level_for_application_logs() {
    let levels = ["info", "info", "info", "debug", "warn", "info", "error", "info"];
    let source = Arc::new(app_log(&levels));
    let app = loaded_with(source, 120, 30, Theme::default()).await;
    assert_eq!(app.pane().split, logsleuth::sources::Split::Level);
    let buf = render(&app);
    let text = buffer_text(&buf);
    for level in ["debug", "error", "info", "warn"] {
        assert!(text.lines().nth(3).unwrap().contains(level), "legend lacks {level}:\n{text}");
    }
    // Error rows are coloured with the theme's error series colour.
    let theme = Theme::default();
    // The level column starts right after the time column of the table (right of the sidebar).
    let level_x = 32 + 1 + 23 + 1;
    let y = (0..buf.area.height)
        .find(|&y| (level_x..level_x + 5).map(|x| buf[(x, y)].symbol()).collect::<String>() == "error")
        .expect("an error row");
    let x = level_x;
    assert_eq!(Some(buf[(x, y)].fg), theme.series_style("error", 0).fg);
    insta::assert_snapshot!("level_split", text);
}

#[tokio::test]
async fn partial_top_n_charts_are_labelled() {
    let (mut app, _) = loaded(120, 40).await;
    press(&mut app, KeyCode::Char('c'));
    let generation = app.pane().generation;
    let partial = logsleuth::model::TopResult {
        field: "status".into(),
        total: 500,
        other: 0,
        buckets: vec![logsleuth::model::TopBucket { value: "404".into(), count: 500 }],
        error_bound: None,
        partial: true,
        note: Some("computed from the 500 fetched rows".into()),
        distinct: None,
        distinct_estimated: false,
    };
    update(&mut app, logsleuth::ui::Action::TopDone { pane: 0, generation, field: "status".into(), result: Ok(partial) });
    let text = screen(&app);
    assert!(text.lines().next().unwrap().contains("partial"), "{text}");
    assert!(text.contains("computed from the 500 fetched rows"), "{text}");
    // The other charts are still loading, with a spinner.
    assert!(text.contains("loading…"), "{text}");
}

#[tokio::test]
async fn screens_are_redrawn_only_on_change() {
    let (mut app, _) = loaded(120, 40).await;
    app.dirty = false;
    update(&mut app, logsleuth::ui::Action::Tick(now()));
    assert!(!app.dirty, "an idle tick does not redraw");
    press(&mut app, KeyCode::Char('j'));
    assert!(app.dirty);
    app.dirty = false;
    app.panes[0].loading.search = true;
    update(&mut app, logsleuth::ui::Action::Tick(now()));
    assert!(app.dirty, "the spinner moves while work runs");
}

#[tokio::test]
async fn every_screen_renders_at_tiny_sizes_without_panicking() {
    let (base, source) = loaded(120, 40).await;
    let keys: [&[KeyCode]; 8] = [
        &[],
        &[KeyCode::Char('/'), KeyCode::Char('s'), KeyCode::Char('t')],
        &[KeyCode::Char('f')],
        &[KeyCode::Enter],
        &[KeyCode::Char('c')],
        &[KeyCode::Char('?')],
        &[KeyCode::Char('r')],
        &[KeyCode::BackTab, KeyCode::Char('v'), KeyCode::Char('l')],
    ];
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (60, 15), (300, 100)] {
        for k in keys {
            let mut app = base.clone();
            let mut effects = Vec::new();
            for key in k {
                effects.extend(press(&mut app, *key));
            }
            settle(&mut app, &source, effects).await;
            let effects = update(&mut app, logsleuth::ui::Action::Resize(w, h));
            settle(&mut app, &source, effects).await;
            let buf = render(&app);
            assert_eq!((buf.area.width, buf.area.height), (w, h));
            // And the keys typed at that size (mouse-free paths only).
            let mut app = base.clone();
            let effects = update(&mut app, logsleuth::ui::Action::Resize(w, h));
            settle(&mut app, &source, effects).await;
            for key in k.iter().chain([KeyCode::Char('j'), KeyCode::PageDown, KeyCode::Char('G')].iter()) {
                let effects = press(&mut app, *key);
                settle(&mut app, &source, effects).await;
            }
            render(&app);
        }
    }
}
