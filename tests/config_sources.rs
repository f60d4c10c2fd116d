//! `--source NAME` end to end: the binary opens named sources from a config file against the
//! Loki and Elasticsearch replay servers. The configured tenant, headers and credentials
//! (from a command, the file, the environment) reach the server; flags override the entry;
//! secrets never appear on stdout or stderr; failures say what is wrong.

mod support;

use std::path::Path;
use std::process::Stdio;

use support::es_server::{EsServer, Recorded as EsRecorded, Reply as EsReply, quickwit_info};
use support::loki_server::{LokiServer, Recorded, Reply, json_fixture};
use tokio::process::Command;

const FROM: &str = "2026-11-22T02:03:53.558632019Z";
const TO: &str = "2026-11-22T08:05:16.161919916Z";
const CMD_TOKEN: &str = "tok-from-cmd-9f2";
const FILE_PASSWORD: &str = "pw-literal-77";
const ENV_API_KEY: &str = "ZW52LWtleS1hYmM6c2VjcmV0";

async fn run(args: &[&str], xdg: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .env("XDG_CONFIG_HOME", xdg)
        .env("CFG_TEST_API_KEY", ENV_API_KEY)
        .env("CFG_TEST_OTHER_TOKEN", "tok-from-flag-env")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run logsleuth");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn loki_replay(r: &Recorded) -> Reply {
    let q = r.param("query").unwrap_or("");
    match r.path.as_str() {
        "/loki/api/v1/query_range" if q.contains("shop-api") => json_fixture("query_range_json_label_filter_categorized.json"),
        "/loki/api/v1/query_range" => json_fixture("query_range_empty.json"),
        _ => Reply::Text(404, "404 page not found\n".into()),
    }
}

fn es_replay(r: &EsRecorded) -> EsReply {
    match r.path.as_str() {
        "/" => quickwit_info(),
        "/nginx-access/_field_caps?fields=*" => EsReply::fixture(200, "quickwit/field_caps.json"),
        _ => EsReply::fixture(200, "quickwit/search_sort_desc_page1.json"),
    }
}

/// Writes the config (mode 0600: it holds a literal password) and returns its path.
fn write_config(dir: &Path, loki: &str, es: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
default_source = "shop"

[sources.shop]
type = "loki"
url = "{loki}"
selector = '{{job="shop-api"}}'
parser = "json"
tenant = "acme"
token_command = "printf '  {CMD_TOKEN}\n'"
headers = {{ "X-Team" = "sre" }}

[sources.basic]
type = "loki"
url = "{loki}"
selector = '{{job="other"}}'
user = "alice"
password = "{FILE_PASSWORD}"

[sources.failing]
type = "loki"
url = "{loki}"
selector = '{{job="shop-api"}}'
token_command = "echo leaked-out-123; echo leaked-err-456 >&2; exit 4"

[sources.search]
type = "elasticsearch"
url = "{es}"
index = "nginx-access"
api_key_env = "CFG_TEST_API_KEY"
"#
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

fn assert_no_secret(texts: &[&str]) {
    for t in texts {
        for secret in [CMD_TOKEN, FILE_PASSWORD, ENV_API_KEY, "leaked-out", "leaked-err"] {
            assert!(!t.contains(secret), "secret {secret:?} shown in: {t}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_loki_and_es_sources_carry_their_tenant_headers_and_credentials() {
    let loki = LokiServer::start(loki_replay).await;
    let es = EsServer::start(es_replay).await;
    let dir = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &loki.url, &es.url);
    let config = config.to_str().unwrap();

    // token from a command, tenant and header from the entry
    let (code, out, err) = run(&["query", "--source", "shop", "--config", config, "--from", FROM, "--to", TO, "--limit", "20"], xdg.path()).await;
    assert_eq!(code, 0, "{err}");
    // (the replay answers its 20 captured lines whatever the limit)
    assert_eq!(out.lines().count(), 20, "{out}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["job"], "shop-api");
    let req = &loki.requests_to("/loki/api/v1/query_range")[0];
    assert_eq!(req.header("authorization"), Some(format!("Bearer {CMD_TOKEN}").as_str()), "the command's output, trimmed");
    assert_eq!(req.header("x-scope-orgid"), Some("acme"));
    assert_eq!(req.header("x-team"), Some("sre"));
    let query = req.param("query").unwrap();
    assert_eq!(query, r#"{job="shop-api"}"#, "no condition on a parsed field: raw lines, parsed here");
    assert_no_secret(&[&out, &err]);

    // the same source as default_source, with flags overriding tenant, a header and the auth
    let before = loki.requests().len();
    let (code, out, err) = run(
        &[
            "query", "--config", config, "--from", FROM, "--to", TO, "--limit", "20", "--tenant", "beta", "--header", "x-team: ops",
            "--token-env", "CFG_TEST_OTHER_TOKEN",
        ],
        xdg.path(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 20);
    let req = &loki.requests()[before];
    assert_eq!(req.header("x-scope-orgid"), Some("beta"));
    assert_eq!(req.header("x-team"), Some("ops"));
    assert_eq!(req.header("authorization"), Some("Bearer tok-from-flag-env"));

    // basic auth with the password from the (private) file
    let before = loki.requests().len();
    let (code, out, err) = run(&["query", "--source", "basic", "--config", config, "--from", FROM, "--to", TO], xdg.path()).await;
    assert_eq!(code, 0, "{err}");
    let req = &loki.requests()[before];
    // base64("alice:pw-literal-77")
    assert_eq!(req.header("authorization"), Some("Basic YWxpY2U6cHctbGl0ZXJhbC03Nw=="));
    assert_eq!(req.header("x-scope-orgid"), None);
    assert_no_secret(&[&out, &err]);

    // Elasticsearch: the API key from the environment on every request
    let (code, out, err) = run(&["query", "--source", "search", "--config", config, "--since", "1h", "--limit", "3", "--output", "raw"], xdg.path()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    let sent: Vec<Option<String>> = es.requests().iter().map(|r| r.authorization.clone()).collect();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|a| a.as_deref() == Some(format!("ApiKey {ENV_API_KEY}").as_str())), "{sent:?}");
    assert!(es.requests().iter().any(|r| r.path == "/nginx-access/_search"));
    assert_no_secret(&[&out, &err]);

    // a failing command: exit 2, the failure said, its output never shown, nothing sent
    let before = loki.requests().len();
    let (code, out, err) = run(&["query", "--source", "failing", "--config", config, "--from", FROM, "--to", TO], xdg.path()).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("source 'failing': token_command failed: it exited with status 4"), "{err}");
    assert_eq!(loki.requests().len(), before);
    assert_no_secret(&[&out, &err]);

    // an unknown name lists the known ones
    let (code, _, err) = run(&["top", "--source", "nope", "--config", config, "--field", "status"], xdg.path()).await;
    assert_eq!(code, 2);
    assert!(err.contains("no source named 'nope'") && err.contains("known sources: basic, failing, search, shop"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_config_file_is_found_through_xdg_and_unsafe_files_are_refused() {
    let loki = LokiServer::start(loki_replay).await;
    let xdg = tempfile::tempdir().unwrap();
    let dir = xdg.path().join("logsleuth");
    std::fs::create_dir_all(&dir).unwrap();
    write_config(&dir, &loki.url, "http://127.0.0.1:9");
    let (code, out, err) = run(&["query", "--source", "shop", "--from", FROM, "--to", TO, "--limit", "20"], xdg.path()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 20);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("config.toml");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let before = loki.requests().len();
        let (code, _, err) = run(&["query", "--source", "shop", "--from", FROM, "--to", TO], xdg.path()).await;
        assert_eq!(code, 2);
        assert!(err.contains("mode is 0644") && err.contains(&format!("chmod 600 {}", path.display())), "{err}");
        assert_eq!(loki.requests().len(), before, "nothing is sent with a refused file");
        assert_no_secret(&[&err]);
    }

    // no config file and --source: says where it looked
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["query", "--source", "shop"], empty.path()).await;
    assert_eq!(code, 2);
    assert!(err.contains("--source shop needs a configuration file") && err.contains("logsleuth/config.toml"), "{err}");
}

#[test]
fn ui_defaults_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "theme = \"high-contrast\"\ndefault_range = \"15m\"\n").unwrap();
    let d = logsleuth::config::open::ui_defaults(Some(&path)).unwrap();
    assert_eq!(d.theme.as_deref(), Some("high-contrast"));
    assert_eq!(d.range, Some(15 * 60 * 1_000_000_000));
    std::fs::write(&path, "theme = \"nope\"\n").unwrap();
    assert_eq!(logsleuth::config::open::ui_defaults(Some(&path)).unwrap_err().code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_local_source_reads_its_files_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let log = dir.path().join("logs/access.log");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/nginx_sample.log"), &log).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[sources.files]\ntype = \"local\"\nfiles = [\"logs/access.log\"]\nformat = \"nginx\"\n").unwrap();

    let direct = run(&["top", log.to_str().unwrap(), "--format", "nginx", "--field", "status", "--output", "json"], xdg.path()).await;
    assert_eq!(direct.0, 0, "{}", direct.2);
    // the working directory is the crate root: the relative path resolves only against the config's dir
    let named = run(&["top", "--source", "files", "--config", config.to_str().unwrap(), "--field", "status", "--output", "json"], xdg.path()).await;
    assert_eq!(named.0, 0, "{}", named.2);
    assert_eq!(named.1, direct.1);
    let top: serde_json::Value = serde_json::from_str(&named.1).unwrap();
    assert!(top["buckets"].as_array().is_some_and(|b| !b.is_empty()), "{top}");
}
