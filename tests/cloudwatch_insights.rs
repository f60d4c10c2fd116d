//! Charts by CloudWatch Logs Insights: the real binary against an in-process server on
//! 127.0.0.1 that speaks the CloudWatch Logs JSON 1.1 protocol and replays answers in the
//! shapes of the API Reference (`tests/fixtures/cloudwatch/README.md`), asserting every
//! request. moto cannot be used here: it does not run Insights `stats`.

mod support;

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

const QUERY_ID: &str = "12ab3456-12ab-123a-789e-1234567890ab";
/// 2026-12-02T17:00:00Z and 18:00:00Z, in seconds.
const FROM_S: i64 = 1_796_230_800;
const TO_S: i64 = FROM_S + 3600;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/cloudwatch/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// One request: the operation (`X-Amz-Target` without the service prefix) and its body.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// Starts the server; `results` is the `GetQueryResults` answer once the query is complete
/// (the first poll of each query answers `Running`).
fn start(rt: &tokio::runtime::Runtime, results: &'static str) -> (String, Received) {
    start_throttling(rt, results, 0)
}

/// [`start`], answering the first `throttled` `StartQuery` requests with the service's
/// `ThrottlingException` (HTTP 400, `x-amzn-ErrorType`, the JSON error).
fn start_throttling(rt: &tokio::runtime::Runtime, results: &'static str, throttled: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let polls = Arc::new(Mutex::new(0usize));
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (log, polls) = (log.clone(), polls.clone());
        async move {
            let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let op = target.strip_prefix("Logs_20140328.").unwrap_or(&target).to_string();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let starts_before = {
                let mut log = log.lock().unwrap();
                let n = log.iter().filter(|(o, _)| o == "StartQuery").count();
                log.push((op.clone(), body));
                n
            };
            if op == "StartQuery" && starts_before < throttled {
                let error = json!({"__type": "ThrottlingException", "message": "Rate exceeded"});
                return axum::response::Response::builder()
                    .status(400)
                    .header("content-type", "application/x-amz-json-1.1")
                    .header("x-amzn-errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")
                    .body(axum::body::Body::from(error.to_string()))
                    .unwrap();
            }
            let answer = match op.as_str() {
                "DescribeLogGroups" => fixture("describe_log_groups.json"),
                "FilterLogEvents" => fixture("filter_log_events.json"),
                "StartQuery" => fixture("start_query.json"),
                "GetQueryResults" => {
                    let mut n = polls.lock().unwrap();
                    *n += 1;
                    if *n % 2 == 1 { fixture("get_query_results_running.json") } else { fixture(results) }
                }
                _ => {
                    let error = json!({"__type": "UnknownOperationException", "message": format!("not replayed: {op}")});
                    return axum::response::Response::builder()
                        .status(400)
                        .header("content-type", "application/x-amz-json-1.1")
                        .body(axum::body::Body::from(error.to_string()))
                        .unwrap();
                }
            };
            axum::response::Response::builder().header("content-type", "application/x-amz-json-1.1").body(axum::body::Body::from(answer)).unwrap()
        }
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), received)
}

/// `logsleuth COMMAND --cloudwatch /shop/web --endpoint URL` over 2026-12-02 17:00–18:00 UTC,
/// then `rest`.
fn chart(command: &str, url: &str, rest: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    cmd.args([command, "--cloudwatch", "/shop/web", "--endpoint", url, "--from", "2026-12-02T17:00:00Z", "--to", "2026-12-02T18:00:00Z"]);
    support::aws::aws_env(&mut cmd).args(rest).output().unwrap()
}

/// The one `StartQuery` request, after checking the requests around it.
fn start_query(received: &Received) -> Value {
    start_query_sent(received, 1)
}

/// The last of `times` `StartQuery` requests (the same query, retried), after checking the
/// requests around it.
fn start_query_sent(received: &Received, times: usize) -> Value {
    let received = received.lock().unwrap().clone();
    let ops: Vec<&str> = received.iter().map(|(op, _)| op.as_str()).collect();
    let starts: Vec<&Value> = received.iter().filter(|(op, _)| op == "StartQuery").map(|(_, b)| b).collect();
    assert_eq!(starts.len(), times, "{ops:?}");
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "a retry is the same request: {starts:?}");
    let polls: Vec<&Value> = received.iter().filter(|(op, _)| op == "GetQueryResults").map(|(_, b)| b).collect();
    assert_eq!(polls.len(), 2, "polled until Complete: {ops:?}");
    assert!(polls.iter().all(|b| b["queryId"] == QUERY_ID), "{polls:?}");
    // The groups' size is asked once, by name prefix, for the cost note.
    let described: Vec<&Value> = received.iter().filter(|(op, _)| op == "DescribeLogGroups").map(|(_, b)| b).collect();
    assert_eq!(described.len(), 1, "{ops:?}");
    assert_eq!(described[0]["logGroupNamePrefix"], "/shop/web");
    starts[times - 1].clone()
}

const ACCESS_PARSE_START: &str = "parse @message /^(?<remote_addr>\\S+) ";

#[test]
fn top_by_insights_says_the_cost_first_and_gives_insights_counts() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, received) = start(&rt, "get_query_results_top_status.json");
    let out = chart("top", &url, &["--field", "status", "--kql", "not status: 304", "--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 1000);
    assert_eq!(v["other"], 0);
    let buckets: Vec<(String, u64)> =
        v["buckets"].as_array().unwrap().iter().map(|b| (b["value"].as_str().unwrap().to_string(), b["count"].as_u64().unwrap())).collect();
    assert_eq!(buckets, vec![("200".into(), 900), ("404".into(), 60), ("500".into(), 40)]);
    // The cost is said before the query runs, what it scanned after.
    let cost = stderr.find("these log groups store 250.0 GB").unwrap_or_else(|| panic!("no cost note: {stderr}"));
    let scanned = stderr.find("Logs Insights scanned 136.0 KB").unwrap_or_else(|| panic!("no scan note: {stderr}"));
    assert!(cost < scanned, "{stderr}");
    let q = start_query(&received);
    assert_eq!(q["logGroupNames"], json!(["/shop/web"]));
    assert_eq!((q["startTime"].as_i64(), q["endTime"].as_i64()), (Some(FROM_S), Some(TO_S)));
    assert_eq!(q["limit"], 10_000);
    let text = q["queryString"].as_str().unwrap();
    assert!(text.starts_with(ACCESS_PARSE_START), "{text}");
    assert!(
        text.ends_with("| filter not ((status = 304 or status = \"304\")) | stats count(*) as n by status | sort n desc | limit 10000"),
        "{text}"
    );
}

#[test]
fn the_histogram_by_insights_fills_the_buckets_and_splits_by_status_class() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, received) = start(&rt, "get_query_results_histogram_status.json");
    let out = chart("histogram", &url, &["--interval", "20m", "--split-by", "status_class", "--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let buckets: Vec<(String, u64, Value)> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["start"].as_str().unwrap().to_string(), b["count"].as_u64().unwrap(), b["split"].clone()))
        .collect();
    assert_eq!(
        buckets,
        vec![
            ("2026-12-02T17:00:00Z".into(), 300, json!({"2xx": 300})),
            ("2026-12-02T17:20:00Z".into(), 300, json!({"2xx": 280, "5xx": 20})),
            ("2026-12-02T17:40:00Z".into(), 400, json!({"2xx": 290, "5xx": 110})),
        ]
    );
    assert_eq!(v["exact"], true);
    assert!(stderr.contains("these log groups store 250.0 GB"), "{stderr}");
    let q = start_query(&received);
    let text = q["queryString"].as_str().unwrap();
    assert!(text.starts_with(ACCESS_PARSE_START), "{text}");
    assert!(text.ends_with("| stats count(*) as n by bin(1200s), status | limit 10000"), "{text}");
    assert_eq!((q["startTime"].as_i64(), q["endTime"].as_i64()), (Some(FROM_S), Some(TO_S)));
}

#[test]
fn no_insights_asks_for_no_query_and_says_nothing_of_its_cost() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, received) = start(&rt, "get_query_results_top_status.json");
    let out = chart("top", &url, &["--field", "status", "--no-insights", "--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Counted from the three replayed events (every FilterLogEvents page answers them).
    let ops: Vec<String> = received.lock().unwrap().iter().map(|(op, _)| op.clone()).collect();
    assert!(!ops.iter().any(|op| op == "StartQuery" || op == "DescribeLogGroups"), "{ops:?}");
    assert!(!stderr.contains("these log groups store"), "{stderr}");
    assert!(stderr.contains("Logs Insights is off for this source; counted from the events"), "{stderr}");
}

#[test]
fn a_throttled_query_is_retried_with_backoff_and_said() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, received) = start_throttling(&rt, "get_query_results_top_status.json", 2);
    let out = chart("top", &url, &["--field", "status", "--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 1000, "Insights' counts after the retries: {v}");
    assert!(stderr.contains("CloudWatch throttled 2 requests (the account's rate limits); retried with backoff"), "{stderr}");
    let q = start_query_sent(&received, 3);
    assert!(q["queryString"].as_str().unwrap().ends_with("| stats count(*) as n by status | sort n desc | limit 10000"), "{q}");
}
