//! Elasticsearch / OpenSearch: `_search`, aggregations, `_field_caps`.
//!
//! SKELETON: implemented with the Elasticsearch issue.
