//! Fuzzes the KQL parser, and every consumer of what it accepts.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run kql_parse -- -max_total_time=180` (from the repo root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logsleuth::kql::{self, EsOptions, EvalOptions, LogqlOptions, LogqlParser, Matcher};
use logsleuth::model::Record;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let _ = kql::completion_context(query, query.len() / 2);
    let Ok(ast) = kql::parse(query) else { return };
    // What parses must print to something that parses back to the same tree.
    let printed = ast.to_string();
    match kql::parse(&printed) {
        Ok(again) => assert_eq!(again, ast, "{query:?} printed as {printed:?}"),
        Err(e) => panic!("{query:?} printed as {printed:?} does not parse: {}", e.message),
    }
    let _ = kql::to_es(&ast, &EsOptions::default());
    let _ = kql::to_logql(
        &ast,
        &LogqlOptions { selector: "{job=\"x\"}".into(), labels: vec!["job".into()], parser: Some(LogqlParser::Json) },
    );
    if let Ok(m) = Matcher::new(&ast, &EvalOptions::default()) {
        let _ = m.matches(&Record::plain(query));
    }
});
