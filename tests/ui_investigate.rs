//! The incident workflow driven by keys against the in-memory source holding 1,000 real nginx
//! access-log lines: marks, the postmortem report (compared byte for byte with a golden file),
//! NDJSON / CSV exports, copying over OSC 52, saved searches and `[keys]` overrides; plus
//! snapshots of its popups.
//!
//! Regenerate the golden report with `UPDATE_GOLDEN=1 cargo test --test ui_investigate`.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use crossterm::event::{KeyCode, KeyModifiers};
use logsleuth::model::{Fields, Nanos, Record, RecordId, Value};
use logsleuth::sources::HitCount;
use logsleuth::ui::action::{Action, Effect};
use logsleuth::ui::app::{Element, Mode, RangeSpec};
use logsleuth::ui::history::History;
use logsleuth::ui::investigate::{InvestigateEffect, PromptKind};
use logsleuth_testing::{
    MemorySource, RecordSource, access_record, buffer_text, local_info, press, press_with, render, settle, type_text,
};
use logsleuth::ui::{App, Theme, update};
use ratatui::layout::Rect;

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

fn source() -> Arc<MemorySource> {
    Arc::new(MemorySource::from_access_log("nginx_sample.log", SAMPLE))
}

async fn loaded_on(source: Arc<impl logsleuth::sources::Source + 'static>) -> App {
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 120, 40);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    app
}

async fn loaded() -> (App, Arc<MemorySource>) {
    let source = source();
    (loaded_on(source.clone()).await, source)
}

fn screen(app: &App) -> String {
    buffer_text(&render(app))
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    press_with(app, KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Marks the selected table line with a note.
fn mark_line(app: &mut App, note: &str) {
    press(app, KeyCode::Char('m'));
    assert_eq!(app.mode, Mode::Prompt);
    type_text(app, note);
    press(app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
}

/// Chooses an export format in the menu and writes it to `path`; returns the effects.
fn export_to(app: &mut App, down: usize, path: &Path) -> Vec<Effect> {
    press(app, KeyCode::Char('E'));
    assert_eq!(app.mode, Mode::Export);
    for _ in 0..down {
        press(app, KeyCode::Char('j'));
    }
    press(app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Prompt);
    ctrl(app, 'u');
    type_text(app, path.to_str().unwrap());
    press(app, KeyCode::Enter)
}

/// The investigation of the golden report: charts looked at, two lines and one span marked.
async fn investigation() -> (App, Arc<MemorySource>) {
    let (mut app, source) = loaded().await;
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    // Marked out of time order: the report lists them by time.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    mark_line(&mut app, "client retried after the *error* <b>");
    for _ in 0..8 {
        press(&mut app, KeyCode::Char('j'));
    }
    mark_line(&mut app, "304 from the APT mirror");
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.pane().element, Element::Histogram);
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('l'));
    }
    press(&mut app, KeyCode::Char('v'));
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('l'));
    }
    press(&mut app, KeyCode::Char('m'));
    type_text(&mut app, "burst of downloads");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.marks.len(), 3);
    (app, source)
}

#[tokio::test]
async fn two_marked_lines_and_a_span_export_as_the_golden_report() {
    let (mut app, source) = investigation().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident.md");
    let effects = export_to(&mut app, 0, &path);
    assert!(matches!(&effects[..], [Effect::Investigate(InvestigateEffect::Export { .. })]), "{effects:?}");
    settle(&mut app, &source, effects).await;
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        app.message.as_deref(),
        Some(format!("wrote the report ({} lines) to {}", written.lines().count(), path.display()).as_str())
    );

    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/report_two_marks.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &written).unwrap();
    }
    pretty_assertions::assert_eq!(written, std::fs::read_to_string(&golden).unwrap());

    // What the golden file must say, independent of its layout.
    let by_time: Vec<usize> =
        ["burst of downloads", "304 from the APT mirror", "client retried"].iter().map(|n| written.find(n).unwrap()).collect();
    assert!(by_time.windows(2).all(|w| w[0] < w[1]), "marks in time order");
    assert!(written.contains("after the \\*error\\* \\<b\\>"), "notes are escaped");
    assert!(written.contains("#### Top values of `status`") && written.contains("- **Events over time:**"));
}

#[tokio::test]
async fn hostile_lines_cannot_inject_markdown_or_terminal_sequences_into_the_report() {
    let t = now() - 3_600_000_000_000;
    let mut fields = Fields::new();
    fields.push("status", Value::Int(500));
    let hostile = Record {
        timestamp: Some(t),
        message: "```\n# pwned\n<script>alert(1)</script>\x1b]52;c;ZXZpbA==\x07".into(),
        fields,
        id: RecordId::Line { file: 0, line: 1 },
        ..Record::default()
    };
    // A message with line breaks: as a server source can send it (a file line has none).
    let source = Arc::new(RecordSource::new(local_info("evil.log", logsleuth::formats::LogFormat::AccessCombined), vec![hostile]));
    let mut app = loaded_on(source.clone()).await;
    mark_line(&mut app, "see `this` | and ```that```");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.md");
    let effects = export_to(&mut app, 0, &path);
    settle(&mut app, &source, effects).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
    // The line sits in a fence longer than its backtick run, on one line.
    assert!(text.contains("````text\n```\\n# pwned\\n<script>alert(1)</script>\\e]52;c;ZXZpbA==\\x07\n````\n"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("# pwned")), "{text}");
    assert!(text.contains("see \\`this\\` \\| and \\`\\`\\`that\\`\\`\\`"), "{text}");
}

#[tokio::test]
async fn ndjson_and_csv_exports_hold_the_loaded_result_set() {
    let (mut app, source) = loaded().await;
    let loaded = app.pane().records.len();
    assert_eq!(loaded, logsleuth::ui::app::PAGE_SIZE, "one page loaded of 1,000 hits");
    press(&mut app, KeyCode::Char('E'));
    let text = screen(&app);
    assert!(text.contains("200 records loaded; more on the server (1,000 hits)"), "{text}");
    press(&mut app, KeyCode::Esc);

    let dir = tempfile::tempdir().unwrap();
    let ndjson = dir.path().join("out.ndjson");
    let effects = export_to(&mut app, 1, &ndjson);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.message.as_deref(), Some(format!("wrote 200 records to {}", ndjson.display()).as_str()));
    let text = std::fs::read_to_string(&ndjson).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), loaded);
    for (line, record) in lines.iter().zip(&app.pane().records) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v, record.to_json(), "the CLI's query --output ndjson shape");
    }

    let csv_path = dir.path().join("out.csv");
    let effects = export_to(&mut app, 2, &csv_path);
    settle(&mut app, &source, effects).await;
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["@timestamp", "status", "method", "path", "remote_addr", "http_user_agent"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), loaded);
    let first = &app.pane().records[0];
    assert_eq!(&rows[0][0], logsleuth::time::format_rfc3339(first.timestamp.unwrap()));
    assert_eq!(&rows[0][4], first.get("remote_addr").unwrap().as_text());
    assert_eq!(&rows[0][5], first.get("http_user_agent").unwrap().as_text(), "agents with commas and quotes survive");
}

#[tokio::test]
async fn a_failed_export_says_why() {
    let (mut app, source) = loaded().await;
    let dir = tempfile::tempdir().unwrap();
    let effects = export_to(&mut app, 1, dir.path());
    settle(&mut app, &source, effects).await;
    let message = app.message.clone().unwrap();
    assert!(message.starts_with(&format!("could not write {}", dir.path().display())), "{message}");
}

#[tokio::test]
async fn the_marks_list_jumps_edits_and_deletes() {
    let (mut app, _) = investigation().await;
    let marked = app.marks.iter().find(|m| m.note == "304 from the APT mirror").unwrap().line.clone().unwrap();
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char('M'));
    assert_eq!(app.mode, Mode::Marks);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.pane().element, Element::Table);
    assert_eq!(app.pane().selected_record(), Some(&marked));
    assert_eq!(app.message.as_deref(), Some("mark: 304 from the APT mirror"));
    let text = screen(&app);
    assert!(text.contains("│◆16:05:41 304"), "marked rows carry the gutter marker:\n{text}");
    assert_eq!(text.matches('◆').count(), 1, "the other marked line is scrolled out of view:\n{text}");

    // The span mark selects its buckets on the histogram.
    press(&mut app, KeyCode::Char('M'));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.pane().element, Element::Histogram);
    assert_eq!((app.pane().hist_anchor, app.pane().hist_cursor), (Some(3), 7));

    press(&mut app, KeyCode::Char('M'));
    press(&mut app, KeyCode::Char('e'));
    assert!(matches!(app.prompt.as_ref().map(|p| &p.kind), Some(PromptKind::EditNote(0))));
    ctrl(&mut app, 'u');
    type_text(&mut app, "downloads burst");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Marks, "back in the list after editing");
    assert_eq!(app.marks[0].note, "downloads burst");
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.marks.len(), 2);
    assert!(app.marks.iter().all(|m| m.end.is_none()));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);

    // Esc on a note prompt drops the mark.
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.marks.len(), 2);
}

#[tokio::test]
async fn copy_sends_osc52_with_the_raw_text_or_offers_a_file() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Char('j'));
    let line = app.pane().selected_record().unwrap().message.clone();
    let effects = press(&mut app, KeyCode::Char('y'));
    let [Effect::Investigate(InvestigateEffect::Clipboard { sequence })] = &effects[..] else { panic!("{effects:?}") };
    let payload = sequence.strip_prefix("\x1b]52;c;").and_then(|s| s.strip_suffix('\x07')).unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(payload).unwrap(), line.as_bytes());
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .starts_with(&format!("copied {} chars of the line (OSC 52; if your terminal", line.chars().count()))
    );

    // The query, anywhere on the main screen.
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:404");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    let effects = press(&mut app, KeyCode::Char('Y'));
    let [Effect::Investigate(InvestigateEffect::Clipboard { sequence })] = &effects[..] else { panic!("{effects:?}") };
    assert!(sequence.contains(&base64::engine::general_purpose::STANDARD.encode("status:404")));

    // A field value in the detail view.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail);
    let status_row =
        logsleuth::ui::app::detail_rows(app.pane().selected_record().unwrap()).iter().position(|r| r.name == "status").unwrap();
    for _ in 0..status_row {
        press(&mut app, KeyCode::Char('j'));
    }
    let effects = press(&mut app, KeyCode::Char('y'));
    let [Effect::Investigate(InvestigateEffect::Clipboard { sequence })] = &effects[..] else { panic!("{effects:?}") };
    assert!(sequence.contains(&base64::engine::general_purpose::STANDARD.encode("404")));
    press(&mut app, KeyCode::Esc);

    // OSC 52 turned off: a file is offered, and written.
    app.investigate.clipboard.osc52 = false;
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(effects.is_empty());
    assert_eq!(app.mode, Mode::Prompt);
    assert!(app.prompt.as_ref().unwrap().detail.as_deref().unwrap().starts_with("OSC 52 is off (LOGSLEUTH_OSC52)"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copied.txt");
    ctrl(&mut app, 'u');
    type_text(&mut app, file.to_str().unwrap());
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    let selected = app.pane().selected_record().unwrap().message.clone();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), selected);
    assert!(app.message.as_deref().unwrap().starts_with("wrote "), "{:?}", app.message);
}

#[tokio::test]
async fn text_too_large_for_osc52_goes_to_a_file() {
    let big = "x".repeat(logsleuth::ui::clipboard::MAX_OSC52_BYTES + 1);
    // One plain line, read by the product's local source.
    let source = Arc::new(MemorySource::from_log("big.log", &format!("{big}\n")));
    let mut app = loaded_on(source).await;
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(effects.is_empty());
    assert!(matches!(app.prompt.as_ref().map(|p| &p.kind), Some(PromptKind::CopyToFile(t)) if t.len() == 100_001));
    assert!(app.prompt.as_ref().unwrap().detail.as_deref().unwrap().contains("too large for OSC 52"));
}

#[tokio::test]
async fn saved_searches_persist_and_apply_with_fuzzy_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("state/logsleuth/saved_searches.toml");
    let (mut app, source) = loaded().await;
    app.investigate.searches_path = Some(store.clone());
    app.investigate.config_searches = vec![logsleuth::ui::saved::SavedSearch::from_config(&logsleuth::config::SavedSearch {
        name: "server errors".into(),
        query: "status >= 500".into(),
        range: None,
        columns: vec![],
        source: None,
    })];

    // Save "HEAD requests" with a range and columns.
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "method:HEAD");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    app.pane_mut().columns = vec!["status".into(), "path".into()];
    let effects = press(&mut app, KeyCode::Char('S'));
    assert!(effects.is_empty());
    type_text(&mut app, "HEAD requests");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.message.as_deref(), Some(format!("saved search 'HEAD requests' in {}", store.display()).as_str()));
    let saved = logsleuth::ui::saved::load(&store).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].query.as_str(), saved[0].range, saved[0].columns.len()), ("method:HEAD", Some(RangeSpec::All), 2));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Back to everything, then recall it from the picker by a fuzzy filter.
    press(&mut app, KeyCode::Char('/'));
    ctrl(&mut app, 'u');
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    app.pane_mut().columns = vec!["message".into()];
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.mode, Mode::SavedSearches);
    assert!(screen(&app).contains("server errors"));
    type_text(&mut app, "hdrq");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal);
    settle(&mut app, &source, effects).await;
    let heads = SAMPLE
        .lines()
        .enumerate()
        .filter_map(|(i, l)| access_record(l, i as u64))
        .filter(|r| r.get("method").map(|v| v.as_text()).as_deref() == Some("HEAD"))
        .count();
    assert_eq!(app.pane().applied.text, "method:HEAD");
    assert_eq!(app.pane().columns, ["status", "path"]);
    assert_eq!(app.pane().total, Some(HitCount::Exact(heads as u64)));
    assert_eq!(app.message.as_deref(), Some("saved search 'HEAD requests' applied"));

    // The config's search, by filter.
    press(&mut app, KeyCode::Char('o'));
    type_text(&mut app, "server");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.pane().applied.text, "status >= 500");
}

#[tokio::test]
async fn key_overrides_from_the_config_file_rebind_the_main_screen() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[keys]\nquit = \"ctrl-q\"\nmark = \"x\"\ndown = \"n\"\n").unwrap();
    let defaults = logsleuth::config::open::ui_defaults(Some(&config)).unwrap();
    let (mut app, _) = loaded().await;
    app.keymap = logsleuth::ui::keymap::Keymap::from_table(&defaults.keys);

    press(&mut app, KeyCode::Char('q'));
    assert!(!app.quit, "q no longer quits");
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.pane().selected, 1, "n moves down");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.pane().selected, 1, "j is free");
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.pane().selected, 0, "k still moves up");
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(app.mode, Mode::Normal, "m is free");
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::Prompt, "x marks");
    press(&mut app, KeyCode::Esc);
    // Typing in the query bar is not affected.
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "xnq");
    assert_eq!(app.pane().editor.text, "xnq");
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('?'));
    let text = screen(&app);
    assert!(text.contains("ctrl-q ") && text.contains("n / k ↑"), "the help shows the keys in effect:\n{text}");
    press(&mut app, KeyCode::Esc);
    assert!(screen(&app).contains("? help · ctrl-q quit"), "the status line hint follows the override");
    ctrl(&mut app, 'q');
    assert!(app.quit);
}

#[tokio::test]
async fn popups_do_not_swallow_source_answers() {
    let (mut app, source) = loaded().await;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:404");
    let effects = press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('E'));
    settle(&mut app, &source, effects).await;
    assert_eq!(app.mode, Mode::Export);
    assert!(matches!(app.pane().total, Some(HitCount::Exact(n)) if n < 1000));
    // Keys that mean something on the main screen do nothing in a popup.
    assert!(update(&mut app, Action::ToggleTail).is_empty());
    assert!(app.pane().tail.is_none());
}

// ---- snapshots -----------------------------------------------------------------------------

#[tokio::test]
async fn snapshot_mark_note_prompt() {
    let (mut app, _) = loaded().await;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('m'));
    type_text(&mut app, "first 5xx");
    insta::assert_snapshot!("mark_prompt", screen(&app));
}

#[tokio::test]
async fn snapshot_marks_list() {
    let (mut app, _) = investigation().await;
    press(&mut app, KeyCode::Char('M'));
    press(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("marks_list", screen(&app));
}

#[tokio::test]
async fn snapshot_export_menu() {
    let (mut app, _) = investigation().await;
    press(&mut app, KeyCode::Char('E'));
    press(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("export_menu", screen(&app));
}

#[tokio::test]
async fn snapshot_saved_search_picker() {
    let (mut app, _) = loaded().await;
    let search = |name: &str, query: &str, origin| logsleuth::ui::saved::SavedSearch {
        name: name.into(),
        query: query.into(),
        language: logsleuth::sources::QueryLanguage::Kql,
        range: Some(RangeSpec::Last(3600 * logsleuth::time::NS_PER_SEC)),
        columns: vec![],
        source: None,
        origin,
    };
    app.investigate.config_searches = vec![search("server errors", "status >= 500", logsleuth::ui::saved::Origin::Config)];
    app.investigate.searches = vec![
        search("HEAD requests", "method:HEAD", logsleuth::ui::saved::Origin::File),
        search("apt clients \x1b[31m", "http_user_agent:*APT*", logsleuth::ui::saved::Origin::File),
    ];
    press(&mut app, KeyCode::Char('o'));
    type_text(&mut app, "s");
    let text = screen(&app);
    assert!(!text.contains('\x1b'), "{text}");
    insta::assert_snapshot!("saved_search_picker", text);
}

/// One payload of the hostile corpus (tests/fixtures/hostile).
#[derive(serde::Deserialize)]
struct Payload {
    name: String,
    payload: String,
}

fn assert_safe(app: &App, name: &str, screen: &str) {
    let buf = render(app);
    for cell in buf.content() {
        let bad: Vec<char> =
            cell.symbol().chars().filter(|&c| logsleuth::text::is_unsafe_char(c) || c.is_control()).collect();
        assert!(bad.is_empty(), "{name}: {screen}: {bad:?}:\n{}", buffer_text(&buf));
    }
}

#[tokio::test]
async fn the_hostile_corpus_stays_text_in_every_popup_and_in_the_report() {
    let corpus: Vec<Payload> = serde_json::from_str(include_str!("fixtures/hostile/payloads.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for p in &corpus {
        let mut fields = Fields::new();
        fields.push("status", Value::Str(p.payload.clone()));
        let record = Record {
            timestamp: Some(now() - 60_000_000_000),
            message: format!("msg {} end", p.payload),
            fields,
            ..Record::default()
        };
        // Payloads hold line breaks too: records as a server source can send them.
        let info = local_info(&format!("file {}", p.payload), logsleuth::formats::LogFormat::AccessCombined);
        let source = Arc::new(RecordSource::new(info, vec![record]));
        let mut app = loaded_on(source.clone()).await;
        press(&mut app, KeyCode::Char('m'));
        update(&mut app, Action::Paste(format!("note {}", p.payload)));
        assert_safe(&app, &p.name, "mark prompt");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.marks.len(), 1, "{}", p.name);
        assert_safe(&app, &p.name, "status after marking");
        press(&mut app, KeyCode::Char('M'));
        assert_safe(&app, &p.name, "marks list");
        press(&mut app, KeyCode::Esc);
        app.investigate.searches = vec![logsleuth::ui::saved::SavedSearch {
            name: format!("name {}", p.payload),
            query: format!("path:\"{}\"", p.payload),
            language: logsleuth::sources::QueryLanguage::Kql,
            range: None,
            columns: vec![p.payload.clone()],
            source: None,
            origin: logsleuth::ui::saved::Origin::File,
        }];
        press(&mut app, KeyCode::Char('o'));
        assert_safe(&app, &p.name, "saved searches");
        press(&mut app, KeyCode::Esc);

        let path = dir.path().join("report.md");
        let effects = export_to(&mut app, 0, &path);
        settle(&mut app, &source, effects).await;
        let report = std::fs::read_to_string(&path).unwrap();
        let bad: Vec<char> = report.chars().filter(|&c| logsleuth::text::is_unsafe_char(c) && c != '\n').collect();
        assert!(bad.is_empty(), "{}: the report holds {bad:?}", p.name);
        assert!(report.contains("msg "), "{}", p.name);
    }
}
