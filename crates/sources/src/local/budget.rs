//! The memory budget of local sources: when the line index, the text kept in memory and the
//! stdin spool of a source grow past it, the oldest lines leave the index (the spool's front is
//! given back), and the source says how much was let go and since when its view is complete.
//!
//! What is counted (index, text, spool) is held to the budget less a [`RESERVE`] for what is
//! not: the program itself, reads in flight, records parsed for a tail, the allocator's free
//! pages. Where the process's own private memory can be read (Linux, `RssAnon`) and the program
//! asks for it ([`watch_process_memory`]), a process over the budget lets more of the oldest
//! lines go too, so the part the reserve did not cover is paid for with lines, not memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::store::FileStore;
use logsleuth_core::model::Nanos;

/// The budget for sources opened without one (`--max-memory`, `max_memory`); 0 for the
/// default, [`DEFAULT_SHARE`] of the machine's memory.
static DEFAULT_BUDGET: AtomicU64 = AtomicU64::new(0);

/// The default budget: this fraction of the machine's memory.
pub const DEFAULT_SHARE: f64 = 0.10;

/// Sets the budget of local sources opened from now on (bytes; 0: the default).
pub fn set_default_max_memory(bytes: u64) {
    DEFAULT_BUDGET.store(bytes, Ordering::Relaxed);
}

/// The budget a source opened now gets.
pub fn default_max_memory() -> u64 {
    match DEFAULT_BUDGET.load(Ordering::Relaxed) {
        0 => (machine_memory() as f64 * DEFAULT_SHARE) as u64,
        b => b,
    }
}

/// The machine's memory in bytes (4 GiB when it cannot be told).
pub fn machine_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    if pages > 0 && size > 0 { pages as u64 * size as u64 } else { 4 << 30 }
}

/// Parses a size: `512M`, `2G`, `1.5GiB`, `800000000`, or a share of the machine's memory
/// (`10%`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = || format!("'{text}' is not a size (e.g. 512M, 2G, 10%)");
    if let Some(pct) = t.strip_suffix('%') {
        let p: f64 = pct.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(format!("'{text}': a share must be above 0% and at most 100%"));
        }
        return Ok((machine_memory() as f64 * p / 100.0) as u64);
    }
    let lower = t.to_ascii_lowercase();
    let digits = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let bytes = (n * mult as f64) as u64;
    if bytes == 0 {
        return Err(format!("'{text}': the budget must be above zero"));
    }
    Ok(bytes)
}

/// Whether budgets also watch the process's private memory: only the program knows the
/// process is its own (a test binary runs many sources and tests side by side).
static WATCH_PROCESS: AtomicBool = AtomicBool::new(false);

/// From now on, budgets also let lines go while the process's private memory (Linux: `RssAnon`
/// of `/proc/self/status`) is above them. The binary turns it on; elsewhere it does nothing.
pub fn watch_process_memory(on: bool) {
    WATCH_PROCESS.store(on, Ordering::Relaxed);
}

/// What the counted part leaves of the budget for the process's other memory (a quarter of
/// budgets below 96 MiB): an idle `logsleuth tail` holds about 10 MiB, a tail that lags adds
/// records parsed for it, a follower's 4 MiB reads and freed pages the allocator keeps for a
/// while (issue 21). 24 MiB let a 128 MiB budget's process peak a few MiB above it in the
/// release bench at 90 MiB/s; 32 MiB held it below.
pub const RESERVE: u64 = 32 << 20;

/// How long memory let go may still show in the process's private memory: lines let go in
/// this time are deducted from readings. Kept short: a deduction that outlives the memory it
/// stands for (mimalloc gives most pages back at once; a query's snapshot may hold some a
/// little longer) lets the process run above the budget unseen.
const RELEASE_LAG: Duration = Duration::from_millis(250);

/// The process's private memory in bytes (`RssAnon`), where it can be read.
pub fn process_private() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        parse_rss_anon(&status)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// `RssAnon` of a `/proc/PID/status` text, in bytes.
fn parse_rss_anon(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("RssAnon:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// The reserve of a budget of `limit` bytes: [`RESERVE`], or a quarter of a small budget.
pub fn reserve_of(limit: u64) -> u64 {
    RESERVE.min(limit / 4)
}

/// The memory a budget sees at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Usage {
    /// What the budget counts: index, text held, spool text.
    pub counted: u64,
    /// Of that, what is private memory (index and text held; not the spool, which is page
    /// cache or tmpfs).
    pub private_counted: u64,
    /// The process's private memory, less what was let go too recently to show yet; `None`
    /// when not watched.
    pub process: Option<u64>,
}

/// The bytes of counted memory to let go now for a budget of `limit` bytes (0: none). The
/// counted part plus the reserve must stay within the budget, and, when the process is
/// watched, its private memory plus the spool's text within 95% of it (readings come every
/// few hundred milliseconds, and a fast producer adds memory between them); over either, lines
/// go down to 90% of the budget. For the process's sake the counted part is never taken below a quarter of
/// the budget (a program that needs more than that by itself cannot be helped by lines).
pub(super) fn to_free(limit: u64, usage: Usage) -> u64 {
    let target = limit / 10 * 9;
    let counted = usage.counted + reserve_of(limit);
    let mut free = if counted > limit { counted - target } else { 0 };
    if let Some(process) = usage.process {
        let spool = usage.counted.saturating_sub(usage.private_counted);
        let used = process + spool;
        if used > limit / 20 * 19 {
            free = free.max((used - target).min(usage.counted.saturating_sub(limit / 4)));
        }
    }
    free.min(usage.counted)
}

/// Of the memory let go at the times in `released`, what may not show in a reading at `now`
/// yet; older entries are dropped.
fn unseen(released: &mut Vec<(Instant, u64)>, now: Instant) -> u64 {
    released.retain(|(t, _)| now.saturating_duration_since(*t) < RELEASE_LAG);
    released.iter().map(|r| r.1).sum()
}

/// The budget of one source and the files it covers.
pub(super) struct Budget {
    /// Bytes.
    limit: AtomicU64,
    files: OnceLock<Vec<Weak<FileStore>>>,
    /// Private memory let go recently (bytes, when), not yet seen in the process's readings.
    released: Mutex<Vec<(Instant, u64)>>,
}

/// How the note of lines let go by the memory budget begins, so a reader of a page's warnings
/// (an export saying it is incomplete) can tell it from the others.
pub const BUDGET_NOTE_PREFIX: &str = "memory budget";

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit: AtomicU64::new(limit.max(1)), files: OnceLock::new(), released: Mutex::new(Vec::new()) })
    }

    /// The budget in bytes.
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the budget.
    pub fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes.max(1), Ordering::Relaxed);
    }

    /// The files the budget covers (set once, when the source is made).
    pub fn cover(&self, files: &[Arc<FileStore>]) {
        let _ = self.files.set(files.iter().map(Arc::downgrade).collect());
    }

    fn files(&self) -> Vec<Arc<FileStore>> {
        self.files.get().map(|f| f.iter().filter_map(Weak::upgrade).collect()).unwrap_or_default()
    }

    /// The memory the covered files hold.
    pub fn used(&self) -> u64 {
        self.files().iter().map(|f| f.memory()).sum()
    }

    /// Over the budget (see [`to_free`]): lets the oldest lines of the largest file go, down
    /// to 90% of it. Returns whether lines were let go.
    pub fn enforce(&self) -> bool {
        let files = self.files();
        let mut any = false;
        let private_of = |files: &[Arc<FileStore>]| files.iter().map(|f| f.private_memory()).sum::<u64>();
        // The process's reading, less what was let go too recently to show in it.
        let process = WATCH_PROCESS.load(Ordering::Relaxed).then(process_private).flatten().map(|p| {
            p.saturating_sub(unseen(&mut self.released.lock().unwrap_or_else(|e| e.into_inner()), Instant::now()))
        });
        let private_before = private_of(&files);
        // A few rounds: freed memory lags the lines let go by up to a spool window.
        for _ in 0..4 {
            let counted: u64 = files.iter().map(|f| f.memory()).sum();
            let private_counted = private_of(&files);
            // Lines let go in earlier rounds are already off the reading.
            let process = process.map(|p| p.saturating_sub(private_before.saturating_sub(private_counted)));
            let excess = to_free(self.limit(), Usage { counted, private_counted, process });
            if excess == 0 {
                break;
            }
            let Some(f) = files.iter().max_by_key(|f| f.memory()) else { break };
            let mem = f.memory().max(1);
            let live = f.live() as u64;
            let n = (live as u128 * excess.min(mem) as u128 / mem as u128) as usize;
            if f.evict(n.max(1)) == 0 {
                break;
            }
            any = true;
        }
        let freed = private_before.saturating_sub(private_of(&files));
        if freed > 0 {
            self.released.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), freed));
        }
        any
    }

    /// What was let go, for the status line, reports and warnings; it starts with
    /// [`BUDGET_NOTE_PREFIX`].
    pub fn note(&self) -> Option<String> {
        let files = self.files();
        let gone: Vec<(u64, u64, Option<Nanos>)> = files.iter().filter_map(|f| f.evicted()).collect();
        if gone.is_empty() {
            return None;
        }
        let lines: u64 = gone.iter().map(|g| g.0).sum();
        let bytes: u64 = gone.iter().map(|g| g.1).sum();
        let since = gone.iter().filter_map(|g| g.2).max();
        let since = since.map_or_else(String::new, |t| format!("; complete since {}", logsleuth_core::time::format_rfc3339(t)));
        Some(format!(
            "{BUDGET_NOTE_PREFIX} {}: {} oldest lines ({}) let go{since}",
            size_text(self.limit()),
            lines,
            size_text(bytes)
        ))
    }
}

/// A size for people: `1.2 GiB`, `340 MiB`, `12 KiB`, `80 B`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if v < 10.0 { format!("{v:.1} {unit}") } else { format!("{v:.0} {unit}") };
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("10%").unwrap() > 0);
        assert!(parse_size("0").is_err() && parse_size("lots").is_err() && parse_size("0%").is_err());
        assert_eq!(size_text(1536 << 20), "1.5 GiB");
    }

    const MIB: u64 = 1 << 20;

    fn usage(counted: u64, private_counted: u64, process: Option<u64>) -> Usage {
        Usage { counted: counted * MIB, private_counted: private_counted * MIB, process: process.map(|p| p * MIB) }
    }

    #[test]
    fn the_counted_part_leaves_the_reserve_free() {
        let limit = 128 * MIB;
        assert_eq!(reserve_of(limit), RESERVE);
        // 96 MiB counted + 32 MiB reserve fit in 128 MiB.
        assert_eq!(to_free(limit, usage(90, 90, None)), 0);
        assert_eq!(to_free(limit, usage(96, 96, None)), 0);
        assert!(to_free(limit, usage(97, 97, None)) > 0);
        // Over: down to 90% of the budget, the reserve included.
        let free = to_free(limit, usage(110, 110, None));
        assert_eq!(110 * MIB + RESERVE - free, limit / 10 * 9);
        // A small budget keeps a quarter for the rest.
        assert_eq!(reserve_of(2 * MIB), MIB / 2);
        assert_eq!(to_free(2 * MIB, usage(1, 1, None)), 0);
        assert!(to_free(2 * MIB, usage(2, 2, None)) > 0);
    }

    #[test]
    fn a_process_over_the_budget_lets_more_lines_go() {
        let limit = 128 * MIB;
        // Counted 80 MiB (within budget with the reserve), but the process holds 140 MiB: the
        // part the reserve did not cover goes too, down to 90% of the budget.
        let free = to_free(limit, usage(80, 80, Some(140)));
        assert_eq!(140 * MIB - free, limit / 10 * 9);
        // Not watched, or within 95% of the budget: only the counted rule.
        assert_eq!(to_free(limit, usage(80, 80, None)), 0);
        assert_eq!(to_free(limit, usage(80, 80, Some(121))), 0);
        assert!(to_free(limit, usage(80, 80, Some(122))) > 0);
        // The spool's text is not private memory but counts: private 30 + spool 80 fit...
        assert_eq!(to_free(limit, usage(90, 10, Some(30))), 0);
        // ...private 45 + spool 80 do not.
        assert_eq!(to_free(limit, usage(90, 10, Some(45))), (125 * MIB) - limit / 10 * 9);
    }

    #[test]
    fn lines_never_go_below_a_quarter_of_the_budget_for_the_process() {
        let limit = 128 * MIB;
        // A program that needs 200 MiB by itself: lines are no help past a quarter.
        assert_eq!(to_free(limit, usage(40, 40, Some(240))), 8 * MIB);
        assert_eq!(to_free(limit, usage(30, 30, Some(240))), 0);
        // The counted rule holds whatever the process reads.
        assert_eq!(3 * MIB + reserve_of(MIB) - to_free(MIB, usage(3, 3, Some(0))), MIB / 10 * 9);
    }

    #[test]
    fn memory_let_go_is_deducted_until_it_can_show() {
        let now = Instant::now();
        let mut released = vec![(now, 5 * MIB), (now - RELEASE_LAG / 2, 3 * MIB), (now - RELEASE_LAG * 2, 7 * MIB)];
        assert_eq!(unseen(&mut released, now), 8 * MIB);
        assert_eq!(released.len(), 2, "the old entry is dropped");
        assert_eq!(unseen(&mut released, now + RELEASE_LAG), 0);
        assert!(released.is_empty());
    }

    #[test]
    fn rss_anon_is_read_from_the_status_text() {
        let status = "Name:\tlogsleuth\nVmRSS:\t  200000 kB\nRssAnon:\t  131072 kB\nRssFile:\t 68928 kB\n";
        assert_eq!(parse_rss_anon(status), Some(128 * MIB));
        assert_eq!(parse_rss_anon("VmRSS: 1 kB\n"), None);
        assert_eq!(parse_rss_anon("RssAnon: lots\n"), None);
        #[cfg(target_os = "linux")]
        assert!(process_private().is_some_and(|b| b > 0));
    }
}
