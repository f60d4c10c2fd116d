//! A read-only memory map of a file that a truncation cannot turn into a crash.
//!
//! Reading a mapped page that lies past the end of a file which was truncated after it was
//! mapped raises SIGBUS, and SIGBUS kills the process. Checking the file's length before each
//! read cannot prevent that (the file can shrink between the check and the read), so the
//! guard works at the fault: a SIGBUS handler looks the faulting address up among the live
//! guarded maps and, when it is one of ours, maps a page of zeros over the faulting page and
//! lets the read run again. The reader sees NUL bytes instead of dying; the store notices
//! the shrink (it re-checks the length on every snapshot) and stops reading past the new end.
//! A fault elsewhere is handed to the handler that was there before (Rust's own stack
//! overflow handler, or the default action), so nothing else changes.
//!
//! Only Linux is supported (the `si_addr` layout and `MAP_FIXED` over part of a mapping are
//! relied on); elsewhere [`GuardedMap::map`] refuses and the caller reads the file instead.

use std::fs::File;
use std::io;

/// A memory map registered with the SIGBUS guard for as long as it lives.
pub(in crate::local) struct GuardedMap {
    map: memmap2::Mmap,
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    slot: usize,
    /// A handle on the mapped file, to see its current length (even once unlinked).
    file: File,
}

impl GuardedMap {
    /// Maps `file` read-only and registers the map with the guard. Fails (and the caller
    /// should read the file instead) when the guard cannot be installed or every slot is
    /// taken.
    pub fn map(file: &File) -> io::Result<GuardedMap> {
        imp::map(file, None)
    }

    /// Maps `len` bytes of `file` from `offset`, also past its current end: a window on a
    /// file that grows (a followed file, the stdin spool). Only bytes below the file's end
    /// may be read (past it, pages read as zeros, as after a truncation).
    pub fn map_range(file: &File, offset: u64, len: usize) -> io::Result<GuardedMap> {
        imp::map(file, Some((offset, len)))
    }

    /// Gives back the disk (or tmpfs memory) of `len` bytes of the file from `offset`: punches
    /// a hole (Linux `fallocate`), for the spool file's front. Errors are ignored: the space
    /// is then freed when the file is closed.
    pub fn release(&self, offset: u64, len: u64) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            if len == 0 {
                return;
            }
            // SAFETY: plain syscall on an owned descriptor.
            unsafe {
                libc::fallocate(
                    self.file.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    offset as libc::off_t,
                    len as libc::off_t,
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }

    /// The mapped bytes (pages past a truncation read as zeros).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The file's current length.
    pub fn file_len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// The mapped file's identity (device, inode).
    pub fn identity(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        self.file.metadata().ok().map(|m| (m.dev(), m.ino()))
    }
}

/// How many faults the guard has absorbed since start (for tests and diagnostics).
#[cfg_attr(not(test), allow(dead_code))]
pub(in crate::local) fn absorbed_faults() -> u64 {
    imp::ABSORBED.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::io;
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    use super::GuardedMap;

    /// Live guarded maps: [start, end) address ranges, 0 when free. A fixed array of atomics
    /// because the signal handler may neither lock nor allocate.
    const SLOTS: usize = 1024;
    static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

    pub(super) static ABSORBED: AtomicU64 = AtomicU64::new(0);
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    static INSTALL: Once = Once::new();
    /// The SIGBUS action that was in place before ours, written once before ours is installed.
    static mut PREVIOUS: Option<libc::sigaction> = None;

    pub(super) fn map(file: &File, range: Option<(u64, usize)>) -> io::Result<GuardedMap> {
        install();
        if !INSTALLED.load(Ordering::Acquire) {
            return Err(io::Error::other("cannot install the SIGBUS guard"));
        }
        let handle = file.try_clone()?;
        // SAFETY: read-only map; the one hazard of a shared file map, the file shrinking
        // under it (or a window reaching past its end), is what the guard turns from SIGBUS
        // into zero pages.
        let map = match range {
            None => unsafe { memmap2::Mmap::map(file) }?,
            Some((offset, len)) => unsafe { memmap2::MmapOptions::new().offset(offset).len(len).map(file) }?,
        };
        let (start, end) = (map.as_ptr() as usize, map.as_ptr() as usize + map.len());
        for slot in 0..SLOTS {
            if STARTS[slot].compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                ENDS[slot].store(end, Ordering::Release);
                return Ok(GuardedMap { map, slot, file: handle });
            }
        }
        Err(io::Error::other("too many large files mapped at once"))
    }

    impl Drop for GuardedMap {
        fn drop(&mut self) {
            // Unregistered before the map itself is unmapped (the field drops after this).
            ENDS[self.slot].store(0, Ordering::Release);
            STARTS[self.slot].store(0, Ordering::Release);
        }
    }

    fn install() {
        INSTALL.call_once(|| {
            // SAFETY: plain libc calls on owned, zeroed structs; PREVIOUS is written here only,
            // before the handler that reads it can run.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page <= 0 {
                    return;
                }
                PAGE.store(page as usize, Ordering::Release);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                    return;
                }
                PREVIOUS = Some(previous);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0 {
                    INSTALLED.store(true, Ordering::Release);
                }
            }
        });
    }

    pub(super) fn is_guarded(addr: usize) -> bool {
        (0..SLOTS).any(|slot| {
            let start = STARTS[slot].load(Ordering::Acquire);
            let end = ENDS[slot].load(Ordering::Acquire);
            start != 0 && start <= addr && addr < end
        })
    }

    /// The signal handler: only async-signal-safe work (atomics, mmap, sigaction).
    extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Acquire);
        if page != 0 && is_guarded(addr) {
            let at = addr & !(page - 1);
            // SAFETY: replaces one page inside a live read-only map we own with zeros; the
            // faulting read then runs again and sees NULs.
            let zeros = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros != libc::MAP_FAILED {
                ABSORBED.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        // Not ours: what would have happened without the guard.
        // SAFETY: PREVIOUS was written before this handler was installed and never after.
        let previous = unsafe { *std::ptr::addr_of!(PREVIOUS) };
        match previous {
            Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
                // SAFETY: calling the previously installed handler the way the kernel would.
                unsafe {
                    if prev.sa_flags & libc::SA_SIGINFO != 0 {
                        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                            std::mem::transmute(prev.sa_sigaction);
                        f(signal, info, context);
                    } else {
                        let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
                        f(signal);
                    }
                }
            }
            _ => {
                // Back to the default action; returning re-runs the fault, which now kills
                // the process as SIGBUS always did.
                // SAFETY: sigaction is async-signal-safe.
                unsafe {
                    let mut default: libc::sigaction = std::mem::zeroed();
                    default.sa_sigaction = libc::SIG_DFL;
                    libc::sigemptyset(&mut default.sa_mask);
                    libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::fs::File;
    use std::io;
    use std::sync::atomic::AtomicU64;

    use super::GuardedMap;

    pub(super) static ABSORBED: AtomicU64 = AtomicU64::new(0);

    pub(super) fn map(_file: &File, _range: Option<(u64, usize)>) -> io::Result<GuardedMap> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "no SIGBUS guard on this system"))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reading_past_a_truncation_gives_zeros_instead_of_sigbus() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let page = 4096 * 4;
        std::fs::File::create(&path).unwrap().write_all(&vec![b'x'; page * 8]).unwrap();
        let file = File::open(&path).unwrap();
        let map = GuardedMap::map(&file).unwrap();
        assert_eq!(map.bytes()[page * 7], b'x');
        let before = absorbed_faults();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(page as u64).unwrap();
        assert_eq!(map.file_len().unwrap(), page as u64);
        // Without the guard this read kills the test binary with SIGBUS.
        let past: u64 = map.bytes()[page * 2..].iter().map(|&b| b as u64).sum();
        assert_eq!(past, 0);
        assert_eq!(map.bytes()[page - 1], b'x', "the part still in the file is intact");
        assert!(absorbed_faults() > before);
    }

    #[test]
    fn a_dropped_map_is_no_longer_guarded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'y'; 1 << 16]).unwrap();
        let file = File::open(&path).unwrap();
        let map = GuardedMap::map(&file).unwrap();
        let start = map.bytes().as_ptr() as usize;
        assert!(super::imp::is_guarded(start));
        drop(map);
        assert!(!super::imp::is_guarded(start));
    }
}
