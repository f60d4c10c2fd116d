//! The CLI subcommands against Elasticsearch, end to end: the built binary talks to the
//! in-process replay server.

mod support;

use std::process::Output;

use serde_json::{Value as Json, json};
use support::es_server::{EsServer, Recorded, Reply, TiedIndex, fixture, nginx_lines, quickwit_info, tied_index_server};

const CAPS: &str = "/nginx-access/_field_caps?fields=*";
const SEARCH: &str = "/nginx-access/_search";

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(&args).env_remove("LOGSLEUTH_CONFIG").output().unwrap()
    })
    .await
    .unwrap()
}

fn args(server: &EsServer, rest: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = vec![rest[0].into(), "--es".into(), server.url.clone(), "--index".into(), "nginx-access".into()];
    out.extend(rest[1..].iter().map(|s| s.to_string()));
    out
}

async fn quickwit_server() -> EsServer {
    EsServer::start(|r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => quickwit_info(),
        ("GET", CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", SEARCH) => {
            let body = r.body.clone().unwrap_or(Json::Null);
            if body["aggs"].get("top").is_some() {
                let mut answer = fixture("quickwit/search_terms_aggs_status_clientip_useragent.json");
                answer["aggregations"] = json!({"top": answer["aggregations"]["status"].take()});
                Reply::json(answer)
            } else {
                Reply::fixture(200, "quickwit/search_sort_desc_page1.json")
            }
        }
        _ => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn query_raw_prints_each_hits_message() {
    let server = quickwit_server().await;
    let out = run(args(&server, &["query", "--since", "1h", "--limit", "3", "--output", "raw", "--kql", "status >= 300"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: Vec<String> = fixture("quickwit/search_sort_desc_page1.json")["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_source"]["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().collect::<Vec<_>>(), expected);
    let body = &server.bodies(SEARCH)[0];
    assert_eq!(body["size"], json!(3));
    assert_eq!(body["query"]["bool"]["filter"][0], json!({"bool": {"should": [{"range": {"status": {"gte": "300"}}}], "minimum_should_match": 1}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn query_ndjson_and_top_json() {
    let server = quickwit_server().await;
    let out = run(args(&server, &["query", "--since", "1h", "--limit", "1", "--dsl", r#"{"term":{"host":"web-01"}}"#])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Json = serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["@timestamp"], json!("2026-11-22T08:11:12Z"));
    assert_eq!(line["_index"], json!("nginx-access"));
    assert_eq!(line["status"], json!(304));

    let out = run(args(&server, &["top", "--since", "1h", "--field", "status", "--size", "5", "--output", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let top: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(top["field"], json!("status"));
    assert_eq!(top["total"], json!(14575));
    assert_eq!(top["buckets"][0], json!({"value": "404", "count": 9622}));
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_exit_with_the_servers_words() {
    let server = EsServer::start(|r: &Recorded| match r.path.as_str() {
        "/" => quickwit_info(),
        _ => Reply::fixture(404, "reference/error_index_not_found_exception_404.json"),
    })
    .await;
    let out = run(args(&server, &["query", "--since", "1h"])).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("index not found: index_not_found_exception: no such index [poop]"), "{stderr}");

    let server = quickwit_server().await;
    let out = run(args(&server, &["query", "--since", "1h", "--kql", "status:("])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KQL syntax error"));

    let out = run(vec!["query".into(), "--es".into(), server.url.clone()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--index"));
}

/// An ES-API server holding the whole nginx log in several splits (real captured answers):
/// the first `terms` is approximate (bound 242), the recount with `shard_size` exact, or
/// refused.
async fn split_server(refuse_recount: bool) -> EsServer {
    EsServer::start(move |r: &Recorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => quickwit_info(),
        ("GET", CAPS) => Reply::fixture(200, "quickwit/field_caps.json"),
        ("POST", SEARCH) => {
            let body = r.body.clone().unwrap_or(Json::Null);
            let file = match body["aggs"]["top"]["terms"].get("shard_size") {
                None => "quickwit/search_terms_clientip_approximate.json",
                Some(_) if refuse_recount => return Reply::fixture(400, "quickwit/error_unknown_query_type_400.json"),
                Some(_) => "quickwit/search_terms_clientip_shard_size_exact.json",
            };
            // The capture named its aggregation `clientip`; logsleuth names it `top`.
            let mut answer = fixture(file);
            answer["aggregations"] = json!({"top": answer["aggregations"]["clientip"].take()});
            Reply::json(answer)
        }
        _ => Reply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn top_prints_exact_counts_after_the_recount() {
    let server = split_server(false).await;
    let out = run(args(&server, &["top", "--since", "1h", "--field", "clientip", "--size", "3", "--output", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let top: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(top["exact"], json!(true));
    assert_eq!(top.get("error_bound"), None);
    assert_eq!(top["buckets"][2], json!({"value": "204.77.168.241", "count": 1439}));
    let bodies = server.bodies(SEARCH);
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["aggs"], json!({"top": {"terms": {"field": "clientip", "size": 3, "shard_size": 5000}}}));

    let out = run(args(&server, &["top", "--since", "1h", "--field", "clientip", "--size", "3"])).await;
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("204.77.168.241   1439\n"), "{table}");
    assert!(!table.contains('±'), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn top_says_approximate_when_the_recount_is_refused() {
    let server = split_server(true).await;
    let out = run(args(&server, &["top", "--since", "1h", "--field", "clientip", "--size", "3", "--output", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let top: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(top["exact"], json!(false));
    assert_eq!(top["error_bound"], json!(242));
    assert_eq!(top["buckets"][2], json!({"value": "204.77.168.241", "count": 1414}));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("approximate (±242)"), "{stderr}");

    let out = run(args(&server, &["top", "--since", "1h", "--field", "clientip", "--size", "3"])).await;
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("204.77.168.241   1414 ±242\n"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn query_reads_every_document_of_20_crowded_seconds() {
    // The captured `nginx-ties` index behind a server without point in time: 51,462 real
    // nginx lines on 20 whole seconds (~2,600 each).
    let first = chrono::DateTime::parse_from_rfc3339("2026-12-01T19:36:35Z").unwrap().timestamp_millis();
    let server = tied_index_server(std::sync::Arc::new(TiedIndex::new(nginx_lines(), first, 20, false))).await;
    let out = run(
        ["query", "--es", &server.url, "--index", "nginx-ties", "--from", "2026-12-01T19:36:35Z", "--to", "2026-12-01T19:36:55Z", "--limit", "60000", "--output", "raw"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("skip"), "{stderr}");
    let mut got: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    let mut want = nginx_lines();
    assert_eq!(got.len(), want.len());
    got.sort();
    want.sort();
    assert!(got == want, "every line exactly once");
}
