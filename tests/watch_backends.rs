//! The same watch rule on a Loki and on an Elasticsearch source, against their replayed real
//! answers: the counts are the servers' own (Loki's `sum(count_over_time(…[1m]))` instant
//! query, Elasticsearch's `track_total_hits` over a `[now-1m, now)` range), and the test
//! asserts the count requests the watch sent.

mod support;

use serde_json::Value as Json;
use support::es_server::{self, EsServer};
use support::loki_server::{LokiServer, Recorded, Reply, json_fixture};

const RULE: &str = "errors: status >= 500 > 10 per 1m";

async fn run(args: Vec<String>) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(&args)
        .env("XDG_CONFIG_HOME", "/nonexistent-logsleuth-test")
        .output()
        .await
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn now_ns() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap()
}

fn loki_replay(r: &Recorded) -> Reply {
    match r.path.as_str() {
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        // A real `sum(count_over_time(…))` instant answer: 33876.
        "/loki/api/v1/query" => json_fixture("instant_count_pattern_line_filter.json"),
        // The stream labels, asked once to tell labels from parsed fields in the KQL.
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_fires_on_lokis_own_count() {
    let server = LokiServer::start(loki_replay).await;
    let args = |rule: &str| -> Vec<String> {
        ["watch", "--loki", &server.url, "--selector", r#"{job="nginx"}"#, "--parser", "nginx", "--rule", rule, "--once"]
            .map(String::from)
            .to_vec()
    };
    let before = now_ns();
    let (code, out, err) = run(args(RULE)).await;
    let after = now_ns();
    assert_eq!(code, 3, "{err}");
    let e: Json = serde_json::from_str(out.lines().next().expect("an event")).unwrap();
    assert_eq!((e["rule"].as_str(), e["state"].as_str(), e["value"].as_i64()), (Some("errors"), Some("firing"), Some(33876)));
    assert_eq!(e["threshold"], 10);
    assert!(e["source"].as_str().unwrap().contains("127.0.0.1"), "{e}");

    let counts = server.requests_to("/loki/api/v1/query");
    assert_eq!(counts.len(), 1, "one count query per evaluation");
    let q = counts[0].param("query").unwrap();
    assert!(q.starts_with("sum(count_over_time({job=\"nginx\"} | pattern `") && q.ends_with(" [60s]))"), "{q}");
    assert!(q.contains("status >= 500"), "the KQL is in the LogQL: {q}");
    let time: i64 = counts[0].param("time").unwrap().parse().unwrap();
    assert!(time >= before && time <= after, "the count ends now: {time}");
    let lines = server.requests_to("/loki/api/v1/query_range");
    assert_eq!(lines[0].param("limit"), Some("1"));
    let (start, end): (i64, i64) = (lines[0].param("start").unwrap().parse().unwrap(), lines[0].param("end").unwrap().parse().unwrap());
    assert_eq!((end - start, end), (60_000_000_000, time), "the window is [now-1m, now)");

    let (code, out, err) = run(args("errors: status >= 500 > 40000 per 1m")).await;
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

fn es_replay(r: &es_server::Recorded) -> es_server::Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => es_server::quickwit_info(),
        ("GET", "/nginx-access/_field_caps?fields=*") => es_server::Reply::fixture(200, "quickwit/field_caps.json"),
        // A real answer with an exact total (14575).
        ("POST", "/nginx-access/_search") => es_server::Reply::fixture(200, "quickwit/search_sort_desc_page1.json"),
        _ => es_server::Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_fires_on_elasticsearchs_own_count() {
    let server = EsServer::start(es_replay).await;
    let args = |rule: &str| -> Vec<String> {
        ["watch", "--es", &server.url, "--index", "nginx-access", "--rule", rule, "--once"].map(String::from).to_vec()
    };
    let (code, out, err) = run(args(RULE)).await;
    assert_eq!(code, 3, "{err}");
    let e: Json = serde_json::from_str(out.lines().next().expect("an event")).unwrap();
    assert_eq!((e["rule"].as_str(), e["state"].as_str(), e["value"].as_i64()), (Some("errors"), Some("firing"), Some(14575)));
    assert!(e["source"].as_str().unwrap().contains("nginx-access"), "{e}");

    let bodies = server.bodies("/nginx-access/_search");
    assert_eq!(bodies.len(), 1, "one count per evaluation: {bodies:?}");
    let body = &bodies[0];
    assert_eq!(body["track_total_hits"], true, "an exact count: {body}");
    assert_eq!(body["size"], 1);
    let filters = body["query"]["bool"]["filter"].as_array().unwrap();
    let text = serde_json::to_string(filters).unwrap();
    assert!(text.contains(r#"{"range":{"status":{"gte":"500"}}}"#), "the KQL in the DSL: {text}");
    let range = filters.iter().find_map(|f| f["range"].get("@timestamp")).unwrap_or_else(|| panic!("a time range: {text}"));
    let from: chrono::DateTime<chrono::Utc> = range["gte"].as_str().unwrap().parse().unwrap();
    let to: chrono::DateTime<chrono::Utc> = range["lt"].as_str().unwrap().parse().unwrap();
    assert_eq!((to - from).num_seconds(), 60, "{range}");
    assert!((chrono::Utc::now() - to).num_seconds().abs() < 30, "the window ends now: {range}");

    let (code, out, err) = run(args("errors: status >= 500 > 20000 per 1m")).await;
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_ruler_export_uses_the_sources_logql() {
    let server = LokiServer::start(loki_replay).await;
    let selector = r#"{job="nginx"}"#;
    let (code, logql, err) = run(["kql", "--to", "logql", "--selector", selector, "--parser", "nginx", "status >= 500"].map(String::from).to_vec()).await;
    assert_eq!(code, 0, "{err}");
    let logql = logql.trim();
    let (code, yaml, err) = run([
        "watch", "--loki", &server.url, "--selector", selector, "--parser", "nginx", "--rule", "errors: status >= 500 > 10 per 1m for 2m",
        "--rule", "silent: * < 1 per 10m", "--label", "team=web", "--export-loki-rules",
    ]
    .map(String::from)
    .to_vec())
    .await;
    assert_eq!(code, 0, "{err}");
    let expr = format!("(sum(count_over_time({logql} [60s])) or vector(0)) > 10");
    assert!(yaml.contains(&format!("        expr: {}\n", serde_json::to_string(&expr).unwrap())), "{yaml}");
    // Every line: the selector and the parser stage, as the source counts them.
    let all = logql.strip_suffix(" | status >= 500").unwrap_or_else(|| panic!("{logql}"));
    let silent = format!("(sum(count_over_time({all} [600s])) or vector(0)) < 1");
    assert!(yaml.contains(&format!("      - alert: \"silent\"\n        expr: {}\n", serde_json::to_string(&silent).unwrap())), "{yaml}");
    assert!(yaml.contains("--selector '{job=\\\"nginx\\\"}' --parser nginx --kql 'status >= 500' --since 1m"), "{yaml}");
    assert!(yaml.contains("        for: 2m\n") && yaml.contains("\"team\": \"web\""), "{yaml}");
    assert!(server.requests_to("/loki/api/v1/query").is_empty(), "the export evaluates nothing");

    let (code, _, err) = run(["watch", "access.log", "--rule", RULE, "--export-loki-rules"].map(String::from).to_vec()).await;
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_says_when_a_rule_could_not_be_evaluated() {
    // Nothing listens on 127.0.0.1:9: not "nothing fires" (0) but a source error (1).
    let (code, out, err) =
        run(["watch", "--loki", "http://127.0.0.1:9", "--selector", r#"{job="nginx"}"#, "--parser", "nginx", "--rule", RULE, "--once"]
            .map(String::from)
            .to_vec())
        .await;
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("watch errors: cannot reach http://127.0.0.1:9"), "{err}");
    assert!(err.contains("a rule could not be evaluated"), "{err}");
}
