//! Data types shared by sources, the query engine and the UI.

mod agg;
mod record;
mod roles;
mod value;

pub use agg::{Distinct, HistogramBucket, HistogramResult, TopBucket, TopResult};
/// The status class rule lives with the other aggregation rules in [`crate::agg`].
pub use crate::agg::{status_class, status_class_of};
pub use record::{Record, RecordId};
pub use roles::{FieldRoles, HitCount, ROLE_NAMES, RoleNames};
pub use value::{Fields, Value};

/// Nanoseconds since the Unix epoch, UTC. Loki's native precision; every source converts to it.
pub type Nanos = i64;

/// A resolved time range. `None` on a side means unbounded (a local file's whole span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: Option<Nanos>,
    /// Exclusive end.
    pub to: Option<Nanos>,
}

impl TimeRange {
    /// The unbounded range.
    pub const ALL: TimeRange = TimeRange { from: None, to: None };

    /// A range with both ends set.
    pub fn between(from: Nanos, to: Nanos) -> Self {
        TimeRange { from: Some(from), to: Some(to) }
    }

    /// Whether `ts` lies inside the range (`from <= ts < to`).
    pub fn contains(&self, ts: Nanos) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t)
    }
}
