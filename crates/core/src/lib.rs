//! logsleuth's core: what every other crate shares and nothing of ours is imported by it.
//!
//! - [`agg`]: the aggregation rules every backend shares (split keys, `other` folding, top-N
//!   order, bucket caps).
//! - [`changes`]: what changed: the spike / drop rule over histogram buckets, the G-test that
//!   ranks value changes.
//! - [`patterns`]: Drain log-pattern mining with masking of variable parts.
//! - [`model`]: records, values, time ranges, field roles and aggregation results.
//! - [`time`]: durations, RFC 3339 and date math (`now-15m/m`).
//! - [`text`]: making hostile log text safe to draw.

pub mod agg;
pub mod changes;
pub mod model;
pub mod patterns;
pub mod text;
pub mod time;
