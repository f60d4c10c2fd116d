//! Follow mode, `tail -F` style: a thread polls the followed files, appends what was written
//! to the index, notices truncation (size went down: read again from the start) and rotation
//! (the path now names another file: finish the old one, then open the new one).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::Inner;
use super::index::{FollowStart, flush_stream};
use super::store::FileStore;

/// How often files are polled.
const POLL: Duration = Duration::from_millis(200);

/// At most this much is read from one file per poll, so one busy file cannot starve others.
const MAX_READ: u64 = 16 << 20;

struct Followed {
    store: Arc<FileStore>,
    path: PathBuf,
    file: File,
    pos: u64,
    partial_start: Option<u64>,
    pending: Vec<u8>,
}

/// Starts the follower thread; it ends when the source is dropped.
pub(super) fn spawn(inner: Weak<Inner>) {
    let _ = std::thread::Builder::new().name("follow".into()).spawn(move || {
        let mut followed: Vec<Followed> = Vec::new();
        loop {
            let Some(inner) = inner.upgrade() else { return };
            for (store, slot) in inner.files.iter().zip(&inner.follow_slots) {
                let Some(path) = store.path.clone() else { continue };
                if let Some(FollowStart { file, pos, partial_start }) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    followed.push(Followed { store: store.clone(), path, file, pos, partial_start, pending: Vec::new() });
                }
            }
            for f in &mut followed {
                if poll(f, &inner) {
                    inner.notify.bump();
                }
            }
            drop(inner);
            std::thread::sleep(POLL);
        }
    });
}

/// Reads what is new; true when lines were added.
fn poll(f: &mut Followed, inner: &Inner) -> bool {
    let name = f.store.name.clone();
    let Ok(handle_meta) = f.file.metadata() else { return false };
    let rotated = match std::fs::metadata(&f.path) {
        Ok(m) => (m.dev(), m.ino()) != (handle_meta.dev(), handle_meta.ino()),
        // Moved away and not re-created yet: keep reading the old handle.
        Err(_) => false,
    };
    let mut added = false;
    let len = handle_meta.len();
    if len < f.pos {
        inner.notify.say(format!("{name}: file truncated"));
        f.pos = 0;
        f.pending.clear();
        f.partial_start = None;
    }
    if len > f.pos {
        added |= read_more(f, len);
    }
    if rotated {
        // The old file is finished: its last line is complete even without a newline.
        if !f.pending.is_empty() {
            let before = f.store.len();
            f.pending = flush_stream(&f.store, std::mem::take(&mut f.pending), true);
            added |= f.store.len() != before;
        }
        match File::open(&f.path) {
            Ok(file) => {
                inner.notify.say(format!("{name}: file rotated, following the new file"));
                f.file = file;
                f.pos = 0;
                f.partial_start = None;
                if let Ok(m) = f.file.metadata()
                    && m.len() > 0
                {
                    added |= read_more(f, m.len());
                }
            }
            Err(_) => return added,
        }
    }
    added
}

fn read_more(f: &mut Followed, len: u64) -> bool {
    if let Some(start) = f.partial_start.take() {
        // The last line indexed had no newline and the file grew: it was not complete.
        f.store.pop_last_line();
        f.pos = start;
    }
    let want = (len - f.pos).min(MAX_READ);
    if f.file.seek(SeekFrom::Start(f.pos)).is_err() {
        return false;
    }
    let mut buf = Vec::with_capacity(want as usize);
    let Ok(n) = (&mut f.file).take(want).read_to_end(&mut buf) else { return false };
    f.pos += n as u64;
    f.store.done_bytes.store(f.pos, Ordering::Relaxed);
    f.pending.extend_from_slice(&buf);
    let before = f.store.len();
    f.pending = flush_stream(&f.store, std::mem::take(&mut f.pending), false);
    f.store.len() != before
}
