//! Field metadata from an Elasticsearch `_field_caps` response, shaped like the field list of a
//! Kibana data view: one entry per field with its Kibana type, ES types, and the `subType`
//! Kibana derives (nested path, multi-field parent).

use super::KqlError;

/// Metadata fields Kibana keeps in a data view (its `metaFields` default); other metadata
/// fields of a `_field_caps` response (`_seq_no`, `_version`, …) are dropped, as Kibana does.
const KEPT_META_FIELDS: &[&str] = &["_source", "_id", "_index", "_score", "_ignored"];

/// One field, as Kibana's data view sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Full dotted name.
    pub name: String,
    /// Kibana's type: `string`, `number`, `date`, `boolean`, `ip`, …, or `conflict` when the
    /// indices disagree.
    pub kbn_type: String,
    /// The Elasticsearch types across indices (`keyword`, `text`, `long`, `date_nanos`, …).
    pub es_types: Vec<String>,
    /// Searchable in at least one index.
    pub searchable: bool,
    /// Aggregatable in at least one index.
    pub aggregatable: bool,
    /// The innermost `nested` path containing this field (Kibana's `subType.nested.path`).
    pub nested_path: Option<String>,
    /// The parent of a multi-field (`message` for `message.keyword`; `subType.multi.parent`).
    pub multi_parent: Option<String>,
}

impl FieldInfo {
    /// Whether exact (term/wildcard) queries apply: every ES type is a keyword type.
    pub fn is_keyword(&self) -> bool {
        !self.es_types.is_empty()
            && self
                .es_types
                .iter()
                .all(|t| matches!(t.as_str(), "keyword" | "constant_keyword" | "wildcard"))
    }

    /// Kibana's `isKeywordField` (`kuery/functions/is.ts`): the field has exactly one ES type
    /// and it is `keyword` (`esTypes.length === 1 && esTypes.includes('keyword')`). Such fields
    /// get `term` and `wildcard` queries instead of `match` and `query_string`; a field that is
    /// `keyword` in some indices and `text` in others, or `constant_keyword` / `wildcard`, does not.
    pub fn is_keyword_only(&self) -> bool {
        matches!(self.es_types.as_slice(), [t] if t == "keyword")
    }

    /// Whether Kibana treats the field as a date.
    pub fn is_date(&self) -> bool {
        self.kbn_type == "date"
    }
}

/// The fields of an index pattern, in the index pattern's order: sorted by name when read from a
/// `_field_caps` response (as Kibana sorts the fields it builds a data view from), as listed when
/// read from a data view field list. A wildcard field name expands in this order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldCaps {
    /// The fields. `object` and `nested` containers are not listed.
    pub fields: Vec<FieldInfo>,
}

/// Kibana's mapping of Elasticsearch types to its own (`castEsToKbnFieldTypeName`).
pub fn kbn_type_of(es_type: &str) -> &'static str {
    match es_type {
        "text" | "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "version"
        | "string" | "_id" | "_index" | "_type" | "_ignored" | "flattened" => "string",
        "long"
        | "integer"
        | "short"
        | "byte"
        | "double"
        | "float"
        | "half_float"
        | "scaled_float"
        | "unsigned_long"
        | "token_count"
        | "_score"
        | "_version"
        | "_seq_no"
        | "aggregate_metric_double" => "number",
        "date" | "date_nanos" => "date",
        "boolean" => "boolean",
        "ip" => "ip",
        "ip_range" => "ip_range",
        "geo_point" => "geo_point",
        "geo_shape" | "shape" | "point" => "geo_shape",
        "integer_range" | "float_range" | "long_range" | "double_range" => "number_range",
        "date_range" => "date_range",
        "histogram" => "histogram",
        "murmur3" => "murmur3",
        "attachment" => "attachment",
        "binary" => "binary",
        "_source" => "_source",
        "object" => "object",
        "nested" => "nested",
        "dense_vector" | "sparse_vector" => "number",
        _ => "unknown",
    }
}

fn bad(msg: impl Into<String>) -> KqlError {
    KqlError {
        message: msg.into(),
        offset: None,
    }
}

impl FieldCaps {
    /// Reads a `_field_caps` response (`{"fields": {name: {es_type: {searchable, aggregatable,
    /// metadata_field, …}}}}`), or a Kibana data view field list (`[{"name", "type", "esTypes",
    /// "subType"}]`, bare or under `"fields"`; its order is kept).
    pub fn from_json(json: &serde_json::Value) -> Result<FieldCaps, KqlError> {
        let fields = json.get("fields").unwrap_or(json);
        if let Some(list) = fields.as_array() {
            return Self::from_data_view(list);
        }
        let map = fields.as_object().ok_or_else(|| {
            bad("field caps: expected an object with \"fields\" (a _field_caps response)")
        })?;
        // (name, es types, searchable, aggregatable, metadata)
        let mut raw: Vec<(String, Vec<String>, bool, bool, bool)> = Vec::new();
        for (name, by_type) in map {
            let by_type = by_type.as_object().ok_or_else(|| {
                bad(format!(
                    "field caps: field {name:?} is not an object of types"
                ))
            })?;
            let mut types = Vec::new();
            let (mut searchable, mut aggregatable, mut meta) = (false, false, false);
            for (es_type, caps) in by_type {
                types.push(
                    caps.get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or(es_type)
                        .to_string(),
                );
                searchable |= caps
                    .get("searchable")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                aggregatable |= caps
                    .get("aggregatable")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                meta |= caps
                    .get("metadata_field")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
            }
            types.sort();
            types.dedup();
            raw.push((
                name.clone(),
                types,
                searchable,
                aggregatable,
                meta || name.starts_with('_'),
            ));
        }
        let type_of = |name: &str| raw.iter().find(|r| r.0 == name).map(|r| r.1.clone());
        let mut out = Vec::new();
        for (name, es_types, searchable, aggregatable, meta) in &raw {
            if es_types.iter().any(|t| t == "object" || t == "nested") {
                continue;
            }
            if *meta && !KEPT_META_FIELDS.contains(&name.as_str()) {
                continue;
            }
            let mut kbn: Vec<&str> = es_types.iter().map(|t| kbn_type_of(t)).collect();
            kbn.sort_unstable();
            kbn.dedup();
            let kbn_type = if kbn.len() == 1 {
                kbn[0].to_string()
            } else {
                "conflict".to_string()
            };
            // The innermost enclosing `nested` path, and the multi-field parent: a dotted field
            // whose parent is a concrete (non-object) field is a multi-field of it.
            let mut nested_path = None;
            let mut prefix_end = 0;
            while let Some(dot) = name[prefix_end..].find('.') {
                let prefix = &name[..prefix_end + dot];
                if type_of(prefix).is_some_and(|t| t.iter().any(|t| t == "nested")) {
                    nested_path = Some(prefix.to_string());
                }
                prefix_end += dot + 1;
            }
            let multi_parent = name.rfind('.').map(|i| &name[..i]).and_then(|parent| {
                type_of(parent)
                    .filter(|t| !t.iter().any(|t| t == "object" || t == "nested"))
                    .map(|_| parent.to_string())
            });
            out.push(FieldInfo {
                name: name.clone(),
                kbn_type,
                es_types: es_types.clone(),
                searchable: *searchable,
                aggregatable: *aggregatable,
                nested_path,
                multi_parent,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(FieldCaps { fields: out })
    }

    fn from_data_view(list: &[serde_json::Value]) -> Result<FieldCaps, KqlError> {
        let mut out = Vec::new();
        for f in list {
            let name = f
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| bad("field list: every field needs a \"name\""))?;
            let kbn_type = f
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown")
                .to_string();
            let es_types = f
                .get("esTypes")
                .and_then(|t| t.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let sub = f.get("subType");
            out.push(FieldInfo {
                name: name.to_string(),
                kbn_type,
                es_types,
                searchable: f
                    .get("searchable")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true),
                aggregatable: f
                    .get("aggregatable")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
                nested_path: sub
                    .and_then(|s| s.pointer("/nested/path"))
                    .and_then(|p| p.as_str())
                    .map(String::from),
                multi_parent: sub
                    .and_then(|s| s.pointer("/multi/parent"))
                    .and_then(|p| p.as_str())
                    .map(String::from),
            });
        }
        // The data view's own order (Kibana's `getFields` filters `indexPattern.fields` in order).
        Ok(FieldCaps { fields: out })
    }

    /// The field of this exact name.
    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The `.keyword`-style sub-fields of a field (multi-fields whose parent it is).
    pub fn keyword_subfield(&self, name: &str) -> Option<&FieldInfo> {
        self.fields
            .iter()
            .find(|f| f.multi_parent.as_deref() == Some(name) && f.is_keyword())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_types_nested_paths_and_multi_fields() {
        let caps = FieldCaps::from_json(&json!({
            "indices": ["a"],
            "fields": {
                "message": {"text": {"type": "text", "searchable": true, "aggregatable": false}},
                "message.keyword": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
                "user": {"nested": {"type": "nested", "searchable": false, "aggregatable": false}},
                "user.first": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
                "geo": {"object": {"type": "object", "searchable": false, "aggregatable": false}},
                "geo.city": {"keyword": {"type": "keyword", "searchable": true, "aggregatable": true}},
                "@timestamp": {"date_nanos": {"type": "date_nanos", "searchable": true, "aggregatable": true}},
                "_seq_no": {"_seq_no": {"type": "_seq_no", "metadata_field": true, "searchable": true, "aggregatable": true}},
                "_id": {"_id": {"type": "_id", "metadata_field": true, "searchable": true, "aggregatable": false}},
                "mixed": {"long": {"type": "long"}, "keyword": {"type": "keyword"}}
            }
        }))
        .unwrap();
        let names: Vec<&str> = caps.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "@timestamp",
                "_id",
                "geo.city",
                "message",
                "message.keyword",
                "mixed",
                "user.first"
            ]
        );
        assert_eq!(caps.get("@timestamp").unwrap().kbn_type, "date");
        assert_eq!(
            caps.get("message.keyword").unwrap().multi_parent.as_deref(),
            Some("message")
        );
        assert_eq!(caps.get("geo.city").unwrap().multi_parent, None);
        assert_eq!(
            caps.get("user.first").unwrap().nested_path.as_deref(),
            Some("user")
        );
        assert_eq!(caps.get("mixed").unwrap().kbn_type, "conflict");
        assert!(caps.keyword_subfield("message").is_some());
        assert!(caps.get("message.keyword").unwrap().is_keyword());
        assert!(!caps.get("message").unwrap().is_keyword());
    }

    #[test]
    fn data_view_lists_keep_their_order() {
        let caps = FieldCaps::from_json(&json!([
            {"name": "b", "type": "string", "esTypes": ["keyword"]},
            {"name": "a", "type": "string", "esTypes": ["text"]},
            {"name": "c", "type": "string"}
        ]))
        .unwrap();
        let names: Vec<&str> = caps.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
    }

    #[test]
    fn keyword_only_is_kibanas_is_keyword_field() {
        let caps = FieldCaps::from_json(&json!({"fields": {
            "k": {"keyword": {"type": "keyword"}},
            "ck": {"constant_keyword": {"type": "constant_keyword"}},
            "w": {"wildcard": {"type": "wildcard"}},
            "mixed": {"keyword": {"type": "keyword"}, "text": {"type": "text"}}
        }}))
        .unwrap();
        assert!(caps.get("k").unwrap().is_keyword_only());
        for name in ["ck", "w", "mixed"] {
            assert!(!caps.get(name).unwrap().is_keyword_only(), "{name}");
        }
        // From a data view list without esTypes: not a keyword field.
        let caps = FieldCaps::from_json(&json!([{"name": "s", "type": "string"}])).unwrap();
        assert!(!caps.fields[0].is_keyword_only());
    }

    #[test]
    fn rejects_non_objects() {
        assert!(FieldCaps::from_json(&json!({"fields": 3})).is_err());
        assert!(FieldCaps::from_json(&json!({"fields": {"a": 1}})).is_err());
    }
}
