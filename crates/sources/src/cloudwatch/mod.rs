//! AWS CloudWatch Logs: one or more log groups as one source.
//!
//! - **Lines** come from `FilterLogEvents` over the range, every stream of every group
//!   interleaved by time. CloudWatch returns a window's events oldest first, so a page of the
//!   newest lines reads windows back from the end of the range (a minute, then four times
//!   longer each time) until it has enough. Events are ordered by (timestamp, group, event id);
//!   a page's cursor is the last event's place in that order, so pages neither repeat nor skip
//!   events, also when many share a millisecond.
//! - **KQL** is sent as a filter pattern where it can be said soundly
//!   ([`logsleuth_kql::to_cloudwatch`]: JSON `{ $.status >= 500 }`, space-delimited access-log
//!   columns), and the KQL query itself is evaluated on every event that comes back, so the
//!   answer is KQL's, whatever the pattern could not say.
//! - **Charts** are asked of Logs Insights (`stats count(*) … by bin(…)`, `… by FIELD`) where the
//!   query translates to an Insights filter; otherwise, or when Insights refuses or answers
//!   without the requested columns, they are counted from the events themselves (all of them,
//!   up to [`MAX_COUNTED_EVENTS`]; beyond, the answer is marked partial and says why).
//! - **Tail** polls `FilterLogEvents` from the newest event seen (see `tail.rs`).

pub mod client;
mod insights;
mod tail;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs as cwl;
use tokio::sync::{OnceCell, mpsc};

use logsleuth_core::model::{Distinct, Fields, HistogramBucket, HistogramResult, Nanos, Record, RecordId, TimeRange, TopResult, Value};
use logsleuth_formats::{LogFormat, ParseOptions};
use logsleuth_kql::{CloudWatchLayout, JsonKind, Matcher};

use crate::{
    Cursor, FieldInfo, FieldKind, FieldOrigin, FieldRoles, HistogramRequest, HitCount, Query, QueryLanguage, SearchPage, SearchRequest,
    Source, SourceError, SourceInfo, SourceResult, Split, TailEvent, TailRequest, TopRequest,
};

pub use client::{Endpoint, GroupInfo};

/// Events counted for a chart from the events themselves, at most; beyond, the chart is
/// partial and says so. A million events of 200 bytes is 200 MB fetched.
pub const MAX_COUNTED_EVENTS: u64 = 1_000_000;

/// The first window a page of lines reads back from the end of its range.
const FIRST_WINDOW_MS: i64 = 60_000;

/// Events sampled to detect the messages' format.
const SAMPLE_EVENTS: usize = 200;

/// The label names every CloudWatch record carries (Logs Insights' names).
pub const GROUP_LABEL: &str = "@logGroup";
/// See [`GROUP_LABEL`].
pub const STREAM_LABEL: &str = "@logStream";

/// What a CloudWatch source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchConfig {
    /// Log group names (at least one).
    pub groups: Vec<String>,
    /// Only streams whose names start with this.
    pub stream_prefix: Option<String>,
    /// Region, profile, endpoint.
    pub endpoint: Endpoint,
    /// The messages' format; detected from a sample when `None`.
    pub format: Option<LogFormat>,
    /// Never ask Logs Insights (it is billed per GB scanned): charts are counted from events.
    pub no_insights: bool,
}

/// What was learnt from a sample of messages.
#[derive(Debug, Clone)]
struct Detected {
    format: LogFormat,
    roles: FieldRoles,
    /// JSON fields' kinds, for filter patterns.
    kinds: Vec<(String, JsonKind)>,
    /// Fields seen in the sample.
    fields: Vec<FieldInfo>,
}

/// A CloudWatch Logs source.
pub struct CloudWatchSource {
    inner: Arc<Inner>,
}

/// Each stream's labels, shared by its records.
type LabelCache = HashMap<(usize, Arc<str>), Arc<Fields>>;

struct Inner {
    config: CloudWatchConfig,
    client: OnceCell<cwl::Client>,
    detected: Mutex<Option<Detected>>,
    labels: Mutex<LabelCache>,
    /// Logs Insights refused once (not in this account or emulator): do not ask again.
    insights_refused: Mutex<Option<String>>,
    /// The groups' stored bytes (`DescribeLogGroups`), asked once.
    stored: OnceCell<Option<i64>>,
    /// Throttled answers of the client (retried by the SDK), for the notes that say so.
    throttled: client::Throttled,
}

impl CloudWatchSource {
    /// A source for `config`; nothing is sent until the first request.
    pub fn new(config: CloudWatchConfig) -> SourceResult<CloudWatchSource> {
        if config.groups.iter().all(|g| g.trim().is_empty()) {
            return Err(SourceError::Query("--cloudwatch needs a log group name".into()));
        }
        Ok(CloudWatchSource {
            inner: Arc::new(Inner {
                config,
                client: OnceCell::new(),
                detected: Mutex::new(None),
                labels: Mutex::new(HashMap::new()),
                insights_refused: Mutex::new(None),
                stored: OnceCell::new(),
                throttled: client::Throttled::default(),
            }),
        })
    }

    /// The log groups of the account (names starting with `prefix`), for the group browser
    /// and `logsleuth cloudwatch groups`.
    pub async fn list_groups(endpoint: &Endpoint, prefix: Option<&str>, max: usize) -> SourceResult<Vec<GroupInfo>> {
        let client = client::connect(endpoint).await?;
        client::list_groups(&client, prefix, max).await
    }
}

/// Milliseconds of a range: first (inclusive) and last (inclusive) millisecond whose events
/// are in `[from, to)`. An open range is the last hour.
fn range_ms(range: &TimeRange) -> (i64, i64) {
    let now = logsleuth_core::time::now_nanos();
    let from = range.from.unwrap_or(now - 3600 * 1_000_000_000);
    let to = range.to.unwrap_or(now + 1);
    let lo = from.div_euclid(1_000_000) + i64::from(from.rem_euclid(1_000_000) != 0);
    let hi = to.div_euclid(1_000_000) + i64::from(to.rem_euclid(1_000_000) != 0) - 1;
    (lo, hi)
}

/// An event's place in the order pages are cut in: time, group, then event id (numeric ids
/// compare as numbers: shorter first).
fn order_key(e: &client::Event) -> (i64, usize, usize, &str) {
    (e.ts_ms, e.group, e.id.len(), e.id.as_str())
}

/// A cursor: the last event sent and the window width reached, as `ts:group:window:id`
/// (the next page goes on with that width rather than a minute again).
fn encode_cursor(e: &client::Event, window: i64) -> Cursor {
    Cursor(format!("{}:{}:{}:{}", e.ts_ms, e.group, window, e.id))
}

/// The cursor's last event (ts, group, id) and window width.
fn decode_cursor(c: &Cursor) -> SourceResult<((i64, usize, String), i64)> {
    let mut parts = c.0.splitn(4, ':');
    let bad = || SourceError::Query(format!("not a CloudWatch cursor: {}", c.0));
    let ts = parts.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
    let group = parts.next().and_then(|g| g.parse().ok()).ok_or_else(bad)?;
    let window = parts.next().and_then(|w| w.parse::<i64>().ok()).filter(|w| *w > 0).ok_or_else(bad)?;
    let id = parts.next().ok_or_else(bad)?.to_string();
    Ok(((ts, group, id), window))
}

/// The in-memory half of a query: KQL evaluated on each record; a native query (a filter
/// pattern, sent as it is) needs nothing here.
enum MemoryFilter {
    All,
    Kql(Box<Matcher>),
}

impl MemoryFilter {
    fn matches(&self, r: &Record) -> bool {
        match self {
            MemoryFilter::All => true,
            MemoryFilter::Kql(m) => m.matches(r),
        }
    }
}

/// A query as CloudWatch gets it: the pattern to send and the filter to apply here.
struct Plan {
    pattern: String,
    memory: MemoryFilter,
}

impl Inner {
    async fn client(&self) -> SourceResult<&cwl::Client> {
        self.client.get_or_try_init(|| client::connect_counting(&self.config.endpoint, self.throttled.clone())).await
    }

    fn groups(&self) -> impl Iterator<Item = (usize, &str)> {
        self.config.groups.iter().map(|g| g.trim()).enumerate().filter(|(_, g)| !g.is_empty())
    }

    fn target(&self) -> String {
        let groups: Vec<&str> = self.groups().map(|(_, g)| g).collect();
        let mut text = groups.join(", ");
        if let Some(url) = &self.config.endpoint.endpoint {
            text.push_str(&format!(" at {}", crate::spec::strip_userinfo(url)));
        } else if let Some(region) = &self.config.endpoint.region {
            text.push_str(&format!(" ({region})"));
        }
        text
    }

    /// Every event of `[lo, hi]` (ms, inclusive) matching `pattern`, page after page, all
    /// groups; `each` gets every page's events. Stops after `max` events (returns false).
    async fn scan(
        &self,
        lo: i64,
        hi: i64,
        pattern: &str,
        max: u64,
        each: &mut (dyn FnMut(Vec<client::Event>) + Send),
    ) -> SourceResult<bool> {
        if lo > hi {
            return Ok(true);
        }
        let client = self.client().await?;
        let mut seen = 0u64;
        for (index, group) in self.groups() {
            let params = client::FilterParams {
                group,
                group_index: index,
                stream_prefix: self.config.stream_prefix.as_deref(),
                start_ms: lo,
                end_ms: hi,
                pattern,
            };
            let mut names = client::StreamNames::default();
            let mut token = None;
            // CloudWatch may answer empty pages with a token while it searches; a bound on
            // pages keeps a broken server from looping forever.
            for _ in 0..100_000 {
                let (events, next) = client::filter_page(client, &params, token, &mut names).await?;
                seen += events.len() as u64;
                each(events);
                if seen >= max {
                    return Ok(false);
                }
                match next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
        }
        Ok(true)
    }

    /// Detects the messages' format from the range's first events (once).
    async fn detect(&self, range: &TimeRange) -> SourceResult<Detected> {
        if let Some(d) = self.detected.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(d);
        }
        let (lo, hi) = range_ms(range);
        let mut sample: Vec<client::Event> = Vec::new();
        // The newest events first, for what the range shows now; a minute back, widening.
        let mut window = FIRST_WINDOW_MS;
        let mut upper = hi;
        while sample.len() < SAMPLE_EVENTS && upper >= lo {
            let from = (upper - window + 1).max(lo);
            self.scan(from, upper, "", SAMPLE_EVENTS as u64, &mut |events| sample.extend(events)).await?;
            upper = from - 1;
            window = window.saturating_mul(8);
        }
        let lines: Vec<&str> = sample.iter().map(|e| logsleuth_formats::trim_eol(&e.message)).collect();
        let format = self.config.format.unwrap_or_else(|| logsleuth_formats::detect(&lines));
        let opts = ParseOptions::default();
        let records: Vec<Record> = lines.iter().filter_map(|l| logsleuth_formats::parse(format, l, &opts)).collect();
        let roles = logsleuth_formats::roles_from_records(format, &records);
        let mut kinds: Vec<(String, JsonKind)> = Vec::new();
        let mut fields: Vec<FieldInfo> = Vec::new();
        for r in &records {
            for (name, value) in r.fields.flatten() {
                let kind = match value {
                    Value::Int(_) | Value::Float(_) => FieldKind::Number,
                    Value::Bool(_) => FieldKind::Boolean,
                    _ => FieldKind::Keyword,
                };
                let json_kind = match value {
                    Value::Int(_) | Value::Float(_) => Some(JsonKind::Number),
                    Value::Str(_) => Some(JsonKind::String),
                    _ => None,
                };
                match kinds.iter().position(|(n, _)| *n == name) {
                    // A field seen with two kinds is left out of patterns.
                    Some(i) if Some(kinds[i].1) != json_kind => {
                        kinds.remove(i);
                    }
                    Some(_) => {}
                    None => {
                        if let Some(k) = json_kind
                            && !fields.iter().any(|f| f.name == name)
                        {
                            kinds.push((name.clone(), k));
                        }
                    }
                }
                if !fields.iter().any(|f| f.name == name) {
                    fields.push(FieldInfo { name, kind, aggregatable: true, origin: FieldOrigin::Field });
                }
            }
        }
        for label in [GROUP_LABEL, STREAM_LABEL] {
            fields.push(FieldInfo { name: label.into(), kind: FieldKind::Keyword, aggregatable: true, origin: FieldOrigin::Label });
        }
        let detected = Detected { format, roles, kinds, fields };
        // Nothing seen yet: detect again next time rather than keep "plain" for ever.
        if !sample.is_empty() || self.config.format.is_some() {
            *self.detected.lock().unwrap_or_else(|e| e.into_inner()) = Some(detected.clone());
        }
        Ok(detected)
    }

    fn layout(d: &Detected) -> CloudWatchLayout {
        match d.format {
            LogFormat::AccessCombined => CloudWatchLayout::access_combined(),
            LogFormat::AccessCommon => CloudWatchLayout::access_common(),
            LogFormat::Json => CloudWatchLayout::Json { kinds: Some(d.kinds.clone()) },
            _ => CloudWatchLayout::Unstructured,
        }
    }

    async fn plan(&self, query: &Query, range: &TimeRange) -> SourceResult<Plan> {
        if query.language == QueryLanguage::Native {
            return Ok(Plan { pattern: query.text.trim().to_string(), memory: MemoryFilter::All });
        }
        if query.is_empty() {
            return Ok(Plan { pattern: String::new(), memory: MemoryFilter::All });
        }
        let ast = logsleuth_kql::parse(&query.text)?;
        let matcher = Matcher::new(&ast, &logsleuth_kql::EvalOptions::default()).map_err(|e| SourceError::Query(e.message))?;
        let detected = self.detect(range).await?;
        let filter = logsleuth_kql::to_cloudwatch(&ast, &Self::layout(&detected));
        Ok(Plan { pattern: filter.pattern, memory: MemoryFilter::Kql(Box::new(matcher)) })
    }

    fn record(&self, format: LogFormat, e: client::Event, opts: &ParseOptions) -> Record {
        let line = logsleuth_formats::trim_eol(&e.message);
        let (mut record, _) = logsleuth_formats::parse_or_plain(format, line, opts);
        record.timestamp = Some(e.ts_ms.saturating_mul(1_000_000));
        if record.message.len() != line.len() {
            record.message = line.to_string();
        }
        let key = (e.group, e.stream.clone());
        let labels = {
            let mut cache = self.labels.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache
                .entry(key)
                .or_insert_with(|| {
                    let mut f = Fields::new();
                    f.push(GROUP_LABEL, Value::Str(self.config.groups[e.group].trim().to_string()));
                    f.push(STREAM_LABEL, Value::Str(e.stream.to_string()));
                    Arc::new(f)
                })
                .clone()
        };
        record.labels = labels;
        record.id = RecordId::CloudWatch { group: Arc::from(self.config.groups[e.group].trim()), stream: e.stream, event_id: e.id };
        record
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        let plan = self.plan(&request.query, &request.range).await?;
        let format = self.detect(&request.range).await?.format;
        let (lo, mut hi) = range_ms(&request.range);
        let mut window = FIRST_WINDOW_MS;
        let after = match &request.cursor {
            Some(c) => {
                let ((ts, group, id), width) = decode_cursor(c)?;
                hi = hi.min(ts);
                window = width;
                Some((ts, group, id))
            }
            None => None,
        };
        let limit = request.limit.max(1);
        let opts = ParseOptions::default();
        let mut matched: Vec<(client::Event, Record)> = Vec::new();
        let mut upper = hi;
        let mut reached_start = false;
        while matched.len() < limit {
            let from = (upper - window + 1).max(lo);
            let mut page: Vec<client::Event> = Vec::new();
            self.scan(from, upper, &plan.pattern, u64::MAX, &mut |events| page.extend(events)).await?;
            for e in page {
                if let Some((ts, group, id)) = &after
                    && order_key(&e) >= (*ts, *group, id.len(), id.as_str())
                {
                    continue;
                }
                let record = self.record(format, e.clone(), &opts);
                if plan.memory.matches(&record) {
                    matched.push((e, record));
                }
            }
            if from <= lo {
                reached_start = true;
                break;
            }
            upper = from - 1;
            window = window.saturating_mul(4);
        }
        // The next page starts with the width that held this page's last events.
        let window = (window / 4).max(FIRST_WINDOW_MS);
        matched.sort_by(|a, b| order_key(&b.0).cmp(&order_key(&a.0)));
        let more = matched.len() > limit || !reached_start;
        let total = (request.cursor.is_none() && reached_start).then_some(HitCount::Exact(matched.len() as u64));
        matched.truncate(limit);
        let next = if more { matched.last().map(|(e, _)| encode_cursor(e, window)) } else { None };
        // The first page says what the charts beside it may cost (they are asked at the same time).
        let warnings = if request.cursor.is_none() { self.cost_note().await.into_iter().collect() } else { Vec::new() };
        Ok(SearchPage { records: matched.into_iter().map(|(_, r)| r).collect(), total, next, warnings })
    }

    /// Counts `value_of` over every matching event of the range (the events path of charts).
    async fn count_events(
        &self,
        query: &Query,
        range: &TimeRange,
        each: &mut (dyn FnMut(&Record) + Send),
    ) -> SourceResult<(u64, Option<String>)> {
        let plan = self.plan(query, range).await?;
        let format = self.detect(range).await?.format;
        let (lo, hi) = range_ms(range);
        let opts = ParseOptions::default();
        let mut matched = 0u64;
        let mut fetched = 0u64;
        let complete = self
            .scan(lo, hi, &plan.pattern, MAX_COUNTED_EVENTS, &mut |events| {
                for e in events {
                    fetched += 1;
                    let r = self.record(format, e, &opts);
                    if plan.memory.matches(&r) {
                        matched += 1;
                        each(&r);
                    }
                }
            })
            .await?;
        let note = (!complete)
            .then(|| format!("counted from the first {fetched} events of the range (at most {MAX_COUNTED_EVENTS} are counted here)"));
        Ok((matched, note))
    }

    /// What throttling since `before` (a count of [`client::Throttled`]) cost: said in the
    /// answer, so that a slow answer is explained.
    fn throttle_note(&self, before: u64) -> Option<String> {
        let n = self.throttled.count().saturating_sub(before);
        (n > 0).then(|| {
            format!("CloudWatch throttled {n} request{} (the account's rate limits); retried with backoff", if n == 1 { "" } else { "s" })
        })
    }

    /// The groups' stored bytes, what an Insights query over all their time would scan.
    async fn stored_bytes(&self) -> Option<i64> {
        *self.stored.get_or_init(|| insights::stored_bytes(self)).await
    }

    /// What charts by Insights may cost, while Insights is asked.
    async fn cost_note(&self) -> Option<String> {
        if self.insights_refusal().is_some() {
            return None;
        }
        insights::cost_note(self.stored_bytes().await?)
    }

    fn insights_refusal(&self) -> Option<String> {
        if self.config.no_insights {
            return Some("Logs Insights is off for this source".into());
        }
        self.insights_refused.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Notes that Insights did not answer; unless it was only busy (throttling, the
    /// concurrency limit), it is not asked again for this source.
    fn refuse_insights(&self, why: &SourceError) -> String {
        let text = format!("Logs Insights did not answer ({why})");
        if !matches!(why, SourceError::Server { status: 429, .. }) {
            *self.insights_refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(text.clone());
        }
        text
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let detected = self.detect(&request.range).await?;
        let mut insights_note = None;
        if self.insights_refusal().is_none()
            && let Some(q) = insights::top_query(&detected.format, &request)?
        {
            match insights::run(self, &request.range, &q).await {
                Ok(answer) => match insights::top_result(&request, &answer) {
                    Some(result) => return Ok(result),
                    None => insights_note = Some(self.refuse_insights(&SourceError::Decode("no counts in its answer".into()))),
                },
                Err(e) if insights::is_refusal(&e) => insights_note = Some(self.refuse_insights(&e)),
                Err(e) => return Err(e),
            }
        }
        let mut counts: HashMap<String, u64> = HashMap::new();
        let field = request.field.clone();
        let (total, partial) = self
            .count_events(&request.query, &request.range, &mut |r| {
                if let Some(v) = r.get(&field) {
                    for text in value_texts(v) {
                        *counts.entry(text).or_default() += 1;
                    }
                }
            })
            .await?;
        let distinct = counts.len() as u64;
        let (buckets, other) = logsleuth_core::agg::top_n(counts, request.size);
        let note =
            join_notes(insights_note.or_else(|| self.insights_refusal()).map(|n| format!("{n}; counted from the events")), partial.clone());
        Ok(TopResult {
            field: request.field,
            total,
            other,
            buckets,
            error_bound: None,
            partial: partial.is_some(),
            note,
            distinct: partial.is_none().then_some(distinct),
            distinct_estimated: false,
        })
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let detected = self.detect(&request.range).await?;
        let (lo, hi) = range_ms(&request.range);
        let (from, to) = (lo * 1_000_000, (hi + 1) * 1_000_000);
        let interval = request.interval.unwrap_or_else(|| crate::choose_interval(to - from, request.target_buckets)).max(1);
        let first = from.div_euclid(interval) * interval;
        let count = logsleuth_core::agg::bucket_count(first, to, interval)?;
        let split_field: Option<String> =
            match &request.split {
                Split::None => None,
                Split::StatusClass => Some(detected.roles.status.clone().ok_or_else(|| {
                    SourceError::Unsupported("no status field is known for this source: split by a field instead".into())
                })?),
                Split::Level => {
                    Some(detected.roles.level.clone().ok_or_else(|| {
                        SourceError::Unsupported("no level field is known for this source: split by a field instead".into())
                    })?)
                }
                Split::Field(f) => Some(f.clone()),
            };
        let mut buckets: Vec<HistogramBucket> =
            (0..count).map(|i| HistogramBucket { start: first + interval * i as Nanos, count: 0, split: Default::default() }).collect();
        let mut insights_note = None;
        if self.insights_refusal().is_none()
            && let Some(q) = insights::histogram_query(&detected.format, &request, interval, split_field.as_deref())?
        {
            match insights::run(self, &request.range, &q).await {
                Ok(answer) => {
                    if let Some((cut, note)) = insights::fill_histogram(&answer, &request.split, first, interval, &mut buckets) {
                        logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
                        return Ok(HistogramResult {
                            interval,
                            split_by: split_field,
                            buckets,
                            partial: cut,
                            note: Some(note),
                            split_error_bound: None,
                        });
                    }
                    // Counts from events: clear anything a half-read answer left.
                    buckets.iter_mut().for_each(|b| {
                        b.count = 0;
                        b.split.clear();
                    });
                    insights_note = Some(self.refuse_insights(&SourceError::Decode("no counts in its answer".into())));
                }
                Err(e) if insights::is_refusal(&e) => insights_note = Some(self.refuse_insights(&e)),
                Err(e) => return Err(e),
            }
        }
        let split = request.split.clone();
        let (_, partial) = self
            .count_events(&request.query, &request.range, &mut |r| {
                let Some(ts) = r.timestamp else { return };
                let Some(bucket) = usize::try_from((ts - first).div_euclid(interval)).ok().and_then(|i| buckets.get_mut(i)) else {
                    return;
                };
                bucket.count += 1;
                if let Some(field) = &split_field {
                    let value = r.get(field).map(|v| v.as_text());
                    if let Some(key) = split.key(value.as_deref()) {
                        *bucket.split.entry(key).or_default() += 1;
                    }
                }
            })
            .await?;
        logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
        let note =
            join_notes(insights_note.or_else(|| self.insights_refusal()).map(|n| format!("{n}; counted from the events")), partial.clone());
        Ok(HistogramResult { interval, split_by: split_field, buckets, partial: partial.is_some(), note, split_error_bound: None })
    }
}

fn join_notes(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// The texts a value counts as (each element of a list).
fn value_texts(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.into_iter().flat_map(value_texts).collect(),
        Value::Null => Vec::new(),
        other => {
            let t = other.as_text();
            if t.is_empty() { Vec::new() } else { vec![t] }
        }
    }
}

#[async_trait]
impl Source for CloudWatchSource {
    fn info(&self) -> SourceInfo {
        let detected = self.inner.detected.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (roles, default_columns) = match &detected {
            Some(d) if matches!(d.format, LogFormat::Json | LogFormat::Logfmt) => {
                let cols = [&d.roles.level, &d.roles.status, &d.roles.method, &d.roles.path, &d.roles.client_ip, &d.roles.user_agent]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                (d.roles.clone(), cols)
            }
            Some(d) => (d.roles.clone(), d.format.default_columns()),
            None => (FieldRoles::default(), Vec::new()),
        };
        let mut description = format!("cloudwatch {}", self.inner.target());
        if let Some(p) = &self.inner.config.stream_prefix {
            description.push_str(&format!(" (streams {p}*)"));
        }
        SourceInfo { kind: "cloudwatch", description, roles, default_columns, is_remote: true, warning: None }
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        let before = self.inner.throttled.count();
        let mut page = self.inner.search(request).await?;
        page.warnings.extend(self.inner.throttle_note(before));
        Ok(page)
    }

    async fn cost_note(&self) -> Option<String> {
        self.inner.cost_note().await
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let before = self.inner.throttled.count();
        let mut top = self.inner.top(request).await?;
        top.note = join_notes(top.note, self.inner.throttle_note(before));
        Ok(top)
    }

    async fn distinct(&self, request: TopRequest) -> SourceResult<Option<Distinct>> {
        let top = self.inner.top(TopRequest { size: 0, ..request }).await?;
        Ok(top.distinct.map(|count| Distinct { count, estimated: top.distinct_estimated }))
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let before = self.inner.throttled.count();
        let mut histogram = self.inner.histogram(request).await?;
        histogram.note = join_notes(histogram.note, self.inner.throttle_note(before));
        Ok(histogram)
    }

    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        Ok(self.inner.detect(&range).await?.fields)
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        // The values of the newest thousand events: autocomplete needs to be quick, not exact.
        let page = self.inner.search(SearchRequest { query: Query::default(), range, limit: 1000, cursor: None }).await?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for r in &page.records {
            if let Some(v) = r.get(&field) {
                for t in value_texts(v) {
                    *counts.entry(t).or_default() += 1;
                }
            }
        }
        Ok(logsleuth_core::agg::rank_counts(counts).into_iter().take(limit).map(|(v, _)| v).collect())
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        tail::context(&self.inner, record, before, after).await
    }

    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        Ok(tail::start(self.inner.clone(), request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: i64, group: usize, id: &str) -> client::Event {
        client::Event { ts_ms: ts, group, stream: Arc::from("s"), id: id.into(), message: String::new() }
    }

    #[test]
    fn ranges_become_the_milliseconds_they_hold() {
        let ms = 1_000_000;
        assert_eq!(range_ms(&TimeRange::between(5 * ms, 9 * ms)), (5, 8));
        assert_eq!(range_ms(&TimeRange::between(5 * ms + 1, 9 * ms + 1)), (6, 9));
    }

    #[test]
    fn events_order_by_time_group_then_numeric_id() {
        let mut events = [event(2, 0, "10"), event(2, 0, "9"), event(1, 1, "1"), event(2, 1, "0")];
        events.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        let ids: Vec<(i64, usize, &str)> = events.iter().map(|e| (e.ts_ms, e.group, e.id.as_str())).collect();
        assert_eq!(ids, vec![(1, 1, "1"), (2, 0, "9"), (2, 0, "10"), (2, 1, "0")]);
        let c = encode_cursor(&event(2, 1, "3"), 240_000);
        assert_eq!(decode_cursor(&c).unwrap(), ((2, 1, "3".to_string()), 240_000));
        assert!(decode_cursor(&Cursor("x".into())).is_err());
    }
}
