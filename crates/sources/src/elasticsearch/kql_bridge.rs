//! The one place the Elasticsearch source calls the KQL engine: `kql::parse` then
//! `kql::to_es` with the index pattern's `_field_caps` (`kql::FieldCaps::from_json`), so field
//! types, nested paths and keyword sub-fields are used exactly as Kibana uses an index pattern.

use serde_json::Value as Json;

use logsleuth_kql as kql;
use crate::{SourceError, SourceResult};

/// The field list in the KQL engine's form, built once per schema.
pub fn field_caps(raw: &Json) -> SourceResult<kql::FieldCaps> {
    kql::FieldCaps::from_json(raw)
        .map_err(|e| SourceError::Decode(format!("_field_caps: {}", e.message)))
}

/// Translates KQL text into the query object that goes under `"query"`.
pub fn translate(text: &str, fields: &kql::FieldCaps, time_zone: Option<&str>) -> SourceResult<Json> {
    let ast = kql::parse(text).map_err(|e| SourceError::Query(e.message))?;
    let options = kql::EsOptions {
        fields: Some(fields.clone()),
        time_zone: time_zone.map(str::to_string),
        case_insensitive: false,
        allow_leading_wildcards: true,
    };
    kql::to_es(&ast, &options).map_err(|e| SourceError::Query(e.message))
}
