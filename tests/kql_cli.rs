//! Runs the `logsleuth kql` subcommand end to end.

use std::process::{Command, Output};

fn kql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .arg("kql")
        .args(args)
        .output()
        .expect("run logsleuth")
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/kql/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn es_untyped_matches_kibana() {
    let out = kql(&["--to", "es", "status:200"]);
    assert_eq!(
        stdout_json(&out),
        serde_json::json!({"bool":{"should":[{"match":{"status":"200"}}],"minimum_should_match":1}})
    );
    // Pretty-printed.
    assert!(String::from_utf8_lossy(&out.stdout).contains("\n  \"bool\": {"));
}

#[test]
fn es_with_captured_field_caps_types_dates() {
    let caps = fixture("quickwit_nginx_field_caps.json");
    let out = kql(&["--to", "es", "--fields", &caps, "--time-zone", "Europe/Paris", "@timestamp >= now-1h and status >= 500"]);
    assert_eq!(
        stdout_json(&out),
        serde_json::json!({"bool":{"filter":[
            {"bool":{"should":[{"range":{"@timestamp":{"gte":"now-1h","time_zone":"Europe/Paris"}}}],"minimum_should_match":1}},
            {"bool":{"should":[{"range":{"status":{"gte":"500"}}}],"minimum_should_match":1}}
        ]}})
    );
}

#[test]
fn es_keyword_terms_and_epoch_dates_like_kibana_main() {
    let caps = fixture("kibana_stub_fields.json");
    let out = kql(&["--to", "es", "--fields", &caps, "--time-zone", "America/Phoenix",
        r#"machine.os.keyword:"Win 7" and @timestamp > 1776338120239 and @timestamp < now"#]);
    assert_eq!(
        stdout_json(&out),
        serde_json::json!({"bool":{"filter":[
            {"bool":{"should":[{"term":{"machine.os.keyword":{"value":"Win 7"}}}],"minimum_should_match":1}},
            {"bool":{"should":[{"range":{"@timestamp":{"gt":"1776338120239"}}}],"minimum_should_match":1}},
            {"bool":{"should":[{"range":{"@timestamp":{"lt":"now","time_zone":"America/Phoenix"}}}],"minimum_should_match":1}}
        ]}})
    );
}

#[test]
fn es_nested_and_case_insensitive_keywords() {
    let caps = fixture("nested_logs_field_caps.json");
    let out = kql(&["--to", "es", "--fields", &caps, "--case-insensitive", r#"user:{ first:alice and last:wh* }"#]);
    assert_eq!(
        stdout_json(&out),
        serde_json::json!({"nested":{"path":"user","query":{"bool":{"filter":[
            {"bool":{"should":[{"term":{"user.first":{"value":"alice","case_insensitive":true}}}],"minimum_should_match":1}},
            {"bool":{"should":[{"wildcard":{"user.last":{"value":"wh*","case_insensitive":true}}}],"minimum_should_match":1}}
        ]}},"score_mode":"none"}})
    );
    let out = kql(&["--to", "es", "--fields", &caps, "user.first:alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a nested field, but is not in a nested group"));
}

#[test]
fn logql_output_is_a_plain_string() {
    let out = kql(&["--to", "logql", "--selector", r#"{job="nginx"}"#, "--labels", "host,env", "--parser", "json", "host:web-01 and error and status >= 500"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{job=\"nginx\", host=\"web-01\"} |~ \"(?i)error\" | json | status >= 500\n"
    );
}

#[test]
fn logql_limits_exit_2_with_the_reason() {
    let out = kql(&["--to", "logql", "--selector", r#"{job="x"}"#, "--parser", "json", "error or status:500"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot translate `error or status:500` to LogQL"), "{err}");
    let out = kql(&["--to", "logql", "--parser", "yaml", "a:1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ast_is_kuery_node_json() {
    let out = kql(&["--to", "ast", "status:(200 or 304)"]);
    let v = stdout_json(&out);
    assert_eq!(v["function"], "or");
    assert_eq!(v["arguments"][0]["function"], "is");
    assert_eq!(v["arguments"][1]["arguments"][1]["value"], "304");
}

#[test]
fn syntax_errors_exit_2_with_a_caret() {
    let out = kql(&["--to", "es", "response:200 extension:php"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1, column 23"), "{err}");
    assert!(err.contains("\nresponse:200 extension:php\n----------------------^"), "{err}");
}

#[test]
fn leading_wildcards_flag() {
    let out = kql(&["--to", "es", "--no-leading-wildcards", "path:*.php"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Leading wildcards are disabled"));
    let out = kql(&["--to", "es", "path:*.php"]);
    assert!(out.status.success());
}

#[test]
fn unreadable_field_caps_is_a_usage_error() {
    let out = kql(&["--to", "es", "--fields", "/nonexistent/caps.json", "a:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn cloudwatch_shows_the_filter_pattern_and_the_insights_filter() {
    let out = kql(&["--to", "cloudwatch", "--format", "json", "level: error and service: \"checkout\""]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "filter pattern: { ($.level = \"error\") && ($.service = \"checkout\") }\nlogs insights:  filter (level = \"error\" and service = \"checkout\")\n"
    );
    assert!(out.stderr.is_empty(), "the pattern is the whole query: {}", String::from_utf8_lossy(&out.stderr));
    // Access logs: the method is inside the request column, so the pattern says only part of it.
    let out = kql(&["--to", "cloudwatch", "--format", "access", "status >= 500 and not method: GET"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("filter pattern: [remote_addr, ident, remote_user, time_local, request, status>=500, ...]\n"), "{text}");
    assert!(text.ends_with("logs insights:  filter (status >= 500 and not (method = \"GET\"))\n"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the pattern does not say the whole query"));
    // Nothing either can say: both are said.
    let out = kql(&["--to", "cloudwatch", "a.*: x"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("filter pattern: (none: every event of the range is fetched)\n"), "{text}");
    assert!(text.contains("logs insights:  (none: nested or wildcard field names"), "{text}");
}
