//! Terminal safety of every screen: each payload of the hostile corpus
//! (tests/fixtures/hostile/payloads.json) is put into log messages, field names, field values,
//! the source description and warning, histogram split labels, top-N chart labels, server error
//! text, tail status text and pasted query text; every screen is rendered into a TestBackend and
//! no cell may hold a control character (C0, C1, DEL, ESC) or a bidi override. The escaped form
//! must be visible, so the text was drawn and not silently dropped.

use std::sync::Arc;

use crossterm::event::KeyCode;
use logsleuth::model::{Fields, Nanos, Record, Value};
use logsleuth::sources::{FieldRoles, Source, SourceError, TailEvent};
use logsleuth::text::is_unsafe_char;
use logsleuth::ui::app::Mode;
use logsleuth::ui::history::History;
use logsleuth_testing::{RecordSource, buffer_text, local_info, press, render, settle};
use logsleuth::ui::{Action, App, Theme, update};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// One payload of the corpus.
#[derive(serde::Deserialize)]
struct Payload {
    name: String,
    payload: String,
}

fn corpus() -> Vec<Payload> {
    let text = include_str!("fixtures/hostile/payloads.json");
    serde_json::from_str(text).expect("corpus is JSON")
}

fn now() -> Nanos {
    logsleuth::time::parse_absolute("2015-05-17T16:10:00Z", None).unwrap()
}

/// The field whose name is itself hostile.
const HOSTILE_FIELD_PREFIX: &str = "k";

/// Records carrying the payload everywhere a record can.
fn hostile_records(payload: &str) -> Vec<Record> {
    (0..6)
        .map(|i| {
            let mut fields = Fields::new();
            fields.push("level", Value::Str(format!("{payload}{}", i % 2)));
            fields.push("path", Value::Str(format!("/{payload}/{i}")));
            fields.push(format!("{HOSTILE_FIELD_PREFIX}{payload}"), Value::Str(payload.to_string()));
            fields.push("nested", Value::Object({
                let mut inner = Fields::new();
                inner.push(payload, Value::Array(vec![Value::Str(payload.to_string())]));
                inner
            }));
            let mut labels = Fields::new();
            labels.push("job", Value::Str(payload.to_string()));
            Record {
                timestamp: Some(now() - (i + 1) * 60_000_000_000),
                message: format!("msg {i} {payload} end"),
                fields,
                labels: labels.into(),
                ..Record::default()
            }
        })
        .collect()
}

/// Hostile records as a server source could send them (labels, nested objects, any text).
fn hostile_source(payload: &str) -> Arc<RecordSource> {
    let mut info = local_info(&format!("file {payload}"), logsleuth::formats::LogFormat::AccessCombined);
    info.roles = FieldRoles { level: Some("level".into()), path: Some("path".into()), ..FieldRoles::default() };
    info.default_columns = vec!["level".into(), format!("{HOSTILE_FIELD_PREFIX}{payload}"), "message".into()];
    info.warning = Some(format!("warning {payload}"));
    Arc::new(RecordSource::new(info, hostile_records(payload)))
}

/// Every cell of the buffer is safe to send to a terminal.
fn assert_safe(buf: &Buffer, name: &str, screen: &str) {
    for (i, cell) in buf.content().iter().enumerate() {
        let bad: Vec<char> = cell.symbol().chars().filter(|&c| is_unsafe_char(c) || c.is_control()).collect();
        assert!(bad.is_empty(), "{name}: {screen}: cell {i} holds {bad:?}:\n{}", buffer_text(buf));
    }
}

/// Whether a payload has anything that must be escaped (otherwise it is shown as is).
fn needs_escaping(payload: &str) -> bool {
    payload.chars().any(is_unsafe_char)
}

async fn check_payload(p: &Payload) {
    let source = hostile_source(&p.payload);
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), now());
    app.viewport = Rect::new(0, 0, 160, 45);
    let effects = logsleuth::ui::update::start(&mut app);
    settle(&mut app, &source, effects).await;
    assert_eq!(app.panes[0].records.len(), 6, "{}", p.name);

    // Main screen: table, sidebar, histogram (split by the hostile level), status line.
    let buf = render(&app);
    assert_safe(&buf, &p.name, "main");
    let text = buffer_text(&buf);
    assert!(text.contains("msg 0"), "{}: the table shows the messages:\n{text}", p.name);
    if needs_escaping(&p.payload) {
        assert!(text.contains('\\'), "{}: the escaped form is shown:\n{text}", p.name);
    }

    // Fields sidebar focused.
    press(&mut app, KeyCode::Char('f'));
    assert_safe(&render(&app), &p.name, "fields");
    press(&mut app, KeyCode::Esc);

    // Detail view, fields then JSON.
    app.mode = Mode::Normal;
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Detail, "{}", p.name);
    assert_safe(&render(&app), &p.name, "detail fields");
    update(&mut app, Action::ToggleDetailView);
    assert_safe(&render(&app), &p.name, "detail json");
    press(&mut app, KeyCode::Esc);
    app.mode = Mode::Normal;

    // Top-N charts over the hostile path and level values.
    let effects = press(&mut app, KeyCode::Char('c'));
    settle(&mut app, &source, effects).await;
    assert_eq!(app.mode, Mode::Charts, "{}", p.name);
    let buf = render(&app);
    assert_safe(&buf, &p.name, "charts");
    press(&mut app, KeyCode::Char('q'));
    app.mode = Mode::Normal;

    // A server error quoting the payload, in the status line / pane.
    let generation = app.panes[0].generation;
    update(&mut app, Action::SearchDone {
        pane: 0,
        generation,
        append: false,
        result: Err(SourceError::Server { status: 500, message: format!("boom {}", p.payload) }),
    });
    let buf = render(&app);
    assert_safe(&buf, &p.name, "search error");
    assert!(buffer_text(&buf).contains("boom"), "{}: the error is shown:\n{}", p.name, buffer_text(&buf));

    // Live tail: a hostile status and a hostile line, then a failure.
    press(&mut app, KeyCode::Char('t'));
    let tail_generation = app.panes[0].tail_generation;
    let tail = |event| Action::Tail { pane: 0, generation: tail_generation, event };
    update(&mut app, tail(TailEvent::Status(format!("status {}", p.payload))));
    update(&mut app, tail(TailEvent::Records(hostile_records(&p.payload)[..1].to_vec())));
    assert_safe(&render(&app), &p.name, "tail");
    update(&mut app, tail(TailEvent::Failed(SourceError::Decode(format!("frame {}", p.payload)))));
    assert_safe(&render(&app), &p.name, "tail failed");

    // Pasted into the query bar (with a syntax error the message quotes it).
    press(&mut app, KeyCode::Char('/'));
    update(&mut app, Action::Paste(format!("path:\"{}", p.payload)));
    assert_safe(&render(&app), &p.name, "query bar");
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    assert_safe(&render(&app), &p.name, "query error");
}

#[tokio::test]
async fn no_payload_reaches_the_screen_as_a_control_sequence() {
    let corpus = corpus();
    assert!(corpus.len() >= 30);
    for p in &corpus {
        check_payload(p).await;
    }
}

#[tokio::test]
async fn every_screen_survives_the_whole_corpus_at_once() {
    let all: String = corpus().iter().map(|p| p.payload.as_str()).collect();
    check_payload(&Payload { name: "all".into(), payload: all }).await;
}
