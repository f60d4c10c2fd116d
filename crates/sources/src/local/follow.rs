//! Follow mode, `tail -F` style: a thread reads what is appended to the followed files as
//! soon as the kernel says a file changed (the `notify` crate: inotify on Linux), and polls
//! every [`POLL`] as well, for filesystems that send no events (NFS, some FUSE mounts).
//!
//! Reading on every change event is what keeps lines through a truncation: the lines are read
//! while they are still in the file, not up to 200 ms later when a truncation may have taken
//! them. A truncation is recognised by the length going below the read offset, and also by
//! the bytes just before the offset no longer being the ones read there (a [`FINGERPRINT`]):
//! a file truncated and written again past the old offset between two looks is not read from
//! the old offset. After a truncation, a copy just made in the same directory (`copytruncate`)
//! that holds what was read is used to read the lines written after the last read and before
//! the copy. Rotation by rename finishes the old file to its end, then opens the new one.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};

use super::Inner;
use super::append::{Appender, FILE_WINDOW};
use super::index::FollowStart;
use super::store::FileStore;

/// How often every file is looked at even without a change event.
const POLL: Duration = Duration::from_millis(200);

/// At most this much is read from one file at a time, so one busy file cannot starve others.
const MAX_READ: usize = 4 << 20;

/// Bytes before the read offset kept as they were read: when the file no longer has them
/// there, it was truncated (and perhaps written again past the offset).
pub(super) const FINGERPRINT: usize = 1024;

/// A `copytruncate` copy is looked for among the files of the directory whose status changed
/// this recently.
const COPY_AGE: Duration = Duration::from_secs(120);

/// At most this much is read back from a copy after a truncation.
const MAX_RECOVER: u64 = 256 << 20;

struct Followed {
    store: Arc<FileStore>,
    path: PathBuf,
    /// The names change events give this file (watched directory joined with the file name,
    /// for the path and for the file a symlink points to).
    keys: Vec<PathBuf>,
    file: File,
    pos: u64,
    partial_start: Option<u64>,
    /// Indexes what is read, its text left in the file.
    app: Appender,
    /// The last bytes before `pos`, as read.
    fingerprint: Vec<u8>,
    /// More is there than was read in one go: look again without waiting.
    more: bool,
}

/// What reading at the offset found.
#[derive(Debug, PartialEq)]
enum Found {
    /// Nothing new.
    Nothing,
    /// New bytes (whether whole lines were added).
    Read(bool),
    /// The bytes before the offset are not the ones read: the file was truncated.
    Truncated,
}

/// Which files a wake-up concerns.
enum Wake {
    All,
    Paths(Vec<PathBuf>),
}

/// Starts the follower thread; it ends when the source is dropped.
pub(super) fn spawn(inner: Weak<Inner>) {
    let _ = std::thread::Builder::new().name("follow".into()).spawn(move || {
        let (tx, rx) = channel::<Option<Vec<PathBuf>>>();
        // An error from the watcher (an overflowed event queue) means "look at everything".
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let _ = tx.send(event.ok().map(|e| e.paths));
        })
        .ok();
        let rx = watcher.is_some().then_some(rx);
        let mut watched: Vec<PathBuf> = Vec::new();
        let mut followed: Vec<Followed> = Vec::new();
        let mut wake = Wake::All;
        let mut last_all = Instant::now();
        loop {
            let Some(inner) = inner.upgrade() else { return };
            for (store, slot) in inner.files.iter().zip(&inner.follow_slots) {
                let Some(path) = store.path.clone() else { continue };
                let Some(FollowStart { file, pos, partial_start, fingerprint }) =
                    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
                else {
                    continue;
                };
                let keys = event_keys(&path);
                if let Some(w) = watcher.as_mut() {
                    for key in &keys {
                        let dir = key.parent().map(Path::to_path_buf).unwrap_or_default();
                        // A directory that cannot be watched (no inotify watches left) is
                        // still polled.
                        if !watched.contains(&dir) && w.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
                            watched.push(dir);
                        }
                    }
                }
                let app = Appender::new(file.try_clone().ok(), pos, false, FILE_WINDOW);
                followed.push(Followed { store: store.clone(), path, keys, file, pos, partial_start, app, fingerprint, more: false });
                // Written between the initial load and the watch: read it now.
                wake = Wake::All;
            }
            // Only rounds that look at every file count: a round woken for another file's
            // event may not look at the one a tail waits on.
            let round = matches!(wake, Wake::All).then(|| inner.follow_rounds.0.fetch_add(1, Ordering::AcqRel) + 1);
            let mut added = false;
            for f in &mut followed {
                let concerned = match &wake {
                    Wake::All => true,
                    Wake::Paths(paths) => f.more || paths.iter().any(|p| f.keys.contains(p)),
                };
                if concerned {
                    added |= poll(f, &inner);
                }
            }
            if added {
                inner.budget.enforce();
                inner.notify.bump();
            }
            if let Some(round) = round {
                inner.follow_rounds.1.store(round, Ordering::Release);
            }
            let busy = followed.iter().any(|f| f.more);
            drop(inner);
            let until_all = POLL.saturating_sub(last_all.elapsed());
            let timeout = if busy { Duration::ZERO } else { until_all };
            wake = match &rx {
                Some(rx) => wait(rx, timeout),
                None => {
                    std::thread::sleep(timeout);
                    Wake::Paths(Vec::new())
                }
            };
            if last_all.elapsed() >= POLL {
                wake = Wake::All;
            }
            if matches!(wake, Wake::All) {
                last_all = Instant::now();
            }
        }
    });
}

/// Waits up to `timeout` for change events and gathers those already queued.
fn wait(rx: &Receiver<Option<Vec<PathBuf>>>, timeout: Duration) -> Wake {
    let first = match rx.recv_timeout(timeout) {
        Ok(event) => event,
        Err(RecvTimeoutError::Timeout) => return Wake::Paths(Vec::new()),
        // The watcher's thread is gone: polling goes on.
        Err(RecvTimeoutError::Disconnected) => {
            std::thread::sleep(timeout);
            return Wake::All;
        }
    };
    let mut paths = Vec::new();
    let mut all = false;
    for event in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
        match event {
            Some(p) if !p.is_empty() => paths.extend(p),
            _ => all = true,
        }
    }
    if all { Wake::All } else { Wake::Paths(paths) }
}

/// The paths change events name a followed file by: its directory (as given, `.` when none)
/// joined with its name, and the same for the file a symlink points to.
fn event_keys(path: &Path) -> Vec<PathBuf> {
    let key = |p: &Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        p.file_name().map(|n| dir.join(n))
    };
    let mut keys: Vec<PathBuf> = key(path).into_iter().collect();
    if let Ok(real) = std::fs::canonicalize(path)
        && let Some(k) = key(&real)
        && !keys.contains(&k)
    {
        keys.push(k);
    }
    keys
}

/// Reads what is new; true when lines were added.
fn poll(f: &mut Followed, inner: &Inner) -> bool {
    let Ok(handle_meta) = f.file.metadata() else { return false };
    let rotated = match std::fs::metadata(&f.path) {
        Ok(m) => (m.dev(), m.ino()) != (handle_meta.dev(), handle_meta.ino()),
        // Moved away and not re-created yet: keep reading the old handle.
        Err(_) => false,
    };
    let mut added = false;
    match read_more(f) {
        Found::Nothing => {}
        Found::Read(lines) => added |= lines,
        Found::Truncated => {
            added |= truncated(f, inner);
            if let Found::Read(lines) = read_more(f) {
                added |= lines;
            }
        }
    }
    if rotated {
        // The writer may have added to the old file until the rename: read it to its end.
        loop {
            match read_more(f) {
                Found::Read(lines) => added |= lines,
                Found::Truncated => added |= truncated(f, inner),
                Found::Nothing => break,
            }
        }
        // The old file is finished: its last line is complete even without a newline.
        added |= flush_all(f);
        match File::open(&f.path) {
            Ok(file) => {
                inner.notify.say(format!("{}: file rotated, following the new file", f.store.name));
                f.app.restart(file.try_clone().ok(), 0);
                f.file = file;
                f.pos = 0;
                f.partial_start = None;
                f.fingerprint.clear();
                if let Found::Read(lines) = read_more(f) {
                    added |= lines;
                }
            }
            Err(_) => return added,
        }
    }
    added
}

/// Reads from the offset to the end of the file (at most [`MAX_READ`]), checking in the same
/// read that the bytes before the offset are still the ones read there.
fn read_more(f: &mut Followed) -> Found {
    let Ok(meta) = f.file.metadata() else { return Found::Nothing };
    let len = meta.len();
    if len < f.pos {
        return Found::Truncated;
    }
    let back = f.fingerprint.len();
    let want = usize::try_from(len - f.pos).unwrap_or(usize::MAX).min(MAX_READ);
    // Even with nothing new the fingerprint is checked: a file truncated and written again up
    // to exactly the old length is not the file that was read.
    let mut buf = vec![0u8; back + want];
    let got = read_at_full(&f.file, &mut buf, f.pos - back as u64);
    if got < back || buf[..back] != f.fingerprint[..] {
        return Found::Truncated;
    }
    if got == back {
        f.more = false;
        return Found::Nothing;
    }
    buf.truncate(got);
    f.more = want == MAX_READ && got == back + want;
    let before = f.store.len();
    if let Some(start) = f.partial_start.take() {
        // The last line indexed had no newline and the file grew: it was not complete. It is
        // indexed again from its start.
        f.store.pop_last_line();
        let mut line = vec![0u8; usize::try_from(f.pos - start).unwrap_or(0)];
        let n = read_at_full(&f.file, &mut line, start);
        line.truncate(n);
        f.app.rewind(start);
        f.app.push(&f.store, &line, false);
    }
    let new = &buf[back..];
    f.pos += new.len() as u64;
    f.store.done_bytes.store(f.pos, Ordering::Relaxed);
    f.app.push(&f.store, new, false);
    let keep = buf.len().min(FINGERPRINT);
    f.fingerprint = buf[buf.len() - keep..].to_vec();
    Found::Read(f.store.len() != before)
}

/// Reads into `buf` at `offset` until it is full or the file ends; returns the bytes read.
fn read_at_full(file: &File, buf: &mut [u8], offset: u64) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    done
}

/// Indexes what is pending as a last line; true when a line was added.
fn flush_all(f: &mut Followed) -> bool {
    f.app.finish_in_memory(&f.store) > 0
}

/// The file was truncated: read what a `copytruncate` copy holds past the offset, finish
/// what was read, and start again from the beginning. True when lines were added.
fn truncated(f: &mut Followed, inner: &Inner) -> bool {
    let name = f.store.name.clone();
    inner.notify.say(format!("{name}: file truncated"));
    let before = f.store.len();
    let identity = f.file.metadata().ok().map(|m| (m.dev(), m.ino()));
    let copy = recover_from_copy(f);
    if let Some((path, _)) = &copy {
        let n = f.store.len() - before;
        if n > 0 {
            inner.notify.say(format!(
                "{name}: {n} line{} written before the truncation read from its copy {}",
                if n == 1 { "" } else { "s" },
                logsleuth_core::text::sanitize(&path.display().to_string())
            ));
        }
    }
    // The text read after the last newline was the old file's last line.
    flush_all(f);
    // The lines read from the file are read from the copy now, or lost with the truncation.
    if f.store.windows_truncated(identity, copy.as_ref().map(|c| &c.1)) > 0 {
        inner.notify.say(format!("{name}: the lines read before the truncation are no longer in the file"));
    }
    f.app.restart(f.file.try_clone().ok(), 0);
    f.pos = 0;
    f.partial_start = None;
    f.fingerprint.clear();
    f.store.done_bytes.store(0, Ordering::Relaxed);
    // Even with no line added, the lines already there changed (read from the copy, or lost).
    let _ = before;
    true
}

/// Looks in the followed file's directory for a copy made just before the truncation: a
/// regular file, changed in the last [`COPY_AGE`], at least as long as the offset, with the
/// fingerprint's bytes just before it. Reads the copy from the offset to its end (the lines
/// written after the last read and before the copy) and returns its path.
fn recover_from_copy(f: &mut Followed) -> Option<(PathBuf, File)> {
    if f.fingerprint.is_empty() {
        // Nothing read yet: nothing to recognise a copy by.
        return None;
    }
    let dir = match f.path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let own = f.file.metadata().ok().map(|m| (m.dev(), m.ino()));
    let back = f.fingerprint.len() as u64;
    let now = SystemTime::now();
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let changed = SystemTime::UNIX_EPOCH + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec().clamp(0, 999_999_999) as u32);
        if !meta.is_file()
            || meta.len() < f.pos
            || Some((meta.dev(), meta.ino())) == own
            || now.duration_since(changed).unwrap_or_default() > COPY_AGE
        {
            continue;
        }
        let Ok(file) = File::open(&path) else { continue };
        let mut probe = vec![0u8; f.fingerprint.len()];
        if read_at_full(&file, &mut probe, f.pos - back) != probe.len() || probe != f.fingerprint {
            continue;
        }
        let want = (meta.len() - f.pos).min(MAX_RECOVER);
        let mut rest = vec![0u8; want as usize];
        let n = read_at_full(&file, &mut rest, f.pos);
        rest.truncate(n);
        let mut data = Vec::new();
        if let Some(start) = f.partial_start.take() {
            // As in `read_more`: the last line indexed may continue in the copy.
            f.store.pop_last_line();
            let mut line = vec![0u8; usize::try_from(f.pos - start).unwrap_or(0)];
            let k = read_at_full(&file, &mut line, start);
            line.truncate(k);
            data = line;
        }
        data.extend_from_slice(&rest);
        f.app.push_in_memory(&f.store, &data);
        return Some((path, file));
    }
    None
}
