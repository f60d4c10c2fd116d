//! Log sources behind one trait. A source answers searches, aggregations and field questions,
//! and streams a live tail; it knows nothing of rendering. Network sources do their I/O in
//! tokio tasks; the UI calls them from spawned tasks and gets results through channels.

pub mod cloudwatch;
pub mod compare;
pub mod elasticsearch;
pub mod http;
pub mod local;
pub mod loki;
pub mod patterns;
pub mod read;
mod seed;
pub mod spec;
pub mod thread;
pub mod watch;

use async_trait::async_trait;
use tokio::sync::mpsc;

use logsleuth_core::model::{Distinct, HistogramResult, Nanos, Record, TimeRange, TopResult};
pub use logsleuth_core::model::{FieldRoles, HitCount};

/// Which language a query is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum QueryLanguage {
    /// Kibana Query Language, the default everywhere.
    #[default]
    Kql,
    /// The backend's own language, passed through: LogQL for Loki, a query DSL JSON object (or
    /// Lucene query_string when it is not JSON) for Elasticsearch, a regular expression for
    /// local files.
    Native,
}

/// A filter query as the user typed it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Query {
    /// The query text; empty matches everything.
    pub text: String,
    /// Its language.
    pub language: QueryLanguage,
}

impl Query {
    /// A KQL query.
    pub fn kql(text: impl Into<String>) -> Self {
        Query { text: text.into(), language: QueryLanguage::Kql }
    }

    /// A native-language query.
    pub fn native(text: impl Into<String>) -> Self {
        Query { text: text.into(), language: QueryLanguage::Native }
    }

    /// True when the query matches everything.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// An opaque position for fetching the next page, produced by the source that reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// A request for log lines, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The filter.
    pub query: Query,
    /// The time range.
    pub range: TimeRange,
    /// Page size.
    pub limit: usize,
    /// Where the previous page ended; `None` for the first page.
    pub cursor: Option<Cursor>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchPage {
    /// Records, newest first.
    pub records: Vec<Record>,
    /// Total matching events, when the source knows it.
    pub total: Option<HitCount>,
    /// Cursor for the next page; `None` when this was the last.
    pub next: Option<Cursor>,
    /// Non-fatal problems to show (partial shard failures, unparsed lines skipped, …).
    pub warnings: Vec<String>,
}

/// How to split the events-over-time histogram.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Split {
    /// One series.
    #[default]
    None,
    /// By HTTP status class of the status role field: `1xx` … `5xx`.
    StatusClass,
    /// By the level role field (`error`, `warn`, `info`, …).
    Level,
    /// By the values of any field (top values; the rest as `other`).
    Field(String),
}

impl Split {
    /// The series one event's value goes to (`None`: in none), by the rule every backend
    /// shares ([`logsleuth_core::agg::split_key`]).
    pub fn key(&self, value: Option<&str>) -> Option<String> {
        use logsleuth_core::agg::{SplitKind, split_key};
        let kind = match self {
            Split::None => return None,
            Split::StatusClass => SplitKind::StatusClass,
            Split::Level => SplitKind::Level,
            Split::Field(_) => SplitKind::Field,
        };
        split_key(kind, value)
    }
}

/// A request for the top values of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct TopRequest {
    /// The filter.
    pub query: Query,
    /// The time range.
    pub range: TimeRange,
    /// The field to aggregate.
    pub field: String,
    /// How many values.
    pub size: usize,
}

/// A request for events over time.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramRequest {
    /// The filter.
    pub query: Query,
    /// The time range (a source with an unbounded range uses its data's span).
    pub range: TimeRange,
    /// Bucket width; `None` to choose one giving about `target_buckets` buckets.
    pub interval: Option<Nanos>,
    /// Desired bucket count when choosing the interval (the chart's width in cells).
    pub target_buckets: usize,
    /// How to split each bucket.
    pub split: Split,
}

/// A request for a live tail.
#[derive(Debug, Clone, PartialEq)]
pub struct TailRequest {
    /// The filter.
    pub query: Query,
    /// Only events at or after this time; `None` for "from now".
    pub since: Option<Nanos>,
}

/// What a live tail sends.
#[derive(Debug, Clone, PartialEq)]
pub enum TailEvent {
    /// New records, oldest first.
    Records(Vec<Record>),
    /// The server dropped this many entries (Loki `dropped_entries`) or the buffer overflowed.
    Dropped(u64),
    /// A state change to show: "connected", "reconnecting in 2s (connection reset)", …
    Status(String),
    /// A fatal error; the tail has ended.
    Failed(SourceError),
}

/// The type of a field, as far as the source knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FieldKind {
    /// Exact-match string (ES keyword, Loki label, access-log token).
    Keyword,
    /// Analysed full text (ES text).
    Text,
    /// Integer or float.
    Number,
    /// Date/time.
    Date,
    /// Boolean.
    Boolean,
    /// IP address.
    Ip,
    /// Nested object / other.
    Other,
}

/// Where a field comes from, so the detail view can keep them apart (Loki: stream label,
/// structured metadata, parsed label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FieldOrigin {
    /// Parsed from the line / a document field.
    Field,
    /// A stream label, file name or index name.
    Label,
    /// Loki structured metadata.
    Metadata,
}

/// A field a source offers, for the sidebar and autocomplete.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldInfo {
    /// Dotted field name.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// Whether the backend can aggregate on it (terms / top-N).
    pub aggregatable: bool,
    /// Where it comes from.
    pub origin: FieldOrigin,
}

/// What a source says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// `local`, `loki`, `elasticsearch` or `cloudwatch`.
    pub kind: &'static str,
    /// Short human description: file names, URL (never with credentials), selector or index.
    pub description: String,
    /// Field roles found so far.
    pub roles: FieldRoles,
    /// Columns to show by default after the time (e.g. status, method, path, client, agent).
    pub default_columns: Vec<String>,
    /// True for servers (a bounded default range, "last 1 hour"); false for local files, whose
    /// default range is their whole span.
    pub is_remote: bool,
    /// A warning to keep on screen (e.g. `--insecure`: TLS verification is off).
    pub warning: Option<String>,
}

/// Background work a source is doing (a large file being indexed), for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Work done (bytes).
    pub done: u64,
    /// Work in all (bytes); 0 when unknown.
    pub total: u64,
}

/// Errors a source can return. Messages are the server's words where there are any, and never
/// contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The query (KQL or native) is invalid: exit status 2 on the CLI.
    #[error("{0}")]
    Query(String),
    /// The server could not be reached (refused, DNS, TLS, timeout).
    #[error("cannot reach {target}: {reason}")]
    Unreachable {
        /// URL or address (without credentials).
        target: String,
        /// Why.
        reason: String,
    },
    /// Authentication or authorisation failed.
    #[error("authentication failed ({status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// Server's explanation.
        message: String,
    },
    /// The server answered with an error.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Server's explanation.
        message: String,
    },
    /// The server's answer could not be decoded.
    #[error("cannot decode the server's answer: {0}")]
    Decode(String),
    /// A local file could not be read.
    #[error("{0}")]
    Io(String),
    /// The operation is not possible with this source (says why).
    #[error("{0}")]
    Unsupported(String),
}

/// An interval that gives too many buckets is the user's to change (exit status 2), on every
/// backend alike.
impl From<logsleuth_core::agg::TooManyBuckets> for SourceError {
    fn from(e: logsleuth_core::agg::TooManyBuckets) -> Self {
        SourceError::Query(e.to_string())
    }
}

impl SourceError {
    /// The CLI exit status for this error: 2 for query errors, 1 for source errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            SourceError::Query(_) => 2,
            _ => 1,
        }
    }
}

impl From<logsleuth_kql::KqlError> for SourceError {
    fn from(e: logsleuth_kql::KqlError) -> Self {
        SourceError::Query(e.message)
    }
}

/// Completes a top-N answer with the field's distinct count, asked of the source, where the
/// answer does not have one (local files count it with the values; servers are asked apart).
pub async fn add_distinct(source: &dyn Source, request: TopRequest, top: &mut TopResult) -> SourceResult<()> {
    if top.distinct.is_none()
        && let Some(d) = source.distinct(request).await?
    {
        top.distinct = Some(d.count);
        top.distinct_estimated = d.estimated;
    }
    Ok(())
}

/// Result alias for source operations.
pub type SourceResult<T> = Result<T, SourceError>;

/// A log source. Methods take requests by value so callers can move them into spawned tasks.
/// Implementations must be cheap to share (`Arc<dyn Source>`) and must never block the calling
/// async task on CPU-heavy work (use `spawn_blocking` or rayon).
#[async_trait]
pub trait Source: Send + Sync {
    /// What the source is.
    fn info(&self) -> SourceInfo;

    /// Background progress (indexing a large file), if any work is under way.
    fn progress(&self) -> Option<Progress> {
        None
    }

    /// The time span of the data, when the source knows it cheaply (local files).
    async fn time_span(&self) -> Option<TimeRange> {
        None
    }

    /// What charts on this source may cost, to say before they run (CloudWatch Logs
    /// Insights bills the bytes a query scans); `None` when there is nothing to say.
    async fn cost_note(&self) -> Option<String> {
        None
    }

    /// One page of matching records, newest first.
    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage>;

    /// One page for a reader that shows no hit count (the CLI's `query`, exports): as
    /// [`Source::search`], but a source that counts hits in a request of its own (Loki) may
    /// leave `total` out rather than wait for it.
    async fn read_page(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.search(request).await
    }

    /// The top values of a field over the whole query and range.
    async fn top(&self, request: TopRequest) -> SourceResult<TopResult>;

    /// How many distinct values a field has over the whole query and range, where the
    /// backend can say (ES `cardinality`, Loki `count(count by (field) …)`); `None` where it
    /// cannot. Asked on its own, not with every top-N: it costs the server a pass.
    async fn distinct(&self, request: TopRequest) -> SourceResult<Option<Distinct>> {
        let _ = request;
        Ok(None)
    }

    /// Events over time over the whole query and range.
    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult>;

    /// The fields the source offers in a range.
    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>>;

    /// Known values of a field (for autocomplete), most frequent first when the source can tell.
    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>>;

    /// The records just before and after `record` in the same stream/file/index, oldest first,
    /// `record` itself included.
    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        let _ = (record, before, after);
        Err(SourceError::Unsupported("this source cannot show context".into()))
    }

    /// Starts a live tail; the task behind it ends when the receiver is dropped.
    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>>;

    /// The log patterns (templates) of the matching lines of a range, largest first. The
    /// default mines an evenly spread sample with Drain and marks the counts estimated
    /// ([`patterns::sample_patterns`]); local files mine every line, Loki asks its pattern
    /// ingester.
    async fn patterns(&self, request: patterns::PatternsRequest) -> SourceResult<logsleuth_core::patterns::PatternsResult> {
        patterns::sample_patterns(self, request).await
    }
}

/// Picks a histogram bucket width that gives about `target` buckets over `span` ns, from the
/// steps a person reads easily (1s, 5s, 10s, 30s, 1m, 5m, …, 1d, 7d, 30d). Shared by every
/// source so their charts line up.
pub fn choose_interval(span: Nanos, target: usize) -> Nanos {
    const S: Nanos = 1_000_000_000;
    const STEPS: [Nanos; 18] = [
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        60 * S,
        2 * 60 * S,
        5 * 60 * S,
        10 * 60 * S,
        15 * 60 * S,
        30 * 60 * S,
        3600 * S,
        3 * 3600 * S,
        6 * 3600 * S,
        12 * 3600 * S,
        86_400 * S,
        7 * 86_400 * S,
    ];
    let target = target.max(1) as Nanos;
    let ideal = (span.max(1) + target - 1) / target;
    STEPS.iter().copied().find(|&s| s >= ideal).unwrap_or(30 * 86_400 * S)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_gives_at_most_the_target_bucket_count() {
        let hour = 3600 * 1_000_000_000;
        assert_eq!(choose_interval(hour, 60), 60 * 1_000_000_000);
        assert_eq!(choose_interval(hour, 100), 60 * 1_000_000_000);
        assert_eq!(choose_interval(24 * hour, 100), 15 * 60 * 1_000_000_000);
        for (span, target) in [(hour, 7), (7 * 24 * hour, 150), (1_000, 10)] {
            assert!(span / choose_interval(span, target) <= target as i64);
        }
    }
}
