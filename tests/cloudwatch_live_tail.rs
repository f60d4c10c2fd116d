//! `logsleuth tail --cloudwatch` through a Live Tail session: the real binary against an
//! in-process server on 127.0.0.1 speaking the CloudWatch Logs JSON 1.1 protocol, whose
//! `StartLiveTail` answer is an event stream (`application/vnd.amazon.eventstream`, written
//! with the SDK's own framing crate) of `sessionStart` and `sessionUpdate` events in the API
//! Reference's shapes (`tests/fixtures/cloudwatch/README.md`). The session turns to sampling,
//! so the tail goes on by polling `FilterLogEvents`; every line is printed once across the
//! handover, and the requests are asserted. moto has no Live Tail.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use serde_json::{Value, json};

const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/shop/web";

fn line(second: u32, status: u16) -> String {
    format!("203.0.113.9 - - [03/Dec/2026:11:00:{second:02} +0000] \"POST /api/checkout HTTP/1.1\" {status} 87 \"-\" \"curl/8.5.0\"")
}

/// One event-stream frame: an `event` of `kind` with a JSON payload.
fn frame(kind: &'static str, payload: &Value) -> Bytes {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(":message-type", HeaderValue::String("event".into())))
        .add_header(Header::new(":event-type", HeaderValue::String(kind.into())))
        .add_header(Header::new(":content-type", HeaderValue::String("application/json".into())));
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    Bytes::from(out)
}

fn live_result(ts: i64, message: &str) -> Value {
    json!({"logStreamName": "web-1", "logGroupIdentifier": ARN, "message": message, "timestamp": ts, "ingestionTime": ts + 400})
}

type Received = Arc<Mutex<Vec<(String, Value)>>>;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn a_live_tail_session_that_turns_to_sampling_hands_over_to_polling_without_repeats() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let received: Received = Arc::default();
    let log = received.clone();
    // Event times: a little ahead of the tail's start, so that none is before it.
    let t = now_ms() + 2_000;
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        async move {
            let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let op = target.strip_prefix("Logs_20140328.").unwrap_or(&target).to_string();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            log.lock().unwrap().push((op.clone(), body.clone()));
            let json = |v: Value| {
                axum::response::Response::builder().header("content-type", "application/x-amz-json-1.1").body(Body::from(v.to_string())).unwrap()
            };
            match op.as_str() {
                "DescribeLogGroups" => json(serde_json::from_str(&std::fs::read_to_string(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/cloudwatch/describe_log_groups.json"
                ))
                .unwrap())
                .unwrap()),
                "FilterLogEvents" => {
                    // The lines the session sent, and one that came after it turned to sampling,
                    // within the range asked.
                    // Before them, half an hour earlier, what the format is told from.
                    let all = [
                        (t - 1_800_000, line(0, 200)),
                        (t - 1_799_000, line(0, 404)),
                        (t, line(1, 502)),
                        (t + 1, line(2, 504)),
                        (t + 2, line(3, 500)),
                        (t + 3, line(4, 503)),
                    ];
                    let (start, end) = (body["startTime"].as_i64().unwrap_or(i64::MIN), body["endTime"].as_i64().unwrap_or(i64::MAX));
                    let events: Vec<Value> = all
                        .iter()
                        .filter(|(ts, _)| *ts >= start && *ts <= end)
                        .map(|(ts, m)| {
                            json!({"logStreamName": "web-1", "timestamp": ts, "message": m, "ingestionTime": ts + 400, "eventId": format!("{ts}000000000000000000000000")})
                        })
                        .collect();
                    json(json!({"events": events, "searchedLogStreams": []}))
                }
                "StartLiveTail" => {
                    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
                    tokio::spawn(async move {
                        let start = json!({"requestId": "6f3c1b2a-0000-4000-8000-000000000001", "sessionId": "6f3c1b2a-0000-4000-8000-000000000002",
                            "logGroupIdentifiers": [ARN], "logStreamNames": [], "logStreamNamePrefixes": [], "logEventFilterPattern": body["logEventFilterPattern"]});
                        let _ = tx.send(frame("sessionStart", &start)).await;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        // The second result does not match the KQL: logsleuth evaluates it on
                        // every event, whatever the pattern let through.
                        let first = json!({"sessionMetadata": {"sampled": false}, "sessionResults": [
                            live_result(t, &line(1, 502)), live_result(t, &line(1, 200).replace("POST /api/checkout", "GET /")), live_result(t + 1, &line(2, 504))]});
                        let _ = tx.send(frame("sessionUpdate", &first)).await;
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let sampled = json!({"sessionMetadata": {"sampled": true}, "sessionResults": [live_result(t + 2, &line(3, 500))]});
                        let _ = tx.send(frame("sessionUpdate", &sampled)).await;
                        tokio::time::sleep(Duration::from_secs(20)).await;
                    });
                    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx)) });
                    axum::response::Response::builder()
                        .header("content-type", "application/vnd.amazon.eventstream")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }
                _ => axum::response::Response::builder()
                    .status(400)
                    .header("content-type", "application/x-amz-json-1.1")
                    .body(Body::from(json!({"__type": "UnknownOperationException", "message": op}).to_string()))
                    .unwrap(),
            }
        }
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"));
    let child = support::aws::aws_env(&mut cmd)
        .args(["tail", "--cloudwatch", "/shop/web", "--endpoint", &url, "--kql", "status >= 500", "--output", "raw"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The session (0.6 s), then polls every 2 s until the last line is past.
    std::thread::sleep(Duration::from_secs(8));
    let pid = child.id();
    // SAFETY: kill has no memory effects; the child is ours.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, vec![line(1, 502), line(2, 504), line(3, 500), line(4, 503)], "each line once, in order\n{stderr}");
    assert!(stderr.contains("CloudWatch Live Tail session"), "{stderr}");
    assert!(stderr.contains("Live Tail began sampling"), "{stderr}");

    let received = received.lock().unwrap().clone();
    let starts: Vec<&Value> = received.iter().filter(|(op, _)| op == "StartLiveTail").map(|(_, b)| b).collect();
    assert_eq!(starts.len(), 1, "{received:?}");
    assert_eq!(starts[0]["logGroupIdentifiers"], json!([ARN]), "groups by ARN: {}", starts[0]);
    assert_eq!(starts[0]["logEventFilterPattern"], "[remote_addr, ident, remote_user, time_local, request, status>=500, ...]", "{}", starts[0]);
    // After the session: polls with the same pattern, from the session's place.
    let polls: Vec<&Value> =
        received.iter().skip_while(|(op, _)| op != "StartLiveTail").filter(|(op, _)| op == "FilterLogEvents").map(|(_, b)| b).collect();
    assert!(!polls.is_empty(), "{received:?}");
    assert!(polls.iter().all(|p| p["filterPattern"] == starts[0]["logEventFilterPattern"]), "{polls:?}");
    assert!(polls.iter().all(|p| p["logGroupName"] == "/shop/web" || p["logGroupIdentifier"].is_string()), "{polls:?}");
}
