//! What an index pattern offers, from `GET <index>/_field_caps?fields=*`: field types, whether
//! they aggregate, keyword sub-fields, the time field and the field roles.

use serde_json::Value as Json;

use crate::{FieldInfo, FieldKind, FieldOrigin, FieldRoles, SourceError};

/// One field as `_field_caps` describes it (possibly with several types across indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCap {
    /// Dotted name.
    pub name: String,
    /// The ES types reported (`keyword`, `text`, `long`, `date_nanos`, …).
    pub types: Vec<String>,
    /// True when some type of it is aggregatable.
    pub aggregatable: bool,
}

impl FieldCap {
    /// The kind shown to the user; a field that is both keyword and text (multi-typed servers)
    /// counts as keyword when it aggregates.
    pub fn kind(&self) -> FieldKind {
        let kinds: Vec<FieldKind> = self.types.iter().map(|t| kind_of(t)).collect();
        if kinds.contains(&FieldKind::Keyword) && (self.aggregatable || !kinds.contains(&FieldKind::Text)) {
            return FieldKind::Keyword;
        }
        kinds.first().copied().unwrap_or(FieldKind::Other)
    }

    /// Whether it is a date field.
    pub fn is_date(&self) -> bool {
        self.types.iter().any(|t| t == "date" || t == "date_nanos")
    }
}

/// Maps an ES field type to a [`FieldKind`].
pub fn kind_of(es_type: &str) -> FieldKind {
    match es_type {
        "keyword" | "constant_keyword" | "wildcard" | "version" => FieldKind::Keyword,
        "text" | "match_only_text" | "search_as_you_type" => FieldKind::Text,
        "long" | "integer" | "short" | "byte" | "double" | "float" | "half_float" | "scaled_float"
        | "unsigned_long" => FieldKind::Number,
        "date" | "date_nanos" => FieldKind::Date,
        "boolean" => FieldKind::Boolean,
        "ip" => FieldKind::Ip,
        _ => FieldKind::Other,
    }
}

/// The fields of an index pattern, in the server's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The raw `_field_caps` answer.
    pub raw: Json,
    /// The same field list as the KQL translator reads it.
    pub kql_fields: logsleuth_kql::FieldCaps,
    /// Leaf fields (object containers and metadata fields left out).
    pub fields: Vec<FieldCap>,
    /// The time field.
    pub time_field: String,
    /// Field roles (detected, then overridden by configuration).
    pub roles: FieldRoles,
}

impl Schema {
    /// Builds the schema from a `_field_caps` answer. `time_field` and `roles` override detection.
    pub fn from_field_caps(raw: Json, time_field: Option<&str>, overrides: &FieldRoles) -> Result<Schema, SourceError> {
        let Some(map) = raw.get("fields").and_then(Json::as_object) else {
            return Err(SourceError::Decode("_field_caps answer has no \"fields\" object".into()));
        };
        let mut fields = Vec::new();
        for (name, by_type) in map {
            let Some(by_type) = by_type.as_object() else { continue };
            let mut types = Vec::new();
            let mut aggregatable = false;
            let mut metadata = false;
            for (ty, caps) in by_type {
                if matches!(ty.as_str(), "object" | "nested" | "unmapped") {
                    continue;
                }
                metadata |= caps.get("metadata_field").and_then(Json::as_bool).unwrap_or(false) || name.starts_with('_');
                aggregatable |= caps.get("aggregatable").and_then(Json::as_bool).unwrap_or(false);
                types.push(ty.clone());
            }
            if types.is_empty() || metadata {
                continue;
            }
            fields.push(FieldCap { name: name.clone(), types, aggregatable });
        }
        let time_field = match time_field {
            Some(t) => t.to_string(),
            None => fields
                .iter()
                .find(|f| f.name == "@timestamp" && f.is_date())
                .or_else(|| fields.iter().find(|f| f.is_date()))
                .map(|f| f.name.clone())
                .ok_or_else(|| {
                    SourceError::Unsupported(
                        "the index pattern has no date field to use as the time field; name one with --time-field".into(),
                    )
                })?,
        };
        let kql_fields = super::kql_bridge::field_caps(&raw)?;
        let mut schema = Schema { raw, kql_fields, fields, time_field, roles: FieldRoles::default() };
        // Detected by the one dictionary every backend uses, then the configuration's roles.
        let detected = FieldRoles::guess(|name| schema.field(name).is_some());
        schema.roles = detected.overridden_by(overrides.clone());
        Ok(schema)
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&FieldCap> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field to aggregate on for `name`: the field itself when aggregatable, else its
    /// `.keyword` sub-field, else an error saying why no chart is possible.
    pub fn aggregatable_field(&self, name: &str) -> Result<String, SourceError> {
        let Some(field) = self.field(name) else {
            return Err(SourceError::Unsupported(format!("field '{name}' does not exist in this index pattern")));
        };
        if field.aggregatable {
            return Ok(field.name.clone());
        }
        let keyword = format!("{name}.keyword");
        if let Some(sub) = self.field(&keyword)
            && sub.aggregatable
        {
            return Ok(sub.name.clone());
        }
        Err(SourceError::Unsupported(format!(
            "field '{name}' ({}) is not aggregatable and has no aggregatable keyword sub-field, so it cannot be charted",
            field.types.join("/")
        )))
    }

    /// The fields for the sidebar and autocomplete: every leaf field, plus `_index` as a label.
    pub fn field_infos(&self) -> Vec<FieldInfo> {
        let mut out: Vec<FieldInfo> = self
            .fields
            .iter()
            .map(|f| FieldInfo { name: f.name.clone(), kind: f.kind(), aggregatable: f.aggregatable, origin: FieldOrigin::Field })
            .collect();
        out.push(FieldInfo { name: "_index".into(), kind: FieldKind::Keyword, aggregatable: true, origin: FieldOrigin::Label });
        out
    }

    /// Columns to show after the time by default: the role fields found, in reading order.
    pub fn default_columns(&self) -> Vec<String> {
        let r = &self.roles;
        [&r.level, &r.status, &r.method, &r.path, &r.client_ip, &r.user_agent]
            .into_iter()
            .flatten()
            .filter(|name| self.field(name).is_some())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(json: &str) -> Json {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn time_field_prefers_at_timestamp_then_first_date() {
        let raw = caps(r#"{"fields":{"ts":{"date":{"aggregatable":true}},"@timestamp":{"date_nanos":{"aggregatable":true}},"msg":{"text":{"aggregatable":false}}}}"#);
        let s = Schema::from_field_caps(raw.clone(), None, &FieldRoles::default()).unwrap();
        assert_eq!(s.time_field, "@timestamp");
        let raw = caps(r#"{"fields":{"msg":{"text":{"aggregatable":false}},"ts":{"date":{"aggregatable":true}}}}"#);
        assert_eq!(Schema::from_field_caps(raw, None, &FieldRoles::default()).unwrap().time_field, "ts");
        let raw = caps(r#"{"fields":{"msg":{"text":{"aggregatable":false}}}}"#);
        assert!(matches!(Schema::from_field_caps(raw, None, &FieldRoles::default()), Err(SourceError::Unsupported(_))));
    }

    #[test]
    fn keyword_sub_fields_are_used_for_text_fields() {
        let raw = caps(
            r#"{"fields":{"@timestamp":{"date":{"aggregatable":true}},
                "agent":{"text":{"aggregatable":false}},"agent.keyword":{"keyword":{"aggregatable":true}},
                "message":{"text":{"aggregatable":false}},
                "_id":{"_id":{"metadata_field":true,"aggregatable":false}},
                "geo":{"object":{"aggregatable":false}}}}"#,
        );
        let s = Schema::from_field_caps(raw, None, &FieldRoles::default()).unwrap();
        assert_eq!(s.aggregatable_field("agent").unwrap(), "agent.keyword");
        let err = s.aggregatable_field("message").unwrap_err();
        assert_eq!(
            err.to_string(),
            "field 'message' (text) is not aggregatable and has no aggregatable keyword sub-field, so it cannot be charted"
        );
        assert!(s.field("_id").is_none() && s.field("geo").is_none());
        assert_eq!(s.roles.user_agent.as_deref(), Some("agent"));
    }
}
