//! Property tests: printing an AST and parsing it back gives the same AST; nothing panics on
//! arbitrary input.

use logsleuth::kql::{
    self, Ast, EsOptions, EvalOptions, FieldCaps, FieldRef, Literal, LogqlOptions, LogqlParser, Matcher, RangeOp,
};
use logsleuth::model::{Fields, Record, Value};
use proptest::prelude::*;

fn js_ws(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
            | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// Text made of KQL's troublesome pieces: specials, keywords, whitespace, escapes, unicode.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_.@/-]{1,6}",
            Just(" ".to_string()),
            Just(" or ".to_string()),
            Just(" AND ".to_string()),
            Just("not ".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("\u{a0}".to_string()),
            prop::sample::select(vec!["\\", "(", ")", ":", "<", ">", "\"", "*", "{", "}", "é", "💥", "\\u0041", "=", "'"])
                .prop_map(String::from),
        ],
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

/// Text an unquoted literal can hold: no surrounding whitespace, not a typed keyword.
fn unquoted_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| {
        let t = s.trim_matches(js_ws).to_string();
        if t.is_empty() || matches!(t.as_str(), "true" | "false" | "null") { format!("x{t}") } else { t }
    })
}

fn wildcard_parts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop_oneof![Just(String::new()), text()], 2..4).prop_map(|mut parts| {
        parts[0] = parts[0].trim_start_matches(js_ws).to_string();
        let last = parts.len() - 1;
        parts[last] = parts[last].trim_end_matches(js_ws).to_string();
        parts
    })
}

fn field() -> impl Strategy<Value = FieldRef> {
    prop_oneof![
        3 => text().prop_map(FieldRef::Name),
        1 => wildcard_parts().prop_map(FieldRef::Wildcard),
    ]
}

fn value() -> impl Strategy<Value = (Literal, bool)> {
    prop_oneof![
        3 => unquoted_text().prop_map(|s| (Literal::Str(s), false)),
        2 => prop_oneof![text(), Just(String::new())].prop_map(|s| (Literal::Str(s), true)),
        1 => wildcard_parts().prop_map(|p| (Literal::Wildcard(p), false)),
        1 => any::<bool>().prop_map(|b| (Literal::Bool(b), false)),
        1 => Just((Literal::Null, false)),
    ]
}

fn leaf() -> impl Strategy<Value = Ast> {
    let op = prop::sample::select(vec![RangeOp::Lt, RangeOp::Lte, RangeOp::Gt, RangeOp::Gte]);
    prop_oneof![
        4 => (prop::option::of(field()), value()).prop_map(|(field, (value, phrase))| Ast::Is { field, value, phrase }),
        2 => (field(), op, value()).prop_map(|(field, op, (value, _))| Ast::Range { field, op, value }),
    ]
}

fn ast() -> impl Strategy<Value = Ast> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Ast::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Ast::Or),
            inner.clone().prop_map(|a| Ast::Not(Box::new(a))),
            (field(), inner).prop_map(|(path, q)| Ast::Nested { path, query: Box::new(q) }),
        ]
    })
}

/// Query-like strings: fragments of KQL glued together, to reach deep into the grammar.
fn queryish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "status", "200", ":", " ", "(", ")", "{", "}", "\"", "*", "\\", "<", "<=", ">", ">=", " and ", " or ",
            "not ", "NOT ", "user", ".", "now-15m", "@timestamp", "\\u00e9", "\\n", "é", "true", "null", "\u{a0}", "\t",
        ]),
        0..20,
    )
    .prop_map(|v| v.concat())
}

fn sample_record() -> Record {
    let mut fields = Fields::new();
    fields.push("status", Value::Int(200));
    fields.push("user", Value::Array(vec![Value::Object(Fields(vec![("first".into(), Value::Str("A".into()))]))]));
    Record { timestamp: Some(0), message: "GET / 200 é".into(), fields, ..Record::default() }
}

fn exercise(query: &str) {
    let Ok(ast) = kql::parse(query) else { return };
    let caps = FieldCaps::from_json(&serde_json::json!({"fields": {
        "user": {"nested": {"type": "nested"}},
        "user.first": {"keyword": {"type": "keyword"}},
        "status": {"long": {"type": "long"}},
        "@timestamp": {"date": {"type": "date"}}
    }}))
    .unwrap();
    let _ = kql::to_es(&ast, &EsOptions::default());
    let _ = kql::to_es(
        &ast,
        &EsOptions { fields: Some(caps), time_zone: Some("UTC".into()), case_insensitive: true, allow_leading_wildcards: false },
    );
    let _ = kql::to_logql(
        &ast,
        &LogqlOptions { selector: "{job=\"x\"}".into(), labels: vec!["status".into()], parser: Some(LogqlParser::Json) },
    );
    let _ = kql::to_logql(&ast, &LogqlOptions::default());
    if let Ok(m) = Matcher::new(&ast, &EvalOptions { now: 0, time_zone: None, case_insensitive: true }) {
        let _ = m.matches(&sample_record());
        let _ = m.matches(&Record::default());
    }
    let _ = kql::completion_context(query, query.len() / 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printed_ast_parses_back_to_itself(a in ast()) {
        let printed = a.to_string();
        let parsed = kql::parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed:?} failed: {:?}", parsed.err().map(|e| e.message));
        prop_assert_eq!(parsed.unwrap(), a, "printed as {:?}", printed);
    }

    #[test]
    fn parse_print_parse_is_stable(q in queryish()) {
        if let Ok(a) = kql::parse(&q) {
            let printed = a.to_string();
            let again = kql::parse(&printed);
            prop_assert!(again.is_ok(), "{q:?} → {printed:?}: {:?}", again.err().map(|e| e.message));
            prop_assert_eq!(again.unwrap(), a, "{:?} printed as {:?}", q, printed);
        }
    }

    #[test]
    fn errors_point_inside_the_query(q in queryish()) {
        if let Err(e) = kql::parse(&q) {
            let offset = e.offset.expect("syntax errors have an offset");
            prop_assert!(offset <= q.chars().count());
            prop_assert!(e.message.contains('^'));
        }
    }

    #[test]
    fn nothing_panics_on_queryish_input(q in queryish()) {
        exercise(&q);
    }

    #[test]
    fn nothing_panics_on_arbitrary_input(q in any::<String>()) {
        exercise(&q);
    }

    #[test]
    fn quoted_values_round_trip(s in any::<String>(), f in any::<String>()) {
        let q = format!("{}:{}", kql::quote_field(&f), kql::quote_value(&s));
        let parsed = kql::parse(&q).unwrap();
        // A field named like a keyword stays that field; the value is a phrase of exactly `s`.
        match parsed {
            Ast::Is { field: Some(FieldRef::Name(name)), value: Literal::Str(v), phrase: true } => {
                prop_assert_eq!(name, f);
                prop_assert_eq!(v, s);
            }
            other => prop_assert!(false, "{q:?} parsed as {other:?}"),
        }
    }
}
