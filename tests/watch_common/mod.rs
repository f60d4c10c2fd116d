//! Helpers of the watch tests: real nginx lines re-stamped to now, a followed file being
//! appended to, and the `logsleuth watch` binary with its stdout read line by line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// Real nginx lines (tests/fixtures/ui/nginx_sample.log, from elastic/examples).
pub fn sample_lines() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log")).unwrap();
    text.lines().map(str::to_string).collect()
}

/// Sample line `i` re-stamped to now, with its status replaced: the sample has no 5xx, so
/// the 5xx lines are its own lines with the status set.
pub fn line_now(i: usize, status: u16) -> String {
    let lines = sample_lines();
    let line = &lines[i % lines.len()];
    let stamp = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000").to_string();
    let open = line.find('[').unwrap();
    let close = line.find(']').unwrap();
    let mut out = format!("{}[{stamp}]{}", &line[..open], &line[close + 1..]);
    // The status follows the request's closing quote: `" 304 0 "-"`.
    let req_end = out[close..].find("\" ").map(|p| p + close).unwrap();
    let after = &out[req_end + 2..];
    let status_end = after.find(' ').unwrap();
    out = format!("{}\" {status}{}", &out[..req_end], &after[status_end..]);
    out
}

/// A log file holding the first `n` sample lines as they are (2015: outside any window).
pub fn old_log(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("access.log");
    let mut text = sample_lines()[..n].join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

/// Appends lines to a file, as a web server writes them.
pub fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
}

/// A running `logsleuth watch` with its stdout lines arriving on a channel.
pub struct Running {
    pub child: Child,
    pub lines: Receiver<String>,
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Running {
    /// Starts the binary with `args`.
    pub fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
            .args(args)
            .env_remove("LOGSLEUTH_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent-logsleuth-test")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run logsleuth");
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Running { child, lines, stderr }
    }

    /// The next event, parsed, within `timeout`.
    pub fn event(&self, timeout: Duration) -> Option<serde_json::Value> {
        self.lines.recv_timeout(timeout).ok().map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")))
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A webhook receiver of the test's own: records each POST body.
pub async fn receiver() -> (String, Arc<Mutex<Vec<Json>>>) {
    let got: Arc<Mutex<Vec<Json>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Json::Null));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}
