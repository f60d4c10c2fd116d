//! [`MemorySource`]: the product's local source ([`LocalSource`]) reading log lines held in
//! memory, as it reads a pipe: the real format detection, parsers, field roles, default
//! columns, filters, aggregations, field lists and context. The test adds what a test needs
//! around it: a delay, a tail it feeds itself, a log of requests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::mpsc;

use logsleuth_core::model::{HistogramResult, Nanos, Record, RecordId, TimeRange, TopResult};
use logsleuth_formats::{LogFormat, ParseOptions};
use logsleuth_sources::local::{LocalOptions, LocalSource};
use logsleuth_sources::{
    FieldInfo, HistogramRequest, Progress, SearchPage, SearchRequest, Source, SourceInfo, SourceResult, TailEvent, TailRequest,
    TopRequest,
};

/// How long a source may take to index its lines before the test fails.
const INDEXING_LIMIT: Duration = Duration::from_secs(60);

/// Log lines in memory, read by the product's [`LocalSource`].
pub struct MemorySource {
    local: LocalSource,
    columns: Option<Vec<String>>,
    warning: Option<String>,
    delay: Option<Duration>,
    tails: Mutex<Vec<mpsc::Sender<TailEvent>>>,
    requests: Mutex<Vec<String>>,
}

impl MemorySource {
    /// The local source over `text` (one log line per line), named `name` as a file or pipe
    /// would be; its format is detected as for any input. Returns once every line is indexed.
    pub fn from_log(name: &str, text: &str) -> Self {
        let reader = std::io::Cursor::new(text.as_bytes().to_vec());
        let local = LocalSource::from_reader(name, reader, LocalOptions::default()).expect("an in-memory input opens");
        let deadline = Instant::now() + INDEXING_LIMIT;
        while local.progress().is_some() {
            assert!(Instant::now() < deadline, "{name}: indexing did not end within {INDEXING_LIMIT:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
        MemorySource { local, columns: None, warning: None, delay: None, tails: Mutex::new(Vec::new()), requests: Mutex::new(Vec::new()) }
    }

    /// [`MemorySource::from_log`] for an nginx/apache access log; panics unless the product
    /// detects it as one.
    pub fn from_access_log(name: &str, text: &str) -> Self {
        let source = MemorySource::from_log(name, text);
        let format = source.format();
        assert!(matches!(format, LogFormat::AccessCombined | LogFormat::AccessCommon), "{name} is read as {format}, not as an access log");
        source
    }

    /// The format the local source detected.
    pub fn format(&self) -> LogFormat {
        self.local.formats().first().map(|(_, f)| *f).unwrap_or(LogFormat::Plain)
    }

    /// The local source itself.
    pub fn local(&self) -> &LocalSource {
        &self.local
    }

    /// Shows `columns` by default instead of the format's defaults (as `--columns` would).
    pub fn with_columns(mut self, columns: &[&str]) -> Self {
        self.columns = Some(columns.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Describes the source with a warning (as a server source can; files have none).
    pub fn with_warning(mut self, warning: impl Into<String>) -> Self {
        self.warning = Some(warning.into());
        self
    }

    /// Makes every search and aggregation take `delay` first (spinners, cancelling).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Sends tail events to every running tail; returns how many tails got them.
    pub fn push_tail(&self, event: TailEvent) -> usize {
        let mut tails = self.tails.lock().unwrap_or_else(|e| e.into_inner());
        tails.retain(|t| t.try_send(event.clone()).is_ok());
        tails.len()
    }

    /// The requests received so far, as short descriptions (`search q=… cursor=…`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The newest record time.
    pub async fn newest(&self) -> Option<Nanos> {
        self.local.time_span().await.and_then(|s| s.to).map(|to| to - 1)
    }

    fn log(&self, what: String) {
        if let Ok(mut r) = self.requests.lock() {
            r.push(what);
        }
    }

    async fn pause(&self) {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
    }
}

/// The record the product's access-log parser makes of `line`, with the line position a
/// local file gives it (for records a test sends as tail events). `None` when the line is
/// not an access-log line.
pub fn access_record(line: &str, line_no: u64) -> Option<Record> {
    let mut record = logsleuth_formats::parse(LogFormat::AccessCombined, line, &ParseOptions::default())?;
    record.id = RecordId::Line { file: 0, line: line_no };
    Some(record)
}

#[async_trait]
impl Source for MemorySource {
    fn info(&self) -> SourceInfo {
        let mut info = self.local.info();
        if let Some(columns) = &self.columns {
            info.default_columns = columns.clone();
        }
        if self.warning.is_some() {
            info.warning = self.warning.clone();
        }
        info
    }

    fn progress(&self) -> Option<Progress> {
        self.local.progress()
    }

    async fn time_span(&self) -> Option<TimeRange> {
        self.local.time_span().await
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.log(format!("search q={} cursor={:?}", request.query.text, request.cursor.as_ref().map(|c| &c.0)));
        self.pause().await;
        self.local.search(request).await
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        self.log(format!("top {} q={}", request.field, request.query.text));
        self.pause().await;
        self.local.top(request).await
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        self.log(format!("histogram q={} split={:?}", request.query.text, request.split));
        self.pause().await;
        self.local.histogram(request).await
    }

    async fn patterns(&self, request: logsleuth_sources::patterns::PatternsRequest) -> SourceResult<logsleuth_core::patterns::PatternsResult> {
        self.log(format!("patterns q={}", request.query.text));
        self.pause().await;
        self.local.patterns(request).await
    }

    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        self.log("fields".to_string());
        self.local.fields(range).await
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        self.log(format!("values {field}"));
        self.local.field_values(field, range, limit).await
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        self.log("context".to_string());
        self.local.context(record, before, after).await
    }

    /// A tail the test feeds with [`MemorySource::push_tail`] (the local source's own tail of
    /// a pipe would replay every line and end).
    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        self.log(format!("tail q={}", request.query.text));
        let (tx, rx) = mpsc::channel(1024);
        self.tails.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::TopBucket;
    use logsleuth_sources::{HitCount, Query, Split};

    const SAMPLE: &str = include_str!("../../../tests/fixtures/ui/nginx_sample.log");

    #[tokio::test]
    async fn the_sample_is_read_by_the_local_source_with_the_products_fields() {
        let s = MemorySource::from_access_log("nginx_sample.log", SAMPLE);
        let info = s.info();
        assert_eq!(info.default_columns, ["status", "method", "path", "remote_addr", "http_user_agent"]);
        assert_eq!(info.roles.client_ip.as_deref(), Some("remote_addr"));
        let page = s
            .search(SearchRequest { query: Query::kql("status:404"), range: TimeRange::ALL, limit: 100, cursor: None })
            .await
            .unwrap();
        assert_eq!(page.total, Some(HitCount::Exact(688)));
        assert_eq!(page.records.len(), 100);
        assert!(page.records.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
        assert!(page.records[0].get("http_user_agent").is_some());
        let top = s.top(TopRequest { query: Query::default(), range: TimeRange::ALL, field: "status".into(), size: 3 }).await.unwrap();
        assert_eq!(top.buckets[0], TopBucket { value: "404".into(), count: 688 });
        assert_eq!(top.buckets.iter().map(|b| b.count).sum::<u64>() + top.other, 1000);
        let h = s
            .histogram(HistogramRequest { query: Query::default(), range: TimeRange::ALL, interval: None, target_buckets: 60, split: Split::StatusClass })
            .await
            .unwrap();
        assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert!(h.buckets.len() <= 60);
        assert_eq!(h.buckets.iter().map(|b| b.split.get("4xx").copied().unwrap_or(0)).sum::<u64>(), 690);
        assert_eq!(s.requests().len(), 3);
    }
}
