//! The CloudWatch Logs source against a real CloudWatch Logs API: moto in server mode
//! (`moto_server`, PyPI `moto[server]`), started by `.ci/run` on 127.0.0.1 and found through
//! `LOGSLEUTH_TEST_MOTO`. The tests create groups and streams and put the shared nginx log
//! with `PutLogEvents`, as a shipper would, then run the real binary on them.
//!
//! moto keeps only events of the last 14 days, and the nginx log spans 18: its times are put
//! at half speed (an hour of the log is half an hour here), ending about an hour ago. Counts
//! that do not depend on time are compared with the reference counts of
//! `../shared/data/README.md`; the histogram is compared bucket for bucket with the local
//! source's on the file itself, at twice the bucket width.
//!
//! moto does not run Logs Insights `stats` (it answers with pointers only) and evaluates only
//! simple filter patterns, so these runs also show that logsleuth's answers do not depend on
//! either: charts are counted from the events, and the KQL is evaluated on every event.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use aws_sdk_cloudwatchlogs as cwl;
use serde_json::Value;
use support::aws::aws_env;

const HOUR_MS: i64 = 3_600_000;

/// moto's address, or a failure that says how to get one.
fn moto() -> String {
    let url = std::env::var("LOGSLEUTH_TEST_MOTO").unwrap_or_default();
    assert!(
        !url.is_empty(),
        "LOGSLEUTH_TEST_MOTO is not set: these tests need moto's CloudWatch Logs API \
         (pip install 'moto[server]'; moto_server -H 127.0.0.1 -p 5000; \
         LOGSLEUTH_TEST_MOTO=http://127.0.0.1:5000). .ci/run starts it."
    );
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("moto is not reachable at {url}: {e}"));
    url
}


fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap())
}

fn client() -> cwl::Client {
    // SAFETY: set before any thread of this test binary reads the environment for AWS.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let endpoint = logsleuth::sources::cloudwatch::Endpoint { region: Some("us-east-1".into()), profile: None, endpoint: Some(moto()) };
    // The product's own client (its HTTPS client and retries), as the source uses it.
    runtime().block_on(logsleuth::sources::cloudwatch::client::connect(&endpoint)).expect("a client for moto")
}

/// A group name no other test (or earlier run against the same moto) uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("/logsleuth-test/{name}-{nanos}-{}", std::process::id())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Puts `events` (ms, message) into `group`/`stream`, in time order, in batches.
fn put(client: &cwl::Client, group: &str, stream: &str, mut events: Vec<(i64, String)>) {
    events.sort_by_key(|e| e.0);
    runtime().block_on(async {
        let _ = client.create_log_group().log_group_name(group).send().await;
        let _ = client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await;
        for batch in events.chunks(4000) {
            let mut req = client.put_log_events().log_group_name(group).log_stream_name(stream);
            for (ts, m) in batch {
                req = req.log_events(cwl::types::InputLogEvent::builder().timestamp(*ts).message(m).build().unwrap());
            }
            let out = req.send().await.expect("PutLogEvents");
            assert!(out.rejected_log_events_info().is_none(), "moto rejected events: {:?}", out.rejected_log_events_info());
        }
    });
}

fn nginx_lines() -> &'static Vec<String> {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
        text.lines().map(str::to_string).collect()
    })
}

/// The shared nginx log, at half speed, into one group of two streams (odd and even lines).
/// A line at time `t` (ms) is put at `base + (t - origin) / 2`.
struct Loaded {
    group: String,
    base: i64,
    origin: i64,
}

fn nginx_group() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let client = client();
        let opts = logsleuth_formats::ParseOptions::default();
        let times: Vec<i64> = nginx_lines()
            .iter()
            .map(|l| {
                logsleuth_formats::parse(logsleuth_formats::LogFormat::AccessCombined, l, &opts).unwrap().timestamp.unwrap() / 1_000_000
            })
            .collect();
        let first = *times.iter().min().unwrap();
        let last = *times.iter().max().unwrap();
        // Bucket boundaries map onto bucket boundaries: 12 h of the file (from a multiple of
        // 12 h) are 6 h here (from a multiple of 6 h).
        let origin = first.div_euclid(12 * HOUR_MS) * 12 * HOUR_MS;
        // End about an hour before now.
        let base = (now_ms() - HOUR_MS - (last - origin) / 2).div_euclid(6 * HOUR_MS) * 6 * HOUR_MS;
        let group = unique("nginx");
        let (mut odd, mut even) = (Vec::new(), Vec::new());
        for (i, (line, t)) in nginx_lines().iter().zip(&times).enumerate() {
            let at = base + (t - origin) / 2;
            if i % 2 == 0 { even.push((at, line.clone())) } else { odd.push((at, line.clone())) }
        }
        put(&client, &group, "web-even", even);
        put(&client, &group, "web-odd", odd);
        Loaded { group, base, origin }
    })
}

fn logsleuth(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    aws_env(&mut cmd).args(args).output().expect("the binary runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn buckets(v: &Value) -> Vec<(String, u64)> {
    v["buckets"].as_array().unwrap().iter().map(|b| (b["value"].as_str().unwrap().to_string(), b["count"].as_u64().unwrap())).collect()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `--cloudwatch GROUP --endpoint URL --from … --to …` over the whole loaded log.
fn source_args(l: &Loaded) -> Vec<String> {
    vec![
        "--cloudwatch".into(),
        l.group.clone(),
        "--endpoint".into(),
        moto(),
        "--from".into(),
        rfc3339(l.base - HOUR_MS),
        "--to".into(),
        rfc3339(now_ms() + 60_000),
    ]
}

fn with<'a>(first: &[&'a str], rest: &'a [String]) -> Vec<&'a str> {
    first.iter().copied().chain(rest.iter().map(String::as_str)).collect()
}

#[test]
fn top_status_clients_and_agents_equal_the_reference_counts() {
    let l = nginx_group();
    let src = source_args(l);
    let out = logsleuth(&with(&["top", "--field", "status", "--output", "json"], &src));
    let v = json(&out);
    // moto answers a Logs Insights `stats` with pointers only: the counts come from the events,
    // and the note on stderr says so.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Logs Insights did not answer") && stderr.contains("counted from the events"), "{stderr}");
    assert_eq!(v["exact"], true, "every event was counted: {v}");
    assert_eq!(
        buckets(&v),
        [("404", 33876), ("304", 13330), ("200", 4028), ("206", 186), ("403", 38), ("416", 4)].map(|(a, b)| (a.to_string(), b)).to_vec()
    );
    assert_eq!(v["total"], 51462);
    let v = json(&logsleuth(&with(&["top", "--field", "remote_addr", "--output", "json"], &src)));
    let b = buckets(&v);
    assert_eq!(
        (b[0].clone(), b[8].clone(), b[9].clone()),
        (("216.46.173.126".into(), 2350), ("79.136.114.202".into(), 628), ("54.207.57.55".into(), 532))
    );
    let v = json(&logsleuth(&with(&["top", "--field", "http_user_agent", "--size", "5", "--output", "json"], &src)));
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
fn kql_answers_equal_the_local_sources_on_the_same_lines() {
    let l = nginx_group();
    let src = source_args(l);
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz").display().to_string();
    // A condition the filter pattern says (status), one it cannot (free text, case-insensitive
    // here and case-sensitive there), and a negation.
    for kql in ["status >= 400", "status: 304 and ubuntu2", "not status: 404 and remote_addr: 216.46.173.126", "debian and not 0.9.7.9"] {
        let cw = json(&logsleuth(&with(&["top", "--field", "status", "--kql", kql, "--output", "json"], &src)));
        let lo = json(&logsleuth(&["top", &local, "--field", "status", "--kql", kql, "--output", "json"]));
        assert_eq!((&cw["total"], &cw["buckets"]), (&lo["total"], &lo["buckets"]), "{kql}");
        assert!(cw["total"].as_u64().unwrap() > 0, "{kql}");
    }
}

#[test]
fn all_lines_page_through_without_loss_or_duplicates() {
    let l = nginx_group();
    let src = source_args(l);
    // 51,462 events: FilterLogEvents pages (nextToken) within each window, and logsleuth's own
    // pages of 5,000 newest-first across windows.
    let out = logsleuth(&with(&["query", "--limit", "60000", "--output", "raw"], &src));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(got.len(), 51462);
    let mut want: Vec<&str> = nginx_lines().iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert!(got == want, "the lines differ from the file's");
}

#[test]
fn pages_cut_between_events_of_one_millisecond_neither_repeat_nor_skip() {
    let client = client();
    let group = unique("same-ms");
    let t = now_ms() - 10 * 60_000;
    // 3 streams, 40 events in three milliseconds.
    for s in 0..3 {
        let events: Vec<(i64, String)> =
            (0..40).filter(|i| i % 3 == s).map(|i| (t + i64::from(i % 3 == 0), format!("event {i:02} in stream {s}"))).collect();
        put(&client, &group, &format!("s{s}"), events);
    }
    let spec = logsleuth::sources::spec::SourceSpec::CloudWatch(logsleuth::sources::spec::CloudWatchSpec {
        groups: vec![group.clone()],
        endpoint: Some(moto()),
        region: Some("us-east-1".into()),
        ..Default::default()
    });
    let source = logsleuth::sources::spec::open(&spec).unwrap();
    let range = logsleuth::model::TimeRange::between((t - 60_000) * 1_000_000, (t + 60_000) * 1_000_000);
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = runtime()
            .block_on(source.search(logsleuth::sources::SearchRequest {
                query: logsleuth::sources::Query::default(),
                range,
                limit: 7,
                cursor: cursor.clone(),
            }))
            .unwrap();
        let times: Vec<i64> = page.records.iter().map(|r| r.timestamp.unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
        seen.extend(page.records.iter().map(|r| r.message.clone()));
        pages += 1;
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 20);
    }
    assert_eq!(seen.len(), 40, "{seen:?}");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 40, "no event twice");
    // The context of a line comes from its own stream.
    let page = runtime()
        .block_on(source.search(logsleuth::sources::SearchRequest {
            query: logsleuth::sources::Query::kql("\"event 20\""),
            range,
            limit: 5,
            cursor: None,
        }))
        .unwrap();
    assert_eq!(page.records.len(), 1);
    let around = runtime().block_on(source.context(page.records[0].clone(), 2, 2)).unwrap();
    let messages: Vec<&str> = around.iter().map(|r| r.message.as_str()).collect();
    assert!(messages.iter().all(|m| m.ends_with("in stream 2")), "{messages:?}");
    assert!(messages.contains(&"event 20 in stream 2"), "{messages:?}");
    assert_eq!(messages.len(), 5, "{messages:?}");
}

#[test]
fn the_histogram_equals_the_local_sources_bucket_for_bucket() {
    let l = nginx_group();
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz").display().to_string();
    // Half speed: a 12 h bucket of the file is a 6 h bucket here, both starting on the
    // mapping's origin.
    let last_local = l.origin + 20 * 24 * HOUR_MS;
    let lo = json(&logsleuth(&[
        "histogram",
        &local,
        "--interval",
        "12h",
        "--split-by",
        "status",
        "--from",
        &rfc3339(l.origin),
        "--to",
        &rfc3339(last_local),
        "--output",
        "json",
    ]));
    let cw = json(&logsleuth(&[
        "histogram",
        "--cloudwatch",
        &l.group,
        "--endpoint",
        &moto(),
        "--interval",
        "6h",
        "--split-by",
        "status",
        "--from",
        &rfc3339(l.base),
        "--to",
        &rfc3339(l.base + 10 * 24 * HOUR_MS),
        "--output",
        "json",
    ]));
    let counts = |v: &Value| -> Vec<(u64, Value)> {
        v["buckets"].as_array().unwrap().iter().map(|b| (b["count"].as_u64().unwrap(), b["split"].clone())).collect()
    };
    let (lo, cw) = (counts(&lo), counts(&cw));
    assert_eq!(lo.iter().map(|b| b.0).sum::<u64>(), 51462);
    assert_eq!(lo, cw);
}

#[test]
fn the_tail_prints_new_events_once_each() {
    let client = client();
    let group = unique("tail");
    put(&client, &group, "app", vec![(now_ms() - 5_000, "before the tail".into())]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    aws_env(&mut cmd)
        .args(["tail", "--cloudwatch", &group, "--endpoint", &moto(), "--output", "raw"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let t = now_ms();
    put(&client, &group, "app", (0..5).map(|i| (t + i, format!("new line {i}"))).collect());
    // One arriving late: stamped before the tail's first poll saw the others.
    std::thread::sleep(std::time::Duration::from_secs(3));
    put(&client, &group, "late", vec![(t - 1_000, "late line".into())]);
    std::thread::sleep(std::time::Duration::from_secs(6));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..5 {
        assert_eq!(
            lines.iter().filter(|l| **l == format!("new line {i}")).count(),
            1,
            "{lines:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(lines.iter().filter(|l| **l == "late line").count(), 1, "{lines:?}");
    assert!(!lines.contains(&"before the tail"), "{lines:?}");
}

#[test]
fn groups_are_listed_and_missing_parts_are_said() {
    let l = nginx_group();
    let out = logsleuth(&["cloudwatch", "groups", "--endpoint", &moto(), "--prefix", &l.group, "--output", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], l.group.as_str());
    // No region anywhere: said, exit 2.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    let out = aws_env(&mut cmd).env_remove("AWS_REGION").args(["query", "--cloudwatch", "g", "--endpoint", &moto()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no AWS region"), "{}", String::from_utf8_lossy(&out.stderr));
    // A group that does not exist: the service's words, exit 1.
    let out = logsleuth(&["query", "--cloudwatch", "/no/such/group", "--endpoint", &moto(), "--since", "1h"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ResourceNotFoundException"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_tail_from_just_after_a_line_does_not_send_that_line_again() {
    use logsleuth::sources::{Query, Source, TailEvent, TailRequest};
    let client = client();
    let group = unique("tail-since");
    // The TUI's newest line, at a whole millisecond; the tail is asked from 1 ns after it.
    let seen = now_ms() - 2_000;
    put(&client, &group, "app", vec![(seen, "already on screen".into())]);
    let config = logsleuth::sources::cloudwatch::CloudWatchConfig {
        groups: vec![group.clone()],
        stream_prefix: None,
        endpoint: logsleuth::sources::cloudwatch::Endpoint { region: Some("us-east-1".into()), profile: None, endpoint: Some(moto()) },
        format: None,
        no_insights: true,
    };
    let source = logsleuth::sources::cloudwatch::CloudWatchSource::new(config).unwrap();
    let mut rx = runtime().block_on(async { source.tail(TailRequest { query: Query::kql(""), since: Some(seen * 1_000_000 + 1) }) }).unwrap();
    let t = now_ms();
    put(&client, &group, "app", vec![(t, "after it".into()), (t + 1, "after it too".into())]);
    let messages = runtime().block_on(async {
        let mut messages = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(12);
        while messages.len() < 2 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(TailEvent::Records(records))) => messages.extend(records.into_iter().map(|r| r.message)),
                Ok(Some(TailEvent::Failed(e))) => panic!("the tail failed: {e}"),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        // A poll or two more: nothing else may come.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), async {
            while let Some(ev) = rx.recv().await {
                if let TailEvent::Records(records) = ev {
                    messages.extend(records.into_iter().map(|r| r.message));
                }
            }
        })
        .await;
        messages
    });
    assert_eq!(messages, vec!["after it".to_string(), "after it too".to_string()]);
}

/// The TUI as a user runs it: a CloudWatch pane, a local file opened beside it from the source
/// picker on one (linked) clock, and a second group found with the picker's group browser,
/// opened below on the same account. The time picker on the first pane moves all three.
#[test]
fn a_cloudwatch_pane_beside_a_local_one_on_one_clock() {
    use support::pty::{self, Pty};
    use std::time::Duration;
    let client = client();
    let minute = 60_000;
    let now = now_ms();
    // Nothing within five minutes of "15 minutes ago", so the counts do not depend on when
    // the keys land: 10 + 5 access-log lines in the group, 8 + 3 JSON lines in the file.
    let access = |i: i64| format!("10.0.0.{i} - - [01/Jan/2026:00:00:00 +0000] \"GET /orders/{i} HTTP/1.1\" 200 512 \"-\" \"curl/8.5\"");
    let web = unique("e2e-web");
    let mut events: Vec<(i64, String)> = (0..10).map(|i| (now - 40 * minute + i * minute, access(i))).collect();
    events.extend((0..5).map(|i| (now - 10 * minute + i * minute, access(100 + i))));
    put(&client, &web, "web-1", events);
    let api = format!("{web}-api");
    put(&client, &api, "api-1", (0..4).map(|i| (now - 8 * minute + i * minute, format!("api request {i} handled"))).collect());
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("checkout.json");
    let line = |ms: i64, i: i64| {
        serde_json::json!({ "time": rfc3339(ms), "level": "error", "msg": format!("payment timeout #{i}") }).to_string() + "\n"
    };
    let mut text: String = (0..8).map(|i| line(now - 45 * minute + i * minute, i)).collect();
    text.extend((0..3).map(|i| line(now - 12 * minute + i * 2 * minute, 10 + i)));
    std::fs::write(&file, text).unwrap();

    let mut cmd = pty::command(&["--cloudwatch", &web, "--endpoint", &moto(), "--since", "1h"], home.path());
    for (k, v) in support::aws::SET {
        cmd.env(k, v);
    }
    for k in support::aws::REMOVED {
        cmd.env_remove(k);
    }
    let mut app = Pty::spawn(cmd, 50, 160);
    let wait = Duration::from_secs(40);
    pty::wait_until("the group's 15 lines", wait, || hits(&app.screen(), 15));
    // Ctrl-w v: the local file beside it.
    app.keys(b"\x17v");
    app.wait_screen("New pane on the right", wait);
    app.keys(file.to_str().unwrap().as_bytes());
    app.keys(b"\r");
    pty::wait_until("the file's 11 lines beside them", wait, || hits(&app.screen(), 11));
    assert!(hits(&app.screen(), 15), "{}", app.screen());
    // Ctrl-w s: the group browser lists the groups starting with what is typed.
    app.keys(b"\x17s");
    app.wait_screen("New pane below", wait);
    app.keys(format!("cw {web}-").as_bytes());
    let screen = app.wait_screen(&format!("log group: {api}"), wait);
    assert!(!screen.contains(&format!("log group: {web}\n")), "only names with the prefix: {screen}");
    app.keys(b"\r");
    pty::wait_until("the second group's 4 lines below", wait, || hits(&app.screen(), 4));
    let screen = app.screen();
    assert!(hits(&screen, 15) && hits(&screen, 11), "{screen}");
    // The first pane's time picker: the last 15 minutes, for all three.
    app.keys(b"\x17h");
    app.keys(b"r");
    app.wait_screen("Last 15 minutes", wait);
    app.keys(b"kkkkkk\r");
    pty::wait_until("every pane on the last 15 minutes", wait, || {
        let s = app.screen();
        hits(&s, 5) && hits(&s, 3) && hits(&s, 4) && !hits(&s, 15) && !hits(&s, 11)
    });
    app.kill();
    app.close();
}

/// Whether a screen says exactly `n` hits somewhere ("5 hits", not "15 hits").
fn hits(screen: &str, n: u64) -> bool {
    let what = format!("{n} hits");
    screen.match_indices(&what).any(|(i, _)| !screen[..i].ends_with(|c: char| c.is_ascii_digit() || c == ','))
}
