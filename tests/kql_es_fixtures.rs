//! KQL → Elasticsearch DSL with field lists read from real `_field_caps` responses.

use logsleuth::kql::{self, EsOptions, FieldCaps};
use serde_json::json;

fn caps(name: &str) -> FieldCaps {
    let path = format!("{}/tests/fixtures/kql/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    FieldCaps::from_json(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn quickwit_capture_gives_types() {
    let c = caps("quickwit_nginx_field_caps.json");
    assert_eq!(c.get("@timestamp").unwrap().kbn_type, "date", "date_nanos is a Kibana date");
    assert_eq!(c.get("status").unwrap().kbn_type, "number");
    assert_eq!(c.get("clientip").unwrap().kbn_type, "ip");
    // Quickwit reports text fields as both text and keyword: not a pure keyword field.
    assert_eq!(c.get("method").unwrap().kbn_type, "string");
    assert!(!c.get("method").unwrap().is_keyword());
    let names: Vec<&str> = c.fields.iter().map(|f| f.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn quickwit_capture_wildcard_fields_and_dates() {
    let o = EsOptions { fields: Some(caps("quickwit_nginx_field_caps.json")), ..EsOptions::default() };
    let q = kql::to_es(&kql::parse("*_version:1.1 and @timestamp:2026-11-22").unwrap(), &o).unwrap();
    assert_eq!(
        q,
        json!({"bool":{"filter":[
            {"bool":{"should":[{"match":{"http_version":"1.1"}}],"minimum_should_match":1}},
            {"bool":{"should":[{"range":{"@timestamp":{"gte":"2026-11-22","lte":"2026-11-22"}}}],"minimum_should_match":1}}
        ]}})
    );
}

#[test]
fn reference_response_with_conflicting_types() {
    let c = caps("reference_field_caps.json");
    let rating = c.get("rating").unwrap();
    assert_eq!(rating.kbn_type, "conflict", "long in some indices, keyword in others");
    assert!(rating.searchable && rating.aggregatable);
    assert_eq!(c.get("title").unwrap().kbn_type, "string");
}

#[test]
fn nested_fixture_nested_paths_multi_fields_and_meta_fields() {
    let c = caps("nested_logs_field_caps.json");
    assert!(c.get("_seq_no").is_none(), "metadata fields outside Kibana's metaFields are dropped");
    assert!(c.get("_id").is_some());
    assert!(c.get("user").is_none() && c.get("http").is_none(), "containers are not fields");
    assert_eq!(c.get("user.first").unwrap().nested_path.as_deref(), Some("user"));
    assert_eq!(c.keyword_subfield("message").unwrap().name, "message.keyword");
    let o = EsOptions { fields: Some(c), ..EsOptions::default() };
    let q = kql::to_es(&kql::parse("user.*:x").unwrap(), &o).unwrap();
    assert_eq!(
        q,
        json!({"bool":{"should":[
            {"nested":{"path":"user","query":{"term":{"user.first":{"value":"x"}}},"score_mode":"none"}},
            {"nested":{"path":"user","query":{"term":{"user.last":{"value":"x"}}},"score_mode":"none"}}
        ],"minimum_should_match":1}})
    );
}

#[test]
fn keyword_fields_get_term_queries_text_fields_match() {
    // level is keyword only; message is text with a keyword multi-field.
    let o = EsOptions { fields: Some(caps("nested_logs_field_caps.json")), ..EsOptions::default() };
    let q = kql::to_es(&kql::parse("level:ERROR and message*:disk").unwrap(), &o).unwrap();
    assert_eq!(
        q,
        json!({"bool":{"filter":[
            {"bool":{"should":[{"term":{"level":{"value":"ERROR"}}}],"minimum_should_match":1}},
            {"bool":{"should":[
                {"match":{"message":"disk"}},
                {"term":{"message.keyword":{"value":"disk"}}}
            ],"minimum_should_match":1}}
        ]}})
    );
}

#[test]
fn kibana_stub_data_view_keeps_its_field_order() {
    // A data view field list is not re-sorted: wildcard names expand in its order.
    let c = caps("kibana_stub_fields.json");
    let names: Vec<&str> = c.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(&names[..3], ["bytes", "ssl", "@timestamp"]);
    let o = EsOptions { fields: Some(c), time_zone: Some("America/Phoenix".into()), ..EsOptions::default() };
    let q = kql::to_es(&kql::parse("machine*:osx and @timestamp >= 1776338120239").unwrap(), &o).unwrap();
    assert_eq!(
        q,
        json!({"bool":{"filter":[
            {"bool":{"should":[
                {"match":{"machine.os":"osx"}},
                {"match":{"machine.os.raw":"osx"}},
                {"term":{"machine.os.keyword":{"value":"osx"}}}
            ],"minimum_should_match":1}},
            {"bool":{"should":[{"range":{"@timestamp":{"gte":"1776338120239"}}}],"minimum_should_match":1}}
        ]}})
    );
}
