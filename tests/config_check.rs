//! `logsleuth config check` run as the binary: exit codes, precise messages, the summary
//! without secrets, permissions, the default location, and the documented example.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config").join(name)
}

/// Runs the binary with a private, empty XDG config home (so no real config is picked up).
fn run(args: &[&str], xdg: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .env("XDG_CONFIG_HOME", xdg)
        .env_remove("LOKI_TOKEN")
        .env_remove("AUDIT_PASSWORD")
        .output()
        .expect("run logsleuth");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn check(path: &Path) -> (i32, String, String) {
    let xdg = tempfile::tempdir().unwrap();
    run(&["config", "check", "--config", path.to_str().unwrap()], xdg.path())
}

#[test]
fn a_valid_file_exits_0_with_a_summary() {
    let (code, out, err) = check(&fixture("good.toml"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("good.toml: valid"), "{out}");
    assert!(out.contains("default source: web"), "{out}");
    assert!(out.contains("sources: 3"), "{out}");
    assert!(out.lines().any(|l| l.starts_with(" *web") && l.contains("tenant acme") && l.contains("bearer token from $PATH")), "{out}");
    assert!(out.contains("API key from a command"), "{out}");
    assert!(!out.contains("not-run-by-check"), "commands are neither run nor shown: {out}");
    assert_eq!(err, "", "files = [\"access.log\"] resolves next to the config file");
}

#[test]
fn the_documented_example_passes_the_check() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.example.toml");
    let (code, out, err) = check(&example);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("docs/config.example.toml: valid ("), "{out}");
    // the unset variables are warnings, located precisely
    assert!(err.contains(":24:1: warning: sources.nginx-loki.token_env: environment variable LOKI_TOKEN is not set"), "{err}");
    assert!(err.contains("warning: sources.opensearch-audit.password_env"), "{err}");
    // the only other possible warnings: the example's nginx logs missing on this machine
    for line in err.lines() {
        assert!(line.contains("is not set") || line.contains("warning: sources.local-nginx.files: no such file"), "{line}");
    }
}

#[test]
fn bad_toml_exits_2_with_line_and_column() {
    let (code, out, err) = check(&fixture("bad_toml.toml"));
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains("bad_toml.toml:5:29: error: sources.web.url: invalid basic string"), "{err}");
    assert!(err.contains("     5 | url = \"http://127.0.0.1:3100"), "the line is shown: {err}");
    assert!(err.contains("is invalid: 1 error"), "{err}");
}

#[test]
fn unknown_keys_say_what_was_expected_and_never_echo_the_value() {
    let (code, _, err) = check(&fixture("unknown_key.toml"));
    assert_eq!(code, 2);
    assert!(err.contains("unknown_key.toml:8:1: error: sources.web.pasword: unknown field `pasword`, expected one of"), "{err}");
    assert!(err.contains("`password`"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn every_semantic_error_is_reported_at_its_key() {
    let (code, _, err) = check(&fixture("semantic.toml"));
    assert_eq!(code, 2);
    for needle in [
        "semantic.toml:1:1: error: default_source: no source named 'nowhere'; known sources: logs, loki",
        "semantic.toml:2:1: error: default_range: expected a duration",
        "semantic.toml:4:1: error: sources.logs: missing 'index'",
        "semantic.toml:10:1: error: sources.loki.url: bad URL: unsupported URL scheme 'htp'",
        "semantic.toml:11:1: warning: sources.loki.insecure",
        "semantic.toml:15:1: error: keys.tail: key 'q' is also bound to 'quit'",
        "is invalid: 5 errors, 1 warning",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_with_secrets_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.toml");
    std::fs::write(
        &path,
        "[sources.es]\ntype = \"elasticsearch\"\nurl = \"https://es:9200\"\nindex = \"logs-*\"\nuser = \"elastic\"\npassword = \"Sup3r-s3cret\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, out, err) = check(&path);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{} holds secrets (sources es) but its mode is 0640", path.display())), "{err}");
    assert!(err.contains(&format!("chmod 600 {}", path.display())), "{err}");
    assert!(!err.contains("Sup3r") && !out.contains("Sup3r"));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, out, err) = check(&path);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("basic auth as elastic, password in the config file"), "{out}");
    assert!(!err.contains("Sup3r") && !out.contains("Sup3r"));
}

#[test]
fn the_default_location_follows_xdg_config_home() {
    let xdg = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["config", "check"], xdg.path());
    assert_eq!(code, 2);
    assert!(err.contains("no configuration file at") && err.contains("logsleuth/config.toml"), "{err}");
    std::fs::create_dir_all(xdg.path().join("logsleuth")).unwrap();
    std::fs::copy(fixture("good.toml"), xdg.path().join("logsleuth/config.toml")).unwrap();
    let (code, out, err) = run(&["config", "check"], xdg.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: sources.files.files: no such file") && err.contains("logsleuth/access.log"), "{err}");
    assert!(out.starts_with(&format!("{}: valid", xdg.path().join("logsleuth/config.toml").display())), "{out}");
    // a missing file given explicitly is an error
    let (code, _, err) = run(&["config", "check", "--config", "/nonexistent/logsleuth.toml"], xdg.path());
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/logsleuth.toml: error: cannot read the configuration file"), "{err}");
}
