//! `logsleuth thread` end to end: one order followed through three services on three backends —
//! the shop frontend's JSON-lines file (written here), the shop API on a replayed Loki, the
//! edge nginx on a replayed Elasticsearch-compatible server — each naming the order id
//! differently (`orderId`, `order_id`, only inside the request line). The replay servers assert
//! the queries each backend received; the merged thread is ordered on one clock, tagged with
//! its source, and flags the planted error (the API's 504) as the first error line.
//!
//! The answers are real captured answers, cut down to the order's lines as the servers would
//! have answered the filtered query; what was changed is listed in tests/fixtures/README.md
//! ("thread").

mod support;

use std::process::Output;

use serde_json::{Value as Json, json};
use support::es_server::{EsServer, Recorded as EsRecorded, Reply as EsReply, quickwit_info};
use support::loki_server::{LokiServer, Recorded, Reply, json_fixture};
use support::thread::{FROM, FRONTEND, ORDER, TO, edge_answer, shop_api_answer};



fn loki_replay(r: &Recorded) -> Reply {
    match r.path.as_str() {
        "/loki/api/v1/query_range" => Reply::Json(200, shop_api_answer(true)),
        "/loki/api/v1/detected_fields" => json_fixture("detected_fields.json"),
        "/loki/api/v1/labels" => json_fixture("labels.json"),
        "/loki/api/v1/query" => Reply::Json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795334716.161,"1"]}]}}"#.into(),
        ),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}


async fn es_server() -> EsServer {
    EsServer::start(|r: &EsRecorded| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/") => quickwit_info(),
        ("GET", "/nginx-access/_field_caps?fields=*") => EsReply::fixture(200, "quickwit/field_caps.json"),
        ("POST", "/nginx-access/_search") => EsReply::json(edge_answer(true)),
        _ => EsReply::fixture(404, "quickwit/error_open_pit_404.json"),
    })
    .await
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(&args).env_remove("LOGSLEUTH_CONFIG").output().unwrap()
    })
    .await
    .unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    loki: LokiServer,
    es: EsServer,
    args: Vec<String>,
}

async fn setup(field: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop-frontend.jsonl");
    std::fs::write(&file, FRONTEND).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[thread.aliases]\norder_id = [\"orderId\", \"order.id\", \"ctx.order\"]\n").unwrap();
    let loki = LokiServer::start(loki_replay).await;
    let es = es_server().await;
    let mut args: Vec<String> = vec!["thread".into(), "--config".into(), config.display().to_string(), "--value".into(), ORDER.into()];
    if let Some(f) = field {
        args.extend(["--field".into(), f.into()]);
    }
    args.extend([
        file.display().to_string(),
        "--loki".into(),
        loki.url.clone(),
        "--selector".into(),
        r#"{job="shop-api"}"#.into(),
        "--es".into(),
        es.url.clone(),
        "--index".into(),
        "nginx-access".into(),
        "--from".into(),
        FROM.into(),
        "--to".into(),
        TO.into(),
    ]);
    Setup { _dir: dir, loki, es, args }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_through_three_backends_on_one_clock() {
    let s = setup(Some("order_id")).await;
    let out = run(s.args.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    // How each source was asked: the alias on the file, the same name on Loki, free text on
    // Elasticsearch, which has no field of that meaning.
    assert!(stderr.contains(r#"shop-frontend.jsonl: orderId:"ord-830664""#), "{stderr}");
    assert!(stderr.contains(r#"{job="shop-api"}: order_id:"ord-830664""#), "{stderr}");
    assert!(stderr.contains(r#"nginx-access: "ord-830664""#), "{stderr}");

    // The queries the servers received.
    let logs: Vec<String> = s
        .loki
        .requests_to("/loki/api/v1/query_range")
        .iter()
        .filter(|r| r.param("step").is_none())
        .map(|r| r.param("query").unwrap_or_default().to_string())
        .collect();
    // The selector alone first (a sample to detect the parser), then the thread's query.
    assert_eq!(logs, vec![r#"{job="shop-api"}"#.to_string(), r#"{job="shop-api"} | json | order_id="ord-830664""#.to_string()]);
    let searches = s.es.bodies("/nginx-access/_search");
    let search = searches.iter().find(|b| b["size"].as_u64().unwrap_or(0) > 0).expect("a search for lines");
    assert_eq!(
        search["query"]["bool"]["filter"][0],
        json!({"multi_match": {"type": "phrase", "query": ORDER, "lenient": true}}),
        "{search}"
    );
    assert_eq!(
        search["query"]["bool"]["filter"][1]["range"]["@timestamp"]["gte"],
        json!("2026-11-22T02:03:53.558Z"),
        "{search}"
    );

    // The thread: ordered on one clock, tagged, gaps, the planted error flagged once.
    let lines: Vec<Json> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let path: Vec<(&str, &str)> =
        lines.iter().map(|l| (l["@timestamp"].as_str().unwrap(), l["@thread"]["source"].as_str().unwrap())).collect();
    assert_eq!(
        path,
        vec![
            ("2026-11-22T06:49:23.871Z", "shop-frontend.jsonl"),
            ("2026-11-22T06:49:23.902Z", "nginx-access"),
            ("2026-11-22T06:49:40.483113158Z", r#"{job="shop-api"}"#),
            ("2026-11-22T06:49:40.612Z", "shop-frontend.jsonl"),
        ]
    );
    let gaps: Vec<Json> = lines.iter().map(|l| l["@thread"]["gap_ms"].clone()).collect();
    assert_eq!(gaps, vec![Json::Null, json!(31.0), json!(16581.113158), json!(128.886842)]);
    let first: Vec<bool> = lines.iter().map(|l| l["@thread"]["first_error"].as_bool().unwrap()).collect();
    assert_eq!(first, vec![false, false, true, false]);
    assert_eq!(lines[2]["status"], json!(504), "the planted error is the API's gateway timeout");
    assert_eq!(lines[1]["clientip"], json!("65.39.197.164"));
    assert_eq!(lines[3]["msg"], json!("payment failed, order left pending"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_output_and_free_text_without_a_field() {
    let mut s = setup(None).await;
    s.args.extend(["--output".into(), "table".into()]);
    let out = run(s.args.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Without --field every source gets the phrase; Loki runs it as a line filter (KQL free
    // text ignores case, as Kibana's does).
    let logs: Vec<String> =
        s.loki.requests_to("/loki/api/v1/query_range").iter().map(|r| r.param("query").unwrap_or_default().to_string()).collect();
    // A line filter needs no parsed field: raw lines, the parser detected from them.
    assert_eq!(logs, vec![r#"{job="shop-api"} |~ "(?i)ord\\-830664""#.to_string()]);
    assert!(stderr.contains(r#"shop-frontend.jsonl: "ord-830664""#), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 5, "{text}");
    assert!(rows[0].starts_with("@timestamp"), "{text}");
    assert!(rows[3].contains("+16.5s") && rows[3].contains("!!") && rows[3].contains("payment gateway timeout"), "{text}");
    assert!(rows[2].contains("+0.031s") && rows[2].contains("nginx-access") && rows[2].contains("product_1?order=ord-830664"), "{text}");
    assert!(rows[4].contains("payment failed") && !rows[4].contains("!!"), "only the first error is marked first: {text}");
    assert!(!rows[1].contains(" ! ") && !rows[1].contains("!!"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors() {
    let out = run(vec!["thread".into(), "--value".into(), ORDER.into()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source"));
    let out = run(vec!["thread".into(), "--value".into(), ORDER.into(), "--selector".into(), "{job=\"x\"}".into()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--selector"));
}
