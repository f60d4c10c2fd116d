//! What a new user sees in an 80×24 SSH window and on a wide terminal (issue 20): the key help
//! wraps instead of cutting, the status line keeps the hit count and the time range whole, the
//! charts screen leaves no quadrant empty, default columns leave out what is the same on every
//! line (and Loki's `detected_level` guess), and a narrow table shortens the time before it
//! cuts the columns that differ by row. Screens are insta snapshots of a TestBackend over the
//! 1,000 real nginx lines of tests/fixtures/ui, read by the product's local source or served
//! by a replayed Loki through the product's Loki source.

mod support;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use logsleuth::model::{Nanos, TimeRange};
use logsleuth::sources::Source;
use logsleuth::ui::app::{Mode, RangeSpec};
use logsleuth::ui::history::History;
use logsleuth::ui::{App, Theme, update};
use logsleuth_testing::{MemorySource, access_record, buffer_text, press, render, settle};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

async fn loaded_on(source: Arc<dyn Source>, w: u16, h: u16, range: Option<RangeSpec>) -> App {
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, w, h);
    if let Some(range) = range {
        app.panes[0].range = range;
    }
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    assert!(app.pane().error.is_none(), "{:?}", app.pane().error);
    app
}

async fn nginx(w: u16, h: u16) -> (App, Arc<dyn Source>) {
    let source: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE));
    (loaded_on(source.clone(), w, h, None).await, source)
}

fn screen(app: &App) -> String {
    buffer_text(&render(app))
}

// 1. The key help wraps its descriptions under themselves and keeps j/k scrolling.

/// Every description of the help, put back together from the screen's wrapped lines, is the
/// table's text whole; the key column starts every entry at the same place.
fn assert_help_whole(app: &App, text: &str) {
    let sections = logsleuth::ui::keymap::help_sections(&app.keymap);
    let key_w = sections.iter().flat_map(|s| s.lines.iter()).map(|l| l.keys.chars().count()).max().unwrap();
    // The popup's columns: from its top-left corner to its top-right one.
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let top = lines.iter().position(|l| l.iter().collect::<String>().contains(" Keys (j/k scroll")).expect("the help popup");
    let left = lines[top].iter().position(|c| *c == '┏').unwrap();
    let right = left + lines[top][left..].iter().position(|c| *c == '┓').unwrap();
    let rows: Vec<String> = lines[top + 1..]
        .iter()
        .take_while(|l| l.get(left) == Some(&'┃'))
        .map(|l| l[left + 1..right.min(l.len())].iter().collect())
        .collect();
    let mut shown: Vec<(String, String)> = Vec::new();
    for row in &rows {
        let chars: Vec<char> = row.chars().collect();
        let split = (key_w + 4).min(chars.len());
        let keys: String = chars[..split].iter().collect();
        let desc: String = chars[split..].iter().collect::<String>().trim_end().to_string();
        let (keys, desc) = (keys.as_str(), desc.as_str());
        if keys.starts_with("  ") && !keys.trim().is_empty() {
            shown.push((keys.trim().to_string(), desc.to_string()));
        } else if keys.trim().is_empty() && !desc.is_empty() && !shown.is_empty() {
            let last = shown.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(desc);
        }
    }
    assert!(shown.len() >= 5, "{text}");
    let all: Vec<(String, &str)> = sections.iter().flat_map(|s| s.lines.iter()).map(|l| (l.keys.trim().to_string(), l.text)).collect();
    // The last entry on screen may continue below the popup's edge.
    for (keys, desc) in &shown[..shown.len() - 1] {
        assert!(all.iter().any(|(k, d)| k == keys && d == desc), "cut or misaligned: {keys:?} {desc:?}\n{text}");
    }
}

#[tokio::test]
async fn help_wraps_at_80x24_and_scrolls() {
    let (mut app, _) = nginx(80, 24).await;
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.mode, Mode::Help);
    let text = screen(&app);
    assert_help_whole(&app, &text);
    assert!(text.contains("open the selected row's detail"), "{text}");
    insta::assert_snapshot!("help_80x24", text);
    for _ in 0..12 {
        press(&mut app, KeyCode::Char('j'));
    }
    let scrolled = screen(&app);
    assert_ne!(scrolled, text);
    assert_help_whole(&app, &scrolled);
    insta::assert_snapshot!("help_80x24_scrolled", scrolled);
    for _ in 0..12 {
        press(&mut app, KeyCode::Char('k'));
    }
    assert_eq!(screen(&app), text);
}

#[tokio::test]
async fn help_is_as_wide_as_its_longest_line_at_180x45() {
    let (mut app, _) = nginx(180, 45).await;
    press(&mut app, KeyCode::Char('?'));
    let text = screen(&app);
    assert_help_whole(&app, &text);
    assert!(text.contains("zoom into the selection (h"), "{text}");
    insta::assert_snapshot!("help_180x45", text);
}

// 2. The status line: the hit count and the time range whole, the source's URL cut in the
// middle.

/// The Loki replay of the nginx lines: each line as Loki's `pattern` parser would send it
/// (the product's access-log field names as parsed labels) with Loki's own `detected_level`
/// guess, `unknown`, in the structured metadata.
async fn loki_nginx() -> (support::loki_server::LokiServer, Arc<dyn Source>, TimeRange) {
    use logsleuth::sources::http::HttpConfig;
    use logsleuth::sources::loki::tail::Backoff;
    use logsleuth::sources::loki::{LokiConfig, LokiSource};
    use support::loki_server::{LokiServer, Recorded, Reply};

    let mut lines: Vec<(Nanos, serde_json::Value)> = SAMPLE
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let r = access_record(line, i as u64).expect("an access-log line");
            let parsed: serde_json::Map<String, serde_json::Value> =
                r.fields.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.as_text()))).collect();
            let ts = r.timestamp.unwrap();
            (ts, serde_json::json!([ts.to_string(), line, {"structuredMetadata": {"detected_level": "unknown"}, "parsed": parsed}]))
        })
        .collect();
    lines.sort_by_key(|(ts, _)| std::cmp::Reverse(*ts));
    let range = TimeRange::between(lines.last().unwrap().0, lines[0].0 + 1_000_000_000);
    let lines = Arc::new(lines);
    let server = LokiServer::start(move |r: &Recorded| {
        let param = |n: &str| r.param(n).and_then(|v| v.parse::<i64>().ok());
        match (r.path.as_str(), r.param("step")) {
            ("/loki/api/v1/query_range", Some(_)) => {
                Reply::Json(200, r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#.into())
            }
            ("/loki/api/v1/query_range", None) => {
                let (start, end) = (param("start").unwrap_or(i64::MIN), param("end").unwrap_or(i64::MAX));
                let limit = param("limit").unwrap_or(100) as usize;
                let values: Vec<&serde_json::Value> =
                    lines.iter().filter(|(ts, _)| *ts >= start && *ts < end).take(limit).map(|(_, v)| v).collect();
                let body = serde_json::json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"],
                    "result": [{"stream": {"cluster": "eu-west-1", "env": "production", "job": "nginx"}, "values": values}]}});
                Reply::Json(200, body.to_string())
            }
            ("/loki/api/v1/labels", _) => Reply::Json(200, r#"{"status":"success","data":["cluster","env","job"]}"#.into()),
            ("/loki/api/v1/query", _) => {
                let body = serde_json::json!({"status": "success", "data": {"resultType": "vector",
                    "result": [{"metric": {}, "value": [1431878710.0, lines.len().to_string()]}]}});
                Reply::Json(200, body.to_string())
            }
            _ => Reply::Text(404, "404 page not found\n".into()),
        }
    })
    .await;
    let mut http = HttpConfig::new(&server.url).unwrap();
    http.timeout = Duration::from_secs(5);
    let loki: Arc<dyn Source> = Arc::new(
        LokiSource::new(LokiConfig {
            http,
            selector: r#"{job="nginx", env="production", cluster="eu-west-1"}"#.into(),
            parser: None,
            tenant: None,
            backoff: Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) },
        })
        .unwrap(),
    );
    (server, loki, range)
}

/// The screen with the replay server's port made stable.
fn stable(text: &str, url: &str) -> String {
    text.replace(url.trim_start_matches("http://"), "127.0.0.1:PORT")
}

fn status_line(text: &str) -> &str {
    text.lines().last().unwrap()
}

#[tokio::test]
async fn loki_at_80x24_status_keeps_hits_and_range_and_columns_drop_detected_level() {
    let (server, loki, range) = loki_nginx().await;
    let app = loaded_on(loki, 80, 24, Some(RangeSpec::Absolute(range))).await;
    let p = app.pane();
    assert_eq!(p.info.roles.level.as_deref(), Some("detected_level"), "{:?}", p.info);
    assert!(p.info.default_columns.contains(&"detected_level".to_string()), "{:?}", p.info);
    assert!(!p.columns.contains(&"detected_level".to_string()), "{:?}", p.columns);
    assert_eq!(p.columns.first().map(String::as_str), Some("status"), "{:?}", p.columns);
    let text = screen(&app);
    let status = status_line(&text);
    assert!(status.contains("1,000 hits"), "{status}");
    assert!(status.contains("2015-05-17 08:05:") && status.contains(" → 16:05:"), "the range is whole: {status}");
    assert!(status.contains(" loki  http://127.0.") && status.contains('…') && status.contains("eu-west-1\"}"), "cut in the middle: {status}");
    insta::assert_snapshot!("loki_80x24", stable(&text, &server.url));
}

#[tokio::test]
async fn loki_at_180x45() {
    let (server, loki, range) = loki_nginx().await;
    let app = loaded_on(loki, 180, 45, Some(RangeSpec::Absolute(range))).await;
    assert!(!app.pane().columns.contains(&"detected_level".to_string()), "{:?}", app.pane().columns);
    let text = screen(&app);
    let status = status_line(&text);
    assert!(status.contains(r#"{job="nginx", env="production", cluster="eu-west-1"}"#), "whole when it fits: {status}");
    insta::assert_snapshot!("loki_180x45", stable(&text, &server.url));
}

#[tokio::test]
async fn status_line_at_80x24_keeps_the_figures_when_a_message_is_long() {
    let (mut app, _) = nginx(80, 24).await;
    app.message = Some("saved the search \"404s on the downloads of product_1 from Debian APT\"".into());
    let text = screen(&app);
    let status = status_line(&text);
    assert!(status.contains("nginx_sample.log │ 1,000 hits │ 2015-05-17 08:00:00 → 16:10:00 (all)"), "{status}");
    // Wider, the message has room too, cut at its end.
    app.viewport = Rect::new(0, 0, 110, 24);
    let text = screen(&app);
    let wide = status_line(&text);
    assert!(wide.contains("(all) │ saved the search") && wide.ends_with('…'), "{wide}");
    insta::assert_snapshot!("status_message_110x24", wide);
    insta::assert_snapshot!("status_message_80x24", status);
}

// 3. Charts: three charts fill the screen.

#[tokio::test]
async fn charts_at_180x45_leave_no_quadrant_empty() {
    let (mut app, source) = nginx(180, 45).await;
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    assert_eq!(app.mode, Mode::Charts);
    assert_eq!(app.pane().charts.fields.len(), 3, "{:?}", app.pane().charts.fields);
    let text = screen(&app);
    // The agent chart, alone on its row, spans the screen.
    let agent_row = text.lines().find(|l| l.contains("Top http_user_agent")).unwrap();
    assert!(agent_row.starts_with('┌') && agent_row.ends_with('┐') && !agent_row[3..agent_row.len() - 3].contains('┐'), "{agent_row}");
    insta::assert_snapshot!("charts_180x45", text);
}

#[tokio::test]
async fn charts_at_80x24() {
    let (mut app, source) = nginx(80, 24).await;
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    insta::assert_snapshot!("charts_80x24", screen(&app));
}

// 4 and 5. Default columns and the time format of a narrow table.

#[tokio::test]
async fn narrow_table_drops_the_milliseconds_and_date_before_cutting_paths() {
    let (app, _) = nginx(80, 24).await;
    let text = screen(&app);
    let header = text.lines().find(|l| l.starts_with("┃time")).unwrap();
    assert!(!text.contains(".000"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("┃2015-")), "the day is in the status line, not on every row: {text}");
    assert!(text.contains("/downloads/product_1 ") || text.contains("/downloads/product_2 "), "paths whole: {text}");
    assert!(header.contains("status"), "{header}");
    insta::assert_snapshot!("table_80x24", text);
}

#[tokio::test]
async fn wide_table_keeps_the_full_time() {
    let (app, _) = nginx(180, 45).await;
    let text = screen(&app);
    assert!(text.contains("2015-05-17 16:05:10.000"), "{text}");
    insta::assert_snapshot!("table_180x45", text);
}

#[tokio::test]
async fn a_column_the_same_on_every_line_is_left_out_until_a_query_makes_it_differ() {
    let (mut app, source) = nginx(120, 30).await;
    let defaults = logsleuth::ui::app::Pane::default_columns(&app.pane().info);
    assert!(defaults.contains(&"status".to_string()), "{defaults:?}");
    press(&mut app, KeyCode::Char('/'));
    logsleuth_testing::type_text(&mut app, "status:404");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert!(!app.pane().columns.contains(&"status".to_string()), "404 on every line: {:?}", app.pane().columns);
    insta::assert_snapshot!("constant_status_left_out", screen(&app));
    press(&mut app, KeyCode::Char('/'));
    for _ in 0.."status:404".len() {
        press(&mut app, KeyCode::Backspace);
    }
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert!(app.pane().columns.contains(&"status".to_string()), "{:?}", app.pane().columns);
}
