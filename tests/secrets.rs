//! Secrets never show: passwords, tokens and API keys given by URL or environment must not
//! appear in `--help`, error text, the TUI screen, panic output or NDJSON exports — not even
//! when a hostile server echoes the credentials it refused. One binary-level test per channel;
//! the servers are the replay servers of tests/support/.

mod support;

use std::time::Duration;

use logsleuth::model::TimeRange;
use logsleuth::sources::elasticsearch::{EsConfig, EsSource};
use logsleuth::sources::http::{Auth, HttpConfig, Secret};
use logsleuth::sources::loki::{LokiConfig, LokiSource};
use logsleuth::sources::{Query, SearchRequest, Source, TailEvent, TailRequest};
use support::es_server::{self, EsServer};
use support::loki_server::{self, LokiServer};
use support::pty::{self, Pty};

const PASSWORD: &str = "pa55-Wr0ng-horse";
const TOKEN: &str = "tok-9f8e7d6c5b4a";
/// base64("admin:pa55-Wr0ng-horse"), what basic auth sends.
const BASIC: &str = "YWRtaW46cGE1NS1XcjBuZy1ob3JzZQ==";

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, TOKEN, BASIC] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

/// A Loki that refuses everything and quotes the Authorization header it got.
async fn echoing_loki() -> LokiServer {
    LokiServer::start_with_tail(
        |r: &loki_server::Recorded| {
            // What a careless server could know: the header, and the password inside it.
            let auth = r.header("authorization").unwrap_or("none").to_string();
            let password = if auth.starts_with("Basic ") { format!(" (password {PASSWORD})") } else { String::new() };
            loki_server::Reply::Text(401, format!("invalid credentials: {auth}{password}"))
        },
        |r, _| {
            let auth = r.header("authorization").unwrap_or("none").to_string();
            Err(loki_server::Reply::Text(503, format!("overloaded; your credentials were {auth}")))
        },
    )
    .await
}

#[tokio::test]
async fn servers_echoing_credentials_do_not_make_logsleuth_print_them() {
    let range = TimeRange::between(0, 1_000_000_000);
    let loki = echoing_loki().await;
    for auth in [Auth::Basic { user: "admin".into(), password: Secret::new(PASSWORD) }, Auth::Bearer(Secret::new(TOKEN))] {
        let mut http = HttpConfig::new(&loki.url).unwrap();
        http.auth = auth.clone();
        let source = LokiSource::new(LokiConfig {
            http: http.clone(),
            selector: r#"{job="x"}"#.into(),
            parser: None,
            tenant: None,
            backoff: logsleuth::sources::loki::tail::Backoff { initial: Duration::from_millis(5), max: Duration::from_millis(10) },
        })
        .unwrap();
        let e = source.search(SearchRequest { query: Query::kql(""), range, limit: 1, cursor: None }).await.unwrap_err();
        assert!(e.to_string().contains("***"), "the echo is masked, not dropped: {e}");
        assert_clean("a Loki error", &e.to_string());
        assert_clean("a Loki error's Debug", &format!("{e:?} {source:?}"));
        // The tail's reconnect messages quote the server too.
        let mut rx = source.tail(TailRequest { query: Query::kql(""), since: Some(1) }).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match rx.recv().await {
                    Some(TailEvent::Status(s)) if s.contains("overloaded") => return s,
                    Some(TailEvent::Failed(e)) => return e.to_string(),
                    Some(_) => continue,
                    None => panic!("tail ended"),
                }
            }
        })
        .await
        .unwrap();
        assert!(status.contains("***"), "{status}");
        assert_clean("a tail status", &status);
    }

    let es = EsServer::start(|r: &es_server::Recorded| {
        let auth = r.authorization.clone().unwrap_or_default();
        es_server::Reply::status(401, serde_json::json!({"error": {"type": "security_exception", "reason": format!("unable to authenticate with [{auth}]")}}))
    })
    .await;
    for auth in [Auth::Basic { user: "admin".into(), password: Secret::new(PASSWORD) }, Auth::ApiKey(Secret::new(TOKEN))] {
        let mut http = HttpConfig::new(&es.url).unwrap();
        http.auth = auth;
        let source = EsSource::new(EsConfig::new(http, "logs")).unwrap();
        let e = source.search(SearchRequest { query: Query::kql(""), range, limit: 1, cursor: None }).await.unwrap_err();
        assert!(e.to_string().contains("***"), "{e}");
        assert_clean("an ES error", &format!("{e} {e:?}"));
    }
}

/// Runs the binary with a token in the environment; returns (stdout+stderr, status code).
fn run(args: &[&str]) -> (String, Option<i32>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logsleuth"))
        .args(args)
        .env("LOGSLEUTH_TEST_TOKEN", TOKEN)
        .env("LOGSLEUTH_TEST_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    (format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)), out.status.code())
}

#[test]
fn help_never_shows_secrets_from_the_environment() {
    for sub in [&[][..], &["query"], &["top"], &["histogram"], &["tail"], &["demo"], &["kql"]] {
        let mut args: Vec<&str> = sub.to_vec();
        args.push("--help");
        let (text, code) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {text}");
        assert!(text.contains("Usage"), "{text}");
        assert_clean("--help", &text);
    }
}

#[tokio::test]
async fn cli_errors_never_show_secrets() {
    let loki = echoing_loki().await;
    let with_password = loki.url.replace("http://", &format!("http://admin:{PASSWORD}@"));
    let cases: Vec<Vec<String>> = vec![
        // Credentials in the URL, the server quoting them back.
        vec!["query".into(), "--loki".into(), with_password.clone(), "--logql".into(), r#"{job="x"}"#.into()],
        // A token from the environment.
        vec!["query".into(), "--loki".into(), loki.url.clone(), "--token-env".into(), "LOGSLEUTH_TEST_TOKEN".into(), "--logql".into(), r#"{job="x"}"#.into()],
        // Nothing listening.
        vec!["query".into(), "--loki".into(), "http://admin:pa55-Wr0ng-horse@127.0.0.1:9".into()],
        // Usage errors around secrets.
        vec!["query".into(), "--es".into(), with_password, "--token-env".into(), "LOGSLEUTH_TEST_TOKEN".into()],
        vec!["query".into(), "--loki".into(), loki.url.clone(), "--api-key-env".into(), "LOGSLEUTH_TEST_TOKEN".into()],
    ];
    for args in cases {
        let owned = args.clone();
        let (text, code) = tokio::task::spawn_blocking(move || {
            let args_ref: Vec<&str> = owned.iter().map(String::as_str).collect();
            run(&args_ref)
        })
        .await
        .unwrap();
        assert_ne!(code, Some(0), "{args:?}: {text}");
        assert!(text.contains("logsleuth:"), "{args:?} explains itself: {text}");
        assert_clean("an error", &text);
    }
}

/// Runs the TUI in a pty until `until` appears in its output (or it exits); returns the output.
fn tui_output(args: &[&str], envs: &[(&str, &str)], until: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = pty::command(args, dir.path());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut app = Pty::spawn(cmd, 30, 300);
    app.wait_output(until, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    app.kill();
    app.close()
}

#[tokio::test]
async fn the_screen_and_panic_output_never_show_secrets() {
    let loki = echoing_loki().await;
    let with_password = loki.url.replace("http://", &format!("http://admin:{PASSWORD}@"));
    let screen = {
        let url = with_password.clone();
        tokio::task::spawn_blocking(move || tui_output(&["--loki", &url, "--selector", r#"{job="x"}"#], &[], "(password ***)"))
            .await
            .unwrap()
    };
    assert!(screen.contains("***"), "the echoed secret is masked on screen: {screen:?}");
    assert_clean("the TUI", &screen);

    let panic = {
        let url = with_password.clone();
        tokio::task::spawn_blocking(move || {
            tui_output(&["--loki", &url, "--token-env", "LOGSLEUTH_TEST_TOKEN"], &[("LOGSLEUTH_DEBUG_PANIC", "1"), ("LOGSLEUTH_TEST_TOKEN", TOKEN)], "panicked")
        })
        .await
        .unwrap()
    };
    assert!(panic.contains("panicked"), "{panic:?}");
    assert_clean("panic output", &panic);
}
