//! "What changed?" end to end on the shared nginx log with a planted incident: ten minutes of
//! 502s from a new client address and user agent, written by the test into a second file next
//! to the real log. `compare` must rank the planted address, agent and status first,
//! `histogram` must flag the burst's bucket as a spike and no other, and `patterns` must show
//! the burst's template (new in the window).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

// The burst (one line every two seconds for ten minutes), shared with the replayed backends.
use support::replay_eval::{BURST_AGENT, BURST_IP, BURST_LINES, burst_lines};

fn nginx() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz").display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(args).output().expect("binary runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// The burst, 2015-05-20 12:00:00 – 12:09:58 UTC, in nginx's combined format, as a file.
fn burst_file(dir: &Path) -> String {
    let path = dir.join("burst.log");
    std::fs::write(&path, burst_lines().join("\n") + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn compare_ranks_the_planted_address_agent_and_status_first() {
    let dir = tempfile::tempdir().unwrap();
    let burst = burst_file(dir.path());
    let v = json(&run(&[
        "compare",
        &nginx(),
        &burst,
        "--window",
        "2015-05-20T12:00:00Z..2015-05-20T12:10:00Z",
        "--baseline",
        "2015-05-20T00:00:00Z..2015-05-20T12:00:00Z",
        "--output",
        "json",
    ]));
    assert_eq!(v["window"]["from"], "2015-05-20T12:00:00Z");
    assert_eq!(v["baseline"]["to"], "2015-05-20T12:00:00Z");
    // The burst and nginx's own 115 lines of that hour (all of an hour's lines are in its minute :05).
    assert_eq!(v["window"]["total"], BURST_LINES as u64 + 115);
    let first = |field: &str| -> Value {
        let f = v["fields"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap_or_else(|| panic!("{field} in {v}"));
        f["changes"][0].clone()
    };
    let status = first("status");
    assert_eq!(status["value"], "502");
    assert_eq!(status["window"], BURST_LINES as u64);
    assert_eq!(status["baseline"], 0);
    assert_eq!(status["new"], true);
    let ip = first("remote_addr");
    assert_eq!(ip["value"], BURST_IP);
    assert_eq!(ip["new"], true);
    let agent = first("http_user_agent");
    assert_eq!(agent["value"], BURST_AGENT);
    assert_eq!(agent["window"], BURST_LINES as u64);
    // Scores rank: the planted value's score is above every other value's of its field.
    for f in v["fields"].as_array().unwrap() {
        let scores: Vec<f64> = f["changes"].as_array().unwrap().iter().map(|c| c["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{f}");
    }
    // The burst's template is the first pattern of the window, and new.
    let p = &v["patterns"][0];
    assert!(p["pattern"].as_str().unwrap().contains("POST /api/checkout"), "{p}");
    assert_eq!(p["new"], true);
    assert_eq!(p["window"], BURST_LINES as u64);
}

#[test]
fn histogram_flags_the_burst_as_the_only_spike() {
    let dir = tempfile::tempdir().unwrap();
    let burst = burst_file(dir.path());
    let v = json(&run(&[
        "histogram",
        &nginx(),
        &burst,
        "--from",
        "2015-05-20T00:00:00Z",
        "--to",
        "2015-05-21T00:00:00Z",
        "--interval",
        "10m",
        "--output",
        "json",
    ]));
    let buckets = v["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 144);
    // This log is written in bursts (every line of an hour falls in its minute :05), so most
    // 10-minute buckets are empty: the busy ones are not spikes, the burst's bucket is.
    let spikes: Vec<&str> = buckets.iter().filter(|b| b["spike"] == true).map(|b| b["start"].as_str().unwrap()).collect();
    assert_eq!(spikes, ["2015-05-20T12:00:00Z"]);
    assert!(buckets.iter().filter(|b| b["count"].as_u64().unwrap() > 100).count() > 20);
    assert!(buckets.iter().all(|b| b["drop"] == false));
    // Without the burst the same day has no spike.
    let v = json(&run(&[
        "histogram",
        &nginx(),
        "--from",
        "2015-05-20T00:00:00Z",
        "--to",
        "2015-05-21T00:00:00Z",
        "--interval",
        "10m",
        "--output",
        "json",
    ]));
    assert!(v["buckets"].as_array().unwrap().iter().all(|b| b["spike"] == false), "{v}");
}

#[test]
fn histogram_flags_an_app_that_stopped_logging_as_a_drop() {
    // The nginx log with two hours cut out of one day: those buckets are drops, not spikes.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for m in 0..(24 * 60) {
        let (h, min) = (m / 60, m % 60);
        if (10..12).contains(&h) {
            continue;
        }
        for s in 0..3 {
            text.push_str(&format!("10.0.0.{s} - - [20/May/2015:{h:02}:{min:02}:{:02} +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n", s * 20));
        }
    }
    let path = dir.path().join("stopped.log");
    std::fs::write(&path, text).unwrap();
    let v = json(&run(&["histogram", path.to_str().unwrap(), "--interval", "30m", "--output", "json"]));
    let drops: Vec<&str> =
        v["buckets"].as_array().unwrap().iter().filter(|b| b["drop"] == true).map(|b| b["start"].as_str().unwrap()).collect();
    assert_eq!(drops, ["2015-05-20T10:00:00Z", "2015-05-20T10:30:00Z", "2015-05-20T11:00:00Z", "2015-05-20T11:30:00Z"]);
    assert!(v["buckets"].as_array().unwrap().iter().all(|b| b["spike"] == false));
}

#[test]
fn patterns_shows_the_bursts_template_with_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let burst = burst_file(dir.path());
    // Over the whole file every line is counted once.
    let v = json(&run(&["patterns", &nginx(), &burst, "--size", "1000", "--output", "json"]));
    assert_eq!(v["total"], 51462 + BURST_LINES as u64);
    assert_eq!(v["exact"], true);
    assert_eq!(v["method"], "drain");
    let sum: u64 = v["patterns"].as_array().unwrap().iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, 51462 + BURST_LINES as u64);
    // Over the burst's ten minutes, its template comes first, with exactly its lines.
    let v = json(&run(&[
        "patterns",
        &nginx(),
        &burst,
        "--from",
        "2015-05-20T12:00:00Z",
        "--to",
        "2015-05-20T12:10:00Z",
        "--output",
        "json",
    ]));
    assert_eq!(v["exact"], true);
    let burst = &v["patterns"][0];
    assert_eq!(burst["pattern"], r#"<_> - - [<_> <_>] "POST /api/checkout HTTP/1.1" <_> <_> "-" "EvilBot/9.9""#);
    assert_eq!(burst["count"], BURST_LINES as u64);
    assert!(burst["example"].as_str().unwrap().starts_with(BURST_IP));
    let sum: u64 = burst["samples"].as_array().unwrap().iter().map(|s| s[1].as_u64().unwrap()).sum();
    assert_eq!(sum, BURST_LINES as u64);
}

/// A split series that spikes while the total does not: 60 502s among the 115 lines nginx logs
/// at 12:05 (175 lines, not twice a busy bucket) flag their bucket, by the `5xx` series, when the
/// histogram is split by status class; unsplit, nothing is flagged.
#[test]
fn histogram_flags_a_5xx_series_that_spikes_inside_a_normal_total() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!(
            "{BURST_IP} - - [20/May/2015:12:05:{:02} +0000] \"POST /api/checkout HTTP/1.1\" 502 157 \"-\" \"{BURST_AGENT}\"\n",
            i % 60
        ));
    }
    let burst = dir.path().join("small.log");
    std::fs::write(&burst, text).unwrap();
    let burst = burst.display().to_string();
    let histogram = |split: &[&str]| {
        let mut args = vec!["histogram", &nginx(), &burst, "--from", "2015-05-20T00:00:00Z", "--to", "2015-05-21T00:00:00Z", "--interval", "10m", "--output", "json"]
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        args.extend(split.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        json(&run(&args))
    };
    let v = histogram(&["--split-by", "status_class"]);
    let spikes: Vec<(&str, &Value)> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["spike"] == true)
        .map(|b| (b["start"].as_str().unwrap(), &b["spike_series"]))
        .collect();
    assert_eq!(spikes, [("2015-05-20T12:00:00Z", &serde_json::json!(["5xx"]))], "{v}");
    let v = histogram(&[]);
    assert!(v["buckets"].as_array().unwrap().iter().all(|b| b["spike"] == false), "unsplit, the total alone: {v}");
}
