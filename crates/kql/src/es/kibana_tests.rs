//! Kibana's own tests of the translation, ported: `@kbn/es-query` on main,
//! `src/platform/packages/shared/kbn-es-query/src/kuery/functions/{is,range}.test.ts` at
//! elastic/kibana@2adc277e, `functions/utils/get_fields.test.ts` (3ab0fa13) and
//! `functions/utils/get_full_field_name_node.test.ts` (b1411e64), with the expected JSON of
//! those tests.
//!
//! Adaptations:
//! - Kibana's `fields` stub index pattern is `tests/fixtures/kql/kibana_stub_fields.json`
//!   (same fields, same order, without the scripted ones: the scripted-field tests are not
//!   ported, `FieldCaps` has no scripts).
//! - Kibana builds nodes with `nodeTypes.function.buildNode('is', field, value)`; here the same
//!   node comes from KQL text. Where Kibana passes a JS number (`200`, `1000`, `8000`,
//!   `1776338120239`), KQL text always gives a string (the grammar never makes numbers), so the
//!   expected value is that string; the rest of the expected JSON is Kibana's.
//! - Kibana's `{ nested: { path } }` context argument is the `nested` argument of `node`.
//! - `nestedIgnoreUnmapped` (`ignore_unmapped` on nested queries) has no `EsOptions` field; those
//!   two tests are not ported.

use serde_json::{Value, json};

use super::*;
use crate::parse;

/// `tests/fixtures/kql/kibana_stub_fields.json` of the repository (two levels above this crate).
fn stub() -> FieldCaps {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kql/kibana_stub_fields.json");
    let text = std::fs::read_to_string(path).unwrap();
    FieldCaps::from_json(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// `indexPattern = { fields, title: 'dataView' }`.
fn index_pattern() -> EsOptions {
    EsOptions {
        fields: Some(stub()),
        ..EsOptions::default()
    }
}

/// `{ dateFormatTZ: 'America/Phoenix' }`.
fn phoenix() -> EsOptions {
    EsOptions {
        time_zone: Some("America/Phoenix".into()),
        ..index_pattern()
    }
}

/// `{ caseInsensitive: true }`.
fn case_insensitive() -> EsOptions {
    EsOptions {
        case_insensitive: true,
        ..index_pattern()
    }
}

fn q(kql: &str, o: &EsOptions) -> Value {
    to_es(&parse(kql).unwrap(), o).unwrap()
}

/// With Kibana's `{ nested: { path } }` context.
fn q_in(kql: &str, o: &EsOptions, path: &str) -> Value {
    node(&parse(kql).unwrap(), o, Some(path)).unwrap()
}

fn wild(pattern: &str) -> FieldRef {
    FieldRef::Wildcard(pattern.split('*').map(String::from).collect())
}

fn names(targets: &[Target]) -> Vec<String> {
    targets.iter().map(|t| t.name.clone()).collect()
}

mod is {
    use super::*;

    #[test]
    fn match_all_when_field_name_and_value_are_both_star() {
        assert_eq!(q("*:*", &index_pattern()), json!({"match_all": {}}));
    }

    #[test]
    fn match_all_for_star_queries_without_an_index_pattern() {
        assert_eq!(q("*:*", &EsOptions::default()), json!({"match_all": {}}));
    }

    #[test]
    fn multi_match_using_default_field_when_field_name_is_null() {
        assert_eq!(
            q("200", &index_pattern()),
            json!({"multi_match": {"query": "200", "type": "best_fields", "lenient": true}})
        );
    }

    #[test]
    fn query_string_using_default_field_when_field_name_is_null_and_value_has_a_wildcard() {
        assert_eq!(
            q("jpg*", &index_pattern()),
            json!({"query_string": {"query": "jpg*"}})
        );
    }

    #[test]
    fn bool_with_a_sub_query_for_each_field_when_field_name_is_star() {
        let result = q("*:200", &index_pattern());
        let should = result["bool"]["should"].as_array().unwrap();
        assert_eq!(should.len(), stub().fields.len());
    }

    #[test]
    fn exists_when_value_is_star() {
        assert_eq!(
            q("extension:*", &index_pattern()),
            json!({"bool": {"should": [{"exists": {"field": "extension"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn match_when_a_concrete_field_name_and_value_are_provided() {
        assert_eq!(
            q("extension:jpg", &index_pattern()),
            json!({"bool": {"should": [{"match": {"extension": "jpg"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn match_when_a_concrete_field_name_and_value_are_provided_without_an_index_pattern() {
        assert_eq!(
            q("extension:jpg", &EsOptions::default()),
            json!({"bool": {"should": [{"match": {"extension": "jpg"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn phrase_queries() {
        assert_eq!(
            q(r#"extension:"jpg""#, &index_pattern()),
            json!({"bool": {"should": [{"match_phrase": {"extension": "jpg"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn query_string_for_wildcard_values() {
        assert_eq!(
            q("extension:jpg*", &index_pattern()),
            json!({"bool": {"should": [{"query_string": {"fields": ["extension"], "query": "jpg*"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn wildcard_query_for_keyword_fields() {
        assert_eq!(
            q("machine.os.keyword:win*", &index_pattern()),
            json!({"bool": {"should": [{"wildcard": {"machine.os.keyword": {"value": "win*"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn case_insensitive_wildcard_query_for_keyword_fields() {
        assert_eq!(
            q("machine.os.keyword:win*", &case_insensitive()),
            json!({"bool": {"should": [{"wildcard": {"machine.os.keyword": {"value": "win*", "case_insensitive": true}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn wildcard_query_with_backslashes_properly_escaped() {
        // Kibana: buildNode('is', 'machine.os.keyword', '*\\\\*'), i.e. the KQL `*\\*`.
        assert_eq!(
            q(r"machine.os.keyword:*\\*", &index_pattern()),
            json!({"bool": {"should": [{"wildcard": {"machine.os.keyword": {"value": "*\\\\*"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn date_fields_without_a_date_format() {
        assert_eq!(
            q(r#"@timestamp:"2018-04-03T19:04:17""#, &index_pattern()),
            json!({"bool": {"should": [{"range": {"@timestamp": {
                "gte": "2018-04-03T19:04:17", "lte": "2018-04-03T19:04:17"
            }}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn date_fields_with_a_date_format() {
        assert_eq!(
            q(r#"@timestamp:"2018-04-03T19:04:17""#, &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {
                "gte": "2018-04-03T19:04:17", "lte": "2018-04-03T19:04:17", "time_zone": "America/Phoenix"
            }}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn no_time_zone_for_epoch_millisecond_values_even_with_a_date_format() {
        // Kibana's test passes the number 1776338120239; from KQL text it is the string.
        assert_eq!(
            q("@timestamp:1776338120239", &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {
                "gte": "1776338120239", "lte": "1776338120239"
            }}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn no_time_zone_for_digit_only_string_epoch_values_even_with_a_date_format() {
        assert_eq!(
            q(r#"@timestamp:"1776338120239""#, &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {
                "gte": "1776338120239", "lte": "1776338120239"
            }}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn a_nested_context_makes_the_full_field_name() {
        assert_eq!(
            q_in("extension:jpg", &index_pattern(), "nestedField"),
            json!({"bool": {"should": [{"match": {"nestedField.extension": "jpg"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn wildcard_field_names() {
        assert_eq!(
            q("ext*:jpg", &index_pattern()),
            json!({"bool": {"should": [{"match": {"extension": "jpg"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn nested_query_added_when_a_wildcard_field_name_covers_a_nested_field() {
        assert_eq!(
            q("*doublyNested*:foo", &index_pattern()),
            json!({"bool": {"should": [{"nested": {
                "path": "nestedField.nestedChild",
                "query": {"match": {"nestedField.nestedChild.doublyNestedChild": "foo"}},
                "score_mode": "none"
            }}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn term_query_for_keyword_fields() {
        assert_eq!(
            q("machine.os.keyword:Win 7", &index_pattern()),
            json!({"bool": {"should": [{"term": {"machine.os.keyword": {"value": "Win 7"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn case_insensitive_term_query_for_keyword_fields() {
        assert_eq!(
            q("machine.os.keyword:Win 7", &case_insensitive()),
            json!({"bool": {"should": [{"term": {"machine.os.keyword": {"value": "Win 7", "case_insensitive": true}}}], "minimum_should_match": 1}})
        );
    }

    /// Not a Kibana test: the `getFields` order and per-field query types together
    /// (`machine*` matches `machine.os`, `machine.os.raw`, `machine.os.keyword`, in that order).
    #[test]
    fn wildcard_field_names_expand_in_index_pattern_order_with_each_fields_query() {
        assert_eq!(
            q("machine*:osx", &index_pattern()),
            json!({"bool": {"should": [
                {"match": {"machine.os": "osx"}},
                {"match": {"machine.os.raw": "osx"}},
                {"term": {"machine.os.keyword": {"value": "osx"}}}
            ], "minimum_should_match": 1}})
        );
    }
}

mod range {
    use super::*;

    #[test]
    fn range_query_for_the_nodes_field_and_params() {
        assert_eq!(
            q("bytes > 1000", &index_pattern()),
            json!({"bool": {"should": [{"range": {"bytes": {"gt": "1000"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn range_query_without_an_index_pattern() {
        assert_eq!(
            q("bytes > 1000", &EsOptions::default()),
            json!({"bool": {"should": [{"range": {"bytes": {"gt": "1000"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn wildcard_field_names() {
        assert_eq!(
            q("byt* > 1000", &index_pattern()),
            json!({"bool": {"should": [{"range": {"bytes": {"gt": "1000"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn date_fields_without_a_date_format() {
        assert_eq!(
            q(r#"@timestamp > "2018-01-03T19:04:17""#, &index_pattern()),
            json!({"bool": {"should": [{"range": {"@timestamp": {"gt": "2018-01-03T19:04:17"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn date_fields_with_a_date_format() {
        assert_eq!(
            q(r#"@timestamp > "2018-01-03T19:04:17""#, &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {
                "gt": "2018-01-03T19:04:17", "time_zone": "America/Phoenix"
            }}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn no_time_zone_for_epoch_millisecond_values_even_with_a_date_format() {
        // Kibana's test passes the number 1776338120239; from KQL text it is the string.
        assert_eq!(
            q("@timestamp > 1776338120239", &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {"gt": "1776338120239"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn no_time_zone_for_digit_only_string_epoch_values_even_with_a_date_format() {
        assert_eq!(
            q(r#"@timestamp > "1776338120239""#, &phoenix()),
            json!({"bool": {"should": [{"range": {"@timestamp": {"gt": "1776338120239"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn a_nested_context_makes_the_full_field_name() {
        assert_eq!(
            q_in("bytes > 1000", &index_pattern(), "nestedField"),
            json!({"bool": {"should": [{"range": {"nestedField.bytes": {"gt": "1000"}}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn nested_query_added_when_a_wildcard_field_name_covers_a_nested_field() {
        assert_eq!(
            q("*doublyNested* < 8000", &index_pattern()),
            json!({"bool": {"should": [{"nested": {
                "path": "nestedField.nestedChild",
                "query": {"range": {"nestedField.nestedChild.doublyNestedChild": {"lt": "8000"}}},
                "score_mode": "none"
            }}], "minimum_should_match": 1}})
        );
    }
}

/// `getFields`: which data view fields a field name stands for. "No fields" shows here as the
/// name itself, unknown (what `is` and `range` then query).
mod get_fields {
    use super::*;

    fn unknown(targets: &[Target], name: &str) -> bool {
        matches!(targets, [t] if t.name == name && t.info.is_none())
    }

    #[test]
    fn nothing_when_the_field_does_not_exist_in_the_index_pattern() {
        let o = index_pattern();
        let (_, targets) = resolve(&FieldRef::Name("nonExistentField".into()), &o, None).unwrap();
        assert!(unknown(&targets, "nonExistentField"));
    }

    #[test]
    fn the_single_matching_field() {
        let o = index_pattern();
        let (_, targets) = resolve(&FieldRef::Name("extension".into()), &o, None).unwrap();
        assert_eq!(names(&targets), ["extension"]);
        assert!(targets[0].info.is_some());
    }

    #[test]
    fn a_wildcard_in_a_literal_node_is_not_a_wildcard() {
        let o = EsOptions {
            fields: Some(FieldCaps::from_json(&json!([{"name": "foo*"}])).unwrap()),
            ..EsOptions::default()
        };
        let (_, targets) = resolve(&FieldRef::Name("foo*".into()), &o, None).unwrap();
        assert_eq!(names(&targets), ["foo*"]);
        assert!(targets[0].info.is_some());
        let (_, targets) = resolve(&FieldRef::Name("fo*".into()), &o, None).unwrap();
        assert!(unknown(&targets, "fo*"));
        // The KQL spelling of a literal star in a field name.
        assert_eq!(
            q(r"foo\*:x", &o),
            json!({"bool": {"should": [{"match": {"foo*": "x"}}], "minimum_should_match": 1}})
        );
    }

    #[test]
    fn nothing_when_a_pattern_matches_no_field() {
        let o = index_pattern();
        let (_, targets) = resolve(&wild("nonExistent*"), &o, None).unwrap();
        assert!(unknown(&targets, "nonExistent*"));
    }

    #[test]
    fn all_fields_matching_the_pattern_in_index_pattern_order() {
        let o = index_pattern();
        let (_, targets) = resolve(&wild("machine*"), &o, None).unwrap();
        assert_eq!(
            names(&targets),
            ["machine.os", "machine.os.raw", "machine.os.keyword"]
        );
    }
}

mod get_full_field_name_node {
    use super::*;

    #[test]
    fn unchanged_name_without_a_nested_path() {
        let o = index_pattern();
        let (full, _) = resolve(&FieldRef::Name("notNested".into()), &o, None).unwrap();
        assert_eq!(full, FieldRef::Name("notNested".into()));
    }

    #[test]
    fn nested_path_added_when_valid_for_the_index_pattern() {
        let o = index_pattern();
        let (full, _) = resolve(&FieldRef::Name("child".into()), &o, Some("nestedField")).unwrap();
        assert_eq!(full, FieldRef::Name("nestedField.child".into()));
    }

    #[test]
    fn error_when_a_path_is_given_for_a_non_nested_field() {
        let o = index_pattern();
        let e = resolve(&FieldRef::Name("os".into()), &o, Some("machine"))
            .err()
            .unwrap();
        assert!(
            e.message.contains(
                r#"machine.os is not a nested field but is in nested group "machine" in the KQL expression"#
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn error_when_a_nested_field_is_given_without_a_path() {
        let o = index_pattern();
        let e = resolve(&FieldRef::Name("nestedField.child".into()), &o, None)
            .err()
            .unwrap();
        assert!(
            e.message.contains(
                "nestedField.child is a nested field, but is not in a nested group in the KQL expression."
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn error_when_a_nested_field_is_given_the_wrong_path() {
        let o = index_pattern();
        let e = resolve(
            &FieldRef::Name("nestedChild.doublyNestedChild".into()),
            &o,
            Some("nestedField"),
        )
        .err()
        .unwrap();
        assert!(
            e.message.contains(
                "Nested field nestedField.nestedChild.doublyNestedChild is being queried with the incorrect nested path. The correct path is nestedField.nestedChild"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn no_error_checking_for_wildcard_names() {
        let o = index_pattern();
        let (full, _) = resolve(&wild("nested*"), &o, None).unwrap();
        assert_eq!(full, wild("nested*"));
    }

    #[test]
    fn no_error_checking_without_an_index_pattern() {
        let o = EsOptions::default();
        let (full, _) = resolve(&FieldRef::Name("os".into()), &o, Some("machine")).unwrap();
        assert_eq!(full, FieldRef::Name("machine.os".into()));
    }
}
