//! `logsleuth patterns` on real logs: the templates of the shared nginx and Apache access logs
//! and of the loghub system logs are few and readable (pinned here), counts are exact over the
//! whole file, and the JSON is the documented contract.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local").join(rel).display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logsleuth")).args(args).output().expect("binary runs")
}

fn patterns(path: &str) -> Value {
    let out = run(&["patterns", path, "--size", "1000", "--output", "json"]);
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn top(v: &Value, n: usize) -> Vec<(u64, String)> {
    v["patterns"].as_array().unwrap().iter().take(n).map(|p| (p["count"].as_u64().unwrap(), p["pattern"].as_str().unwrap().to_string())).collect()
}

fn check_exact(v: &Value, lines: u64) {
    assert_eq!(v["total"], lines);
    assert_eq!(v["exact"], true);
    assert_eq!(v["method"], "drain");
    let p = v["patterns"].as_array().unwrap();
    assert_eq!(p.iter().map(|p| p["count"].as_u64().unwrap()).sum::<u64>(), lines, "every line in one template");
    let counts: Vec<u64> = p.iter().map(|p| p["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "sorted by count");
    for p in p {
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["pattern", "count", "share", "example", "samples"]);
        assert!(!p["example"].as_str().unwrap().is_empty());
        let share = p["share"].as_f64().unwrap();
        assert!((share - p["count"].as_u64().unwrap() as f64 / lines as f64).abs() < 1e-12);
        let in_samples: u64 = p["samples"].as_array().unwrap().iter().map(|s| s[1].as_u64().unwrap()).sum();
        assert_eq!(in_samples, p["count"].as_u64().unwrap(), "samples cover the range: {p}");
    }
}

#[test]
fn nginx_falls_into_a_handful_of_templates() {
    let v = patterns(&file("nginx_logs.gz"));
    check_exact(&v, 51462);
    let n = v["patterns"].as_array().unwrap().len();
    assert!(n <= 16, "{n} templates");
    assert_eq!(top(&v, 3), [
        (47405, r#"<_> - - [<_> <_>] "GET /<_> HTTP/1.1" <_> <_> "-" "<_> <_> <_>""#.to_string()),
        (2764, r#"<_> - - [<_> <_>] "<_> /<_> HTTP/1.1" <_> <_> "-" "<_> <_>""#.to_string()),
        (969, r#"<_> - - [<_> <_>] "GET /<_> HTTP/1.1" <_> <_> "-" "Chef <_> (<_>; <_>; <_>; +http://opscode.com)""#.to_string()),
    ]);
}

#[test]
fn apache_templates_follow_the_user_agents() {
    let v = patterns(&file("apache_logs.gz"));
    check_exact(&v, 10000);
    let p = v["patterns"].as_array().unwrap();
    // 10,000 lines of many browsers: the templates are their user-agent shapes.
    assert!(p.len() <= 80, "{} templates", p.len());
    assert!(p.iter().take(10).all(|p| p["pattern"].as_str().unwrap().starts_with("<_> - - [<_> <_>] \"")));
}

#[test]
fn loghub_apache_errors_are_six_templates() {
    let v = patterns(&file("loghub/Apache_2k.log"));
    check_exact(&v, 2000);
    let t = |s: &str| format!("[<_> <_> <_> <_> <_>] {s}");
    let got = top(&v, 10);
    assert_eq!(got.len(), 6, "{got:#?}");
    assert_eq!(got[..4], [
        (836, t("[notice] jk2_init() Found child <_> in scoreboard slot <_>")),
        (569, t("[notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties")),
        (539, t("[error] mod_jk child workerEnv in error state <_>")),
        (32, t("[error] [client <_>] Directory index forbidden by rule: /var/www/html/")),
    ]);
}

#[test]
fn loghub_hdfs_and_openssh_templates_are_the_known_events() {
    let v = patterns(&file("loghub/HDFS_2k.log"));
    check_exact(&v, 2000);
    assert_eq!(v["patterns"].as_array().unwrap().len(), 16);
    assert_eq!(top(&v, 2), [
        (314, "<_> <_> <_> INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: <_> is added to blk_<_> size <_>".to_string()),
        (311, "<_> <_> <_> INFO dfs.DataNode$PacketResponder: PacketResponder <_> for block blk_<_> terminating".to_string()),
    ]);
    let v = patterns(&file("loghub/OpenSSH_2k.log"));
    check_exact(&v, 2000);
    assert!(v["patterns"].as_array().unwrap().len() <= 25);
    assert_eq!(top(&v, 2), [
        (414, "<_> <_> <_> LabSZ sshd[<_>]: Received disconnect from <_>: 11: <_> <_> <_>".to_string()),
        (384, "<_> <_> <_> LabSZ sshd[<_>]: <_> password for <_> from <_> port <_> ssh2".to_string()),
    ]);
    let v = patterns(&file("loghub/Linux_2k.log"));
    check_exact(&v, 2000);
    assert_eq!(top(&v, 1)[0].1, "<_> <_> <_> combo ftpd[<_>]: connection from <_> () at <_> <_> <_> <_> <_>");
}
