//! The memory budget of local sources: when the line index, the text kept in memory and the
//! stdin spool of a source grow past it, the oldest lines leave the index (the spool's front is
//! given back), and the source says how much was let go and since when its view is complete.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

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

/// The budget of one source and the files it covers.
pub(super) struct Budget {
    /// Bytes.
    limit: AtomicU64,
    files: OnceLock<Vec<Weak<FileStore>>>,
}

/// How the note of lines let go by the memory budget begins, so a reader of a page's warnings
/// (an export saying it is incomplete) can tell it from the others.
pub const BUDGET_NOTE_PREFIX: &str = "memory budget";

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit: AtomicU64::new(limit.max(1)), files: OnceLock::new() })
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

    /// Over the budget: lets the oldest lines of the largest file go, down to 90% of it.
    /// Returns whether lines were let go.
    pub fn enforce(&self) -> bool {
        let files = self.files();
        let mut any = false;
        // A few rounds: freed memory lags the lines let go by up to a spool window.
        for _ in 0..4 {
            let used: u64 = files.iter().map(|f| f.memory()).sum();
            let limit = self.limit();
            if used <= limit {
                break;
            }
            let target = limit / 10 * 9;
            let Some(f) = files.iter().max_by_key(|f| f.memory()) else { break };
            let mem = f.memory().max(1);
            let live = f.live() as u64;
            let excess = used - target;
            let n = (live as u128 * excess.min(mem) as u128 / mem as u128) as usize;
            if f.evict(n.max(1)) == 0 {
                break;
            }
            any = true;
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
}
