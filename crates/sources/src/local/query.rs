//! Query evaluation over file snapshots: filters, newest-first paging across files, exact
//! top-N and histograms. CPU-bound: run from `spawn_blocking`, parallel with rayon.

use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;

use super::store::{FileSnap, NO_TS};
use logsleuth_formats as formats;
use logsleuth_kql as kql;
use logsleuth_core::model::{HistogramBucket, Nanos, Record, TimeRange, TopResult, Value};
use crate::{Cursor, Query, QueryLanguage, SourceError, SourceResult, Split};

/// Candidates evaluated per parallel batch while paging.
const PAGE_BATCH: usize = 4096;

/// A compiled filter.
pub(super) enum Filter {
    /// Matches everything (empty query).
    All,
    /// KQL, evaluated in memory.
    Kql(kql::Matcher),
    /// A regular expression on the raw line (the local source's native language).
    Regex(regex::Regex),
}

impl Filter {
    /// Compiles a query; syntax errors are [`SourceError::Query`].
    pub fn compile(query: &Query) -> SourceResult<Filter> {
        if query.is_empty() {
            return Ok(Filter::All);
        }
        match query.language {
            QueryLanguage::Kql => {
                let ast = kql::parse(&query.text).map_err(|e| SourceError::Query(e.message))?;
                let opts = kql::EvalOptions { now: logsleuth_core::time::now_nanos(), ..kql::EvalOptions::default() };
                Ok(Filter::Kql(kql::Matcher::new(&ast, &opts).map_err(|e| SourceError::Query(e.message))?))
            }
            QueryLanguage::Native => regex::Regex::new(&query.text)
                .map(Filter::Regex)
                .map_err(|e| SourceError::Query(format!("invalid regular expression: {e}"))),
        }
    }

    /// Whether the filter matches everything.
    pub fn is_all(&self) -> bool {
        matches!(self, Filter::All)
    }

    /// Whether a record matches.
    pub fn matches(&self, record: &Record) -> bool {
        match self {
            Filter::All => true,
            Filter::Kql(m) => m.matches(record),
            Filter::Regex(re) => re.is_match(&record.message),
        }
    }

    /// Whether a line matches, seen as [`Line::see`] gives it: KQL reads a scanned line's
    /// fields in place; the answer is the one [`Filter::matches`] gives on its record.
    pub fn matches_seen(&self, seen: &Seen<'_, '_>) -> bool {
        match (self, seen) {
            (Filter::All, _) => true,
            (Filter::Kql(m), Seen::Scanned(view)) => m.matches_line(view),
            (_, Seen::Scanned(view)) => self.matches(&view.line.record()),
            (_, Seen::Record(r, _)) => self.matches(r),
        }
    }

    /// Whether line `line` of a file matches.
    fn matches_at(&self, snap: &FileSnap, line: usize) -> bool {
        if self.is_all() {
            return true;
        }
        let ts = || snap.ts(line);
        self.matches_seen(&snap_line(snap, line, &ts).see())
    }
}

/// A line of a file, with what is needed to see it as its record: the file's format and name,
/// and the index time (its own, or the one it inherits from the lines before; [`NO_TS`]: none).
/// Shared by the indexed queries here and the one-shot scans (`scan.rs`). `'a`: the text;
/// `'t`: the index-time lookup.
#[derive(Clone, Copy)]
pub(super) struct Line<'a, 't> {
    /// The line without its line ending.
    pub bytes: &'a [u8],
    /// `bytes` as text, when already known to be UTF-8.
    pub text: Option<&'a str>,
    pub format: formats::LogFormat,
    pub opts: &'a formats::ParseOptions,
    /// The `file` label.
    pub file: &'a str,
    /// The record's labels (the `file` label, shared).
    pub labels: &'a std::sync::Arc<logsleuth_core::model::Fields>,
    pub file_index: u32,
    /// Position in the file.
    pub number: u64,
    pub index_ts: &'t dyn Fn() -> Nanos,
}

pub(super) fn snap_line<'a, 't>(snap: &'a FileSnap, line: usize, index_ts: &'t dyn Fn() -> Nanos) -> Line<'a, 't> {
    Line {
        bytes: snap.bytes(line),
        text: None,
        format: snap.store.format(),
        opts: &snap.store.opts,
        file: &snap.store.name,
        labels: &snap.store.labels,
        file_index: snap.store.index,
        number: (snap.first + line) as u64,
        index_ts,
    }
}

impl<'a, 't> Line<'a, 't> {
    /// Scans the line where its format allows (no allocation), else parses its record.
    pub fn see(&self) -> Seen<'a, 't> {
        let text = self.text.or_else(|| simdutf8::basic::from_utf8(self.bytes).ok());
        match text.and_then(|t| formats::scan_line(self.format, t).map(|scanned| (t, scanned))) {
            Some((text, scanned)) => Seen::Scanned(LineView { text: formats::trim_eol(text), scanned, line: *self }),
            None => {
                let (record, fits) = self.parse();
                Seen::Record(record, fits)
            }
        }
    }

    /// The line's record, as the file's index gives it ([`FileSnap::record`]).
    pub fn record(&self) -> Record {
        self.parse().0
    }

    /// The line's record, and whether the line fits the format.
    fn parse(&self) -> (Record, bool) {
        let text = match self.text {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => String::from_utf8_lossy(self.bytes),
        };
        let (mut record, fits) = formats::parse_or_plain(self.format, &text, self.opts);
        if record.timestamp.is_none() {
            let ts = (self.index_ts)();
            // Lines without a time (stack traces) take the previous line's, as they are sorted.
            record.timestamp = (ts != NO_TS).then_some(ts);
        }
        record.labels = self.labels.clone();
        record.id = logsleuth_core::model::RecordId::Line { file: self.file_index, line: self.number };
        (record, fits)
    }
}

/// A line as a query sees it.
pub(super) enum Seen<'a, 't> {
    /// Scanned in place: fields are read from the text.
    Scanned(LineView<'a, 't>),
    /// Parsed into its record (no shortcut for the format, a line that does not fit, or not
    /// UTF-8), and whether the line fits the format.
    Record(Record, bool),
}

/// A value of a line's field, for counting.
pub(super) enum Counted<'a> {
    /// Read in place from the text (or the file name).
    Borrowed(formats::FieldRef<'a>),
    /// Taken from the line's record ([`Value::as_text`]).
    Text(String),
}

impl<'a> Seen<'a, '_> {
    /// Calls `f` with the values of `field` as [`Record::get`] gives them (arrays flattened):
    /// read in place where the line was scanned and the format has the field.
    pub fn field_values(&self, field: &str, f: &mut dyn FnMut(Counted<'a>)) {
        let from_record = |r: &Record, f: &mut dyn FnMut(Counted<'a>)| {
            if let Some(v) = r.get(field) {
                let mut texts = Vec::new();
                value_texts(v, &mut texts);
                texts.into_iter().for_each(|t| f(Counted::Text(t)));
            }
        };
        match self {
            Seen::Scanned(view) => match view.scanned.field(field) {
                Some(Some(v)) => f(Counted::Borrowed(v)),
                Some(None) => {}
                None if field == "file" => f(Counted::Borrowed(formats::FieldRef::Str(view.line.file))),
                // `message`, `@timestamp`, names the format does not have: ask the record.
                None => from_record(&view.line.record(), f),
            },
            Seen::Record(r, _) => from_record(r, f),
        }
    }

    /// The line's own time, or for a record the time it was given (own, else inherited).
    pub fn timestamp(&self) -> Option<Nanos> {
        match self {
            Seen::Scanned(view) => view.scanned.timestamp(),
            Seen::Record(r, _) => r.timestamp,
        }
    }

    /// Whether the line fits its file's format.
    pub fn fits(&self) -> bool {
        match self {
            Seen::Scanned(_) => true,
            Seen::Record(_, fits) => *fits,
        }
    }
}

/// A scanned line seen as its record: the format's fields, the `file` label, the message and
/// the time (its own, else the index's).
pub(super) struct LineView<'a, 't> {
    text: &'a str,
    scanned: formats::ScannedLine<'a>,
    line: Line<'a, 't>,
}

fn line_value(v: formats::FieldRef<'_>) -> kql::LineValue<'_> {
    match v {
        formats::FieldRef::Str(s) => kql::LineValue::Str(s),
        formats::FieldRef::Int(i) => kql::LineValue::Int(i),
    }
}

impl kql::LineFields for LineView<'_, '_> {
    fn message(&self) -> &str {
        self.text
    }

    fn get(&self, name: &str) -> Option<kql::LineValue<'_>> {
        match self.scanned.field(name) {
            Some(v) => v.map(line_value),
            None if name == "file" => Some(kql::LineValue::Str(self.line.file)),
            None => None,
        }
    }

    fn any_field(&self, f: &mut dyn FnMut(&str, kql::LineValue<'_>) -> bool) -> bool {
        self.scanned.fields().any(|(name, v)| f(name, line_value(v))) || f("file", kql::LineValue::Str(self.line.file))
    }

    fn timestamp(&self) -> Option<Nanos> {
        self.scanned.timestamp().or_else(|| {
            let ts = (self.line.index_ts)();
            (ts != NO_TS).then_some(ts)
        })
    }
}

/// Sort key of a line across files: time, then file, then line.
type Key = (Nanos, u32, u64);

/// Encodes a paging cursor.
fn encode_cursor(key: Key) -> Cursor {
    Cursor(format!("{}:{}:{}", key.0, key.1, key.2))
}

fn decode_cursor(c: &Cursor) -> SourceResult<Key> {
    let mut parts = c.0.split(':');
    let bad = || SourceError::Query(format!("invalid cursor '{}'", c.0));
    let ts = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let file = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let line = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((ts, file, line))
}

/// Positions `[lo, hi)` of a file's time order inside `range` and before `cursor`.
fn bounds(snap: &FileSnap, range: &TimeRange, cursor: Option<Key>) -> (usize, usize) {
    let lo = match range.from {
        Some(from) => snap.partition(|ts, _| ts < from),
        None => 0,
    };
    let mut hi = match range.to {
        Some(to) => snap.partition(|ts, _| ts < to),
        None => snap.len,
    };
    if let Some(key) = cursor {
        let file = snap.store.index;
        hi = hi.min(snap.partition(|ts, line| (ts, file, line as u64) < key));
    }
    (lo, hi.max(lo))
}

/// Whether a line's index time lies in the range (lines with no time only in an open range).
pub(super) fn in_range(ts: Nanos, range: &TimeRange) -> bool {
    if ts == NO_TS {
        return range.from.is_none();
    }
    range.contains(ts)
}

/// One page, newest first, plus whether more may follow.
pub(super) fn page(
    snaps: &[FileSnap],
    filter: &Filter,
    range: &TimeRange,
    cursor: Option<&Cursor>,
    limit: usize,
) -> SourceResult<(Vec<Record>, Option<Cursor>)> {
    let cursor = cursor.map(decode_cursor).transpose()?;
    let mut heap: BinaryHeap<(Key, usize, usize)> = BinaryHeap::new();
    let mut lows = Vec::with_capacity(snaps.len());
    for (i, snap) in snaps.iter().enumerate() {
        let (lo, hi) = bounds(snap, range, cursor);
        lows.push(lo);
        if hi > lo {
            let line = snap.at(hi - 1);
            heap.push(((snap.ts(line), snap.store.index, line as u64), i, hi - 1));
        }
    }
    let mut out: Vec<Record> = Vec::new();
    let mut candidates: Vec<(usize, usize)> = Vec::with_capacity(PAGE_BATCH);
    while out.len() < limit && !heap.is_empty() {
        candidates.clear();
        // Small first batches make the first screen quick; then larger ones for throughput.
        let batch = if filter.is_all() { limit - out.len() } else { PAGE_BATCH.min(64 << out.len().min(6)) };
        while candidates.len() < batch {
            let Some((_, i, k)) = heap.pop() else { break };
            let snap = &snaps[i];
            candidates.push((i, snap.at(k)));
            if k > lows[i] {
                let line = snap.at(k - 1);
                heap.push(((snap.ts(line), snap.store.index, line as u64), i, k - 1));
            }
        }
        let matched: Vec<Option<Record>> = candidates
            .par_iter()
            .map(|&(i, line)| filter.matches_at(&snaps[i], line).then(|| snaps[i].record(line)))
            .collect();
        for (pos, r) in matched.into_iter().enumerate() {
            if let Some(r) = r {
                out.push(r);
                if out.len() == limit {
                    // Continue after this record: put the unused candidates back by cursor.
                    let (i, line) = candidates[pos];
                    let snap = &snaps[i];
                    let key = (snap.ts(line), snap.store.index, line as u64);
                    return Ok((out, Some(encode_cursor(key))));
                }
            }
        }
    }
    Ok((out, None))
}

/// Exact number of matching lines in the range, from line `from[i]` of each file on (all
/// lines when `from` is empty): a total can be extended as lines are appended.
pub(super) fn count(snaps: &[FileSnap], filter: &Filter, range: &TimeRange, from: &[usize]) -> u64 {
    snaps
        .iter()
        .enumerate()
        .map(|(i, snap)| {
            let start = from.get(i).copied().unwrap_or(0).min(snap.len);
            if filter.is_all() {
                return (start..snap.len).into_par_iter().filter(|&l| in_range(snap.ts(l), range)).count() as u64;
            }
            (start..snap.len)
                .into_par_iter()
                .filter(|&l| in_range(snap.ts(l), range) && filter.matches_at(snap, l))
                .count() as u64
        })
        .sum()
}

/// Calls `f` on every matching line of a file in the range, seen in place where its format
/// allows, with its record's time; in parallel, folding per-thread states.
fn fold_matching<T, F, M>(snap: &FileSnap, filter: &Filter, range: &TimeRange, init: impl Fn() -> T + Sync + Send, f: F, merge: M) -> T
where
    T: Send,
    F: Fn(&mut T, Option<Nanos>, &Seen<'_, '_>) + Sync + Send,
    M: Fn(T, T) -> T + Sync + Send,
{
    (0..snap.len)
        .into_par_iter()
        // Large pieces: each folds into a state of its own, merged after.
        .with_min_len(16 * 1024)
        .fold(&init, |mut state, line| {
            let index_ts = snap.ts(line);
            if in_range(index_ts, range) {
                let inherited = || index_ts;
                let seen = snap_line(snap, line, &inherited).see();
                if filter.matches_seen(&seen) {
                    // The record's time: its own, else the one it inherits.
                    let time = seen.timestamp().or((index_ts != NO_TS).then_some(index_ts));
                    f(&mut state, time, &seen);
                }
            }
            state
        })
        .reduce(&init, &merge)
}

fn value_texts(v: Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.into_iter().for_each(|i| value_texts(i, out)),
        other => out.push(other.as_text()),
    }
}

fn merge_counts(mut a: HashMap<String, u64>, b: HashMap<String, u64>) -> HashMap<String, u64> {
    if a.len() < b.len() {
        return merge_counts(b, a);
    }
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

/// Integers below this are counted by value in an array ([`FastCounts::small`]): status codes,
/// the field counted most, are then counted without hashing.
const SMALL_INTS: usize = 1024;

/// Counts of one file: values borrowed from its lines, and texts of lines parsed in full.
#[derive(Default)]
pub(super) struct FastCounts<'a> {
    /// Matching lines.
    pub total: u64,
    /// Counts of the integers `0..SMALL_INTS`, by value (empty until one is counted).
    small: Vec<u64>,
    /// Other values read in place, under borrowed keys.
    borrowed: HashMap<formats::FieldRef<'a>, u64, foldhash::fast::RandomState>,
    /// Values of lines parsed in full.
    texts: HashMap<String, u64>,
}

impl<'a> FastCounts<'a> {
    /// One matching line whose field has integer `value`.
    #[inline]
    pub(super) fn add_int(&mut self, value: i64) {
        self.total += 1;
        self.add(formats::FieldRef::Int(value));
    }

    #[inline]
    fn add(&mut self, value: formats::FieldRef<'a>) {
        match value {
            formats::FieldRef::Int(i) if (0..SMALL_INTS as i64).contains(&i) => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL_INTS];
                }
                self.small[i as usize] += 1;
            }
            other => *self.borrowed.entry(other).or_default() += 1,
        }
    }
}

/// Adds one line to top counts (when it matches): a scanned line's field is counted under a
/// borrowed key (no record, no allocation); other lines through their record.
pub(super) fn count_line<'a>(counts: &mut FastCounts<'a>, filter: &Filter, line: &Line<'a, '_>, field: &str) {
    count_seen(counts, filter, &line.see(), field);
}

/// [`count_line`] for a line already seen.
pub(super) fn count_seen<'a>(counts: &mut FastCounts<'a>, filter: &Filter, seen: &Seen<'a, '_>, field: &str) {
    if !filter.matches_seen(seen) {
        return;
    }
    counts.total += 1;
    seen.field_values(field, &mut |v| match v {
        Counted::Borrowed(v) => counts.add(v),
        Counted::Text(text) => *counts.texts.entry(text).or_default() += 1,
    });
}

/// Merges per-thread top counts.
pub(super) fn merge_fast<'a>(a: FastCounts<'a>, b: FastCounts<'a>) -> FastCounts<'a> {
    if a.borrowed.len() < b.borrowed.len() {
        return merge_fast(b, a);
    }
    let mut a = a;
    for (k, v) in b.borrowed {
        *a.borrowed.entry(k).or_default() += v;
    }
    if a.small.is_empty() {
        a.small = b.small;
    } else if !b.small.is_empty() {
        a.small.iter_mut().zip(&b.small).for_each(|(x, y)| *x += y);
    }
    FastCounts { total: a.total + b.total, small: a.small, borrowed: a.borrowed, texts: merge_counts(a.texts, b.texts) }
}

/// Adds one file's counts (keyed by text) to `counts`.
pub(super) fn add_counts(counts: HashMap<String, u64>, part: FastCounts<'_>) -> (u64, HashMap<String, u64>) {
    let mut counts = counts;
    for (k, v) in part.borrowed {
        *counts.entry(k.to_text()).or_default() += v;
    }
    for (i, v) in part.small.into_iter().enumerate().filter(|(_, v)| *v > 0) {
        // The text an `Int` value has (`FieldRef::to_text`).
        *counts.entry(i.to_string()).or_default() += v;
    }
    (part.total, merge_counts(counts, part.texts))
}

/// Top counts: each matching line's field is read straight from its text where the format
/// allows and counted under borrowed keys; other lines are parsed in full. The same answer as
/// counting records, several times faster.
fn top_counts(snaps: &[FileSnap], filter: &Filter, range: &TimeRange, field: &str) -> (u64, HashMap<String, u64>) {
    let mut total = 0;
    let mut counts: HashMap<String, u64> = HashMap::new();
    for snap in snaps {
        let part: FastCounts<'_> = (0..snap.len)
            .into_par_iter()
            // Large pieces: every piece folds into maps of its own that are merged after.
            .with_min_len(16 * 1024)
            .fold(
                FastCounts::default,
                |mut acc, line| {
                    if in_range(snap.ts(line), range) {
                        let ts = || snap.ts(line);
                        count_line(&mut acc, filter, &snap_line(snap, line, &ts), field);
                    }
                    acc
                },
            )
            .reduce(FastCounts::default, merge_fast);
        let (t, c) = add_counts(std::mem::take(&mut counts), part);
        total += t;
        counts = c;
    }
    (total, counts)
}

/// Exact top values of a field.
pub(super) fn top(snaps: &[FileSnap], filter: &Filter, range: &TimeRange, field: &str, size: usize) -> TopResult {
    let (total, counts) = top_counts(snaps, filter, range, field);
    top_result(field, total, counts, size)
}

/// The result of exact counts: the `size` most frequent values, the rest summed as `other`.
pub(super) fn top_result(field: &str, total: u64, counts: HashMap<String, u64>, size: usize) -> TopResult {
    // Every value was counted: the distinct count comes for free.
    let distinct = Some(counts.len() as u64);
    let (buckets, other) = logsleuth_core::agg::top_n(counts, size);
    TopResult { field: field.to_string(), total, other, buckets, error_bound: None, partial: false, note: None, distinct, distinct_estimated: false }
}

/// The field a split reads in a file: the status or level role, or the named field.
fn split_field(split: &Split, snap: &FileSnap) -> Option<String> {
    match split {
        Split::None => None,
        Split::StatusClass => snap.store.roles().status,
        Split::Level => snap.store.roles().level,
        Split::Field(name) => Some(name.clone()),
    }
}

/// The split key of a line: its `field` (the file's [`split_field`]) read in place where the
/// format has it, else from its record.
fn split_key(split: &Split, field: Option<&str>, seen: &Seen<'_, '_>) -> Option<String> {
    let field = field?;
    let value = match seen {
        Seen::Scanned(view) => match view.scanned.field(field) {
            Some(Some(v)) => v.to_value(),
            Some(None) => return None,
            None => view.line.record().get(field)?,
        },
        Seen::Record(r, _) => r.get(field)?,
    };
    // A numeric status goes straight to its class (the same key as its text would give),
    // without formatting the number on every line.
    if matches!(split, Split::StatusClass) {
        match value {
            Value::Int(code) => return Some(logsleuth_core::agg::status_key_of(code as f64)),
            Value::Float(code) => return Some(logsleuth_core::agg::status_key_of(code)),
            _ => {}
        }
    }
    // The value as text (an array's first value), then the shared rule: the same key Loki and
    // Elasticsearch give the same text.
    let text = match value {
        Value::Str(text) => text,
        other => {
            let mut texts = Vec::new();
            value_texts(other, &mut texts);
            texts.into_iter().next()?
        }
    };
    split.key(Some(&text))
}

/// Histogram buckets of `interval` from `start` (aligned) over `[start, end)`.
pub(super) fn histogram(
    snaps: &[FileSnap],
    filter: &Filter,
    range: &TimeRange,
    start: Nanos,
    end: Nanos,
    interval: Nanos,
    split: &Split,
) -> SourceResult<Vec<HistogramBucket>> {
    let n = logsleuth_core::agg::bucket_count(start, end, interval)?;
    type Acc = (Vec<u64>, HashMap<(usize, String), u64>);
    let init = || (vec![0u64; n], HashMap::new());
    let merge = |(mut c1, mut s1): Acc, (c2, s2): Acc| {
        c1.iter_mut().zip(c2).for_each(|(a, b)| *a += b);
        for (k, v) in s2 {
            *s1.entry(k).or_default() += v;
        }
        (c1, s1)
    };
    let mut acc: Acc = init();
    for snap in snaps {
        // The file's split field, found once (not once a line).
        let field = split_field(split, snap);
        let part = fold_matching(
            snap,
            filter,
            range,
            init,
            |(counts, splits): &mut Acc, time, seen| {
                let Some(ts) = time else { return };
                if ts < start || ts >= end {
                    return;
                }
                let b = ((ts - start) / interval) as usize;
                if b >= n {
                    return;
                }
                counts[b] += 1;
                if let Some(key) = split_key(split, field.as_deref(), seen) {
                    *splits.entry((b, key)).or_default() += 1;
                }
            },
            merge,
        );
        acc = merge(acc, part);
    }
    let (counts, splits) = acc;
    let mut buckets: Vec<HistogramBucket> = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| HistogramBucket { start: start + i as Nanos * interval, count, split: Default::default() })
        .collect();
    for ((b, key), v) in splits {
        *buckets[b].split.entry(key).or_default() += v;
    }
    // The most frequent series are kept; the rest become `other` (the rule every backend shares).
    logsleuth_core::agg::fold_other(&mut buckets, logsleuth_core::agg::SPLIT_SERIES);
    Ok(buckets)
}

/// Lines spread evenly over the range of each file (for field lists and value suggestions),
/// newest files' lines first, at most `per_file` a file.
pub(super) fn sample(snaps: &[FileSnap], range: &TimeRange, per_file: usize) -> Vec<Record> {
    let mut out = Vec::new();
    for snap in snaps {
        let (lo, hi) = bounds(snap, range, None);
        let n = hi - lo;
        if n == 0 {
            continue;
        }
        let step = n.div_ceil(per_file.max(1)).max(1);
        let picks: Vec<usize> = (lo..hi).rev().step_by(step).map(|k| snap.at(k)).collect();
        out.extend(picks.into_par_iter().map(|line| snap.record(line)).collect::<Vec<_>>());
    }
    out
}

/// Ranks the texts of `field` among records.
pub(super) fn value_counts(records: &[Record], field: &str) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for r in records {
        if let Some(v) = r.get(field) {
            let mut texts = Vec::new();
            value_texts(v, &mut texts);
            for t in texts {
                *counts.entry(t).or_default() += 1;
            }
        }
    }
    logsleuth_core::agg::rank_counts(counts)
}

/// For tails: lines at or after `since`, oldest first, the most recent `max`.
pub(super) fn since(snaps: &[FileSnap], since: Nanos, max: usize) -> Vec<(usize, usize)> {
    let mut keys: Vec<(Key, usize, usize)> = Vec::new();
    for (i, snap) in snaps.iter().enumerate() {
        let lo = snap.partition(|ts, _| ts < since);
        let lo = lo.max(snap.len.saturating_sub(max));
        for k in lo..snap.len {
            let line = snap.at(k);
            keys.push(((snap.ts(line), snap.store.index, line as u64), i, line));
        }
    }
    keys.sort_unstable();
    let skip = keys.len().saturating_sub(max);
    keys.into_iter().skip(skip).map(|(_, i, line)| (i, line)).collect()
}
