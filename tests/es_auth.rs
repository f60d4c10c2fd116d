//! Opening an Elasticsearch source from the CLI flags: credentials from environment variables
//! reach the server in the right header and are never displayed; TLS options are honoured.
//! One test function, because it sets environment variables.

mod support;

use logsleuth::cli::args::{AuthArgs, SourceArgs};
use logsleuth::model::TimeRange;
use logsleuth::cli::CliError;
use logsleuth::cli::source::{open_source as open_es, spec_from_args};
use logsleuth::sources::elasticsearch::EsConfig;
use logsleuth::sources::spec::SourceSpec;
use logsleuth::sources::{Query, SearchRequest};
use support::es_server::{EsServer, Recorded, Reply, quickwit_info};

fn args(url: &str, auth: AuthArgs) -> SourceArgs {
    SourceArgs { es: Some(url.into()), index: Some("nginx-access".into()), auth, ..SourceArgs::default() }
}

/// The Elasticsearch configuration the flags give, as the source would be opened with it.
fn es_config(args: &SourceArgs) -> Result<EsConfig, CliError> {
    match spec_from_args(args)? {
        Some(SourceSpec::Elasticsearch(e)) => Ok(logsleuth::sources::spec::es_config(&e)?),
        other => panic!("not Elasticsearch: {other:?}"),
    }
}

async fn search_once(url: &str, auth: AuthArgs) {
    let source = open_es(&args(url, auth)).expect("source opens");
    source
        .search(SearchRequest { query: Query::kql(""), range: TimeRange::between(0, 1_000_000_000), limit: 1, cursor: None })
        .await
        .expect("search works");
}

#[tokio::test]
async fn credentials_from_env_reach_the_server_and_never_show() {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("LOGSLEUTH_TEST_ES_PASSWORD", "pa55:word");
        std::env::set_var("LOGSLEUTH_TEST_ES_TOKEN", "tok-123");
        std::env::set_var("LOGSLEUTH_TEST_ES_API_KEY", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
        std::env::set_var("LOGSLEUTH_TEST_EMPTY", "");
    }
    let server = EsServer::start(|r: &Recorded| match r.path.as_str() {
        "/" => quickwit_info(),
        "/nginx-access/_field_caps?fields=*" => Reply::fixture(200, "quickwit/field_caps.json"),
        _ => Reply::fixture(200, "quickwit/search_size0_track_total_hits_true.json"),
    })
    .await;
    let cases = [
        (AuthArgs { user: Some("elastic".into()), password_env: Some("LOGSLEUTH_TEST_ES_PASSWORD".into()), ..AuthArgs::default() },
         // base64("elastic:pa55:word")
         "Basic ZWxhc3RpYzpwYTU1OndvcmQ="),
        (AuthArgs { token_env: Some("LOGSLEUTH_TEST_ES_TOKEN".into()), ..AuthArgs::default() }, "Bearer tok-123"),
        (AuthArgs { api_key_env: Some("LOGSLEUTH_TEST_ES_API_KEY".into()), ..AuthArgs::default() },
         "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="),
    ];
    for (auth, expected) in cases {
        let before = server.requests().len();
        let config = es_config(&args(&server.url, auth.clone())).unwrap();
        assert!(!format!("{config:?}").contains("pa55") && !format!("{config:?}").contains("tok-123"));
        search_once(&server.url, auth).await;
        let sent: Vec<Option<String>> = server.requests()[before..].iter().map(|r| r.authorization.clone()).collect();
        assert!(!sent.is_empty());
        assert!(sent.iter().all(|a| a.as_deref() == Some(expected)), "{sent:?}");
    }

    // the user from the URL with the password from the environment; the URL shown has neither
    let with_user = server.url.replace("http://", "http://elastic@");
    let config = es_config(&args(&with_user, AuthArgs { password_env: Some("LOGSLEUTH_TEST_ES_PASSWORD".into()), ..AuthArgs::default() })).unwrap();
    assert_eq!(config.http.display(), server.url);

    // usage errors (exit status 2), never echoing a secret
    let bad = [
        (AuthArgs { user: Some("elastic".into()), ..AuthArgs::default() }, "needs --password-env"),
        (AuthArgs { password_env: Some("LOGSLEUTH_TEST_ES_PASSWORD".into()), ..AuthArgs::default() }, "--password-env needs --user"),
        (AuthArgs { token_env: Some("LOGSLEUTH_TEST_EMPTY".into()), ..AuthArgs::default() }, "is empty"),
        (AuthArgs { api_key_env: Some("LOGSLEUTH_TEST_UNSET_VAR".into()), ..AuthArgs::default() }, "is not set"),
        (
            AuthArgs { token_env: Some("LOGSLEUTH_TEST_ES_TOKEN".into()), api_key_env: Some("LOGSLEUTH_TEST_ES_API_KEY".into()), ..AuthArgs::default() },
            "only one of",
        ),
        (AuthArgs { headers: vec!["no colon".into()], ..AuthArgs::default() }, "must be 'Name: value'"),
    ];
    for (auth, needle) in bad {
        let err = es_config(&args(&server.url, auth)).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.message.contains(needle), "{}", err.message);
    }
    let err = es_config(&SourceArgs { es: Some(server.url.clone()), ..SourceArgs::default() }).unwrap_err();
    assert!(err.message.contains("--index"), "{}", err.message);

    // a CA file that is not PEM is refused up front
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let err = open_es(&args(&server.url, AuthArgs { ca_file: Some(ca), ..AuthArgs::default() })).err().expect("bad CA file");
    assert_eq!(err.code, 1);
    assert!(err.message.contains("CA file"), "{}", err.message);

    // --insecure is shown loudly
    let source = open_es(&args(&server.url, AuthArgs { insecure: true, headers: vec!["X-Tenant: blue".into()], ..AuthArgs::default() })).unwrap();
    let warning = source.info().warning.expect("insecure warning");
    assert!(warning.contains("TLS certificate verification is OFF"), "{warning}");
}
