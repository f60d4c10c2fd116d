//! Terminal safety of the CLI: `query` (ndjson, table, raw), `top`, `histogram` and error text
//! run in a pseudo-terminal over files full of terminal-injection payloads
//! (tests/fixtures/hostile/) and invalid UTF-8; nothing they print may act on the terminal.

#![cfg(unix)]

mod support;

use std::time::Duration;

use logsleuth::text::is_unsafe_char;
use support::pty::{self, Pty};

#[derive(serde::Deserialize)]
struct Payload {
    payload: String,
}

/// A JSON-lines log with every payload as level, message, a field name and a field value.
fn hostile_json_log(dir: &std::path::Path) -> std::path::PathBuf {
    let corpus: Vec<Payload> = serde_json::from_str(include_str!("fixtures/hostile/payloads.json")).unwrap();
    let mut text = String::new();
    for (i, p) in corpus.iter().enumerate() {
        let mut line = serde_json::Map::new();
        line.insert("time".into(), format!("2015-05-17T16:{:02}:00Z", i % 60).into());
        line.insert("level".into(), p.payload.clone().into());
        line.insert("msg".into(), format!("m{i} {}", p.payload).into());
        line.insert(format!("k{}", p.payload), p.payload.clone().into());
        text.push_str(&serde_json::Value::Object(line).to_string());
        text.push('\n');
    }
    let path = dir.join("hostile.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary in a pty and returns everything it wrote (stdout and stderr) and its exit code.
fn run_in_pty(args: &[&str]) -> (String, u32) {
    let home = tempfile::tempdir().unwrap();
    let mut run = Pty::spawn(pty::command(args, home.path()), 50, 200);
    let status = run.wait_exit(Duration::from_secs(30));
    (run.close(), status.exit_code())
}

/// The output holds no control character but the line ends the pty itself adds.
fn assert_terminal_safe(args: &[&str], out: &str) {
    for (n, line) in out.split("\r\n").enumerate() {
        let bad: Vec<char> = line.chars().filter(|&c| is_unsafe_char(c) || (c.is_control() && c != '\t')).collect();
        assert!(bad.is_empty(), "logsleuth {args:?} line {n} sends {bad:?}: {line:?}");
    }
}

#[test]
fn query_top_histogram_and_errors_print_no_control_sequence_to_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = hostile_json_log(dir.path());
    let log = log.to_str().unwrap();
    let raw = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hostile/raw_bytes.log");
    let runs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["query", log, "--output", "raw"], "m0"),
        (vec!["query", log, "--output", "table"], "m0"),
        (vec!["query", log], "m0"),
        (vec!["top", log, "--field", "level"], "count"),
        (vec!["top", log, "--field", "level", "--output", "json"], "level"),
        (vec!["histogram", log, "--split-by", "level"], "2015"),
        (vec!["query", raw, "--output", "raw"], "invalid"),
        (vec!["query", raw, "--output", "table"], "invalid"),
        (vec!["query", raw], "invalid"),
        // Errors quoting hostile input: a KQL syntax error, a missing file.
        (vec!["query", log, "--kql", "msg:\"\u{1b}]0;t\u{7}"], "logsleuth"),
        (vec!["query", "/nonexistent/\u{1b}[2J\u{9b}31m"], "logsleuth"),
    ];
    for (args, expect) in runs {
        let (out, _) = run_in_pty(&args);
        assert!(out.contains(expect), "logsleuth {args:?} printed {out:?}");
        assert_terminal_safe(&args, &out);
    }
}

#[test]
fn ndjson_to_a_pipe_keeps_the_data_exactly_but_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let log = hostile_json_log(dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(["query", log.to_str().unwrap(), "--limit", "1000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.chars().any(|c| is_unsafe_char(c) && c != '\n'), "{text:?}");
    // The values are intact once decoded.
    let corpus: Vec<Payload> = serde_json::from_str(include_str!("fixtures/hostile/payloads.json")).unwrap();
    let messages: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        // The message is the original JSON line; its `msg` is the payload.
        .filter_map(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter_map(|v| v.get("msg").and_then(|m| m.as_str()).map(str::to_string))
        .collect();
    for (i, p) in corpus.iter().enumerate() {
        let want = format!("m{i} {}", p.payload);
        assert!(messages.contains(&want), "{want:?} not in {messages:?}");
    }
}
