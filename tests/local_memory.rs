//! Issue 21: endless input. Data that arrives while following (appended to a file, read from
//! stdin) is indexed like data read at open, its text left in the file (stdin: in a private
//! spool file), and a memory budget lets the oldest lines go and says so.

mod support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use logsleuth::model::TimeRange;
use logsleuth::sources::local::{LocalOptions, LocalSource};
use logsleuth::sources::{HistogramRequest, Query, SearchRequest, Source, Split, TailRequest, TopRequest};

fn nginx_lines() -> Vec<String> {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Search total, top statuses and the histogram of a query, to compare two sources.
async fn answers(source: &LocalSource, kql: &str) -> (Option<logsleuth::sources::HitCount>, String, String, Vec<String>) {
    let search = source
        .search(SearchRequest { query: Query::kql(kql), range: TimeRange::ALL, limit: 50, cursor: None })
        .await
        .unwrap();
    let top = source
        .top(TopRequest { query: Query::kql(kql), range: TimeRange::ALL, field: "status".into(), size: 10 })
        .await
        .unwrap();
    let hist = source
        .histogram(HistogramRequest {
            query: Query::kql(kql),
            range: TimeRange::ALL,
            interval: Some(3600 * 1_000_000_000),
            target_buckets: 50,
            split: Split::StatusClass,
        })
        .await
        .unwrap();
    let messages = search.records.into_iter().map(|r| r.message).collect();
    (search.total, format!("{:?}", top.buckets), format!("{:?}", hist.buckets), messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followed_data_answers_like_the_file_opened_whole() {
    let lines = nginx_lines();
    let half = lines.len() / 2;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    std::fs::write(&path, lines[..half].join("\n") + "\n").unwrap();
    let followed = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    followed.wait_indexed().await;
    let _rx = followed.tail(TailRequest { query: Query::default(), since: None }).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    for chunk in lines[half..].chunks(97) {
        f.write_all((chunk.join("\n") + "\n").as_bytes()).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while followed.line_count() < lines.len() {
        assert!(Instant::now() < deadline, "{} of {} lines", followed.line_count(), lines.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let whole = LocalSource::open(std::slice::from_ref(&path), LocalOptions::default()).unwrap();
    whole.wait_indexed().await;
    for kql in ["", "status >= 400", "method:GET and not status:200"] {
        assert_eq!(answers(&followed, kql).await, answers(&whole, kql).await, "query {kql:?}");
    }
    // The appended text is read from the file: the index and nothing of the text is held.
    let appended: usize = lines[half..].iter().map(|l| l.len() + 1).sum();
    let held = followed.memory_used() as usize - whole.memory_used() as usize / lines.len() * half;
    assert!(held < appended / 4, "{held} bytes held for {appended} appended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_lets_the_oldest_lines_go_and_says_so() {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let source = LocalSource::from_reader("stdin", reader, LocalOptions::default()).unwrap();
    let budget = 2u64 << 20;
    source.set_max_memory(budget);
    let n = 200_000;
    let producer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(&mut writer);
        for i in 0..n {
            writeln!(out, "2024-01-01T00:{:02}:{:02}.{:06}Z INFO request {i:07} served in 12ms by worker-7", i / 60000 % 60, i / 1000 % 60, i % 1000).unwrap();
        }
    });
    producer.join().unwrap();
    source.wait_indexed().await;
    let kept = source.line_count();
    assert!(kept < n && kept > 1000, "{kept} lines kept");
    assert!(source.memory_used() <= budget, "{} bytes used", source.memory_used());
    let note = source.memory_note().expect("a note");
    assert!(note.contains("let go") && note.contains("complete since 2024-01-01T00:"), "{note}");
    assert_eq!(source.info().warning.as_deref(), Some(note.as_str()), "the status line shows it");
    let page = source
        .search(SearchRequest { query: Query::default(), range: TimeRange::ALL, limit: 5, cursor: None })
        .await
        .unwrap();
    assert_eq!(page.total, Some(logsleuth::sources::HitCount::Exact(kept as u64)));
    assert!(page.records[0].message.contains(&format!("request {:07}", n - 1)), "the newest line is kept");
    assert!(page.warnings.iter().any(|w| w.contains("let go")), "{:?}", page.warnings);
    let oldest = source
        .search(SearchRequest { query: Query::kql("request"), range: TimeRange::ALL, limit: 1, cursor: None })
        .await
        .unwrap();
    assert!(!oldest.records.is_empty());
    let top = source
        .top(TopRequest { query: Query::default(), range: TimeRange::ALL, field: "level".into(), size: 5 })
        .await
        .unwrap();
    assert!(top.partial && top.note.as_deref().is_some_and(|n| n.contains("let go")), "reports say so: {:?}", top.note);
}

/// The screen and the exports of a pane whose lines the budget let go say so: the status
/// line shows the budget's note, and an NDJSON export's message says the file is not all the
/// query matched (the format itself has no place for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_and_the_exports_say_what_the_budget_let_go() {
    use crossterm::event::{KeyCode, KeyModifiers};
    use logsleuth::ui::history::History;
    use logsleuth::ui::{App, Theme, update};
    use logsleuth_testing::{buffer_text, press, press_with, render, settle, type_text};

    let (reader, mut writer) = std::io::pipe().unwrap();
    let source = std::sync::Arc::new(LocalSource::from_reader("stdin", reader, LocalOptions::default()).unwrap());
    source.set_max_memory(1 << 20);
    let producer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(&mut writer);
        for i in 0..100_000 {
            writeln!(out, "2024-01-01T00:{:02}:{:02}.{:06}Z INFO request {i:07} served in 12ms by worker-7", i / 60000 % 60, i / 1000 % 60, i % 1000).unwrap();
        }
    });
    producer.join().unwrap();
    source.wait_indexed().await;
    let note = source.memory_note().expect("lines were let go");
    let mut app = App::new(source.info(), None, None, Theme::default(), History::default(), logsleuth::time::now_nanos());
    app.viewport = ratatui::layout::Rect::new(0, 0, 160, 30);
    let effects = update::start(&mut app);
    settle(&mut app, &source, effects).await;
    let screen = buffer_text(&render(&app));
    let status = screen.lines().filter(|l| l.contains("memory budget 1.0 MiB")).collect::<Vec<_>>();
    assert!(!status.is_empty() && status[0].contains("let go"), "the status line says so:\n{screen}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    press(&mut app, KeyCode::Char('E'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    press_with(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut app, path.to_str().unwrap());
    let effects = press(&mut app, KeyCode::Enter);
    settle(&mut app, &source, effects).await;
    let message = app.message.clone().unwrap_or_default();
    assert!(message.starts_with("wrote ") && message.contains(&format!("not all the query matched: {note}")), "{message}");
    assert!(std::fs::read_to_string(&path).unwrap().lines().count() > 0);
}

/// The `/proc/PID/fd` entries of `pid` that point into `dir`.
fn fds_into(pid: u32, dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.starts_with(dir)))
        .map(|e| e.path())
        .collect()
}

#[test]
fn the_spool_is_owner_only_and_gone_on_exit_and_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    for signal in [None, Some(libc::SIGTERM)] {
        let runtime = tempfile::tempdir().unwrap();
        std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
            .args(["tail", "-", "--output", "raw"])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{{\"level\":\"info\",\"msg\":\"hello\"}}").unwrap();
        let start = Instant::now();
        let spool = loop {
            if let Some(fd) = fds_into(child.id(), runtime.path()).pop() {
                break fd;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no spool file under {:?}", runtime.path());
            std::thread::sleep(Duration::from_millis(20));
        };
        let mode = std::fs::metadata(&spool).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
        // It has no name anyone could open: nothing to leave behind however the process ends.
        assert_eq!(std::fs::read_dir(runtime.path()).unwrap().count(), 0);
        match signal {
            None => drop(stdin),
            Some(sig) => {
                // SAFETY: signalling our own child.
                unsafe { libc::kill(child.id() as i32, sig) };
            }
        }
        let status = child.wait().unwrap();
        assert!(signal.is_some() || status.success(), "{status:?}");
        assert_eq!(std::fs::read_dir(runtime.path()).unwrap().count(), 0, "nothing left in the runtime dir");
    }
}

#[test]
fn stdin_from_a_slow_producer_is_live_on_screen_with_its_json_columns() {
    use support::pty::Pty;
    let home = tempfile::tempdir().unwrap();
    // Two levels, so the level column is not one the table leaves out as the same on every
    // line (issue 20).
    let producer = "i=0; while [ $i -lt 600 ]; do l=warn; [ $((i % 2)) -eq 0 ] && l=info; printf '{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"tick %s\"}\\n' $(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) $l $i; i=$((i+1)); sleep 0.1; done";
    // The environment of `support::pty::command`, with the producer piped into `logsleuth -`.
    let bin = env!("CARGO_BIN_EXE_logsleuth");
    let mut cmd = portable_pty::CommandBuilder::new("sh");
    cmd.args(["-c", &format!("({producer}) | '{bin}' -")]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home.path());
    cmd.env("XDG_STATE_HOME", home.path().join("state"));
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env_remove("NO_COLOR");
    let started = Instant::now();
    let app = Pty::spawn(cmd, 30, 120);
    let screen = app.wait_screen("tick 0", Duration::from_secs(5));
    let first = started.elapsed();
    // Live from the first page on (the producer says nothing for 100 ms after it).
    assert!(screen.contains("LIVE"), "live by default:\n{screen}");
    // Later lines keep coming without a key.
    let screen = app.wait_screen("tick 20", Duration::from_secs(5));
    // Level and message are columns, not the raw JSON.
    assert!(!screen.contains("\"msg\""), "{screen}");
    assert!(screen.contains("warn"), "{screen}");
    // The histogram grows with the stream: the range's open end was pinned before stdin
    // brought a line, and a live tail lets it go (its bars stayed empty).
    support::pty::wait_until("bars on the histogram", Duration::from_secs(10), || app.screen().contains('█'));
    eprintln!("first line on screen after {first:?}");
    drop(app);
}
