//! End to end: the `logsleuth` binary's query/top/histogram/tail subcommands against the
//! replay server, with the same output contracts as for local files.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::loki_server::{LokiServer, Recorded, Reply, WsStep, fixture, json_fixture, raw_fixture};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const FROM: &str = "2026-11-22T02:03:53.558632019Z";
const TO: &str = "2026-11-22T08:05:16.161919916Z";

async fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .env("LOKI_TEST_TOKEN", "tok-123")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run logsleuth");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn replay(r: &Recorded) -> Reply {
    let q = r.param("query").unwrap_or("");
    match r.path.as_str() {
        "/loki/api/v1/query_range" if r.param("step").is_some() => json_fixture("matrix_status_by_regexp.json"),
        // Without a parser stage Loki sends no `parsed` labels.
        "/loki/api/v1/query_range" if q == r#"{job="shop-api"}"# => raw_fixture("query_range_json_label_filter_categorized.json"),
        "/loki/api/v1/query_range" if q.contains("shop-api") => json_fixture("query_range_json_label_filter_categorized.json"),
        "/loki/api/v1/query_range" => json_fixture("query_range_empty.json"),
        "/loki/api/v1/query" if q.starts_with("topk(") => json_fixture("instant_vector_topk_paths.json"),
        "/loki/api/v1/query" => Reply::Json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795334716.161,"10000"]}]}}"#.into(),
        ),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_top_and_histogram_against_loki() {
    let server = LokiServer::start(replay).await;
    let url = server.url.clone();

    let (code, out, err) = run(&[
        "query", "--loki", &url, "--selector", r#"{job="shop-api"}"#, "--parser", "json", "--tenant", "acme",
        "--token-env", "LOKI_TEST_TOKEN", "--from", FROM, "--to", TO, "--limit", "20",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[0]["job"], "shop-api");
    assert_eq!(lines[0]["@timestamp"], "2026-11-22T06:49:42.065030987Z", "ns timestamps survive to the output");
    let parsed = lines.iter().find(|l| l["order_id"] == "ord-830664").expect("the fields `| json` gives, parsed here");
    assert_eq!((parsed["status"].as_i64(), parsed["client_ip"].as_str()), (Some(504), Some("203.0.113.224")));
    assert!(server.requests_to("/loki/api/v1/query").is_empty(), "a reader of lines does not wait for a hit count");
    let req = &server.requests_to("/loki/api/v1/query_range")[0];
    assert_eq!(req.param("query"), Some(r#"{job="shop-api"}"#), "raw lines: the `| json` stage runs here");
    assert_eq!(req.param("start"), Some("1795313033558632019"));
    assert_eq!(req.param("end"), Some("1795334716161919916"));
    assert_eq!(req.header("x-scope-orgid"), Some("acme"));
    assert_eq!(req.header("authorization"), Some("Bearer tok-123"));
    assert!(!err.contains("tok-123"));

    let (code, out, err) = run(&[
        "top", "--loki", &url, "--selector", r#"{job="apache"}"#, "--parser", "apache", "--from", FROM, "--to", TO,
        "--field", "path", "--size", "5", "--output", "json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let top: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(top["buckets"][0], serde_json::json!({"value": "/favicon.ico", "count": 801}));
    assert_eq!(top["buckets"][4]["value"], "/images/web/2009/banner.png");
    assert_eq!(top["total"], 10000);

    let (code, out, err) = run(&[
        "histogram", "--loki", &url, "--selector", r#"{job="apache"}"#, "--parser", "apache", "--from", FROM, "--to", TO,
        "--interval", "5m", "--split-by", "status_class", "--output", "json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let h: serde_json::Value = serde_json::from_str(&out).unwrap();
    let buckets = h["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 74);
    let five_xx: u64 = buckets.iter().map(|b| b["split"]["5xx"].as_u64().unwrap_or(0)).sum();
    assert_eq!(five_xx, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_cli_exit_statuses() {
    let server = LokiServer::start(|_: &Recorded| Reply::Text(400, fixture("error_parse.txt"))).await;
    let (code, _, err) =
        run(&["query", "--loki", &server.url, "--logql", r#"{job="nginx"} | jsn"#, "--from", FROM, "--to", TO]).await;
    assert_eq!(code, 2, "LogQL parse errors are query errors");
    assert!(err.contains("parse error at line 1, col 13"), "{err}");
    let (code, _, err) = run(&["query", "--loki", &server.url, "--from", FROM, "--to", TO]).await;
    assert_eq!(code, 2);
    assert!(err.contains("stream selector"), "{err}");
    let (code, _, err) = run(&["query", "--loki", &server.url, "--selector", "{job=\"x\"}", "--user", "bob"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--password-env"), "{err}");
    let server = LokiServer::start(|_: &Recorded| Reply::Text(500, "too many outstanding requests".into())).await;
    let (code, _, err) = run(&["query", "--loki", &server.url, "--logql", r#"{job="nginx"}"#]).await;
    assert_eq!(code, 1);
    assert!(err.contains("server error 500: too many outstanding requests"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_live_lines() {
    let server = LokiServer::start_with_tail(
        |_: &Recorded| Reply::Text(404, "404 page not found\n".into()),
        |_: &Recorded, _| {
            let mut steps: Vec<WsStep> = fixture("tail_frames_categorized.jsonl").lines().map(|l| WsStep::Text(l.into())).collect();
            steps.push(WsStep::Sleep(Duration::from_secs(30)));
            Ok(steps)
        },
    )
    .await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(["tail", "--loki", &server.url, "--logql", r#"{job=~"shop-api|checkout", env="prod"}"#, "--output", "raw"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut got = Vec::new();
    while got.len() < 13 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("line in time").unwrap();
        got.push(line.expect("tail still running"));
    }
    assert!(got.iter().any(|l| l.contains("ord-live-a-3")), "{got:?}");
    child.kill().await.unwrap();
}
