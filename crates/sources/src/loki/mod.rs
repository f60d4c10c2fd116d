//! Grafana Loki: log queries with exact paging, server-side charts, field discovery and a
//! live tail over the websocket API.
//!
//! - [`logql`]: the LogQL text (selector + parser stage + KQL translation; metric queries).
//! - [`client`]: HTTP requests and the mapping of Loki's plain-text errors.
//! - [`decode`]: Loki's JSON answers (categorized labels, matrix/vector samples).
//! - [`paging`]: moving `end` page by page without duplicates at equal timestamps.
//! - [`detect`]: the parser stage from a sample of lines, and field roles.
//! - [`stage`]: the parser stages run on the client, for pages fetched as raw lines.
//! - [`tail`]: the websocket tail with reconnection.
//! - [`cli`]: building a source from the command line.


pub mod client;
pub mod decode;
pub mod detect;
pub mod logql;
pub mod paging;
pub mod patterns;
pub mod stage;
pub mod tail;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{OnceCell, mpsc};

use logsleuth_core::model::{Distinct, HistogramBucket, HistogramResult, Nanos, Record, TimeRange, TopBucket, TopResult, Value};
use crate::http::HttpConfig;
use crate::{
    FieldInfo, FieldKind, FieldOrigin, FieldRoles, HistogramRequest, HitCount, Query, QueryLanguage, SearchPage,
    SearchRequest, Source, SourceError, SourceInfo, SourceResult, Split, TailEvent, TailRequest, TopRequest,
};
use client::{LokiClient, MAX_PAGE};

/// Most requests spent reading the lines of one instant that holds more than a page.
pub const MAX_INSTANT_REQUESTS: usize = 200;
use logql::{LogqlParser, PipelineContext};

/// Default range when a request leaves the start open: Loki's own default (one hour).
const DEFAULT_SPAN: Nanos = 3_600_000_000_000;
/// Lines sampled to detect the parser stage.
const DETECT_SAMPLE: usize = 50;
/// Lines fetched when a chart has to be counted client-side.
const FALLBACK_LINES: usize = MAX_PAGE;

/// How to reach a Loki and which streams a pane shows.
#[derive(Debug, Clone)]
pub struct LokiConfig {
    /// Base URL, auth, tenant (`X-Scope-OrgID` in `headers`), TLS.
    pub http: HttpConfig,
    /// Base stream selector, e.g. `{job="nginx"}`; may be empty when queries bring their own.
    pub selector: String,
    /// A forced parser stage (`--parser`); detected from the lines when `None`.
    pub parser: Option<LogqlParser>,
    /// The tenant, for display only (it is sent from `http.headers`).
    pub tenant: Option<String>,
    /// Tail reconnection delays, also the delays between retries of transient HTTP failures
    /// (429/502/503/504).
    pub backoff: tail::Backoff,
}

/// A Loki source. Cheap to clone; clones share caches.
#[derive(Debug, Clone)]
pub struct LokiSource {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: LokiClient,
    config: LokiConfig,
    /// The parser stage detected from the first sample (or forced).
    parser: OnceCell<Option<LogqlParser>>,
    /// The parser stage compiled for the client, once the stage is known.
    client_stage: std::sync::OnceLock<Option<stage::ClientStage>>,
    /// Stream label names on the server (they go into the selector).
    stream_labels: OnceCell<Vec<String>>,
    roles: Mutex<FieldRoles>,
    /// Whether lines were already sampled to find field roles for a chart split.
    roles_probed: std::sync::atomic::AtomicBool,
}

impl LokiSource {
    /// Creates the source; no request is made until the first query.
    pub fn new(config: LokiConfig) -> SourceResult<LokiSource> {
        let client = LokiClient::new(config.http.clone())?.with_retry(config.backoff);
        let parser = OnceCell::new();
        if let Some(p) = &config.parser {
            let _ = parser.set(Some(p.clone()));
        }
        Ok(LokiSource {
            inner: Arc::new(Inner {
                client,
                config,
                parser,
                client_stage: std::sync::OnceLock::new(),
                stream_labels: OnceCell::new(),
                roles: Mutex::new(FieldRoles::default()),
                roles_probed: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The parser stage in use, once known (forced, or detected by an earlier query).
    pub fn parser(&self) -> Option<LogqlParser> {
        self.inner.parser.get().cloned().flatten()
    }

    /// The streams (label sets) of the pane's selector, or every stream without one, sorted
    /// by their canonical `{…}` text: for a stream browser and label autocomplete.
    pub async fn streams(&self, range: TimeRange) -> SourceResult<Vec<logsleuth_core::model::Fields>> {
        let (from, to) = resolve(range);
        let series = self.inner.client.series(Some(self.inner.selector()), Some(from), Some(to)).await?;
        let mut streams: Vec<(String, logsleuth_core::model::Fields)> = series
            .iter()
            .filter_map(series_labels)
            .map(|fields| (decode::canonical_labels(&fields), fields))
            .collect();
        streams.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(streams.into_iter().map(|(_, f)| f).collect())
    }

    /// The LogQL log query a request would send (for showing "what runs" in the UI).
    pub async fn log_query(&self, query: &Query, range: TimeRange) -> SourceResult<String> {
        self.inner.log_query(query, resolve(range)).await
    }
}

/// One label set of a `series` answer as fields (values as text).
fn series_labels(series: &serde_json::Value) -> Option<logsleuth_core::model::Fields> {
    let map = series.as_object()?;
    let mut fields = logsleuth_core::model::Fields::new();
    for (k, v) in map {
        fields.push(k.clone(), Value::Str(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())));
    }
    Some(fields)
}

/// A range with both ends: `to` defaults to now, `from` to an hour before `to`.
fn resolve(range: TimeRange) -> (Nanos, Nanos) {
    let to = range.to.unwrap_or_else(logsleuth_core::time::now_nanos);
    let from = range.from.unwrap_or(to - DEFAULT_SPAN);
    (from, to.max(from + 1))
}

/// Errors that mean "Loki refused this aggregation" (limits), so charts fall back to counting
/// fetched lines. Query, auth and connection errors are not refusals.
fn is_refusal(err: &SourceError) -> bool {
    matches!(err, SourceError::Server { .. })
}

/// How the lines of a query are asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinePlan {
    /// The LogQL sent.
    logql: String,
    /// Whether the parser stage runs here rather than on Loki: the query filters on no parsed
    /// field, so Loki is asked for raw lines ([`stage`]).
    client_parse: bool,
}

impl Inner {
    fn selector(&self) -> &str {
        self.config.selector.trim()
    }

    async fn parser(&self, range: (Nanos, Nanos)) -> SourceResult<Option<LogqlParser>> {
        if let Some(known) = self.parser.get() {
            return Ok(known.clone());
        }
        if self.selector().is_empty() {
            return Ok(None);
        }
        let entries = self.client.query_range_logs(self.selector(), Some(range.0), Some(range.1), DETECT_SAMPLE, true, true).await?.entries;
        if entries.is_empty() {
            // Nothing to judge from in this range: decide on a later query.
            return Ok(None);
        }
        let detected = detect::detect_parser(entries.iter().map(|e| e.record.message.as_str()));
        // Concurrent first queries may both detect; the first answer stays.
        let _ = self.parser.set(detected);
        Ok(self.parser.get().cloned().flatten())
    }

    async fn stream_labels(&self, range: (Nanos, Nanos)) -> SourceResult<Vec<String>> {
        let labels = self
            .stream_labels
            .get_or_try_init(|| async { self.client.labels(None, Some(range.0), Some(range.1)).await })
            .await?;
        Ok(labels.clone())
    }

    async fn pipeline(&self, query: &Query, range: (Nanos, Nanos)) -> SourceResult<PipelineContext> {
        let kql = query.language == QueryLanguage::Kql;
        let parser = if kql { self.parser(range).await? } else { None };
        let labels = if kql && !query.is_empty() { self.stream_labels(range).await? } else { Vec::new() };
        Ok(PipelineContext { selector: self.config.selector.trim().to_string(), labels, parser })
    }

    async fn log_query(&self, query: &Query, range: (Nanos, Nanos)) -> SourceResult<String> {
        let ctx = self.pipeline(query, range).await?;
        logql::log_query(query, &ctx)
    }

    /// The query for the lines of `query`. A KQL query that filters on no parsed field (none,
    /// free text, stream labels) is sent without the parser stage, which then runs on the
    /// client ([`Self::parse_on_client`]): Loki answers sooner when it need not parse every
    /// line, and the parser need not be known (detected) before the first page is asked.
    async fn line_plan(&self, query: &Query, range: (Nanos, Nanos)) -> SourceResult<LinePlan> {
        if query.language == QueryLanguage::Kql {
            let labels = if query.is_empty() { Vec::new() } else { self.stream_labels(range).await? };
            let raw = PipelineContext { selector: self.selector().to_string(), labels, parser: None };
            let logql = logql::log_query(query, &raw)?;
            if logql::only_line_filters(&logql) {
                return Ok(LinePlan { logql, client_parse: true });
            }
        }
        Ok(LinePlan { logql: self.log_query(query, range).await?, client_parse: false })
    }

    /// The parser compiled for the client, once the parser is known.
    fn client_stage(&self) -> Option<&stage::ClientStage> {
        let parser = self.parser.get()?;
        self.client_stage.get_or_init(|| parser.as_ref().and_then(stage::ClientStage::new)).as_ref()
    }

    /// Fields for entries fetched as raw lines, as Loki's parser stage would give them. An
    /// unknown parser is detected from these lines (the newest, as the detection sample is).
    fn parse_on_client(&self, entries: &mut [decode::Entry]) {
        if self.parser.get().is_none() && !entries.is_empty() {
            let detected = detect::detect_parser(entries.iter().take(DETECT_SAMPLE).map(|e| e.record.message.as_str()));
            let _ = self.parser.set(detected);
        }
        let Some(stage) = self.client_stage() else { return };
        for e in entries.iter_mut().filter(|e| e.record.fields.is_empty()) {
            e.record.fields = stage.parse(&e.record.message, &e.record.labels);
        }
    }

    /// Detects the parser beside a raw page too small to be the detection sample itself.
    async fn detect_beside(&self, plan: &LinePlan, limit: usize, range: (Nanos, Nanos)) {
        if plan.client_parse && limit < DETECT_SAMPLE && self.parser.get().is_none() {
            // A failed sample only leaves the fields for a later page to find.
            let _ = self.parser(range).await;
        }
    }

    /// Records newest first from a log query answer.
    fn records(answer: decode::LogAnswer) -> SourceResult<Vec<decode::Entry>> {
        let kind = answer.kind;
        if kind != "streams" && !(kind.is_empty() && answer.result_is_null) {
            return Err(SourceError::Query(format!(
                "this LogQL query returns a {kind}, not log lines: use it for charts, or give a log query"
            )));
        }
        let mut entries = answer.entries;
        decode::finish_newest_first(&mut entries);
        Ok(entries)
    }

    fn learn_roles(&self, records: &[Record]) {
        let mut names: Vec<String> = Vec::new();
        for r in records.iter().take(200) {
            for (n, _) in r.fields.iter().chain(r.metadata.iter()).chain(r.labels.iter()) {
                if !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
        self.learn_roles_from_names(&names);
    }

    fn learn_roles_from_names(&self, names: &[String]) {
        let found = detect::roles_from_names(names);
        if let Ok(mut roles) = self.roles.lock() {
            let merge = |slot: &mut Option<String>, new: Option<String>| {
                if slot.is_none() {
                    *slot = new;
                }
            };
            merge(&mut roles.status, found.status);
            merge(&mut roles.client_ip, found.client_ip);
            merge(&mut roles.user_agent, found.user_agent);
            merge(&mut roles.level, found.level);
            merge(&mut roles.method, found.method);
            merge(&mut roles.path, found.path);
        }
    }

    fn roles(&self) -> FieldRoles {
        self.roles.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// `sum(count_over_time(<logql> [range]))` at the end of the range.
    async fn count(&self, logql: &str, range: (Nanos, Nanos)) -> SourceResult<u64> {
        let json = self.client.query_instant(&logql::count_query(logql, None, range.1 - range.0), range.1).await?;
        let (kind, result) = decode::result(&json)?;
        let series = decode::decode_series(kind, result)?;
        Ok(series.iter().flat_map(|s| s.samples.iter()).map(|(_, v)| *v).sum())
    }

    /// The most recent lines of a query, for charts Loki refused to compute.
    async fn sample(&self, query: &Query, range: (Nanos, Nanos), limit: usize) -> SourceResult<Vec<Record>> {
        let plan = self.line_plan(query, range).await?;
        let strip = query.language == QueryLanguage::Kql;
        let answer = self.client.query_range_logs(&plan.logql, Some(range.0), Some(range.1), limit, true, strip);
        let (answer, ()) = tokio::join!(answer, self.detect_beside(&plan, limit, range));
        let mut entries = Self::records(answer?)?;
        if plan.client_parse {
            self.parse_on_client(&mut entries);
        }
        Ok(entries.into_iter().map(|e| e.record).collect())
    }

    /// One page; the first also counts the hits when `request_counts`.
    async fn search(&self, request: SearchRequest, request_counts: bool) -> SourceResult<SearchPage> {
        let limit = request.limit.clamp(1, MAX_PAGE);
        let previous = match &request.cursor {
            Some(c) => Some(paging::PageCursor::decode(c).ok_or_else(|| SourceError::Query("invalid Loki page cursor".into()))?),
            None => None,
        };
        let range = resolve(request.range);
        let end = previous.as_ref().map_or(range.1, |p| p.end);
        if end <= range.0 {
            return Ok(SearchPage::default());
        }
        let plan = self.line_plan(&request.query, range).await?;
        let logql = &plan.logql;
        let strip = request.query.language == QueryLanguage::Kql;
        let lines = self.client.query_range_logs(logql, Some(range.0), Some(end), limit, true, strip);
        let detect = self.detect_beside(&plan, limit, range);
        // The hit count is asked beside the lines, never before them.
        let (lines, total) = if previous.is_none() && request_counts {
            let (l, t, ()) = tokio::join!(lines, self.count(logql, range), detect);
            (l, Some(t))
        } else {
            let (l, ()) = tokio::join!(lines, detect);
            (l, None)
        };
        let mut page = paging::paginate(Self::records(lines?)?, previous.as_ref(), limit);
        if page.warning.is_some() && limit < MAX_PAGE {
            // More lines share one timestamp than a page holds: ask for a full-size page
            // first (the fast path for ties of up to 5,000 lines).
            let answer = self.client.query_range_logs(logql, Some(range.0), Some(end), MAX_PAGE, true, strip).await?;
            page = paging::paginate(Self::records(answer)?, previous.as_ref(), MAX_PAGE);
        }
        let mut warnings: Vec<String> = Vec::new();
        if page.warning.is_some()
            && let Some(next) = &page.next
        {
            // Still more than a page at one instant (`next.end`): Loki has no cursor within
            // it, so read that instant part by part until every part fits in a page, and
            // return what earlier pages did not (this page may hold more than `limit`).
            let (all, warning) = self.read_instant(logql, next.end, strip).await?;
            page.entries = paging::unseen(all, previous.as_ref());
            page.warning = warning;
        }
        warnings.extend(page.warning.take());
        if plan.client_parse {
            self.parse_on_client(&mut page.entries);
        }
        let total = match total {
            Some(Ok(n)) => Some(HitCount::Exact(n)),
            Some(Err(e)) => {
                warnings.push(format!("total not available: {e}"));
                None
            }
            None => None,
        };
        let records: Vec<Record> = page.entries.into_iter().map(|e| e.record).collect();
        self.learn_roles(&records);
        Ok(SearchPage { records, total, next: page.next.map(|c| c.encode()), warnings })
    }

    /// Every line of a log query at one instant `t`, however many. An instant that overflows a
    /// page is read stream by stream first (the streams `series` names for that instant, each
    /// asked with its own full label set), then each stream that still overflows part by part
    /// ([`paging::Part`]: line filters on the text's first characters, cut where a part fills
    /// a page), at most [`MAX_INSTANT_REQUESTS`] requests in all. With one stream, or more
    /// streams than a quarter of the requests allowed, it goes part by part over all of them.
    /// The warning says when lines may be missing (identical lines in more streams than a page
    /// holds, or the request cap).
    async fn read_instant(&self, logql: &str, t: Nanos, strip: bool) -> SourceResult<(Vec<decode::Entry>, Option<String>)> {
        let mut requests = 1;
        let first = Self::records(self.client.query_range_logs(logql, Some(t), Some(t + 1), MAX_PAGE, true, strip).await?)?;
        if first.len() < MAX_PAGE {
            return Ok((first, None));
        }
        let streams = match logql::selector_end(logql) {
            Some(end) => {
                requests += 1;
                match self.client.series(Some(logql[..end].trim()), Some(t), Some(t + 1)).await {
                    Ok(series) => Some((end, series)),
                    // No stream list (an older server, a proxy): the text parts alone.
                    Err(_) => None,
                }
            }
            None => None,
        };
        let keys: Vec<String> = match &streams {
            Some((_, series)) => {
                let mut keys: Vec<String> = series.iter().filter_map(series_labels).map(|f| decode::canonical_labels(&f)).collect();
                keys.sort();
                keys.dedup();
                keys
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        let mut warning = None;
        if let Some((end, _)) = streams
            && (2..=MAX_INSTANT_REQUESTS / 4).contains(&keys.len())
        {
            for key in &keys {
                // The stream's own labels select it (and any stream with more labels, whose
                // lines are left to their own request).
                let stream_query = format!("{key}{}", &logql[end..]);
                let (entries, w) = self.read_parts(&stream_query, t, strip, Some(key), &mut requests, None).await?;
                out.extend(entries);
                warning = warning.or(w);
            }
        } else {
            let (entries, w) = self.read_parts(logql, t, strip, None, &mut requests, Some(first)).await?;
            out = entries;
            warning = w;
        }
        Ok((out, warning))
    }

    /// The lines of `logql` at `t` (of the stream `stream` only, when given), part by part;
    /// `first` is the answer already had for the whole of it.
    async fn read_parts(
        &self,
        logql: &str,
        t: Nanos,
        strip: bool,
        stream: Option<&str>,
        requests: &mut usize,
        mut first: Option<Vec<decode::Entry>>,
    ) -> SourceResult<(Vec<decode::Entry>, Option<String>)> {
        let mut out = Vec::new();
        let mut todo = vec![paging::Part::all()];
        let mut warning = None;
        let ours = |e: &decode::Entry| stream.is_none_or(|s| &*e.stream == s);
        while let Some(part) = todo.pop() {
            let entries = match first.take() {
                Some(entries) => entries,
                None => {
                    if *requests >= MAX_INSTANT_REQUESTS {
                        warning = Some(format!(
                            "more lines share the timestamp {} than {MAX_INSTANT_REQUESTS} requests of {MAX_PAGE} read; some of them were skipped",
                            logsleuth_core::time::format_rfc3339(t)
                        ));
                        break;
                    }
                    *requests += 1;
                    let query = match part.filter() {
                        Some(filter) => format!("{logql} {filter}"),
                        None => logql.to_string(),
                    };
                    Self::records(self.client.query_range_logs(&query, Some(t), Some(t + 1), MAX_PAGE, true, strip).await?)?
                }
            };
            if entries.len() < MAX_PAGE {
                out.extend(entries.into_iter().filter(|e| ours(e)));
                continue;
            }
            match part.split(&entries) {
                Some(parts) => todo.extend(parts.into_iter().rev()),
                None => {
                    warning = Some(format!(
                        "more than {MAX_PAGE} identical lines share the timestamp {}; some of them were skipped",
                        logsleuth_core::time::format_rfc3339(t)
                    ));
                    out.extend(entries.into_iter().filter(|e| ours(e)));
                }
            }
        }
        Ok((out, warning))
    }

    fn split_label(&self, split: &Split) -> SourceResult<Option<(String, String)>> {
        let roles = self.roles();
        Ok(match split {
            Split::None => None,
            Split::StatusClass => {
                Some(("status_class".into(), logql::label_name(roles.status.as_deref().unwrap_or("status"))?))
            }
            Split::Level => Some(("level".into(), logql::label_name(roles.level.as_deref().unwrap_or("detected_level"))?)),
            Split::Field(f) => Some((f.clone(), logql::label_name(f)?)),
        })
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let range = resolve(request.range);
        let interval = request
            .interval
            .filter(|i| *i > 0)
            .unwrap_or_else(|| crate::choose_interval(range.1 - range.0, request.target_buckets));
        let first = range.0.div_euclid(interval) * interval;
        // The shared cap is Loki's own 11,000 points per series.
        let count = logsleuth_core::agg::bucket_count(first, range.1, interval)?;
        // Learn field roles (status / level) from the lines before choosing the split label.
        let roles = self.roles();
        let missing = match request.split {
            Split::StatusClass => roles.status.is_none(),
            Split::Level => roles.level.is_none(),
            _ => false,
        };
        if missing
            && !self.roles_probed.swap(true, std::sync::atomic::Ordering::Relaxed)
            && let Ok(records) = self.sample(&request.query, range, 20).await
        {
            self.learn_roles(&records);
        }
        let split = self.split_label(&request.split)?;
        // Counting lines needs no parsed label unless the split is one.
        let logql = match split {
            None => self.line_plan(&request.query, range).await?.logql,
            Some(_) => self.log_query(&request.query, range).await?,
        };
        let metric = logql::count_query(&logql, split.as_ref().map(|(_, l)| l.as_str()), interval);
        // A sample at t counts (t - interval, t]: evaluate at the end of each bucket.
        let answer = self.client.query_range_metric(&metric, first + interval, first + interval * count as Nanos, interval).await;
        let series = match answer.and_then(|json| {
            let (kind, result) = decode::result(&json)?;
            decode::decode_series(kind, result)
        }) {
            Ok(series) => series,
            Err(e) if is_refusal(&e) => {
                let records = self.sample(&request.query, range, FALLBACK_LINES).await?;
                let note = format!("Loki refused the chart ({e}); counted the {} most recent lines instead", records.len());
                let mut result = histogram_from_records(&records, first, interval, count, &request.split, split.as_ref());
                result.partial = true;
                result.note = Some(note);
                return Ok(result);
            }
            Err(e) => return Err(e),
        };
        Ok(histogram_from_series(&series, first, interval, count, &request.split, split.as_ref()))
    }

    async fn distinct(&self, request: TopRequest) -> SourceResult<Option<Distinct>> {
        let range = resolve(request.range);
        let label = logql::label_name(&request.field)?;
        let logql = self.log_query(&request.query, range).await?;
        let query = logql::distinct_query(&logql, &label, range.1 - range.0);
        let json = match self.client.query_instant(&query, range.1).await {
            Ok(json) => json,
            // Too many series for Loki's limits: no count rather than an error on screen.
            Err(e) if is_refusal(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (kind, result) = decode::result(&json)?;
        let series = decode::decode_series(kind, result)?;
        // No series at all: no line carries the field.
        let count = series.iter().flat_map(|s| s.samples.iter()).map(|(_, v)| *v).sum();
        Ok(Some(Distinct { count, estimated: false }))
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let range = resolve(request.range);
        let label = logql::label_name(&request.field)?;
        let size = request.size.max(1);
        let logql = self.log_query(&request.query, range).await?;
        let span = range.1 - range.0;
        let topk = logql::topk_query(&logql, &label, size, span);
        let with_field = logql::with_label(&logql, &label);
        let (top, total, with) = tokio::join!(
            self.client.query_instant(&topk, range.1),
            self.count(&logql, range),
            self.count(&with_field, range)
        );
        let computed = (|| -> SourceResult<TopResult> {
            let json = top?;
            let (kind, result) = decode::result(&json)?;
            let series = decode::decode_series(kind, result)?;
            let mut buckets: Vec<TopBucket> = series
                .iter()
                .filter_map(|s| {
                    let value = s.metric.get(&label)?.as_text();
                    let count = s.samples.iter().map(|(_, v)| *v).sum::<u64>();
                    Some(TopBucket { value, count })
                })
                .collect();
            // Loki orders topk's answer by label set, not by value.
            logsleuth_core::agg::sort_top(&mut buckets);
            buckets.truncate(size);
            let in_buckets: u64 = buckets.iter().map(|b| b.count).sum();
            let with = with?;
            Ok(TopResult {
                field: request.field.clone(),
                total: total?,
                other: with.saturating_sub(in_buckets),
                buckets,
                error_bound: None,
                partial: false,
                note: None,
                distinct: None,
                distinct_estimated: false,
            })
        })();
        match computed {
            Err(e) if is_refusal(&e) => {
                let records = self.sample(&request.query, range, FALLBACK_LINES).await?;
                let mut result = top_from_records(&records, &request.field, &label, size);
                result.partial = true;
                result.note =
                    Some(format!("Loki refused the aggregation ({e}); counted the {} most recent lines instead", records.len()));
                Ok(result)
            }
            other => other,
        }
    }

    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        let range = resolve(range);
        let selector = self.selector().to_string();
        let mut out: Vec<FieldInfo> = Vec::new();
        let push = |out: &mut Vec<FieldInfo>, name: String, kind: FieldKind, origin: FieldOrigin| {
            if !out.iter().any(|f| f.name == name) {
                out.push(FieldInfo { name, kind, aggregatable: true, origin });
            }
        };
        for name in self.client.labels(Some(&selector), Some(range.0), Some(range.1)).await? {
            push(&mut out, name, FieldKind::Keyword, FieldOrigin::Label);
        }
        let detected = if selector.is_empty() {
            Vec::new()
        } else {
            match self.client.detected_fields(&selector, Some(range.0), Some(range.1)).await {
                Ok(json) => decode::decode_detected_fields(&json),
                // Older Loki has no detected_fields: fall back to the lines below.
                Err(SourceError::Server { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        for f in &detected {
            let kind = match f.kind.as_str() {
                "int" | "float" | "bytes" | "duration" => FieldKind::Number,
                "boolean" => FieldKind::Boolean,
                _ => FieldKind::Keyword,
            };
            let origin = if f.parsers.is_empty() { FieldOrigin::Metadata } else { FieldOrigin::Field };
            push(&mut out, f.label.clone(), kind, origin);
        }
        if detected.is_empty() && !selector.is_empty() {
            let records = self.sample(&Query::kql(""), range, 200).await?;
            for r in &records {
                for (name, value) in r.fields.iter() {
                    let kind = if matches!(value, Value::Int(_) | Value::Float(_)) { FieldKind::Number } else { FieldKind::Keyword };
                    push(&mut out, name.to_string(), kind, FieldOrigin::Field);
                }
                for (name, _) in r.metadata.iter() {
                    push(&mut out, name.to_string(), FieldKind::Keyword, FieldOrigin::Metadata);
                }
            }
        }
        let names: Vec<String> = out.iter().map(|f| f.name.clone()).collect();
        self.learn_roles_from_names(&names);
        Ok(out)
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        let range = resolve(range);
        let label = logql::label_name(&field)?;
        let selector = self.selector().to_string();
        let mut values = if self.stream_labels(range).await?.contains(&label) {
            self.client.label_values(&label, Some(&selector), Some(range.0), Some(range.1)).await?
        } else if selector.is_empty() {
            Vec::new()
        } else {
            match self.client.detected_field_values(&label, &selector, Some(range.0), Some(range.1)).await {
                Ok(v) => v,
                Err(SourceError::Server { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        if values.is_empty() && !selector.is_empty() {
            let records = self.sample(&Query::kql(""), range, 500).await?;
            values = top_from_records(&records, &field, &label, limit).buckets.into_iter().map(|b| b.value).collect();
        }
        values.truncate(limit);
        Ok(values)
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        let ts = record.timestamp.ok_or_else(|| SourceError::Unsupported("this line has no timestamp".into()))?;
        if record.labels.is_empty() {
            return Err(SourceError::Unsupported("this line has no stream labels".into()));
        }
        let selector = decode::canonical_labels(&record.labels);
        let range = (ts - DEFAULT_SPAN, ts + DEFAULT_SPAN);
        let parser = self.parser(range).await?;
        let logql = logql::with_parser(&selector, parser.as_ref());
        let (older, newer) = tokio::join!(
            self.client.query_range_logs(&logql, Some(ts - DEFAULT_SPAN), Some(ts + 1), before.saturating_add(1).min(MAX_PAGE), true, true),
            self.client.query_range_logs(&logql, Some(ts + 1), Some(ts + DEFAULT_SPAN), after.clamp(1, MAX_PAGE), false, true)
        );
        // Newest first, never past the line itself, at most `before` + the line.
        let mut out: Vec<Record> = Self::records(older?)?
            .into_iter()
            .map(|e| e.record)
            .filter(|r| r.timestamp.is_some_and(|t| t <= ts))
            .collect();
        if !out.iter().any(|r| r.timestamp == record.timestamp && r.message == record.message) {
            out.insert(0, record);
        }
        out.truncate(before.saturating_add(1));
        out.reverse();
        let mut newer: Vec<decode::Entry> = Self::records(newer?)?;
        newer.retain(|e| e.record.timestamp.is_some_and(|t| t > ts));
        newer.reverse();
        out.extend(newer.into_iter().take(after).map(|e| e.record));
        Ok(out)
    }
}

/// The split key of one value, by the rule every backend shares ([`Split::key`]): status
/// class (`other` for a value that is not a status), normalised level, or the value; a series
/// without the label (Loki's `{}` series) is in no split.
fn split_key(split: &Split, value: Option<String>) -> Option<String> {
    split.key(value.as_deref())
}

fn empty_buckets(first: Nanos, interval: Nanos, count: usize) -> Vec<HistogramBucket> {
    (0..count)
        .map(|i| HistogramBucket { start: first + interval * i as Nanos, count: 0, split: BTreeMap::new() })
        .collect()
}

fn histogram_from_series(
    series: &[decode::Series],
    first: Nanos,
    interval: Nanos,
    count: usize,
    split: &Split,
    split_label: Option<&(String, String)>,
) -> HistogramResult {
    let mut buckets = empty_buckets(first, interval, count);
    for s in series {
        let key = split_label.and_then(|(_, label)| split_key(split, s.metric.get(label).map(Value::as_text)));
        for (t, v) in &s.samples {
            let index = (t - interval - first).div_euclid(interval);
            let Some(bucket) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) else { continue };
            bucket.count += v;
            if let Some(key) = &key {
                *bucket.split.entry(key.clone()).or_default() += v;
            }
        }
    }
    logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
    HistogramResult { interval, split_by: split_label.map(|(name, _)| name.clone()), buckets, partial: false, note: None, split_error_bound: None }
}

fn record_value(record: &Record, field: &str, label: &str) -> Option<String> {
    record.get(field).or_else(|| record.get(label)).map(|v| v.as_text())
}

fn histogram_from_records(
    records: &[Record],
    first: Nanos,
    interval: Nanos,
    count: usize,
    split: &Split,
    split_label: Option<&(String, String)>,
) -> HistogramResult {
    let mut buckets = empty_buckets(first, interval, count);
    for r in records {
        let Some(ts) = r.timestamp else { continue };
        let Some(bucket) = usize::try_from((ts - first).div_euclid(interval)).ok().and_then(|i| buckets.get_mut(i)) else {
            continue;
        };
        bucket.count += 1;
        if let Some((_, label)) = split_label {
            let name = match split {
                Split::Field(f) => f.as_str(),
                _ => label.as_str(),
            };
            if let Some(key) = split_key(split, record_value(r, name, label)) {
                *bucket.split.entry(key).or_default() += 1;
            }
        }
    }
    logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
    HistogramResult { interval, split_by: split_label.map(|(name, _)| name.clone()), buckets, partial: false, note: None, split_error_bound: None }
}

fn top_from_records(records: &[Record], field: &str, label: &str, size: usize) -> TopResult {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for r in records {
        if let Some(v) = record_value(r, field, label).filter(|v| !v.is_empty()) {
            *counts.entry(v).or_default() += 1;
        }
    }
    let (buckets, other) = logsleuth_core::agg::top_n(counts, size);
    TopResult {
        field: field.to_string(),
        total: records.len() as u64,
        other,
        buckets,
        error_bound: None,
        partial: false,
        note: None,
        distinct: None,
        distinct_estimated: false,
    }
}

#[async_trait]
impl Source for LokiSource {
    fn info(&self) -> SourceInfo {
        let config = &self.inner.config;
        let mut description = config.http.display();
        if !config.selector.trim().is_empty() {
            description.push(' ');
            description.push_str(config.selector.trim());
        }
        if let Some(tenant) = &config.tenant {
            description.push_str(&format!(" (tenant {tenant})"));
        }
        let roles = self.inner.roles();
        let default_columns = [&roles.level, &roles.status, &roles.method, &roles.path, &roles.client_ip, &roles.user_agent]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        SourceInfo {
            kind: "loki",
            description,
            roles,
            default_columns,
            is_remote: true,
            warning: config.http.insecure.then(|| "TLS certificate verification is OFF (--insecure)".to_string()),
        }
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.inner.search(request, true).await
    }

    /// Without the `count_over_time` request: a reader of lines need not wait for it.
    async fn read_page(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.inner.search(request, false).await
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        self.inner.top(request).await
    }

    async fn distinct(&self, request: TopRequest) -> SourceResult<Option<Distinct>> {
        self.inner.distinct(request).await
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        self.inner.histogram(request).await
    }

    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        self.inner.fields(range).await
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        self.inner.field_values(field, range, limit).await
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        self.inner.context(record, before, after).await
    }

    async fn patterns(&self, request: crate::patterns::PatternsRequest) -> SourceResult<logsleuth_core::patterns::PatternsResult> {
        match self.inner.loki_patterns(&request).await? {
            Some(result) => Ok(result),
            None => crate::patterns::sample_patterns(self, request).await,
        }
    }

    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        // Refuse at once what can be checked without the server: a query with no selector.
        let quick = PipelineContext {
            selector: self.inner.config.selector.trim().to_string(),
            labels: self.inner.stream_labels.get().cloned().unwrap_or_default(),
            parser: self.parser(),
        };
        if request.query.language == QueryLanguage::Native || request.query.is_empty() {
            logql::log_query(&request.query, &quick)?;
        }
        let (tx, rx) = mpsc::channel(256);
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let now = logsleuth_core::time::now_nanos();
            let logql = match inner.log_query(&request.query, (now - DEFAULT_SPAN, now)).await {
                Ok(q) => q,
                Err(e) => {
                    let _ = tx.send(TailEvent::Failed(e)).await;
                    return;
                }
            };
            let spec = tail::TailSpec {
                http: inner.config.http.clone(),
                logql,
                since: request.since,
                strip_errors: request.query.language == QueryLanguage::Kql,
                backoff: inner.config.backoff,
            };
            tail::run_to(spec, tx).await;
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::Fields;

    #[test]
    fn insecure_is_shown_loudly() {
        let mut http = HttpConfig::new("https://loki.example").unwrap();
        http.insecure = true;
        let source = LokiSource::new(LokiConfig {
            http,
            selector: String::new(),
            parser: None,
            tenant: None,
            backoff: Default::default(),
        })
        .unwrap();
        let info = source.info();
        assert_eq!(info.warning.as_deref(), Some("TLS certificate verification is OFF (--insecure)"));
        assert!(info.is_remote);
        assert_eq!(info.kind, "loki");
    }

    #[test]
    fn status_classes_and_split_keys() {
        // The shared rule (logsleuth_core::agg): a status that is not one is `other`; a missing
        // or empty value is in no series.
        assert_eq!(split_key(&Split::StatusClass, Some("504".into())).as_deref(), Some("5xx"));
        assert_eq!(split_key(&Split::StatusClass, Some("200".into())).as_deref(), Some("2xx"));
        assert_eq!(split_key(&Split::StatusClass, Some("-".into())).as_deref(), Some("other"));
        assert_eq!(split_key(&Split::StatusClass, Some("999".into())).as_deref(), Some("other"));
        assert_eq!(split_key(&Split::Level, Some(String::new())), None);
        assert_eq!(split_key(&Split::Level, Some("WARNING".into())).as_deref(), Some("warn"));
    }

    #[test]
    fn series_land_in_the_bucket_they_end() {
        let mut metric = Fields::new();
        metric.push("status", Value::Str("404".into()));
        let series = vec![decode::Series { metric, samples: vec![(20, 3), (30, 4), (99, 1)] }];
        let split = ("status_class".to_string(), "status".to_string());
        let h = histogram_from_series(&series, 10, 10, 3, &Split::StatusClass, Some(&split));
        assert_eq!(h.buckets.iter().map(|b| (b.start, b.count)).collect::<Vec<_>>(), [(10, 3), (20, 4), (30, 0)]);
        assert_eq!(h.buckets[0].split.get("4xx"), Some(&3));
        assert_eq!(h.split_by.as_deref(), Some("status_class"));
    }

    #[test]
    fn fallback_top_counts_fetched_lines() {
        let mut a = Record::plain("a");
        a.fields.push("status", Value::Int(200));
        let mut b = Record::plain("b");
        b.fields.push("status", Value::Int(404));
        let c = Record::plain("c");
        let top = top_from_records(&[a.clone(), a, b, c], "status", "status", 1);
        assert_eq!(top.buckets, vec![TopBucket { value: "200".into(), count: 2 }]);
        assert_eq!((top.total, top.other), (4, 1));
    }
}
