//! Issue 22: the postmortem draft, end to end, on real data. `logsleuth report --workspace`
//! writes the report of a workspace with two panes and two marks:
//! - pane 1, local: the shared nginx log (`tests/fixtures/local/nginx_logs.gz`) plus a planted
//!   ten-minute burst of 502s on `POST /api/checkout` from a new client address and user agent
//!   (the burst of `tests/support/replay_eval.rs`);
//! - pane 2, a replayed Loki holding the checkout API's JSON log (an order every 10 s, and
//!   "payment gateway timeout" errors during the burst); the replay evaluates the LogQL metric
//!   queries logsleuth sends over those lines, in Loki 3.4's answer shapes, and asserts them;
//! - marks: the first 502 (pane 1), and a `cause:` note on the first timeout (pane 2).
//!
//! The report is compared with `tests/fixtures/export/postmortem_nginx_loki.md` (times of the
//! run, ports and temporary paths masked; `UPDATE_GOLDEN=1` rewrites it), and every figure it
//! cites is checked against the `logsleuth top` command it lists.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value as Json, json};
use support::loki_server::{LokiServer, Recorded, Reply};
use support::replay_eval::{BURST_AGENT, BURST_IP, burst_lines};

use logsleuth::time::{NS_PER_SEC, parse_absolute};

fn at(s: &str) -> i64 {
    parse_absolute(s, None).unwrap()
}

/// The burst of the shared replay (`support::replay_eval`), 2015-05-20 12:00:00 – 12:09:58 UTC,
/// in nginx's combined format, as a file.
fn burst(dir: &Path) -> String {
    let path = dir.join("burst.log");
    std::fs::write(&path, burst_lines().join("\n") + "\n").unwrap();
    path.display().to_string()
}

/// Runs a command line the report printed (`logsleuth …`, shell-quoted) with the test's binary
/// and `--output json`; its JSON.
async fn run_printed(dir: &Path, command: &str) -> Json {
    let (config, line) = (dir.join("config"), command.to_string());
    let out = tokio::task::spawn_blocking(move || {
        let bin = env!("CARGO_BIN_EXE_logsleuth");
        Command::new("sh")
            .arg("-c")
            .arg(format!("{} --output json", line.replacen("logsleuth", &format!("'{bin}'"), 1)))
            .env("XDG_CONFIG_HOME", config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A line of the checkout API's log in Loki.
#[derive(Debug, Clone)]
struct Line {
    ts: i64,
    level: &'static str,
    msg: String,
}

impl Line {
    fn json(&self) -> Json {
        json!({"level": self.level, "msg": self.msg, "service": "checkout-api"})
    }

    fn field(&self, name: &str) -> Option<String> {
        match name {
            "level" => Some(self.level.to_string()),
            "msg" => Some(self.msg.clone()),
            "service" => Some("checkout-api".into()),
            _ => None,
        }
    }
}

/// An order every 10 s from 07:00 to 17:00; a timeout every 5 s from 12:01 to 12:09.
fn checkout_lines() -> Vec<Line> {
    let mut lines = Vec::new();
    let start = at("2015-05-20T07:00:00Z");
    for i in 0..(10 * 360) {
        lines.push(Line { ts: start + i * 10 * NS_PER_SEC + 3_000_000, level: "info", msg: format!("order placed ord-{}", 10_000 + i) });
    }
    let burst = at("2015-05-20T12:01:00Z");
    for i in 0..96 {
        lines.push(Line { ts: burst + i * 5 * NS_PER_SEC + 7_000_000, level: "error", msg: "payment gateway timeout".into() });
    }
    lines.sort_by_key(|l| l.ts);
    lines
}

/// The stages of the log query inside a metric query, checked against what this test expects
/// logsleuth to send: the selector, `| json`, `| L != ""` and the failure rule's level filter.
fn keeps(query: &str) -> impl Fn(&Line) -> bool + '_ {
    let inner = query.split("count_over_time(").nth(1).unwrap_or(query);
    let inner = inner.rsplit_once(" [").map(|(q, _)| q).unwrap_or(inner);
    let mut stages = inner.split(" | ");
    assert_eq!(stages.next(), Some(r#"{job="checkout"}"#), "{query}");
    let stages: Vec<&str> = stages.collect();
    move |line: &Line| {
        stages.iter().all(|stage| {
            if *stage == "json" {
                return true;
            }
            if let Some(label) = stage.strip_suffix(r#" != """#) {
                return line.field(label).is_some_and(|v| !v.is_empty());
            }
            // `level="error" or level="ERROR" or …`: the failure rule of a source with levels.
            let terms: Vec<(&str, &str)> = stage
                .split(" or ")
                .map(|t| {
                    let (l, v) = t.split_once('=').unwrap_or_else(|| panic!("unexpected stage {stage:?} in {query}"));
                    (l, v.trim_matches('"'))
                })
                .collect();
            assert!(terms.iter().any(|(_, v)| *v == "error") && terms.iter().any(|(_, v)| *v == "fatal"), "{query}");
            terms.iter().any(|(l, v)| line.field(l).as_deref() == Some(*v))
        })
    }
}

/// Loki 3.4's answers to the queries logsleuth makes of the checkout log.
fn loki(lines: &[Line], r: &Recorded) -> Reply {
    let query = r.param("query").unwrap_or_default().to_string();
    let ns = |name: &str| r.param(name).and_then(|v| v.parse::<i64>().ok());
    let by = query.split("sum by (").nth(1).and_then(|rest| rest.split(')').next()).map(str::to_string);
    let group = |l: &Line| -> Json {
        match by.as_deref().and_then(|b| Some((b, l.field(b)?))) {
            Some((b, v)) => json!({ b: v }),
            None => json!({}),
        }
    };
    match r.path.as_str() {
        "/loki/api/v1/query_range" if r.param("step").is_some() => {
            let step = logsleuth::time::parse_duration(r.param("step").unwrap()).unwrap();
            let (start, end) = (ns("start").unwrap(), ns("end").unwrap());
            let keep = keeps(&query);
            let mut series: BTreeMap<String, (Json, Vec<Json>)> = BTreeMap::new();
            let mut t = start;
            while t <= end {
                let mut counts: BTreeMap<String, (Json, u64)> = BTreeMap::new();
                for l in lines.iter().filter(|l| l.ts > t - step && l.ts <= t && keep(l)) {
                    let metric = group(l);
                    counts.entry(metric.to_string()).or_insert((metric, 0)).1 += 1;
                }
                for (key, (metric, n)) in counts {
                    series.entry(key).or_insert((metric, Vec::new())).1.push(json!([t / NS_PER_SEC, n.to_string()]));
                }
                t += step;
            }
            let result: Vec<Json> = series.into_values().map(|(metric, values)| json!({"metric": metric, "values": values})).collect();
            Reply::Json(200, json!({"status": "success", "data": {"resultType": "matrix", "result": result}}).to_string())
        }
        "/loki/api/v1/query_range" => {
            let (start, end) = (ns("start").unwrap_or(i64::MIN), ns("end").unwrap_or(i64::MAX));
            let limit: usize = r.param("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
            let values: Vec<Json> = lines
                .iter()
                .rev()
                .filter(|l| l.ts >= start && l.ts <= end)
                .take(limit)
                .map(|l| {
                    let parsed: serde_json::Map<String, Json> =
                        l.json().as_object().unwrap().iter().map(|(k, v)| (k.clone(), json!(v.as_str().unwrap()))).collect();
                    json!([l.ts.to_string(), l.json().to_string(), {"structuredMetadata": {"detected_level": l.level}, "parsed": parsed}])
                })
                .collect();
            let stream = json!({"stream": {"job": "checkout", "service_name": "checkout-api"}, "values": values});
            Reply::Json(
                200,
                json!({"status": "success", "data": {"resultType": "streams", "encodingFlags": ["categorize-labels"], "result": [stream]}}).to_string(),
            )
        }
        "/loki/api/v1/query" => {
            let time = ns("time").unwrap();
            let span = query.rsplit('[').next().and_then(|s| s.split(']').next()).unwrap();
            let span = logsleuth::time::parse_duration(span).unwrap();
            let keep = keeps(&query);
            let mut counts: BTreeMap<String, (Json, u64)> = BTreeMap::new();
            for l in lines.iter().filter(|l| l.ts > time - span && l.ts <= time && keep(l)) {
                let metric = group(l);
                counts.entry(metric.to_string()).or_insert((metric, 0)).1 += 1;
            }
            let mut samples: Vec<(Json, u64)> = counts.into_values().collect();
            if let Some(k) = query.strip_prefix("topk(").and_then(|q| q.split(',').next()).and_then(|k| k.parse::<usize>().ok()) {
                samples.sort_by_key(|s| std::cmp::Reverse(s.1));
                samples.truncate(k);
            }
            let result: Vec<Json> =
                samples.into_iter().map(|(metric, n)| json!({"metric": metric, "value": [time as f64 / 1e9, n.to_string()]})).collect();
            Reply::Json(200, json!({"status": "success", "data": {"resultType": "vector", "result": result}}).to_string())
        }
        // The stream labels (the captured answer's shape, `tests/fixtures/loki/labels.json`):
        // `level` is not one, so it is filtered on after `| json`.
        "/loki/api/v1/labels" => Reply::Json(200, json!({"status": "success", "data": ["job", "service_name"]}).to_string()),
        // The pattern ingester is off (Loki answers 404 then).
        "/loki/api/v1/patterns" => Reply::Text(404, "404 page not found\n".into()),
        other => panic!("unexpected request to {other}: {r:?}"),
    }
}

fn nginx() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/nginx_logs.gz").display().to_string()
}

fn workspace(dir: &Path, files: &[String], loki_url: &str) -> std::path::PathBuf {
    let files = files.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
    let text = format!(
        r#"tab = 0

[[panes]]
[panes.source]
files = [{files}]
[panes.range]
from = "2015-05-20T07:00:00Z"
to = "2015-05-20T17:00:00Z"

[[panes]]
[panes.source]
loki = "{loki_url}"
selector = '{{job="checkout"}}'
parser = "json"
[panes.range]
from = "2015-05-20T07:00:00Z"
to = "2015-05-20T17:00:00Z"

[[tabs]]
focus = 0
[tabs.layout.split]
direction = "vertical"
ratio = 50
[tabs.layout.split.first]
pane = 0
[tabs.layout.split.second]
pane = 1

[[marks]]
pane = 0
time = "2015-05-20T12:00:00Z"
note = "first 502 on checkout"
line = '{BURST_IP} - - [20/May/2015:12:00:00 +0000] "POST /api/checkout HTTP/1.1" 502 150 "-" "{BURST_AGENT}"'
fields = [["status", "502"], ["remote_addr", "{BURST_IP}"]]

[[marks]]
pane = 1
time = "2015-05-20T12:01:00.007Z"
note = "cause: the payment gateway timed out, and checkout answered 502"
line = '{{"level":"error","msg":"payment gateway timeout","service":"checkout-api"}}'
"#
    );
    let path = dir.join("checkout.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn logsleuth(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    // No configuration of the machine's user: authors come from $USER.
    c.env("XDG_CONFIG_HOME", dir.join("config")).env("USER", "oncall").env("HOME", dir);
    c
}

/// The report with what changes between runs masked: the time it was written, the replay's
/// port, the temporary directory.
fn masked(report: &str, dir: &Path, port: u16) -> String {
    let mut out = String::new();
    for line in report.lines() {
        let line = if line.starts_with("- **Date:**") { "- **Date:** (masked)".to_string() } else { line.to_string() };
        out.push_str(&line);
        out.push('\n');
    }
    out.replace(&dir.display().to_string(), "$TMP")
        .replace(env!("CARGO_MANIFEST_DIR"), "$REPO")
        .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:$PORT")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_an_investigation_is_a_half_page_draft_plus_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let lines = checkout_lines();
    let server = LokiServer::start(move |r| loki(&lines, r)).await;
    let files = [nginx(), burst(dir.path())];
    let ws = workspace(dir.path(), &files, &server.url);
    let out_path = dir.path().join("postmortem.md");
    let d = dir.path().to_path_buf();
    let ws2 = ws.clone();
    let out2 = out_path.clone();
    let out = tokio::task::spawn_blocking(move || {
        logsleuth(&d).args(["report", "--workspace"]).arg(&ws2).arg("--output").arg(&out2).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(&out_path).unwrap();

    // What the draft must say, independent of its layout.
    let draft = report.split("## Evidence").next().unwrap();
    assert!(draft.contains("The incident window is `2015-05-20T12:00:00Z` → `2015-05-20T12:10:00Z` (10m)"), "{report}");
    assert!(draft.contains("the largest spike on Pane 1's histogram"), "{report}");
    assert!(draft.contains("5xx went from 0.0% (0 of 109) to 72.3% (300 of 415) of requests"), "{report}");
    assert!(draft.contains("100.0% of them on `/api/checkout`"), "{report}");
    assert!(draft.contains(&format!("one new client address, `{BURST_IP}`, made 100.0% of them")), "{report}");
    assert!(draft.contains(&format!("one new user agent, `{BURST_AGENT}`, made 100.0% of them")), "{report}");
    assert!(draft.contains("error lines went from 0.0% (0 of 360) to 61.5% (96 of 156) of lines"), "{report}");
    assert!(draft.contains("Involved: Pane 1 (`local`), Pane 2 (`loki`)."), "{report}");
    let cause = draft.split("## Root cause\n\n").nth(1).unwrap();
    assert!(cause.starts_with("- the payment gateway timed out\\, and checkout answered 502 (`2015-05-20T12:01:00.007Z`, Pane 2)"), "{report}");
    assert!(draft.split("## Resolution\n\n").nth(1).unwrap().starts_with("*[To be written by the authors:"), "{report}");
    assert!(report.contains("- **Authors:** oncall"), "{report}");
    assert!(report.contains("- **Status:** draft"), "{report}");
    // One page plus evidence: the draft is short, and no histogram has rows of zeros.
    assert!(draft.lines().count() < 60, "the draft is {} lines:\n{draft}", draft.lines().count());
    assert!(!report.contains("|     0  "), "{report}");

    // Every figure is what its command gives.
    let figures: Vec<(u64, String, String)> = report
        .split("### Figures")
        .nth(1)
        .unwrap()
        .split("\n- **F")
        .skip(1)
        .map(|f| {
            let (head, command) = f.split_once("\n  ").unwrap();
            // A code span: as many backticks as the command needs, and a space inside them.
            let command = command.lines().next().unwrap().trim_matches('`').trim().to_string();
            let rest = head.split_once("): ").unwrap().1;
            let (value, what) = rest.split_once(' ').unwrap();
            (value.replace(',', "").parse().unwrap(), what.to_string(), command)
        })
        .collect();
    assert!(figures.len() >= 10, "{figures:?}");
    for (value, what, command) in &figures {
        let top = run_printed(dir.path(), command).await;
        let got = if what.ends_with("in the window") || what.ends_with("in the baseline") {
            top["total"].as_u64().unwrap()
        } else if what.contains("(absent from its values) from") {
            let value = what.rsplit(" from ").next().unwrap().trim_matches('`').trim();
            assert!(top["buckets"].as_array().unwrap().iter().all(|b| b["value"] != value), "{what}: {top}");
            assert_eq!(top["other"], 0, "{what}: the list is complete");
            0
        } else {
            let value = what.rsplit(' ').next().unwrap().trim_matches('`');
            assert_eq!(top["buckets"][0]["value"], value, "{what}: {top}");
            top["buckets"][0]["count"].as_u64().unwrap()
        };
        assert_eq!(got, *value, "{what}: {top}");
    }

    // The evidence's own commands run, and the histograms they print hold the panes' hits.
    let reproduce: Vec<String> = report
        .lines()
        .filter_map(|l| l.strip_prefix("Reproduce: "))
        .map(|c| c.trim_matches('`').trim().to_string())
        .collect();
    assert_eq!(reproduce.len(), 2, "one histogram a pane: {reproduce:?}");
    for (command, hits) in reproduce.iter().zip([1488u64, 3696]) {
        assert!(command.starts_with("logsleuth histogram ") && command.ends_with(" --interval 10m"), "{command}");
        let h = run_printed(dir.path(), command).await;
        let total: u64 = h["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(total, hits, "{h}");
    }

    // The replay saw the failure rule of each source: 5xx on nginx, error levels on Loki.
    let queries: Vec<String> = server.requests().iter().filter_map(|r| r.param("query").map(str::to_string)).collect();
    assert!(queries.iter().any(|q| q.contains(r#"level="error""#) && q.starts_with("topk(")), "{queries:?}");

    let text = masked(&report, dir.path(), server.addr.port());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/postmortem_nginx_loki.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).expect("golden report (UPDATE_GOLDEN=1 writes it)");
    pretty_assertions::assert_eq!(text, expected);
}

/// A workspace whose mark names a pane it does not have is refused with the reason.
#[test]
fn a_workspace_with_a_bad_mark_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("bad.toml");
    let nginx = nginx();
    std::fs::write(
        &ws,
        format!("[[panes]]\n[panes.source]\nfiles = [{nginx:?}]\n\n[[tabs]]\nlayout = {{ pane = 0 }}\n\n[[marks]]\npane = 3\ntime = \"2015-05-20T12:00:00Z\"\n"),
    )
    .unwrap();
    let out = logsleuth(dir.path()).args(["report", "--workspace"]).arg(&ws).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("marks[0] is on pane 3, but there are only 1 panes"));
}
