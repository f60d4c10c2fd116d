//! `logsleuth watch` against a REAL Prometheus Alertmanager (Debian's
//! `prometheus-alertmanager`, started by `.ci/run` on 127.0.0.1:9093 and named by
//! `LOGSLEUTH_TEST_ALERTMANAGER`). The binary follows a file being appended to with nginx
//! lines; the test reads Alertmanager's own API (`GET /api/v2/alerts`) to see the alert
//! firing within one `--every` of the 11th 5xx line, then resolved once the window passed.

mod watch_common;

use std::time::{Duration, Instant};

use serde_json::Value as Json;
use watch_common::{Running, append, line_now, old_log};

/// The Alertmanager of the test run. Never skipped: without one these tests fail and say why.
async fn alertmanager() -> String {
    let url = std::env::var("LOGSLEUTH_TEST_ALERTMANAGER").unwrap_or_else(|_| {
        panic!(
            "LOGSLEUTH_TEST_ALERTMANAGER is not set: these tests need a real Alertmanager \
             (.ci/run installs prometheus-alertmanager and starts it on 127.0.0.1:9093)"
        )
    });
    let url = url.trim_end_matches('/').to_string();
    match reqwest::get(format!("{url}/-/ready")).await {
        Ok(r) if r.status().is_success() => url,
        Ok(r) => panic!("Alertmanager at {url} is not ready: HTTP {}", r.status()),
        Err(e) => panic!("Alertmanager at {url} (LOGSLEUTH_TEST_ALERTMANAGER) cannot be reached: {e}"),
    }
}

/// The alerts Alertmanager holds now named `name` (resolved ones are not listed).
async fn alerts(url: &str, name: &str) -> Vec<Json> {
    let filter = format!("alertname=\"{name}\"");
    let answer = reqwest::Client::new()
        .get(format!("{url}/api/v2/alerts"))
        .query(&[("filter", filter.as_str())])
        .send()
        .await
        .expect("GET /api/v2/alerts");
    assert!(answer.status().is_success(), "GET /api/v2/alerts: {}", answer.status());
    answer.json::<Vec<Json>>().await.expect("alerts JSON")
}

async fn until<T>(timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_in_alertmanager_on_the_11th_5xx_line_and_resolves_after_the_window() {
    let am = alertmanager().await;
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 200);
    // A name of this run's own: Alertmanager keeps alerts of earlier runs.
    let name = format!("errors_e2e_{}_{}", std::process::id(), chrono::Utc::now().timestamp_millis());
    let rule = format!("{name}: status >= 500 > 10 per 5s");
    let log_arg = log.to_string_lossy().to_string();
    let watch = Running::start(&[
        "watch", &log_arg, "--rule", &rule, "--every", "1s", "--alertmanager", &am, "--severity", "critical", "--label", "team=web",
    ]);
    // Let it evaluate the old lines (2015: none in the window) a few times.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(alerts(&am, &name).await.is_empty(), "nothing fires before the errors");

    // Ten 5xx lines among good ones: not more than 10 yet.
    let mut lines: Vec<String> = (0..10).map(|i| line_now(i, 503)).collect();
    lines.extend((10..20).map(|i| line_now(i, 200)));
    append(&log, &lines);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(alerts(&am, &name).await.is_empty(), "10 errors are not more than 10: {}", watch.stderr());
    assert!(watch.lines.try_recv().is_err(), "no event yet");

    // The 11th.
    append(&log, &[line_now(21, 502)]);
    let appended = Instant::now();
    let alert = until(Duration::from_secs(10), async || alerts(&am, &name).await.into_iter().next())
        .await
        .unwrap_or_else(|| panic!("the alert never reached Alertmanager; stderr: {}", watch.stderr()));
    let latency = appended.elapsed();
    // One --every (1 s) plus the follower's read and the POST; generous for a loaded CI box.
    assert!(latency < Duration::from_millis(2500), "fired {latency:?} after the 11th line");
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert_eq!(alert["labels"]["alertname"], name.as_str());
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["team"], "web");
    assert_eq!(alert["labels"]["source"], log_arg.as_str(), "the source as described: the path given");
    assert_eq!(alert["annotations"]["kql"], "status >= 500");
    let command = alert["annotations"]["command"].as_str().unwrap();
    assert_eq!(command, format!("logsleuth query {log_arg} --kql 'status >= 500' --since 5s"));
    assert!(alert["annotations"]["summary"].as_str().unwrap().contains("11 > 10"), "{alert}");

    let firing = watch.event(Duration::from_secs(2)).expect("a firing event on stdout");
    assert_eq!(firing["state"], "firing");
    assert_eq!(firing["rule"], name.as_str());
    assert_eq!(firing["value"], 11);
    assert_eq!(firing["threshold"], 10);
    assert_eq!(firing["window"], "5s");
    assert_eq!(firing["source"], log_arg.as_str());

    // The lines leave the 5 s window: resolved on stdout and in Alertmanager.
    let resolved = watch.event(Duration::from_secs(10)).expect("a resolved event on stdout");
    assert_eq!(resolved["state"], "resolved", "{resolved}");
    assert!(resolved["value"].as_i64().unwrap() <= 10, "{resolved}");
    let gone = until(Duration::from_secs(5), async || alerts(&am, &name).await.is_empty().then_some(())).await;
    assert!(gone.is_some(), "Alertmanager still lists the alert as active after its resolution");
    assert!(!watch.stderr().contains("alertmanager"), "no delivery problem: {}", watch.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_sends_a_firing_alert_and_exits_3() {
    let am = alertmanager().await;
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 50);
    append(&log, &(0..3).map(|i| line_now(i, 500)).collect::<Vec<_>>());
    let name = format!("once_e2e_{}_{}", std::process::id(), chrono::Utc::now().timestamp_millis());
    let rule = format!("{name}: status >= 500 >= 1 per 1m");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(["watch", &log.to_string_lossy(), "--rule", &rule, "--once", "--alertmanager", &am])
        .env("XDG_CONFIG_HOME", "/nonexistent-logsleuth-test")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let alert = alerts(&am, &name).await;
    assert_eq!(alert.len(), 1, "the alert was sent before exiting");
    // Valid for a while without re-sends (Prometheus' 4 × resend interval), not forever.
    let ends: chrono::DateTime<chrono::Utc> = alert[0]["endsAt"].as_str().unwrap().parse().unwrap();
    let ahead = ends - chrono::Utc::now();
    assert!(ahead > chrono::Duration::seconds(60) && ahead < chrono::Duration::seconds(300), "{ahead}");
}
