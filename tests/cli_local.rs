//! The binary's non-interactive subcommands on local files: output contracts, reference
//! counts, filtering, stdin, exit statuses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local").join(name).display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(args).output().expect("binary runs")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn ndjson(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn buckets(v: &Value) -> Vec<(String, u64)> {
    v["buckets"].as_array().unwrap().iter().map(|b| (b["value"].as_str().unwrap().to_string(), b["count"].as_u64().unwrap())).collect()
}

#[test]
fn top_status_on_nginx_is_exactly_the_reference() {
    let v = stdout_json(&run(&["top", &fixture("nginx_logs.gz"), "--field", "status", "--output", "json"]));
    assert_eq!(
        v,
        json!({"field":"status","total":51462,"other":0,"exact":true,"buckets":[
            {"value":"404","count":33876},{"value":"304","count":13330},{"value":"200","count":4028},
            {"value":"206","count":186},{"value":"403","count":38},{"value":"416","count":4}]})
    );
}

/// Issue 14: `--distinct` adds the field's distinct count (counted in files); without it the
/// JSON is as before.
#[test]
fn top_distinct_counts_the_values_of_the_whole_file() {
    let v = stdout_json(&run(&["top", &fixture("nginx_logs.gz"), "--field", "status", "--distinct", "--output", "json"]));
    assert_eq!((v["distinct"].as_u64(), v["distinct_estimated"].as_bool()), (Some(6), Some(false)));
    let out = run(&["top", &fixture("apache_logs.gz"), "--field", "status", "--size", "2", "--distinct"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("total 10000, other 429\ndistinct 8\n"), "{text}");
}

#[test]
fn top_client_ips_and_agents_on_nginx() {
    let v = stdout_json(&run(&["top", &fixture("nginx_logs.gz"), "--field", "remote_addr", "--output", "json"]));
    let b = buckets(&v);
    assert_eq!(b.len(), 10);
    assert_eq!(b[0], ("216.46.173.126".into(), 2350));
    assert_eq!(b[8], ("79.136.114.202".into(), 628));
    assert_eq!(b[9], ("54.207.57.55".into(), 532));
    assert_eq!(v["total"], 51462);
    assert_eq!(v["other"].as_u64().unwrap() + b.iter().map(|x| x.1).sum::<u64>(), 51462);
    let v = stdout_json(&run(&["top", &fixture("nginx_logs.gz"), "--field", "http_user_agent", "--size", "5", "--output", "json"]));
    assert_eq!(
        buckets(&v),
        vec![
            ("Debian APT-HTTP/1.3 (1.0.1ubuntu2)".to_string(), 11830),
            ("Debian APT-HTTP/1.3 (0.9.7.9)".to_string(), 11365),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)".to_string(), 6719),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.16)".to_string(), 5740),
            ("Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.22)".to_string(), 3855),
        ]
    );
}

#[test]
fn top_on_apache_leaves_the_malformed_line_out() {
    let v = stdout_json(&run(&["top", &fixture("apache_logs.gz"), "--field", "status", "--output", "json"]));
    assert_eq!(v["total"], 10000, "the malformed line is an event, just without status");
    assert_eq!(buckets(&v)[0], ("200".into(), 9125));
    assert_eq!(buckets(&v).iter().map(|b| b.1).sum::<u64>(), 9999);
    let v = stdout_json(&run(&["top", &fixture("apache_logs.gz"), "--field", "remote_addr", "--output", "json"]));
    assert_eq!(buckets(&v)[..3], [("66.249.73.135".into(), 482), ("46.105.14.53".into(), 364), ("130.237.218.86".into(), 357)]);
}

#[test]
fn top_table_output_for_people() {
    let out = run(&["top", &fixture("apache_logs.gz"), "--field", "status", "--size", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["status  count", "200     9125", "304     445", "total 10000, other 429"]);
    // `other` counts events with a value outside the buckets (ES sum_other_doc_count): the
    // malformed line has no status at all.
}

#[test]
fn kql_filters_top_and_query() {
    let v = stdout_json(&run(&["top", &fixture("nginx_logs.gz"), "--field", "status", "--kql", "status >= 400", "--output", "json"]));
    assert_eq!(v["total"], 33876 + 38 + 4);
    let v = stdout_json(&run(&[
        "top",
        &fixture("nginx_logs.gz"),
        "--field",
        "remote_addr",
        "--kql",
        "http_user_agent:\"Debian APT-HTTP/1.3 (1.0.1ubuntu2)\" and status:404",
        "--output",
        "json",
    ]));
    assert!(v["total"].as_u64().unwrap() > 0 && v["total"].as_u64().unwrap() < 11830);
    let rows = ndjson(&run(&["query", &fixture("apache_logs.gz"), "--kql", "status:500", "--limit", "10"]));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["status"] == 500));
    let rows = ndjson(&run(&["query", &fixture("apache_logs.gz"), "--kql", "unparsed:true"]));
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["message"].as_str().unwrap().starts_with("46.118.127.106 "));
}

#[test]
fn histogram_json_contract() {
    let v = stdout_json(&run(&[
        "histogram",
        &fixture("nginx_logs.gz"),
        "--interval",
        "1d",
        "--split-by",
        "status_class",
        "--output",
        "json",
    ]));
    assert_eq!(v["interval"], "1d");
    let b = v["buckets"].as_array().unwrap();
    assert_eq!(b.len(), 19);
    assert_eq!(b[0]["start"], "2015-05-17T00:00:00Z");
    assert_eq!(b[18]["start"], "2015-06-04T00:00:00Z");
    assert_eq!(b.iter().map(|x| x["count"].as_u64().unwrap()).sum::<u64>(), 51462);
    assert_eq!(b[0].as_object().unwrap().keys().collect::<Vec<_>>(), ["start", "count", "split", "spike", "drop"]);
    let split = b[0]["split"].as_object().unwrap();
    assert_eq!(split.keys().collect::<Vec<_>>(), ["2xx", "3xx", "4xx"]);
    assert_eq!(split.values().map(|x| x.as_u64().unwrap()).sum::<u64>(), b[0]["count"].as_u64().unwrap());
    // No interval: one is chosen from the span; every bucket is aligned to it.
    let v = stdout_json(&run(&["histogram", &fixture("nginx_logs.gz"), "--output", "json"]));
    assert_eq!(v["interval"], "12h");
    assert_eq!(v["exact"], true, "a file is counted exactly");
    assert!(v["buckets"].as_array().unwrap().iter().all(|b| b["split"] == json!({})));
}

#[test]
fn query_outputs_newest_first() {
    let rows = ndjson(&run(&["query", &fixture("nginx_logs.gz"), "--limit", "3"]));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["@timestamp"], "2015-06-04T07:06:52Z");
    assert_eq!(rows[0]["status"], 200);
    assert_eq!(rows[0]["body_bytes_sent"], 490);
    assert!(rows[0]["message"].as_str().unwrap().contains("[04/Jun/2015:07:06:52 +0000]"));
    assert!(rows[0]["file"].as_str().unwrap().ends_with("nginx_logs.gz"));
    let times: Vec<&str> = rows.iter().map(|r| r["@timestamp"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    let out = run(&["query", &fixture("nginx_logs.gz"), "--limit", "2", "--output", "raw"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.starts_with("79.136.114.202 - - [04/Jun/2015:07:06:52 +0000] \"GET /downloads/product_1 HTTP/1.1\" 200 490"));
    let out = run(&["query", &fixture("nginx_logs.gz"), "--limit", "2", "--output", "table"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("@timestamp  "));
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn time_flags_select_a_range() {
    let rows = ndjson(&run(&[
        "query",
        &fixture("nginx_logs.gz"),
        "--from",
        "2015-05-20T00:05:00Z",
        "--to",
        "2015-05-20T00:06:00Z",
        "--limit",
        "1000",
    ]));
    // `zcat nginx_logs.gz | grep -c '20/May/2015:00:05:'` is 126.
    assert_eq!(rows.len(), 126);
    assert!(rows.iter().all(|r| r["@timestamp"].as_str().unwrap().starts_with("2015-05-20T00:05:")));
    // The data is from 2015: the last hour has nothing, and that is not an error.
    let out = run(&["query", &fixture("nginx_logs.gz"), "--since", "1h"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn stdin_is_read_with_a_dash() {
    let input = "{\"level\":\"info\",\"msg\":\"a\",\"ts\":1714557600}\n{\"level\":\"error\",\"msg\":\"b\",\"ts\":1714557601}\nnot json\n";
    let v = stdout_json(&run_stdin(&["top", "-", "--field", "level", "--output", "json"], input));
    assert_eq!(v, json!({"field":"level","total":3,"other":0,"exact":true,"buckets":[{"value":"error","count":1},{"value":"info","count":1}]}));
    let out = run_stdin(&["tail", "-", "--output", "raw"], input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().collect::<Vec<_>>(), input.lines().collect::<Vec<_>>());
}

#[test]
fn forced_format_overrides_detection() {
    let v = stdout_json(&run(&["top", &fixture("apache_logs.gz"), "--format", "plain", "--field", "status", "--output", "json"]));
    assert_eq!(v["total"], 10000);
    assert_eq!(v["buckets"], json!([]));
}

#[test]
fn exit_statuses() {
    let f = fixture("apache_logs.gz");
    let usage = [
        vec!["query", &f, "--logql", "{job=\"x\"}"],
        vec!["query", &f, "--dsl", "{}"],
        vec!["query", &f, "--kql", "status:("],
        vec!["query", &f, "--since", "soon"],
        vec!["histogram", &f, "--interval", "0s"],
        vec!["query"],
    ];
    for args in usage {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("logsleuth: "), "{err}");
    }
    let missing = PathBuf::from("/no/such/dir/access.log");
    let out = run(&["top", missing.to_str().unwrap(), "--field", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir/access.log"));
    let out = run(&["query", "--loki", "http://127.0.0.1:9"]);
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn histogram_split_by_any_field_keeps_the_top_values() {
    let v = stdout_json(&run(&[
        "histogram",
        &fixture("apache_logs.gz"),
        "--interval",
        "1d",
        "--split-by",
        "remote_addr",
        "--output",
        "json",
    ]));
    let b = v["buckets"].as_array().unwrap();
    let keys: std::collections::BTreeSet<&str> =
        b.iter().flat_map(|x| x["split"].as_object().unwrap().keys().map(String::as_str)).collect();
    assert!(keys.contains("66.249.73.135") && keys.contains("other"));
    assert_eq!(keys.len(), 11, "ten values and other: {keys:?}");
    // Every event with the field is in some split value; the malformed line has none.
    let split_total: u64 = b.iter().flat_map(|x| x["split"].as_object().unwrap().values().map(|c| c.as_u64().unwrap())).sum();
    assert_eq!(split_total, 9999);
    assert_eq!(b.iter().map(|x| x["count"].as_u64().unwrap()).sum::<u64>(), 10000);
    let table = run(&["histogram", &fixture("apache_logs.gz"), "--interval", "1d", "--split-by", "status_class"]);
    let text = String::from_utf8(table.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("start") && first.contains("2xx") && first.contains("5xx"), "{first}");
    assert_eq!(text.lines().last(), Some("interval 1d"));
}

#[test]
fn tail_follows_a_file_until_interrupted() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.log");
    std::fs::write(&path, "2024-01-01T00:00:00Z INFO old line\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(["tail", path.to_str().unwrap(), "--output", "raw", "--kql", "ERROR"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Keep appending until the tail (which starts at the end of the file) has seen a line.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut got = None;
    let mut i = 0;
    while got.is_none() && std::time::Instant::now() < deadline {
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(f, "2024-01-01T00:00:0{}Z INFO skip me", i % 10).unwrap();
        writeln!(f, "2024-01-01T00:00:0{}Z ERROR boom {i}", i % 10).unwrap();
        drop(f);
        i += 1;
        got = rx.recv_timeout(std::time::Duration::from_millis(300)).ok();
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = got.expect("a followed line");
    assert!(line.contains("ERROR boom"), "{line}");
    assert!(!line.contains("old line"));
    while let Ok(more) = rx.try_recv() {
        assert!(more.contains("ERROR"), "the filter applies: {more}");
    }
}
