//! Opening inputs and indexing them in background threads: small files are read into memory,
//! large ones memory-mapped, gzip files decompressed as a stream, stdin read as it comes. Each
//! publishes lines in batches, so the first screen is there long before a large file is done.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokio::sync::{broadcast, watch};

use super::append::{Appender, SPOOL_WINDOW, spool_file};
use super::budget::Budget;
use super::store::{Bytes, FileStore, GuardedMap, NewLine, Segment, sample_lines, split_lines};
use logsleuth_formats::{self as formats, LogFormat, ParseOptions};
use crate::SourceError;

/// Files at least this large are memory-mapped rather than read into memory.
pub(super) const MMAP_THRESHOLD: u64 = 64 << 20;

/// Lines published per batch.
const BATCH_LINES: usize = 16 * 1024;

/// Owned buffers of streamed input (gzip, stdin) are cut into segments of about this size.
const STREAM_SEGMENT: usize = 4 << 20;

/// Lines used to detect a format.
pub(super) const SAMPLE_LINES: usize = 200;

/// Tells tail tasks that lines were added or something happened to a file.
pub(super) struct Notifier {
    /// Bumped after every batch of new lines.
    pub generation: watch::Sender<u64>,
    /// Status messages for live tails (truncation, rotation, end of input).
    pub status: broadcast::Sender<String>,
}

impl Notifier {
    /// A notifier with no listeners yet.
    pub fn new() -> Notifier {
        Notifier { generation: watch::Sender::new(0), status: broadcast::Sender::new(32) }
    }

    /// Signals new lines.
    pub fn bump(&self) {
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Signals a state change.
    pub fn say(&self, message: String) {
        let _ = self.status.send(message);
    }
}

/// Where following a file starts after its initial load.
pub(super) struct FollowStart {
    /// The handle the initial load read (kept to detect rotation by identity).
    pub file: File,
    /// Bytes of the file indexed.
    pub pos: u64,
    /// File offset of a last line that had no newline (re-read if the file grows).
    pub partial_start: Option<u64>,
    /// The last bytes before `pos` as they were read (see `follow::FINGERPRINT`).
    pub fingerprint: Vec<u8>,
}

/// Follow state handed from the indexer to the follower.
pub(super) type FollowSlot = Arc<Mutex<Option<FollowStart>>>;

fn io_error(path: &Path, e: &std::io::Error) -> SourceError {
    SourceError::Io(format!("{}: {e}", logsleuth_core::text::sanitize(&path.display().to_string())))
}

/// Opens a file: detects its format (unless forced) from its start, then indexes it in a
/// background thread. Errors (missing file, directory, unreadable) are returned at once.
pub(super) fn open_file(
    store: Arc<FileStore>,
    path: &Path,
    forced: Option<LogFormat>,
    notify: Arc<Notifier>,
    follow: FollowSlot,
) -> Result<(), SourceError> {
    let (file, size, gzip) = open_regular(path)?;
    store.total_bytes.store(size, Ordering::Relaxed);
    if gzip {
        return open_gzip(store, file, path, forced, notify);
    }
    let seg = store.add_segment(load(&file, size, path)?);
    let data = seg.data();
    let sample = sample_lines(data, SAMPLE_LINES);
    let sample_refs: Vec<&str> = sample.iter().map(String::as_str).collect();
    store.set_format(forced.unwrap_or_else(|| formats::detect(&sample_refs)), &sample_refs);
    std::thread::Builder::new()
        .name(format!("index {}", store.name))
        .spawn(move || {
            let end = index_segment(&store, &seg, &notify);
            let data = seg.data();
            // A file that shrank while indexed: the follower sees its length below `pos`
            // and reads it again from the start, as `tail -F` does.
            let partial_start = (end > 0 && !seg.shrunk() && data.last() != Some(&b'\n')).then(|| {
                memchr::memrchr(b'\n', data).map_or(0, |p| p as u64 + 1)
            });
            // What was read just before the follow offset, to recognise a file truncated and
            // grown again past it (a shrunk one is recognised by its length).
            let fingerprint = if seg.shrunk() {
                Vec::new()
            } else {
                data[data.len().saturating_sub(super::follow::FINGERPRINT)..].to_vec()
            };
            *follow.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(FollowStart { file, pos: seg.stored_len() as u64, partial_start, fingerprint });
            store.complete.store(true, Ordering::Release);
            notify.bump();
        })
        .map_err(|e| SourceError::Io(format!("cannot start indexing thread: {e}")))?;
    Ok(())
}

/// Opens a file that is not a directory: its handle (at its start), size, and whether it is
/// gzip-compressed.
pub(super) fn open_regular(path: &Path) -> Result<(File, u64, bool), SourceError> {
    let mut file = File::open(path).map_err(|e| io_error(path, &e))?;
    let meta = file.metadata().map_err(|e| io_error(path, &e))?;
    if meta.is_dir() {
        return Err(SourceError::Io(format!("{}: is a directory", path.display())));
    }
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(|e| io_error(path, &e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, &e))?;
    Ok((file, meta.len(), n == 2 && magic == [0x1f, 0x8b]))
}

/// The text of an uncompressed file: memory-mapped when large (guarded: a file shrinking under
/// the map cannot raise SIGBUS, see `store::mapped`), read into memory otherwise, or when the
/// guard is unavailable.
pub(super) fn load(file: &File, size: u64, path: &Path) -> Result<Bytes, SourceError> {
    if size >= MMAP_THRESHOLD
        && let Ok(map) = GuardedMap::map(file)
    {
        return Ok(Bytes::Mapped(map));
    }
    let mut data = Vec::with_capacity(size as usize);
    let mut reader = file;
    reader.read_to_end(&mut data).map_err(|e| io_error(path, &e))?;
    Ok(Bytes::Owned(data))
}

/// Indexes every line of a segment in batches; returns the offset after the last line.
fn index_segment(store: &FileStore, seg: &Arc<Segment>, notify: &Notifier) -> usize {
    let format = store.format();
    let mut pos = 0;
    let mut lines = Vec::with_capacity(BATCH_LINES);
    loop {
        // A mapped file that shrank is indexed up to its new end only.
        store.check_shrink(seg);
        let data = seg.data();
        if pos >= data.len() {
            break;
        }
        // Cut a batch at a newline roughly BATCH_LINES lines ahead (guessing 256 bytes a line).
        let guess_end = pos.saturating_add(BATCH_LINES * 256).min(data.len());
        let cut = if guess_end >= data.len() {
            data.len()
        } else {
            memchr::memchr(b'\n', &data[guess_end..]).map_or(data.len(), |p| guess_end + p + 1)
        };
        lines.clear();
        let end = split_lines_parallel(&data[..cut], pos, cut == data.len(), format, &store.opts, &mut lines);
        store.push_lines(seg, &lines);
        store.done_bytes.store(end as u64, Ordering::Relaxed);
        notify.bump();
        if end == pos {
            break;
        }
        pos = end;
    }
    pos
}

/// Batches smaller than this are summarized on one thread (splitting costs more than it saves).
const PARALLEL_MIN: usize = 1 << 20;

/// [`split_lines`] on every core: `data[from..]` is cut at newlines into one piece per thread,
/// the pieces are summarized in parallel and their lines appended in order. Returns what
/// `split_lines` returns.
fn split_lines_parallel(data: &[u8], from: usize, final_line: bool, format: LogFormat, opts: &ParseOptions, out: &mut Vec<NewLine>) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 || data.len().saturating_sub(from) < PARALLEL_MIN {
        return split_lines(data, from, final_line, format, opts, out);
    }
    let step = (data.len() - from) / threads;
    let mut bounds = vec![from];
    for k in 1..threads {
        let guess = (from + k * step).max(bounds[bounds.len() - 1]);
        // Each piece but the last ends just after a newline.
        bounds.push(memchr::memchr(b'\n', &data[guess..]).map_or(data.len(), |p| guess + p + 1));
    }
    bounds.push(data.len());
    bounds.dedup();
    let pieces: Vec<(Vec<NewLine>, usize)> = bounds
        .windows(2)
        .map(|w| (w[0], w[1]))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(start, end)| {
            let mut lines = Vec::new();
            let last = end == data.len();
            let done = split_lines(&data[..end], start, last && final_line, format, opts, &mut lines);
            (lines, done)
        })
        .collect();
    let mut end = from;
    for (lines, done) in pieces {
        out.extend_from_slice(&lines);
        end = done;
    }
    end
}

fn open_gzip(
    store: Arc<FileStore>,
    file: File,
    path: &Path,
    forced: Option<LogFormat>,
    notify: Arc<Notifier>,
) -> Result<(), SourceError> {
    let mut head = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(&file);
    // A corrupt stream still yields what came before the damage.
    let _ = (&mut dec).take(256 * 1024).read_to_end(&mut head);
    let sample = sample_lines(&head, SAMPLE_LINES);
    let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
    store.set_format(forced.unwrap_or_else(|| formats::detect(&refs)), &refs);
    let mut file = file;
    file.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, &e))?;
    store.ended.store(true, Ordering::Release);
    let label = path.display().to_string();
    std::thread::Builder::new()
        .name(format!("gunzip {}", store.name))
        .spawn(move || {
            let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let reader = CountingReader { inner: file, count: counter.clone() };
            let mut dec = flate2::read::MultiGzDecoder::new(reader);
            let mut pending: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = match dec.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        *store.error.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(format!("{label}: gzip data is damaged after {} bytes: {e}", pending.len()));
                        0
                    }
                };
                if n > 0 {
                    pending.extend_from_slice(&buf[..n]);
                }
                if n == 0 || pending.len() >= STREAM_SEGMENT {
                    pending = flush_stream(&store, pending, n == 0);
                    store.done_bytes.store(counter.load(Ordering::Relaxed), Ordering::Relaxed);
                    notify.bump();
                }
                if n == 0 {
                    break;
                }
            }
            store.complete.store(true, Ordering::Release);
            notify.bump();
        })
        .map_err(|e| SourceError::Io(format!("cannot start indexing thread: {e}")))?;
    Ok(())
}

/// Stores the complete lines of `pending` as a segment (all of it when `all`) and returns
/// the rest.
pub(super) fn flush_stream(store: &FileStore, mut pending: Vec<u8>, all: bool) -> Vec<u8> {
    let cut = if all { pending.len() } else { memchr::memrchr(b'\n', &pending).map_or(0, |p| p + 1) };
    if cut == 0 {
        return pending;
    }
    let rest = pending.split_off(cut);
    let mut lines = Vec::new();
    split_lines(&pending, 0, all, store.format(), &store.opts, &mut lines);
    let seg = store.add_segment(Bytes::Owned(pending));
    store.push_lines(&seg, &lines);
    rest
}

struct CountingReader<R> {
    inner: R,
    count: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How long stdin may be quiet, before its format is known, for the lines read so far to
/// decide it (a fast producer fills the sample first; a slow one is shown as it comes).
const DETECT_LULL: Duration = Duration::from_millis(20);

/// Reads stdin in the background: lines appear as they arrive (a pipe from `kubectl logs -f`
/// keeps streaming); the format is detected from the first lines.
pub(super) fn open_stdin(store: Arc<FileStore>, forced: Option<LogFormat>, notify: Arc<Notifier>, budget: Arc<Budget>) -> Result<(), SourceError> {
    open_reader(store, Box::new(std::io::stdin()), forced, notify, budget)
}

/// A piece of the stream, and whether it is in the spool file.
struct Piece {
    data: Vec<u8>,
    spooled: bool,
}

/// Streams any reader into a store (stdin, or a pipe in tests). What is read is written to
/// a private spool file and indexed from there like a followed file: only the line index
/// stays in memory (see `append`). Without a spool (it cannot be created or written) the
/// text is kept in memory.
pub(super) fn open_reader(
    store: Arc<FileStore>,
    reader: Box<dyn Read + Send>,
    forced: Option<LogFormat>,
    notify: Arc<Notifier>,
    budget: Arc<Budget>,
) -> Result<(), SourceError> {
    store.stream.store(true, Ordering::Release);
    let spool = spool_file().ok();
    let mut writer = spool.as_ref().and_then(|f| f.try_clone().ok());
    // Bounded: a fast producer waits for the indexer instead of filling memory.
    let (tx, rx) = sync_channel::<Piece>(16);
    let reader_notify = notify.clone();
    std::thread::Builder::new()
        .name("stdin reader".into())
        .spawn(move || {
            use std::io::Write;
            let mut reader = reader;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let spooled = match writer.as_mut().map(|w| w.write_all(&buf[..n])) {
                            Some(Ok(())) => true,
                            Some(Err(e)) => {
                                reader_notify.say(format!("stdin: the spool file cannot be written ({e}): the rest is kept in memory"));
                                writer = None;
                                false
                            }
                            None => false,
                        };
                        if tx.send(Piece { data: buf[..n].to_vec(), spooled }).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        })
        .map_err(|e| SourceError::Io(format!("cannot start stdin thread: {e}")))?;
    std::thread::Builder::new()
        .name("stdin indexer".into())
        .spawn(move || {
            let started = Instant::now();
            let mut app = Appender::new(spool, 0, true, SPOOL_WINDOW);
            // What came before the format is known.
            let mut early: Vec<u8> = Vec::new();
            let mut eof = false;
            while !eof {
                let mut batch: Vec<u8> = Vec::new();
                let take = |piece: Piece, batch: &mut Vec<u8>, app: &mut Appender| {
                    if !piece.spooled {
                        app.to_memory();
                    }
                    store.done_bytes.fetch_add(piece.data.len() as u64, Ordering::Relaxed);
                    batch.extend_from_slice(&piece.data);
                };
                // Until the format is known, a short wait: a lull after a complete line is
                // when a slow producer has said all it has for now, and its lines should be
                // on screen at the next redraw, not after a fixed wait.
                let wait = if store.format_known() { Duration::from_millis(100) } else { DETECT_LULL };
                match rx.recv_timeout(wait) {
                    Ok(piece) => {
                        take(piece, &mut batch, &mut app);
                        while batch.len() < STREAM_SEGMENT {
                            match rx.try_recv() {
                                Ok(more) => take(more, &mut batch, &mut app),
                                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                                    eof = true;
                                    break;
                                }
                            }
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => eof = true,
                }
                if !store.format_known() {
                    let lull = batch.is_empty();
                    early.extend_from_slice(&batch);
                    let lines = memchr::memchr_iter(b'\n', &early).count();
                    // A lull with whole lines read: detect from them (a slow stream); text
                    // without a newline yet waits up to half a second for its end.
                    let quiet = lull && lines > 0;
                    let waited = started.elapsed() > Duration::from_millis(500) && !early.is_empty();
                    if !(eof || lines >= SAMPLE_LINES || early.len() >= 64 * 1024 || quiet || waited) {
                        continue;
                    }
                    let sample = sample_lines(&early, SAMPLE_LINES);
                    let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
                    store.set_format(forced.unwrap_or_else(|| formats::detect(&refs)), &refs);
                    batch = std::mem::take(&mut early);
                }
                if app.push(&store, &batch, eof) > 0 {
                    budget.enforce();
                    notify.bump();
                }
            }
            store.ended.store(true, Ordering::Release);
            store.complete.store(true, Ordering::Release);
            notify.bump();
        })
        .map_err(|e| SourceError::Io(format!("cannot start stdin thread: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_split_finds_the_lines_a_single_thread_finds() {
        let sample = include_str!("../../../../tests/fixtures/ui/nginx_sample.log");
        let mut data = Vec::new();
        while data.len() < 3 * PARALLEL_MIN {
            data.extend_from_slice(sample.as_bytes());
            data.extend_from_slice(b"not an access line\r\n\n");
        }
        data.extend_from_slice(b"a final line without newline");
        let opts = ParseOptions { now: 0 };
        for from in [0, 12_345] {
            for final_line in [false, true] {
                let (mut one, mut many) = (Vec::new(), Vec::new());
                let end_one = split_lines(&data, from, final_line, LogFormat::AccessCombined, &opts, &mut one);
                let end_many = split_lines_parallel(&data, from, final_line, LogFormat::AccessCombined, &opts, &mut many);
                assert_eq!(end_one, end_many);
                assert_eq!(one.len(), many.len());
                for (a, b) in one.iter().zip(&many) {
                    assert_eq!((a.offset, a.len, a.ts, a.parsed), (b.offset, b.len, b.ts, b.parsed));
                }
            }
        }
    }
}
