//! [`RecordSource`]: hand-made records answered from memory, for what no log file gives: the
//! records a server source can send (labels, nested objects, messages with line breaks,
//! hostile text anywhere) to test what the screens and reports make of them. Wherever the
//! records could come from a file, use [`crate::MemorySource`], which is the product's own
//! local source.
//!
//! Filtering uses the product's KQL matcher (native queries: a regular expression over the
//! message, as the local source does); the histogram split uses the product's status-class
//! and level rules ([`logsleuth_core::model::status_class_of`], [`logsleuth_formats::level_name`]).

use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::mpsc;

use logsleuth_core::model::{HistogramBucket, HistogramResult, Record, TimeRange, TopBucket, TopResult, Value};
use logsleuth_formats::LogFormat;
use logsleuth_sources::{
    Cursor, FieldInfo, FieldKind, FieldOrigin, FieldRoles, HistogramRequest, HitCount, Query, QueryLanguage, SearchPage, SearchRequest,
    Source, SourceError, SourceInfo, SourceResult, Split, TailEvent, TailRequest, TopRequest, choose_interval,
};

/// How the product's local source describes a file of `format` named `description`: the
/// format's field roles and default columns.
pub fn local_info(description: &str, format: LogFormat) -> SourceInfo {
    SourceInfo {
        kind: "local",
        description: description.to_string(),
        roles: format.roles(),
        default_columns: format.default_columns(),
        is_remote: false,
        warning: None,
    }
}

/// Hand-made records in memory.
pub struct RecordSource {
    info: SourceInfo,
    /// Records, newest first.
    records: Vec<Record>,
    tails: Mutex<Vec<mpsc::Sender<TailEvent>>>,
}

impl RecordSource {
    /// A source holding `records` (any order) described by `info` (see [`local_info`]).
    pub fn new(info: SourceInfo, mut records: Vec<Record>) -> Self {
        records.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
        RecordSource { info, records, tails: Mutex::new(Vec::new()) }
    }

    /// Sends tail events to every running tail; returns how many tails got them.
    pub fn push_tail(&self, event: TailEvent) -> usize {
        let mut tails = self.tails.lock().unwrap_or_else(|e| e.into_inner());
        tails.retain(|t| t.try_send(event.clone()).is_ok());
        tails.len()
    }

    fn matching(&self, query: &Query, range: TimeRange) -> SourceResult<Vec<&Record>> {
        let filter = Filter::new(query)?;
        Ok(self
            .records
            .iter()
            .filter(|r| r.timestamp.is_none_or(|t| range.contains(t)))
            .filter(|r| filter.matches(r))
            .collect())
    }
}

/// A compiled filter: KQL, or (native, as the local source does) a regular expression over
/// the raw line. `All` matches everything.
enum Filter {
    All,
    Kql(logsleuth_kql::Matcher),
    Regex(regex::Regex),
}

impl Filter {
    fn new(query: &Query) -> SourceResult<Filter> {
        let text = query.text.trim();
        if text.is_empty() {
            return Ok(Filter::All);
        }
        if query.language == QueryLanguage::Native {
            let re = regex::Regex::new(text).map_err(|e| SourceError::Query(e.to_string()))?;
            return Ok(Filter::Regex(re));
        }
        let ast = logsleuth_kql::parse(text).map_err(|e| SourceError::Query(e.message))?;
        let m = logsleuth_kql::Matcher::new(&ast, &logsleuth_kql::EvalOptions::default()).map_err(|e| SourceError::Query(e.message))?;
        Ok(Filter::Kql(m))
    }

    fn matches(&self, r: &Record) -> bool {
        match self {
            Filter::All => true,
            Filter::Kql(m) => m.matches(r),
            Filter::Regex(re) => re.is_match(&r.message),
        }
    }
}

fn split_key(r: &Record, split: &Split, roles: &FieldRoles) -> Option<String> {
    match split {
        Split::None => None,
        Split::StatusClass => roles
            .status
            .as_deref()
            .and_then(|f| r.get(f))
            .and_then(|v| logsleuth_core::model::status_class_of(v.as_f64()?)),
        Split::Level => roles.level.as_deref().and_then(|f| r.get(f)).and_then(|v| logsleuth_formats::level_name(&v)),
        Split::Field(f) => r.get(f).map(|v| v.as_text()),
    }
}

#[async_trait]
impl Source for RecordSource {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        // Records are newest first: "before" (older) records follow the anchor in the list.
        let at = self
            .records
            .iter()
            .position(|r| r.id == record.id && r.timestamp == record.timestamp && r.message == record.message)
            .ok_or_else(|| SourceError::Unsupported("record not found".into()))?;
        let newest = at.saturating_sub(after);
        let oldest = (at + before).min(self.records.len().saturating_sub(1));
        Ok(self.records[newest..=oldest].iter().rev().cloned().collect())
    }

    async fn time_span(&self) -> Option<TimeRange> {
        let newest = self.records.first()?.timestamp?;
        let oldest = self.records.last()?.timestamp?;
        Some(TimeRange::between(oldest, newest + 1))
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        let all = self.matching(&request.query, request.range)?;
        let start: usize = request.cursor.as_ref().and_then(|c| c.0.parse().ok()).unwrap_or(0);
        let end = (start + request.limit).min(all.len());
        let records = all.get(start..end).unwrap_or_default().iter().map(|r| (*r).clone()).collect();
        Ok(SearchPage {
            records,
            total: Some(HitCount::Exact(all.len() as u64)),
            next: (end < all.len()).then(|| Cursor(end.to_string())),
            warnings: Vec::new(),
        })
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let all = self.matching(&request.query, request.range)?;
        let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for r in &all {
            if let Some(v) = r.get(&request.field) {
                *counts.entry(v.as_text()).or_default() += 1;
            }
        }
        let with_field: u64 = counts.values().sum();
        let mut buckets: Vec<TopBucket> = counts.into_iter().map(|(value, count)| TopBucket { value, count }).collect();
        buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        buckets.truncate(request.size);
        let shown: u64 = buckets.iter().map(|b| b.count).sum();
        Ok(TopResult {
            field: request.field,
            total: all.len() as u64,
            other: with_field - shown,
            buckets,
            error_bound: None,
            partial: false,
            note: None,
            distinct: None,
            distinct_estimated: false,
        })
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let all = self.matching(&request.query, request.range)?;
        let span = match (request.range.from, request.range.to) {
            (Some(f), Some(t)) => TimeRange::between(f, t),
            _ => self.time_span().await.unwrap_or(TimeRange::between(0, 1)),
        };
        let (from, to) = (span.from.unwrap_or(0), span.to.unwrap_or(1));
        let interval = request.interval.unwrap_or_else(|| choose_interval(to - from, request.target_buckets));
        let first = from.div_euclid(interval) * interval;
        let n = ((to - first + interval - 1) / interval).max(1) as usize;
        let mut buckets: Vec<HistogramBucket> = (0..n)
            .map(|i| HistogramBucket { start: first + i as i64 * interval, count: 0, split: Default::default() })
            .collect();
        for r in all {
            let Some(ts) = r.timestamp else { continue };
            let i = ((ts - first) / interval) as usize;
            if let Some(b) = buckets.get_mut(i) {
                b.count += 1;
                if let Some(k) = split_key(r, &request.split, &self.info.roles) {
                    *b.split.entry(k).or_default() += 1;
                }
            }
        }
        let split_by = match &request.split {
            Split::None => None,
            Split::StatusClass => Some("status_class".into()),
            Split::Level => Some("level".into()),
            Split::Field(f) => Some(f.clone()),
        };
        Ok(HistogramResult { interval, split_by, buckets, partial: false, note: None, split_error_bound: None })
    }

    async fn fields(&self, _range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        let mut out: Vec<FieldInfo> = Vec::new();
        for r in self.records.iter().take(1000) {
            for (name, v) in r.fields.flatten() {
                if out.iter().any(|f| f.name == name) {
                    continue;
                }
                let kind = match v {
                    Value::Int(_) | Value::Float(_) => FieldKind::Number,
                    _ => FieldKind::Keyword,
                };
                out.push(FieldInfo { name, kind, aggregatable: true, origin: FieldOrigin::Field });
            }
        }
        Ok(out)
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        let top = self.top(TopRequest { query: Query::default(), range, field, size: limit }).await?;
        Ok(top.buckets.into_iter().map(|b| b.value).collect())
    }

    fn tail(&self, _request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        let (tx, rx) = mpsc::channel(1024);
        self.tails.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        Ok(rx)
    }
}

