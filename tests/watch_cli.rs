//! `logsleuth watch` end to end on a followed local file: `--once` exit statuses, rule errors
//! with their caret, hysteresis (`for`) and the absence rule on a file being appended to,
//! `[[watches]]` from the configuration (and `config check` on them), a webhook receiver of
//! the test's own checking the body, and an unreachable Alertmanager that is retried and
//! reported without stopping the watch.

mod watch_common;

use std::time::{Duration, Instant};

use serde_json::Value as Json;
use watch_common::{Running, append, line_now, old_log, receiver};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent-logsleuth-test")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn once_exits_0_when_nothing_fires_and_3_when_something_does() {
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 100);
    let path = log.to_string_lossy().to_string();
    append(&log, &(0..4).map(|i| line_now(i, 500)).chain((4..10).map(|i| line_now(i, 404))).collect::<Vec<_>>());

    let (code, out, err) = run(&["watch", &path, "--once", "--rule", "errors: status >= 500 > 10 per 1m"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");

    let (code, out, err) = run(&[
        "watch", &path, "--once", "--rule", "errors: status >= 500 > 3 per 1m", "--rule", "npf: status:404 >= 1 per 1m",
        "--rule", "ratio: status >= 500 > 30% of * per 1m", "--rule", "quiet: * < 1 per 1m",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("firing: errors, npf, ratio"), "{err}");
    let events: Vec<Json> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 3, "{out}");
    assert_eq!((events[0]["rule"].as_str(), events[0]["value"].as_i64()), (Some("errors"), Some(4)));
    assert_eq!(events[0]["state"], "firing");
    assert_eq!(events[0]["threshold"], 3);
    assert_eq!(events[0]["window"], "1m");
    assert_eq!(events[0]["source"], path.as_str());
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(events[1]["value"], 6);
    assert_eq!(events[2]["value"], 40, "4 of the 10 lines of the last minute");

    let (code, out, _) = run(&["watch", &path, "--once", "--output", "text", "--rule", "errors: status >= 500 > 3 per 1m"]);
    assert_eq!(code, 3);
    assert!(out.contains(&format!(" firing errors: 4 (threshold 3, window 1m) on {path}")), "{out}");
}

#[test]
fn bad_rules_are_usage_errors_at_the_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let path = old_log(dir.path(), 10).to_string_lossy().to_string();
    let (code, _, err) = run(&["watch", &path, "--once", "--rule", "errors: status >= 500 > 10 per soon"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("watch rule error at column 32: not a duration (30s, 5m, 1h)\nerrors: status >= 500 > 10 per soon\n-------------------------------^"),
        "{err}"
    );
    let (code, _, err) = run(&["watch", &path, "--once", "--rule", "errors: status:(500 > 10 per 1m"]);
    assert_eq!(code, 2);
    assert!(err.contains("in the KQL"), "{err}");
    let (code, _, err) = run(&["watch", &path, "--once"]);
    assert_eq!(code, 2);
    assert!(err.contains("no rules"), "{err}");
}

#[test]
fn for_holds_back_the_alert_and_absence_fires_on_silence() {
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 100);
    let path = log.to_string_lossy().to_string();
    let watch = Running::start(&[
        "watch", &path, "--every", "1s", "--rule", "errors: status >= 500 > 2 per 20s for 3s", "--rule", "silent: * < 1 per 8s",
    ]);
    // Only 2015 lines: the file is silent now.
    let e = watch.event(Duration::from_secs(5)).expect("absence fires");
    assert_eq!((e["rule"].as_str(), e["state"].as_str(), e["value"].as_i64()), (Some("silent"), Some("firing"), Some(0)));
    append(&log, &(0..3).map(|i| line_now(i, 503)).collect::<Vec<_>>());
    let appended = Instant::now();
    let e = watch.event(Duration::from_secs(3)).expect("lines again");
    assert_eq!((e["rule"].as_str(), e["state"].as_str()), (Some("silent"), Some("resolved")), "{e}");
    let e = watch.event(Duration::from_secs(8)).expect("errors fire after `for`");
    assert_eq!((e["rule"].as_str(), e["state"].as_str(), e["value"].as_i64()), (Some("errors"), Some("firing"), Some(3)), "{e}");
    let held = appended.elapsed();
    assert!(held >= Duration::from_millis(2900), "fired {held:?} after the lines: `for 3s` was not held");
    assert!(held < Duration::from_secs(6), "{held:?}");
    // Silent again once the lines are 8 s old.
    let e = watch.event(Duration::from_secs(10)).expect("silent again");
    assert_eq!((e["rule"].as_str(), e["state"].as_str()), (Some("silent"), Some("firing")), "{e}");
}

#[test]
fn watches_from_the_configuration_file_and_config_check() {
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 100);
    append(&log, &(0..2).map(|i| line_now(i, 500)).collect::<Vec<_>>());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[sources.web]\ntype = \"local\"\nfiles = [\"{}\"]\n\n[[watches]]\nname = \"errors\"\nsource = \"web\"\nrule = \"status >= 500 > 1 per 1m\"\nseverity = \"critical\"\nlabels = {{ team = \"web\" }}\n\n[[watches]]\nname = \"many\"\nsource = \"web\"\nrule = \"* > 1000 per 1m\"\n",
            log.display()
        ),
    )
    .unwrap();
    let cfg = config.to_string_lossy().to_string();
    let (code, out, err) = run(&["watch", "--config", &cfg, "--once"]);
    assert_eq!(code, 3, "{err}");
    let e: Json = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!((e["rule"].as_str(), e["value"].as_i64()), (Some("errors"), Some(2)));
    assert_eq!(out.lines().count(), 1, "{out}");
    let (code, out, err) = run(&["config", "check", "--config", &cfg]);
    assert_eq!(code, 0, "{out}{err}");

    std::fs::write(&config, "[[watches]]\nname = \"errors\"\nsource = \"nope\"\nrule = \"status >= 500 > 1 per soon\"\n").unwrap();
    let (code, out, err) = run(&["config", "check", "--config", &cfg]);
    assert_ne!(code, 0);
    let all = format!("{out}{err}");
    assert!(all.contains("watches[0].rule") && all.contains("not a duration"), "{all}");
    assert!(all.contains("watches[0].source") && all.contains("no source named 'nope'"), "{all}");
    let (code, _, err) = run(&["watch", "--config", &cfg, "--once"]);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_gets_each_state_change_and_an_unreachable_alertmanager_never_stops_the_watch() {
    let (hook, got) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let log = old_log(dir.path(), 100);
    let path = log.to_string_lossy().to_string();
    // Port 9 (discard) on 127.0.0.1: nothing listens there.
    let watch = Running::start(&[
        "watch", &path, "--every", "1s", "--rule", "errors: status >= 500 > 1 per 3s", "--webhook", &hook, "--alertmanager",
        "http://127.0.0.1:9", "--label", "team=web",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    append(&log, &(0..2).map(|i| line_now(i, 502)).collect::<Vec<_>>());
    let firing = tokio::task::block_in_place(|| watch.event(Duration::from_secs(5))).expect("fires");
    assert_eq!(firing["state"], "firing");
    let resolved = tokio::task::block_in_place(|| watch.event(Duration::from_secs(8))).expect("resolves: the watch went on");
    assert_eq!(resolved["state"], "resolved");
    let bodies = watch_common::wait_for(Duration::from_secs(5), || {
        let b = got.lock().unwrap().clone();
        (b.len() >= 2).then_some(b)
    })
    .expect("two webhook posts");
    assert_eq!(bodies[0]["rule"], "errors");
    assert_eq!(bodies[0]["state"], "firing");
    assert_eq!(bodies[0]["value"], 2);
    assert_eq!(bodies[0]["threshold"], 1);
    assert_eq!(bodies[0]["window"], "3s");
    assert_eq!(bodies[0]["severity"], "warning");
    assert_eq!(bodies[0]["labels"]["team"], "web");
    assert_eq!(bodies[0]["labels"]["alertname"], "errors");
    assert_eq!(bodies[0]["kql"], "status >= 500");
    assert_eq!(bodies[1]["state"], "resolved");
    let err = watch.stderr();
    assert!(err.contains("alertmanager http://127.0.0.1:9: cannot reach"), "{err}");
    assert!(err.contains("retrying in"), "{err}");
}
