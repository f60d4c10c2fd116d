//! `logsleuth patterns` against the Loki replay server: the pattern ingester's templates
//! (`/loki/api/v1/patterns`, real answer), each counted exactly with the pattern line filter
//! (`|>` in a `count_over_time`, real answer shape); and the fallback to Drain on an evenly
//! spread sample when the ingester is off (404).

mod support;

use std::collections::HashMap;
use std::process::Stdio;

use support::loki_server::{LokiServer, Recorded, Reply, fixture, json_fixture};
use tokio::process::Command;

const FROM: &str = "2026-11-22T02:03:53.558632019Z";
const TO: &str = "2026-11-22T08:05:16.161919916Z";

async fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(args).stdin(Stdio::null()).output().await.expect("run logsleuth");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Each template's sample sum in the real patterns answer.
fn sample_sums() -> HashMap<String, u64> {
    let v: serde_json::Value = serde_json::from_str(&fixture("patterns_nginx.json")).unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["pattern"].as_str().unwrap().to_string(), p["samples"].as_array().unwrap().iter().map(|s| s[1].as_u64().unwrap()).sum()))
        .collect()
}

/// The real instant answer with its value set to `n`.
fn count_reply(n: u64) -> Reply {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("instant_count_pattern_line_filter.json")).unwrap();
    v["data"]["result"][0]["value"][1] = n.to_string().into();
    Reply::Json(200, v.to_string())
}

fn template_of(query: &str) -> Option<&str> {
    let start = query.find("|> `")? + 4;
    let end = query[start..].find('`')? + start;
    Some(&query[start..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patterns_come_from_the_ingester_with_exact_counts() {
    let sums = sample_sums();
    let server = LokiServer::start(move |r: &Recorded| {
        let q = r.param("query").unwrap_or("");
        match r.path.as_str() {
            "/loki/api/v1/patterns" => json_fixture("patterns_nginx.json"),
            // Each template recounted exactly: here its ingester count minus one, so the test
            // sees which number is printed.
            "/loki/api/v1/query" if q.contains("|>") => match template_of(q).and_then(|t| sums.get(t)) {
                Some(n) => count_reply(n - 1),
                None => Reply::Text(400, format!("parse error: unexpected template in {q}")),
            },
            "/loki/api/v1/query" => count_reply(51462),
            _ => Reply::Text(404, "404 page not found\n".into()),
        }
    })
    .await;
    let url = server.url.clone();
    let (code, out, err) =
        run(&["patterns", "--loki", &url, "--selector", r#"{job="nginx"}"#, "--from", FROM, "--to", TO, "--size", "5", "--output", "json"])
            .await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["method"], "loki");
    assert_eq!(v["exact"], true);
    assert_eq!(v["total"], 51462);
    let p = v["patterns"].as_array().unwrap();
    assert_eq!(p.len(), 5);
    assert_eq!(p[0]["pattern"], r#"<_> - - [<_> +0000] "GET <_> HTTP/1.1" <_> <_> "-" "Debian <_> (<_>)""#);
    assert_eq!(p[0]["count"], 47304);
    assert!((p[0]["share"].as_f64().unwrap() - 47304.0 / 51462.0).abs() < 1e-9);
    assert_eq!(p[1]["count"], 2226);
    let samples = p[0]["samples"].as_array().unwrap();
    assert!(samples.len() >= 20, "{samples:?}");
    assert_eq!(samples.iter().map(|s| s[1].as_u64().unwrap()).sum::<u64>(), 47305, "the ingester's samples on the grid");

    // The requests: the ingester over the range, then one exact count per template kept.
    let pat = &server.requests_to("/loki/api/v1/patterns")[0];
    assert_eq!(pat.param("query"), Some(r#"{job="nginx"}"#));
    assert_eq!(pat.param("start"), Some("1795313033558632019"));
    assert_eq!(pat.param("end"), Some("1795334716161919916"));
    assert!(pat.param("step").unwrap().parse::<u64>().unwrap() >= 60);
    let counts: Vec<String> = server
        .requests_to("/loki/api/v1/query")
        .iter()
        .map(|r| r.param("query").unwrap().to_string())
        .collect();
    assert_eq!(counts.len(), 6, "{counts:#?}");
    // The range is the whole request range (21,682,603 ms), evaluated at its end.
    assert!(counts.contains(&r#"sum(count_over_time({job="nginx"} [21682603ms]))"#.to_string()), "{counts:#?}");
    assert!(
        counts.contains(
            &r#"sum(count_over_time({job="nginx"} |> `<_> - - [<_> +0000] "GET <_> HTTP/1.1" <_> <_> "-" "Debian <_> (<_>)"` [21682603ms]))"#
                .to_string()
        ),
        "{counts:#?}"
    );
    assert!(server.requests_to("/loki/api/v1/query").iter().all(|r| r.param("time") == Some("1795334716161919916")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_pattern_ingester_a_sample_is_mined_and_marked_estimated() {
    let server = LokiServer::start(|r: &Recorded| match r.path.as_str() {
        "/loki/api/v1/patterns" => Reply::Text(404, "404 page not found\n".into()),
        "/loki/api/v1/query_range" => json_fixture("query_range_streams_backward.json"),
        "/loki/api/v1/query" => count_reply(51462),
        _ => Reply::Text(404, "404 page not found\n".into()),
    })
    .await;
    let url = server.url.clone();
    let (code, out, err) =
        run(&["patterns", "--loki", &url, "--selector", r#"{job="nginx"}"#, "--from", FROM, "--to", TO, "--output", "json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["method"], "drain");
    assert_eq!(v["exact"], false);
    assert!(!v["patterns"].as_array().unwrap().is_empty());
    assert!(err.contains("sample"), "{err}");
    // The sample is spread: one log query per slice of the range, each over its own slice.
    // (Other log queries, such as the parser detection's sample, ask for other limits.)
    let logs: Vec<_> =
        server.requests_to("/loki/api/v1/query_range").into_iter().filter(|r| r.param("limit") == Some("250")).collect();
    assert_eq!(logs.len(), 20);
    assert_eq!(logs[0].param("start"), Some("1795313033558632019"));
    assert_eq!(logs[19].param("end"), Some("1795334716161919916"));
}
