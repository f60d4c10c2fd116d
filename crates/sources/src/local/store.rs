//! The raw text of one file and its compact line index.
//!
//! Text lives in immutable segments (a memory map of a large file, or owned buffers for small
//! files, gzip, stdin and appended data); lines never cross segments. The index keeps, per
//! line, its start (in a virtual byte space spanning the segments), its length and its
//! timestamp: 16 bytes a line, in chunks of 64 Ki lines shared by `Arc` so that a query works
//! on a consistent snapshot while the indexer keeps appending. Lines are parsed on demand.
//!
//! A mapped file can shrink while open (`copytruncate`, `> file`): the map is guarded (see
//! [`mapped`]) so reading past the new end gives zeros instead of SIGBUS, and every snapshot
//! re-checks the file's length so lines past it are reported lost rather than read.

mod mapped;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use rayon::prelude::*;

use logsleuth_formats::{self as formats, LogFormat, ParseOptions};
use logsleuth_core::model::{Fields, Nanos, Record, RecordId, Value};
use crate::FieldRoles;

/// Timestamp stored for lines before the first line that has one.
pub(super) const NO_TS: Nanos = i64::MIN;

/// Members that hold the message of a structured line (JSON, logfmt), in order of preference:
/// the common loggers' (`msg`: pino, bunyan, zap, logrus; `message`: winston, ECS, Serilog's
/// compact form `@m`; `@message`: logstash, CloudWatch; `short_message`: GELF).
const MESSAGE_KEYS: [&str; 9] = ["msg", "message", "@message", "@m", "short_message", "log", "event", "text", "body"];

/// Lines per index chunk.
const CHUNK_LINES: usize = 1 << 16;

pub(super) use mapped::GuardedMap;

/// Bytes of one segment.
pub(super) enum Bytes {
    /// A read-only memory map of a whole file, guarded against the file shrinking.
    Mapped(GuardedMap),
    /// An owned buffer.
    Owned(Vec<u8>),
    /// A guarded map of a window of a file that grows (a followed file, the stdin spool),
    /// from file offset `file_offset`; only its first `filled` bytes are indexed and read.
    Window {
        map: GuardedMap,
        file_offset: u64,
        /// Released (hole punched) when the segment goes: a spool file's front.
        spool: bool,
    },
}

impl Bytes {
    /// The bytes (of a mapped file that shrank, the pages past its end read as zeros).
    pub(super) fn data(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m.bytes(),
            Bytes::Owned(v) => v,
            Bytes::Window { map, .. } => map.bytes(),
        }
    }
}

/// An immutable run of complete lines.
pub(super) struct Segment {
    /// Virtual offset of the first byte.
    base: u64,
    bytes: Bytes,
    /// How much of the segment may be read: all of it, until a mapped file shrinks.
    readable: AtomicUsize,
    /// How much of the segment holds indexed lines (a window grows; others are full).
    filled: AtomicUsize,
    /// Of a spool window: the front given back already.
    released: AtomicUsize,
}

impl Drop for Segment {
    fn drop(&mut self) {
        // A spool window that goes gives its disk (or tmpfs memory) back.
        if let Bytes::Window { map, file_offset, spool: true } = &self.bytes {
            let from = self.released.load(Ordering::Acquire);
            let to = self.filled.load(Ordering::Acquire);
            map.release(*file_offset + from as u64, to.saturating_sub(from) as u64);
        }
    }
}

impl Segment {
    fn full(&self) -> &[u8] {
        let data = self.bytes.data();
        &data[..self.filled.load(Ordering::Acquire).min(data.len())]
    }

    /// For a window: the file offset of its first byte.
    pub(super) fn file_offset(&self) -> Option<u64> {
        match &self.bytes {
            Bytes::Window { file_offset, .. } => Some(*file_offset),
            _ => None,
        }
    }

    /// The bytes a window can hold.
    pub(super) fn capacity(&self) -> usize {
        self.bytes.data().len()
    }

    /// A window's indexed part grows to `len` bytes.
    pub(super) fn fill_to(&self, len: usize) {
        self.filled.fetch_max(len.min(self.bytes.data().len()), Ordering::AcqRel);
    }

    /// The window's file was truncated: its bytes are no longer what was indexed.
    pub(super) fn mark_lost(&self) {
        self.readable.store(0, Ordering::Release);
    }

    /// Bytes this segment holds in memory (owned buffers; a spool window's file may be in
    /// tmpfs, so it counts too, less its released front).
    pub(super) fn memory(&self) -> usize {
        match &self.bytes {
            Bytes::Owned(v) => v.capacity(),
            Bytes::Window { spool: true, .. } => {
                self.filled.load(Ordering::Acquire).saturating_sub(self.released.load(Ordering::Acquire))
            }
            _ => 0,
        }
    }

    /// Whether this is a window on the stdin spool.
    fn is_spool(&self) -> bool {
        matches!(self.bytes, Bytes::Window { spool: true, .. })
    }

    /// Of a spool window: gives back the whole pages before byte `to` (lines let go).
    fn release_before(&self, to: usize) {
        let Bytes::Window { map, file_offset, spool: true } = &self.bytes else { return };
        let to = to.min(self.filled.load(Ordering::Acquire));
        // Whole pages of the file only (a hole reads as zeros).
        let end = ((file_offset + to as u64) & !4095).saturating_sub(*file_offset) as usize;
        let from = self.released.fetch_max(end, Ordering::AcqRel);
        if end > from {
            map.release(file_offset + from as u64, (end - from) as u64);
        }
    }

    /// The readable bytes: a mapped file that shrank is cut at its new end.
    pub(super) fn data(&self) -> &[u8] {
        let full = self.full();
        &full[..self.readable.load(Ordering::Acquire).min(full.len())]
    }

    /// The length of the segment as it was stored.
    pub(super) fn stored_len(&self) -> usize {
        self.full().len()
    }

    /// Whether a mapped file shrank below this segment's end.
    pub(super) fn shrunk(&self) -> bool {
        self.readable.load(Ordering::Acquire) < self.stored_len()
    }

    /// For a mapped file, compares the file's current length with what is readable; when
    /// the file shrank (or vanished from under its handle), lowers the readable part to the
    /// new length and returns it. A file that grows back never makes old offsets readable
    /// again: what is there now is not what was indexed.
    pub(super) fn check_shrink(&self) -> Option<usize> {
        let (map, from) = match &self.bytes {
            Bytes::Mapped(map) => (map, 0),
            Bytes::Window { map, file_offset, .. } => (map, *file_offset),
            Bytes::Owned(_) => return None,
        };
        // What was indexed is read before the file's length: a window's indexed part grows
        // (in the follower's thread) only with bytes already in the file, so a length taken
        // after it is below it only when the file really shrank. The other order lets a
        // window that grew between the two reads look shrunk, and its newest lines lost.
        let stored = self.stored_len();
        // fstat on an open descriptor does not fail in practice; if it does, assume no change.
        let len = usize::try_from(map.file_len().ok()?.saturating_sub(from)).unwrap_or(usize::MAX);
        // Only a shrink below what was indexed counts (a window keeps growing past what the
        // file had when it was last looked at).
        if len >= stored {
            return None;
        }
        let before = self.readable.fetch_min(len, Ordering::AcqRel);
        (len < before.min(stored)).then_some(len)
    }
}

/// One chunk of the line index (struct of arrays keeps it at 16 bytes a line: a 32-bit start
/// from the chunk's base, a 32-bit length, a 64-bit timestamp).
///
/// Room for all [`CHUNK_LINES`] lines is allocated with the chunk, and lines are only ever
/// written past the end every snapshot sees (under the file's write lock; a snapshot reads only
/// the lines counted when it was taken, under the read lock, which orders the writes before
/// it). So a snapshot never makes the writer copy the chunk: copy-on-write of the last chunk,
/// once per tail poll, was most of the allocation churn of a followed file (issue 21).
///
/// The arrays live in a map of their own (anonymous memory, 1 MiB a chunk), not on the heap:
/// a chunk let go gives its memory back to the system at once, where the allocator kept the
/// pages of freed chunks for a while and the process's private memory stayed well above its
/// live heap (issue 21: 182 MiB for 118 MiB live while following a file at full rate).
struct Chunk {
    /// The virtual offset `rel` counts from: the chunk's first start.
    base: u64,
    /// `rel`, then `lens` (32-bit), then `ts` (64-bit), [`CHUNK_LINES`] each, zeroed.
    arrays: ChunkArrays,
    /// All the starts in full once one does not fit 32 bits from `base` (a chunk whose lines
    /// span windows more than 4 GiB apart in the virtual byte space: a window reserves 1 GiB,
    /// so only after several rotations within 65,536 lines). Set once, the earlier starts
    /// copied in first.
    wide: OnceLock<Box<[AtomicU64]>>,
}

/// The memory of a chunk's arrays: a map, or (when no map can be made) the heap.
enum ChunkArrays {
    Mapped(memmap2::MmapRaw),
    Heap(Box<[AtomicU64]>),
}

impl ChunkArrays {
    const BYTES: usize = CHUNK_LINES * 16;

    fn new() -> ChunkArrays {
        match memmap2::MmapOptions::new().len(Self::BYTES).map_anon() {
            Ok(map) => ChunkArrays::Mapped(map.into()),
            Err(_) => ChunkArrays::Heap((0..Self::BYTES / 8).map(|_| AtomicU64::new(0)).collect()),
        }
    }

    fn ptr(&self) -> *const u8 {
        match self {
            ChunkArrays::Mapped(map) => map.as_mut_ptr().cast_const(),
            ChunkArrays::Heap(words) => words.as_ptr().cast(),
        }
    }
}

impl Chunk {
    /// An empty chunk whose first line starts at `base`.
    fn new(base: u64) -> Chunk {
        Chunk { base, arrays: ChunkArrays::new(), wide: OnceLock::new() }
    }

    /// Starts as offsets from `base`, while every one fits in 32 bits.
    fn rel(&self) -> &[AtomicU32] {
        // SAFETY: the arrays are BYTES long, page- (or 8-) aligned, zeroed, live as long as
        // `self`, and are only ever accessed through these atomics; the map's pointer is the
        // raw one of the mapping, valid for writes.
        unsafe { std::slice::from_raw_parts(self.arrays.ptr().cast::<AtomicU32>(), CHUNK_LINES) }
    }

    fn lens(&self) -> &[AtomicU32] {
        // SAFETY: as in `rel`, the second quarter of the arrays.
        unsafe { std::slice::from_raw_parts(self.arrays.ptr().add(CHUNK_LINES * 4).cast::<AtomicU32>(), CHUNK_LINES) }
    }

    fn ts_array(&self) -> &[AtomicI64] {
        // SAFETY: as in `rel`, the second half of the arrays (8-aligned: CHUNK_LINES * 8 from
        // an aligned start).
        unsafe { std::slice::from_raw_parts(self.arrays.ptr().add(CHUNK_LINES * 8).cast::<AtomicI64>(), CHUNK_LINES) }
    }

    /// The start of line `i`.
    fn start(&self, i: usize) -> u64 {
        match self.wide.get() {
            Some(wide) => wide[i].load(Ordering::Relaxed),
            None => self.base + u64::from(self.rel()[i].load(Ordering::Relaxed)),
        }
    }

    fn len(&self, i: usize) -> u32 {
        self.lens()[i].load(Ordering::Relaxed)
    }

    fn ts(&self, i: usize) -> Nanos {
        self.ts_array()[i].load(Ordering::Relaxed)
    }

    /// Writes line `i`: only the writer, holding the file's write lock, for a line no
    /// snapshot counts yet (or one it just popped).
    fn set(&self, i: usize, start: u64, len: u32, ts: Nanos) {
        match self.wide.get() {
            Some(wide) => wide[i].store(start, Ordering::Relaxed),
            None => match start.checked_sub(self.base).and_then(|d| u32::try_from(d).ok()) {
                Some(rel) => self.rel()[i].store(rel, Ordering::Relaxed),
                None => {
                    let wide: Box<[AtomicU64]> =
                        (0..CHUNK_LINES).map(|k| AtomicU64::new(if k < i { self.start(k) } else { 0 })).collect();
                    wide[i].store(start, Ordering::Relaxed);
                    let _ = self.wide.set(wide);
                }
            },
        }
        self.lens()[i].store(len, Ordering::Relaxed);
        self.ts_array()[i].store(ts, Ordering::Relaxed);
    }
}

/// A line found by the indexer, before it is stored.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewLine {
    /// Offset inside its segment.
    pub offset: usize,
    /// Length without the line ending.
    pub len: usize,
    /// Own timestamp, if any.
    pub ts: Option<Nanos>,
    /// Whether it fits the format.
    pub parsed: bool,
}

#[derive(Default)]
struct FileState {
    segments: Vec<Arc<Segment>>,
    chunks: Vec<Arc<Chunk>>,
    /// Lines ever indexed (less pops): the line number after the last.
    lines: usize,
    /// The first line still indexed: the ones before were let go (memory budget).
    first: usize,
    /// The line number of `chunks[0]`'s first line (a multiple of [`CHUNK_LINES`]).
    chunk0: usize,
    /// What was let go: lines and their bytes of text.
    evicted: (u64, u64),
    next_base: u64,
    /// Timestamp of the last line, inherited by following lines that have none.
    last_ts: Option<Nanos>,
    /// True while timestamps never went backwards: the time order is the file order.
    unsorted: bool,
    min_ts: Option<Nanos>,
    max_ts: Option<Nanos>,
    unparsed: u64,
}

/// The labels of a file's records: its `file` name.
pub(super) fn file_labels(name: &str) -> Arc<Fields> {
    let mut labels = Fields::new();
    labels.push("file", Value::Str(name.to_string()));
    Arc::new(labels)
}

/// One input (file, stdin, demo buffer) of a local source.
pub(super) struct FileStore {
    /// Position among the source's files (`RecordId::Line::file`).
    pub index: u32,
    /// The `file` label value.
    pub name: String,
    /// The labels of its records (`file`), shared by all of them.
    pub labels: Arc<Fields>,
    /// The path to follow, for regular uncompressed files.
    pub path: Option<PathBuf>,
    format: OnceLock<LogFormat>,
    roles: OnceLock<FieldRoles>,
    columns: OnceLock<Vec<String>>,
    /// Parser options (the "now" for year-less syslog).
    pub opts: ParseOptions,
    state: RwLock<FileState>,
    order_cache: Mutex<Option<(usize, Arc<Vec<u32>>)>>,
    /// Bytes indexed so far and in all (0 when unknown), for progress.
    pub done_bytes: AtomicU64,
    /// Total bytes to index, 0 when unknown (stdin).
    pub total_bytes: AtomicU64,
    /// The initial load is finished (the whole file, or stdin's end).
    pub complete: AtomicBool,
    /// No data will ever be added (stdin at end, gzip files).
    pub ended: AtomicBool,
    /// An I/O error that stopped the initial load.
    pub error: Mutex<Option<String>>,
    /// A stream (stdin): a live tail starts from its first line, not from its end.
    pub stream: AtomicBool,
    /// Line count right after the last [`FileStore::pop_last_line`], and how many pops there
    /// were, so a tail re-sends a line that was completed.
    pub popped: Mutex<(usize, u64)>,
}

impl FileStore {
    /// A new, empty store.
    pub fn new(index: u32, name: String, path: Option<PathBuf>, opts: ParseOptions) -> FileStore {
        FileStore {
            index,
            labels: file_labels(&name),
            name,
            path,
            format: OnceLock::new(),
            roles: OnceLock::new(),
            columns: OnceLock::new(),
            opts,
            state: RwLock::new(FileState::default()),
            order_cache: Mutex::new(None),
            done_bytes: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            complete: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            error: Mutex::new(None),
            stream: AtomicBool::new(false),
            popped: Mutex::new((0, 0)),
        }
    }

    /// Sets the format (once; later calls are ignored) and derives roles from a sample.
    pub fn set_format(&self, format: LogFormat, sample: &[&str]) {
        let _ = self.format.set(format);
        let records: Vec<Record> = sample.iter().filter_map(|l| formats::parse(format, l, &self.opts)).collect();
        let roles = formats::roles_from_records(format, &records);
        let columns = match format {
            // Structured lines name their fields as they like: show the roles found, then the
            // message field.
            LogFormat::Json | LogFormat::Logfmt => {
                let mut cols: Vec<String> =
                    [&roles.level, &roles.status, &roles.method, &roles.path, &roles.client_ip].into_iter().flatten().cloned().collect();
                if let Some(msg) = MESSAGE_KEYS.iter().find(|k| records.iter().any(|r| r.fields.get_path(k).is_some())) {
                    cols.push(msg.to_string());
                }
                cols.retain(|c| records.iter().any(|r| r.fields.get_path(c).is_some()));
                if cols.is_empty() { vec!["message".to_string()] } else { cols }
            }
            other => other.default_columns(),
        };
        let _ = self.columns.set(columns);
        let _ = self.roles.set(roles);
    }

    /// Columns to show by default for this file.
    pub fn default_columns(&self) -> Vec<String> {
        self.columns.get().cloned().unwrap_or_else(|| self.format().default_columns())
    }

    /// The format (plain until detected).
    pub fn format(&self) -> LogFormat {
        self.format.get().copied().unwrap_or(LogFormat::Plain)
    }

    /// Whether the format is known yet.
    pub fn format_known(&self) -> bool {
        self.format.get().is_some()
    }

    /// Field roles of this file.
    pub fn roles(&self) -> FieldRoles {
        self.roles.get().cloned().unwrap_or_else(|| self.format().roles())
    }

    /// Adds a segment and returns it; its lines are added with [`FileStore::push_lines`]. A
    /// window reserves its whole length in the virtual byte space and starts empty.
    pub fn add_segment(&self, bytes: Bytes) -> Arc<Segment> {
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        let len = bytes.data().len();
        let filled = if matches!(bytes, Bytes::Window { .. }) { 0 } else { len };
        let seg = Arc::new(Segment {
            base: st.next_base,
            bytes,
            readable: AtomicUsize::new(usize::MAX),
            filled: AtomicUsize::new(filled),
            released: AtomicUsize::new(0),
        });
        st.next_base += len as u64;
        st.segments.push(seg.clone());
        seg
    }

    /// The followed file was truncated: the windows on it no longer hold what was indexed.
    /// With `copy` (a `copytruncate` copy holding the same bytes), they are read from the copy
    /// instead; otherwise their lines are lost. Returns the number of lines that were lost.
    pub fn windows_truncated(&self, identity: Option<(u64, u64)>, copy: Option<&std::fs::File>) -> usize {
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        let mut lost_bytes = 0u64;
        let segments = std::mem::take(&mut st.segments);
        for seg in segments {
            let Bytes::Window { map, file_offset, spool: false } = &seg.bytes else {
                st.segments.push(seg);
                continue;
            };
            // Windows on earlier files (rotated away) still hold what was indexed.
            if identity.is_none() || map.identity() != identity {
                st.segments.push(seg);
                continue;
            }
            let filled = seg.filled.load(Ordering::Acquire);
            let moved = copy.and_then(|c| {
                let map = GuardedMap::map_range(c, *file_offset, seg.bytes.data().len()).ok()?;
                // Only if the copy holds all of it.
                (c.metadata().ok()?.len() >= file_offset + filled as u64).then_some(map)
            });
            match moved {
                Some(map) => st.segments.push(Arc::new(Segment {
                    base: seg.base,
                    bytes: Bytes::Window { map, file_offset: *file_offset, spool: false },
                    readable: AtomicUsize::new(usize::MAX),
                    filled: AtomicUsize::new(filled),
                    released: AtomicUsize::new(0),
                })),
                None => {
                    seg.mark_lost();
                    lost_bytes += filled as u64;
                    st.segments.push(seg);
                }
            }
        }
        drop(st);
        if lost_bytes == 0 {
            return 0;
        }
        // Lines changed without the count changing (see `check_shrink`).
        let lines = self.len();
        let mut popped = self.popped.lock().unwrap_or_else(|e| e.into_inner());
        *popped = (popped.0.max(lines), popped.1 + 1);
        lines
    }

    /// Memory this file's index and text hold: 16 bytes a line of index (20 when the time
    /// order is kept), owned text, the spool's text.
    pub fn memory(&self) -> u64 {
        self.memory_of(true)
    }

    /// Of [`FileStore::memory`], what is the process's private memory: the index and owned
    /// text, not the spool's text (page cache, or tmpfs).
    pub fn private_memory(&self) -> u64 {
        self.memory_of(false)
    }

    fn memory_of(&self, spool: bool) -> u64 {
        let st = self.state.read().unwrap_or_else(|e| e.into_inner());
        let per_line = if st.unsorted { 20 } else { 16 };
        // Chunks that needed full 64-bit starts hold 8 bytes a line more.
        let wide: u64 = st.chunks.iter().filter(|c| c.wide.get().is_some()).count() as u64 * CHUNK_LINES as u64 * 8;
        let index = (st.lines - st.first) as u64 * per_line + wide;
        let text = st.segments.iter().filter(|s| spool || !s.is_spool()).map(|s| s.memory() as u64).sum::<u64>();
        index + text
    }

    /// Releases the part of the spool windows before the first line kept.
    fn release_front(st: &FileState) {
        if st.first >= st.lines {
            return;
        }
        let c = &st.chunks[st.first / CHUNK_LINES - st.chunk0 / CHUNK_LINES];
        let keep_start = c.start(st.first % CHUNK_LINES);
        for s in &st.segments {
            if s.base < keep_start {
                s.release_before((keep_start - s.base) as usize);
            }
        }
    }

    /// Lets the oldest `n` lines go (but never the last one): they leave the index, and the
    /// segments and chunks holding only such lines are freed (a spool's front is released).
    /// Returns the lines let go.
    pub fn evict(&self, n: usize) -> usize {
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        let live = st.lines - st.first;
        let n = n.min(live.saturating_sub(1));
        if n == 0 {
            return 0;
        }
        let entry = |st: &FileState, line: usize| {
            let c = &st.chunks[line / CHUNK_LINES - st.chunk0 / CHUNK_LINES];
            let i = line % CHUNK_LINES;
            (c.start(i), c.len(i))
        };
        let (from_start, _) = entry(&st, st.first);
        let new_first = st.first + n;
        let (keep_start, _) = entry(&st, new_first);
        st.evicted.0 += n as u64;
        st.evicted.1 += keep_start.saturating_sub(from_start);
        st.first = new_first;
        while new_first - st.chunk0 >= CHUNK_LINES {
            st.chunks.remove(0);
            st.chunk0 += CHUNK_LINES;
        }
        // Segments wholly before the first line kept go (a map is unmapped when the last
        // snapshot holding it ends).
        // The last one stays: it may be a window still being filled.
        let last = st.segments.len().saturating_sub(1);
        let mut k = 0;
        st.segments.retain(|s| {
            let keep = k == last || s.base + s.stored_len() as u64 > keep_start;
            k += 1;
            keep
        });
        // The span and the time order are those of the lines kept.
        let (mut lo, mut hi) = (None::<Nanos>, None::<Nanos>);
        for line in st.first..st.lines {
            let c = &st.chunks[line / CHUNK_LINES - st.chunk0 / CHUNK_LINES];
            let t = c.ts(line % CHUNK_LINES);
            if t != NO_TS {
                lo = Some(lo.map_or(t, |m: Nanos| m.min(t)));
                hi = Some(hi.map_or(t, |m: Nanos| m.max(t)));
            }
        }
        st.min_ts = lo;
        st.max_ts = hi;
        FileStore::release_front(&st);
        drop(st);
        *self.order_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
        n
    }

    /// Lines let go so far, their bytes, and the time of the oldest line kept.
    pub fn evicted(&self) -> Option<(u64, u64, Option<Nanos>)> {
        let st = self.state.read().unwrap_or_else(|e| e.into_inner());
        if st.evicted.0 == 0 {
            return None;
        }
        let t = st.chunks.get(st.first / CHUNK_LINES - st.chunk0 / CHUNK_LINES).map_or(NO_TS, |c| c.ts(st.first % CHUNK_LINES));
        Some((st.evicted.0, st.evicted.1, (t != NO_TS).then_some(t)))
    }

    /// Lines in the index now.
    pub fn live(&self) -> usize {
        let st = self.state.read().unwrap_or_else(|e| e.into_inner());
        st.lines - st.first
    }

    /// Appends indexed lines of `segment`.
    pub fn push_lines(&self, segment: &Segment, lines: &[NewLine]) {
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        for l in lines {
            let ts = match l.ts {
                Some(t) => {
                    st.min_ts = Some(st.min_ts.map_or(t, |m| m.min(t)));
                    st.max_ts = Some(st.max_ts.map_or(t, |m| m.max(t)));
                    if st.last_ts.is_some_and(|last| t < last) {
                        st.unsorted = true;
                    }
                    st.last_ts = Some(t);
                    t
                }
                None => st.last_ts.unwrap_or(NO_TS),
            };
            if !l.parsed {
                st.unparsed += 1;
            }
            let start = segment.base + l.offset as u64;
            let at = st.lines - st.chunk0;
            if at / CHUNK_LINES == st.chunks.len() {
                st.chunks.push(Arc::new(Chunk::new(start)));
            }
            // Past every snapshot's end: no copy however many snapshots hold the chunk.
            st.chunks[at / CHUNK_LINES].set(at % CHUNK_LINES, start, u32::try_from(l.len).unwrap_or(u32::MAX), ts);
            st.lines += 1;
        }
    }

    /// Removes the last line (a final line without newline that turned out to continue).
    pub fn pop_last_line(&self) {
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        if st.lines == st.first {
            return;
        }
        st.lines -= 1;
        // The line's entry stays in its chunk until overwritten; a chunk left empty goes.
        if (st.lines - st.chunk0).div_ceil(CHUNK_LINES) < st.chunks.len() {
            st.chunks.pop();
        }
        let mut popped = self.popped.lock().unwrap_or_else(|e| e.into_inner());
        *popped = (st.lines, popped.1 + 1);
        // The cached time order holds the removed line.
        *self.order_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The line number after the last line indexed (lines let go included: see
    /// [`FileStore::live`]).
    pub fn len(&self) -> usize {
        self.state.read().unwrap_or_else(|e| e.into_inner()).lines
    }

    /// Lines that did not fit the format.
    pub fn unparsed(&self) -> u64 {
        self.state.read().unwrap_or_else(|e| e.into_inner()).unparsed
    }

    /// Earliest and latest timestamps.
    pub fn span(&self) -> Option<(Nanos, Nanos)> {
        let st = self.state.read().unwrap_or_else(|e| e.into_inner());
        Some((st.min_ts?, st.max_ts?))
    }

    /// A consistent view of the lines indexed so far. `with_order` computes the time order
    /// when the file is not sorted (aggregations do not need it).
    pub fn snapshot(self: &Arc<Self>, with_order: bool) -> FileSnap {
        let (segments, chunks, len, first, chunk0, unsorted) = {
            let st = self.state.read().unwrap_or_else(|e| e.into_inner());
            (st.segments.clone(), st.chunks.clone(), st.lines - st.first, st.first, st.chunk0, st.unsorted)
        };
        for seg in &segments {
            self.check_shrink(seg);
        }
        let mut snap = FileSnap { store: self.clone(), segments, chunks, len, first, chunk0, order: None };
        if unsorted && with_order {
            snap.order = Some(self.order_for(&snap));
        }
        snap
    }

    /// Notices a mapped file that shrank while open and says so in [`FileStore::error`]
    /// (shown with every page of results). Returns whether it shrank just now.
    pub fn check_shrink(&self, seg: &Segment) -> bool {
        let Some(len) = seg.check_shrink() else { return false };
        let message = format!(
            "{}: the file shrank to {len} bytes while open (it had {} when read); the lines past that point are lost{}",
            self.name,
            seg.stored_len(),
            if self.path.is_some() { " (follow mode reads the file again from its start)" } else { "" }
        );
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
        // Lines changed without the count changing: counts kept for reuse (the search total
        // cache) are stale. Counted as a pop that re-sends nothing to a tail.
        let lines = self.len();
        let mut popped = self.popped.lock().unwrap_or_else(|e| e.into_inner());
        *popped = (popped.0.max(lines), popped.1 + 1);
        true
    }

    fn order_for(&self, snap: &FileSnap) -> Arc<Vec<u32>> {
        let mut cache = self.order_cache.lock().unwrap_or_else(|e| e.into_inner());
        let previous = match cache.as_ref() {
            Some((len, order)) if *len == snap.len => return order.clone(),
            Some((len, order)) if *len < snap.len => Some(order.clone()),
            _ => None,
        };
        // Stable sorts: lines with equal times keep file order.
        let order = match previous {
            // Appended lines (a followed file): sort them and merge, O(n) instead of a full sort.
            Some(old) => {
                let mut new: Vec<u32> = (old.len() as u32..snap.len as u32).collect();
                new.sort_by_key(|&i| snap.ts(i as usize));
                let mut merged = Vec::with_capacity(snap.len);
                let (mut a, mut b) = (0, 0);
                while a < old.len() && b < new.len() {
                    // Old lines come first on equal times: they are earlier in the file.
                    if snap.ts(new[b] as usize) < snap.ts(old[a] as usize) {
                        merged.push(new[b]);
                        b += 1;
                    } else {
                        merged.push(old[a]);
                        a += 1;
                    }
                }
                merged.extend_from_slice(&old[a..]);
                merged.extend_from_slice(&new[b..]);
                merged
            }
            None => {
                let mut order: Vec<u32> = (0..snap.len as u32).collect();
                order.par_sort_by_key(|&i| snap.ts(i as usize));
                order
            }
        };
        let order = Arc::new(order);
        *cache = Some((snap.len, order.clone()));
        order
    }
}

/// A consistent, lock-free view of a file's lines.
pub(super) struct FileSnap {
    /// The file.
    pub store: Arc<FileStore>,
    segments: Vec<Arc<Segment>>,
    chunks: Vec<Arc<Chunk>>,
    /// Number of lines. Lines are numbered from 0 here; the file's own line number of line
    /// `l` is `first + l` (lines before `first` were let go).
    pub len: usize,
    /// The file's line number of this snapshot's line 0.
    pub first: usize,
    chunk0: usize,
    order: Option<Arc<Vec<u32>>>,
}

impl FileSnap {
    fn entry(&self, line: usize) -> (u64, u32, Nanos) {
        let abs = self.first + line;
        let c = &self.chunks[abs / CHUNK_LINES - self.chunk0 / CHUNK_LINES];
        let i = abs % CHUNK_LINES;
        (c.start(i), c.len(i), c.ts(i))
    }

    /// The index timestamp of a line (its own, or inherited; [`NO_TS`] if none yet).
    pub fn ts(&self, line: usize) -> Nanos {
        self.entry(line).2
    }

    /// The segment holding a line and the line's offset and length in it.
    fn locate(&self, line: usize) -> Option<(&Segment, usize, usize)> {
        let (start, len, _) = self.entry(line);
        let seg_pos = self.segments.partition_point(|s| s.base <= start).saturating_sub(1);
        let seg = self.segments.get(seg_pos)?;
        Some((seg, usize::try_from(start.saturating_sub(seg.base)).unwrap_or(usize::MAX), len as usize))
    }

    /// The bytes of a line, without its line ending (cut or empty when the file shrank).
    pub fn bytes(&self, line: usize) -> &[u8] {
        let Some((seg, offset, len)) = self.locate(line) else { return &[] };
        let data = seg.data();
        let from = offset.min(data.len());
        let to = from.saturating_add(len).min(data.len());
        &data[from..to]
    }

    /// Looks at the files' lengths again after lines were read: a file truncated between the
    /// snapshot and the read gave zeros for the bytes it no longer has (the mapping's guard),
    /// and the lines it cut are [`FileSnap::lost`] from now on.
    pub fn recheck(&self) {
        for seg in &self.segments {
            self.store.check_shrink(seg);
        }
    }

    /// Whether a line can no longer be read in full: its file shrank below its end.
    pub fn lost(&self, line: usize) -> bool {
        self.locate(line).is_some_and(|(seg, offset, len)| seg.shrunk() && offset.saturating_add(len) > seg.data().len())
    }

    /// The line at position `k` of the time order.
    pub fn at(&self, k: usize) -> usize {
        match &self.order {
            Some(order) => order[k] as usize,
            None => k,
        }
    }

    /// First position in time order whose key is not below `(ts, line)`-wise `pred` false.
    pub fn partition(&self, pred: impl Fn(Nanos, usize) -> bool) -> usize {
        let (mut lo, mut hi) = (0usize, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let line = self.at(mid);
            if pred(self.ts(line), line) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Parses a line into a record with its `file` label and identity.
    pub fn record(&self, line: usize) -> Record {
        let (mut record, _) = if self.lost(line) {
            let text = format!("[line lost: {} was truncated or shrank while open]", self.store.name);
            formats::parse_or_plain(LogFormat::Plain, &text, &self.store.opts)
        } else {
            formats::parse_or_plain(self.store.format(), &String::from_utf8_lossy(self.bytes(line)), &self.store.opts)
        };
        if record.timestamp.is_none() {
            let ts = self.ts(line);
            // Lines without a time (stack traces) take the previous line's, as they are sorted.
            record.timestamp = (ts != NO_TS).then_some(ts);
        }
        record.labels = self.store.labels.clone();
        record.id = RecordId::Line { file: self.store.index, line: (self.first + line) as u64 };
        record
    }
}

/// Finds complete lines in `data` from `from`; returns them and the offset after the last
/// newline. With `final_line`, text after the last newline is a line too.
pub(super) fn split_lines(data: &[u8], from: usize, final_line: bool, format: LogFormat, opts: &ParseOptions, out: &mut Vec<NewLine>) -> usize {
    let mut pos = from;
    for nl in memchr::memchr_iter(b'\n', &data[from..]) {
        let end = from + nl;
        out.push(summarize(data, pos, end, format, opts));
        pos = end + 1;
    }
    if final_line && pos < data.len() {
        out.push(summarize(data, pos, data.len(), format, opts));
        pos = data.len();
    }
    pos
}

fn summarize(data: &[u8], start: usize, mut end: usize, format: LogFormat, opts: &ParseOptions) -> NewLine {
    if end > start && data[end - 1] == b'\r' {
        end -= 1;
    }
    let bytes = &data[start..end];
    // The SIMD check first: std's lossy conversion validates byte by byte.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let s = formats::summarize(format, &text, opts);
    NewLine { offset: start, len: end - start, ts: s.timestamp, parsed: s.parsed }
}

/// Indexes a whole owned buffer as one segment (small files, gzip contents, demo data).
pub(super) fn load_owned(store: &FileStore, data: Vec<u8>, final_line: bool) -> usize {
    let mut lines = Vec::new();
    let consumed = split_lines(&data, 0, final_line, store.format(), &store.opts, &mut lines);
    let seg = store.add_segment(Bytes::Owned(data));
    store.push_lines(&seg, &lines);
    consumed
}

/// Bytes of a file's start scanned for the detection sample.
const SAMPLE_SCAN_BYTES: usize = 16 << 20;
/// Lines longer than this are left out of the detection sample: a hostile first line of
/// megabytes must not decide (or, cut short, spoil) the format of every other line.
const SAMPLE_LINE_MAX: usize = 64 << 10;

/// Reads `n` lines of text from a sample of the start of `data`, for format detection. A line
/// cut by the end of the scanned part and over-long lines are skipped.
pub(super) fn sample_lines(data: &[u8], n: usize) -> Vec<String> {
    let mut head = &data[..data.len().min(SAMPLE_SCAN_BYTES)];
    if head.len() < data.len() {
        head = &head[..memchr::memrchr(b'\n', head).unwrap_or(0)];
    }
    head.split(|&b| b == b'\n')
        .filter(|l| l.len() <= SAMPLE_LINE_MAX)
        .take(n)
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect()
}

/// Counts stored per-file so a page can warn about them.
pub(super) fn unparsed_warning(store: &FileStore) -> Option<String> {
    unparsed_message(&store.name, store.unparsed(), store.format())
}

/// The warning for `n` lines of file `name` that did not fit `format` (none for 0).
pub(super) fn unparsed_message(name: &str, n: u64, format: LogFormat) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{}: {n} line{} did not parse as {} and {} shown as plain lines (query `{}:true` to list them)",
            name,
            if n == 1 { "" } else { "s" },
            format,
            if n == 1 { "is" } else { "are" },
            formats::UNPARSED_FIELD
        )
    })
}

/// Reads the state-independent atomics for progress.
pub(super) fn progress_of(store: &FileStore) -> (u64, u64) {
    (store.done_bytes.load(Ordering::Relaxed), store.total_bytes.load(Ordering::Relaxed))
}

#[cfg(test)]
mod chunk_tests {
    use super::{CHUNK_LINES, Chunk, FileStore, NO_TS, load_owned};
    use logsleuth_formats::{LogFormat, ParseOptions};
    use std::sync::Arc;

    #[test]
    fn a_snapshot_keeps_its_lines_without_a_copy_of_the_chunk() {
        let store = Arc::new(FileStore::new(0, "t".into(), None, ParseOptions { now: 0 }));
        store.set_format(LogFormat::Plain, &[]);
        let text = |from: usize, to: usize| (from..to).map(|i| format!("line {i}\n")).collect::<String>().into_bytes();
        load_owned(&store, text(0, 1000), false);
        let snap = store.snapshot(false);
        // Past the end of the chunk the snapshot holds, and into the next one.
        load_owned(&store, text(1000, CHUNK_LINES + 10), false);
        let st = store.state.read().unwrap();
        assert_eq!(st.chunks.len(), 2);
        assert!(Arc::ptr_eq(&snap.chunks[0], &st.chunks[0]), "the chunk the snapshot holds was not copied");
        drop(st);
        assert_eq!(snap.len, 1000);
        assert_eq!(snap.bytes(999), b"line 999");
        let now = store.snapshot(false);
        let last = format!("line {}", CHUNK_LINES + 9);
        assert_eq!((now.len, now.bytes(999), now.bytes(CHUNK_LINES + 9)), (CHUNK_LINES + 10, &b"line 999"[..], last.as_bytes()));
        // A popped line leaves an empty chunk behind: it goes.
        for _ in 0..10 {
            store.pop_last_line();
        }
        assert_eq!(store.state.read().unwrap().chunks.len(), 1);
        store.pop_last_line();
        assert_eq!((store.len(), store.state.read().unwrap().chunks.len()), (CHUNK_LINES - 1, 1));
    }

    #[test]
    fn starts_stay_exact_when_a_chunk_spans_more_than_four_gib() {
        let starts = [10u64 << 30, (10 << 30) + 77, (10 << 30) + u64::from(u32::MAX), (16 << 30) + 5, (16 << 30) + 9];
        let c = Chunk::new(starts[0]);
        for (i, s) in starts.iter().enumerate() {
            c.set(i, *s, i as u32, i as i64);
            assert_eq!(c.wide.get().is_none(), i < 3, "32-bit starts while they fit");
            for (j, want) in starts[..=i].iter().enumerate() {
                assert_eq!((c.start(j), c.len(j), c.ts(j)), (*want, j as u32, j as i64));
            }
        }
        // A popped line is written again in place.
        c.set(4, (16 << 30) + 7, 9, NO_TS);
        assert_eq!((c.start(3), c.start(4), c.len(4), c.ts(4)), ((16 << 30) + 5, (16 << 30) + 7, 9, NO_TS));
        let small = Chunk::new(4096);
        for (i, s) in [4096u64, 5000, 7000, 9000].iter().enumerate() {
            small.set(i, *s, 1, 0);
        }
        small.set(2, 8000, 1, 0);
        assert_eq!((small.start(0), small.start(1), small.start(2), small.start(3)), (4096, 5000, 8000, 9000));
        assert!(small.wide.get().is_none());
    }
}
