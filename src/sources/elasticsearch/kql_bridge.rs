//! The one place the Elasticsearch source calls the KQL engine: `kql::parse` then
//! `kql::to_es` with the index pattern's `_field_caps` (`kql::FieldCaps::from_json`), so field
//! types, nested paths and keyword sub-fields are used exactly as Kibana uses an index pattern.

use serde_json::Value as Json;

use crate::kql;
use crate::sources::{SourceError, SourceResult};

/// Translates KQL text into the query object that goes under `"query"`.
pub fn translate(text: &str, field_caps: &Json, time_zone: Option<&str>) -> SourceResult<Json> {
    let _ = (field_caps, time_zone);
    let _ast = kql::parse(text).map_err(|e| SourceError::Query(e.message))?;
    // The translator (`kql::to_es`) arrives with the KQL engine branch.
    Err(SourceError::Unsupported("KQL to Elasticsearch translation is not available in this build".into()))
}
