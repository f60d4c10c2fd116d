//! Indexing text that keeps arriving (a followed file, the stdin spool) the way a file opened
//! whole is indexed: the lines' text stays in the file, read through a guarded map of a
//! window of it, and only the compact line index (about 16 bytes a line) is kept in memory.
//! When no map can be made (no SIGBUS guard on this system, every guard slot taken), the text
//! is kept in memory as before.

use std::fs::File;
use std::sync::Arc;

use super::store::{Bytes, FileStore, GuardedMap, Segment, split_lines};

/// Size of a window on a followed file: the address space is reserved, not memory.
pub(super) const FILE_WINDOW: usize = 1 << 30;

/// Lines appended to one store from one file, in order.
pub(super) struct Appender {
    /// The file the text is in; `None` keeps it in memory.
    file: Option<File>,
    /// The file is our private spool: windows give their space back when they go.
    spool: bool,
    /// Size of the windows made.
    window_len: usize,
    window: Option<Arc<Segment>>,
    /// Text after the last newline, not indexed yet.
    pending: Vec<u8>,
    /// File offset of `pending[0]`.
    at: u64,
}

impl Appender {
    /// Appends what is read from `file` from offset `at` on.
    pub fn new(file: Option<File>, at: u64, spool: bool, window_len: usize) -> Appender {
        Appender { file, spool, window_len, window: None, pending: Vec::new(), at }
    }

    /// Moves the offset of the next byte (nothing may be pending): a line indexed without its
    /// newline is read again from its start.
    pub fn rewind(&mut self, at: u64) {
        debug_assert!(self.pending.is_empty());
        self.pending.clear();
        self.at = at;
    }

    /// Continues with `file` (a rotated file's successor, or the same file after a truncation)
    /// from offset `at`; what was pending must have been finished.
    pub fn restart(&mut self, file: Option<File>, at: u64) {
        self.pending.clear();
        self.window = None;
        self.file = file;
        self.at = at;
    }

    /// Appends `data` (the bytes at the file's next offset) and indexes its complete lines,
    /// all of it with `all`. Returns the lines added.
    pub fn push(&mut self, store: &FileStore, data: &[u8], all: bool) -> usize {
        let cut_of = |b: &[u8]| if all { b.len() } else { memchr::memrchr(b'\n', b).map_or(0, |p| p + 1) };
        if self.pending.is_empty() {
            // Straight from the caller's buffer: no copy of a large read.
            let cut = cut_of(data);
            let added = self.index(store, &data[..cut], all);
            self.pending.extend_from_slice(&data[cut..]);
            return added;
        }
        self.pending.extend_from_slice(data);
        let cut = cut_of(&self.pending);
        let pending = std::mem::take(&mut self.pending);
        let added = self.index(store, &pending[..cut], all);
        self.pending = pending[cut..].to_vec();
        added
    }

    /// Indexes `bytes`, complete lines at the next offset (the last one without its newline
    /// with `all`).
    fn index(&mut self, store: &FileStore, bytes: &[u8], all: bool) -> usize {
        if bytes.is_empty() {
            return 0;
        }
        let before = store.len();
        let mut lines = Vec::new();
        split_lines(bytes, 0, all, store.format(), &store.opts, &mut lines);
        match self.window_for(store, bytes.len()) {
            Some((window, rel)) => {
                for l in &mut lines {
                    l.offset += rel;
                }
                // Readable before the lines are visible.
                window.fill_to(rel + bytes.len());
                store.push_lines(&window, &lines);
            }
            None => {
                let seg = store.add_segment(Bytes::Owned(bytes.to_vec()));
                store.push_lines(&seg, &lines);
            }
        }
        self.at += bytes.len() as u64;
        store.len() - before
    }

    /// Indexes what is pending as a last line, keeping its text in memory: the file it was
    /// read from is finished or gone (truncated). Returns the lines added.
    pub fn finish_in_memory(&mut self, store: &FileStore) -> usize {
        if self.pending.is_empty() {
            return 0;
        }
        let before = store.len();
        let data = std::mem::take(&mut self.pending);
        let mut lines = Vec::new();
        split_lines(&data, 0, true, store.format(), &store.opts, &mut lines);
        self.at += data.len() as u64;
        let seg = store.add_segment(Bytes::Owned(data));
        store.push_lines(&seg, &lines);
        store.len() - before
    }

    /// Indexes `data` (read elsewhere, e.g. from a copy) after what is pending, keeping the
    /// text in memory, all of it as lines. Returns the lines added.
    pub fn push_in_memory(&mut self, store: &FileStore, data: &[u8]) -> usize {
        self.pending.extend_from_slice(data);
        self.finish_in_memory(store)
    }

    /// The window that holds the next `len` bytes and the offset in it where they start; a
    /// new one when the current one is full.
    fn window_for(&mut self, store: &FileStore, len: usize) -> Option<(Arc<Segment>, usize)> {
        let file = self.file.as_ref()?;
        if let Some(w) = &self.window {
            let start = w.file_offset()?;
            if self.at >= start {
                let rel = usize::try_from(self.at - start).unwrap_or(usize::MAX);
                if rel.saturating_add(len) <= w.capacity() {
                    return Some((w.clone(), rel));
                }
            }
        }
        let size = self.window_len.max(len.next_power_of_two());
        let map = GuardedMap::map_range(file, self.at, size).ok()?;
        let w = store.add_segment(Bytes::Window { map, file_offset: self.at, spool: self.spool });
        self.window = Some(w.clone());
        Some((w, 0))
    }
}

/// Size of a window on the stdin spool: the budget lets go of the spool's front in pages, and
/// a window is unmapped once all its lines are gone.
pub(super) const SPOOL_WINDOW: usize = 16 << 20;

/// Where the stdin spool goes: `$XDG_RUNTIME_DIR` (private to the user) when set, else the
/// system's temporary directory.
pub fn spool_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// Creates the private spool file for stdin, owner-only (0600). On Linux it never has a name
/// (`O_TMPFILE`): nothing is left behind however the process ends, SIGTERM and SIGKILL
/// included. Elsewhere (or where the filesystem refuses `O_TMPFILE`) a file is created with a
/// fresh name and removed at once, which has the same effect once it is open.
pub(super) fn spool_file() -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = spool_dir();
    #[cfg(target_os = "linux")]
    {
        let anonymous = std::fs::OpenOptions::new().read(true).write(true).mode(0o600).custom_flags(libc::O_TMPFILE).open(&dir);
        if let Ok(file) = anonymous {
            return Ok(file);
        }
    }
    let mut last = None;
    for attempt in 0..16u32 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!("logsleuth-stdin-{}-{nanos:x}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path) {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("cannot create the spool file")))
}

impl Appender {
    /// From now on the text is kept in memory (the spool could not be written).
    pub fn to_memory(&mut self) {
        self.file = None;
        self.window = None;
    }
}
