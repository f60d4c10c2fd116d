//! Local files and stdin as a [`Source`].
//!
//! Each input is kept as raw text (memory-mapped when large, compact buffers otherwise) with a
//! compact per-line index (offset, length, timestamp) built by a background thread; lines are
//! parsed on demand. Several files merge into one time-ordered view (each record carries a
//! `file` label); out-of-order lines inside a file are ordered too. Queries run on a snapshot
//! of the index in `spawn_blocking`, in parallel with rayon; aggregations are exact.

mod append;
mod budget;
mod demo;
mod follow;
mod index;
mod patterns;
mod query;
mod scan;
mod store;

pub use budget::{
    BUDGET_NOTE_PREFIX, DEFAULT_SHARE, RESERVE, default_max_memory, machine_memory, parse_size, process_private, reserve_of,
    set_default_max_memory, size_text, watch_process_memory,
};
pub use demo::Rng;
pub use scan::OneShot;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use self::index::{FollowSlot, Notifier};
use self::query::Filter;
use self::store::{FileSnap, FileStore};
use super::{
    FieldInfo, FieldKind, FieldOrigin, FieldRoles, HistogramRequest, HitCount, Progress, Query, SearchPage,
    SearchRequest, Source, SourceError, SourceInfo, SourceResult, TailEvent, TailRequest, TopRequest,
};
use logsleuth_formats::{LogFormat, ParseOptions};
use logsleuth_core::model::{HistogramResult, Nanos, Record, RecordId, TimeRange, TopResult, Value};

/// Options for opening local inputs.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// Force this format instead of detecting it per file.
    pub format: Option<LogFormat>,
    /// "Now" for parsing year-less syslog times (default: the clock).
    pub now: Option<Nanos>,
}

/// Shared state of a local source (threads hold it weakly).
pub(crate) struct Inner {
    files: Vec<Arc<FileStore>>,
    follow_slots: Vec<FollowSlot>,
    notify: Arc<Notifier>,
    /// The memory budget of the index, the text kept in memory and the stdin spool.
    budget: Arc<budget::Budget>,
    follower_started: AtomicBool,
    /// The follower's rounds over every file: (begun, finished). A tail that finds a line whose file shrank
    /// under it waits for a round begun after that, which handles the truncation (and may read
    /// the line again from a `copytruncate` copy).
    follow_rounds: (AtomicU64, AtomicU64),
    description: String,
    /// Last exact total computed: (query, range, line counts) → total.
    total_cache: Mutex<Option<TotalCache>>,
}

/// The last exact total computed, and the index state it was computed at.
struct TotalCache {
    query: Query,
    range: TimeRange,
    lens: Vec<usize>,
    pops: Vec<u64>,
    total: u64,
}

/// Log files, gzip files, stdin, or the bundled demo data.
pub struct LocalSource {
    inner: Arc<Inner>,
}

/// Most lines a tail sends per event.
const TAIL_BATCH: usize = 500;

/// Longest a tail holds back a line whose file shrank under it when no follower round
/// comes to handle the truncation.
const LOST_WAIT: Duration = Duration::from_secs(2);

/// Most past lines a tail with `since` replays.
const TAIL_BACKLOG: usize = 10_000;

impl LocalSource {
    /// Opens files (`-` = stdin, read in the background). Each file's format is detected from
    /// its first lines unless `options.format` forces one; gzip files are read transparently.
    /// Returns once every file is open and its first lines are being indexed.
    pub fn open(paths: &[PathBuf], options: LocalOptions) -> Result<LocalSource, SourceError> {
        if paths.is_empty() {
            return Err(SourceError::Io("no input files".into()));
        }
        if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            return Err(SourceError::Io("stdin (-) can be read only once".into()));
        }
        let opts = ParseOptions { now: options.now.unwrap_or_else(logsleuth_core::time::now_nanos) };
        let notify = Arc::new(Notifier::new());
        let budget = budget::Budget::new(default_max_memory());
        let mut files = Vec::new();
        let mut follow_slots = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let slot: FollowSlot = Arc::new(Mutex::new(None));
            let store = if path.as_os_str() == "-" {
                let store = Arc::new(FileStore::new(i as u32, "stdin".into(), None, opts));
                index::open_stdin(store.clone(), options.format, notify.clone(), budget.clone())?;
                store
            } else {
                let store = Arc::new(FileStore::new(i as u32, display_name(path), Some(path.clone()), opts));
                index::open_file(store.clone(), path, options.format, notify.clone(), slot.clone())?;
                store
            };
            files.push(store);
            follow_slots.push(slot);
        }
        Ok(LocalSource::from_parts(files, follow_slots, notify, budget))
    }

    /// Reads lines from any reader in the background, as for stdin (named `name`).
    pub fn from_reader(
        name: &str,
        reader: impl std::io::Read + Send + 'static,
        options: LocalOptions,
    ) -> Result<LocalSource, SourceError> {
        let opts = ParseOptions { now: options.now.unwrap_or_else(logsleuth_core::time::now_nanos) };
        let notify = Arc::new(Notifier::new());
        let store = Arc::new(FileStore::new(0, name.to_string(), None, opts));
        let budget = budget::Budget::new(default_max_memory());
        index::open_reader(store.clone(), Box::new(reader), options.format, notify.clone(), budget.clone())?;
        Ok(LocalSource::from_parts(vec![store], vec![Arc::new(Mutex::new(None))], notify, budget))
    }

    /// The bundled demo: a few thousand lines of a real nginx access log re-stamped to end
    /// now; with `generator`, realistic lines keep being appended (with an error burst now and
    /// then) so that live tail has something to show.
    pub fn demo(generator: bool) -> LocalSource {
        let notify = Arc::new(Notifier::new());
        let store = demo::load(notify.clone());
        let budget = budget::Budget::new(default_max_memory());
        let source = LocalSource::from_parts(vec![store.clone()], vec![Arc::new(Mutex::new(None))], notify, budget);
        if generator {
            demo::spawn_generator(Arc::downgrade(&source.inner), store);
        }
        source
    }

    fn from_parts(
        files: Vec<Arc<FileStore>>,
        follow_slots: Vec<FollowSlot>,
        notify: Arc<Notifier>,
        budget: Arc<budget::Budget>,
    ) -> LocalSource {
        let description = files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
        budget.cover(&files);
        LocalSource {
            inner: Arc::new(Inner {
                files,
                follow_slots,
                notify,
                budget,
                follower_started: AtomicBool::new(false),
                follow_rounds: (AtomicU64::new(0), AtomicU64::new(0)),
                description,
                total_cache: Mutex::new(None),
            }),
        }
    }

    /// The detected (or forced) format of each input, by name.
    pub fn formats(&self) -> Vec<(String, LogFormat)> {
        self.inner.files.iter().map(|f| (f.name.clone(), f.format())).collect()
    }

    /// Lines that did not fit their file's format (kept as plain records).
    pub fn unparsed_lines(&self) -> u64 {
        self.inner.files.iter().map(|f| f.unparsed()).sum()
    }

    /// Lines in the index (lines let go to stay within the memory budget are not).
    pub fn line_count(&self) -> usize {
        self.inner.files.iter().map(|f| f.live()).sum()
    }

    /// Sets this source's memory budget (bytes), over which the oldest lines are let go
    /// (default: [`default_max_memory`]).
    pub fn set_max_memory(&self, bytes: u64) {
        self.inner.budget.set_limit(bytes);
        self.inner.budget.enforce();
    }

    /// The memory the index, the text kept in memory and the stdin spool hold now (bytes).
    pub fn memory_used(&self) -> u64 {
        self.inner.budget.used()
    }

    /// What was let go to stay within the memory budget, if anything.
    pub fn memory_note(&self) -> Option<String> {
        self.inner.budget.note()
    }

    /// Waits until every input's initial load is indexed (stdin: until its end).
    pub async fn wait_indexed(&self) {
        while self.progress().is_some() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn start_follower(&self) {
        if !self.inner.follower_started.swap(true, Ordering::AcqRel) {
            follow::spawn(Arc::downgrade(&self.inner));
        }
    }

    fn indexing_note(&self) -> Option<String> {
        let p = self.progress()?;
        Some(match p.total {
            0 => "still reading input: results cover the lines read so far".to_string(),
            // The TUI shows this next to the live progress: say when the figure was true.
            t => format!("results cover the {}% indexed when the query ran", p.done.saturating_mul(100) / t.max(1)),
        })
    }
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}

fn snapshots(inner: &Inner, with_order: bool) -> Vec<FileSnap> {
    inner.files.iter().map(|f| f.snapshot(with_order)).collect()
}

/// Why an aggregation may not cover every line: indexing still running, or a file's own
/// problem (damaged gzip data, a file that shrank while open). Call after taking snapshots,
/// which notice a shrink.
fn partial_note(inner: &Inner, indexing: Option<String>) -> Option<String> {
    let mut notes: Vec<String> = indexing.into_iter().collect();
    notes.extend(inner.files.iter().filter_map(|f| f.error.lock().unwrap_or_else(|e| e.into_inner()).clone()));
    notes.extend(inner.budget.note());
    (!notes.is_empty()).then(|| notes.join("; "))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> SourceResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| SourceError::Io(format!("query task failed: {e}")))
}

/// Each role from the first file that has it.
fn merged_roles(files: &[Arc<FileStore>]) -> FieldRoles {
    files.iter().fold(FieldRoles::default(), |found, f| f.roles().overridden_by(found))
}

fn kind_of(name: &str, value: &Value) -> FieldKind {
    match value {
        Value::Int(_) | Value::Float(_) => FieldKind::Number,
        Value::Bool(_) => FieldKind::Boolean,
        Value::Object(_) => FieldKind::Other,
        _ if name == "@timestamp" => FieldKind::Date,
        _ if name == "message" => FieldKind::Text,
        _ => FieldKind::Keyword,
    }
}

#[async_trait]
impl Source for LocalSource {
    fn info(&self) -> SourceInfo {
        let files = &self.inner.files;
        let mut default_columns = files.first().map(|f| f.default_columns()).unwrap_or_default();
        if files.len() > 1 {
            default_columns.insert(0, "file".into());
        }
        SourceInfo {
            kind: "local",
            description: self.inner.description.clone(),
            roles: merged_roles(files),
            default_columns,
            is_remote: false,
            // Kept on the status line: the view no longer has the oldest lines.
            warning: self.inner.budget.note(),
        }
    }

    fn progress(&self) -> Option<Progress> {
        let pending: Vec<&Arc<FileStore>> = self.inner.files.iter().filter(|f| !f.complete.load(Ordering::Acquire)).collect();
        if pending.is_empty() {
            return None;
        }
        let (done, total) = pending.iter().map(|f| store::progress_of(f)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        // Unknown total (stdin) makes the whole total unknown.
        let total = if pending.iter().any(|f| store::progress_of(f).1 == 0) { 0 } else { total };
        Some(Progress { done, total })
    }

    async fn time_span(&self) -> Option<TimeRange> {
        let spans: Vec<(Nanos, Nanos)> = self.inner.files.iter().filter_map(|f| f.span()).collect();
        let from = spans.iter().map(|s| s.0).min()?;
        let to = spans.iter().map(|s| s.1).max()?;
        Some(TimeRange::between(from, to.saturating_add(1)))
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        let filter = Filter::compile(&request.query)?;
        let inner = self.inner.clone();
        let note = self.indexing_note();
        blocking(move || {
            let snaps = snapshots(&inner, true);
            let (records, next) = query::page(&snaps, &filter, &request.range, request.cursor.as_ref(), request.limit)?;
            let lens: Vec<usize> = snaps.iter().map(|s| s.len).collect();
            // Lines let go change totals like a pop does.
            let pops: Vec<u64> = inner
                .files
                .iter()
                .zip(&snaps)
                .map(|(f, s)| f.popped.lock().unwrap_or_else(|e| e.into_inner()).1 ^ ((s.first as u64) << 32))
                .collect();
            // The same query over a grown index: count only the new lines.
            let base = {
                let cache = inner.total_cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.as_ref().and_then(|c| {
                    let reusable = c.query == request.query
                        && c.range == request.range
                        && c.pops == pops
                        && c.lens.len() == lens.len()
                        && c.lens.iter().zip(&lens).all(|(old, new)| old <= new);
                    reusable.then(|| (c.lens.clone(), c.total))
                })
            };
            let total = match base {
                Some((old_lens, old_total)) if old_lens == lens => old_total,
                Some((old_lens, old_total)) => old_total + query::count(&snaps, &filter, &request.range, &old_lens),
                None => query::count(&snaps, &filter, &request.range, &[]),
            };
            *inner.total_cache.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(TotalCache { query: request.query.clone(), range: request.range, lens, pops, total });
            let mut warnings: Vec<String> = inner.files.iter().filter_map(|f| store::unparsed_warning(f)).collect();
            warnings.extend(inner.files.iter().filter_map(|f| f.error.lock().unwrap_or_else(|e| e.into_inner()).clone()));
            warnings.extend(inner.budget.note());
            warnings.extend(note);
            Ok(SearchPage { records, total: Some(HitCount::Exact(total)), next, warnings })
        })
        .await?
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        let filter = Filter::compile(&request.query)?;
        let inner = self.inner.clone();
        let note = self.indexing_note();
        blocking(move || {
            let snaps = snapshots(&inner, false);
            let mut result = query::top(&snaps, &filter, &request.range, &request.field, request.size);
            let note = partial_note(&inner, note);
            if note.is_some() {
                result.partial = true;
                result.note = note;
            }
            result
        })
        .await
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        let filter = Filter::compile(&request.query)?;
        let span = self.time_span().await;
        let from = request.range.from.or(span.and_then(|s| s.from));
        // A range open at the start is "all time" up to `to` (the TUI pins the end of a growing
        // file when a query runs): its grid is the data's span, never empty years before `to`.
        let to = match (request.range.to, span.and_then(|s| s.to)) {
            (Some(t), Some(end)) if request.range.from.is_none() => Some(t.min(end)),
            (t, end) => t.or(end),
        };
        let split_by = match &request.split {
            super::Split::None => None,
            super::Split::StatusClass => Some("status_class".to_string()),
            super::Split::Level => Some("level".to_string()),
            super::Split::Field(f) => Some(f.clone()),
        };
        let (Some(from), Some(to)) = (from, to) else {
            let interval = request.interval.unwrap_or(60 * logsleuth_core::time::NS_PER_SEC);
            return Ok(HistogramResult { interval, split_by, buckets: Vec::new(), partial: false, note: None, split_error_bound: None });
        };
        let to = to.max(from.saturating_add(1));
        let interval = match request.interval {
            Some(i) if i > 0 => i,
            Some(_) => return Err(SourceError::Query("the interval must be positive".into())),
            None => super::choose_interval(to - from, request.target_buckets),
        };
        let start = from.div_euclid(interval) * interval;
        let inner = self.inner.clone();
        let note = self.indexing_note();
        let range = request.range;
        let split = request.split.clone();
        let (buckets, note) = blocking(move || {
            let snaps = snapshots(&inner, false);
            let buckets = query::histogram(&snaps, &filter, &range, start, to, interval, &split);
            buckets.map(|b| (b, partial_note(&inner, note)))
        })
        .await??;
        Ok(HistogramResult { interval, split_by, buckets, partial: note.is_some(), note, split_error_bound: None })
    }

    async fn patterns(&self, request: crate::patterns::PatternsRequest) -> SourceResult<logsleuth_core::patterns::PatternsResult> {
        use logsleuth_core::patterns::{PatternMethod, PatternsResult};
        let filter = Filter::compile(&request.query)?;
        let span = self.time_span().await;
        let Some((_, _, grid)) = patterns::grid(&request.range, span, request.target_buckets) else {
            return Ok(PatternsResult { total: 0, exact: true, method: PatternMethod::Drain, patterns: Vec::new(), note: None });
        };
        let inner = self.inner.clone();
        let note = self.indexing_note();
        let range = request.range;
        blocking(move || {
            let snaps = snapshots(&inner, false);
            let (total, patterns) = patterns::mine(&snaps, &filter, &range, grid);
            let note = partial_note(&inner, note);
            let mut result = PatternsResult { total, exact: note.is_none(), method: PatternMethod::Drain, patterns, note };
            result.rank(request.size);
            result
        })
        .await
    }

    async fn fields(&self, range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        let inner = self.inner.clone();
        blocking(move || {
            let snaps = snapshots(&inner, true);
            let records = query::sample(&snaps, &range, 500);
            let ip_field = merged_roles(&inner.files).client_ip;
            let mut out: Vec<FieldInfo> = Vec::new();
            for r in &records {
                for name in r.field_names() {
                    if out.iter().any(|f| f.name == name) {
                        continue;
                    }
                    let value = r.get(&name).unwrap_or(Value::Null);
                    let origin = if r.labels.get_path(&name).is_some() { FieldOrigin::Label } else { FieldOrigin::Field };
                    let is_ip = ip_field.as_deref() == Some(name.as_str()) && matches!(value, Value::Str(_));
                    let kind = if is_ip { FieldKind::Ip } else { kind_of(&name, &value) };
                    out.push(FieldInfo { aggregatable: name != "message", name, kind, origin });
                }
            }
            out
        })
        .await
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        let inner = self.inner.clone();
        blocking(move || {
            let snaps = snapshots(&inner, true);
            let records = query::sample(&snaps, &range, 5000);
            query::value_counts(&records, &field).into_iter().take(limit).map(|(v, _)| v).collect()
        })
        .await
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        let RecordId::Line { file, line } = record.id else {
            return Err(SourceError::Unsupported("this record has no line position".into()));
        };
        let store = self
            .inner
            .files
            .iter()
            .find(|f| f.index == file)
            .cloned()
            .ok_or_else(|| SourceError::Unsupported("the record's file is not in this source".into()))?;
        blocking(move || {
            let snap = store.snapshot(false);
            // The file's line number to the snapshot's (lines let go are before it).
            let Some(line) = usize::try_from(line).ok().and_then(|l| l.checked_sub(snap.first)) else { return Vec::new() };
            if line >= snap.len {
                return Vec::new();
            }
            let from = line.saturating_sub(before);
            let to = line.saturating_add(after).saturating_add(1).min(snap.len);
            (from..to).map(|l| snap.record(l)).collect()
        })
        .await
    }

    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        let filter = Arc::new(Filter::compile(&request.query)?);
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| SourceError::Unsupported("live tail needs a tokio runtime".into()))?;
        // Subscribed before the follower starts and before this returns, so a truncation or
        // rotation noticed from now on is never missed by the tail.
        let start = TailStart::now(&self.inner);
        self.start_follower();
        // Parsed records waiting for a slow reader are memory: a few batches are enough to keep
        // the reader busy (the lines themselves wait in the index, not here).
        let (tx, rx) = mpsc::channel(8);
        let inner = self.inner.clone();
        handle.spawn(tail_task(inner, filter, request.since, tx, start));
        Ok(rx)
    }
}

/// Where a tail starts: its subscriptions and the lines already there.
struct TailStart {
    generation: tokio::sync::watch::Receiver<u64>,
    pops_seen: Vec<u64>,
    status: tokio::sync::broadcast::Receiver<String>,
    seen: Vec<usize>,
}

impl TailStart {
    fn now(inner: &Inner) -> TailStart {
        TailStart {
            generation: inner.notify.generation.subscribe(),
            pops_seen: inner.files.iter().map(|f| f.popped.lock().unwrap_or_else(|e| e.into_inner()).1).collect(),
            status: inner.notify.status.subscribe(),
            seen: inner.files.iter().map(|f| if f.stream.load(Ordering::Acquire) { 0 } else { f.len() }).collect(),
        }
    }
}

/// Sends new matching lines as they are indexed, oldest first, until the receiver is dropped
/// (or every input has ended, for stdin).
async fn tail_task(inner: Arc<Inner>, filter: Arc<Filter>, since: Option<Nanos>, tx: mpsc::Sender<TailEvent>, start: TailStart) {
    let TailStart { mut generation, mut pops_seen, mut status, mut seen } = start;
    // When a line whose file shrank under it was first met, and the follower's round then.
    let mut lost_since: Option<(std::time::Instant, u64)> = None;
    if let Some(since) = since {
        let (inner2, filter2) = (inner.clone(), filter.clone());
        let Ok((records, lens)) = blocking(move || {
            let snaps = snapshots(&inner2, true);
            let picks = query::since(&snaps, since, TAIL_BACKLOG);
            let records: Vec<Record> =
                picks.into_iter().map(|(i, line)| snaps[i].record(line)).filter(|r| filter2.matches(r)).collect();
            (records, snaps.iter().map(|s| s.first + s.len).collect::<Vec<_>>())
        })
        .await
        else {
            return;
        };
        seen = lens;
        for chunk in records.chunks(TAIL_BATCH) {
            if tx.send(TailEvent::Records(chunk.to_vec())).await.is_err() {
                return;
            }
        }
    }
    let what = if inner.files.len() == 1 { inner.description.clone() } else { format!("{} files", inner.files.len()) };
    if tx.send(TailEvent::Status(format!("following {what}"))).await.is_err() {
        return;
    }
    loop {
        // Statuses first: a truncation or rotation is announced before the lines after it.
        while let Ok(msg) = status.try_recv() {
            if tx.send(TailEvent::Status(msg)).await.is_err() {
                return;
            }
        }
        let (inner2, filter2, from, pops_from) = (inner.clone(), filter.clone(), seen.clone(), pops_seen.clone());
        // A line whose file was truncated under it may be read again from a copy once the
        // follower has handled the truncation: such lines wait for a follower round begun
        // after they were met (or, with no follower running, two seconds) before they are
        // sent as lost. A fixed short wait lost them when the machine was busy.
        let allow_lost = lost_since.is_some_and(|(t, round)| {
            inner.follow_rounds.1.load(Ordering::Acquire) > round || t.elapsed() > LOST_WAIT
        });
        let Ok((records, now_seen, now_pops, waiting, skipped)) = blocking(move || {
            let mut waiting = false;
            let mut skipped = 0usize;
            let mut records = Vec::new();
            let mut seen = from;
            let mut pops_seen = pops_from;
            let mut budget = TAIL_BATCH * 4;
            for (i, f) in inner2.files.iter().enumerate() {
                let snap = f.snapshot(false);
                // A final line without newline that was completed later is sent again.
                let (popped_to, pops) = *f.popped.lock().unwrap_or_else(|e| e.into_inner());
                if pops != pops_seen[i] {
                    pops_seen[i] = pops;
                    seen[i] = seen[i].min(popped_to);
                }
                // `seen` counts the file's lines (let-go ones included): the snapshot's line
                // `l` is the file's `snap.first + l`.
                let total = snap.first + snap.len;
                // Lines the memory budget let go before they were sent are not sent.
                skipped += snap.first.saturating_sub(seen[i]);
                seen[i] = seen[i].clamp(snap.first, total);
                let mut end = total.min(seen[i] + budget);
                if !allow_lost && let Some(l) = (seen[i]..end).find(|&l| snap.lost(l - snap.first)) {
                    end = l;
                    waiting = true;
                }
                let mut read: Vec<(usize, Record)> = (seen[i]..end).map(|l| (l, snap.record(l - snap.first))).collect();
                // A truncation between the snapshot and the read turned the lines it cut into
                // zeros: those lines wait, as lost ones do, for the follower to read them from
                // a copy (never sent as a line of NULs).
                snap.recheck();
                if !allow_lost {
                    if let Some(l) = (seen[i]..end).find(|&l| snap.lost(l - snap.first)) {
                        end = l;
                        waiting = true;
                    }
                } else {
                    for (l, r) in &mut read {
                        if snap.lost(*l - snap.first) {
                            *r = snap.record(*l - snap.first);
                        }
                    }
                }
                budget -= end - seen[i];
                records.extend(read.into_iter().take_while(|(l, _)| *l < end).map(|(_, r)| r).filter(|r| filter2.matches(r)));
                seen[i] = end;
            }
            (records, seen, pops_seen, waiting, skipped)
        })
        .await
        else {
            return;
        };
        pops_seen = now_pops;
        if skipped > 0
            && tx.send(TailEvent::Status(format!("{skipped} lines let go (memory budget) before they were sent"))).await.is_err()
        {
            return;
        }
        // A truncation or rotation announced while these lines were read goes before them
        // (the follower says it before adding the lines that follow it).
        while let Ok(msg) = status.try_recv() {
            if tx.send(TailEvent::Status(msg)).await.is_err() {
                return;
            }
        }
        let more = inner.files.iter().zip(&now_seen).any(|(f, s)| f.len() > *s);
        seen = now_seen;
        for chunk in records.chunks(TAIL_BATCH) {
            if tx.send(TailEvent::Records(chunk.to_vec())).await.is_err() {
                return;
            }
        }
        if waiting {
            lost_since.get_or_insert_with(|| (std::time::Instant::now(), inner.follow_rounds.0.load(Ordering::Acquire)));
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        lost_since = None;
        if more {
            continue;
        }
        let all_ended = inner.files.iter().zip(&seen).all(|(f, s)| f.ended.load(Ordering::Acquire) && f.complete.load(Ordering::Acquire) && f.len() <= *s);
        let followable = inner.files.iter().any(|f| f.path.is_some());
        if all_ended && !followable {
            let _ = tx.send(TailEvent::Status("end of input".into())).await;
            return;
        }
        tokio::select! {
            changed = generation.changed() => if changed.is_err() { return },
            msg = status.recv() => {
                if let Ok(msg) = msg && tx.send(TailEvent::Status(msg)).await.is_err() {
                    return;
                }
            }
            _ = tx.closed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests;
