//! The user's query as Elasticsearch query DSL: KQL through [`logsleuth_kql`] (with the index
//! pattern's field caps, as Kibana does), or the native language: a query DSL JSON object used
//! as is, or Lucene `query_string` text.

use serde_json::{Value as Json, json};

use super::fields::Schema;
use crate::{Query, QueryLanguage, SourceError, SourceResult};

/// Translates a query. `None` means "match everything" (an empty query), which callers leave
/// out of the bool filter.
pub fn to_dsl(query: &Query, schema: &Schema, time_zone: Option<&str>) -> SourceResult<Option<Json>> {
    if query.is_empty() {
        return Ok(None);
    }
    match query.language {
        QueryLanguage::Kql => super::kql_bridge::translate(&query.text, &schema.kql_fields, time_zone).map(Some),
        QueryLanguage::Native => native(&query.text).map(Some),
    }
}

/// A native query: a JSON object is the query DSL (a whole body `{"query": {…}}` is unwrapped),
/// anything else is Lucene syntax for `query_string`.
pub fn native(text: &str) -> SourceResult<Json> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let parsed: Json = serde_json::from_str(trimmed)
            .map_err(|e| SourceError::Query(format!("invalid query DSL JSON: {e}")))?;
        let Json::Object(map) = parsed else {
            return Err(SourceError::Query("query DSL must be a JSON object".into()));
        };
        if map.len() == 1
            && let Some(inner @ Json::Object(_)) = map.get("query")
        {
            return Ok(inner.clone());
        }
        return Ok(Json::Object(map));
    }
    Ok(json!({"query_string": {"query": trimmed}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_json_is_used_as_the_query_and_text_is_query_string() {
        assert_eq!(native(r#"{"term":{"host":"web-02"}}"#).unwrap(), json!({"term":{"host":"web-02"}}));
        assert_eq!(native(r#" {"query":{"match_all":{}}} "#).unwrap(), json!({"match_all":{}}));
        assert_eq!(native("status:404 AND method:GET").unwrap(), json!({"query_string":{"query":"status:404 AND method:GET"}}));
        assert!(matches!(native("{\"term\":"), Err(SourceError::Query(_))));
    }
}
