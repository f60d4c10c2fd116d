//! The order followed through three services (tests/thread_cli.rs, tests/ui_thread_backends.rs):
//! the frontend's lines, and the real captured Loki and Quickwit answers cut to the order's
//! lines as the servers answer the thread's query (tests/fixtures/README.md, "thread").

use serde_json::{Value as Json, json};

use super::es_server::fixture as es_fixture;
use super::loki_server::fixture;

pub const FROM: &str = "2026-11-22T02:03:53.558632019Z";
pub const TO: &str = "2026-11-22T08:05:16.161919916Z";
pub const ORDER: &str = "ord-830664";

/// The shop frontend's log: two lines of the followed order around one of another order.
pub const FRONTEND: &str = concat!(
    r#"{"time":"2026-11-22T06:49:23.871Z","level":"info","service":"shop-frontend","msg":"checkout submitted","orderId":"ord-830664","userId":1960}"#,
    "\n",
    r#"{"time":"2026-11-22T06:49:31.220Z","level":"info","service":"shop-frontend","msg":"checkout submitted","orderId":"ord-655031","userId":77}"#,
    "\n",
    r#"{"time":"2026-11-22T06:49:40.612Z","level":"warn","service":"shop-frontend","msg":"payment failed, order left pending","orderId":"ord-830664","userId":1960}"#,
    "\n",
);

/// The captured shop-api answer; asked for the order, only the order's entry (what Loki
/// answers the filtered query).
pub fn shop_api_answer(for_order: bool) -> String {
    let mut answer: Json = serde_json::from_str(&fixture("query_range_json_label_filter_categorized.json")).unwrap();
    if for_order {
        let result = answer["data"]["result"].as_array_mut().unwrap();
        for stream in result.iter_mut() {
            stream["values"].as_array_mut().unwrap().retain(|v| v[1].as_str().unwrap().contains(ORDER));
        }
        result.retain(|s| !s["values"].as_array().unwrap().is_empty());
        assert_eq!(result.len(), 1, "the fixture holds the order's line once");
    }
    answer.to_string()
}

/// The real Quickwit page; asked for the order, its second hit as the edge line of the order
/// (its request carries the order id, re-stamped to the order's second).
pub fn edge_answer(for_order: bool) -> Json {
    let mut answer = es_fixture("quickwit/search_sort_desc_page1.json");
    if !for_order {
        return answer;
    }
    let mut hit = answer["hits"]["hits"][1].take();
    let source = &mut hit["_source"];
    for key in ["message", "path", "request"] {
        let text = source[key].as_str().unwrap().replace("/downloads/product_1", "/downloads/product_1?order=ord-830664");
        source[key] = text.into();
    }
    source["@timestamp"] = "2026-11-22T06:49:23.902Z".into();
    hit["sort"] = json!([1795330163902_i64]);
    answer["hits"]["hits"] = json!([hit]);
    answer["hits"]["total"] = json!({"value": 1, "relation": "eq"});
    answer
}
