//! Elasticsearch / OpenSearch (and ES-compatible servers such as Quickwit) as a [`Source`]:
//! `_field_caps` for fields, `_search` with `search_after` paging (inside a point in time where
//! the server has one), `date_histogram` and `terms` aggregations for charts, polling for the
//! live tail, and "surrounding documents" for context.
//!
//! Layout: [`body`] builds request bodies (pure), [`response`] reads answers (pure),
//! [`fields`] reads `_field_caps`, [`paging`] keeps cursors exact, [`query`] turns the user's
//! query into DSL, `client` does HTTP with retries, [`error`] reads error bodies, `tail` polls.

pub mod body;

mod client;
pub mod error;
pub mod fields;
pub mod hits;
mod kql_bridge;
pub mod paging;
pub mod patterns;
pub mod query;
pub mod response;
mod tail;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value as Json, json};
use tokio::sync::{OnceCell, mpsc};

pub use client::RetryPolicy;
use client::{EsClient, Reply, RequestError};
use fields::Schema;
use paging::{PageCursor, Pit, PitApi};

use logsleuth_core::model::{Distinct, HistogramBucket, HistogramResult, Nanos, Record, TimeRange, TopBucket, TopResult};
use crate::http::HttpConfig;
use crate::{
    FieldInfo, FieldRoles, HistogramRequest, SearchPage, SearchRequest, Source, SourceError, SourceInfo, SourceResult,
    Split, TailEvent, TailRequest, TopRequest, choose_interval,
};

/// Settings for one Elasticsearch source.
#[derive(Debug, Clone)]
pub struct EsConfig {
    /// Server URL (may carry a path prefix), auth and TLS.
    pub http: HttpConfig,
    /// Index pattern (`logs-*`, comma-separated lists allowed).
    pub index: String,
    /// Time field; detected from `_field_caps` when `None`.
    pub time_field: Option<String>,
    /// Field roles set by the user; the rest are detected by name.
    pub roles: FieldRoles,
    /// Time zone for date histograms and KQL date ranges (IANA name); UTC when `None`.
    pub time_zone: Option<String>,
    /// How often the live tail polls.
    pub tail_interval: Duration,
    /// Documents fetched per tail poll.
    pub tail_batch: usize,
    /// Keep-alive of points in time (`5m`).
    pub pit_keep_alive: String,
    /// Retries of 429 rejections.
    pub retry: RetryPolicy,
}

impl EsConfig {
    /// Defaults for a server and index pattern.
    pub fn new(http: HttpConfig, index: impl Into<String>) -> EsConfig {
        EsConfig {
            http,
            index: index.into(),
            time_field: None,
            roles: FieldRoles::default(),
            time_zone: None,
            tail_interval: Duration::from_secs(2),
            tail_batch: 500,
            pit_keep_alive: "5m".into(),
            retry: RetryPolicy::default(),
        }
    }
}

/// What kind of server answers, from `GET /`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    /// Elasticsearch with its version (major, minor).
    Elasticsearch(u32, u32),
    /// OpenSearch with its version.
    OpenSearch(u32, u32),
    /// An ES-compatible server naming another distribution (e.g. `quickwit`).
    Other(String),
    /// `GET /` failed (often a missing `monitor` privilege); features are probed instead.
    Unknown,
}

impl Flavor {
    fn from_info(info: &Json) -> Flavor {
        let version = info.get("version");
        let number = version.and_then(|v| v.get("number")).and_then(Json::as_str).unwrap_or("");
        let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        match version.and_then(|v| v.get("distribution")).and_then(Json::as_str) {
            Some("opensearch") => Flavor::OpenSearch(major, minor),
            Some(other) if !other.is_empty() && other != "elasticsearch" => Flavor::Other(other.to_string()),
            _ => Flavor::Elasticsearch(major, minor),
        }
    }

    /// The point-in-time API to use, if any. ES needs 7.12 for an explicit `_shard_doc`
    /// tiebreaker, OpenSearch 2.4 for its point-in-time API.
    fn pit_api(&self) -> Option<PitApi> {
        match *self {
            Flavor::Elasticsearch(major, minor) if (major, minor) >= (7, 12) => Some(PitApi::Elasticsearch),
            Flavor::OpenSearch(major, minor) if (major, minor) >= (2, 4) => Some(PitApi::OpenSearch),
            Flavor::Unknown => Some(PitApi::Elasticsearch),
            _ => None,
        }
    }
}

/// The `shard_size`s a top-N is asked again with when the first answer's counts are
/// approximate (`doc_count_error_upper_bound` > 0): at most two more requests, each shard
/// sending at most this many values.
pub const EXACT_SHARD_SIZES: &[usize] = &[5_000, 50_000];

/// Points in time kept open at once; opening another closes the oldest (its pages then
/// continue without it).
const MAX_OPEN_PITS: usize = 4;

struct Inner {
    config: EsConfig,
    client: EsClient,
    schema: OnceCell<Arc<Schema>>,
    flavor: OnceCell<Flavor>,
    pit_unsupported: std::sync::atomic::AtomicBool,
    open_pits: Mutex<VecDeque<Pit>>,
}

/// An Elasticsearch / OpenSearch index pattern as a log source.
#[derive(Clone)]
pub struct EsSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsSource").field("url", &self.inner.client.display()).field("index", &self.inner.config.index).finish()
    }
}

impl EsSource {
    /// Creates the source (no request is sent until it is used).
    pub fn new(config: EsConfig) -> SourceResult<EsSource> {
        if config.index.trim().is_empty() {
            return Err(SourceError::Query("an index pattern is required (--index 'logs-*')".into()));
        }
        let client = EsClient::new(config.http.clone(), config.retry)?;
        Ok(EsSource {
            inner: Arc::new(Inner {
                config,
                client,
                schema: OnceCell::new(),
                flavor: OnceCell::new(),
                pit_unsupported: std::sync::atomic::AtomicBool::new(false),
                open_pits: Mutex::new(VecDeque::new()),
            }),
        })
    }

    /// The index pattern's fields, time field and roles (fetched once).
    pub async fn schema(&self) -> SourceResult<Arc<Schema>> {
        self.inner.schema().await.cloned()
    }

    /// The server kind (asked once).
    pub async fn flavor(&self) -> Flavor {
        self.inner.flavor().await.clone()
    }
}

impl Inner {
    fn index_path(&self, api: &str) -> String {
        format!("{}/{api}", client::encode_index(&self.config.index))
    }

    async fn schema(&self) -> SourceResult<&Arc<Schema>> {
        self.schema
            .get_or_try_init(|| async {
                let reply = self.client.send(Method::GET, &self.index_path("_field_caps?fields=*"), None, false).await?;
                let schema = Schema::from_field_caps(reply.json, self.config.time_field.as_deref(), &self.config.roles)?;
                Ok::<_, SourceError>(Arc::new(schema))
            })
            .await
    }

    async fn flavor(&self) -> &Flavor {
        self.flavor
            .get_or_init(|| async {
                match self.client.send(Method::GET, "", None, false).await {
                    Ok(reply) => Flavor::from_info(&reply.json),
                    Err(_) => Flavor::Unknown,
                }
            })
            .await
    }

    fn time_zone(&self) -> Option<&str> {
        self.config.time_zone.as_deref().filter(|tz| !tz.eq_ignore_ascii_case("utc"))
    }

    /// The user's query as DSL, in a bool filter with the time range.
    fn filtered(&self, schema: &Schema, query: &crate::Query, range: TimeRange) -> SourceResult<Json> {
        let q = query::to_dsl(query, schema, self.time_zone())?;
        Ok(body::filtered_query(q.as_ref(), &schema.time_field, range))
    }

    /// A search whose hits are read straight into records ([`hits`]), the rest of the answer
    /// kept as JSON; `pit` searches go to `_search` without the index, as points in time ask.
    async fn search_records(&self, pit: bool, body: &Json, time_field: &str) -> Result<(hits::SearchAnswer, Vec<String>), RequestError> {
        let path = if pit { "_search".to_string() } else { self.index_path("_search") };
        self.client.send_decoded(Method::POST, &path, Some(body), true, |text| hits::decode_search(text, time_field)).await
    }

    async fn search_json(&self, body: &Json) -> Result<Reply, RequestError> {
        self.client.send(Method::POST, &self.index_path("_search"), Some(body), true).await
    }

    /// Opens a point in time, or `None` where the server has none (remembered after a 404,
    /// 405 or 501 so it is not asked again).
    async fn open_pit(&self) -> SourceResult<Option<Pit>> {
        use std::sync::atomic::Ordering;
        if self.pit_unsupported.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let Some(api) = self.flavor().await.pit_api() else { return Ok(None) };
        let keep_alive = &self.config.pit_keep_alive;
        let (path, id_key) = match api {
            PitApi::Elasticsearch => (self.index_path(&format!("_pit?keep_alive={keep_alive}")), "id"),
            PitApi::OpenSearch => (self.index_path(&format!("_search/point_in_time?keep_alive={keep_alive}")), "pit_id"),
        };
        match self.client.send(Method::POST, &path, None, false).await {
            Ok(reply) => {
                let Some(id) = reply.json.get(id_key).and_then(Json::as_str) else {
                    return Err(SourceError::Decode(format!("point-in-time answer has no \"{id_key}\"")));
                };
                let pit = Pit { api, id: id.to_string() };
                let evicted = {
                    let mut open = self.open_pits.lock().unwrap_or_else(|e| e.into_inner());
                    open.push_back(pit.clone());
                    if open.len() > MAX_OPEN_PITS { open.pop_front() } else { None }
                };
                if let Some(old) = evicted {
                    self.close_pit(&old).await;
                }
                Ok(Some(pit))
            }
            Err(RequestError { server: Some(s), .. }) if s.is_missing_endpoint() => {
                self.pit_unsupported.store(true, Ordering::Relaxed);
                Ok(None)
            }
            // A role may search without being allowed to open a point in time (OpenSearch
            // security has a separate permission for it): page without one, and say so.
            Err(RequestError { server: Some(s), .. }) if s.status == 403 => {
                self.pit_unsupported.store(true, Ordering::Relaxed);
                Err(SourceError::Auth { status: 403, message: s.message })
            }
            Err(e) => Err(e.error),
        }
    }

    /// Closes a point in time; failures only mean it expires on its own.
    async fn close_pit(&self, pit: &Pit) {
        {
            let mut open = self.open_pits.lock().unwrap_or_else(|e| e.into_inner());
            open.retain(|p| p.id != pit.id);
        }
        let (path, body) = match pit.api {
            PitApi::Elasticsearch => ("_pit", json!({"id": pit.id})),
            PitApi::OpenSearch => ("_search/point_in_time", json!({"pit_id": [pit.id]})),
        };
        let _ = self.client.send(Method::DELETE, path, Some(&body), false).await;
    }

    async fn search_page(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        let schema = self.schema().await?.clone();
        let query = self.filtered(&schema, &request.query, request.range)?;
        let limit = request.limit.max(1);
        let mut warnings = Vec::new();
        let (mut cursor, first_page) = match &request.cursor {
            None => {
                let pit = match self.open_pit().await {
                    Ok(pit) => pit,
                    Err(SourceError::Auth { status: 403, message }) => {
                        warnings.push(format!("no point in time (403 {message}); paging without one"));
                        None
                    }
                    Err(e) => return Err(e),
                };
                (PageCursor { pit, ..PageCursor::default() }, true)
            }
            Some(c) => (
                PageCursor::decode(c).ok_or_else(|| SourceError::Query("invalid paging cursor for this source".into()))?,
                false,
            ),
        };
        loop {
            if cursor.scroll.is_some() || (!cursor.exact() && cursor.boundary.as_ref().is_some_and(|b| b.seen.len() > paging::MAX_SEEN_AT_BOUNDARY)) {
                if let Some(page) = self.scroll_page(&schema, &request, &mut cursor, limit, &mut warnings).await? {
                    return Ok(page);
                }
                // No scroll on this server (or it expired): the old continuation.
            }
            let exact = cursor.exact() || (first_page && matches!(&cursor.pit, Some(p) if p.api == PitApi::Elasticsearch));
            let (search_after, size) = if exact {
                ((!cursor.search_after.is_empty()).then(|| cursor.search_after.clone()), limit)
            } else {
                match &mut cursor.boundary {
                    Some(b) if b.seen.len() > paging::MAX_SEEN_AT_BOUNDARY => {
                        warnings.push(format!(
                            "more than {} documents share one timestamp; paging continues after it and may skip some of them",
                            paging::MAX_SEEN_AT_BOUNDARY
                        ));
                        (Some(vec![json!(b.value)]), limit)
                    }
                    Some(b) => (Some(vec![json!(b.value.saturating_add(1))]), limit + b.seen.len()),
                    None if !cursor.search_after.is_empty() => (Some(cursor.search_after.clone()), limit),
                    None => (None, limit),
                }
            };
            let search = body::SearchBody {
                query: query.clone(),
                time_field: schema.time_field.clone(),
                size,
                order: body::Order::Desc,
                shard_doc_tiebreaker: exact,
                search_after,
                pit: cursor.pit.as_ref().map(|p| (p.id.clone(), self.config.pit_keep_alive.clone())),
                track_total_hits: first_page,
            };
            let body_json = search.to_json();
            let result = self.search_records(cursor.pit.is_some(), &body_json, &schema.time_field).await;
            let (answer, notes) = match result {
                Ok(r) => r,
                Err(RequestError { server: Some(s), .. }) if cursor.pit.is_some() && matches!(s.status, 404 | 400) && !first_page => {
                    // The point in time expired or was closed: continue without it, from the
                    // boundary every cursor carries.
                    warnings.push(format!("the point in time is gone ({}); paging continues without it", s.message));
                    cursor.pit = None;
                    cursor.search_after.clear();
                    continue;
                }
                Err(e) => {
                    // A point in time opened for this search is of no further use.
                    if let (true, Some(p)) = (first_page, &cursor.pit) {
                        self.close_pit(p).await;
                    }
                    return Err(e.error);
                }
            };
            warnings.extend(notes);
            if let Some(w) = answer.json.get("_shards").and_then(error::shard_failure_warning) {
                warnings.push(w);
            }
            let raw_len = answer.records.len();
            let mut records = answer.records;
            if !exact && let Some(b) = &cursor.boundary {
                records = paging::skip_seen(records, b);
            }
            records.truncate(limit);
            let mut pit = cursor.pit.clone();
            if let (Some(p), Some(id)) = (pit.as_mut(), answer.json.get("pit_id").and_then(Json::as_str)) {
                p.id = id.to_string();
            }
            let next = if raw_len < size || records.is_empty() {
                if let Some(p) = &pit {
                    self.close_pit(p).await;
                }
                None
            } else {
                let boundary = paging::next_boundary(&records, cursor.boundary.as_ref());
                let search_after = records.last().and_then(response::sort_values).unwrap_or_default();
                Some(PageCursor { pit, search_after, boundary, scroll: None }.encode())
            };
            return Ok(SearchPage {
                records,
                total: if first_page { response::hit_count(&answer.json) } else { None },
                next,
                warnings,
            });
        }
    }

    /// A page read through the scroll API, once more documents share the boundary's timestamp
    /// than the cursor remembers: the scroll is a snapshot with an exact continuation, so none
    /// of them is lost. It starts with the rest of the range (at or before the boundary, the
    /// shown ones skipped by identity), continues with `POST /_search/scroll` and is deleted
    /// at the end. `Ok(None)` when the server has no scroll, or the scroll expired: the caller
    /// then continues as before (and says what that may skip).
    async fn scroll_page(
        &self,
        schema: &Schema,
        request: &SearchRequest,
        cursor: &mut PageCursor,
        limit: usize,
        warnings: &mut Vec<String>,
    ) -> SourceResult<Option<SearchPage>> {
        let tf = schema.time_field.as_str();
        let keep_alive = self.config.pit_keep_alive.clone();
        loop {
            let result = match &cursor.scroll {
                Some(scroll) => {
                    let body = json!({"scroll": keep_alive, "scroll_id": scroll.id});
                    self.client
                        .send_decoded(Method::POST, "_search/scroll", Some(&body), true, |text| hits::decode_search(text, tf))
                        .await
                }
                None => {
                    let Some(b) = cursor.boundary.clone() else { return Ok(None) };
                    // The rest of the range: everything at or before the boundary's timestamp
                    // (millisecond bounds; anything newer the bound lets in is skipped).
                    let ns = response::epoch_number_to_nanos(b.value as f64).unwrap_or(0);
                    let to = (ns.div_euclid(1_000_000) + 1) * 1_000_000;
                    let range = TimeRange { from: request.range.from, to: Some(request.range.to.map_or(to, |t| t.min(to))) };
                    let search = body::SearchBody {
                        query: self.filtered(schema, &request.query, range)?,
                        time_field: tf.to_string(),
                        size: limit,
                        order: body::Order::Desc,
                        shard_doc_tiebreaker: false,
                        search_after: None,
                        pit: None,
                        track_total_hits: false,
                    };
                    let path = self.index_path(&format!("_search?scroll={keep_alive}"));
                    cursor.scroll = Some(paging::Scroll { id: String::new(), size: limit, skip: Some(b) });
                    self.client.send_decoded(Method::POST, &path, Some(&search.to_json()), true, |text| hits::decode_search(text, tf)).await
                }
            };
            let (answer, notes) = match result {
                Ok(r) => r,
                Err(RequestError { server: Some(s), .. }) if s.is_missing_endpoint() || matches!(s.status, 400 | 404) => {
                    let started = cursor.scroll.as_ref().is_some_and(|sc| !sc.id.is_empty());
                    warnings.push(if started {
                        format!("the scroll is gone ({}); paging continues without it", s.message)
                    } else {
                        format!("this server refused a scroll ({})", s.message)
                    });
                    cursor.scroll = None;
                    return Ok(None);
                }
                Err(e) => return Err(e.error),
            };
            warnings.extend(notes);
            if let Some(w) = answer.json.get("_shards").and_then(error::shard_failure_warning) {
                warnings.push(w);
            }
            let Some(mut scroll) = cursor.scroll.take() else { return Ok(None) };
            // A point in time has no use beside a scroll.
            if let Some(p) = cursor.pit.take() {
                self.close_pit(&p).await;
                cursor.search_after.clear();
            }
            if let Some(id) = answer.json.get("_scroll_id").and_then(Json::as_str) {
                scroll.id = id.to_string();
            }
            let raw_len = answer.records.len();
            let records = paging::skip_shown(answer.records, &mut scroll.skip);
            if raw_len < scroll.size.max(1) || scroll.id.is_empty() {
                self.close_scroll(&scroll.id).await;
                return Ok(Some(SearchPage { records, total: None, next: None, warnings: std::mem::take(warnings) }));
            }
            if records.is_empty() {
                // Only documents shown before the scroll began: read on.
                cursor.scroll = Some(scroll);
                continue;
            }
            // Kept up to date so that an expired scroll can hand over to the old continuation.
            cursor.boundary = paging::next_boundary(&records, cursor.boundary.as_ref());
            if let Some(b) = cursor.boundary.as_mut() {
                // Past the cap that hand-over says what it may skip; no need to carry more.
                b.seen.truncate(paging::MAX_SEEN_AT_BOUNDARY + 1);
            }
            cursor.scroll = Some(scroll);
            return Ok(Some(SearchPage { records, total: None, next: Some(cursor.encode()), warnings: std::mem::take(warnings) }));
        }
    }

    /// Deletes a scroll; failures only mean it expires on its own.
    async fn close_scroll(&self, id: &str) {
        if !id.is_empty() {
            let _ = self.client.send(Method::DELETE, "_search/scroll", Some(&json!({"scroll_id": [id]})), false).await;
        }
    }

    async fn aggregate(&self, body: &Json) -> SourceResult<(Json, Vec<String>, bool)> {
        let reply = self.search_json(body).await?;
        let mut notes = reply.notes;
        let shard_warning = reply.json.get("_shards").and_then(error::shard_failure_warning);
        let partial = shard_warning.is_some();
        notes.extend(shard_warning);
        Ok((reply.json, notes, partial))
    }

    /// The span of the data when a range side is open (min/max of the time field).
    async fn data_span(&self, schema: &Schema, query: &Json, range: TimeRange) -> SourceResult<Option<(Nanos, Nanos)>> {
        let tf = schema.time_field.as_str();
        let body = json!({"size": 0, "track_total_hits": true, "query": query,
            "aggs": {"min_time": {"min": {"field": tf}}, "max_time": {"max": {"field": tf}}}});
        let (answer, _, _) = self.aggregate(&body).await?;
        let value = |name: &str| {
            answer.get("aggregations")?.get(name)?.get("value")?.as_f64().and_then(response::epoch_number_to_nanos)
        };
        Ok(match (range.from.or_else(|| value("min_time")), range.to.or_else(|| value("max_time").map(|t| t + 1))) {
            (Some(a), Some(b)) if b > a => Some((a, b)),
            _ => None,
        })
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let schema = self.schema().await?.clone();
        let query = self.filtered(&schema, &request.query, request.range)?;
        let (split_agg, split_by) = match &request.split {
            Split::None => (None, None),
            Split::StatusClass => {
                let field = role_field(&schema, schema.roles.status.as_deref(), "status")?;
                (Some(body::SplitAgg { field, size: 100, shard_size: None }), Some("status_class".to_string()))
            }
            Split::Level => {
                let field = role_field(&schema, schema.roles.level.as_deref(), "level")?;
                (Some(body::SplitAgg { field, size: 20, shard_size: None }), Some("level".to_string()))
            }
            Split::Field(name) => (
                Some(body::SplitAgg { field: schema.aggregatable_field(name)?, size: logsleuth_core::agg::SPLIT_SERIES, shard_size: None }),
                Some(name.clone()),
            ),
        };
        let Some((from, to)) = (match (request.range.from, request.range.to) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => self.data_span(&schema, &query, request.range).await?,
        }) else {
            let interval = request.interval.unwrap_or(60 * logsleuth_core::time::NS_PER_SEC);
            return Ok(HistogramResult { interval, split_by, buckets: Vec::new(), partial: false, note: None, split_error_bound: None });
        };
        let interval = request.interval.filter(|i| *i > 0).unwrap_or_else(|| choose_interval(to - from, request.target_buckets));
        // fixed_interval has millisecond resolution.
        let interval = interval.max(1_000_000) / 1_000_000 * 1_000_000;
        // The shared cap, checked before asking (a huge range with a tiny interval would
        // exhaust the server's `search.max_buckets` or our memory).
        logsleuth_core::agg::bucket_count(from.div_euclid(interval) * interval, to, interval)?;
        let body = body::histogram(query.clone(), &schema.time_field, interval, self.time_zone(), split_agg.as_ref());
        let (answer, notes, mut partial) = self.aggregate(&body).await?;
        let parse = |answer: &Json| {
            answer.get("aggregations").and_then(|a| a.get("over_time")).map(response::parse_date_histogram).unwrap_or_default()
        };
        // Each bucket's split is a `terms` aggregation: over several shards its counts may be
        // short by the bucket's `doc_count_error_upper_bound` (the largest one counts).
        let split_error_of =
            |parsed: &[response::TimeBucket]| parsed.iter().filter_map(|b| b.split.as_ref()).map(|t| t.error_bound).max().unwrap_or(0);
        let mut parsed = parse(&answer);
        let mut split_error = split_error_of(&parsed);
        let mut notes = notes;
        // As for `top`: asked again once with a larger `shard_size` (one bound, since every
        // bucket asks it), kept only when it is better.
        if split_error > 0
            && let Some(split) = &split_agg
        {
            let exact = body::SplitAgg { shard_size: Some(EXACT_SHARD_SIZES[0]), ..split.clone() };
            let again = body::histogram(query, &schema.time_field, interval, self.time_zone(), Some(&exact));
            match self.aggregate(&again).await {
                Ok((answer, more_notes, again_partial)) => {
                    let again = parse(&answer);
                    let again_error = split_error_of(&again);
                    if again_error <= split_error {
                        (parsed, split_error) = (again, again_error);
                        notes.extend(more_notes);
                        partial |= again_partial;
                    }
                }
                Err(e) => notes.push(format!(
                    "the exact recount of the split was refused ({})",
                    logsleuth_core::text::truncate_chars(&e.to_string(), 200)
                )),
            }
        }
        if split_error > 0 {
            notes.push(format!("split counts are approximate (±{split_error} a bucket): the server's terms aggregation over several shards is not exact"));
        }
        let buckets = fill_grid(parsed, from, to, interval, &request.split);
        Ok(HistogramResult {
            interval,
            split_by,
            buckets,
            partial,
            note: join_notes(notes),
            split_error_bound: (split_error > 0).then_some(split_error),
        })
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let schema = self.schema().await?.clone();
        let field = schema.aggregatable_field(&request.field)?;
        let query = self.filtered(&schema, &request.query, request.range)?;
        let (mut answer, mut notes, mut partial) = self.aggregate(&body::terms(query.clone(), &field, request.size)).await?;
        let top_terms = |answer: &Json| answer.get("aggregations").and_then(|a| a.get("top")).map(response::parse_terms).unwrap_or_default();
        let mut terms = top_terms(&answer);
        // A `terms` aggregation over several shards (segments, splits) is approximate: each
        // shard sends only its best values, and `doc_count_error_upper_bound` says by how much
        // a count may be short. Ask again with a larger `shard_size` (a bounded number of
        // times) until the bound is 0; where the server refuses, the counts stay approximate
        // and say so.
        for &shard_size in EXACT_SHARD_SIZES {
            if terms.error_bound == 0 {
                break;
            }
            if shard_size <= request.size {
                continue;
            }
            match self.aggregate(&body::terms_with_shard_size(query.clone(), &field, request.size, shard_size)).await {
                Ok((again, more_notes, again_partial)) => {
                    let again_terms = top_terms(&again);
                    notes.extend(more_notes);
                    partial |= again_partial;
                    // Never trade a result for a worse one (a server ignoring `shard_size`).
                    if again_terms.error_bound <= terms.error_bound {
                        terms = again_terms;
                        answer = again;
                    }
                }
                Err(e) => {
                    notes.push(format!(
                        "the exact recount was refused ({}); counts are approximate (±{})",
                        logsleuth_core::text::truncate_chars(&e.to_string(), 200),
                        terms.error_bound
                    ));
                    break;
                }
            }
        }
        if terms.error_bound > 0 && !notes.iter().any(|n| n.starts_with("the exact recount")) {
            notes.push(format!(
                "counts are approximate (±{}): the server's terms aggregation over several shards is not exact",
                terms.error_bound
            ));
        }
        let mut buckets = terms.buckets;
        logsleuth_core::agg::sort_top(&mut buckets);
        let total = match response::hit_count(&answer) {
            Some(crate::HitCount::Exact(n) | crate::HitCount::AtLeast(n)) => n,
            None => buckets.iter().map(|b| b.count).sum::<u64>() + terms.other,
        };
        if field != request.field {
            notes.insert(0, format!("aggregated on {field}"));
        }
        Ok(TopResult {
            field: request.field,
            total,
            other: terms.other,
            buckets,
            error_bound: (terms.error_bound > 0).then_some(terms.error_bound),
            partial,
            note: join_notes(notes),
            distinct: None,
            distinct_estimated: false,
        })
    }

    async fn distinct(&self, request: TopRequest) -> SourceResult<Option<Distinct>> {
        let schema = self.schema().await?.clone();
        let field = schema.aggregatable_field(&request.field)?;
        let query = self.filtered(&schema, &request.query, request.range)?;
        let (answer, _, _) = self.aggregate(&body::cardinality(query, &field)).await?;
        let value = answer.get("aggregations").and_then(|a| a.get("distinct")).and_then(|d| d.get("value"));
        // Elasticsearch answers an integer, ES-API servers (Quickwit) a float such as 1028.0.
        let count = value.and_then(|v| v.as_u64().or_else(|| v.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f.round() as u64)));
        Ok(count.map(|count| Distinct { count, estimated: true }))
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        let schema = self.schema().await?.clone();
        let agg_field = schema.aggregatable_field(&field)?;
        let query = body::filtered_query(None, &schema.time_field, range);
        let (answer, _, _) = self.aggregate(&body::terms(query, &agg_field, limit)).await?;
        let terms = answer.get("aggregations").and_then(|a| a.get("top")).map(response::parse_terms).unwrap_or_default();
        Ok(terms.buckets.into_iter().map(|b| b.value).collect())
    }

    /// `before` documents strictly earlier than `record` (by millisecond) and `after`
    /// documents at or after it, over the whole index pattern (no query, as Kibana does).
    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        let schema = self.schema().await?.clone();
        let Some(ts) = record.timestamp else {
            return Err(SourceError::Unsupported("this document has no timestamp, so it has no surrounding documents".into()));
        };
        let ms = ts.div_euclid(1_000_000) * 1_000_000;
        let anchor = response::identity(&record);
        let tf = schema.time_field.clone();
        let mut older = Vec::new();
        if before > 0 {
            let query = body::filtered_query(None, &tf, TimeRange { from: None, to: Some(ms) });
            let search = body::SearchBody {
                query,
                time_field: tf.clone(),
                size: before,
                order: body::Order::Desc,
                shard_doc_tiebreaker: false,
                search_after: None,
                pit: None,
                track_total_hits: false,
            };
            older = self.search_records(false, &search.to_json(), &tf).await?.0.records;
            older.reverse();
        }
        let mut newer = Vec::new();
        if after > 0 {
            let query = body::filtered_query(None, &tf, TimeRange { from: Some(ms), to: None });
            let search = body::SearchBody {
                query,
                time_field: tf.clone(),
                size: after + 1,
                order: body::Order::Asc,
                shard_doc_tiebreaker: false,
                search_after: None,
                pit: None,
                track_total_hits: false,
            };
            let mut skipped = false;
            newer = self
                .search_records(false, &search.to_json(), &tf)
                .await?
                .0
                .records
                .into_iter()
                .filter(|r| {
                    if !skipped && response::identity(r) == anchor {
                        skipped = true;
                        return false;
                    }
                    true
                })
                .collect();
            newer.truncate(after);
        }
        let mut out = older;
        out.push(record);
        out.extend(newer);
        Ok(out)
    }
}

fn role_field(schema: &Schema, role: Option<&str>, what: &str) -> SourceResult<String> {
    let Some(name) = role else {
        return Err(SourceError::Unsupported(format!(
            "no {what} field was found in this index pattern; name one in the configuration to split by {what}"
        )));
    };
    schema.aggregatable_field(name)
}

fn join_notes(notes: Vec<String>) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Puts the server's buckets on a gap-free grid over `[from, to)`. The grid is anchored on a
/// server key when there is one, so a time zone's offset is kept.
fn fill_grid(parsed: Vec<response::TimeBucket>, from: Nanos, to: Nanos, interval: Nanos, split: &Split) -> Vec<HistogramBucket> {
    let anchor = parsed.first().map(|b| b.start).unwrap_or_else(|| from.div_euclid(interval) * interval);
    let first = anchor - (anchor - from).div_euclid(interval).max(0) * interval;
    let first = if first > from { first - interval } else { first };
    let mut by_start: BTreeMap<Nanos, HistogramBucket> = BTreeMap::new();
    let mut start = first;
    let mut n = 0;
    // `histogram` checked the range against the shared cap; a time zone's anchor may add one.
    while start < to && n <= logsleuth_core::agg::MAX_BUCKETS {
        by_start.insert(start, HistogramBucket { start, count: 0, split: BTreeMap::new() });
        start += interval;
        n += 1;
    }
    for b in parsed {
        let entry = by_start.entry(b.start).or_insert_with(|| HistogramBucket { start: b.start, count: 0, split: BTreeMap::new() });
        entry.count += b.count;
        if let Some(terms) = b.split {
            for TopBucket { value, count } in terms.buckets {
                // The shared split-key rule: status classes, normalised levels (`WARNING` and
                // `warn` are one series), values.
                if let Some(key) = split.key(Some(&value)) {
                    *entry.split.entry(key).or_insert(0) += count;
                }
            }
            if terms.other > 0 {
                *entry.split.entry(logsleuth_core::agg::OTHER.into()).or_insert(0) += terms.other;
            }
        }
    }
    let mut buckets: Vec<HistogramBucket> = by_start.into_values().collect();
    // Each bucket's `terms` has its own top values: keep the histogram-wide largest series, as
    // every backend does, and fold the rest (and the server's remainder) into `other`.
    logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
    buckets
}

#[async_trait]
impl Source for EsSource {
    fn info(&self) -> SourceInfo {
        let schema = self.inner.schema.get();
        SourceInfo {
            kind: "elasticsearch",
            description: format!("{} {}", self.inner.client.display(), self.inner.config.index),
            roles: schema.map(|s| s.roles.clone()).unwrap_or_else(|| self.inner.config.roles.clone()),
            default_columns: schema.map(|s| s.default_columns()).unwrap_or_default(),
            is_remote: true,
            warning: self
                .inner
                .config
                .http
                .insecure
                .then(|| "TLS certificate verification is OFF (--insecure): the connection can be intercepted".to_string()),
        }
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.inner.search_page(request).await
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

    async fn fields(&self, _range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        Ok(self.inner.schema().await?.field_infos())
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        self.inner.field_values(field, range, limit).await
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        self.inner.context(record, before, after).await
    }

    async fn patterns(&self, request: crate::patterns::PatternsRequest) -> SourceResult<logsleuth_core::patterns::PatternsResult> {
        match self.inner.es_patterns(&request).await? {
            Some(result) => Ok(result),
            None => crate::patterns::sample_patterns(self, request).await,
        }
    }

    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| SourceError::Unsupported("the live tail needs a running tokio runtime".into()))?;
        let (tx, rx) = mpsc::channel(64);
        handle.spawn(tail::run(self.inner.clone(), request, tx));
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors_from_cluster_info() {
        let qw = json!({"version": {"distribution": "quickwit", "number": "7.17.0"}});
        assert_eq!(Flavor::from_info(&qw), Flavor::Other("quickwit".into()));
        assert_eq!(Flavor::from_info(&qw).pit_api(), None);
        let os = json!({"version": {"distribution": "opensearch", "number": "2.11.1"}});
        assert_eq!(Flavor::from_info(&os).pit_api(), Some(PitApi::OpenSearch));
        let os1 = json!({"version": {"distribution": "opensearch", "number": "1.3.0"}});
        assert_eq!(Flavor::from_info(&os1).pit_api(), None);
        let es = json!({"version": {"number": "8.13.0", "build_flavor": "default"}});
        assert_eq!(Flavor::from_info(&es), Flavor::Elasticsearch(8, 13));
        assert_eq!(Flavor::from_info(&json!({"version": {"number": "7.10.2"}})).pit_api(), None);
    }

    #[test]
    fn grid_fills_gaps_and_groups_status_classes() {
        let m = 60_000_000_000;
        let parsed = vec![response::TimeBucket {
            start: 2 * m,
            count: 5,
            split: Some(response::Terms {
                buckets: vec![TopBucket { value: "404".into(), count: 3 }, TopBucket { value: "200".into(), count: 1 }],
                other: 1,
                error_bound: 0,
            }),
        }];
        let grid = fill_grid(parsed, m + 1, 4 * m, m, &Split::StatusClass);
        assert_eq!(grid.iter().map(|b| b.start).collect::<Vec<_>>(), vec![m, 2 * m, 3 * m]);
        assert_eq!(grid[1].split, BTreeMap::from([("2xx".into(), 1), ("4xx".into(), 3), ("other".into(), 1)]));
        assert_eq!(grid[0].count + grid[2].count, 0);
    }
}
